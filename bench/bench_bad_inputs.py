"""Benchmark: how fast bad inputs are refused or reported (each must be well under 2 s, an
alias bomb well under 1 s). Prints each case's time and its first problem line, and the
ratio to loading (or auditing) the valid mixed-site fixture in the same process.
Regular-expression cases: catastrophic patterns in rules and in snapshot data run on RE2 in
linear time; unsupported patterns are refused by the checker or reported as `error`
results. Python's backtracking `re` on the same pattern is timed for comparison.
Waivers at scale: a 20x200 matrix with its results and 20, 1,000 and 20,000 waivers (each of
one rule and one guest, as a site writes them), against the same matrix with none.
Usage: python -m bench.bench_bad_inputs [--waivers-only]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from migcheck.files.document import Limits, LoadError, load_document
from migcheck.eval.engine import Engine
from migcheck.lang.diagnostics import RuleError
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data

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
    import re
    for n in (18, 20, 22):
        start = time.perf_counter()
        re.compile("(a+)+$").fullmatch("a" * n + "!")
        elapsed = time.perf_counter() - start
        label = f"for comparison, Python re: (a+)+$, {n} a's"
        print(f"{label:44} {elapsed * 1000:8.1f} ms  "
              f"{elapsed / baseline:6.1f}x  (doubles with each character: 30 would take minutes)")


def waiver_cases() -> None:
    """The matrix with its results under many waivers: matching by rule id and guest keeps it flat."""
    import random
    from datetime import date

    from bench.generate import generate
    from migcheck.eval.waivers import Waiver, Waivers

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


if __name__ == "__main__":
    if "--waivers-only" in sys.argv:
        waiver_cases()
        sys.exit(0)
    status = main()
    waiver_cases()
    with tempfile.TemporaryDirectory() as tmp:
        regex_cases(Path(tmp))
    print()
    print("evaluation budget (bench.bench_budget): runaway rules stopped, every other result standing")
    from bench.bench_budget import main as budget_cases

    status = budget_cases([]) or status
    sys.exit(status)
