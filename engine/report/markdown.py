"""Markdown report: for tickets, wikis and pull requests.

Text from snapshots and rules is escaped (table pipes, backticks, emphasis, raw HTML), so a
guest name cannot break a table or inject markup; `code` spans of messages and fixes stay
code. Blockers are error-severity failures only. Control characters are shown as escapes
(`\x1b`), as in every format. With a baseline, the counts say how many findings are new, each
finding's status says `new` or `unchanged`, and the findings it had that are gone are listed.
"""

from __future__ import annotations

from ..core.vocabulary import BLOCKED, ERROR, ERROR_SEVERITY, INFO, NOTAPPLICABLE, PASS, READY, UNKNOWN, WARNING
from .common import (GRID_LIMIT, finding_groups, grid, headline, manifest_value, markdown_code, markdown_rich,
                     markdown_text, per_guest, subject_text)
from .plan_section import MIGRATION_COLUMNS, STAGE_COLUMNS, migration_rows, placement_lines, stage_rows

_NOTE_WORD = {"out-of-scope": "not in scope of this run", "errors-only": "matches rule errors only"}


def _t(text) -> str:
    return markdown_text(text)


# GitHub takes a job summary ($GITHUB_STEP_SUMMARY) of at most 1 MiB and drops a larger one whole: the report's
# table rows are kept within this many bytes (its headings, notes and manifest always), the rest counted
MAX_BYTES = 1_000_000


def render_markdown(report) -> str:
    head, middle, manifest = _heading(report), [], []
    if report.cells is not None and len(grid(report)[1]) > GRID_LIMIT:
        middle += _migrations_by_guest(report)
    elif report.cells is not None:
        middle += _migration_grid(report)
    if report.plan is not None:
        middle += _plan_sections(report)
    elif report.placement or report.campaign:  # nothing proposed: what stopped it
        middle += [f"- {_t(line)}" for line in placement_lines(report)] + [""]
    middle += _findings(report)
    if report.waiver_notes:
        middle += _waiver_notes(report)
    if report.baseline is not None:
        middle += _baseline(report.baseline)
    if report.manifest:
        manifest += ["## Manifest", "", "| key | value |", "|---|---|"]
        manifest += [f"| {k} | {markdown_code(manifest_value(v))} |" for k, v in report.manifest.items()] + [""]
    head, manifest = [_short(line) for line in head], [_short(line) for line in manifest]
    return "\n".join(head + _fit(middle, MAX_BYTES - _size(head) - _size(manifest)) + manifest)


def _size(lines: list[str]) -> int:
    return sum(len(line.encode()) + 1 for line in lines)


LINE_BYTES = 16_384  # a line longer than this (a site, file or guest name of megabytes) is cut, saying so


def _short(line: str) -> str:
    if len(line) <= LINE_BYTES // 4 or len(line.encode()) <= LINE_BYTES:
        return line
    if line.startswith("| ") and line.endswith(" |"):  # a table row: each cell cut, so it keeps its cells
        cells = line[2:-2].split(" | ")
        width = max(LINE_BYTES // len(cells), 16)
        return "| " + " | ".join(_cut(cell, width) for cell in cells) + " |"
    return _cut(line, LINE_BYTES)


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` UTF-8 bytes, cut where it must be, saying so."""
    if len(text.encode()) <= width:
        return text
    return text.encode()[:width].decode("utf-8", "ignore").rstrip("\\") + " … (cut)"


_NOTE = ("*{:,} more rows left out: a Markdown report is kept under 1 MiB (GitHub's job summary limit); every "
         "finding is in the JSON, JSON Lines and CSV reports*")


def _fit(lines: list[str], budget: int) -> list[str]:
    """`lines` within `budget` bytes: the table rows and list items that fit after every other line (headings,
    header rows, notes, kept whole, each at most `LINE_BYTES`) and a note for each table or list cut; the rows past
    it left out, in order, each cut's note saying how many."""
    lines = [_short(line) for line in lines]
    if _size(lines) <= budget:
        return lines
    rows = [(line.startswith("|") and not line.startswith("|--") and not (
        k + 1 < len(lines) and lines[k + 1].startswith("|--")))  # (a header row: its ruler follows)
        or line.startswith("- ") for k, line in enumerate(lines)]
    cuts = sum(1 for k, line in enumerate(lines) if line.startswith("|--") or (
        rows[k] and line.startswith("- ") and (k == 0 or not rows[k - 1])))
    room = budget - _size([line for line, row in zip(lines, rows) if not row]) - cuts * (len(_NOTE) + 12)
    out, dropped = [], 0
    for line, row in zip(lines, rows):
        if row:
            cost = len(line.encode()) + 1
            if dropped or cost > room:
                dropped += 1
                continue
            room -= cost
        elif dropped:
            out += ["", _NOTE.format(dropped)]
            dropped = 0
        out.append(line)
    if dropped:
        out += ["", _NOTE.format(dropped)]
    return out


def _heading(report) -> list[str]:
    """Title, headline, the snapshot read, and the counts table."""
    s = report.summary
    by = s["failed_by_severity"]
    collected = f", collected {_t(report.collected)}" if report.collected else ""
    errors = "errors" if report.command == "audit" else "blocking errors"
    new = ("| new since baseline ", "---:|", f"| {report.baseline['new']} ") if report.baseline is not None \
        else ("", "", "")
    return [f"# migcheck {_t(report.command)}: {_t(report.verdict.upper())}", "", f"**{_t(headline(report))}**", "",
            f"Snapshot {markdown_code(report.snapshot_path)} (site {_t(report.site or '-')}{collected}, "
            f"sha256 {markdown_code(report.snapshot_sha256[:16])})", "",
            f"| {errors} | warnings | notes | rule errors | passed | not applicable | waived {new[0]}|",
            f"|---:|---:|---:|---:|---:|---:|---:|{new[1]}",
            f"| {by[ERROR_SEVERITY]} | {by[WARNING]} | {by[INFO]} | {s[ERROR]} | {s[PASS]} | {s[NOTAPPLICABLE]} "
            f"| {s['waived']} {new[2]}|", ""]


def _migrations_by_guest(report) -> list[str]:
    """A matrix with more targets than a grid holds: a row per guest."""
    out = ["## Migrations", "", "| guest | on | ready | blocked | unknown | blocked most by | ready targets |",
           "|---|---|---:|---:|---:|---|---|"]
    out += [f"| {_t(r['guest'])} | {_t(r['source'])} | {r[READY]} | {r[BLOCKED]} | {r[UNKNOWN]} | "
            f"{_t(r['why'])} | {_t(', '.join(r['ready_targets']) or '-')} |" for r in per_guest(report)] + [""]
    return out


def _migration_grid(report) -> list[str]:
    guests, targets, cells = grid(report)
    found = report.cell_findings
    out = ["## Migrations", "", "Blocked cells name the rules that block them (error-severity failures).", "",
           "| guest | " + " | ".join(_t(t) for t in targets) + " |", "|---|" + "---|" * len(targets)]
    for g in guests:
        row = []
        for t in targets:
            c = cells.get((g, t))
            if c is None:
                row.append("=")
            elif c.verdict == BLOCKED:
                row.append("**blocked** " + _t(", ".join(found[(g, t)].blocking)))
            else:
                row.append(c.verdict)
        out.append(f"| {_t(g)} | " + " | ".join(row) + " |")
    out.append("")
    return out


def _plan_sections(report) -> list[str]:
    """Placement, then the plan's migrations and stages as tables."""
    out = [f"- {_t(line)}" for line in placement_lines(report)] + ([""] if report.placement or report.campaign else [])
    for title, columns, rows in (("Migrations", MIGRATION_COLUMNS, migration_rows(report)),
                                 ("Stages", STAGE_COLUMNS, stage_rows(report))):
        out += [f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        out += ["| " + " | ".join(_t(v) for v in row) + " |" for row in rows] + [""]
    return out


def _findings(report) -> list[str]:
    groups = finding_groups(report)
    if not groups:
        return ["No findings.", ""]
    out = ["## Findings", ""]
    for severity, rules in groups:
        out += [f"### {severity}", ""]
        for rule_id, results, total in rules:
            out += _rule_findings(rule_id, results, total)
    return out


def _rule_findings(rule_id: str, results: list, total: int) -> list[str]:
    """One rule's results as a table; `total` counts the results left out too."""
    first = results[0]
    out = [f"#### {markdown_code(rule_id)}: {_t(first.title)}", "", f"Source: {_t(first.cite)}", "",
           "| subject | status | message | fix |", "|---|---|---|---|"]
    for r in results:
        out.append(f"| {_t(subject_text(r))} | {_t(_status(r))} | {markdown_rich(r.message)} | "
                   f"{markdown_rich(r.fix)} |")
    if total > len(results):
        out.append(f"\nand {total - len(results):,} more results of {rule_id}: every one is in "
                   "the JSON, JSON Lines and CSV reports")
    out.append("")
    return out


def _status(r) -> str:
    """A result's status, with its waiver and its baseline mark."""
    status = r.status
    if r.waiver:
        w = r.waiver
        status += f" (waived until {w['expires']}: {w['reason']}" + \
            (f", ticket {w['ticket']}" if w.get("ticket") else "") + ")"
    if r.baseline:
        status += f", {r.baseline}"
    return status


def _waiver_notes(report) -> list[str]:
    out = ["## Waivers", ""]
    out += [f"- **{_t(_NOTE_WORD.get(n['status'], n['status']))}**: {_t(n['message'])}"
            + (f" (ticket {_t(n['ticket'])})" if n.get("ticket") else "") for n in report.waiver_notes] + [""]
    return out


def _baseline(b: dict) -> list[str]:
    out = ["## Baseline", "", f"Compared with {markdown_code(b['path'])}: {b['new']} new, {b['unchanged']} "
           f"unchanged, {len(b['resolved'])} resolved."
           + (f" {b['not_evaluated']} of its findings were not evaluated by this run (another guest, target, mode "
              "or rule): not called resolved." if b.get("not_evaluated") else ""), ""]
    out += [f"- resolved: {markdown_code(r['rule'])} "
            + _t(", ".join(f"{k} {v}" for k, v in r.get("subject", {}).items())) for r in b["resolved"]]
    out += [""] if b["resolved"] else []
    return out
