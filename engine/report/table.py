"""The default report: the verdict first, then failures with their fix, then a summary.

`width=None` (a pipe or file) lays it out for a fixed 100 columns; `width=N` (the terminal's
columns, when stdout is one) for N: the message column takes what the other columns leave, and
when that is too narrow to read each message goes on the lines under its row. Text wraps at
spaces only, never inside a word. Colour only when asked (the CLI asks when stdout is a
terminal). With a baseline, findings new since it are marked `(new)` and the resolved ones are
listed. Text from snapshots, rules and waivers reaches the terminal with its control characters
shown as escapes (`\x1b`), so a guest name cannot clear the screen or retitle the window.
"""

from __future__ import annotations

import re
import textwrap

from ..core.vocabulary import (AUDIT_FAIL, AUDIT_PASS, BLOCKED, ERROR, ERROR_SEVERITY, FAIL, INFO, NOTAPPLICABLE, PASS,
                               READY, UNKNOWN, VERDICTS, WARNING)
from .common import grid, headline, per_guest, plural
from .common import terminal_safe as _safe
from .digest import Digest
from .plan_section import MIGRATION_COLUMNS, STAGE_COLUMNS, migration_rows, placement_lines, stage_rows

WIDTH = 100  # the layout when no width is given (pipes, files): fixed, and wide
MIN_MESSAGE = 30  # a message column narrower than this goes under its row instead
# the colour of a status, verdict, or severity of a failure below error (and of a waived finding)
_COLORS = {FAIL: "31", ERROR: "35", PASS: "32", NOTAPPLICABLE: "2", BLOCKED: "1;31", READY: "1;32",
           UNKNOWN: "1;35", "waived": "33", WARNING: "33", INFO: "36"}
_MARK = {FAIL: "FAIL", ERROR: "ERROR", PASS: PASS, NOTAPPLICABLE: "n/a"}


# -- tables: tabulate's "simple" format --------------------------------------------------------------
_PLAIN_CELL = re.compile(r"[ -~\n]*")  # printable ASCII and newlines: a character's width is 1
_NUMBERISH = re.compile(r"[+\-.0-9]|True$|False$")  # a cell tabulate might read as a number or a boolean


def _simple(rows: list, headers: list) -> str:
    """`tabulate(rows, headers=headers, tablefmt="simple")`, byte for byte.

    Most tables here are of plain text: those are laid out here as tabulate lays them out (each
    column as wide as its widest line, at least its header and 2; cells stripped, left aligned, 2
    spaces between, trailing spaces cut; a cell's lines under each other). Importing tabulate costs
    a run more than the rest of its output stage (it imports importlib.metadata): only a table
    with anything else in it (a number, a boolean, colour, wide or control characters, a row of
    another length, no row) goes to tabulate itself. tests/test_startup_table.py compares the two."""
    if not _plain_table(rows, headers):
        from tabulate import tabulate

        return tabulate(rows, headers=headers, tablefmt="simple")
    cols = [[cell.strip() for cell in col] for col in zip(*rows)]
    widths = [max(max(len(line) for line in header.split("\n")) + 2, *(len(line) for cell in col
                                                                          for line in cell.split("\n")))
              for header, col in zip(headers, cols)]
    # tabulate lays a table with a newline anywhere out line by line: a row of empty cells is then no line
    multiline = any("\n" in cell for row in [headers, *rows] for cell in row)
    lines = ["  ".join(line.ljust(w) for line, w in zip(header_line, widths)).rstrip()
             for header_line in _row_lines([h.split("\n") for h in headers], widths)]
    lines.append("  ".join("-" * w for w in widths))
    for row in zip(*cols):
        cells = [cell.split("\n") if cell else [] for cell in row]
        lines.extend("  ".join(line.ljust(w) for line, w in zip(row_line, widths)).rstrip()
                     for row_line in _row_lines(cells, widths, 0 if multiline else 1))
    return "\n".join(lines)


def _row_lines(cells: list[list[str]], widths: list[int], least: int = 1) -> list[list[str]]:
    """A row's cells (each its lines) as lines of cells, a short cell filled with blank lines."""
    count = max(least, *map(len, cells))
    return [[cell[i] if i < len(cell) else " " * w for cell, w in zip(cells, widths)] for i in range(count)]


def _plain_table(rows: list, headers: list) -> bool:
    """Whether tabulate would lay the table out as `_simple` does: text cells of printable ASCII, rows as
    long as the headers, and no column tabulate reads as numbers (all of its filled cells number-like)."""
    if not rows or not headers or not all(type(h) is str and _PLAIN_CELL.fullmatch(h) for h in headers):
        return False
    if not all(type(row) is list and len(row) == len(headers) for row in rows):
        return False
    for col in zip(*rows):
        text = False
        for cell in col:
            if type(cell) is not str or not _PLAIN_CELL.fullmatch(cell):
                return False
            if cell and not text and not _NUMBERISH.match(cell) and not _is_float(cell):
                text = True
        if not text and any(col):
            return False
    return True


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _paint(text: str, key: str, color: bool) -> str:
    return f"\033[{_COLORS[key]}m{text}\033[0m" if color and key in _COLORS else text


def _subject(result, command: str = "check") -> str:
    s = result.subject
    if "stage" in s and "guest" not in s:
        return f"stage {s['stage']}"
    if "step" in s:
        return f"{s['step']}. {s['guest']}" + (f" -> {s['target']}" if "target" in s else "")
    if "target" in s and command == "matrix":
        return f"{s['guest']} -> {s['target']}"
    return s.get("guest") or s.get("host") or "snapshot"


def _headline(report, color: bool) -> str:
    verdict = report.verdict.upper()
    what = _safe(headline(report))
    key = {BLOCKED: BLOCKED, AUDIT_FAIL: BLOCKED, READY: READY, AUDIT_PASS: READY}.get(report.verdict, UNKNOWN)
    return f"{_paint(verdict, key, color)}  {what}"


def _plain(text: str) -> str:
    """Text without colour codes, for measuring."""

    return re.sub(r"\033\[[0-9;]*m", "", str(text))


def _wrap(text: str, width: int) -> str:
    """Text wrapped at spaces only: a word longer than `width` stays whole on its own line."""
    return "\n".join(_lines(text, width)) or ""


def _lines(text: str, width: int, indent: str = "", first: str | None = None) -> list[str]:
    return textwrap.wrap(text, max(width, 10), break_long_words=False, break_on_hyphens=False,
                         initial_indent=indent if first is None else first, subsequent_indent=indent)


def _fill(text: str, width: int, first: str = "", indent: str = "    ") -> str:
    return "\n".join(_lines(text, width, indent, first))


def _message_table(rows: list[list], headers: list[str], width: int) -> list[str]:
    """A table whose last column is a message: beside the row when it leaves `MIN_MESSAGE` columns
    of `width`, else on the lines under the row (indented)."""
    # tabulate's "simple" columns: the widest cell, at least the header plus its MIN_PADDING of 2; then 2 between
    used = sum(max(max((len(line) for row in rows for line in _plain(row[i]).splitlines() or [""]), default=0),
                   len(headers[i]) + 2) + 2
               for i in range(len(headers) - 1))
    room = width - used
    if room >= MIN_MESSAGE:
        # at spaces; only a word longer than the column (a long path) is cut, or it would widen the table
        rows = [row[:-1] + ["\n".join(textwrap.wrap(row[-1], room, break_on_hyphens=False)) or ""] for row in rows]
        return [_simple(rows, headers), ""]
    flat = [[cell.replace("\n", " ") if isinstance(cell, str) else cell for cell in row[:-1]] for row in rows]
    lines = _simple(flat, headers[:-1]).splitlines()
    out = lines[:2]
    for line, row in zip(lines[2:], rows):
        out.append(line)
        out += _lines(row[-1], width, "    ")
    return out + [""]


def _digest(report):
    """What the table shows: the streamed matrix's digest, or one made from the report's results."""
    if report.digest is not None:
        return report.digest
    digest = Digest(first=report.limit)
    digest.feed([], report.results, {})
    return digest


def render_table(report, color: bool = False, width: int | None = None) -> str:
    """The table for `width` columns (None: the fixed layout of pipes and files)."""
    width = WIDTH if width is None else max(int(width), 40)
    out = [_headline(report, color), ""]
    digest = _digest(report)
    limit = report.limit
    problems = digest.first if digest.problems <= limit else []
    if report.command == "matrix":
        out.extend(_grid(report, color, width))
    if report.plan is not None:
        out.extend(_plan_tables(report, color))
    elif report.placement or report.campaign:  # nothing proposed: what stopped it
        out.extend([_safe(line) for line in placement_lines(report)] + [""])
    if digest.problems > limit:
        out.extend(_grouped(report, digest, color, width))
    if problems:
        out.extend(_findings(problems, report.command, color, width))
        out.extend(_fixes(problems, report.command, width))
        out.extend(_waived(problems, report.command, width))
    for note in report.waiver_notes:
        out.append(_fill(_safe(note["message"]), width))  # it says what happened
    out.extend(_baseline(report, width))
    out.append(_fill(summary_line(report.summary), width, "", ""))
    return "\n".join(out).rstrip() + "\n"


def summary_line(s: dict) -> str:
    """`15 errors, 1 warning, 0 notes, 0 rule errors; 3 passed, 0 not applicable, 0 waived`."""
    by = s["failed_by_severity"]
    return (f"{plural(by[ERROR_SEVERITY], 'error')}, {plural(by[WARNING], 'warning')}, {plural(by[INFO], 'note')}, "
            f"{plural(s[ERROR], 'rule error')}; {s[PASS]:,} passed, {s[NOTAPPLICABLE]:,} not applicable, "
            f"{s['waived']:,} waived")


def _baseline(report, width: int) -> list[str]:
    """Against a baseline: the counts, and the findings it had that this run no longer has."""
    b = report.baseline
    if b is None:
        return []
    out = [_fill(_safe(f"Baseline {b['path']}: {b['new']:,} new (marked (new)), {b['unchanged']:,} unchanged, "
                       f"{len(b['resolved']):,} resolved"
                       + (f"; {b['not_evaluated']:,} of its findings not evaluated by this run (another guest, "
                          "target, mode or rule): not called resolved" if b.get("not_evaluated") else "")), width)]
    for r in b["resolved"][:report.limit]:
        subject = ", ".join(f"{k} {v}" for k, v in r.get("subject", {}).items())
        out.append(_fill(_safe(f"{r['rule']} ({subject}): resolved"), width, "  + ", "    "))
    if len(b["resolved"]) > report.limit:
        out.append(f"and {len(b['resolved']) - report.limit:,} more resolved: every one is in the JSON report")
    return out + [""]


def _plan_tables(report, color: bool) -> list[str]:
    """Placement, then the plan's migrations and stages."""
    out = [_safe(line) for line in placement_lines(report)] + [""] if report.placement or report.campaign else []
    rows = [r[:6] + [_paint(r[6], r[6], color)] + r[7:] for r in migration_rows(report)]
    out += [_simple(rows, MIGRATION_COLUMNS), ""]
    rows = [r[:2] + [_paint(r[2], r[2], color)] + r[3:] for r in stage_rows(report)]
    out += [_simple(rows, STAGE_COLUMNS), ""]
    return out


def _findings(problems: list, command: str, color: bool, width: int) -> list[str]:
    """A row per finding, the message wrapped to what the other columns leave of the width."""
    rows = []
    for r in problems:
        status = r.status
        mark = _MARK.get(status, status)
        if status == FAIL and r.severity != ERROR_SEVERITY:
            mark, status = ("WARN", WARNING) if r.severity == WARNING else ("INFO", INFO)
        if r.waiver:  # a waiver never hides the status
            mark, status = f"{mark} waived", "waived"
        label = _paint(mark, status, color)
        subject = _safe(_subject(r, command) + (f" [{r.item}]" if r.item else ""))
        if r.baseline == "new":
            subject += " (new)"
        rows.append([label, r.severity, _safe(r.rule), _wrap(subject, 20), _safe(r.message)])
    return _message_table(rows, ["status", "severity", "rule", "subject", "message"], width)


def _fixes(problems: list, command: str, width: int) -> list[str]:
    """How to fix the failures not waived, each fix once."""
    fixes = [r for r in problems if r.fix and r.status == FAIL and not r.waiver]
    if not fixes:
        return []
    out = ["How to fix:"]
    seen = set()
    for r in fixes:
        line = _safe(f"{r.rule} ({_subject(r, command)}): {r.fix}")
        if line in seen:
            continue
        seen.add(line)
        out.append(_fill(line, width, "  - "))
    out.append("")
    return out


def _waived(problems: list, command: str, width: int) -> list[str]:
    """The waived findings: until when, by whom, and why."""
    out = []
    for r in problems:
        if r.waiver:
            w = r.waiver
            ticket = f" ({w['ticket']})" if w.get("ticket") else ""
            out.append(_fill(_safe(f"{r.rule} ({_subject(r, command)}) waived until {w.get('expires')} "
                                   f"by {w.get('owner')}: {w.get('reason')}{ticket}"), width, "  ~ "))
    if out:
        out.append("")
    return out


def _grouped(report, digest, color: bool, width: int) -> list[str]:
    """More findings than `--limit`: one line per rule and guest (how many, on how many targets), capped."""
    limit = report.limit
    listed, pairs = digest.listed_pairs(limit)
    rows, fixes = [], []
    for (rule_id, guest), (first, n, targets, _, new) in listed:
        status = first.status
        mark = _MARK.get(status, status)
        if status == FAIL and first.severity != ERROR_SEVERITY:
            mark, status = ("WARN", WARNING) if first.severity == WARNING else ("INFO", INFO)
        where = f"{n:,} on {plural(targets, 'target')}" if targets else f"{n:,}"
        if report.baseline is not None:
            where += f", {new:,} new"
        rows.append([_paint(mark, status, color), first.severity, _safe(rule_id), _safe(guest or "snapshot"), where,
                     _safe(first.message)])
        if first.fix and first.status == FAIL and not first.waiver:
            fixes.append(_safe(f"{rule_id} ({_subject(first, report.command)}): {first.fix}"))
    out = [f"{digest.problems:,} findings, more than --limit {limit:,}: by rule and guest, with the first message "
           "of each", "",
           *_message_table(rows, ["status", "severity", "rule", "guest", "findings", "first message"], width)]
    if pairs > limit:
        out += [f"and {pairs - limit:,} more rule and guest pairs: every finding is in the JSON, JSON Lines and "
                "CSV reports", ""]
    if fixes:
        out.append("How to fix (first of each):")
        out += [_fill(line, width, "  - ") for line in dict.fromkeys(fixes)]
        out.append("")
    return out


def _per_guest(report, color: bool, width: int) -> list[str]:
    """A matrix too wide for a grid: a line per guest (capped at `--limit`)."""

    guests = per_guest(report)
    limit = report.limit
    rows = [[_safe(r["guest"]), _safe(r["source"]), _paint(str(r[READY]), READY, color) if r[READY] else "0",
             r[BLOCKED], r[UNKNOWN], _safe(r["why"])] for r in guests[:limit]]
    out = _message_table(rows, ["guest", "on", *VERDICTS, "blocked most by"], width)
    if len(guests) > limit:
        out += [f"and {len(guests) - limit:,} more guests: every one is in the HTML, Markdown and CSV (csv-cells) "
                "reports", ""]
    return out


def _grid(report, color: bool, width: int) -> list[str]:

    guests, targets, by_pair = grid(report)
    cells = by_pair.values()
    symbol = {READY: "ok", BLOCKED: "X", UNKNOWN: "?"}
    if 12 + 8 * len(targets) > width:
        return _per_guest(report, color, width)
    source_of = {c.guest: c.source for c in cells}
    rows = []
    for g in guests:
        row = [_safe(g)]
        for t in targets:
            cell = by_pair.get((g, t))
            if cell is None:
                row.append("=" if source_of.get(g) == t else "")
            else:
                row.append(_paint(symbol[cell.verdict], cell.verdict, color))
        rows.append(row)
    return [_simple(rows, ["guest \\ target"] + [_safe(t) for t in targets]),
            "ok ready   X blocked   ? could not be evaluated   = current host", ""]
