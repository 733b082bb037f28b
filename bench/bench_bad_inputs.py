"""Benchmark: how fast bad inputs are refused or reported (each must be well under 2 s, an
alias bomb well under 1 s). Prints each case's time and its first problem line, and the
ratio to loading (or auditing) the valid mixed-site fixture in the same process.
Regular-expression cases: catastrophic patterns in rules and in snapshot data run on RE2 in
linear time; unsupported patterns are refused by the checker or reported as `error`
results. Python's backtracking `re` on the same pattern is timed for comparison.
Waivers at scale: a 20x200 matrix with its results and 20, 1,000 and 20,000 waivers (each of
one rule and one guest, as a site writes them), against the same matrix with none.
Evaluation budget (issue 21, item 8): site rules that once cost without bound (a `let` chain of
lists holding lists twice, a string doubled 40 times, an integer squared 30 times, a message of
2,000 `{holes}`) and constants `lint` must compute (a comparison with a 4,401-digit release, a
release literal that is not one, `"6.1-rc1"`), each through `migcheck lint` of its pack and
`migcheck audit` of a 2x20 estate with it, in this process: time, growth of the traced peak
(tracemalloc) and the first diagnostic or the rule's first result. Each must be refused by
`lint` or be an `error` (or a capped message) within the budget; compared with the same two
commands on a pack with one plain rule.
A plan of 20,000 migrations (`plan_data`: 100 stages of 200 offline moves on a 200x2,000 estate,
a guest moving again in later stages): `migcheck plan --format json` in a subprocess under
`/usr/bin/time -v`, so its peak is the plan's alone; compared with `migcheck check` of one pair
of the same estate. KB per migration = (peak of the plan - peak of the check) / migrations.
Usage: python -m bench.bench_bad_inputs [--waivers-only | --budget-only | --plan-only]
       [--migrations N] [--guests N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

from migcheck.files.document import Limits, LoadError, load_document
from migcheck.eval.engine import Engine
from migcheck.lang.diagnostics import RuleError
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data
from migcheck.waves.plans import plan_document
from migcheck.cli import main as migcheck
from migcheck.eval.waivers import Waiver, Waivers
from bench.bench_budget import main as runaway_cases
from bench.generate import generate

ROOT = Path(__file__).resolve().parent.parent

BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))

CASES = {
    "alias bomb": BOMB.encode(),
    "nesting 5,000 deep (YAML)": ("snapshot: 1\nhosts: " + "[" * 5000 + "]" * 5000).encode(),
    "nesting 5,000 deep (JSON)": ('{"snapshot": 1, "hosts": ' + "[" * 5000 + "]" * 5000 + "}").encode(),
    "binary garbage": os.urandom(1 << 20),
    "non-UTF-8": "snapshot: 1\nsite: caf\u00e9\n".encode("latin-1"),
    "empty file": b"",
    "10,000 schema errors": ("snapshot: 1\nhosts:\n" + "  - {name: h, version: 6.1}\n" * 5000).encode(),
    "10 MB of string aliases": ("a: &a " + "x" * 1_000_000 + "\nb: [" + ", ".join(["*a"] * 2_250_000) + "]\n").encode(),
    "4,401-digit integer": ("snapshot: 1\nhosts: []\nguests: []\nsite: " + "7" * 4401 + "\n").encode(),
    "4,401-digit integer (JSON)": ('{"snapshot": 1, "hosts": [], "guests": [], "site": ' + "7" * 4401 + "}").encode(),
}


def plan_data(estate: dict, migrations: int, per_stage: int = 200, seed: int = 21) -> dict:
    """A plan of `migrations` offline migrations in stages of `per_stage`, each moving a guest of `estate`
    (snapshot data) to another VSP than the one the plan has left it on; a guest moves at most once a
    stage, and again in later stages when the estate has fewer guests than the plan has migrations.
    The same for the same seed."""
    rng = random.Random(seed)
    hosts = [h["name"] for h in estate["hosts"]]
    where = {g["name"]: g["host"] for g in estate["guests"]}
    names = list(where)
    stages = []
    for first in range(0, migrations, per_stage):
        moves = []
        for name in rng.sample(names, min(per_stage, migrations - first, len(names))):
            to = rng.choice(hosts)
            while to == where[name]:
                to = rng.choice(hosts)
            where[name] = to
            moves.append({"guest": name, "to": to})
        stages.append(moves)
    return plan_document(f"{migrations} migrations", stages)


def main() -> int:
    start = time.perf_counter()
    load_snapshot(str(ROOT / "fixtures" / "mixed-site.yaml"))
    baseline = time.perf_counter() - start
    print(f"valid mixed-site.yaml: {baseline * 1000:.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in CASES.items():
            path = Path(tmp) / ("bad.json" if "JSON" in name else "bad.yaml")
            path.write_bytes(content)
            start = time.perf_counter()
            try:
                load_snapshot(str(path))
                first = "accepted?!"
            except LoadError as exc:
                first = exc.problems[0].render().splitlines()[0].split(": ", 1)[1][:70]
                count = len(exc.problems)
            elapsed = time.perf_counter() - start
            print(f"{name:28} {elapsed * 1000:8.1f} ms  {elapsed / baseline:7.1f}x  {count:>6} problem(s): {first}")
    start = time.perf_counter()
    try:
        load_snapshot("/dev/zero", Limits(max_bytes=10_000_000))
    except LoadError as exc:
        first = exc.problems[0].message[:70]
    elapsed = time.perf_counter() - start
    print(f"{'/dev/zero, --max-bytes 10 MB':28} {elapsed * 1000:8.1f} ms  {elapsed / baseline:7.1f}x       1 problem(s): "
          f"{first}")
    return 0


def _rule(rule_id: str, require: str, when: str = "") -> str:
    when = f"  when {when}\n" if when else ""
    return (f'rule {rule_id} {{\n  title "t"\n  severity error\n  on guest\n{when}  require {require}\n'
            '  message "m"\n  cite "c"\n}\n')


REGEX_CASES = [
    # name, rule text, guest name, attrs of the first guest
    ("(a+)+$ in a rule, 30 a's and !", _rule("SITE-RX", 'guest.name matches "(a+)+$"'), "a" * 30 + "!", {}),
    ("(a+)+$ in a rule, 100,000 a's and !", _rule("SITE-RX", 'guest.name matches "(a+)+$"'), "a" * 100_000 + "!", {}),
    ("(a+)+$ from the snapshot, 30 a's and !", _rule("SITE-RX", "guest.name matches guest.attrs.p",
                                                     "guest.attrs.p != null"), "a" * 30 + "!", {"p": "(a+)+$"}),
    ("(x+x+)+y from the snapshot, 10,000 x's", _rule("SITE-RX", "guest.name matches guest.attrs.p",
                                                    "guest.attrs.p != null"), "x" * 10_000, {"p": "(x+x+)+y"}),
    ("a{100000} in a rule", _rule("SITE-RX", 'guest.name matches "a{100000}"'), "web01", {}),
    ("a{99999999999999999999} in a rule", _rule("SITE-RX", 'guest.name matches "a{99999999999999999999}"'),
     "web01", {}),
    ("a{100000} from the snapshot", _rule("SITE-RX", "guest.name matches guest.attrs.p", "guest.attrs.p != null"),
     "web01", {"p": "a{100000}"}),
    ("(a)\\1 (backreference) from the snapshot", _rule("SITE-RX", "guest.name matches guest.attrs.p",
                                                         "guest.attrs.p != null"), "aa", {"p": "(a)\\1"}),
]


def regex_cases(tmp: Path) -> None:
    data = load_document(ROOT / "fixtures" / "mixed-site.yaml").data
    start = time.perf_counter()
    Engine(load_rules([]), snapshot_from_data(data)).audit()
    baseline = time.perf_counter() - start
    print(f"\naudit of valid mixed-site.yaml, built-in pack: {baseline * 1000:.1f} ms")
    for i, (name, rules, guest_name, attrs) in enumerate(REGEX_CASES):
        pack = tmp / f"rx{i}"
        pack.mkdir()
        (pack / "site.rules").write_text(rules)
        case = load_document(ROOT / "fixtures" / "mixed-site.yaml").data
        case["guests"][0]["name"] = guest_name
        case["guests"][0]["attrs"] = attrs
        start = time.perf_counter()
        try:
            results = Engine(load_rules([pack]), snapshot_from_data(case)).audit()
            mine = [r for r in results if r.rule == "SITE-RX" and r.status != "notapplicable"]
            outcome = "; ".join(sorted({f"{r.status}: {r.message[:60]}" if r.status == "error" else r.status
                                        for r in mine}))
        except RuleError as exc:
            d = exc.diagnostics[0]
            outcome = f"refused at {d.line}:{d.col}: {d.message[:60]}"
        elapsed = time.perf_counter() - start
        print(f"{name:44} {elapsed * 1000:8.1f} ms  {elapsed / baseline:6.1f}x  {outcome}")
    for n in (18, 20, 22):
        start = time.perf_counter()
        re.compile("(a+)+$").fullmatch("a" * n + "!")
        elapsed = time.perf_counter() - start
        label = f"for comparison, Python re: (a+)+$, {n} a's"
        print(f"{label:44} {elapsed * 1000:8.1f} ms  "
              f"{elapsed / baseline:6.1f}x  (doubles with each character: 30 would take minutes)")


def waiver_cases() -> None:
    """The matrix with its results under many waivers: matching by rule id and guest keeps it flat."""

    snapshot = snapshot_from_data(generate(20, 200, seed=11))
    rules = load_rules()
    ids = sorted(r.id for r in rules.rules)
    rng = random.Random(6)

    def run(count: int | None) -> float:
        waivers = None
        if count is not None:
            items = [Waiver(rng.choice(ids), "r", "o", date(2099, 1, 1), rng.choice(snapshot.guests)["name"])
                     for _ in range(count)]
            waivers = Waivers("w.yaml", items, today=date(2026, 12, 5))
        start = time.perf_counter()
        Engine(rules, snapshot, waivers=waivers).matrix("offline")
        return time.perf_counter() - start

    baseline = min(run(None) for _ in range(3))
    print(f"\nmatrix 20x200 offline with results, no waivers: {baseline * 1000:.1f} ms")
    for count in (20, 1_000, 20_000):
        elapsed = min(run(count) for _ in range(3))
        print(f"{f'{count:,} waivers':44} {elapsed * 1000:8.1f} ms  {elapsed / baseline:6.1f}x")


BUDGET_HEAD = 'rule SITE-COST {\n  title "t"\n  severity warning\n  on guest\n  cite "c"\n'
NINES = "9" * 4401


def _site_rule(lets: list[str], require: str, message: str = "m") -> str:
    body = "".join(f"  let {line}\n" for line in lets)
    return BUDGET_HEAD + body + f"  require {require}\n  message \"{message}\"\n}}\n"


BUDGET_CASES = {
    "plain rule (for comparison)": _site_rule([], "guest.memory_mb > 0"),
    "let chain: lists holding lists twice, 25 lets": _site_rule(
        ["l0 = [guest.name]"] + [f"l{i} = [l{i - 1}, l{i - 1}]" for i in range(1, 26)],
        "l25 == [l24, l24] and count(l25) < 0", "{l25}"),
    "string doubled 40 times": _site_rule(
        ["s0 = guest.name"] + [f"s{i} = s{i - 1} + s{i - 1}" for i in range(1, 41)], "len(s40) > 0"),
    "integer squared 30 times": _site_rule(
        ["n0 = guest.memory_mb + 2"] + [f"n{i} = n{i - 1} * n{i - 1}" for i in range(1, 31)], "n30 > 0"),
    "message with 2,000 {holes}": _site_rule([], "guest.memory_mb < 0", "{snapshot.guests} " * 2000),
    "version(...) >= a 4,401-digit release": _site_rule(
        [], f'version(default(guest.guest_kit, "1")) >= version("{NINES}")'),
    'release literal that is not one ("6.1-rc1")': _site_rule(
        [], 'version(default(guest.guest_kit, "1")) >= version("6.1-rc1")'),
}


def _cli(args: list[str]) -> tuple[int, str, str, float, float]:
    """`migcheck ARGS` in this process, twice: exit code, stdout, stderr and seconds of a plain run, then the
    growth of the traced peak (MB) of a run under tracemalloc (which slows it: not timed)."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = migcheck(args)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        migcheck(args)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return code, out.getvalue(), err.getvalue(), seconds, peak / 1e6


def _first_result(out: str, err: str) -> str:
    """The rule's first result in an audit's JSON report (status: message), or the first line on stderr."""
    try:
        mine = [r for r in json.loads(out)["results"] if r["rule"] == "SITE-COST"]
    except ValueError:
        mine = []
    if mine:
        message = mine[0]["message"]
        if len(message) > 80:  # a capped message: its start, its end and its length
            message = f"{message[:24]}…{message[-40:]} ({len(message):,} characters)"
        return f"{mine[0]['status']}: {message}"
    return next((line for line in err.splitlines() if line.strip()), "(nothing)")


def budget_cases(tmp: Path) -> None:
    """Each costly site rule through `lint` and through an audit of a small estate (see the docstring)."""
    estate = tmp / "small.json"
    estate.write_text(json.dumps(generate(2, 20, seed=5)))
    _cli(["lint", str(ROOT / "rules")])  # the built-in pack compiled once, as every case's run finds it
    print(f"\nevaluation budget: site rules through `lint` and `audit` of a 2x20 estate\n"
          f"{'case':46} {'command':6} {'exit':>4} {'ms':>9} {'peak +MB':>9}  first diagnostic or result")
    for i, (name, text) in enumerate(BUDGET_CASES.items()):
        pack = tmp / f"budget{i}"
        pack.mkdir()
        (pack / "site.rules").write_text(text)
        for command, args in (("lint", ["lint", str(pack)]),
                              ("audit", ["audit", str(estate), "--rules", str(pack), "--format", "json"])):
            code, out, err, seconds, grown = _cli(args)
            first = _first_result(out, err) if command == "audit" else next(
                (line for line in (err + out).splitlines() if "error" in line or "warning" in line), "clean")
            first = re.sub(r"\s+", " ", first)[:110]
            print(f"{name:46} {command:6} {code:>4} {seconds * 1000:9.1f} {grown:9.1f}  {first}")


def _time_v(args: list[str], cwd: Path) -> dict:
    """Run `python -m migcheck ARGS` under `/usr/bin/time -v`: exit code, peak RSS (KB), CPU and wall seconds."""
    report = cwd / "time.txt"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    done = subprocess.run(["/usr/bin/time", "-v", "-o", str(report), sys.executable, "-m", "migcheck", *args],
                          cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    text = report.read_text()

    def field(label: str) -> str:
        found = re.search(rf"{re.escape(label)}: (.*)", text)
        return found.group(1).strip() if found else "0"

    wall = [float(p) for p in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    return {"code": done.returncode, "peak_kb": int(field("Maximum resident set size (kbytes)")),
            "cpu": float(field("User time (seconds)")) + float(field("System time (seconds)")),
            "wall": sum(p * 60 ** k for k, p in enumerate(reversed(wall))), "stderr": done.stderr}


def plan_case(tmp: Path, migrations: int = 20_000, guests: int = 2_000) -> None:
    """A plan of `migrations` on a 200 x `guests` estate, and `check` of one pair of it, each in a subprocess."""
    data = generate(200, guests, seed=7)
    (tmp / "estate.json").write_text(json.dumps(data))
    plan = plan_data(data, migrations)
    (tmp / "plan.json").write_text(json.dumps(plan, indent=1))
    first = plan["stages"][0]["migrations"][0]
    one = _time_v(["check", "estate.json", first["guest"], first["to"], "--format", "json", "--output", "one.json"],
                  tmp)
    run = _time_v(["plan", "estate.json", "plan.json", "--format", "json", "--output", "plan-out.json"], tmp)
    per = (run["peak_kb"] - one["peak_kb"]) / max(migrations, 1)
    print(f"\nplan of {migrations:,} migrations on a 200x{guests:,} estate (subprocesses under /usr/bin/time -v)")
    print(f"{'run':44} {'exit':>4} {'peak RSS MB':>12} {'CPU s':>8} {'wall s':>8}")
    for label, got in ((f"check of one pair ({first['guest']} -> {first['to']})", one),
                       (f"plan, {len(plan['stages'])} stages, --format json", run)):
        print(f"{label:44} {got['code']:>4} {got['peak_kb'] / 1024:12.1f} {got['cpu']:8.1f} {got['wall']:8.1f}")
    print(f"{'KB per migration (plan - check) / migrations':44} {per:22.1f}")
    if run["code"] not in (0, 1):
        print("plan failed: " + run["stderr"].strip().splitlines()[-1] if run["stderr"].strip() else "plan failed")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--waivers-only", action="store_true")
    only.add_argument("--budget-only", action="store_true")
    only.add_argument("--plan-only", action="store_true")
    parser.add_argument("--migrations", type=int, default=20_000, help="migrations of the plan case")
    parser.add_argument("--guests", type=int, default=2_000, help="guests of the plan case's estate (200 VSPs)")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    if arguments.waivers_only:
        waiver_cases()
        sys.exit(0)
    if arguments.budget_only or arguments.plan_only:
        with tempfile.TemporaryDirectory() as tmp:
            if arguments.budget_only:
                budget_cases(Path(tmp))
            else:
                plan_case(Path(tmp), arguments.migrations, arguments.guests)
        sys.exit(0)
    status = main()
    waiver_cases()
    with tempfile.TemporaryDirectory() as tmp:
        regex_cases(Path(tmp))
    print()
    print("evaluation budget (bench.bench_budget): runaway rules stopped, every other result standing")
    status = runaway_cases([]) or status
    with tempfile.TemporaryDirectory() as tmp:
        budget_cases(Path(tmp))
        plan_case(Path(tmp), arguments.migrations, arguments.guests)
    sys.exit(status)
