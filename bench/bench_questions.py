"""Benchmark: questions of one guest on a large estate cost little more than loading it.

On a generated estate (default 200 VSPs x 10,000 guests, the whole built-in pack) it times,
in one process: loading the snapshot (read, parse, validate, index), then `check` of one
pair, `where` of one guest (every other VSP, ranked) and the full matrix's cells, and
prints each next to the load time. CPU time is printed too: on a shared machine wall time
includes waiting for a core.

    python -m bench.bench_questions [--hosts 200] [--guests 10000] [--file estate.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from bench.generate import generate
from migcheck.waves.questions import where_to
from migcheck.eval.engine import Engine
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import load_snapshot


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--guests", type=int, default=10000)
    parser.add_argument("--file", help="a snapshot to use instead of a generated one")
    args = parser.parse_args(argv)
    path = args.file
    if path is None:
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(generate(args.hosts, args.guests, seed=7), out, indent=1)
    try:
        ruleset, t_rules, c_rules = timed(load_rules)
        snapshot, t_load, c_load = timed(lambda: load_snapshot(path))
        guest = snapshot.guests[len(snapshot.guests) // 2]
        target = next(h for h in snapshot.hosts if h["name"] != guest["host"])
        results, t_check, c_check = timed(lambda: Engine(ruleset, snapshot).check(guest, target, "offline"))
        ranked, t_where, c_where = timed(lambda: where_to(Engine(ruleset, snapshot), guest, "offline"))
        cells, t_matrix, c_matrix = timed(
            lambda: sum(len(c) for _, _, c in Engine(ruleset, snapshot).matrix_of("offline").rows()))
    finally:
        if args.file is None:
            os.unlink(path)
    assert len(ranked) == len(snapshot.hosts) - 1 and results
    print(f"estate: {len(snapshot.hosts)} VSPs x {len(snapshot.guests)} guests ({cells:,} pairs)")
    print(f"{'step':<34} {'wall s':>8} {'cpu s':>8}")
    for name, wall, cpu in (("load the rules", t_rules, c_rules), ("load the snapshot", t_load, c_load),
                            (f"check {guest['name']} -> {target['name']}", t_check, c_check),
                            (f"where {guest['name']} ({len(ranked)} VSPs)", t_where, c_where),
                            ("matrix, every cell", t_matrix, c_matrix)):
        print(f"{name:<34} {wall:8.3f} {cpu:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
