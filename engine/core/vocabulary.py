"""The words every stage shares: result statuses, verdicts, severities and rule subjects.

A leaf module: the checker, the compiler, the engine, the findings and the reports name
these constants instead of repeating the strings.
"""

from __future__ import annotations

# -- the status of one result ----------------------------------------------------------
PASS, FAIL, NOTAPPLICABLE, ERROR = "pass", "fail", "notapplicable", "error"
STATUSES = (FAIL, ERROR, PASS, NOTAPPLICABLE)  # in report order
PROBLEMS = frozenset((FAIL, ERROR))  # statuses a waiver can cover and a baseline tracks

# -- severities and --fail-on ----------------------------------------------------------
SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}
FAIL_ON = {"info": 1, "warning": 2, "error": 3, "never": 99}

# -- verdicts --------------------------------------------------------------------------
READY, BLOCKED, UNKNOWN = "ready", "blocked", "unknown"  # check, matrix and its cells
AUDIT_PASS, AUDIT_FAIL, AUDIT_ERROR = "pass", "fail", "error"  # audit

# -- what a rule is about (`on ...`) and the names it sees -----------------------------
SUBJECTS = ("host", "guest", "migration", "snapshot", "stage")  # stage: a stage of a plan (`plan`, `place`)
SUBJECT_KEYS = ("host", "guest", "source", "target", "mode")  # of a result's `subject`
PLAN_KEYS = ("stage", "step")  # results of `plan` also name the stage and the step (absent elsewhere)
MODES = ("offline", "online")

#: Kinds of referential problems found while indexing a snapshot (`problems[].kind`).
INTEGRITY_KINDS = (
    "duplicate-host", "duplicate-guest", "duplicate-hwpath", "unknown-host",
    "dio-missing", "dio-duplicate", "dio-assigned-elsewhere", "dio-not-listed", "network-dio-unlisted",
)
