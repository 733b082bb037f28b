"""Benchmark: one compiled rule evaluated against many subjects, against the same predicate
written by hand in Python, in one process.

Two rules of different shape: MEMORY-TARGET (the overhead row of the target's release, then
exact arithmetic and one comparison) and DIO-NO-MATCH
(a `for` over distinct labels with two counting selections). Each is run on every
(guest, target) pair of a generated estate, without any sharing of outcomes. Prints the
time per evaluation and the ratio compiled/hand-written. Usage: python -m bench.bench_rule_eval
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml
from functools import lru_cache

from bench.generate import generate
from migcheck.lang.builtins import parse_version
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import snapshot_from_data


@lru_cache(maxsize=None)
def _release(text: str) -> tuple:
    """A release as comparable parts (HP's B.06.10 style included), parsed as the rules parse it."""
    return parse_version(text).key


# rules/data/memory_overhead.yaml as a reviewer would hold it: (min, below, granule, ppm, per cpu, per guest,
# per-guest ppm)
_OVERHEAD = [(_release(r["target_min"]), _release(r["target_below"]) if r.get("target_below") else None,
              r["granule_mb"], round(r["per_cpu_fraction"] * 1_000_000), r["per_cpu_mb"], r["per_guest_mb"],
              round(r.get("per_guest_fraction", 0) * 1_000_000))
             for r in yaml.safe_load((Path(__file__).resolve().parent.parent / "rules" / "data" /
                                      "memory_overhead.yaml").read_text())["rows"]]


def memory_by_hand(env):
    """MEMORY-TARGET by hand: the overhead row of the target's release, memory in granules, the
    overhead in exact integer arithmetic (rules/memory.rules)."""
    guest, target = env["guest"], env["target"]
    release = _release(target["version"])
    row = next((r for r in _OVERHEAD if r[0] <= release and (r[1] is None or release < r[1])), None)
    cpus = guest.get("vcpus") or 1 if guest["kind"] == "vm" else 1
    memory = guest["memory_mb"]
    if row is None:
        overhead = 0
    else:
        granule = row[2]
        memory = -(-memory // granule) * granule
        overhead = -(-(cpus * (memory * row[3] + row[4] * 1_000_000) + memory * row[6] + row[5] * 1_000_000)
                     // 1_000_000)
    return ["pass" if memory + overhead <= target["memory_mb"]["free"] else "fail"]


def dio_no_match_by_hand(env):
    guest, target = env["guest"], env["target"]
    out = []
    labels = list(dict.fromkeys(f["label"] for f in guest["dio"] if f["label"] is not None))
    for label in labels:
        need = sum(1 for f in guest["dio"] if f["label"] == label)
        have = sum(1 for f in target["dio_functions"] if f["pool"] and f["label"] == label)
        out.append("pass" if have >= need else "fail")
    return out or ["notapplicable"]


def _time(fn, envs, repeat=3):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        for env in envs:
            fn(env)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def main(argv=None) -> int:
    ruleset = load_rules()
    snapshot = snapshot_from_data(generate(40, 1000, seed=5))
    envs = [{"guest": g, "source": snapshot.host_by_name[g["host"]], "target": t, "mode": "offline",
             "snapshot": None} for g in snapshot.guests for t in snapshot.hosts]
    print(f"{len(envs):,} evaluations per run")
    for rule_id, by_hand in (("MEMORY-TARGET", memory_by_hand), ("DIO-NO-MATCH", dio_no_match_by_hand)):
        rule = ruleset.by_id(rule_id)
        for env in envs:  # same answers before any timing
            assert [o.status for o in rule.run(dict(env))] == by_hand(env), rule_id
        compiled = _time(rule.run, envs)
        hand = _time(by_hand, envs)
        print(f"{rule_id:15} compiled {compiled / len(envs) * 1e6:6.2f} us  by hand {hand / len(envs) * 1e6:6.2f} us"
              f"  ratio {compiled / hand:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
