"""`gitlab` report: GitLab Code Quality JSON (`artifacts:reports:codequality`), for merge requests.

A JSON array, one issue per finding, with the fields GitLab reads of the Code Climate spec:
`description` (message and fix), `check_name` (rule id), `fingerprint` (the finding's: stable
across runs, unique in a report, which GitLab compares between branches), `severity`, and
`location.path` (relative to the source root) with `location.lines.begin`. Severities: a blocking
error `blocker`, a rule that could not be evaluated `critical`, a warning `major`, a note `info`.
Control characters of snapshot text are shown as escapes (`\\x1b`), as in every format.
"""

from __future__ import annotations

import io
import json

from ..core.vocabulary import ERROR_SEVERITY, FAIL, INFO, PROBLEMS, WARNING
from .common import subject_text, terminal_safe
from .github import _path

# GitLab's severity words
BLOCKER, CRITICAL, MAJOR, MINOR, SEVERITY_INFO = "blocker", "critical", "major", "minor", "info"
_SEVERITY = {ERROR_SEVERITY: BLOCKER, WARNING: MAJOR, INFO: SEVERITY_INFO}


def issue(r, snapshot: str, root: str | None) -> dict:
    text = r.message if r.status == FAIL else f"rule could not be evaluated: {r.message}"
    if r.fix and r.status == FAIL:
        text += f" Fix: {r.fix}"
    if r.waiver:
        text += f" (waived until {r.waiver.get('expires')}: {r.waiver.get('reason')})"
    where = r.location or (snapshot, 1, 1)
    return {"description": terminal_safe(f"{subject_text(r)}: {text}"), "check_name": r.rule,
            "fingerprint": r.fingerprint, "severity": _SEVERITY[r.severity] if r.status == FAIL else CRITICAL,
            "location": {"path": terminal_safe(_path(where[0] or snapshot, root)),
                         "lines": {"begin": max(int(where[1] or 1), 1)}}}


class GitlabWriter:
    """`gitlab` of a matrix, an issue per finding as it comes (streamed)."""

    def __init__(self, report, out):
        self.report, self.out = report, out
        self.any = False
        self.dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        out.write("[")

    def feed(self, cells, results, found=None) -> None:
        report, dumps = self.report, self.dumps
        text = ",\n".join(dumps(issue(r, report.snapshot_path, report.source_root))
                          for r in results if r.status in PROBLEMS)
        if text:
            self.out.write((",\n" if self.any else "\n") + text)
            self.any = True

    def finish(self, report) -> None:
        self.out.write("\n]\n" if self.any else "]\n")


def render_gitlab(report) -> str:
    out = io.StringIO()
    writer = GitlabWriter(report, out)
    writer.feed((), report.results)
    writer.finish(report)
    return out.getvalue()
