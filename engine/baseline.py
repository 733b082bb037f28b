"""Baselines: compare this run's findings with an earlier JSON report.

Findings are matched by their fingerprint (rule id, subject and binding; never a line
number, so editing the snapshot does not make old findings look new). Each failed or
errored result becomes `new` or `unchanged`; findings of the baseline that are gone are
listed as resolved. With `--fail-on-new`, only new findings fail the run.
"""

from __future__ import annotations

from .document import LoadError, load_document
from .vocabulary import PROBLEMS


def load_baseline(path: str) -> dict[str, dict]:
    doc = load_document(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) \
            or not isinstance(data.get("tool"), dict) or data["tool"].get("name") != "migcheck":
        raise LoadError([doc.problem((), "not a migcheck JSON report",
                                     "write one with `--format json:FILE` and pass that file", code="bad-baseline")])
    found = {}
    for i, r in enumerate(data["results"]):
        if not isinstance(r, dict) or not isinstance(r.get("fingerprint"), str):
            raise LoadError([doc.problem(("results", i), "result without a `fingerprint`",
                                         "the baseline must come from this version of migcheck", code="bad-baseline")])
        if r.get("status") in PROBLEMS:
            found[r["fingerprint"]] = r
    return found


def mark_results(results: list, path: str, previous: dict[str, dict]) -> dict:
    """Mark each failed or errored result `new` or `unchanged` against `previous` (from
    `load_baseline(path)`); return the report's `baseline` section (counts and resolved findings)."""
    current = set()
    for r in results:
        if r.status in PROBLEMS:
            current.add(r.fingerprint)
            r.baseline = "unchanged" if r.fingerprint in previous else "new"
    resolved = [{"rule": r["rule"], "subject": r.get("subject", {}), "item": r.get("item", ""),
                 "fingerprint": fp} for fp, r in sorted(previous.items()) if fp not in current]
    return {"path": path, "new": sum(1 for r in results if r.baseline == "new"),
            "unchanged": sum(1 for r in results if r.baseline == "unchanged"), "resolved": resolved}
