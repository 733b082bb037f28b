"""HTML report: one self-contained file for auditors (no scripts, fonts or images to fetch).

Summary first (verdict, counts, what was checked), then the migration grid for a matrix,
then the findings grouped by severity and rule, each with its fix and its source, then
waiver notes and the manifest that makes the report reproducible. Prints on paper.
"""

from __future__ import annotations

from html import escape

from .common import GRID_LIMIT, ROWS_PER_RULE, by_severity_and_rule, findings, grid, headline, per_guest, subject_text

_CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --bad: #b3261e; --bad-bg: #fbe9e7;
        --warn: #8a5a00; --warn-bg: #fff4d6; --info: #1e5aa8; --info-bg: #e8f0fb; --ok: #1b6e3a;
        --ok-bg: #e6f4ea; --unk: #6a3d9a; --unk-bg: #f1eafa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px;
  border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; } .muted { color: var(--muted); }
.verdict { display: inline-block; padding: 3px 12px; border-radius: 4px; font-weight: 700;
           letter-spacing: .04em; margin-right: 10px; }
.v-blocked, .v-fail { background: var(--bad); color: #fff; } .v-ready, .v-pass { background: var(--ok); color: #fff; }
.v-unknown, .v-error { background: var(--unk); color: #fff; }
.cards { display: flex; gap: 10px; flex-wrap: wrap; margin: 16px 0 6px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.card b { display: block; font-size: 20px; } .card span { color: var(--muted); font-size: 12px; }
.card.bad b { color: var(--bad); } .card.warn b { color: var(--warn); } .card.info b { color: var(--info); }
.card.ok b { color: var(--ok); } .card.unk b { color: var(--unk); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f4f6f9; font-weight: 600; }
code { font: 12.5px/1.4 ui-monospace, Menlo, Consolas, monospace; background: #f4f6f9; padding: 1px 4px;
       border-radius: 3px; }
.sev { border-left: 5px solid var(--line); padding-left: 12px; margin-bottom: 8px; }
.sev-error { border-color: var(--bad); } .sev-warning { border-color: var(--warn); } .sev-info { border-color: var(--info); }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 3px; font-weight: 600; }
.t-fail { background: var(--bad-bg); color: var(--bad); } .t-error { background: var(--unk-bg); color: var(--unk); }
.t-waived { background: #eee; color: #555; }
.cite { color: var(--muted); font-size: 12.5px; margin: 2px 0 6px; }
.fix { font-size: 13px; }
.grid td, .grid th { text-align: center; padding: 4px 6px; font-size: 12.5px; }
.grid th.g { text-align: left; }
.c-ready { background: var(--ok-bg); color: var(--ok); } .c-blocked { background: var(--bad-bg); color: var(--bad); }
.c-unknown { background: var(--unk-bg); color: var(--unk); } .c-self { background: #f4f4f4; color: #999; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 8px; border-radius: 3px; font-size: 12px; }
.manifest td:first-child { width: 220px; color: var(--muted); }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2, h3 { break-after: avoid; } tr { break-inside: avoid; }
  .verdict, .c-ready, .c-blocked, .c-unknown, .tag, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(text) -> str:
    return escape(str(text), quote=True)


def _summary(report) -> list[str]:
    s = report.summary
    by = s["failed_by_severity"]
    cards = [("bad", by["error"], "errors"), ("warn", by["warning"], "warnings"), ("info", by["info"], "notes"),
             ("unk", s["error"], "rule errors"), ("ok", s["pass"], "passed"),
             ("", s["notapplicable"], "not applicable"), ("", s["waived"], "waived")]
    if report.cells is not None:  # a matrix keeps failures only: no pass counts to show
        c = s["cells"]
        cards = [("ok", c["ready"], "migrations ready"), ("bad", c["blocked"], "migrations blocked"),
                 ("unk", c["unknown"], "unknown")] + [x for x in cards if x[2] not in ("passed", "not applicable")]
    out = ['<div class="cards">']
    out += [f'<div class="card {cls}"><b>{n}</b><span>{_e(label)}</span></div>' for cls, n, label in cards]
    out.append("</div>")
    return out


def _per_guest(report) -> list[str]:
    out = ["<h2>Migrations</h2>", f'<p class="muted">{len({c.target for c in report.cells})} targets: too many to draw '
           "as a grid; per guest, how many targets are ready or blocked and the rules that block most.</p>",
           "<table><thead><tr><th>guest</th><th>on</th><th>ready</th><th>blocked</th><th>unknown</th>"
           "<th>blocked most by</th></tr></thead><tbody>"]
    for row in per_guest(report):
        out.append(f"<tr><td>{_e(row['guest'])}</td><td>{_e(row['source'])}</td>"
                   f'<td class="c-ready">{row["ready"]}</td><td class="c-blocked">{row["blocked"]}</td>'
                   f'<td class="c-unknown">{row["unknown"]}</td><td>{_e(row["why"])}</td></tr>')
    out.append("</tbody></table>")
    return out


def _grid(report) -> list[str]:
    guests, targets, cells = grid(report)
    if len(targets) > GRID_LIMIT:
        return _per_guest(report)
    source = {c.guest: c.source for c in report.cells}
    out = ["<h2>Migrations</h2>",
           '<p class="legend"><span class="c-ready">ready</span><span class="c-blocked">blocked</span>'
           '<span class="c-unknown">could not be evaluated</span><span class="c-self">current host</span></p>',
           '<table class="grid"><thead><tr><th class="g">guest \\ target</th>']
    out += [f"<th>{_e(t)}</th>" for t in targets] + ["</tr></thead><tbody>"]
    for g in guests:
        out.append(f'<tr><th class="g">{_e(g)}</th>')
        for t in targets:
            cell = cells.get((g, t))
            if cell is None:
                out.append('<td class="c-self">&mdash;</td>' if source.get(g) == t else "<td></td>")
            else:
                title = ", ".join(cell.failing) or "no findings"
                out.append(f'<td class="c-{cell.verdict}" title="{_e(title)}">{_e(cell.verdict)}'
                           + (f'<br><span class="muted">{_e(", ".join(cell.failing))}</span>'
                              if cell.failing else "") + "</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return out


def _plan(report) -> list[str]:
    from .plan_section import MIGRATION_COLUMNS, STAGE_COLUMNS, migration_rows, placement_lines, stage_rows
    out = [f'<p class="muted">{_e(line)}</p>' for line in placement_lines(report)]
    for title, columns, rows, verdict_at in (("Migrations", MIGRATION_COLUMNS, migration_rows(report), 6),
                                             ("Stages", STAGE_COLUMNS, stage_rows(report), 2)):
        out += [f"<h2>{title}</h2>", "<table><thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in columns)
                + "</tr></thead><tbody>"]
        for row in rows:
            out.append("<tr>" + "".join(f'<td class="c-{_e(v)}">{_e(v)}</td>' if i == verdict_at else f"<td>{_e(v)}</td>"
                                        for i, v in enumerate(row)) + "</tr>")
        out.append("</tbody></table>")
    return out


def _findings(report) -> list[str]:
    problems = findings(report)
    if not problems:
        return ["<h2>Findings</h2>", "<p>No findings: every rule passed or did not apply.</p>"]
    out = ["<h2>Findings</h2>"]
    for severity, rules in by_severity_and_rule(problems):
        out.append(f'<h3>{_e(severity.capitalize())} ({sum(len(r) for _, r in rules)})</h3>')
        for rule_id, results in rules:
            first = results[0]
            out.append(f'<div class="sev sev-{severity}"><h3><code>{_e(rule_id)}</code> {_e(first.title)}</h3>')
            out.append(f'<div class="cite">Source: {_e(first.cite)}</div>')
            out.append("<table><thead><tr><th>subject</th><th>status</th><th>finding</th><th>fix</th></tr></thead>"
                       "<tbody>")
            for r in results[:ROWS_PER_RULE]:
                status = f'<span class="tag t-{r.status}">{_e(r.status)}</span>'
                if r.waiver:
                    w = r.waiver
                    status += (f' <span class="tag t-waived">waived</span><div class="muted">until '
                               f'{_e(w["expires"])} by {_e(w["owner"])}: {_e(w["reason"])}'
                               + (f' ({_e(w["ticket"])})' if w.get("ticket") else "") + "</div>")
                where = f'<div class="muted">{_e(r.location[0])}:{r.location[1]}</div>' if r.location else ""
                out.append(f"<tr><td>{_e(subject_text(r))}{where}</td><td>{status}</td><td>{_e(r.message)}</td>"
                           f'<td class="fix">{_e(r.fix)}</td></tr>')
            if len(results) > ROWS_PER_RULE:
                out.append(f'<tr><td colspan="4" class="muted">and {len(results) - ROWS_PER_RULE:,} more results '
                           f"of {_e(rule_id)}: every one is in the JSON, CSV, SARIF and JUnit reports</td></tr>")
            out.append("</tbody></table></div>")
    return out


def render_html(report) -> str:
    verdict = report.verdict
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>migcheck {_e(report.command)}: {_e(verdict)}</title>", f"<style>{_CSS}</style></head><body>",
           f"<h1>migcheck {_e(report.command)} report</h1>",
           f'<p><span class="verdict v-{_e(verdict)}">{_e(verdict.upper())}</span>{_e(headline(report))}</p>',
           f'<p class="muted">Snapshot <code>{_e(report.snapshot_path)}</code>, site {_e(report.site or "-")}, '
           f'sha256 <code>{_e(report.snapshot_sha256[:16])}</code>; generated '
           f'{_e(report.manifest.get("generated", ""))} by migcheck {_e(report.manifest.get("tool_version", ""))}; '
           f"runs fail on {_e(report.fail_on)} and above.</p>"]
    out += _summary(report)
    if report.cells is not None:
        out += _grid(report)
    if report.plan is not None:
        out += _plan(report)
    out += _findings(report)
    if report.waiver_notes:
        out += ["<h2>Waivers</h2>", "<ul>"]
        out += [f"<li><b>{_e(n['status'])}</b>: {_e(n['message'])}</li>" for n in report.waiver_notes]
        out.append("</ul>")
    if report.manifest:
        out += ["<h2>Manifest</h2>", '<table class="manifest"><tbody>']
        out += [f"<tr><td>{_e(k)}</td><td><code>{_e(v)}</code></td></tr>" for k, v in report.manifest.items()]
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
