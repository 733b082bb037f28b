"""The default report: the verdict first, then failures with their fix, then a summary.

Fits 100 columns; colour only when asked (the CLI asks when stdout is a terminal). Text
from snapshots, rules and waivers reaches the terminal with its control characters shown as
escapes (`\x1b`), so a guest name cannot clear the screen or retitle the window.
"""

from __future__ import annotations

import re
import textwrap

from tabulate import tabulate

from ..core.vocabulary import (AUDIT_FAIL, AUDIT_PASS, BLOCKED, ERROR, ERROR_SEVERITY, FAIL, INFO, NOTAPPLICABLE, PASS,
                               READY, UNKNOWN, VERDICTS, WARNING)
from .common import grid, headline, per_guest
from .common import terminal_safe as _safe
from .digest import Digest
from .plan_section import MIGRATION_COLUMNS, STAGE_COLUMNS, migration_rows, placement_lines, stage_rows

WIDTH = 100
# the colour of a status, verdict, or severity of a failure below error (and of a waived finding)
_COLORS = {FAIL: "31", ERROR: "35", PASS: "32", NOTAPPLICABLE: "2", BLOCKED: "1;31", READY: "1;32",
           UNKNOWN: "1;35", "waived": "33", WARNING: "33", INFO: "36"}
_MARK = {FAIL: "FAIL", ERROR: "ERROR", PASS: PASS, NOTAPPLICABLE: "n/a"}


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
    return "\n".join(textwrap.wrap(text, width)) or ""


def _digest(report):
    """What the table shows: the streamed matrix's digest, or one made from the report's results."""
    if report.digest is not None:
        return report.digest
    digest = Digest(first=report.limit)
    digest.feed([], report.results, {})
    return digest


def render_table(report, color: bool = False) -> str:
    out = [_headline(report, color), ""]
    digest = _digest(report)
    limit = report.limit
    problems = digest.first if digest.problems <= limit else []
    if report.command == "matrix":
        out.extend(_grid(report, color))
    if report.plan is not None:
        out.extend(_plan_tables(report, color))
    if digest.problems > limit:
        out.extend(_grouped(report, digest, color))
    if problems:
        out.extend(_findings(problems, report.command, color))
        out.extend(_fixes(problems, report.command))
        out.extend(_waived(problems, report.command))
    for note in report.waiver_notes:
        out.append(textwrap.fill(_safe(note["message"]), WIDTH, subsequent_indent="    "))  # it says what happened
    s = report.summary
    by = s["failed_by_severity"]
    out.append(f"{by[ERROR_SEVERITY]} errors, {by[WARNING]} warnings, {by[INFO]} notes, {s[ERROR]} rule errors; "
               f"{s[PASS]} passed, {s[NOTAPPLICABLE]} not applicable, {s['waived']} waived")
    return "\n".join(out).rstrip() + "\n"


def _plan_tables(report, color: bool) -> list[str]:
    """Placement, then the plan's migrations and stages."""
    out = placement_lines(report) + [""] if report.placement else []
    rows = [r[:6] + [_paint(r[6], r[6], color)] + r[7:] for r in migration_rows(report)]
    out += [tabulate(rows, headers=MIGRATION_COLUMNS, tablefmt="simple"), ""]
    rows = [r[:2] + [_paint(r[2], r[2], color)] + r[3:] for r in stage_rows(report)]
    out += [tabulate(rows, headers=STAGE_COLUMNS, tablefmt="simple"), ""]
    return out


def _findings(problems: list, command: str, color: bool) -> list[str]:
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
    used = sum(max(len(line) for row in rows for line in _plain(row[i]).splitlines() or [""]) + 2
               for i in range(4))
    for row in rows:
        row[4] = _wrap(row[4], max(24, WIDTH - used - 8))
    return [tabulate(rows, headers=["status", "severity", "rule", "subject", "message"], tablefmt="simple"), ""]


def _fixes(problems: list, command: str) -> list[str]:
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
        out.append(textwrap.fill(line, WIDTH, initial_indent="  - ", subsequent_indent="    "))
    out.append("")
    return out


def _waived(problems: list, command: str) -> list[str]:
    """The waived findings: until when, by whom, and why."""
    out = []
    for r in problems:
        if r.waiver:
            w = r.waiver
            ticket = f" ({w['ticket']})" if w.get("ticket") else ""
            out.append(textwrap.fill(_safe(f"{r.rule} ({_subject(r, command)}) waived until {w.get('expires')} "
                                           f"by {w.get('owner')}: {w.get('reason')}{ticket}"),
                                     WIDTH, initial_indent="  ~ ", subsequent_indent="    "))
    if out:
        out.append("")
    return out


def _grouped(report, digest, color: bool) -> list[str]:
    """More findings than `--limit`: one line per rule and guest (how many, on how many targets), capped."""
    limit = report.limit
    keys = sorted(digest.pairs)
    rows, fixes = [], []
    for rule_id, guest in keys[:limit]:
        first, n, targets, _ = digest.pairs[(rule_id, guest)]
        status = first.status
        mark = _MARK.get(status, status)
        if status == FAIL and first.severity != ERROR_SEVERITY:
            mark, status = ("WARN", WARNING) if first.severity == WARNING else ("INFO", INFO)
        where = f"{n:,} on {targets:,} targets" if targets else f"{n:,}"
        rows.append([_paint(mark, status, color), first.severity, _safe(rule_id), _safe(guest or "snapshot"), where,
                     _wrap(_safe(first.message), 44)])
        if first.fix and first.status == FAIL and not first.waiver:
            fixes.append(_safe(f"{rule_id} ({_subject(first, report.command)}): {first.fix}"))
    out = [f"{digest.problems:,} findings, more than --limit {limit:,}: by rule and guest, with the first message "
           "of each", "",
           tabulate(rows, headers=["status", "severity", "rule", "guest", "findings", "first message"],
                    tablefmt="simple"), ""]
    if len(keys) > limit:
        out += [f"and {len(keys) - limit:,} more rule and guest pairs: every finding is in the JSON, JSON Lines and "
                "CSV reports", ""]
    if fixes:
        out.append("How to fix (first of each):")
        out += [textwrap.fill(line, WIDTH, initial_indent="  - ", subsequent_indent="    ")
                for line in dict.fromkeys(fixes)]
        out.append("")
    return out


def _per_guest(report, color: bool) -> list[str]:
    """A matrix too wide for a grid: a line per guest (capped at `--limit`)."""

    guests = per_guest(report)
    limit = report.limit
    rows = [[_safe(r["guest"]), _safe(r["source"]), _paint(str(r[READY]), READY, color) if r[READY] else "0",
             r[BLOCKED], r[UNKNOWN], _safe(r["why"])] for r in guests[:limit]]
    out = [tabulate(rows, headers=["guest", "on", *VERDICTS, "blocked most by"],
                    tablefmt="simple"), ""]
    if len(guests) > limit:
        out += [f"and {len(guests) - limit:,} more guests: every one is in the HTML, Markdown and CSV (csv-cells) "
                "reports", ""]
    return out


def _grid(report, color: bool) -> list[str]:

    guests, targets, by_pair = grid(report)
    cells = by_pair.values()
    symbol = {READY: "ok", BLOCKED: "X", UNKNOWN: "?"}
    if 12 + 8 * len(targets) > WIDTH:
        return _per_guest(report, color)
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
    return [tabulate(rows, headers=["guest \\ target"] + [_safe(t) for t in targets], tablefmt="simple"),
            "ok ready   X blocked   ? could not be evaluated   = current host", ""]
