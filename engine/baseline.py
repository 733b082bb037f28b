"""Baselines: compare this run's findings with an earlier JSON report.

Findings are matched by their fingerprint (rule id, subject and binding; never a line
number, so editing the snapshot does not make old findings look new). Each failed or
errored result becomes `new` or `unchanged`; findings of the baseline that are gone are
listed as resolved. With `--fail-on-new`, only new findings fail the run.
"""

from __future__ import annotations

from ._perf import collector_paused
from .document import LoadError, load_document


def load_baseline(path: str) -> dict[str, dict]:
    doc = load_document(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) \
            or not isinstance(data.get("tool"), dict) or data["tool"].get("name") != "migcheck":
        raise LoadError([doc.problem((), "not a migcheck JSON report",
                                     "write one with `--format json:FILE` and pass that file")])
    found = {}
    for i, r in enumerate(data["results"]):
        if not isinstance(r, dict) or not isinstance(r.get("fingerprint"), str):
            raise LoadError([doc.problem(("results", i), "result without a `fingerprint`",
                                         "the baseline must come from this version of migcheck")])
        if r.get("status") in ("fail", "error"):
            found[r["fingerprint"]] = r
    return found


def apply_baseline(report, path: str, previous: dict[str, dict]) -> None:
    """Mark `report`'s findings against `previous` (from `load_baseline(path)`).

    One pass over the report, one fingerprint and one dictionary lookup per finding: linear
    in the size of the report (the resolved ones are then sorted for a stable output).
    """
    with collector_paused():  # many small objects: the cycle collector would rescan them, superlinear
        _mark(report, path, previous)


def _mark(report, path: str, previous: dict[str, dict]) -> None:
    current = set()
    counts = {"new": 0, "unchanged": 0}
    for r in report.results:
        if r.status in ("fail", "error"):
            fingerprint = r.fingerprint
            current.add(fingerprint)
            r.baseline = "unchanged" if fingerprint in previous else "new"
            counts[r.baseline] += 1
    resolved = [{"rule": r["rule"], "subject": r.get("subject", {}), "item": r.get("item", ""),
                 "fingerprint": fp} for fp, r in sorted(previous.items()) if fp not in current]
    report.baseline = {"path": path, "new": counts["new"], "unchanged": counts["unchanged"], "resolved": resolved}
