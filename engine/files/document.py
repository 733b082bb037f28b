"""Stage 0: a file's bytes to plain Python values, with the source position of every node.

Input: a path (YAML or JSON). Output: a `Document` (the data as dicts, lists, str, int,
float, bool and None, plus the line and column of every value and key by JSON path), or
a `LoadError` carrying every problem found, each located.

YAML is read from the event stream, never through PyYAML's constructors, so no tag can
build a Python object. Scalars resolve by the YAML 1.2 core schema: `on`, `off`, `yes`
and `no` stay strings, dates stay strings. Duplicate keys are errors. Anchors and aliases
are allowed, but the size of the document with every alias expanded is bounded, so an
alias bomb is refused after reading it once: both the nodes and the text that aliases
add are counted. Nesting depth and file size are bounded too, and each limit's message
names it. Integers longer than Python's integer-string limit are refused, located.
JSON files take a fast path through the json module; their positions are computed only
when a problem or a result needs one, from the JSON text itself (never re-read as YAML,
which is stricter about keys, escapes and control characters).
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
from typing import Any

import yaml
from yaml.parser import Parser as _PyParser
from yaml.reader import Reader as _Reader
from yaml.scanner import Scanner as _Scanner

from ..core.records import Factory, record
from ..core.diagnostics import Diagnostic, LoadError, Problem  # noqa: F401  (LoadError, Problem: re-exported)
from ..core.diagnostics import digit_limit, too_many_digits
from .reader import DEFAULT_MAX_BYTES, decode, read_bytes, sha256_hex


class _PurePythonParser(_Reader, _Scanner, _PyParser):
    """PyYAML's own event parser: slower, but it parses lazily, so nesting is caught at our bound."""

    def __init__(self, stream):
        _Reader.__init__(self, stream)
        _Scanner.__init__(self)
        _PyParser.__init__(self)


try:  # libyaml's parser is about ten times faster
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = _PurePythonParser


DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_NODES = 5_000_000

JsonPath = tuple  # of str keys and int indexes


@record(frozen=True)
class Limits:
    """Bounds on what the loader accepts; `max_bytes` is configurable from the command line."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_nodes: int = DEFAULT_MAX_NODES  # nodes that aliases add; the text they add is bounded by max_bytes
    bytes_option: str = "--max-bytes"  # how messages name the size limit




def json_path(path: JsonPath) -> str:
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += "[" + json.dumps(part) + "]"
    return out


@record
class Document:
    """A loaded file: `data`, plus positions of values and keys by JSON path (1-based)."""

    file: str
    text: str
    data: Any
    _positions: dict | None = None
    _key_positions: dict | None = None
    sha256: str = ""
    limits: Limits = Factory(Limits)
    format: str = ""  # "json" or "yaml"; empty: JSON when the text starts as a JSON object or array
    _lines: list | None = None  # the text's lines by YAML 1.2's line ends, split once (`line`)

    def line(self, number: int) -> str:
        """Line `number` (1-based) of the text, as YAML 1.2 ends lines (a lone CR too); IndexError past the end.
        Split once: a file with many problems asks for its lines many times."""
        if self._lines is None:
            self._lines = LINE_BREAK.split(self.text)
        if number < 1:
            raise IndexError(number)
        return self._lines[number - 1]

    @property
    def is_json(self) -> bool:
        """Whether the text is read as JSON (`format`, else how it starts)."""
        return self.format == "json" or (not self.format and self.text.lstrip()[:1] in ("{", "["))

    def _ensure_positions(self) -> None:
        if self._positions is None:
            if self.is_json:
                try:
                    built = json_positions(self.text, self.file, self.limits)
                except _NotJson:  # pragma: no cover - the json module read it; never re-read JSON as YAML
                    built = (_Built(None, {}, {}) if self.format == "json"
                             else _build(self.text, self.file, self.limits, track=True))
            else:
                built = _build(self.text, self.file, self.limits, track=True)
            self._positions, self._key_positions = built.positions, built.key_positions

    def position(self, path: JsonPath) -> tuple[int, int]:
        """Line and column of the value at `path`, or of its nearest ancestor."""
        self._ensure_positions()
        path = tuple(path)
        while path:
            if path in self._positions:
                return self._positions[path]
            path = path[:-1]
        return self._positions.get((), (1, 1))

    def key_position(self, path: JsonPath) -> tuple[int, int]:
        """Line and column of the key that introduces `path`, else of its value."""
        self._ensure_positions()
        return self._key_positions.get(tuple(path)) or self.position(path)

    def problem(self, path: JsonPath, message: str, help: str = "", key: bool = False, code: str = "schema") -> Problem:
        line, col = self.key_position(path) if key else self.position(path)
        return Problem(self.file, line, col, message, json_path(path), help, code)


LINE_BREAK = re.compile("\r\n|\r|\n")  # YAML 1.2's line ends, as every position here counts lines (`_where`)


def _inside(text: str, line: int, col: int) -> tuple[int, int]:
    """A parser's position moved inside the text (libyaml reports the end of a file without a final
    line break on the line after it)."""
    lines = LINE_BREAK.split(text)
    if line > len(lines):
        return len(lines), len(lines[-1]) + 1
    return line, min(col, len(lines[line - 1]) + 1)


def load_document(path: str | os.PathLike, limits: Limits = Limits()) -> Document:
    """Read a YAML or JSON file through the one reader; raise `LoadError` with every problem located."""
    name = str(path)
    raw = read_bytes(path, limits.max_bytes, limits.bytes_option)
    text = decode(raw, name)
    doc = parse_text(text, name, limits)
    doc.sha256 = sha256_hex(raw)
    return doc


def parse_text(text: str, name: str = "<string>", limits: Limits = Limits()) -> Document:
    """Parse YAML or JSON text into a `Document`; raise `LoadError` on any problem."""
    if not text.strip():
        raise LoadError([Problem(name, 1, 1, "file is empty", help="the file holds nothing to read")])
    if name.endswith(".json") or text.lstrip().startswith("{"):
        data = _load_json(text, name, limits)
        if data is not _NOT_JSON:
            doc = Document(name, text, data, limits=limits, format="json")
            if _SURROGATE_ESCAPE.search(text):
                _refuse_lone_surrogates(doc)
            return doc
    built = _build(text, name, limits, track=True)
    return Document(name, text, built.data, built.positions, built.key_positions, limits=limits, format="yaml")


_NOT_JSON = object()


def _load_json(text: str, name: str, limits: Limits):
    def pairs(items):
        obj = dict(items)
        if len(obj) != len(items):
            raise _DuplicateKey
        return obj

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        if name.endswith(".json"):
            raise LoadError([Problem(name, exc.lineno, exc.colno, f"invalid JSON: {exc.msg.lower()}")]) from None
        return _NOT_JSON  # maybe YAML flow style that starts with `{`
    except (_DuplicateKey, RecursionError, ValueError):
        # valid JSON syntax (a duplicate key, nesting deeper than the json module recurses,
        # an integer over Python's digit limit): the JSON scanner locates the problem
        try:
            json_positions(text, name, limits)
        except _NotJson:
            if not name.endswith(".json"):
                return _NOT_JSON
        raise LoadError([Problem(name, 1, 1, "invalid JSON: nesting too deep for the json module",
                                 help="flatten the file's structure")]) from None
    # Depth is checked later, only where it can exceed the limit: a document valid
    # against a strict schema is shallow, except in free maps such as `attrs`.
    return data


class _DuplicateKey(Exception):
    pass


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _not_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _refuse_lone_surrogates(doc: Document) -> None:
    """JSON may escape half of a UTF-16 surrogate pair (`\\udc80`): not a character, so no text can hold it."""
    problems = []
    stack = [((), doc.data)]
    while stack and len(problems) < 100:
        path, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(key, str) and _not_text(key):
                problems.append(doc.problem(path + (key,), _surrogate_message(key, "key"), _SURROGATE_HELP, key=True))
            if isinstance(value, str):
                if _not_text(value):
                    problems.append(doc.problem(path + (key,), _surrogate_message(value, "string"), _SURROGATE_HELP))
            elif isinstance(value, (dict, list)):
                stack.append((path + (key,), value))
    if problems:
        raise LoadError(problems)


_SURROGATE_HELP = "write the character itself, or both halves of its pair (`\\ud83d\\ude00`)"


def _surrogate_message(value: str, what: str) -> str:
    shown = value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return (f"{what} `{shown}` holds half of a UTF-16 surrogate pair without the other half, "
            "which is not a character")


class _NotJson(Exception):
    """The text is not JSON after all (positions then come from the YAML reader)."""


_JSON_TOKEN = (r'''(?P<s>"[^"\\]*(?:\\.[^"\\]*)*")|(?P<o>[{\[])|(?P<c>[}\]])|(?P<sep>[:,])'''
               r'''|(?P<n>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)'''
               r'''|(?P<l>true|false|null|NaN|-?Infinity)|(?P<bad>[^ \t\n\r])''')  # compiled when JSON is read


class _Lines:
    """Line starts of a text, found once; character offset to (line, column), both 1-based."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


class _OffsetPositions(dict):
    """Positions recorded as offsets (cheap for every node of a large file), read as (line, column)."""

    def __init__(self, lines: _Lines):
        super().__init__()
        self.lines = lines

    def __getitem__(self, key):
        return self.lines.where(dict.__getitem__(self, key))

    def get(self, key, default=None):
        offset = dict.get(self, key)
        return default if offset is None else self.lines.where(offset)


class _JsonScan:
    """The positions `json_positions` records, and what it does with keys, values and containers.

    Each open container is a frame: [is_map, path, next index or pending key, keys seen (maps)].
    """

    __slots__ = ("name", "lines", "positions", "key_positions", "digit_limit", "max_depth", "stack")

    def __init__(self, text: str, name: str, limits: Limits):
        self.name = name
        self.lines = lines = _Lines(text)
        self.positions, self.key_positions = _OffsetPositions(lines), _OffsetPositions(lines)
        self.digit_limit = digit_limit()
        self.max_depth = limits.max_depth
        self.stack: list[list] = []

    def fail(self, offset: int, message: str, help: str = ""):
        line, col = self.lines.where(offset)
        raise LoadError([Problem(self.name, line, col, message, help=help)])

    def key(self, m, top: list) -> None:
        """Record where a key starts, and make it the pending key of `top`."""
        if m.lastgroup != "s":
            raise _NotJson
        start, token = m.start(), m.group()
        key = json.loads(token) if "\\" in token else token[1:-1]
        seen = top[3]
        if key in seen:
            self.fail(start, f"duplicate key `{key}` (first at line {self.lines.where(seen[key])[0]})",
                      "remove one of them")
        seen[key] = start
        top[2] = key
        self.key_positions[top[1] + (key,)] = start

    def value(self, m, top: list | None) -> JsonPath:
        """Record where a value starts; its path."""
        if top is None:
            path = ()
        elif top[0]:
            path = top[1] + (top[2],)
        else:
            path = top[1] + (top[2],)
            top[2] += 1
        self.positions[path] = m.start()
        return path

    def open(self, m, path: JsonPath) -> list:
        """Push the frame of a container just opened; the frame."""
        if len(self.stack) >= self.max_depth:
            self.fail(m.start(), f"nesting deeper than {self.max_depth} levels (the nesting limit)",
                      "the files migcheck reads (snapshots, plans, reports, rule data) are only a few "
                      "levels deep; check the file's structure")
        is_map = m.group() == "{"
        top = [is_map, path, None if is_map else 0, {} if is_map else None]
        self.stack.append(top)
        return top

    def close(self) -> list | None:
        """Pop the frame of the container just closed; the frame now open, if any."""
        stack = self.stack
        if not stack:
            raise _NotJson
        stack.pop()
        return stack[-1] if stack else None

    def big_number(self, m) -> None:
        """Refuse a number written with more characters than Python's integer-string limit, if an integer."""
        token, digit_limit = m.group(), self.digit_limit
        digits = len(token.lstrip("-"))
        if digits > digit_limit and not any(c in token for c in ".eE"):
            self.fail(m.start(), too_many_digits(digits, "integer"),
                      "write the value as a string if it is an identifier")


def json_positions(text: str, name: str, limits: Limits) -> _Built:
    """Positions of every value and key of JSON `text`, by JSON path, read from the JSON itself.

    Iterative (no recursion), so it also locates what the json module cannot: nesting past
    `limits.max_depth`, a duplicate key, an integer over Python's digit limit. Raises
    `LoadError` for those, `_NotJson` when the text is not JSON.
    """
    scan = _JsonScan(text, name, limits)
    # the open frame and whether a key comes next stay local: this loop sees every token
    top = None
    expect_key = False
    digit_limit = scan.digit_limit
    for m in re.finditer(_JSON_TOKEN, text):  # re's own cache keeps it compiled
        kind = m.lastgroup
        if kind == "sep":
            if top is not None and top[0] and m.group() == ",":
                expect_key = True
        elif kind == "c":
            top = scan.close()
            expect_key = False
        elif kind == "bad":
            raise _NotJson
        elif expect_key:
            scan.key(m, top)
            expect_key = False
        else:
            path = scan.value(m, top)
            if kind == "o":
                top = scan.open(m, path)
                expect_key = top[0]
            elif kind == "n" and digit_limit and m.end() - m.start() > digit_limit:
                scan.big_number(m)
    return _Built(None, scan.positions, scan.key_positions)


def depth_exceeds(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")
_CORE = "tag:yaml.org,2002:"


_WORDS = {**{v: None for v in _NULLS}, **{v: True for v in _TRUES}, **{v: False for v in _FALSES}}
_NUMERIC_START = frozenset("0123456789+-.")


def _resolve_plain(value: str) -> Any:
    if value in _WORDS:
        return _WORDS[value]
    if value[0] not in _NUMERIC_START:  # most scalars are names: no number pattern can match
        return value
    if _INT.match(value):
        try:
            return int(value)
        except ValueError:  # over Python's integer-string limit
            raise _BigInt(len(value.lstrip("+-"))) from None
    if _OCT.match(value) or _HEX.match(value):
        number = int(value[2:], 8 if value[1] == "o" else 16)  # no digit limit for these bases: check it here
        limit = digit_limit()
        if limit and number.bit_length() > limit * 3.3219:  # log2(10): more decimal digits than Python writes
            raise _BigInt(int(number.bit_length() / 3.3219) + 1)
        return number
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.match(value):
        return math.nan
    return value


class _TagError(Exception):
    pass


class _BigInt(Exception):
    def __init__(self, digits: int):
        self.digits = digits


def _resolve_tagged(tag: str, value: str) -> Any:
    if tag == _CORE + "str":
        return value
    resolved = _resolve_plain(value)
    wanted = {"null": type(None), "bool": bool, "int": int, "float": (float, int)}
    short = tag[len(_CORE):] if tag.startswith(_CORE) else None
    if short in wanted and isinstance(resolved, wanted[short]) and not (short == "int" and isinstance(resolved, bool)):
        return float(resolved) if short == "float" else resolved
    raise _TagError(f"`{value}` is not a valid `!!{short}`" if short in wanted
                    else f"unsupported tag `{tag}`")


@record
class _Built:
    data: Any
    positions: dict
    key_positions: dict


class _Frame:
    __slots__ = ("value", "path", "is_map", "key", "size", "chars", "anchor", "mark")

    def __init__(self, value, path, is_map, anchor, mark):
        self.value, self.path, self.is_map = value, path, is_map
        self.key = None
        self.size = 1  # nodes, with every alias inside expanded
        self.chars = 2  # text, with every alias inside expanded
        self.anchor = anchor
        self.mark = mark


def _where(mark, starts: list[int] | None = None) -> tuple[int, int]:
    """A mark's line and column, from 1. libyaml also ends a line at NEL, LS and PS (YAML 1.1), which YAML 1.2
    and the echo under a problem do not: in a text holding one, `starts` (`_line_starts`) counts from the
    mark's offset instead."""
    if starts is None:
        return (mark.line + 1, mark.column + 1)
    line = bisect.bisect_right(starts, mark.index)
    return line, mark.index - starts[line - 1] + 1


def _line_starts(text: str) -> list[int] | None:
    """Where each line starts as YAML 1.2 ends lines (CR LF, CR, LF), when the text holds a character libyaml also
    ends one at; else None (the parser's own count is right)."""
    if "\x85" not in text and "\u2028" not in text and "\u2029" not in text:
        return None
    return [0] + [m.end() for m in LINE_BREAK.finditer(text)]


_MAP_TAGS = (None, "!", _CORE + "map")
_SEQ_TAGS = (None, "!", _CORE + "seq")
_TAG_HELP = "migcheck reads plain YAML: remove the tag"
_BOMB_HELP = "this looks like an alias bomb; write the data out instead of aliasing it"


class _Builder:
    """The YAML event stream to values and positions, one event at a time.

    One method per event kind, looked up in `HANDLERS` by the event's type (a table, not a
    chain of tests: this is the loader's hot loop). Open collections sit on an explicit stack
    (no recursion, so depth is ours to bound). A handler returns True to end the stream.
    """

    __slots__ = ("text", "name", "limits", "track", "positions", "key_positions", "anchors", "open_anchors",
                 "stack", "alias_nodes", "alias_chars", "documents", "root", "starts")

    def __init__(self, text: str, name: str, limits: Limits, track: bool):
        self.text, self.name, self.limits, self.track = text, name, limits, track
        self.starts = _line_starts(text)
        self.positions: dict = {}
        self.key_positions: dict = {}
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # value, nodes, characters
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.alias_nodes = 0  # what aliases add: a file without aliases is bounded by its size alone
        self.alias_chars = 0
        self.documents = 0
        self.root: list = []

    def run(self, parser) -> _Built:
        handlers, ignore, get_event = self.HANDLERS, _Builder.on_other, parser.get_event
        while True:
            event = get_event()
            if handlers.get(type(event), ignore)(self, event):
                break
        return _Built(self.root[0] if self.root else None, self.positions, self.key_positions)

    def fail(self, mark, message, help=""):
        line, col = _inside(self.text, *_where(mark, self.starts)) if mark is not None else (1, 1)
        raise LoadError([Problem(self.name, line, col, message, help=help)])

    def fail_big_int(self, mark, big: _BigInt):
        self.fail(mark, too_many_digits(big.digits, "integer"), "quote the value if it is an identifier")

    def child_path(self):
        """The path of the next node, or None for a mapping key."""
        stack = self.stack
        if not stack:
            return ()
        top = stack[-1]
        if top.is_map:
            return top.path + (top.key,) if top.key is not None else None
        return top.path + (len(top.value),)

    def place(self, value, size, chars, mark) -> None:
        """Put a finished node into its parent (as key or value) or make it the root."""
        stack = self.stack
        if not stack:
            self.root.append(value)
            return
        top = stack[-1]
        top.size += size
        top.chars += chars
        if not top.is_map:
            top.value.append(value)
        elif top.key is None:
            self.take_key(top, value, mark)
        else:
            top.value[top.key] = value
            top.key = None

    def take_key(self, top: _Frame, value, mark) -> None:
        if isinstance(value, (dict, list)):
            self.fail(mark, "a mapping key must be a plain value, not a mapping or list")
        key = value if isinstance(value, str) else _key_text(value)
        if key in top.value:
            first = self.key_positions.get(top.path + (key,))
            at = f" (first at line {first[0]})" if first else ""
            self.fail(mark, f"duplicate key `{key}`{at}", "remove one of them")
        top.key = key
        if self.track:
            self.key_positions[top.path + (key,)] = _where(mark, self.starts)

    def count_alias(self, size, chars, mark) -> None:
        """Bound what aliases add, in nodes and in text, so an alias bomb is refused as it is read."""
        self.alias_nodes += size
        self.alias_chars += chars
        limits = self.limits
        if self.alias_nodes > limits.max_nodes:
            self.fail(mark, f"anchors and aliases expand to more than {limits.max_nodes:,} nodes "
                            "(the alias expansion limit)", _BOMB_HELP)
        if self.alias_chars > limits.max_bytes:
            self.fail(mark, f"anchors and aliases expand to more than {limits.max_bytes:,} characters of text "
                            f"(the alias expansion limit, the size limit `{limits.bytes_option}`)", _BOMB_HELP)

    def on_scalar(self, event) -> None:
        path = self.child_path()
        tag = event.tag
        if tag is None:
            try:
                value = _resolve_plain(event.value) if not event.style else event.value
            except _BigInt as big:
                self.fail_big_int(event.start_mark, big)
        elif tag == "!":
            value = event.value
        else:
            value = self.tagged_value(event)
        if self.track and path is not None:
            self.positions[path] = _where(event.start_mark, self.starts)
        chars = len(event.value) + 1
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, chars)
        self.place(value, 1, chars, event.start_mark)

    def tagged_value(self, event) -> Any:
        try:
            return _resolve_tagged(event.tag, event.value)
        except _TagError as exc:
            self.fail(event.start_mark, str(exc), _TAG_HELP)
        except _BigInt as big:
            self.fail_big_int(event.start_mark, big)

    def on_mapping_start(self, event) -> None:
        self.open(event, {}, True, _MAP_TAGS)

    def on_sequence_start(self, event) -> None:
        self.open(event, [], False, _SEQ_TAGS)

    def open(self, event, value, is_map: bool, tags: tuple) -> None:
        if event.tag not in tags:
            self.fail(event.start_mark, f"unsupported tag `{event.tag}`", _TAG_HELP)
        stack, max_depth = self.stack, self.limits.max_depth
        if len(stack) >= max_depth:
            self.fail(event.start_mark, f"nesting deeper than {max_depth} levels (the nesting limit)",
                      "the files migcheck reads (snapshots, plans, reports, rule data) are only a few "
                      "levels deep; check the file's structure")
        path = self.child_path()
        if self.track and path is not None:
            self.positions[path] = _where(event.start_mark, self.starts)
        if event.anchor:
            self.open_anchors.add(event.anchor)
        stack.append(_Frame(value, path if path is not None else (), is_map, event.anchor, event.start_mark))

    def on_collection_end(self, event) -> None:
        frame = self.stack.pop()
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, frame.size, frame.chars)
        self.place(frame.value, frame.size, frame.chars, frame.mark)

    def on_alias(self, event) -> None:
        anchor, mark = event.anchor, event.start_mark
        if anchor in self.open_anchors:
            self.fail(mark, f"alias `*{anchor}` refers to a node that contains it")
        if anchor not in self.anchors:
            self.fail(mark, f"alias `*{anchor}` has no anchor `&{anchor}` before it")
        value, size, chars = self.anchors[anchor]
        path = self.child_path()
        if self.track and path is not None:
            self.positions[path] = _where(mark, self.starts)
        self.count_alias(size, chars, mark)
        self.place(value, size, chars, mark)

    def on_document_start(self, event) -> None:
        self.documents += 1
        if self.documents > 1:
            self.fail(event.start_mark, "more than one YAML document in the file",
                      "a file holds one document: remove the `---` separator")

    def on_stream_end(self, event) -> bool:
        return True

    def on_other(self, event) -> None:
        """Stream start and document end: nothing to build."""

    HANDLERS = {
        yaml.ScalarEvent: on_scalar,
        yaml.MappingStartEvent: on_mapping_start,
        yaml.SequenceStartEvent: on_sequence_start,
        yaml.MappingEndEvent: on_collection_end,
        yaml.SequenceEndEvent: on_collection_end,
        yaml.AliasEvent: on_alias,
        yaml.DocumentStartEvent: on_document_start,
        yaml.StreamEndEvent: on_stream_end,
    }


def _build(text: str, name: str, limits: Limits, track: bool, parser_class=None) -> _Built:
    """Walk the YAML event stream with an explicit stack (no recursion, so depth is ours to bound)."""
    parser = (parser_class or _Parser)(text)
    try:
        return _Builder(text, name, limits, track).run(parser)
    except yaml.MarkedYAMLError as exc:
        problem = (exc.problem or exc.context or "invalid YAML").rstrip(".")
        if "nesting depth" in problem and parser_class is None:
            # libyaml reads flow collections ahead and stops at its own bound (1000 levels):
            # read again with the lazy parser, which stops at ours, where the excess starts
            return _build(text, name, limits, track, _PurePythonParser)
        mark = exc.problem_mark or exc.context_mark
        line, col = _inside(text, *_where(mark, _line_starts(text))) if mark is not None else (1, 1)
        raise LoadError([Problem(name, line, col, f"invalid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        line, col = _reader_position(text, exc)
        raise LoadError([Problem(name, line, col, f"invalid YAML: {_reader_message(exc)}",
                                 help="the file must be printable UTF-8 text")]) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose:
            dispose()


def _key_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _reader_position(text: str, exc: Exception) -> tuple[int, int]:
    position = getattr(exc, "position", None)
    if not isinstance(position, int):
        return (1, 1)
    # libyaml reports a byte offset into the UTF-8 encoding; PyYAML a character offset.
    prefix = text.encode("utf-8")[:position].decode("utf-8", "ignore")
    line = prefix.count("\n") + 1
    return line, len(prefix) - (prefix.rfind("\n") + 1) + 1


def _reader_message(exc: Exception) -> str:
    character = getattr(exc, "character", None)
    if isinstance(character, int):
        return f"control character 0x{character:02x} is not allowed"
    if isinstance(character, str) and character:
        return f"control character {character!r} is not allowed"
    return str(exc).splitlines()[0] if str(exc) else "unreadable input"
