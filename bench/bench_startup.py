"""Benchmark: what a command costs on a small (real-sized) estate, from a cold process.

Real estates are small: every command pays the interpreter, the imports and the stages before
its own work. This runs, as new processes, `python -c pass` (the floor: the interpreter alone),
`migcheck --version`, and `check` / `audit` on the shipped fixture with `MIGCHECK_TIMINGS=1`,
each `--repeat` times interleaved, and prints the median CPU time of each (children's rusage),
its ratio to the floor, and the median of every stage the command timed (read from the
`migcheck: timing:` lines it prints on stderr).

    python -m bench.bench_startup [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "mixed-site.yaml"
TIMING = re.compile(r"^migcheck: timing: +(\S+) +(\d+\.\d+) s wall +(\d+\.\d+) s cpu$")
COMMANDS = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "migcheck --version": [sys.executable, "-m", "migcheck", "--version"],
    "migcheck check (fixture)": [sys.executable, "-m", "migcheck", "check", str(FIXTURE), "sapapp01", "vsp-e2"],
    "migcheck audit (fixture)": [sys.executable, "-m", "migcheck", "audit", str(FIXTURE)],
}


def run_once(argv: list[str]) -> tuple[float, dict[str, float]]:
    """The child's CPU seconds and the CPU seconds of each stage it timed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "MIGCHECK_TIMINGS": "1"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode in (0, 1), proc.stderr
    stages = {m.group(1): float(m.group(3)) for m in map(TIMING.match, proc.stderr.splitlines()) if m}
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in COMMANDS}
    for _ in range(args.repeat):  # interleaved: a slow moment of the machine costs every command alike
        for name, command in COMMANDS.items():
            seconds, timed = run_once(command)
            cpu[name].append(seconds)
            for stage, value in timed.items():
                stages[name].setdefault(stage, []).append(value)
    floor = statistics.median(cpu["python -c pass (floor)"])
    print(f"{'command':<28} {'cpu s':>7} {'x floor':>8}   stages (median cpu s)")
    for name in COMMANDS:
        median = statistics.median(cpu[name])
        shown = ", ".join(f"{s} {statistics.median(v):.4f}" for s, v in stages[name].items())
        print(f"{name:<28} {median:7.3f} {median / floor:8.2f}   {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
