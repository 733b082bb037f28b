"""The words every stage shares: result statuses, verdicts, severities, modes and rule subjects.

A leaf module: the checker, the compiler, the engine, the findings and the reports name
these constants instead of repeating the strings.
"""

from __future__ import annotations

# -- the status of one result ----------------------------------------------------------
PASS, FAIL, NOTAPPLICABLE, ERROR = "pass", "fail", "notapplicable", "error"
STATUSES = (FAIL, ERROR, PASS, NOTAPPLICABLE)  # in report order
PROBLEMS = frozenset((FAIL, ERROR))  # statuses a baseline tracks
#: what a waiver covers: a failure. A rule that could not be evaluated (`error`) stays one: a verdict resting on
#: it is `unknown`, never `ready`, waiver or not (capture the part, or mend the rule)
WAIVABLE = frozenset((FAIL,))

# -- severities and --fail-on ----------------------------------------------------------
#: A rule's severity (`severity: ...`). `ERROR_SEVERITY` is spelled as the status `ERROR` but is
#: another word: a rule whose failure blocks, not a rule that could not be evaluated.
ERROR_SEVERITY, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR_SEVERITY, WARNING, INFO)  # in report order: worst first
SEVERITY_RANK = {INFO: 1, WARNING: 2, ERROR_SEVERITY: 3}
NEVER = "never"  # `--fail-on never`: no failure counts
FAIL_ON = {INFO: 1, WARNING: 2, ERROR_SEVERITY: 3, NEVER: 99}

# -- verdicts --------------------------------------------------------------------------
READY, BLOCKED, UNKNOWN = "ready", "blocked", "unknown"  # check, matrix and its cells
UNCAPTURED = "unknown"  # the guest field naming the parts its capture did not give (`guest.unknown`)
VERDICTS = (READY, BLOCKED, UNKNOWN)  # in report order (a matrix's `summary.cells`, a plan's counts)
AUDIT_PASS, AUDIT_FAIL, AUDIT_ERROR = "pass", "fail", "error"  # audit

# -- what a rule is about (`on ...`) and the names it sees -----------------------------
#: The one scope table: for each subject a rule can be `on`, the names it sees and the role
#: of each: `host`, `guest` (objects of the snapshot), `source` (the guest's current VSP: a
#: host), `target` (the VSP a migration goes to), `snapshot`, `mode`, `stop` (constants of a
#: run), `stage` (a stage of a plan). The checker types the names from it (lang/types.py),
#: the engine binds them (eval/engine.py `env_for`), and the analyses (reads, joins, hoist)
#: and the matrix and its texts read roles from it, not names.
SCOPES: dict[str, dict[str, str]] = {
    "host": {"snapshot": "snapshot", "host": "host"},
    "guest": {"snapshot": "snapshot", "guest": "guest", "host": "source", "mode": "mode"},
    "migration": {"snapshot": "snapshot", "guest": "guest", "source": "source", "target": "target",
                  "mode": "mode", "stop": "stop"},
    "snapshot": {"snapshot": "snapshot"},
    "stage": {"snapshot": "snapshot", "stage": "stage"},  # a stage of a plan (`plan`, `place`)
}
SUBJECTS = tuple(SCOPES)
MAY_BE_ABSENT = {"guest": frozenset({"mode"})}  # a guest rule's `mode` is absent in `audit`
TABLES = "data"  # `data.NAME`, a data table, in every subject
#: Names no rule may bind (`let`, `for`, a selection's or comprehension's variable), whatever its
#: subject: a value hoisted once per run, and the matrix's classes, take them for the run's own.
SCOPE_NAMES = frozenset(name for scope in SCOPES.values() for name in scope)
RESERVED = SCOPE_NAMES | {TABLES}
OBJECT_ROLES = frozenset({"host", "guest", "source", "target"})  # snapshot objects a run is about
CONSTANT_ROLES = frozenset({"snapshot", "mode", "stop"})  # the same for every subject of a run


def names_with(roles) -> frozenset:
    """The names that have one of `roles` in some subject's scope."""
    return frozenset(name for scope in SCOPES.values() for name, role in scope.items() if role in roles)


OBJECT_NAMES = names_with(OBJECT_ROLES)  # host, guest, source, target
RUN_CONSTANTS = names_with(CONSTANT_ROLES) | {TABLES}  # snapshot, mode, stop, data
#: A migration's subjects whose `{X.name}` a text may leave open (in this order: texts fill them by index).
NAME_HOLES = tuple(name for name, role in SCOPES["migration"].items() if role in ("guest", "source", "target"))
SUBJECT_KEYS = ("host", "guest", "source", "target", "mode")  # of a result's `subject`
REPORT_FORMAT = 1  # the JSON report's `format` key (schemas/report.schema.json describes it); a baseline's too
PLAN_KEYS = ("stage", "step")  # results of `plan` also name the stage and the step (absent elsewhere)
OFFLINE, ONLINE = "offline", "online"  # a migration's mode
MODES = (OFFLINE, ONLINE)

#: Kinds of referential problems found while indexing a snapshot (`problems[].kind`).
INTEGRITY_KINDS = (
    "duplicate-host", "duplicate-guest", "duplicate-hwpath", "unknown-host",
    "dio-missing", "dio-duplicate", "dio-assigned-elsewhere", "dio-not-listed", "network-dio-unlisted",
    "lookalike-name",
)
