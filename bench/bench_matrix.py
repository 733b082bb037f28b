"""Benchmark: the matrix against honest hand-written Python and other policy engines, in one process.

Two policies, each at 20x200, 100x2000 and 200x10000 (VSPs x guests):

- the performance anchor's 4-check policy (bench/anchor/rules, without the built-in pack) on
  the anchor's own generated inventory, against the anchor's plain Python: `check_pair` per
  pair (the baseline) and per-VSP facts precomputed (`fast_matrix`, the floor);
- the whole built-in pack (offline) on bench/generate.py's estates, against bench/handwritten.py
  (per pair) and bench/floor.py (per-guest and per-VSP facts hoisted: the pack's floor).

Every implementation builds the same thing, a dict "guest|target" -> sorted failing checks
for every pair; the engine's time covers evaluating the matrix and building that dict (not
loading the snapshot, which the baselines do not do either). The engine is also timed producing
its cells without the dict (`cells s`, for reference only: no baseline does that little). The
dicts are compared before any figure is printed. Contenders run in turn (`bench.timing`: CPU
seconds of this process, the fastest of `--repeat` interleaved rounds).

Then OPA (regopy) and CEL (cel-python) run the anchor policy at the smallest size of the run,
against the engine's per-pair dict on the same pairs, measured here (`bench.baselines`; skipped
with a reason when a package is not installed, or with `--no-peers`).

Issue 19 (`guest.unknown` in the evaluator, MACs normalised, waivers indexed), engine s, before
(609a3a2) and after (609a3a2 with this change's engine/eval and engine/estate applied, so both
run the same rule pack), alternated on a 2-core machine shared by other work (load 7-12):

    anchor 100x2000   3.16 -> 3.14 s    pack 100x2000   6.24 -> 5.32 s    pack 200x10000   20.6 -> 21.2 s

within the noise of the machine (the hand-written baseline moved 63 -> 82 s between the two
200x10000 runs). To reproduce: `git worktree add --detach /tmp/before19 609a3a2`, a folder
`/tmp/before19_pp` holding a link `migcheck -> /tmp/before19/engine`, then in /tmp/before19
`PYTHONPATH=/tmp/before19_pp:/tmp/before19 python -m bench.bench_matrix --sizes 20x200,100x2000`;
the same for the tree after.

    python -m bench.bench_matrix [--sizes 20x200,100x2000,200x10000] [--repeat 3] [--peer-repeat 1]
"""

from __future__ import annotations

import argparse
import sys

from bench import baselines, floor, handwritten
from bench.anchor import plain
from bench.anchor.convert import NAMES, to_snapshot
from bench.anchor.gen import generate as anchor_inventory
from bench.generate import generate
from bench.timing import interleaved
from migcheck.eval.engine import Engine
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import snapshot_from_data

engine_matrix = baselines.engine_dict  # "guest|target" -> failing rule ids, as the engine's cells give them


def engine_cells(ruleset, snapshot) -> int:
    """The engine producing every cell (verdict and failing rules per pair, as `Matrix.rows()` gives
    them to a report), without the dict."""
    n = 0
    for _, _, cells in Engine(ruleset, snapshot).matrix_of("offline").rows():
        n += len(cells)
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20x200,100x2000,200x10000")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the fastest run of each counts")
    parser.add_argument("--policy", choices=["anchor", "pack", "both"], default="both")
    parser.add_argument("--peer-repeat", type=int, default=1, help="rounds of OPA and CEL (CEL: ~20 s CPU at 20x200)")
    parser.add_argument("--no-peers", action="store_true", help="leave out OPA and CEL")
    args = parser.parse_args(argv)
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    print(f"{'policy':<7} {'estate':>10} {'pairs':>10} {'engine s':>9} {'cells s':>8} {'per-pair s':>10} "
          f"{'floor s':>8} {'eng/pair':>9} {'eng/floor':>9}")
    if args.policy in ("anchor", "both"):
        ruleset = baselines.anchor_rules()
        for hosts, guests in sizes:
            inv = anchor_inventory(hosts, guests, 42)
            snapshot = snapshot_from_data(to_snapshot(inv))
            values, best = interleaved({"engine": lambda: engine_matrix(ruleset, snapshot),
                                        "cells": lambda: engine_cells(ruleset, snapshot),
                                        "pair": lambda: plain.naive_matrix(inv),
                                        "floor": lambda: plain.fast_matrix(inv)}, args.repeat)
            named = {k: sorted(NAMES[r] for r in v) for k, v in values["engine"].items()}
            assert named == values["pair"] == values["floor"], "engine and hand-written anchor matrices disagree"
            _line("anchor", hosts, guests, len(named), best)
    if args.policy in ("pack", "both"):
        ruleset = load_rules()
        for hosts, guests in sizes:
            snapshot = snapshot_from_data(generate(hosts, guests, seed=11))
            values, best = interleaved({"engine": lambda: engine_matrix(ruleset, snapshot),
                                        "cells": lambda: engine_cells(ruleset, snapshot),
                                        "pair": lambda: handwritten.matrix(snapshot, ruleset.tables),
                                        "floor": lambda: floor.matrix(snapshot, ruleset.tables)}, args.repeat)
            assert values["engine"] == values["pair"] == values["floor"], \
                "engine and hand-written matrices of the built-in pack disagree"
            _line("pack", hosts, guests, len(values["engine"]), best)
    print("engine s: the engine building the same dict as the hand-written code; eng/pair, eng/floor: time ratios\n"
          "(below 1 the engine is faster); per-pair s: per-pair Python; floor s: per-guest and per-VSP facts\n"
          "hoisted (the anchor's fast_matrix, the pack's bench/floor.py); cells s: the engine's cells alone")
    if not args.no_peers:
        hosts, guests = min(sizes, key=lambda s: s[0] * s[1])
        pairs, engine, peers = baselines.measure(hosts, guests, args.peer_repeat)
        print(f"other engines, anchor policy {hosts}x{guests} ({pairs:,} pairs), the engine's per-pair dict "
              f"against each, the same dict checked (fastest of {args.peer_repeat}):")
        print("\n".join(baselines.describe(pairs, engine, peers)))
    return 0


def _line(policy, hosts, guests, pairs, best):
    print(f"{policy:<7} {hosts:>4}x{guests:<5} {pairs:>10,} {best['engine']:9.3f} {best['cells']:8.3f} "
          f"{best['pair']:10.3f} {best['floor']:8.3f} {best['engine'] / best['pair']:8.2f}x "
          f"{best['engine'] / best['floor']:8.2f}x", flush=True)


if __name__ == "__main__":
    sys.exit(main())
