"""Every format's user-space instructions over `--summary`'s, counted by cachegrind: a figure that the
machine's pace does not change.

On a shared machine the CPU time of one command can vary 2x to 3x from one minute to the next (the same
`matrix --summary` at 200 x 10,000 took 3.1 s and 9.2 s), so a change of a few percent cannot be told
from CPU time. The number of instructions a command runs is nearly the same from run to run (the hash
seed fixed: with a random one, dict orders change which text classes are made first, up to 3.6% at
200 x 2,000). It is not the issue's measure: it leaves out the kernel's work (writing gigabytes) and the
time lost to cache misses, which CPU time counts; a report's ratio here is lower than its CPU ratio
(`bench_reports`). Use it to compare two trees (`PYTHONPATH` or a checkout), or formats with each other.

    python -m bench.bench_instructions [--hosts 200] [--guests 2000] [--formats json,jsonl,csv,junit,table]
                                       [--file estate.json] [--hash-seed 0] [--parallel 2]

Needs valgrind (`apt-get install valgrind`); without it, says so and exits 0. About 4 minutes per
command at 200 x 2,000 (cachegrind runs the program some 40 times slower), `--parallel` at once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.generate import generate
from bench.timing import ratio

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(args: list[str], seed: int, stdout: Path) -> int:
    """The instructions `python -m migcheck ARGS` runs (cachegrind's `I refs`, no cache simulation)."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, "-m", "migcheck", *args]
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    with open(stdout, "wb") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, env=env, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"migcheck {' '.join(args)} exited with {done.returncode}:\n"
                         f"{done.stderr.decode(errors='replace')[-2000:]}")
    found = _REFS.search(done.stderr.decode(errors="replace"))
    if found is None:
        raise SystemExit("cachegrind printed no instruction count")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--guests", type=int, default=2000)
    parser.add_argument("--file", help="a snapshot instead of a generated one")
    parser.add_argument("--formats", default="json,jsonl,csv,junit,table")
    parser.add_argument("--hash-seed", type=int, default=0, help="PYTHONHASHSEED of every run (default 0)")
    parser.add_argument("--parallel", type=int, default=2, help="runs at once (instructions do not depend on it)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("bench_instructions: valgrind is not installed (apt-get install valgrind): nothing measured")
        return 0
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if args.file:
            path = Path(args.file)
        else:
            path = tmp / f"estate-{args.hosts}x{args.guests}.json"
            path.write_text(json.dumps(generate(args.hosts, args.guests, 1), indent=1))
        runs = {"--summary": ["--summary"]}
        for fmt in args.formats.split(","):
            runs[fmt] = ["--format", f"{fmt}:{tmp / ('out.' + fmt)}"] if fmt != "table" else []
        # once without cachegrind: the parsed packs cached (`files/cache.py`), as every measured run then finds them
        subprocess.run([sys.executable, "-m", "migcheck", "matrix", str(path), "--quiet", "--summary"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        with ThreadPoolExecutor(max(1, args.parallel)) as pool:
            counts = dict(zip(runs, pool.map(
                lambda item: instructions(["matrix", str(path), "--quiet", "--jobs", "1", *item[1]], args.hash_seed,
                                          tmp / f"stdout.{item[0].strip('-')}"), runs.items())))
    summary = counts["--summary"]
    print(f"migcheck matrix {path.name} --jobs 1 (the whole built-in pack, offline), PYTHONHASHSEED={args.hash_seed}: "
          "user-space instructions (cachegrind); not CPU time: no kernel work, no cache misses")
    print(f"{'':12} {'instructions':>16} {'x --summary':>12}")
    for label, count in counts.items():
        print(f"{label:12} {count:16,} {ratio(count, summary):>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
