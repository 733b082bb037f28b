"""Markdown report: for tickets, wikis and pull requests."""

from __future__ import annotations

from .common import GRID_LIMIT, ROWS_PER_RULE, by_severity_and_rule, findings, grid, headline, per_guest, subject_text


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report) -> str:
    s = report.summary
    by = s["failed_by_severity"]
    out = [f"# migcheck {report.command}: {report.verdict.upper()}", "", f"**{_cell(headline(report))}**", "",
           f"Snapshot `{report.snapshot_path}` (site {report.site or '-'}, sha256 `{report.snapshot_sha256[:16]}`)", "",
           "| errors | warnings | notes | rule errors | passed | not applicable | waived |",
           "|---:|---:|---:|---:|---:|---:|---:|",
           f"| {by['error']} | {by['warning']} | {by['info']} | {s['error']} | {s['pass']} | {s['notapplicable']} "
           f"| {s['waived']} |", ""]
    if report.cells is not None and len({c.target for c in report.cells} | {c.source for c in report.cells}) \
            > GRID_LIMIT:
        out += ["## Migrations", "", "| guest | on | ready | blocked | unknown | blocked most by |",
                "|---|---|---:|---:|---:|---|"]
        out += [f"| {r['guest']} | {r['source']} | {r['ready']} | {r['blocked']} | {r['unknown']} | {r['why']} |"
                for r in per_guest(report)] + [""]
    elif report.cells is not None:
        guests, targets, cells = grid(report)
        symbol = {"ready": "ready", "blocked": "**blocked**", "unknown": "unknown"}
        out += ["## Migrations", "", "| guest | " + " | ".join(targets) + " |",
                "|---|" + "---|" * len(targets)]
        for g in guests:
            row = []
            for t in targets:
                c = cells.get((g, t))
                row.append(symbol[c.verdict] if c else "=")
            out.append(f"| {g} | " + " | ".join(row) + " |")
        out.append("")
    if report.plan is not None:
        from .plan_section import MIGRATION_COLUMNS, STAGE_COLUMNS, migration_rows, placement_lines, stage_rows
        out += [f"- {_cell(line)}" for line in placement_lines(report)] + ([""] if report.placement else [])
        for title, columns, rows in (("Migrations", MIGRATION_COLUMNS, migration_rows(report)),
                                     ("Stages", STAGE_COLUMNS, stage_rows(report))):
            out += [f"## {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows] + [""]
    problems = findings(report)
    if problems:
        out += ["## Findings", ""]
        for severity, rules in by_severity_and_rule(problems):
            out += [f"### {severity}", ""]
            for rule_id, results in rules:
                out += [f"#### {rule_id}: {_cell(results[0].title)}", "", f"Source: {results[0].cite}", "",
                        "| subject | status | message | fix |", "|---|---|---|---|"]
                for r in results[:ROWS_PER_RULE]:
                    status = r.status + (f" (waived until {r.waiver['expires']}: {r.waiver['reason']})"
                                         if r.waiver else "")
                    out.append(f"| {_cell(subject_text(r))} | {_cell(status)} | {_cell(r.message)} | {_cell(r.fix)} |")
                if len(results) > ROWS_PER_RULE:
                    out.append(f"\nand {len(results) - ROWS_PER_RULE:,} more results of {rule_id}: every one is in "
                               "the JSON, CSV, SARIF and JUnit reports")
                out.append("")
    else:
        out += ["No findings.", ""]
    if report.waiver_notes:
        out += ["## Waivers", ""] + [f"- **{n['status']}**: {_cell(n['message'])}" for n in report.waiver_notes] + [""]
    if report.manifest:
        out += ["## Manifest", "", "| key | value |", "|---|---|"]
        out += [f"| {k} | `{v}` |" for k, v in report.manifest.items()] + [""]
    return "\n".join(out)
