"""Benchmark: what a command costs on a small (real-sized) estate, from a cold process.

Real estates are small: every command pays the interpreter, the imports and the stages before
its own work. This runs, as new processes and interleaved (a slow moment of the machine costs
every command alike), `--repeat` times each:

- the floors: `python -c pass` (the interpreter alone) and `python -c "import yaml, json"` (the
  least a program that reads a YAML snapshot and writes JSON pays);
- `migcheck --version`;
- `migcheck check` and `audit` on the shipped fixture, with the rule-pack cache cold (an empty
  cache directory each run: the packs parsed and checked) and warm (a cache directory filled
  by an earlier run, which also marked the fixture valid: a snapshot asked about again, as
  migration after migration is), with `MIGCHECK_TIMINGS=1`; and `check` with the packs' cache
  warm but a snapshot not seen before (its mark removed each run: validated, jsonschema-rs imported).

It prints the CPU time of each (the children's rusage, user + system) as its fastest and its
median run, the ratios the issue asks for (`check` on the fixture to `import yaml, json`,
`--version` to `python -c pass`), and the median of every stage the command timed.

Every process runs from bytecode, as an installed migcheck does (pip compiles it): the children
write and read their bytecode in a private `PYTHONPYCACHEPREFIX` (never beside the sources),
warmed by one untimed run of each command, whatever `PYTHONDONTWRITEBYTECODE` says.

    python -m bench.bench_startup [--repeat 21]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "mixed-site.yaml"
TIMING = re.compile(r"^migcheck: timing: +(\S+) +(\d+\.\d+) s wall +(\d+\.\d+) s cpu$")
MIGCHECK = [sys.executable, "-m", "migcheck"]
CHECK = ["check", str(FIXTURE), "sapapp01", "vsp-e2"]

PASS, YAML_JSON, VERSION = "python -c pass", "python -c 'import yaml, json'", "migcheck --version"
CHECK_COLD, CHECK_WARM = "check (fixture), cold cache", "check (fixture), warm cache"
CHECK_NEW = "check, warm packs, new snapshot"
AUDIT_WARM = "audit (fixture), warm cache"
# name -> (argv, which rule-pack cache: None, "cold" or "warm")
COMMANDS = {
    PASS: ([sys.executable, "-c", "pass"], None),
    YAML_JSON: ([sys.executable, "-c", "import yaml, json"], None),
    VERSION: ([*MIGCHECK, "--version"], None),
    CHECK_COLD: ([*MIGCHECK, *CHECK], "cold"),
    CHECK_WARM: ([*MIGCHECK, *CHECK], "warm"),
    CHECK_NEW: ([*MIGCHECK, *CHECK], "packs"),
    AUDIT_WARM: ([*MIGCHECK, "audit", str(FIXTURE)], "warm"),
}
# (what, over what): the ratios the cold-start goal is stated in
RATIOS = ((CHECK_WARM, YAML_JSON, 3.0), (CHECK_NEW, YAML_JSON, None), (CHECK_COLD, YAML_JSON, None),
          (VERSION, PASS, 2.0))


def run_once(argv: list[str], env: dict) -> tuple[float, dict[str, float]]:
    """The child's CPU seconds and the CPU seconds of each stage it timed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr}")
    stages = {m.group(1): float(m.group(3)) for m in map(TIMING.match, proc.stderr.splitlines()) if m}
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), stages


def measure(repeat: int, scratch: Path) -> tuple[dict[str, list[float]], dict[str, dict[str, list[float]]]]:
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base.update(PYTHONPYCACHEPREFIX=str(scratch / "bytecode"), MIGCHECK_TIMINGS="1")
    warm = {**base, "MIGCHECK_CACHE_DIR": str(scratch / "warm")}
    cold_dir, packs_dir = scratch / "cold", scratch / "packs"

    def env_for(cache: str | None) -> dict:
        if cache == "cold":
            shutil.rmtree(cold_dir, ignore_errors=True)  # an empty cache directory every run
            return {**base, "MIGCHECK_CACHE_DIR": str(cold_dir)}
        if cache == "packs":  # the packs' entries kept, the snapshot's validity mark (files.cache) removed
            for mark in packs_dir.glob("mark-*"):
                mark.unlink()
            return {**base, "MIGCHECK_CACHE_DIR": str(packs_dir)}
        return warm if cache == "warm" else base

    for argv, cache in COMMANDS.values():  # untimed: bytecode written, the warm cache filled
        run_once(argv, env_for(cache))
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in COMMANDS}
    for _ in range(repeat):
        for name, (argv, cache) in COMMANDS.items():
            seconds, timed = run_once(argv, env_for(cache))
            cpu[name].append(seconds)
            for stage, value in timed.items():
                stages[name].setdefault(stage, []).append(value)
    return cpu, stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        cpu, stages = measure(args.repeat, Path(scratch))
    fastest = {name: min(v) for name, v in cpu.items()}
    median = {name: statistics.median(v) for name, v in cpu.items()}
    print(f"CPU seconds (user + system) of {args.repeat} interleaved runs each, from bytecode")
    print(f"{'command':<30} {'fastest':>8} {'median':>8}   stages (median cpu s)")
    for name in COMMANDS:
        shown = ", ".join(f"{s} {statistics.median(v):.4f}" for s, v in stages[name].items() if "." not in s)
        print(f"{name:<30} {fastest[name]:8.3f} {median[name]:8.3f}   {shown}")
    print()
    for what, over, goal in RATIOS:
        said = f"  (goal: within {goal:g}x)" if goal else ""
        print(f"{what} / {over}: {fastest[what] / fastest[over]:.2f}x fastest, "
              f"{median[what] / median[over]:.2f}x median{said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
