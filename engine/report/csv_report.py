"""CSV reports for spreadsheets and data tools: one row per result (`csv`), or one row per
migration of a matrix or check (`csv-cells`: guest, source, target, mode, verdict and the
rules that block it).

Every cell is neutralised against formula injection (OWASP's CSV-injection advice): text
starting with `= + - @`, a tab or a carriage return gets a leading `'`, so a guest named
`=HYPERLINK(...)` stays text in a spreadsheet. A fingerprint is written `fp:` and its 16 hex
digits: bare, LibreOffice read some as numbers (`1234e567...` in scientific notation, all digits).
"""

from __future__ import annotations

import csv
import io

from ..files.outputs import copy_spool, release, spool_writer
from .common import CellFindings, csv_fingerprint, csv_safe

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
    """A row per result. What results share (a rule's id, severity, status and cite; a subject;
    a location) is made safe once while it repeats: results come by guest, then pair."""
    heads: dict = {}
    last_subject = last_location = None
    subject = location = []
    for r in results:
        key = (r.rule, r.severity, r.status, r.cite)
        head = heads.get(key)
        if head is None:
            head = heads[key] = (_row(key[:3]), csv_safe(r.cite))
        s = r.subject
        if s is not last_subject:
            subject = _row([s.get("guest", ""), s.get("host", ""), s.get("source", ""), s.get("target", ""),
                            s.get("mode", "")])
            last_subject = s
        loc = r.location
        if loc is not last_location:
            loc_row = loc or ("", "", "")
            location = _row([loc_row[0], loc_row[1]])
            last_location = loc
        w = r.waiver
        tail = _NO_WAIVER if w is None else _row(
            [w.get("owner", ""), w.get("expires", ""), w.get("reason", ""), w.get("ticket", "")])
        yield [*head[0], "yes" if w else "no", *subject, csv_safe(r.item), csv_safe(r.message), csv_safe(r.fix),
               head[1], *location, csv_fingerprint(r.fingerprint), *tail, csv_safe(r.baseline or "")] + (
            _row([s.get("stage", ""), s.get("step", "")]) if plan else [])


_NO_WAIVER = ("", "", "", "")


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
    """`csv` of a matrix, a row per result as it comes (streamed: a chunk's rows in one write)."""

    columns = COLUMNS

    def __init__(self, report, out):
        self.out = out
        self.buffer = io.StringIO()
        self.writer = _writer(self.buffer)
        self.writer.writerow(self.columns)

    def feed(self, cells, results, found) -> None:
        self.writer.writerows(self.rows(cells, results, found))
        self.out.write(self.buffer.getvalue())
        self.buffer.seek(0)
        self.buffer.truncate()

    @staticmethod
    def rows(cells, results, found):
        return _result_rows(results)

    def finish(self, report) -> None:
        self.out.write(self.buffer.getvalue())  # the header of a matrix without guests

    # -- a share of the guests written by another process (report.stream.Helper) -------------
    def part(self, spools: tuple) -> "CsvWriter":
        """A writer of the rows of a later share of the guests, to the binary spool `spools[0]`."""
        other = type(self).__new__(type(self))
        other.out = spool_writer(spools[0])
        other.buffer = io.StringIO()
        other.writer = _writer(other.buffer)  # no header: the first process wrote it
        return other

    def part_state(self) -> dict:
        release(self.out)
        return {}

    def absorb(self, state: dict, spools: tuple) -> None:
        self.out.write(self.buffer.getvalue())
        self.buffer.seek(0)
        self.buffer.truncate()
        copy_spool(self.out, spools[0])


class CsvCellsWriter(CsvWriter):
    """`csv-cells` of a matrix, a row per cell as it comes (streamed)."""

    columns = CELL_COLUMNS

    @staticmethod
    def rows(cells, results, found):
        return _cell_rows(cells, found)


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
