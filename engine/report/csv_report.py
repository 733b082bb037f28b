"""CSV reports for spreadsheets and data tools: one row per result (`csv`), or one row per
migration of a matrix or check (`csv-cells`: guest, source, target, mode, verdict and the
rules that block it).

Every cell is neutralised against formula injection (OWASP's CSV-injection advice): text
starting with `= + - @`, a tab or a carriage return gets a leading `'`, so a guest named
`=HYPERLINK(...)` stays text in a spreadsheet.
"""

from __future__ import annotations

import csv
import io

from .common import CellFindings, csv_safe

COLUMNS = ["rule", "severity", "status", "waived", "guest", "host", "source", "target", "mode", "item",
           "message", "fix", "cite", "file", "line", "fingerprint", "waiver_owner", "waiver_expires",
           "waiver_reason", "waiver_ticket", "baseline"]
CELL_COLUMNS = ["guest", "source", "target", "mode", "verdict", "blocking_rules", "warnings", "notes", "rule_errors",
                "waived"]


def _writer(out) -> csv.writer:
    # RFC 4180 line ends: a field holding a carriage return or a line feed is then quoted
    return csv.writer(out, lineterminator="\r\n")


def _row(values) -> list[str]:
    return [csv_safe(v) for v in values]


def _result_rows(results, plan: bool = False):
    for r in results:
        s = r.subject
        w = r.waiver or {}
        loc = r.location or ("", "", "")
        yield _row([r.rule, r.severity, r.status, "yes" if r.waiver else "no", s.get("guest", ""),
                    s.get("host", ""), s.get("source", ""), s.get("target", ""), s.get("mode", ""), r.item,
                    r.message, r.fix, r.cite, loc[0], loc[1], r.fingerprint, w.get("owner", ""),
                    w.get("expires", ""), w.get("reason", ""), w.get("ticket", ""), r.baseline or ""]
                   + ([s.get("stage", ""), s.get("step", "")] if plan else []))


def _cell_rows(cells, found):
    for c in cells:
        f = found[(c.guest, c.target)]
        yield _row([c.guest, c.source, c.target, c.mode, c.verdict, " ".join(f.blocking),
                    " ".join(f.warnings), " ".join(f.notes), " ".join(f.errors), " ".join(f.waived)])


def render_csv(report) -> str:
    out = io.StringIO()
    writer = _writer(out)
    plan = report.plan is not None  # plan and place add the stage and step of each result
    writer.writerow(COLUMNS + (["stage", "step"] if plan else []))
    writer.writerows(_result_rows(report.results, plan))
    return out.getvalue()


class CsvWriter:
    """`csv` of a matrix, a row per result as it comes (streamed)."""

    def __init__(self, report, out):
        self.writer = _writer(out)
        self.writer.writerow(COLUMNS)

    def feed(self, cells, results, found) -> None:
        self.writer.writerows(_result_rows(results))

    def finish(self) -> None:
        pass


class CsvCellsWriter:
    """`csv-cells` of a matrix, a row per cell as it comes (streamed)."""

    def __init__(self, report, out):
        self.writer = _writer(out)
        self.writer.writerow(CELL_COLUMNS)

    def feed(self, cells, results, found) -> None:
        self.writer.writerows(_cell_rows(cells, found))

    def finish(self) -> None:
        pass


def render_csv_cells(report) -> str:
    """A row per migration: a matrix's cells, a plan's migrations, or the one migration of `check` (`audit` has
    none)."""
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow(CELL_COLUMNS)
    if report.cells is not None:
        writer.writerows(_cell_rows(report.cells, report.cell_findings))
    elif report.plan is not None:  # plan and place: a row per migration of the plan, in order
        by_step: dict[int, CellFindings] = {}
        for r in report.results:
            if "step" in r.subject:
                by_step.setdefault(r.subject["step"], CellFindings()).add(r)
        for m in report.plan["migrations"]:
            f = by_step.get(m["step"], CellFindings()).finish()
            writer.writerow(_row([m["guest"], m["source"], m["target"], m["mode"], m["verdict"], " ".join(f.blocking),
                                  " ".join(f.warnings), " ".join(f.notes), " ".join(f.errors), " ".join(f.waived)]))
    elif report.request is not None:
        q = report.request
        f = CellFindings()
        for r in report.results:
            f.add(r)
        f.finish()
        writer.writerow(_row([q["guest"], q["source"], q["target"], q["mode"], report.verdict, " ".join(f.blocking),
                              " ".join(f.warnings), " ".join(f.notes), " ".join(f.errors), " ".join(f.waived)]))
    return out.getvalue()
