"""Benchmark: load and validate a generated snapshot (200 hosts, 10,000 guests).

Prints seconds and ratios against baselines run in the same process: `json.loads` of the
same text, and plain `jsonschema` validation. Usage: python -m bench.bench_load
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import jsonschema

from bench.generate import generate
from migcheck.files.resources import schema
from migcheck.estate.snapshot import load_snapshot


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    hosts, guests = 200, 10_000
    data = generate(hosts, guests, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        path_json = Path(tmp) / "estate.json"
        path_json.write_text(json.dumps(data, indent=1))
        import yaml
        path_yaml = Path(tmp) / "estate.yaml"
        path_yaml.write_text(yaml.safe_dump(data, sort_keys=False))
        text = path_json.read_text()
        validator = jsonschema.Draft202012Validator(schema("snapshot.schema.json"))
        t_json = _best(lambda: json.loads(text), 5)
        t_jsonschema = _best(lambda: validator.validate(json.loads(text)), 1)
        t_ours_json = _best(lambda: load_snapshot(str(path_json)), 3)
        t_ours_yaml = _best(lambda: load_snapshot(str(path_yaml)), 1)
    print(f"estate: {hosts} hosts, {guests} guests ({len(text) / 1e6:.1f} MB of JSON)")
    print(f"json.loads                      {t_json:7.3f} s   1.0x")
    print(f"json.loads + jsonschema         {t_jsonschema:7.3f} s  {t_jsonschema / t_json:5.1f}x")
    print(f"migcheck load+validate (JSON)   {t_ours_json:7.3f} s  {t_ours_json / t_json:5.1f}x"
          f"   ({t_jsonschema / t_ours_json:.1f}x faster than jsonschema)")
    print(f"migcheck load+validate (YAML)   {t_ours_yaml:7.3f} s  {t_ours_yaml / t_json:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
