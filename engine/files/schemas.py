"""Schema validation of loaded documents, reported in the words of the file's domain: the one
load-and-validate path of every input with a schema (`Input`, `load_validated`, `validated`).

Input: a `Document` and the name of a shipped JSON Schema. Output: a list of located
`Problem`s, empty when the document is valid. The valid case runs a compiled validator
(jsonschema-rs, about 15 times faster than `jsonschema` here); only a document that fails it goes
through `jsonschema`, which yields every error, each translated to a sentence about the object it
concerns ("host `vsp1` is missing `version`") and located at the offending node.

A file found valid is marked so in the user's cache (`files.cache`), keyed by its bytes, how they
were read (JSON or YAML), the schema's text, migcheck's version and the code that reads and
validates: the same file checked again (a snapshot asked about migration after migration) is not
validated again, and the run does not import jsonschema-rs (a third of a small check's imports).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from .. import __version__
from ..core.records import record
from ..core.words import did_you_mean
from .cache import cache_dir, hash_files, key_hash, mark, marked
from .document import Document, Limits, LoadError, Problem, depth_exceeds, load_document
from .resources import schema, schema_path


Describe = Callable[[tuple, Any], str]


@cache
def _fast(name: str):
    import jsonschema_rs  # only for a file not found valid before (`_valid_key`): ~30 ms of imports

    return jsonschema_rs.validator_for(schema(name))


@cache
def _full(name: str):
    import jsonschema  # only invalid input needs its errors: about 90 ms of imports a valid run skips

    return jsonschema.Draft202012Validator(schema(name))


@record(frozen=True)
class Input:
    """A kind of input file: its shipped schema, how its problems name what they concern, and what
    to say when the file is not even a mapping."""

    schema: str  # the schema's file name under schemas/
    describe: Describe
    not_a_mapping: str | None = None  # None: the schema's own `type` says it
    help: str = ""


def validated(doc: Document, kind: Input) -> Document:
    """`doc` when it is a mapping valid against the kind's schema; else `LoadError`, every problem located."""
    if kind.not_a_mapping is not None and not isinstance(doc.data, dict):
        raise LoadError([doc.problem((), kind.not_a_mapping, kind.help)])
    problems = check_schema(doc, kind.schema, kind.describe)
    if problems:
        raise LoadError(problems)
    return doc


def load_validated(path, kind: Input, limits: Limits = Limits()) -> Document:
    """Read `path` through the one reader and validate it (`validated`)."""
    return validated(load_document(path, limits), kind)


def check_schema(doc: Document, name: str, describe: Describe) -> list[Problem]:
    """Every schema violation of `doc` against schema `name`, located and sorted."""
    key = _valid_key(doc, name)
    if key is not None and marked(key):
        return []
    if _fast(name).is_valid(doc.data):
        if key is not None:
            mark(key)
        return []
    if depth_exceeds(doc.data, doc.limits.max_depth):
        doc.position(())  # reading positions walks the text, which locates the excess nesting
    problems = []
    for error in _full(name).iter_errors(doc.data):
        problems.extend(_translate(doc, error, describe, schema(name)))
    return sorted(set(problems))


# what a file's validity depends on besides its bytes and the schema's text: the code that reads and validates it
# (a source checkout changes it without a new version)
_VALIDATING_FILES = ("reader.py", "document.py", "schemas.py")


@cache
def _code_digest() -> bytes:
    digest = key_hash(f"{__version__}\0".encode())
    folder = os.path.dirname(os.path.abspath(__file__))
    hash_files(digest, [os.path.join(folder, name) for name in _VALIDATING_FILES])
    return digest.digest()


def _valid_key(doc: Document, name: str) -> str | None:
    """The key of the mark that `doc` (a file read whole: its bytes' sha256 known) is valid against schema
    `name`; None: no mark (the cache is off, or the document has no file's bytes)."""
    if not doc.sha256 or not doc.format or cache_dir() is None:
        return None
    try:
        with open(schema_path(name), "rb") as f:
            text = f.read()
    except OSError:
        return None
    digest = key_hash(_code_digest())
    digest.update(f"{name}\0{doc.format}\0{doc.sha256}\0".encode() + text)
    return f"valid-{digest.hexdigest()[:40]}"


def _subschema(root: dict, node: dict) -> dict:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return root["$defs"][ref.rsplit("/", 1)[1]]
    return node


def _field_help(root: dict, error, field: str) -> str:
    props = _subschema(root, error.schema).get("properties", {})
    description = _subschema(root, props.get(field, {})).get("description", "")
    return f"`{field}`: {description}" if description else ""


@record(frozen=True)
class Failed:
    """One schema error and what its translation needs: jsonschema's `error`, the document, the
    schema, and the names of what it concerns (the object that owns the value, the field)."""

    doc: Document
    error: Any
    root: dict
    path: tuple
    owner: str  # the object the error is about ("host `vsp1`")
    subject: str  # the object holding the field (the owner, or its parent for a field's value)
    field: str
    shown: str  # the value as messages show it

    def problem(self, message: str, help: str = "", at: tuple | None = None, key: bool = False) -> Problem:
        return self.doc.problem(self.path if at is None else at, message, help, key=key)


def _translate(doc: Document, error, describe: Describe, root: dict) -> list[Problem]:
    """One jsonschema error as the problems it means, in words of the file's domain: by the keyword
    that failed (`KEYWORDS`, one function each, as jsonschema's `_keywords` module has them)."""
    path = tuple(error.absolute_path)
    owner = describe(path, doc.data)
    subject = describe(path[:-1], doc.data) if path and not isinstance(path[-1], int) else owner
    failed = Failed(doc, error, root, path, owner, subject, _field_name(path), _show(error.instance))
    return KEYWORDS.get(error.validator, _other)(failed)


def _required(f: Failed) -> list[Problem]:
    match = re.match(r"'(.+)' is a required property", f.error.message)
    missing = [match.group(1)] if match else [k for k in f.error.validator_value if k not in f.error.instance]
    return [f.problem(f"{f.owner} is missing `{name}`", _field_help(f.root, f.error, name)) for name in missing]


def _additional_properties(f: Failed) -> list[Problem]:
    known = list(_subschema(f.root, f.error.schema).get("properties", {}))
    return [f.problem(f"{f.owner} has unknown field `{extra}`",
                      did_you_mean(extra, known, "known fields: " + ", ".join(f"`{k}`" for k in known)),
                      at=f.path + (extra,), key=True)
            for extra in sorted(set(f.error.instance) - set(known))]


def _enum(f: Failed) -> list[Problem]:
    choices = ", ".join(f"`{c}`" for c in f.error.validator_value)
    return [f.problem(f"{f.subject}: `{f.field}` is {f.shown}, expected one of {choices}",
                      did_you_mean(f.error.instance, f.error.validator_value))]


def _const(f: Failed) -> list[Problem]:
    wanted, got = f.error.validator_value, f.error.instance
    shown = f"the string {f.shown}" if isinstance(got, str) and not isinstance(wanted, str) else f.shown
    return [f.problem(f"`{f.field}` is {shown}, expected `{wanted}`",
                      (f'write `"{f.field}": {wanted}`' if f.doc.is_json else f"write `{f.field}: {wanted}`")
                      + f" (a number): this version of migcheck reads format version {wanted}"
                      if isinstance(got, str) else f"this version of migcheck reads format version {wanted}")]


def _type(f: Failed) -> list[Problem]:
    wanted, instance = f.error.validator_value, f.error.instance
    hint, shown = "", f.shown
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        written = as_written(f.doc, f.path, instance)  # (`010`, not the 10 YAML read: quoting that changes it)
        shown = f"`{written}`"
        if wanted == "string":
            reader = "JSON" if f.doc.is_json else "YAML"
            hint = f'quote it as written: "{written}" ({reader} reads unquoted {written} as a number)'
    elif wanted == "boolean" and isinstance(instance, str):
        hint = "write true or false (YAML 1.2: on/off/yes/no are words, not booleans)"
    return [f.problem(f"{f.subject}: `{f.field}` must be {_article(wanted)}, not "
                      + " ".join(filter(None, [_kind(instance), shown])), hint)]


_PLAIN = re.compile(r"[^\s,\]\}#\"']+")  # a plain scalar of a flow or block context, as YAML and JSON write a number
_PROPERTY = re.compile(r"(?:&[^\s,\]\}]*|!<[^>]*>|![^\s,\]\}]*)\s+")  # `&anchor `, `!!float `, `!<tag:...> `

def as_written(doc: Document, path: tuple, value) -> str:
    """The text of the scalar at `path` as the file writes it (`6.10`, `0x1F`, `010`: the number read is `6.1`,
    31, 10), or the value when it cannot be found there."""
    try:
        line, col = doc.position(path)
        text = doc.line(line)  # (a lone CR ends a line too)
    except (IndexError, AttributeError, TypeError):
        return str(value)
    at = col - 1
    while (prop := _PROPERTY.match(text, at)) is not None:  # an anchor or a tag before the value: past it
        at = prop.end()
    found = _PLAIN.match(text, at)
    if found is not None and found.group().startswith("*"):  # an alias: the value as its anchor writes it
        anchor = re.search(r"&" + re.escape(found.group()[1:]) + r"\s+" + _PLAIN.pattern, doc.text)
        found = None if anchor is None else _PLAIN.search(anchor.group(), len(found.group()))
    if found is None or len(found.group()) > 80:
        return str(value)
    return found.group()


def _minimum(f: Failed) -> list[Problem]:
    return [f.problem(f"{f.subject}: `{f.field}` must be at least {f.error.validator_value}, not {f.shown}")]


def _pattern(f: Failed) -> list[Problem]:
    return [f.problem(f"{f.subject}: `{f.field}` is {f.shown}, not in the expected form",
                      _subschema(f.root, f.error.schema).get("description", ""))]


def _min_length(f: Failed) -> list[Problem]:
    return [f.problem(f"{f.subject}: `{f.field}` must not be empty")]


def _min_items(f: Failed) -> list[Problem]:
    return [f.problem(f"{f.subject}: `{f.field}` must not be an empty list",
                      _subschema(f.root, f.error.schema).get("description", ""))]


def _one_of(f: Failed) -> list[Problem]:
    if not isinstance(f.error.instance, dict):
        return _other(f)
    options = [s.get("required", [""])[0] for s in f.error.validator_value]
    return [f.problem(f"{f.owner} needs exactly one of " + " or ".join(f"`{o}`" for o in options))]


def _other(f: Failed) -> list[Problem]:
    return [f.problem(f"{f.owner}: {f.error.message}")]


KEYWORDS: dict[str, Callable[[Failed], list[Problem]]] = {
    "required": _required, "additionalProperties": _additional_properties, "enum": _enum, "const": _const,
    "type": _type, "minimum": _minimum, "pattern": _pattern, "minLength": _min_length, "oneOf": _one_of,
    "minItems": _min_items,
}


def _field_name(path: tuple) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "document"


def _show(value: Any) -> str:
    if isinstance(value, str):
        if len(value) > 80:  # a misplaced blob is named by its start and length, not echoed whole
            return f"`{value[:60]}...` ({len(value):,} characters)"
        return f"`{value}`"
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, (dict, list)):
        return ""
    return f"`{value}`"


_ARTICLES = {"integer": "an integer", "object": "a mapping", "array": "a list", "string": "a string",
             "boolean": "true or false", "number": "a number", "null": "null"}


def _article(wanted: str | list) -> str:
    if isinstance(wanted, list):
        return " or ".join(_ARTICLES.get(w, w) for w in wanted)
    return _ARTICLES.get(wanted, wanted)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "the string"
    if isinstance(value, dict):
        return "a mapping"
    return "a list"
