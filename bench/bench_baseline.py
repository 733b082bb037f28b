"""Benchmark: `--baseline` matching is linear in the report.

Marks N findings against a baseline of N earlier findings (half of them still present) for
growing N, and prints the time per finding next to the time of the plainest loop that
computes each finding's fingerprint: both flat when matching is linear.

    python -m bench.bench_baseline [--sizes 50000,200000,800000]
"""

from __future__ import annotations

import argparse
import sys
import time
from types import SimpleNamespace

from migcheck.core.perf import collector_paused
from migcheck.eval.baseline import mark_results
from migcheck.core.results import Result


def findings(n: int, offset: int = 0) -> list[Result]:
    return [Result("MEMORY-TARGET", "error", "fail",
                   {"guest": f"g{(i + offset) // 200:05d}", "source": "vsp0", "target": f"vsp{(i + offset) % 200}",
                    "mode": "offline"}, "m") for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50000,200000,800000")
    args = parser.parse_args(argv)
    print(f"{'findings':>10} {'match s':>8} {'us/finding':>11} {'fingerprints s':>15} {'us/finding':>11}")
    for n in (int(x) for x in args.sizes.split(",")):
        earlier = findings(n, offset=n // 2)
        previous = {r.fingerprint: r.to_json() for r in earlier}
        report = SimpleNamespace(results=findings(n))
        with collector_paused():  # as the CLI runs; the cycle collector would rescan every finding
            start = time.perf_counter()
            report.baseline = mark_results(report.results, "earlier.json", previous)
            t_match = time.perf_counter() - start
            start = time.perf_counter()
            plain = {r.fingerprint for r in report.results}
            t_plain = time.perf_counter() - start
        assert report.baseline["unchanged"] == n - n // 2 and len(report.baseline["resolved"]) == n // 2
        assert len(plain) == n
        print(f"{n:>10,} {t_match:8.2f} {t_match / n * 1e6:11.2f} {t_plain:15.2f} {t_plain / n * 1e6:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
