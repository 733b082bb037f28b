"""Benchmark: `matrix` with the whole built-in pack on generated estates.

For each size it prints pairs per second of the engine (with and without sharing outcomes
between targets and guests that agree on every field a rule reads) and of a hand-written
Python implementation of the same checks (bench/handwritten.py), all in one process, and
the ratios. The cells of all three are compared first: a figure is only printed for
implementations that agree. Usage:

    python -m bench.bench_matrix [--sizes 20x500,50x2000,200x10000] [--no-unshared]
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import handwritten
from bench.generate import generate
from migcheck._perf import collector_paused
from migcheck.evaluate import Engine
from migcheck.packs import load_rules
from migcheck.snapshot import snapshot_from_data


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20x500,50x2000,200x10000")
    parser.add_argument("--no-unshared", action="store_true", help="skip the engine without sharing at the "
                        "largest size (slow)")
    args = parser.parse_args(argv)
    ruleset = load_rules()
    rules = [r for r in ruleset.rules if r.subject in ("guest", "migration")]
    print(f"rules: {len(ruleset.rules)} in the built-in pack, {len(rules)} evaluated per migration")
    print(f"{'estate':>14} {'pairs':>10} {'engine':>10} {'unshared':>10} {'by hand':>10} "
          f"{'engine/hand':>12} {'unshared/hand':>14}")
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    for hosts, guests in sizes:
        snapshot = snapshot_from_data(generate(hosts, guests, seed=11))
        engine = Engine(ruleset, snapshot)
        (cells, _), t_engine = _timed(lambda: engine.matrix("offline", results=False))
        with collector_paused():  # the engine pauses the cycle collector; the baseline gets the same
            hand, t_hand = _timed(lambda: handwritten.matrix(snapshot, ruleset.tables["offline_paths"],
                                                                  ruleset.tables["memory_overhead"]))
        ours = [(c.guest, c.target, c.verdict, c.failing) for c in cells]
        assert ours == hand, "engine and hand-written matrix disagree"
        pairs = len(cells)
        t_unshared = None
        if not (args.no_unshared and (hosts, guests) == sizes[-1]):
            (plain, _), t_unshared = _timed(lambda: Engine(ruleset, snapshot).matrix("offline", results=False,
                                                                                     share=False))
            assert [(c.guest, c.target, c.verdict, c.failing) for c in plain] == ours
        unshared = f"{pairs / t_unshared:10,.0f}" if t_unshared else f"{'-':>10}"
        ratio_unshared = f"{t_unshared / t_hand:13.2f}x" if t_unshared else f"{'-':>14}"
        print(f"{hosts:>5}x{guests:<8} {pairs:>10,} {pairs / t_engine:10,.0f} {unshared} {pairs / t_hand:10,.0f} "
              f"{t_engine / t_hand:11.2f}x {ratio_unshared}")
    print("(pairs per second; a ratio below 1 means the engine is faster than the hand-written code)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
