"""Schema validation of loaded documents, reported in the words of the file's domain.

Input: a `Document` and the name of a shipped JSON Schema. Output: a list of located
`Problem`s, empty when the document is valid. The valid case runs a compiled validator
(jsonschema-rs, about 15 times faster than `jsonschema` here); only a document that fails it goes through `jsonschema`, which yields
every error, each translated to a sentence about the object it concerns
("host `vsp1` is missing `version`") and located at the offending node.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema_rs

from ..core.words import did_you_mean
from .document import Document, Problem, depth_exceeds
from .resources import schema

Describe = Callable[[tuple, Any], str]


@cache
def _fast(name: str):
    return jsonschema_rs.validator_for(schema(name))


@cache
def _full(name: str):
    import jsonschema  # only invalid input needs its errors: about 90 ms of imports a valid run skips

    return jsonschema.Draft202012Validator(schema(name))


def check_schema(doc: Document, name: str, describe: Describe) -> list[Problem]:
    """Every schema violation of `doc` against schema `name`, located and sorted."""
    if _fast(name).is_valid(doc.data):
        return []
    if depth_exceeds(doc.data, doc.limits.max_depth):
        doc.position(())  # reading positions walks the text, which locates the excess nesting
    problems = []
    for error in _full(name).iter_errors(doc.data):
        problems.extend(_translate(doc, error, describe, schema(name)))
    return sorted(set(problems))


def _subschema(root: dict, node: dict) -> dict:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return root["$defs"][ref.rsplit("/", 1)[1]]
    return node


def _field_help(root: dict, error, field: str) -> str:
    props = _subschema(root, error.schema).get("properties", {})
    description = _subschema(root, props.get(field, {})).get("description", "")
    return f"`{field}`: {description}" if description else ""


def _translate(doc: Document, error, describe: Describe, root: dict) -> list[Problem]:
    path = tuple(error.absolute_path)
    owner = describe(path, doc.data)
    validator = error.validator
    instance = error.instance
    if validator == "required":
        match = re.match(r"'(.+)' is a required property", error.message)
        missing = [match.group(1)] if match else [f for f in error.validator_value if f not in instance]
        return [doc.problem(path, f"{owner} is missing `{field}`", _field_help(root, error, field))
                for field in missing]
    if validator == "additionalProperties":
        known = list(_subschema(root, error.schema).get("properties", {}))
        problems = []
        for extra in sorted(set(instance) - set(known)):
            hint = did_you_mean(extra, known, "known fields: " + ", ".join(f"`{k}`" for k in known))
            problems.append(doc.problem(path + (extra,), f"{owner} has unknown field `{extra}`", hint, key=True))
        return problems
    field = _field_name(path)
    subject = describe(path[:-1], doc.data) if path and not isinstance(path[-1], int) else owner
    shown = _show(instance)
    if validator == "enum":
        choices = ", ".join(f"`{c}`" for c in error.validator_value)
        hint = did_you_mean(instance, error.validator_value)
        return [doc.problem(path, f"{subject}: `{field}` is {shown}, expected one of {choices}", hint)]
    if validator == "const":
        return [doc.problem(path, f"`{field}` is {shown}, expected `{error.validator_value}`",
                            "this version of migcheck reads format version "
                            f"{error.validator_value}")]
    if validator == "type":
        wanted = error.validator_value
        hint = ""
        if wanted == "string" and isinstance(instance, (int, float)) and not isinstance(instance, bool):
            hint = f'quote it: "{instance}" (YAML reads unquoted {instance} as a number)'
        elif wanted == "boolean" and isinstance(instance, str):
            hint = "write true or false (YAML 1.2: on/off/yes/no are words, not booleans)"
        return [doc.problem(path, f"{subject}: `{field}` must be {_article(wanted)}, not "
                            + " ".join(filter(None, [_kind(instance), shown])),
                            hint)]
    if validator == "minimum":
        return [doc.problem(path, f"{subject}: `{field}` must be at least {error.validator_value}, not {shown}")]
    if validator == "pattern":
        parent = _subschema(root, error.schema)
        help = parent.get("description", "")
        return [doc.problem(path, f"{subject}: `{field}` is {shown}, not in the expected form", help)]
    if validator == "minLength":
        return [doc.problem(path, f"{subject}: `{field}` must not be empty")]
    if validator == "oneOf" and isinstance(instance, dict):
        options = [s.get("required", [""])[0] for s in error.validator_value]
        return [doc.problem(path, f"{owner} needs exactly one of " + " or ".join(f"`{o}`" for o in options))]
    return [doc.problem(path, f"{owner}: {error.message}")]


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
