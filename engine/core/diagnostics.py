"""One diagnostic type for every stage, and the one registry of diagnostic codes.

A `Diagnostic` is a located problem of an input (snapshot, rule pack, configuration,
waivers, baseline, rule tests, plans): file, line, column, code, message, help, the JSON
path where there is one, and a severity, `error` or `warning` (as Cedar keeps them
apart: a warning does not stop a run, and `lint` fails on it only with
`--warnings-as-errors`). Every code is registered in `CODES`, which `docs/diagnostics.md`
lists and the tests iterate (a test scans the engine for codes that are not registered). Rendered, a diagnostic reads

    FILE:LINE:COL: error[CODE]: message (at $.json.path)
      | the source line
      |     ^
      = help: what to do
"""

from __future__ import annotations

import os
import re
import stat
import sys

from .records import record

ERROR, WARNING = "error", "warning"


@record(frozen=True)
class Code:
    code: str
    severity: str
    stage: str
    summary: str


CODES: dict[str, Code] = {c.code: c for c in [
    # reading any input file
    Code("input", ERROR, "input", "the file cannot be read or parsed: missing, too large, not UTF-8, invalid YAML or "
                                  "JSON, duplicate keys, unsupported tags, nesting or aliases over the limits"),
    Code("schema", ERROR, "input", "the document does not fit its schema: a missing or unknown field, a wrong type "
                                   "or value"),
    Code("integrity", ERROR, "snapshot", "a referential problem of a snapshot (duplicate names, dangling references, "
                                         "inconsistent DIO assignments); `audit` reports them as INV-* findings"),
    Code("unknown-rule", ERROR, "config", "a configuration, waiver or rule test names a rule no pack has"),
    Code("unknown-table", ERROR, "rules", "a data table no pack has"),
    Code("unknown-tag", ERROR, "config", "a configuration selects a tag no loaded rule has"),
    Code("bad-row", ERROR, "config", "a data row added by the configuration does not fit the table's columns"),
    Code("bad-pack", ERROR, "config", "a configured rule pack is not a directory"),
    Code("bad-date", ERROR, "waivers", "a waiver's date is not a date"),
    Code("bad-baseline", ERROR, "baseline", "the baseline is not a JSON report of this version of migcheck"),
    Code("bad-case", ERROR, "ruletest", "a rule test case names a subject its snapshot lacks"),
    # plans (migcheck plan, explain --plan)
    Code("unknown-guest", ERROR, "plan", "a plan moves a guest the snapshot lacks"),
    Code("unknown-vsp", ERROR, "plan", "a plan moves a guest to a VSP the snapshot lacks"),
    Code("already-there", ERROR, "plan", "a plan moves a guest to the VSP it is on at that point of the plan"),
    Code("upgraded-twice", ERROR, "plan", "a plan stage upgrades one VSP twice"),
    Code("bad-step", ERROR, "plan", "`explain --plan PLAN --step N` names a step the plan lacks, or another migration"),
    # rule packs
    Code("no-pack", ERROR, "rules", "a rule pack directory is missing or holds no *.rules file"),
    Code("unreadable", ERROR, "rules", "a rule file cannot be read: missing, too large, not UTF-8 text"),
    Code("bad-table", ERROR, "rules", "a data table file is not a mapping with `rows:`"),
    Code("duplicate-table", ERROR, "rules", "two packs define one data table"),
    Code("syntax", ERROR, "rules", "the rule file does not parse"),
    Code("too-deep", ERROR, "rules", "a rule nests its expressions deeper than migcheck checks"),
    Code("missing-metadata", ERROR, "rules", "a rule lacks title, severity, on, message, cite or require"),
    Code("duplicate-clause", ERROR, "rules", "a rule repeats a clause"),
    Code("unknown-severity", ERROR, "rules", "a severity other than error, warning, info"),
    Code("unknown-subject", ERROR, "rules", "a subject other than host, guest, migration, snapshot, stage"),
    Code("duplicate-rule", ERROR, "rules", "two rules share an id, in one pack or across packs"),
    Code("unknown-name", ERROR, "rules", "a name the rule's subject does not provide"),
    Code("unknown-field", ERROR, "rules", "a field the snapshot schema (or the data table) does not have"),
    Code("unknown-function", ERROR, "rules", "a function the language does not have"),
    Code("arity", ERROR, "rules", "a function called with the wrong number of arguments"),
    Code("type-mismatch", ERROR, "rules", "an operand or argument of the wrong type"),
    Code("nullable-operand", ERROR, "rules", "a value that may be absent where a value is needed"),
    Code("impossible-comparison", ERROR, "rules", "a comparison that can never be true (a value outside an enum)"),
    Code("invalid-regex", ERROR, "rules", "an invalid regular expression"),
    Code("version-as-string", ERROR, "rules", "a release compared as text"),
    Code("shadowed-name", ERROR, "rules", "a name bound twice"),
    Code("reserved-name", ERROR, "rules", "a `let`, `for` or loop variable named as a subject or constant of some "
                                          "rule (`stop`, `mode`, `target`, `data`, ...)"),
    Code("unreachable", ERROR, "rules", "a step after `require`"),
    Code("unused-let", WARNING, "rules", "a `let` nothing uses"),
    Code("always-true", WARNING, "rules", "a comparison that is always true (a value outside an enum)"),
    Code("all-guests", WARNING, "rules", "a rule run for each guest goes through every guest (cost grows with the "
                                         "square of the estate)"),
    Code("all-hosts", WARNING, "rules", "a rule run for each host goes through every host"),
]}

# in a message, path or help: line ends and tabs too (a name holding a line end would forge a second
# diagnostic line), and the bidirectional marks and overrides that reorder what a reader sees; compiled
# when first used (by `re`'s cache): a run that shows no diagnostic does not pay for it (~1 ms, cold start)
_IN_TEXT = "[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def shown(text: str) -> str:
    """Input text for a terminal: control characters and bidirectional controls as escapes."""
    return re.sub(_IN_TEXT, lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                  else f"\\u{ord(m.group()):04x}", str(text))


@record(frozen=True, order=True)
class Diagnostic:
    """One located problem. Sorts by position; fields in the order positions read. A record (`core.records`):
    `records.replace` makes a changed copy."""

    file: str
    line: int
    col: int
    message: str
    path: str = ""  # JSON path of the node concerned, for data files
    help: str = ""
    code: str = "input"
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def render(self, source: str | None = None) -> str:
        """The diagnostic with its source line and a caret; the line is read from the file
        when `source` (the file's text) is not given and the file is there to read."""
        # input text reaches a terminal: its control characters are shown, never sent
        out = f"{shown(self.file)}:{self.line}:{self.col}: {self.severity}[{self.code}]: {shown(self.message)}"
        if self.path:
            out += f" (at {shown(self.path)})"
        text = _source_line(self.file, self.line, source)
        if text is not None:
            text, caret = _window(text, max(self.col, 1))  # (then tabs as one space each: cut first, a line may
            text = text.replace("\t", " ")                  # be megabytes long and render many problems)
            out += f"\n  | {shown(text)}\n  | {' ' * len(shown(text[:caret - 1]))}^"  # (under it as shown)
        if self.help:
            out += f"\n  = help: {shown(self.help)}"
        return out

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "col": self.col, "code": self.code, "severity": self.severity,
                "message": self.message, "path": self.path, "help": self.help}


_MAX_ECHO_BYTES = 16 * 1024 * 1024
ECHO_WIDTH = 160  # the characters of a source line a diagnostic echoes: a minified file's line can be megabytes


def _window(text: str, col: int, width: int = ECHO_WIDTH) -> tuple[str, int]:
    """The part of a source line (its line end, if any, left out) that a diagnostic echoes: all of it, or `width`
    characters around column `col` with `…` where it is cut; and the caret's column in that part. Only the part
    shown is copied: a line may be megabytes long, and echoed for each of many problems."""
    length = len(text)
    while length and text[length - 1] in "\r\n":
        length -= 1
    col = min(col, length + 1)  # (a column past the end, counted with tabs wider than here: just after it)
    if length <= width:
        return text[:length], col
    start = max(0, min(col - 1 - width // 2, length - width))
    part = text[start:start + width]
    caret = col - start
    if start:
        part, caret = "…" + part, caret + 1
    if start + width < length:
        part += "…"
    return part, caret


def _source_line(file: str, line: int, source: str | None) -> str | None:
    if source is None:
        global _FILE_LINES
        try:
            info = os.stat(file)
            key = (file, info.st_mtime_ns, info.st_size)
        except (OSError, ValueError):
            return None
        if _FILE_LINES[0] != key:  # (read once for the many problems of one file, again when it changes)
            _FILE_LINES = (key, _file_lines(file, info))
        lines = _FILE_LINES[1]
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]  # (its line end left on: `_window` leaves it out, copying only what it shows)
    global _SPLIT
    if _SPLIT[0] is not source:  # (split once for the many problems of one text)
        _SPLIT = (source, source.split("\n"))  # (as rule files and captures count lines: `\f` or `\x85` ends none)
    lines = _SPLIT[1]
    return lines[line - 1] if 1 <= line <= len(lines) else None


_SPLIT: tuple = (None, [])  # the last source text rendered from, and its lines
_FILE_LINES: tuple = (None, None)  # the last file rendered from, and its lines (None: not echoed)


def _file_lines(file: str, info: os.stat_result) -> list[str] | None:
    """The lines of a file a diagnostic echoes, or None: not a regular file (`info`, its `os.stat`), or too large
    to echo."""
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_ECHO_BYTES:
        return None
    import linecache  # (and tokenize): only a diagnostic rendered from its file reads a line

    linecache.checkcache(file)
    return linecache.getlines(file) or None


def digit_limit() -> int:
    """Python's integer-string limit (`sys.get_int_max_str_digits`; 0: none): past it `int` and `Fraction`
    raise a bare ValueError, and no number of that many digits can be written either."""
    get = getattr(sys, "get_int_max_str_digits", None)
    return get() if get else 0


def too_many_digits(digits: int, what: str = "number") -> str:
    """What a problem says of a number of `digits` digits, more than `digit_limit` (snapshots, captures)."""
    return f"{what} of {digits:,} digits is over the limit of {digit_limit():,} digits (Python's integer-string limit)"


def markdown_table() -> str:
    """The codes as the table of `docs/diagnostics.md`."""
    rows = ["| code | severity | stage | what |", "|---|---|---|---|"]
    rows += [f"| `{c.code}` | {c.severity} | {c.stage} | {c.summary} |" for c in CODES.values()]
    return "\n".join(rows) + "\n"


def render_all(diagnostics, sources: dict[str, str] | None = None) -> str:
    sources = sources or {}
    return "\n".join(d.render(sources.get(d.file)) for d in diagnostics)


Problem = Diagnostic  # one located problem of an input file (see `diagnostics`)


class LoadError(Exception):
    """Raised with every problem of an input that cannot be used."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class UsageError(Exception):
    """A bad invocation: reported on stderr with exit code 2."""

    def __str__(self) -> str:  # names from the snapshot reach the terminal: their control characters shown
        return shown(super().__str__())


class InternalError(Exception):
    """A result migcheck must never show (exit 3): the message says what to report."""
