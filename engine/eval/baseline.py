"""Baselines: compare this run's findings with an earlier JSON report.

Findings are matched by their fingerprint (rule id, subject and binding; never a line
number, so editing the snapshot does not make old findings look new) and their status (an
error that became a failure is a new finding). Each failed or errored result becomes `new`
or `unchanged`; findings of the baseline that are gone are
listed as resolved. With `--fail-on-new`, only new findings fail the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..core.perf import collector_paused
from ..core.records import replace
from ..core.vocabulary import PROBLEMS, REPORT_FORMAT, SEVERITY_RANK, STATUSES
from ..files.document import Limits, LoadError, Problem, load_document

# An earlier report of a whole estate (every guest against every host, with messages and
# fixes) is far larger than the snapshot it came from: the baseline has its own limit.
BASELINE_MAX_BYTES = 1024 * 1024 * 1024
BASELINE_LIMITS = Limits(max_bytes=BASELINE_MAX_BYTES, bytes_option="baseline size limit")

_STRINGS = ("rule", "fingerprint", "status")


def _shown(value) -> str:
    """A `format` value as the message shows it, as JSON writes it."""
    return f"`{json.dumps(value, ensure_ascii=False, default=str)[:40]}`"


def load_baseline(path: str, limits: Limits = BASELINE_LIMITS) -> dict[str, dict]:
    """The failed and errored results of an earlier JSON report, by fingerprint; `LoadError` located."""
    try:
        doc = load_document(path, limits)
    except LoadError as exc:
        raise LoadError([_as_jsonl(p) for p in exc.problems]) from None
    data = doc.data
    if not doc.is_json:  # (YAML reads it too, but a report is JSON: what else is in it was not written by migcheck)
        raise LoadError([doc.problem((), "not a migcheck JSON report (the file is not JSON)",
                                     "write one with `--format json:FILE` and pass that file", code="bad-baseline")])
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) \
            or not isinstance(data.get("tool"), dict) or data["tool"].get("name") != "migcheck":
        raise LoadError([doc.problem((), "not a migcheck JSON report",
                                     "write one with `--format json:FILE` and pass that file", code="bad-baseline")])
    kind = data.get("format")
    if type(kind) is not int or kind != REPORT_FORMAT:  # (fingerprints and keys are this format's: `true` is not 1)
        raise LoadError([doc.problem(("format",) if "format" in data else (),
                                     (f"a report of format {_shown(kind)}" if "format" in data else
                                      "a report without a `format`") + f"; this migcheck reads format {REPORT_FORMAT}",
                                     "write the baseline again with this version: `--format json:FILE`",
                                     code="bad-baseline")])
    found = {}
    problems: list[Problem] = []
    for i, r in enumerate(data["results"]):
        problem = _result_problem(doc, i, r)
        if problem is not None:
            problems.append(problem)
        elif r["status"] in PROBLEMS:
            found[r["fingerprint"]] = r
    if problems:
        raise LoadError(problems)
    return found


_FROM_MIGCHECK = "the baseline must be a report written by migcheck"


def _result_problem(doc, i: int, r) -> Problem | None:
    """Why result #`i` of a baseline is not one a report writes, located, or None."""
    at = ("results", i)
    if not isinstance(r, dict):
        return doc.problem(at, f"result #{i + 1} is not an object", _FROM_MIGCHECK, code="bad-baseline")
    lacking = [k for k in _STRINGS if not isinstance(r.get(k), str)]
    if "fingerprint" in lacking:
        said = "has no `fingerprint`" if "fingerprint" not in r else "has a `fingerprint` that is not a string"
        return doc.problem(at, f"result #{i + 1} {said}", "the baseline must come from this version of migcheck",
                           code="bad-baseline")
    if lacking:
        return doc.problem(at, f"result #{i + 1} lacks " + ", ".join(f"`{k}`" for k in lacking) + " (a string each)",
                           _FROM_MIGCHECK, code="bad-baseline")
    if r["status"] not in STATUSES:  # (`FAIL`: a hand-edited result was dropped without a word)
        return doc.problem(at + ("status",), f"result #{i + 1} has the status `{r['status'][:40]}`, not one of "
                           + ", ".join(f"`{s}`" for s in STATUSES), _FROM_MIGCHECK, code="bad-baseline")
    if "subject" in r and not isinstance(r["subject"], dict):
        return doc.problem(at + ("subject",), f"result #{i + 1}: `subject` must be an object", code="bad-baseline")
    odd = next((k for k, v in r.get("subject", {}).items() if type(v) not in (str, int)), None)
    if odd is not None:  # (a report's subject holds names, a mode, a stage and step: never null, true, a list)
        return doc.problem(at + ("subject", odd), f"result #{i + 1}: `subject.{str(odd)[:40]}` must be a name or a "
                           "number, not " + _shown(r["subject"][odd]), _FROM_MIGCHECK, code="bad-baseline")
    wrong = next((k for k, kinds in (("item", (str,)), ("severity", (str,)), ("waiver", (dict, type(None))))
                  if k in r and type(r[k]) not in kinds), None)
    if wrong is not None:  # (read when the finding is compared and listed: `item` a list broke the report)
        return doc.problem(at + (wrong,), f"result #{i + 1}: `{wrong}` must be "
                           + ("an object or null" if wrong == "waiver" else "a string") + f", not {_shown(r[wrong])}",
                           _FROM_MIGCHECK, code="bad-baseline")
    return None


def _as_jsonl(problem: Problem) -> Problem:
    """A problem reading a baseline, with what to do when the file is a JSON Lines report (one JSON object a line:
    not one document), which the baseline is not."""
    if problem.help or not problem.file:
        return problem
    try:
        with open(problem.file, "rb") as f:
            first = f.readline(1 << 16).strip()
    except OSError:
        return problem
    if first.startswith(b"{") and first.endswith(b"}"):
        return replace(problem, help="this looks like a JSON Lines report (`--format jsonl`): a baseline is the JSON "
                                     "report, `--format json:FILE`")
    return problem


def mark_results(results: list, path: str, previous: dict[str, dict]) -> dict:
    """Mark each failed or errored result `new` or `unchanged` against `previous` (from
    `load_baseline(path)`); return the report's `baseline` section (counts and resolved findings).

    One pass over the results, one fingerprint and one dictionary lookup per finding: linear
    in the size of the report (the resolved ones are then sorted for a stable output).
    """
    with collector_paused():  # many small objects: the cycle collector would rescan them, superlinear
        current = set()
        counts = {"new": 0, "unchanged": 0}
        for r in results:
            if r.status in PROBLEMS:
                if unchanged(previous, r):
                    current.add(r.fingerprint)
                    r.baseline = "unchanged"
                else:
                    r.baseline = "new"
                counts[r.baseline] += 1
        resolved = gone(previous, current)
    return {"path": path, "new": counts["new"], "unchanged": counts["unchanged"], "resolved": resolved}


def unchanged(previous: dict, r) -> bool:
    """Whether the finding `r` was in the baseline as it is: its fingerprint, and its status (a rule that could not
    be evaluated then and fails now is a new failure, and the earlier error is resolved), and no worse: a severity
    raised since (a site configuration's) or a waiver that has lapsed makes it new, as the run without the
    baseline would fail on it."""
    old = previous.get(r.fingerprint)
    if old is None or old["status"] != r.status:
        return False
    if SEVERITY_RANK.get(old.get("severity"), 0) < SEVERITY_RANK.get(r.severity, 0):
        return False
    return not (old.get("waiver") is not None and r.waiver is None)


def gone(previous: dict, current) -> list[dict]:
    """The earlier findings (fingerprint -> result) whose fingerprints are not in `current`, in order."""
    return [{"rule": r["rule"], "subject": r.get("subject", {}), "item": r.get("item", ""), "fingerprint": fp}
            for fp, r in sorted(previous.items()) if fp not in current]


def evaluated_by(scope, mode: str | None) -> "Callable[[dict], bool]":
    """Whether a baseline finding (its `rule` and `subject`) is one this run evaluated (`scope`: a
    `waivers.RunScope`, `mode`: the run's): only those that are gone are resolved; a finding of another
    guest, target, mode or rule was not looked at, and is not said to be resolved."""
    def inside(finding: dict) -> bool:
        s = finding.get("subject") or {}
        return (finding.get("rule") in scope.rules
                and "stage" not in s and "step" not in s  # a plan's finding: its fingerprint never meets this run's
                and all(s.get(key) is None or (type(s[key]) is str and s[key] in names)
                        for key, names in (("guest", scope.guests), ("target", scope.targets),
                                           ("host", scope.hosts), ("source", scope.hosts)))
                and (mode is None or s.get("mode") in (None, mode)))
    return inside


def planned(migrations: list[dict], stages: int, rules: set) -> "Callable[[dict], bool]":
    """`evaluated_by` for a plan: a plan's finding (its fingerprint holds its stage and step: one of another command
    never meets a plan's) of one of this plan's migrations that was checked (guest, target and mode), or of one of
    its stages."""
    pairs = {(m.get("guest"), m.get("target"), m.get("mode")) for m in migrations if m.get("follows_blocked") is None}

    def inside(finding: dict) -> bool:
        s = finding.get("subject") or {}
        if finding.get("rule") not in rules or "stage" not in s:
            return False
        if "guest" not in s:  # a plan rule's finding of a stage
            return type(s["stage"]) is int and 1 <= s["stage"] <= stages
        return (s.get("guest"), s.get("target"), s.get("mode")) in pairs
    return inside


def scoped(marks: dict, inside) -> dict:
    """The baseline section with only the resolved findings `inside` keeps; the others counted
    (`not_evaluated`) when there are any."""
    kept = [f for f in marks["resolved"] if inside(f)]
    left = len(marks["resolved"]) - len(kept)
    return {**marks, "resolved": kept} | ({"not_evaluated": left} if left else {})
