"""Benchmark: the matrix against honest hand-written Python, in one process, on three estates.

Two policies, each at 20x200, 100x2000 and 200x10000 (VSPs x guests):

- the performance anchor's 4-check policy (bench/anchor: a site pack, every built-in rule
  disabled by bench/anchor/migcheck.yaml) on the anchor's own generated inventory, against
  the anchor's plain Python: `check_pair` per pair (the baseline) and per-VSP facts
  precomputed (`fast_matrix`, the floor);
- the whole built-in pack (offline) on bench/generate.py's estates, against
  bench/handwritten.py (per pair).

Every implementation builds the same thing, a dict "guest|target" -> sorted failing checks
for every pair; the engine's time covers evaluating the matrix and building that dict (not
loading the snapshot, which the baselines do not do either). Building the dict alone is
most of it, so the engine is also timed producing its cells without the dict (`cells`):
that is the throughput compared with OPA's. The dicts are compared
before any figure is printed. OPA's figure is the published chunked throughput on this
kind of machine (regopy, 2.8k pairs/s; ../shared/reference/anchor-policy/README.md).

    python -m bench.bench_matrix [--sizes 20x200,100x2000,200x10000] [--repeat 3]

Issue 19 (`guest.unknown` in the evaluator, MACs normalised, waivers indexed), engine s, before
(609a3a2) and after (609a3a2 with this change's engine/eval and engine/estate applied, so both
run the same rule pack), alternated on a 2-core machine shared by other work (load 7-12):

    anchor 100x2000   3.16 -> 3.14 s    pack 100x2000   6.24 -> 5.32 s    pack 200x10000   20.6 -> 21.2 s

within the noise of the machine (the hand-written baseline moved 63 -> 82 s between the two
200x10000 runs). To reproduce: `git worktree add --detach /tmp/before19 609a3a2`, a folder
`/tmp/before19_pp` holding a link `migcheck -> /tmp/before19/engine`, then in /tmp/before19
`PYTHONPATH=/tmp/before19_pp:/tmp/before19 python -m bench.bench_matrix --sizes 20x200,100x2000`;
the same for the tree after.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from operator import itemgetter
from pathlib import Path

from bench import handwritten
from bench.anchor import plain
from bench.anchor.convert import NAMES, to_snapshot
from bench.anchor.gen import generate as anchor_inventory
from bench.generate import generate
from migcheck.core.perf import collector_paused
from migcheck.packs.config import load_config
from migcheck.eval.engine import Engine
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import snapshot_from_data

ANCHOR = Path(__file__).resolve().parent / "anchor"
OPA_PAIRS_PER_S = 2800


def anchor_rules():
    config = load_config(str(ANCHOR / "migcheck.yaml"))
    ruleset = load_rules(config.rules, config=config)
    assert sorted(r.id for r in ruleset.rules) == sorted(NAMES), "the anchor config must leave only its pack"
    return ruleset


def engine_matrix(ruleset, snapshot) -> dict:
    """What the engine gives for every pair: "guest|target" -> failing rule ids."""
    out = {}
    failing = itemgetter(1)
    for guest, names, cells in Engine(ruleset, snapshot).matrix_of("offline").rows():
        out.update(zip(map((guest["name"] + "|").__add__, names), map(failing, cells)))
    return out


def engine_cells(ruleset, snapshot) -> int:
    """The engine producing every cell (verdict and failing rules per pair, as `Matrix.rows()` gives
    them to a report), without the dict: what OPA's figure is compared with."""
    n = 0
    for _, _, cells in Engine(ruleset, snapshot).matrix_of("offline").rows():
        n += len(cells)
    return n


def best(fn, repeat: int):
    """The value and the fastest of `repeat` runs (collector paused for every contender alike)."""
    times = []
    value = None
    for _ in range(repeat):
        gc.collect()
        with collector_paused():
            start = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - start)
        value_kept = value
        value = None
    return value_kept, min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20x200,100x2000,200x10000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the fastest counts")
    parser.add_argument("--policy", choices=["anchor", "pack", "both"], default="both")
    args = parser.parse_args(argv)
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    print(f"{'policy':<7} {'estate':>10} {'pairs':>10} {'engine s':>9} {'cells s':>8} {'per-pair s':>10} "
          f"{'floor s':>8} {'eng/pair':>9} {'eng/floor':>9} {'cells/s':>10} {'x OPA':>6}")
    if args.policy in ("anchor", "both"):
        ruleset = anchor_rules()
        for hosts, guests in sizes:
            inv = anchor_inventory(hosts, guests, 42)
            snapshot = snapshot_from_data(to_snapshot(inv))
            ours, t_engine = best(lambda: engine_matrix(ruleset, snapshot), args.repeat)
            _, t_cells = best(lambda: engine_cells(ruleset, snapshot), args.repeat)
            hand, t_hand = best(lambda: plain.naive_matrix(inv), args.repeat)
            floor, t_floor = best(lambda: plain.fast_matrix(inv), args.repeat)
            named = {k: sorted(NAMES[r] for r in v) for k, v in ours.items()}
            assert named == hand == floor, "engine and hand-written anchor matrices disagree"
            _line("anchor", hosts, guests, len(ours), t_engine, t_cells, t_hand, t_floor)
    if args.policy in ("pack", "both"):
        ruleset = load_rules()
        for hosts, guests in sizes:
            snapshot = snapshot_from_data(generate(hosts, guests, seed=11))
            ours, t_engine = best(lambda: engine_matrix(ruleset, snapshot), args.repeat)
            _, t_cells = best(lambda: engine_cells(ruleset, snapshot), args.repeat)
            hand, t_hand = best(lambda: handwritten.matrix(snapshot, ruleset.tables["offline_paths"],
                                                           ruleset.tables["memory_overhead"]), args.repeat)
            assert ours == hand, "engine and hand-written matrices of the built-in pack disagree"
            _line("pack", hosts, guests, len(ours), t_engine, t_cells, t_hand, None)
    print("engine s: the engine building the same dict as the hand-written code (eng/pair, eng/floor: time\n"
          "ratios, below 1 the engine is faster); cells s: the engine producing every cell, no dict (cells/s;\n"
          "x OPA: cells/s over OPA's published 2.8k pairs/s)")
    return 0


def _line(policy, hosts, guests, pairs, t_engine, t_cells, t_hand, t_floor):
    floor = f"{t_floor:8.2f}" if t_floor else f"{'-':>8}"
    ratio_floor = f"{t_engine / t_floor:8.2f}x" if t_floor else f"{'-':>9}"
    print(f"{policy:<7} {hosts:>4}x{guests:<5} {pairs:>10,} {t_engine:9.2f} {t_cells:8.2f} {t_hand:10.2f} {floor} "
          f"{t_engine / t_hand:8.2f}x {ratio_floor} {pairs / t_cells:10,.0f} {pairs / t_cells / OPA_PAIRS_PER_S:5.0f}x",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
