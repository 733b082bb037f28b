"""The result model: one `Result` per rule, subject and `for` binding; verdicts; exit codes.

Results sort by subject, then rule id, then binding, so every report is deterministic.
A waived result keeps its status and carries its waiver; it no longer counts toward the
verdict or the exit code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}
FAIL_ON = {"info": 1, "warning": 2, "error": 3, "never": 99}
STATUSES = ("fail", "error", "pass", "notapplicable")
SUBJECT_KEYS = ("host", "guest", "source", "target", "mode")
PLAN_KEYS = ("stage", "step")  # results of `plan` also name the stage and the step (absent elsewhere)


@dataclass(slots=True)
class Result:
    rule: str
    severity: str
    status: str
    subject: dict
    message: str
    fix: str = ""
    cite: str = ""
    title: str = ""
    item: str = ""
    location: tuple | None = None  # (file, line, col) of the subject in the snapshot
    waiver: dict | None = None
    baseline: str | None = None  # new, unchanged (set when compared with a baseline)
    tags: tuple = field(default_factory=tuple)

    def sort_key(self) -> tuple:
        return (tuple(self.subject.get(k) or 0 for k in PLAN_KEYS),
                tuple(self.subject.get(k) or "" for k in ("guest", "host", "source", "target", "mode")),
                self.rule, self.item)

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs: rule id, subject and binding; never a line number."""
        key = "\0".join([self.rule, *(f"{k}={self.subject.get(k, '')}" for k in SUBJECT_KEYS), self.item,
                         *(f"{k}={self.subject[k]}" for k in PLAN_KEYS if k in self.subject)])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def counts(self) -> bool:
        """Whether the result counts toward the verdict (a failure not waived)."""
        return self.status == "fail" and self.waiver is None

    def to_json(self) -> dict:
        out = {"rule": self.rule, "severity": self.severity, "status": self.status,
               "subject": {k: self.subject[k] for k in SUBJECT_KEYS + PLAN_KEYS if self.subject.get(k) is not None},
               "message": self.message, "fix": self.fix, "cite": self.cite, "waiver": self.waiver}
        if self.item:
            out["item"] = self.item
        if self.location:
            out["location"] = {"file": self.location[0], "line": self.location[1], "col": self.location[2]}
        out["fingerprint"] = self.fingerprint
        if self.baseline:
            out["baseline"] = self.baseline
        return out


def sort_results(results: list[Result]) -> list[Result]:
    return sorted(results, key=Result.sort_key)


def check_verdict(results: list[Result]) -> str:
    """ready, blocked (an error-severity failure), or unknown (a rule could not be evaluated)."""
    if any(r.counts and r.severity == "error" for r in results):
        return "blocked"
    if any(r.status == "error" and r.waiver is None for r in results):
        return "unknown"
    return "ready"


def audit_verdict(results: list[Result], fail_on: str = "error") -> str:
    if failing(results, fail_on):
        return "fail"
    if any(r.status == "error" and r.waiver is None for r in results):
        return "error"
    return "pass"


def failing(results: list[Result], fail_on: str) -> list[Result]:
    threshold = FAIL_ON[fail_on]
    return [r for r in results if r.counts and SEVERITY_RANK[r.severity] >= threshold]


def exit_code(results: list[Result], fail_on: str) -> int:
    """1 for failures at or above `fail_on`, else 3 for evaluation errors, else 0."""
    if failing(results, fail_on):
        return 1
    if any(r.status == "error" and r.waiver is None for r in results):
        return 3
    return 0


def summarize(results: list[Result]) -> dict:
    summary = {status: 0 for status in STATUSES}
    by_severity = {s: 0 for s in SEVERITY_RANK}
    waived = 0
    for r in results:
        summary[r.status] += 1
        if r.counts:
            by_severity[r.severity] += 1
        if r.waiver is not None:
            waived += 1
    summary["waived"] = waived
    summary["failed_by_severity"] = by_severity
    summary["total"] = len(results)
    return summary
