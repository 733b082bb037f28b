"""Every verdict and every exit code, decided from counts in one place.

Two kinds of verdict. Whether migrations can go ahead: `ready`, `blocked` or `unknown`, for a
`check`, a matrix cell and the whole matrix, a target of `where`, a migration, a stage and a
whole plan, and `place`. Whether findings pass `--fail-on`: `pass`, `fail` or `error`, for
`audit` and the other reports. The exit code says the same to a shell: 0 ok, 1 findings at or
above `--fail-on` (a blocked migration), 2 bad input, 3 a rule could not be evaluated.

Each decision takes booleans or verdicts, never a run's results, so a batch run (a list of
results: `problems`, `check_verdict`) and a streamed one (a tally of counts) share one function.

The rank of migration verdicts: blocked > unknown > ready. A blocking failure wins over a rule
that could not be evaluated (the migration cannot go ahead, whatever the error hid), and
unknown is never ready.
"""

from __future__ import annotations

from collections.abc import Iterable

from .vocabulary import (AUDIT_ERROR, AUDIT_FAIL, AUDIT_PASS, BLOCKED, ERROR, ERROR_SEVERITY, FAIL_ON, READY,
                         SEVERITY_RANK, UNKNOWN)

# -- exit codes ------------------------------------------------------------------------
EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_EVAL_ERROR = 0, 1, 2, 3

# -- ranks -----------------------------------------------------------------------------
#: Migration verdicts from best to worst: the order `where` ranks and counts its targets in.
VERDICT_RANK = {READY: 0, UNKNOWN: 1, BLOCKED: 2}
#: The severity whose counted failure blocks a migration (and the default `--fail-on`).
BLOCKING = ERROR_SEVERITY


# -- migration verdicts ----------------------------------------------------------------
def cell_verdict(blocked: bool, unknown: bool) -> str:
    """One migration's verdict (a `check`, a matrix cell, a migration of a plan): a blocking
    failure wins over an error."""
    return BLOCKED if blocked else UNKNOWN if unknown else READY


def worst(verdicts: Iterable[str]) -> str:
    """The verdict of several (a matrix of its cells, a stage of its migrations and plan rules,
    a plan of its stages): the worst of them; ready when there are none."""
    return max(verdicts, key=VERDICT_RANK.__getitem__, default=READY)


def counted_verdict(counts: dict[str, int]) -> str:
    """`worst` of verdicts given as counts (verdict -> how many), as a streamed tally keeps them."""
    return worst(verdict for verdict, n in counts.items() if n)


def place_verdict(checked: str, unplaced: bool) -> str:
    """`place`: blocked when a guest fits nowhere, else the verdict of the proposal's check."""
    return worst((checked, BLOCKED if unplaced else READY))


# -- findings verdicts -----------------------------------------------------------------
def audit_verdict(failing: bool, errors: bool) -> str:
    """`audit` and the other reports: fail for a counted failure at or above `--fail-on`, else error
    when a rule could not be evaluated, else pass."""
    return AUDIT_FAIL if failing else AUDIT_ERROR if errors else AUDIT_PASS


# -- exit codes ------------------------------------------------------------------------
def exit_code(failing: bool, errors: bool, unplaced: bool = False) -> int:
    """1 for a counted failure at or above `--fail-on`, else 3 when a rule could not be evaluated,
    else 1 when `place` left a guest with nowhere to go, else 0."""
    if failing:
        return EXIT_FINDINGS
    if errors:
        return EXIT_EVAL_ERROR
    return EXIT_FINDINGS if unplaced else EXIT_OK


def where_exit(verdicts: Iterable[str]) -> int:
    """`where`: 0 when some target is ready, else 3 when some could not be decided, else 1 (every
    target blocked, or none to ask)."""
    verdicts = set(verdicts)
    if READY in verdicts:
        return EXIT_OK
    return EXIT_EVAL_ERROR if UNKNOWN in verdicts else EXIT_FINDINGS


# -- from results (a batch run) --------------------------------------------------------
def fails_at(severity: str, fail_on: str) -> bool:
    """Whether a counted failure of this severity fails a run with `--fail-on fail_on`."""
    return SEVERITY_RANK[severity] >= FAIL_ON[fail_on]


def blocks(result) -> bool:
    """A failure of an error-severity rule, not waived: the migration cannot go ahead."""
    return result.counts and result.severity == BLOCKING


def leaves_unknown(result) -> bool:
    """A rule that could not be evaluated: the answer is not known (no waiver covers it: `WAIVABLE`)."""
    return result.status == ERROR


def failing(results: list, fail_on: str) -> list:
    """The counted failures at or above `fail_on`."""
    threshold = FAIL_ON[fail_on]
    return [r for r in results if r.counts and SEVERITY_RANK[r.severity] >= threshold]


def problems(results: list, fail_on: str) -> tuple[bool, bool]:
    """(failing, errors) of a list of results: what `audit_verdict` and `exit_code` take."""
    return bool(failing(results, fail_on)), any(leaves_unknown(r) for r in results)


def check_verdict(results: list) -> str:
    """ready, blocked (an error-severity failure), or unknown (a rule could not be evaluated)."""
    return cell_verdict(any(blocks(r) for r in results), any(leaves_unknown(r) for r in results))


def report_verdict(command: str, results: list, fail_on: str = BLOCKING, cells: list | None = None) -> str:
    """The verdict of a command's report: check and matrix (cells) say whether migrations are
    ready; audit and the others whether the findings pass `--fail-on`."""
    if command == "check":
        return check_verdict(results)
    if command == "matrix":
        return worst(c.verdict for c in cells or ())
    return audit_verdict(*problems(results, fail_on))
