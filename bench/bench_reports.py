"""Benchmark: `migcheck matrix` reports of a generated estate, as a user runs them.

Two parts, both printed in one run:

1. The command itself (default: the generated 200 VSPs x 10,000 guests, `python -m
   bench.generate --hosts 200 --guests 10000`, the whole built-in pack), in a subprocess
   under `/usr/bin/time -v` when it is there (else the children's peak RSS from
   `getrusage`): the default table, `--format html:FILE`, `--format json:FILE` (by default
   two processes on two cores, `--jobs`) and `--format json:FILE --jobs 1`; wall time, CPU
   time, peak memory and the report's size. Each run starts with the disk idle (`sync`, the
   last report removed). The two JSON reports are compared (sha256, but for the time they
   were made) before anything is printed.

2. The streamed JSON writer against the plain way, in this process, on a smaller estate
   (default 50 x 2,000, where the plain way fits in memory): the plain way is what a
   reviewer would write, the whole matrix with its results (`Engine.matrix`) and then
   `json.dumps(report, indent=2)`; the streamed one is `migcheck`'s own (`write_matrix`
   with its JSON writer, one process). The two texts are compared before the ratio is printed.

    python -m bench.bench_reports [--hosts 200] [--guests 10000] [--file estate.json]
                                  [--small-hosts 50] [--small-guests 2000] [--skip-cli]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import generate


def _without_time(data: bytes) -> bytes:
    return b"\n".join(line for line in data.split(b"\n") if b'"generated"' not in line)


def _digest(path: Path) -> str:
    """sha256 of a report but for the line that says when it was made, read in pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as report:
        for line in report:
            if b'"generated"' not in line:
                digest.update(line)
    return digest.hexdigest()


def run_cli(args: list[str], stdout_path: Path | None) -> dict:
    """One `migcheck` run: wall and CPU seconds, peak RSS in MB."""
    command = [sys.executable, "-m", "migcheck", *args]
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        if timer:
            command = [timer, "-v", "-o", report.name, *command]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        with open(stdout_path or os.devnull, "wb") as out:
            code = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, check=False).returncode
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peak = after.ru_maxrss / 1024
        if timer:
            for line in Path(report.name).read_text().splitlines():
                if "Maximum resident set size" in line:
                    peak = int(line.rsplit(":", 1)[1]) / 1024
    if code not in (0, 1):
        raise SystemExit(f"migcheck {' '.join(args)} exited with {code}")
    return {"wall": wall, "cpu": cpu, "peak": peak}


def cli_part(path: Path, tmp: Path) -> None:
    runs = [("table (default)", [], tmp / "matrix.txt"),
            ("--format html:FILE", ["--format", f"html:{tmp / 'matrix.html'}"], None),
            ("--format json:FILE", ["--format", f"json:{tmp / 'matrix.json'}"], None),
            ("--format json:FILE --jobs 1", ["--format", f"json:{tmp / 'matrix1.json'}", "--jobs", "1"], None)]
    measured = []
    digests = []
    for label, extra, stdout in runs:
        os.sync()  # each run starts with the disk idle: the last one's report written out
        time.sleep(2)
        figures = run_cli(["matrix", str(path), "--quiet", *extra], stdout)
        output = stdout or Path(extra[1].split(":", 1)[1])
        measured.append((label, figures, output.stat().st_size))
        if output.suffix == ".json":
            digests.append(_digest(output))
        output.unlink()
    if len(set(digests)) != 1:
        raise SystemExit("the JSON reports of --jobs 1 and the default differ")
    print(f"migcheck matrix {path.name} (the whole built-in pack); JSON of --jobs 1 and the default: same bytes")
    print(f"{'':30} {'wall':>8} {'cpu':>8} {'peak':>9} {'output':>10}")
    for label, f, size in measured:
        print(f"{label:30} {f['wall']:7.1f}s {f['cpu']:7.1f}s {f['peak']:7.0f}MB {size / 1e6:8.0f}MB")


def writer_part(hosts: int, guests: int, tmp: Path) -> None:
    from migcheck.app.pipeline import Request, run
    from migcheck.report.json_report import JsonWriter
    from migcheck.report.stream import write_matrix

    path = tmp / "small.json"
    path.write_text(json.dumps(generate(hosts, guests, 1), indent=1))

    def streamed() -> str:
        state = run(Request(command="matrix", snapshot=str(path), formats=["json"], mode="offline"))
        out = io.StringIO()
        write_matrix(state.report, state.evaluation.chunks, [JsonWriter(state.report, out, str(tmp))], jobs=1)
        return out.getvalue()

    def plain() -> str:
        from migcheck.core.results import sort_results
        from migcheck.report.json_report import render_json

        state = run(Request(command="matrix", snapshot=str(path), formats=["json"], mode="offline"))
        cells, results = state.engine.matrix("offline")
        results = sort_results(results)
        from dataclasses import replace

        from migcheck.core.results import summarize
        from migcheck.core.verdicts import report_verdict as verdict
        summary = summarize(results)
        summary["cells"] = {v: sum(1 for c in cells if c.verdict == v) for v in ("ready", "blocked", "unknown")}
        report = replace(state.report, cells=sorted(cells, key=lambda c: (c.guest, c.target)),  # by name
                         results=results, counts=summary, verdict=verdict("matrix", results, cells=cells))
        return render_json(report)

    timings = {}
    texts = {}
    for name, fn in (("plain", plain), ("streamed", streamed)):
        best = None
        for _ in range(2):
            start = time.perf_counter()
            texts[name] = fn()
            took = time.perf_counter() - start
            best = took if best is None else min(best, took)
        timings[name] = best
    if _without_time(texts["plain"].encode()) != _without_time(texts["streamed"].encode()):
        raise SystemExit("the plain and the streamed JSON differ")
    print(f"JSON of the matrix of {hosts} x {guests} in this process (the same text, "
          f"{len(texts['plain']) / 1e6:.0f} MB): plain (Engine.matrix + json.dumps) {timings['plain']:.2f} s, "
          f"streamed writer {timings['streamed']:.2f} s = {timings['streamed'] / timings['plain']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--guests", type=int, default=10000)
    parser.add_argument("--file", help="a snapshot to use instead of a generated one")
    parser.add_argument("--small-hosts", type=int, default=50)
    parser.add_argument("--small-guests", type=int, default=2000)
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        writer_part(args.small_hosts, args.small_guests, tmp)
        if not args.skip_cli:
            path = Path(args.file) if args.file else tmp / "estate.json"
            if not args.file:
                path.write_text(json.dumps(generate(args.hosts, args.guests, 1), indent=1))
            cli_part(path, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
