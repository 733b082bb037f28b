"""HTML report: one self-contained file for auditors (no fonts, images or scripts to fetch).

Summary first (verdict, counts, the snapshot and when it was collected), then the migration
grid for a matrix (or, for a wide one, per guest its ready targets and what blocks the rest),
then one findings table, then the rules behind the findings with their sources, waiver
notes, baseline and the manifest that makes the report reproducible.

Blockers are error-severity failures only, everywhere; warnings and notes are styled by
severity and never counted as blockers. Fixes and `quoted` words in messages are shown as
code. Rule ids link to their entry in docs/rules.md. A few lines of inline script make every
data table (findings; for a matrix too wide for a grid, one row per guest and one per target)
sort (click a heading), filter (a search box, which `#q=TEXT` in the address fills for the
findings, and a severity choice) and page (100 rows a page), without a server; the count says when
the table holds only part of the findings (the first 200 of each rule). With scripts off the page
is complete and prints as it is. `iter_html` yields the page in pieces, so a writer can stream it;
a 200 x 2,000 matrix is about 5 MB.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from ..core.vocabulary import BLOCKED, ERROR, ERROR_SEVERITY, INFO, NOTAPPLICABLE, PASS, READY, UNKNOWN, WARNING
from .common import (GRID_LIMIT, ROWS_PER_RULE, code_spans, finding_groups, grid, headline, manifest_value, per_guest,
                     per_target, subject_text, target_count, terminal_safe)
from .sarif import help_uri
from .plan_section import MIGRATION_COLUMNS, STAGE_COLUMNS, migration_rows, placement_lines, stage_rows

_CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --bad: #b3261e; --bad-bg: #fbe9e7;
        --warn: #8a5a00; --warn-bg: #fff4d6; --info: #1e5aa8; --info-bg: #e8f0fb; --ok: #1b6e3a;
        --ok-bg: #e6f4ea; --unk: #6a3d9a; --unk-bg: #f1eafa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1200px; padding: 24px 32px 48px; }
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
       border-radius: 3px; overflow-wrap: anywhere; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 3px; font-weight: 600;
       white-space: nowrap; }
.s-error { background: var(--bad-bg); color: var(--bad); }
.s-warning { background: var(--warn-bg); color: var(--warn); }
.s-info { background: var(--info-bg); color: var(--info); }
.s-rule-error { background: var(--unk-bg); color: var(--unk); }
.t-waived { background: #eee; color: #555; } .b-new { background: #fde7c8; color: #7a3e00; }
.b-unchanged { background: #eee; color: #555; }
tr.sev-error td:first-child { border-left: 4px solid var(--bad); }
tr.sev-warning td:first-child { border-left: 4px solid var(--warn); }
tr.sev-info td:first-child { border-left: 4px solid var(--info); }
tr.st-error td:first-child { border-left: 4px solid var(--unk); }
.cite { color: var(--muted); font-size: 12.5px; } code.id { white-space: nowrap; overflow-wrap: normal; }
.note { margin-top: 4px; font-size: 12.5px; color: var(--muted); }
.fix { font-size: 13px; }
.grid td, .grid th { text-align: center; padding: 4px 6px; font-size: 12.5px; }
.grid th.g { text-align: left; }
.c-ready { background: var(--ok-bg); color: var(--ok); } .c-blocked { background: var(--bad-bg); color: var(--bad); }
.c-unknown { background: var(--unk-bg); color: var(--unk); } .c-self { background: #f4f4f4; color: #999; }
.c-warn { color: var(--warn); font-size: 11px; }
.targets { font-size: 12.5px; }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 8px; border-radius: 3px; font-size: 12px; }
.manifest td:first-child { width: 220px; color: var(--muted); }
.controls { margin: 4px 0 8px; display: flex; gap: 8px; align-items: center; }
.controls input, .controls select { font: inherit; padding: 3px 6px; }
th[data-sort] { cursor: pointer; } th[aria-sort]::after { content: " \\2195"; color: var(--muted); }
.controls button { font: inherit; padding: 1px 8px; }
a.rule { color: inherit; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2, h3 { break-after: avoid; } tr { break-inside: avoid; } .controls { display: none; }
  .verdict, .c-ready, .c-blocked, .c-unknown, .tag, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""

# Makes every table marked `data-table` sort by a clicked heading (numbers by their value, the
# severity rank by its data-key), filter its rows by text (and severity, for findings) and page
# them. It only reads the tables: no data is in the script, and without it every row is shown.
_SCRIPT = """
(function () {
  var PAGE = 100;
  function key(r, i) {
    var c = r.cells[i], k = c.getAttribute("data-key");
    k = k === null ? c.textContent.trim().toLowerCase() : k;
    return /^-?[0-9]+(\\.[0-9]+)?$/.test(k) ? Number(k) : k;
  }
  function setup(table) {
    var body = table.tBodies[0], all = Array.prototype.slice.call(body.rows), matched = all, page = 0;
    var what = table.getAttribute("data-table"), partial = table.getAttribute("data-partial");
    var box = document.createElement("div"); box.className = "controls";
    box.innerHTML = '<input type="search" placeholder="filter ' + what + '" aria-label="filter ' + what + '">' +
      (what === "findings" ? '<select aria-label="severity"><option value="">every severity</option>' +
        '<option>error</option><option>warning</option><option>info</option>' +
        '<option value="rule-error">rule error</option></select>' : '') +
      '<button type="button" class="prev" aria-label="previous page">&lsaquo;</button>' +
      '<span class="page"></span><button type="button" class="next" aria-label="next page">&rsaquo;</button>' +
      '<span class="count muted"></span>';
    table.parentNode.insertBefore(box, table);
    var text = box.querySelector("input"), sev = box.querySelector("select"), count = box.querySelector(".count");
    var label = box.querySelector(".page"), prev = box.querySelector(".prev"), next = box.querySelector(".next");
    function pages() { return Math.max(1, Math.ceil(matched.length / PAGE)); }
    function show() {
      var first = page * PAGE, on = {};
      matched.slice(first, first + PAGE).forEach(function (r) { on[all.indexOf(r)] = true; });
      all.forEach(function (r, i) { r.hidden = !on[i]; });
      count.textContent = matched.length + " of " + all.length + " shown" + (partial ? "; " + partial : "");
      label.textContent = "page " + (page + 1) + " of " + pages();
      prev.disabled = page === 0; next.disabled = page + 1 >= pages();
    }
    function filter() {
      var q = text.value.toLowerCase(), s = sev ? sev.value : "";
      matched = all.filter(function (r) {
        return (!q || r.textContent.toLowerCase().indexOf(q) >= 0) && (!s || r.getAttribute("data-severity") === s);
      });
      page = 0; show();
    }
    text.addEventListener("input", filter); if (sev) sev.addEventListener("change", filter);
    prev.addEventListener("click", function () { if (page > 0) { page--; show(); } });
    next.addEventListener("click", function () { if (page + 1 < pages()) { page++; show(); } });
    var given = what === "findings" && location.hash.match(/[#&]q=([^&]*)/);  // report.html#q=TEXT: a filtered view
    if (given) text.value = decodeURIComponent(given[1]);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.setAttribute("data-sort", ""); th.setAttribute("aria-sort", "none"); th.title = "sort";
      th.addEventListener("click", function () {
        var up = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        all.sort(function (a, b) {
          var x = key(a, i), y = key(b, i);
          if (typeof x !== typeof y) { x = String(x); y = String(y); }
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        all.forEach(function (r) { body.appendChild(r); });
        filter();
      });
    });
    filter();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table[data-table]"), setup);
})();
"""

_SEV_RANK = {ERROR_SEVERITY: "1", WARNING: "2", INFO: "3"}
_SEVERITY_WORD = {ERROR_SEVERITY: ERROR_SEVERITY, WARNING: WARNING, INFO: "note"}  # a severity's tag: info is a note


def _e(text) -> str:
    """Text for HTML: markup escaped, and control characters (HTML parse errors; a C1 character's
    reference `&#x80;` even turns into another character) and bidirectional overrides shown as
    escapes (`\\x80`), as the terminal table shows them."""
    return escape(terminal_safe(text), quote=True)


def _rich(text) -> str:
    """A message or fix: escaped, with its `code` spans as <code>."""
    return "".join(f"<code>{_e(t)}</code>" if code else _e(t) for code, t in code_spans(text))


def _summary(report) -> Iterator[str]:
    s = report.summary
    by = s["failed_by_severity"]
    errors = "errors" if report.command == "audit" else "blocking errors"
    # (CSS class of the card, count, label): the classes are the stylesheet's, not severities
    cards = [("bad", by[ERROR_SEVERITY], errors), ("warn", by[WARNING], "warnings"), ("info", by[INFO], "notes"),
             ("unk", s[ERROR], "rule errors"), ("ok", s[PASS], "passed"),
             ("", s[NOTAPPLICABLE], "not applicable"), ("", s["waived"], "waived")]
    if report.cells is not None:  # a matrix keeps failures only: no pass counts to show
        c = s["cells"]
        cards = [("ok", c[READY], "migrations ready"), ("bad", c[BLOCKED], "migrations blocked"),
                 ("unk", c[UNKNOWN], UNKNOWN)] + [x for x in cards if x[2] not in ("passed", "not applicable")]
    if report.baseline is not None:
        b = report.baseline
        cards += [("warn", b["new"], "new since baseline"), ("", b["unchanged"], "unchanged"),
                  ("ok", len(b["resolved"]), "resolved")]
    yield '<div class="cards">'
    for cls, n, label in cards:
        label = _ONE.get(label, label) if n == 1 else label  # 1 warning, 2 warnings
        yield f'<div class="card {cls}"><b>{n:,}</b><span>{_e(label)}</span></div>'
    yield "</div>"


def _rule_link(rule_id: str) -> str:
    """A rule id as code, linked to its entry in docs/rules.md."""
    return f'<a class="rule" href="{_e(help_uri(rule_id))}"><code class="id">{_e(rule_id)}</code></a>'


_ONE = {"errors": "error", "blocking errors": "blocking error", "warnings": "warning", "notes": "note",
        "rule errors": "rule error", "migrations ready": "migration ready", "migrations blocked": "migration blocked"}


def _per_guest(report) -> Iterator[str]:
    yield "<h2>Migrations</h2>"
    yield (f'<p class="muted">{target_count(report):,} targets: too many to draw as a grid. Per '
           "guest, the targets it can move to now, how many are blocked, and the rules that block most "
           "(error-severity failures only); then the same per target.</p>")
    yield "<h3>Per guest</h3>"
    yield ('<table data-table="guests"><thead><tr><th>guest</th><th>on</th><th>ready</th><th>blocked</th>'
           "<th>unknown</th><th>blocked most by</th><th>ready targets</th></tr></thead><tbody>")
    for row in per_guest(report):
        targets = ", ".join(_e(t) for t in row["ready_targets"]) or '<span class="muted">none</span>'
        yield (f"<tr><td>{_e(row['guest'])}</td><td>{_e(row['source'])}</td>"
               f'<td class="c-ready">{row[READY]}</td><td class="c-blocked">{row[BLOCKED]}</td>'
               f'<td class="c-unknown">{row[UNKNOWN]}</td><td>{_e(row["why"])}</td>'
               f'<td class="targets">{targets}</td></tr>')
    yield "</tbody></table>"
    yield "<h3>Per target</h3>"
    yield ('<table data-table="targets"><thead><tr><th>target</th><th>ready</th><th>blocked</th><th>unknown</th>'
           "<th>blocked most by</th></tr></thead><tbody>")
    for row in per_target(report):
        yield (f"<tr><td>{_e(row['target'])}</td><td class=\"c-ready\">{row[READY]}</td>"
               f'<td class="c-blocked">{row[BLOCKED]}</td><td class="c-unknown">{row[UNKNOWN]}</td>'
               f"<td>{_e(row['why'])}</td></tr>")
    yield "</tbody></table>"


def _grid(report) -> Iterator[str]:
    guests, targets, cells = grid(report)
    if len(targets) > GRID_LIMIT:
        yield from _per_guest(report)
        return
    found = report.cell_findings
    source = {c.guest: c.source for c in cells.values()}
    yield "<h2>Migrations</h2>"
    yield ('<p class="legend"><span class="c-ready">ready</span><span class="c-blocked">blocked (the rules that '
           'block it)</span><span class="c-unknown">could not be evaluated</span><span class="c-self">current '
           'host</span><span class="c-warn">+N warnings or notes</span></p>')
    yield '<table class="grid"><thead><tr><th class="g">guest \\ target</th>'
    yield "".join(f"<th>{_e(t)}</th>" for t in targets) + "</tr></thead><tbody>"
    for g in guests:
        row = [f'<tr><th class="g">{_e(g)}</th>']
        for t in targets:
            cell = cells.get((g, t))
            if cell is None:
                row.append('<td class="c-self">&mdash;</td>' if source.get(g) == t else "<td></td>")
                continue
            f = found[(g, t)]
            shown = f.blocking if cell.verdict == BLOCKED else f.errors
            minor = f.warnings + f.notes
            title = "; ".join(x for x in (
                ("blocked by " + ", ".join(f.blocking)) if f.blocking else "",
                ("could not evaluate " + ", ".join(f.errors)) if f.errors else "",
                ("warnings and notes: " + ", ".join(minor)) if minor else "") if x) or "no findings"
            row.append(f'<td class="c-{cell.verdict}" title="{_e(title)}">{_e(cell.verdict)}'
                       + (f'<br><span class="muted">{_e(", ".join(shown))}</span>' if shown else "")
                       + (f'<br><span class="c-warn">+{len(minor)}</span>' if minor else "") + "</td>")
        yield "".join(row) + "</tr>"
    yield "</tbody></table>"


def _status_tag(r) -> str:
    if r.status == ERROR:
        return '<span class="tag s-rule-error">rule error</span>'
    return f'<span class="tag s-{_e(r.severity)}">{_e(_SEVERITY_WORD[r.severity])}</span>'


def _placement(report) -> Iterator[str]:
    """What `place` or `campaign` proposed, or what stopped it."""
    for line in placement_lines(report):
        yield f'<p class="muted">{_e(line)}</p>'


def _plan(report) -> Iterator[str]:
    yield from _placement(report)
    for title, columns, rows, verdict_at in (("Migrations", MIGRATION_COLUMNS, migration_rows(report), 6),
                                             ("Stages", STAGE_COLUMNS, stage_rows(report), 2)):
        yield f"<h2>{title}</h2>"
        yield "<table><thead><tr>" + "".join(f"<th>{_e(c)}</th>" for c in columns) + "</tr></thead><tbody>"
        for row in rows:
            yield "<tr>" + "".join(f'<td class="c-{_e(v)}">{_e(v)}</td>' if i == verdict_at else f"<td>{_e(v)}</td>"
                                   for i, v in enumerate(row)) + "</tr>"
        yield "</tbody></table>"


def _findings(report, groups) -> Iterator[str]:
    yield "<h2>Findings</h2>"
    if not groups:
        yield "<p>No findings: every rule passed or did not apply.</p>"
        return
    listed = sum(len(results) for _, rules in groups for _, results, _ in rules)
    total = sum(n for _, rules in groups for _, _, n in rules)
    partial = (f' data-partial="the table holds the first {ROWS_PER_RULE} findings of each rule: {listed:,} of '
               f'{total:,}; every one is in the JSON and CSV reports"') if total > listed else ""
    yield (f'<table id="findings" data-table="findings"{partial}><thead><tr><th>severity</th><th>rule</th>'
           "<th>subject</th><th>finding</th><th>fix</th></tr></thead><tbody>")
    omitted = []
    for severity, rules in groups:
        for rule_id, results, total in rules:
            for r in results:
                sev_key = "rule-error" if r.status == ERROR else r.severity
                notes = []
                if r.waiver:
                    w = r.waiver
                    notes.append(f'<span class="tag t-waived">waived</span> until {_e(w["expires"])} by '
                                 f'{_e(w["owner"])}: {_e(w["reason"])}'
                                 + (f" (ticket <b>{_e(w['ticket'])}</b>)" if w.get("ticket") else ""))
                if r.baseline:
                    notes.append(f'<span class="tag b-{_e(r.baseline)}">{_e(r.baseline)}</span>')
                where = f'<div class="muted">{_e(r.location[0])}:{r.location[1]}</div>' if r.location else ""
                yield (f'<tr class="sev-{_e(r.severity)} st-{_e(r.status)}" data-severity="{_e(sev_key)}">'
                       f'<td data-key="{_SEV_RANK[r.severity]}{0 if r.status == ERROR else 1}">{_status_tag(r)}</td>'
                       f'<td>{_rule_link(r.rule)}</td><td>{_e(subject_text(r))}{where}</td>'
                       f"<td>{_rich(r.message)}"
                       + "".join(f'<div class="note">{n}</div>' for n in notes)
                       + f'</td><td class="fix">{_rich(r.fix)}</td></tr>')
            if total > len(results):
                omitted.append((rule_id, total - len(results)))
    yield "</tbody></table>"
    for rule_id, n in omitted:
        yield (f'<p class="muted">and {n:,} more results of <code>{_e(rule_id)}</code>: every one is in the JSON, '
               "JSON Lines and CSV reports</p>")


def _rules(groups) -> Iterator[str]:
    if not groups:
        return
    yield "<h2>Rules behind the findings</h2>"
    yield "<table><thead><tr><th>rule</th><th>severity</th><th>what it checks</th><th>source</th></tr></thead><tbody>"
    for severity, rules in groups:
        for rule_id, results, _ in rules:
            first = results[0]
            yield (f'<tr><td>{_rule_link(rule_id)}</td><td>{_e(severity)}</td>'
                   f'<td>{_e(first.title)}</td><td class="cite">{_e(first.cite)}</td></tr>')
    yield "</tbody></table>"


_NOTE_TAG = {"expired": "s-error", "stale": "s-warning", "out-of-scope": "s-info", "expiring": "s-warning",
             "errors-only": "s-warning"}
_NOTE_WORD = {"expired": "expired", "stale": "stale", "out-of-scope": "not in scope of this run",
              "expiring": "expiring", "errors-only": "matches rule errors only"}


def _waivers(report) -> Iterator[str]:
    if not report.waiver_notes:
        return
    yield "<h2>Waivers</h2><ul>"
    for n in report.waiver_notes:
        ticket = f" (ticket <b>{_e(n['ticket'])}</b>)" if n.get("ticket") else ""
        yield (f'<li><span class="tag {_NOTE_TAG.get(n["status"], "")}">{_e(_NOTE_WORD.get(n["status"], n["status"]))}'
               f"</span> {_e(n['message'])}{ticket}</li>")
    yield "</ul>"


def _baseline(report) -> Iterator[str]:
    b = report.baseline
    if b is None:
        return
    yield "<h2>Baseline</h2>"
    yield (f'<p>Compared with <code>{_e(b["path"])}</code>: {b["new"]:,} new, {b["unchanged"]:,} unchanged, '
           f'{len(b["resolved"]):,} resolved.'
           + (f' {b["not_evaluated"]:,} of its findings were not evaluated by this run (another guest, target, mode '
              'or rule): not called resolved.' if b.get("not_evaluated") else "") + '</p>')
    if b["resolved"]:
        yield "<table><thead><tr><th>resolved</th><th>subject</th></tr></thead><tbody>"
        for r in b["resolved"]:
            subject = ", ".join(f"{k} {v}" for k, v in r.get("subject", {}).items())
            yield f"<tr><td><code>{_e(r['rule'])}</code></td><td>{_e(subject)}</td></tr>"
        yield "</tbody></table>"


def iter_html(report) -> Iterator[str]:
    verdict = report.verdict
    yield "<!DOCTYPE html>\n"
    yield '<html lang="en"><head><meta charset="utf-8">\n'
    yield '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    yield f"<title>migcheck {_e(report.command)}: {_e(verdict)}</title>\n<style>{_CSS}</style></head><body>\n"
    yield f"<h1>migcheck {_e(report.command)} report</h1>\n"
    yield f'<p><span class="verdict v-{_e(verdict)}">{_e(verdict.upper())}</span>{_e(headline(report))}</p>\n'
    collected = f", collected {_e(report.collected)}" if report.collected else ", collection time not recorded"
    yield (f'<p class="muted">Snapshot <code>{_e(report.snapshot_path)}</code>, site {_e(report.site or "-")}'
           f'{collected}, sha256 <code>{_e(report.snapshot_sha256[:16])}</code>; report generated '
           f'{_e(report.manifest.get("generated", ""))} by migcheck {_e(report.manifest.get("tool_version", ""))}; '
           f"runs fail on {_e(report.fail_on)} and above; only error-severity failures block a migration.</p>\n")
    groups = finding_groups(report)  # the findings and the rules behind them: grouped once
    for part in (_summary(report), _grid(report) if report.cells is not None else iter(()),
                 _plan(report) if report.plan is not None else _placement(report), _findings(report, groups),
                 _rules(groups), _waivers(report), _baseline(report)):
        for piece in part:
            yield piece + "\n"
    if report.manifest:
        yield '<h2>Manifest</h2>\n<table class="manifest"><tbody>\n'
        for k, v in report.manifest.items():
            yield f"<tr><td>{_e(k)}</td><td><code>{_e(manifest_value(v))}</code></td></tr>\n"
        yield "</tbody></table>\n"
    yield f"<script>{_SCRIPT}</script>\n</body></html>\n"


def render_html(report) -> str:
    return "".join(iter_html(report))
