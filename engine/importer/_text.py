"""Shared reading machinery for the capture parsers: numbered lines, problems, ruler tables, units.

Every parser takes a `Source` (a capture file's lines, numbered as in the file) and returns
what it read plus the located `Problem`s for every line it did not understand. Nothing here
raises on bad text: a parser that cannot read a line says so and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from ..core.diagnostics import digit_limit, too_many_digits
from ..files.document import Problem

# Copies of HP output taken from web pages carry no-break spaces where the terminal had
# spaces; HP-UX itself never prints them, so they are read as the spaces they stand for.
_NBSP = "\u00a0"


def _clean(text: str) -> str:
    """No-break spaces as spaces, and tabs expanded to the 8-column stops a terminal shows: a capture
    that passed through a tool compressing spaces to tabs (`unexpand`, some mailers and editors) keeps the
    column alignment the `====` rulers give (a problem's column counts a tab as the spaces it stands for)."""
    return text.replace(_NBSP, " ").expandtabs(8)


def _lines(text: str) -> list[str]:
    """The text's lines as HP's commands and the collector's `awk` end them: at line feeds only (`numbered` takes
    a `\r` before one off). `str.splitlines` also ends a line at `\r`, `\v`, `\f`, `\x1c`-`\x1e`, `\x85` and
    U+2028/9, which a hostile name can hold: `x\fforged` was a row `x` and a guest `forged`, every later line
    numbered one too far."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


@dataclass
class Source:
    """A capture file's text as numbered lines (`start` is the number of the first line)."""

    file: str
    lines: list[str]
    start: int = 1

    @classmethod
    def read(cls, path: str | Path) -> "Source":
        raw = Path(path).read_bytes()
        text = raw.decode("utf-8", errors="replace")
        return cls(str(path), _lines(_clean(text)))

    @classmethod
    def of(cls, file: str, text: str, start: int = 1) -> "Source":
        return cls(file, _lines(_clean(text)), start)

    def numbered(self):
        for i, text in enumerate(self.lines):
            yield self.start + i, text.rstrip("\r")

    @property
    def last(self) -> int:
        return self.start + max(len(self.lines) - 1, 0)


@dataclass
class Problems:
    """Collects located problems for one file."""

    file: str
    items: list[Problem] = field(default_factory=list)

    def at(self, line: int, col: int, message: str, help: str = "") -> None:
        """A problem at (line, col); what its message quotes of the capture (`...`) cut at `QUOTED` characters:
        a captured line can be megabytes, and the echo of the line under the message shows where it is."""
        message = _LONG_QUOTE.sub(_quoted, message)
        if len(message) > MESSAGE:  # (quotes of less each, many of them: a line of backticks)
            message = message[:MESSAGE - 3] + "..."
        self.items.append(Problem(self.file, line, max(col, 1), message, help=help))


QUOTED = 120  # characters of a capture's text a problem's message quotes
MESSAGE = 600  # characters of a problem's message at most
_LONG_QUOTE = re.compile("`([^`]{%d,})`" % (QUOTED + 1))


def _quoted(m: re.Match) -> str:
    return f"`{shorten(m[1], QUOTED)}`"




RULER = re.compile(r"^=+( +=+)*\s*$")


def ruler_spans(ruler: str) -> list[tuple[int, int]]:
    """Column spans (start, end) of a `==== ===` ruler line."""
    return [(m.start(), m.end()) for m in re.finditer(r"=+", ruler)]


def split_by_ruler(line: str, spans: list[tuple[int, int]]) -> list[str] | None:
    """The cells of `line` cut at the ruler's columns, or None when the alignment does not hold.

    Alignment holds when no text sits in a gap between two columns; the last column runs to
    the end of the line (HP pads some cells past their ruler).
    """
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if line[end:start].strip():
            return None
    cells = [line[s:e].strip() for s, e in spans[:-1]]
    cells.append(line[spans[-1][0]:].strip())
    return cells


_UNITS = {"MB": 1, "M": 1, "MBYTES": 1, "GB": 1024, "G": 1024, "GBYTES": 1024, "TB": 1024 * 1024, "TBYTES": 1024 * 1024}
MEMORY = re.compile(r"^(?P<num>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]+)$")


class UnitError(ValueError):
    """A memory amount migcheck cannot turn into whole megabytes; `col` is the offset of the culprit."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


def too_long(text: str) -> str | None:
    """Why the number `text` cannot be read, when it has more digits than Python turns into a number
    (`core.diagnostics.digit_limit`: `int` and `Fraction` raise a bare ValueError past it, and the
    snapshot could not write it); None when it can. The one guard of every number a capture holds:
    HP never prints so many digits, so such a line is a damaged capture, said like any other."""
    limit = digit_limit()
    digits = sum(ch.isdigit() for ch in text) if limit else 0  # (0: the limit is switched off)
    return too_many_digits(digits) if digits > limit else None


def memory_mb(text: str) -> int:
    """`16 GB`, `64 MB`, `1024MB`, `24320 Mbytes` to whole megabytes, exactly (no float rounding)."""
    m = MEMORY.match(text.strip())
    if not m:
        raise UnitError(f"expected a memory amount such as `16 GB` or `512 MB`, found `{text.strip()}`")
    unit = m["unit"].upper()
    if unit not in _UNITS:
        raise UnitError(f"unknown memory unit `{m['unit']}` in `{text.strip()}`; expected MB, GB or TB",
                        text.find(m["unit"]))
    problem = too_long(m["num"])
    if problem is not None:
        raise UnitError(f"{problem}: HP prints no such amount; capture the command's output again",
                        text.find(m["num"]))
    amount = Fraction(m["num"]) * _UNITS[unit]
    if amount.denominator != 1:
        raise UnitError(f"`{text.strip()}` is not a whole number of megabytes")
    limit = digit_limit()
    if limit and amount >= 10 ** limit:  # `N TB` has up to 7 digits more than N: the snapshot could not write it
        raise UnitError(f"`{shorten(text)}` is more than {limit:,} digits of megabytes (Python's integer-string "
                        "limit): HP prints no such amount; capture the command's output again", text.find(m["num"]))
    return int(amount)


Line = tuple  # (line number, text)


@dataclass
class Section:
    """A `[Title]` block of HP output and the lines under it."""

    title: str
    line: int
    body: list[Line]


SECTION = re.compile(r"^\[(?P<title>[^\]]+)\]\s*$")


def sections(source: Source, problems: Problems, what: str) -> list[Section]:
    """Split HP's sectioned output at its `[Title]` lines; text before the first title is a problem."""
    found: list[Section] = []
    for no, text in source.numbered():
        m = SECTION.match(text)
        if m:
            found.append(Section(m["title"].strip(), no, []))
        elif found:
            found[-1].body.append((no, text))
        elif text.strip():
            problems.at(no, 1, f"expected a `[...]` section title of {what}, found `{text.strip()}`")
    return found


@dataclass
class Table:
    """A table under a `====` ruler: header lines above it, rows below it up to a blank line."""

    header: list[Line]
    ruler: Line | None
    spans: list[tuple[int, int]]
    rows: list[Line]
    after: list[Line]  # non-blank lines after the blank line that ends the rows

    def columns(self) -> str:
        """The header's words, spaces collapsed (multi-line headers joined)."""
        return " ".join(" ".join(text.split()) for _, text in self.header)


def table(body: list[Line]) -> Table:
    header: list[Line] = []
    ruler: Line | None = None
    rows: list[Line] = []
    after: list[Line] = []
    ended = False
    for no, text in body:
        if ruler is None:
            if RULER.match(text) and text.strip():
                ruler = (no, text)
            elif text.strip():
                header.append((no, text))
        elif ended:
            if text.strip():
                after.append((no, text))
        elif not text.strip():
            ended = True
        else:
            rows.append((no, text))
    return Table(header, ruler, ruler_spans(ruler[1]) if ruler else [], rows, after)


def row_cells(text: str, spans: list[tuple[int, int]]) -> list[str] | None:
    """A row's cells: cut at the ruler when aligned, else split at spaces when the count matches."""
    cells = split_by_ruler(text, spans)
    if cells is not None:
        return cells
    tokens = text.split()
    return tokens if len(tokens) == len(spans) else None


_DIGITS = re.compile(r"[0-9]+")


def number(text: str) -> int | None:
    """`text` as a whole number when it is ASCII digits only (`²` and other Unicode digits pass
    `str.isdigit` and fail `int`, or read as a number HP never prints) and not `too_long`; None
    otherwise, which each reader reports as the unreadable number it is."""
    return int(text) if _DIGITS.fullmatch(text) and too_long(text) is None else None


def shorten(text: str, width: int = 60) -> str:
    """`text` for a message: spaces collapsed, cut at `width` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3].rstrip() + "..."
