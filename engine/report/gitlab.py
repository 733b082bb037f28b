"""`gitlab` report: GitLab Code Quality JSON (`artifacts:reports:codequality`), for merge requests.

A JSON array of the fields GitLab reads of the Code Climate spec: `description` (the subject,
message and fix), `check_name` (rule id), `fingerprint` (stable across runs and unique in a report:
GitLab compares issues between branches by it), `severity`, and `location.path` (relative to the
source root) with `location.lines.begin`. Severities: a blocking error `blocker`, a rule that could
not be evaluated `critical`, a warning `major`, a note `info`; a waived finding `info`, its
description saying until when and why (it blocks nothing and fails no run).

The issues are the SARIF report's results (`sarif.SarifWriter`): one per finding up to 5,000,
errors first, past that folded per rule and guest, then rule and target, then rule, each folded
issue saying what it stands for. One per finding, a 200 x 2,000 matrix made 293 MB of Code Quality,
past GitLab's default artifact limit (100 MB) and more than a merge request widget can show; every
finding stays in the JSON, JSON Lines and CSV reports. Control characters of snapshot text are
shown as escapes (`\\x1b`), as in every format.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from urllib.parse import unquote

from ..core.vocabulary import ERROR
from .common import subject_text, terminal_safe
from .github import outside_root
from .sarif import LEVEL_ERROR, LEVEL_NOTE, LEVEL_WARNING, SarifWriter

# GitLab's severity words
BLOCKER, CRITICAL, MAJOR, MINOR, SEVERITY_INFO = "blocker", "critical", "major", "minor", "info"
_SEVERITY = {LEVEL_ERROR: BLOCKER, LEVEL_WARNING: MAJOR, LEVEL_NOTE: SEVERITY_INFO}


def _path(location: dict | None, snapshot: str) -> tuple[str, int]:
    """A SARIF location as GitLab's path (relative to the source root when it is under it) and line."""
    if not location:
        return snapshot, 1
    physical = location["physicalLocation"]
    uri = physical["artifactLocation"]["uri"]
    path = unquote(uri) if physical["artifactLocation"].get("uriBaseId") else unquote(uri.removeprefix("file://"))
    return path, max(int(physical.get("region", {}).get("startLine", 1)), 1)


def issue(result: dict, snapshot: str) -> dict:
    """The Code Quality issue of a SARIF result (one finding, or a folded one)."""
    props = result["properties"]
    text = result["message"]["text"]
    if "folded" not in props and props.get("subject"):
        text = f"{subject_text(SimpleNamespace(subject=props['subject'], item=props.get('item', '')))}: {text}"
    path, line = _path((result.get("locations") or [None])[0], snapshot)
    waived = [s for s in result.get("suppressions", ()) if s.get("status") == "accepted"]
    if waived:  # a waived finding blocks nothing: a note saying so, not a blocker
        text += f" (waived: {waived[0].get('justification', '')})"
    return {"description": terminal_safe(text), "check_name": result["ruleId"],
            "fingerprint": result["partialFingerprints"]["migcheckSubject/v1"],
            "severity": SEVERITY_INFO if waived else CRITICAL if props.get("status") == ERROR
            else _SEVERITY[result["level"]],
            "location": {"path": terminal_safe(path), "lines": {"begin": line}}}


class GitlabWriter:
    """`gitlab` of a matrix as it streams: the SARIF writer's bounded state, the issues at the end."""

    def __init__(self, report, out):
        self.out = out
        self.sarif = SarifWriter(report)

    def feed(self, cells, results, found=None) -> None:
        self.sarif.feed(cells, results, found)

    def finish(self, report) -> None:
        results, _ = self.sarif.results(report)
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        text = ",\n".join(dumps(issue(r, report.snapshot_path)) for r in results)
        self.out.write(f"[\n{text}\n]\n" if text else "[]\n")
        outside_root(report, "gitlab")


def render_gitlab(report) -> str:
    out = io.StringIO()
    writer = GitlabWriter(report, out)
    writer.feed((), report.results)
    writer.finish(report)
    return out.getvalue()
