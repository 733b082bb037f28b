"""CSV report: one row per result, for spreadsheets and data tools."""

from __future__ import annotations

import csv
import io

COLUMNS = ["rule", "severity", "status", "waived", "guest", "host", "source", "target", "mode", "item",
           "message", "fix", "cite", "file", "line", "fingerprint", "waiver_owner", "waiver_expires"]


def render_csv(report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    plan = report.plan is not None  # plan and place add the stage and step of each result
    writer.writerow(COLUMNS + (["stage", "step"] if plan else []))
    for r in report.results:
        s = r.subject
        w = r.waiver or {}
        loc = r.location or ("", "", "")
        writer.writerow([r.rule, r.severity, r.status, "yes" if r.waiver else "no", s.get("guest", ""),
                         s.get("host", ""), s.get("source", ""), s.get("target", ""), s.get("mode", ""), r.item,
                         r.message, r.fix, r.cite, loc[0], loc[1], r.fingerprint, w.get("owner", ""),
                         w.get("expires", "")] + ([s.get("stage", ""), s.get("step", "")] if plan else []))
    return out.getvalue()
