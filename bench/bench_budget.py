"""Benchmark: rules that would run away are stopped by the evaluation budget, and how fast.

The cases of issue 11 (no evaluation budget): a guest rule with a nested selection over
`snapshot.guests` (audit of 2,000 guests ran past 120 s), and a snapshot rule building a
guests x guests x guests list (exhausted 8 GB). Each runs through `migcheck audit` in this
process; the figure is the wall time to a report, the result status the rule got, and
whether every other rule's results stood.

    python -m bench.bench_budget [--guests 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import generate
from migcheck.cli import main as migcheck

CASES = {
    "guest rule, nested selection over every guest": (
        "guest", "count(g in snapshot.guests where count(h in snapshot.guests where h.memory_mb > g.memory_mb) > 0)"
                 " >= 0"),
    "snapshot rule, guests x guests x guests list": (
        "snapshot", "count([[[a.name + b.name + c.name for c in snapshot.guests] for b in snapshot.guests] "
                    "for a in snapshot.guests]) >= 0"),
    "guest rule, guests x guests list naming the guest": (
        "guest", "count([[a.name + b.name + guest.name for b in snapshot.guests] for a in snapshot.guests]) >= 0"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guests", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        estate = Path(tmp) / "estate.json"
        estate.write_text(json.dumps(generate(20, args.guests, seed=3)))
        print(f"{'case':<48} {'seconds':>8}  {'status of the rule':<22} others")
        for number, (name, (subject, require)) in enumerate(CASES.items()):
            pack = Path(tmp) / f"pack{number}"
            pack.mkdir()
            (pack / "site.rules").write_text(
                f'rule SITE-RUNAWAY {{\n  title "t"\n  severity warning\n  on {subject}\n  cite "c"\n'
                f'  require {require}\n  message "m"\n}}\n')
            out = io.StringIO()
            start = time.perf_counter()
            with contextlib.redirect_stdout(out):
                code = migcheck(["audit", str(estate), "--rules", str(pack), "--format", "json"])
            seconds = time.perf_counter() - start
            results = json.loads(out.getvalue())["results"]
            mine = {r["status"] for r in results if r["rule"] == "SITE-RUNAWAY"}
            others = [r for r in results if r["rule"] != "SITE-RUNAWAY"]
            stood = "stood" if others and all(r["status"] != "error" for r in others) else "LOST"
            print(f"{name:<48} {seconds:8.2f}  {','.join(sorted(mine)):<22} {stood} (exit {code})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
