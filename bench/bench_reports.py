"""Benchmark: `migcheck matrix` reports against the fastest plain program a reviewer would write.

Three parts; the first two run in this process on a smaller estate (default 20 VSPs x 1,000
guests, the whole built-in pack, offline), every contender in turn (`bench.timing`: CPU seconds
of this process, interleaved rounds, the fastest of each), outputs compared before any ratio
is printed:

1. Writers against plain writers, from the same results. The matrix is evaluated once and its
   chunks (cells and results per guest) kept; migcheck's streaming writer of each format
   (`report.stream.write_matrix`, the one the command runs, to a file) is timed on them against
   a plain program given the same results as dicts (`Result.to_json` of a second evaluation's, made
   before timing).
   migcheck's writers stamp a text class's results from its template for a guest, made in the first
   round and kept by the results: the fastest round has them made (part 2 pays for them).
   json: orjson (`OPT_INDENT_2`, the same bytes) and the C encoder without indent (`json.dumps`,
   compact: the same content, parsed); jsonl: orjson per result and an f-string template (the
   same bytes); csv: the standard `csv.writer` of plain rows made from the dicts with the same
   neutralisation (`csv_safe`, the same bytes). junit, sarif, table, Markdown and HTML have no
   plain counterpart of the same content worth the name (a suite per guest, 5,000 results per
   level, digests): they are in part 2.
2. Every format from the snapshot on against `--summary`, the least work that answers from the
   same matrix (counts per guest and target): the pipeline as the command runs it, one process
   (`--jobs 1`), the report written to a file; the ratio is the issue's measure (table and HTML
   within 2x, json, jsonl, csv and junit within 4x of `--summary`).
3. The command itself (default 200 x 10,000, `--skip-cli` to leave it out) in a subprocess under
   `/usr/bin/time -v`: `--summary`, the default table, html, and json, jsonl, csv and junit each by default
   and with the other number of processes (json: one by default, `--jobs 2`; the others: two by default at
   this size, `--jobs 1`), in turn for
   `--cli-repeat` rounds (the machine is shared: a single run of each can be 15% off); per command the
   fastest round's CPU and wall and the median round's, peak memory, output size and the fastest CPU
   over `--summary`'s fastest; and, as the machine's pace can vary 3x within a minute, each command run
   right after a `--summary` of its own, the median (and range) of its CPU over that one's (paired). Each
   run starts with the disk idle (`sync`). The two JSON reports are compared (sha256) in every round.

    python -m bench.bench_reports [--small 20x1000] [--repeat 3] [--formats json,jsonl,csv,...]
                                  [--hosts 200] [--guests 10000] [--file estate.json] [--cli-repeat 3]
                                  [--skip-cli]
                                  [--skip-snapshot]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
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
from bench.timing import interleaved, ratio


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


def cli_part(path: Path, tmp: Path, repeat: int = 1) -> None:
    """Part 3: every command in turn, `repeat` rounds; per command its fastest round's CPU (the figure the
    ratios are of, as `bench.timing` keeps the fastest in process) and the median of its rounds', its fastest
    wall and the median's, its largest peak. The machine's pace varies by up to 3x within a minute (a shared
    host: the same `--summary` took 3.1 s and 9.2 s of CPU minutes apart), so every command is also run right
    after a `--summary` of its own, and its CPU over that one's is its paired ratio (median and range of
    the rounds'): each pair at the same pace, as near as a run of the two can be. `--summary`'s own row is
    of all its runs, paired ones included."""
    runs = [("--summary", ["--summary"], tmp / "summary.txt"),
            ("table (default)", [], tmp / "matrix.txt"),
            ("--format html:FILE", ["--format", f"html:{tmp / 'matrix.html'}"], None),
            ("--format json:FILE", ["--format", f"json:{tmp / 'matrix.json'}"], None),
            ("--format json:FILE --jobs 2", ["--format", f"json:{tmp / 'matrix2.json'}", "--jobs", "2"], None),
            ("--format jsonl:FILE", ["--format", f"jsonl:{tmp / 'matrix.jsonl'}"], None),
            ("--format jsonl:FILE --jobs 1", ["--format", f"jsonl:{tmp / 'matrix1.jsonl'}", "--jobs", "1"], None),
            ("--format csv:FILE", ["--format", f"csv:{tmp / 'matrix.csv'}"], None),
            ("--format csv:FILE --jobs 1", ["--format", f"csv:{tmp / 'matrix1.csv'}", "--jobs", "1"], None),
            ("--format junit:FILE", ["--format", f"junit:{tmp / 'matrix.xml'}"], None),
            ("--format junit:FILE --jobs 1", ["--format", f"junit:{tmp / 'matrix1.xml'}", "--jobs", "1"], None)]
    rounds: dict[str, list[dict]] = {label: [] for label, _, _ in runs}
    paired: dict[str, list[float]] = {label: [] for label, _, _ in runs}
    sizes: dict[str, int] = {}

    def run(extra: list[str], stdout: Path | None) -> tuple[dict, Path]:
        os.sync()  # each run starts with the disk idle: the last one's report written out
        time.sleep(2)
        figures = run_cli(["matrix", str(path), "--quiet", *extra], stdout)
        return figures, stdout or Path(extra[1].split(":", 1)[1])

    for _ in range(repeat):
        digests = []
        for label, extra, stdout in runs:
            before = None
            if label != "--summary":  # its pair: a --summary just before it
                before, output = run(runs[0][1], runs[0][2])
                output.unlink()
            figures, output = run(extra, stdout)
            rounds[label].append(figures)
            if before is not None:
                rounds["--summary"].append(before)
                paired[label].append(figures["cpu"] / before["cpu"])
            sizes[label] = output.stat().st_size
            if output.suffix == ".json":
                digests.append(_digest(output))
            output.unlink()
        if len(set(digests)) != 1:
            raise SystemExit("the JSON reports of --jobs 2 and the default (one process) differ")
    summary = min(f["cpu"] for f in rounds["--summary"])
    print(f"\n3. migcheck matrix {path.name} (the whole built-in pack), as a command, {repeat} round(s) in turn, "
          "each command after a --summary of its own; JSON of --jobs 2 and the default: same bytes")
    print(f"{'':30} {'wall':>8} {'(median)':>8} {'cpu':>8} {'(median)':>8} {'peak':>9} {'output':>10} "
          f"{'cpu/--summary':>14} {'paired: median':>15} {'(range)':>13}")
    for label, _, _ in runs:
        measured = rounds[label]
        wall = sorted(f["wall"] for f in measured)
        cpu = sorted(f["cpu"] for f in measured)
        peak = max(f["peak"] for f in measured)
        pairs = sorted(paired[label])
        spread = f"{pairs[0]:.2f}-{pairs[-1]:.2f}x" if pairs else ""
        print(f"{label:30} {wall[0]:7.1f}s {_median(wall):7.1f}s {cpu[0]:7.1f}s {_median(cpu):7.1f}s "
              f"{peak:7.0f}MB {sizes[label] / 1e6:8.1f}MB {ratio(cpu[0], summary):>14} "
              f"{(f'{_median(pairs):.2f}x' if pairs else ''):>15} {spread:>13}")


def _median(values: list[float]) -> float:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


# -- 1. writers against plain writers, from the same results ------------------------------------
class Replay(list):
    """A matrix's chunks kept in memory, replayed to a writer as `Engine.iter_matrix` gives them."""

    def __init__(self, chunks, verdict: str):
        super().__init__(chunks)
        self._verdict = verdict

    def verdict(self) -> str:
        return self._verdict


def evaluated(path: Path):
    """The report as it starts, the matrix's chunks kept, and the completed report (`Report.completed`)."""
    from migcheck.app.pipeline import Request, run
    from migcheck.report.model import Tail
    from migcheck.report.stream import write_matrix

    state = run(Request(command="matrix", snapshot=str(path), formats=["json"], mode="offline", jobs=1))
    chunks = state.evaluation.chunks
    verdict = chunks.verdict()
    replay = Replay(((cells, results) for cells, results in chunks), verdict)
    tally = write_matrix(state.report, replay, [])
    return state.report, replay, state.report.completed(Tail(tally.verdict(), tally.summary(), [], None))


def migcheck_writer(fmt: str, report, replay, out_path: Path):
    """migcheck's streaming writer of `fmt` fed the kept chunks, to a file (as the command writes it)."""
    from migcheck.files.outputs import open_output
    from migcheck.report.stream import write_matrix, writer_for

    def write() -> Path:
        with open_output(str(out_path)) as out:
            write_matrix(report, replay, [writer_for(fmt, report, out, spool_dir=str(out_path.parent))])
        return out_path
    return write


def plain_inputs(replay, final) -> dict:
    """What a plain program is given: the results and cells as dicts, the report's other keys (before timing).
    `replay` is a second evaluation of the same matrix: `to_json` makes a result's text in place, which
    migcheck's writers take from the result's text class instead (`Result.stamp`), as a run's results
    come to them (a copy of a result would make its original's text too: its slots are read)."""
    from migcheck.report.digest import chunk_findings

    results, cells = [], []
    for chunk_cells, chunk_results in replay:
        results.extend(r.to_json() for r in chunk_results)
        found = chunk_findings(chunk_cells, chunk_results)
        cells.extend(dict(c.to_json(), blocking=found[(c.guest, c.target)].blocking) for c in chunk_cells)
    return {"head": final.to_json(results=False), "results": results, "cells": cells}


def _document(given: dict) -> dict:
    doc = dict(given["head"])  # its keys in the report's order; results and cells in their places
    doc["results"] = given["results"]
    doc["cells"] = given["cells"]
    return doc


def _write(path: Path, data: bytes) -> Path:
    with open(path, "wb") as out:
        out.write(data)
    return path


def csv_rows(results: list[dict]):
    """The csv report's rows from result dicts, as a reviewer writes it (every field through `csv_safe`)."""
    from migcheck.report.common import csv_safe

    no_waiver = {}
    no_location = {"file": "", "line": ""}
    for r in results:
        s = r["subject"]
        w = r["waiver"] or no_waiver
        loc = r.get("location") or no_location
        yield [csv_safe(v) for v in (
            r["rule"], r["severity"], r["status"], "yes" if r["waiver"] else "no", s.get("guest", ""),
            s.get("host", ""), s.get("source", ""), s.get("target", ""), s.get("mode", ""), r.get("item"),
            r["message"], r["fix"], r["cite"], loc["file"], loc["line"], "fp:" + r["fingerprint"],
            w.get("owner", ""), w.get("expires", ""), w.get("reason", ""), w.get("ticket", ""), r.get("baseline", ""))]


def jsonl_template(results: list[dict]) -> bytes:
    """JSON Lines from result dicts by an f-string per key, strings by the C escaper, the rest by the C encoder."""
    from json.encoder import encode_basestring

    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return "".join("{" + ",".join([f'"{k}":{encode_basestring(v) if type(v) is str else dumps(v)}'
                                   for k, v in r.items()]) + "}\n" for r in results).encode()


def plain_writers(fmt: str, given: dict, tmp: Path) -> dict:
    """The plain programs of `fmt`: name -> (function writing a file, how its output is compared)."""
    try:
        import orjson
    except ImportError:
        orjson = None
    out = {}
    if fmt == "json":
        if orjson is not None:
            out["orjson OPT_INDENT_2"] = (lambda: _write(tmp / "plain.json", orjson.dumps(
                _document(given), option=orjson.OPT_INDENT_2) + b"\n"), "bytes")
        out["json.dumps, C encoder"] = (lambda: _write(tmp / "plain-c.json", json.dumps(
            _document(given), ensure_ascii=False).encode()), "parsed")
    elif fmt == "jsonl":
        if orjson is not None:
            out["orjson per result"] = (lambda: _write(tmp / "plain.jsonl", b"".join(
                orjson.dumps(r) + b"\n" for r in given["results"])), "bytes")
        out["f-string template"] = (lambda: _write(tmp / "template.jsonl", jsonl_template(given["results"])), "bytes")
    elif fmt == "csv":
        from migcheck.report.csv_report import COLUMNS

        def plain_csv() -> Path:
            with open(tmp / "plain.csv", "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\r\n")
                writer.writerow(COLUMNS)
                writer.writerows(csv_rows(given["results"]))
            return tmp / "plain.csv"
        out["csv.writer of plain rows"] = (plain_csv, "bytes")
    return out


def _parsed(fmt: str, data: bytes):
    if fmt == "jsonl":
        return [json.loads(line) for line in data.splitlines()]
    return json.loads(data)


def same(fmt: str, ours: bytes, theirs: bytes, how: str) -> str:
    """How two outputs were found equal ('same bytes', 'same content'); SystemExit when they are not."""
    if ours == theirs:
        return "same bytes"
    if how == "parsed" or fmt in ("json",):  # JSON: a reviewer's bytes may differ in layout, not in content
        if _parsed(fmt, ours) == _parsed(fmt, theirs):
            return "same content (parsed)"
    raise SystemExit(f"{fmt}: migcheck's output and the plain program's differ")


WRITER_FORMATS = ("json", "jsonl", "csv")


def writer_part(path: Path, tmp: Path, formats: list[str], repeat: int) -> None:
    report, replay, final = evaluated(path)
    _, again, _ = evaluated(path)  # the same results, for the plain programs' dicts (the head: the first's)
    given = plain_inputs(again, final)
    pairs = sum(len(cells) for cells, _ in replay)
    print(f"1. writers from the same {len(given['results']):,} results of {pairs:,} pairs (CPU s, fastest of "
          f"{repeat} interleaved; outputs compared first)")
    print(f"   {'format':6} {'migcheck s':>10}   {'plain program':<26} {'plain s':>8} {'migcheck/plain':>15}  checked")
    for fmt in (f for f in formats if f in WRITER_FORMATS):
        contenders = {"migcheck": migcheck_writer(fmt, report, replay, tmp / f"migcheck.{fmt}")}
        hows = {}
        for name, (fn, how) in plain_writers(fmt, given, tmp).items():
            contenders[name], hows[name] = fn, how
        values, best = interleaved(contenders, repeat)
        ours = values["migcheck"].read_bytes()
        size = len(ours)
        for name in hows:
            checked = same(fmt, ours, values[name].read_bytes(), hows[name])
            print(f"   {fmt:6} {best['migcheck']:10.3f}   {name:<26} {best[name]:8.3f} "
                  f"{ratio(best['migcheck'], best[name]):>15}  {checked} ({size / 1e6:.1f} MB)")
        if not hows:
            print(f"   {fmt:6} {best['migcheck']:10.3f}   (orjson not installed: pip install orjson)")


# -- 2. every format from the snapshot on, against --summary -------------------------------------
def from_snapshot(path: Path, fmt: str, out_path: Path):
    """The command's work for `fmt`, in this process: the pipeline, then the report written to a file."""
    from migcheck.app.pipeline import Request, run, write_outputs

    def write() -> int:
        state = run(Request(command="matrix", snapshot=str(path), formats=[f"{fmt}:{out_path}"], mode="offline",
                            jobs=1, quiet=True))
        write_outputs(state)
        return out_path.stat().st_size
    return write


def summary_of(path: Path):
    from migcheck.app.pipeline import Request, matrix_summary

    return lambda: len(matrix_summary(Request(command="matrix", snapshot=str(path), mode="offline"), "text")[0])


def snapshot_part(path: Path, tmp: Path, formats: list[str], repeat: int) -> None:
    contenders = {"--summary": summary_of(path)}
    for fmt in formats:
        contenders[fmt] = from_snapshot(path, fmt, tmp / f"whole.{fmt}")
    values, best = interleaved(contenders, repeat)
    summary = best["--summary"]
    print(f"2. from the snapshot on, one process (CPU s, fastest of {repeat} interleaved)")
    print(f"   {'':10} {'cpu s':>8} {'x --summary':>12} {'output':>10}")
    for name, seconds in best.items():
        print(f"   {name:10} {seconds:8.3f} {ratio(seconds, summary):>12} {values[name] / 1e6:8.2f}MB")


FORMATS = ("json", "jsonl", "csv", "junit", "sarif", "table", "markdown", "html")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", default="20x1000", help="VSPs x guests of the estate of parts 1 and 2")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the fastest run of each counts")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--guests", type=int, default=10000)
    parser.add_argument("--file", help="a snapshot for part 3 instead of a generated one")
    parser.add_argument("--cli-repeat", type=int, default=3,
                        help="rounds of part 3 (every command in turn); the fastest CPU of each counts")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-snapshot", action="store_true", help="leave part 2 out")
    args = parser.parse_args(argv)
    formats = args.formats.split(",")
    hosts, guests = (int(x) for x in args.small.split("x"))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small = tmp / "small.json"
        small.write_text(json.dumps(generate(hosts, guests, 1), indent=1))
        print(f"estate {hosts} x {guests} (bench.generate, seed 1), the whole built-in pack, offline")
        writer_part(small, tmp, formats, args.repeat)
        if not args.skip_snapshot:
            snapshot_part(small, tmp, formats, args.repeat)
        if not args.skip_cli:
            path = Path(args.file) if args.file else tmp / "estate.json"
            if not args.file:
                path.write_text(json.dumps(generate(args.hosts, args.guests, 1), indent=1))
            cli_part(path, tmp, args.cli_repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
