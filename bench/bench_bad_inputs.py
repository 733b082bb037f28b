"""Benchmark: how fast bad snapshots are refused (each must be well under 2 s, an alias
bomb well under 1 s). Prints each case's time and its first problem line, and the ratio
to loading the valid mixed-site fixture in the same process. Usage: python -m bench.bench_bad_inputs
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from migcheck.document import LoadError
from migcheck.snapshot import load_snapshot

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
