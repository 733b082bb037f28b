"""Benchmark: load and validate a generated snapshot, against the plain program a reviewer writes.

The plain program is what migcheck itself runs on the valid path: the file read, `json.loads`,
and the shipped snapshot schema checked by `jsonschema_rs` (compiled once, before timing);
`orjson.loads` in its place when orjson is installed (the fastest plain reader). migcheck's
`load_snapshot` does more (it also indexes hosts, guests and DIO functions by name, and reads
YAML); its ratio says what that costs. It runs with the cache off, so that it validates the file
every time as the plain program does; a second line gives it with the file marked valid by an
earlier load (`files.cache`: the same bytes are not validated again). The same file is read by
every contender, each run in turn (`bench.timing`), CPU seconds of this process; every
contender's data is checked equal to `json.loads` of the file before any figure is printed.

    python -m bench.bench_load [--hosts 200] [--guests 10000] [--repeat 3] [--yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import jsonschema_rs

from bench.generate import generate
from bench.timing import interleaved, ratio
from migcheck.estate.snapshot import load_snapshot
from migcheck.files.resources import schema


def contenders(path_json: Path, path_yaml: Path | None) -> dict:
    validator = jsonschema_rs.validator_for(schema("snapshot.schema.json"))

    def plain_loads():
        data = json.loads(path_json.read_bytes())
        assert validator.is_valid(data)
        return data

    out = {"json.loads + jsonschema_rs": plain_loads}
    try:
        import orjson
    except ImportError:
        orjson = None
    if orjson is not None:
        def plain_orjson():
            data = orjson.loads(path_json.read_bytes())
            assert validator.is_valid(data)
            return data
        out["orjson.loads + jsonschema_rs"] = plain_orjson
    out["migcheck load_snapshot (JSON)"] = _cached("off", lambda: load_snapshot(str(path_json)).doc.data)
    marks = str(path_json.parent / "cache")
    _cached(marks, lambda: load_snapshot(str(path_json)))()  # marked valid, before timing
    out["... marked valid before"] = _cached(marks, lambda: load_snapshot(str(path_json)).doc.data)
    if path_yaml is not None:
        out["migcheck load_snapshot (YAML)"] = _cached("off", lambda: load_snapshot(str(path_yaml)).doc.data)
    return out


def _cached(folder: str, load):
    """`load` run with `MIGCHECK_CACHE_DIR` set to `folder` ("off": no cache, every file validated)."""
    def run():
        before = os.environ.get("MIGCHECK_CACHE_DIR")
        os.environ["MIGCHECK_CACHE_DIR"] = folder
        try:
            return load()
        finally:
            if before is None:
                del os.environ["MIGCHECK_CACHE_DIR"]
            else:
                os.environ["MIGCHECK_CACHE_DIR"] = before
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--guests", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the fastest run of each counts")
    parser.add_argument("--yaml", action="store_true", help="also the same estate as YAML (migcheck only)")
    args = parser.parse_args(argv)
    data = generate(args.hosts, args.guests, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        path_json = Path(tmp) / "estate.json"
        path_json.write_text(json.dumps(data, indent=1))
        path_yaml = None
        if args.yaml:
            import yaml
            path_yaml = Path(tmp) / "estate.yaml"
            path_yaml.write_text(yaml.safe_dump(data, sort_keys=False))
        size = path_json.stat().st_size
        values, best = interleaved(contenders(path_json, path_yaml), args.repeat)
    wanted = json.loads(json.dumps(data))
    for name, value in values.items():
        if value != wanted:
            raise SystemExit(f"{name} read other data than json.loads")
    floor = best["json.loads + jsonschema_rs"]
    print(f"estate: {args.hosts} hosts, {args.guests} guests ({size / 1e6:.1f} MB of JSON); "
          f"CPU s, fastest of {args.repeat} interleaved; same data checked")
    for name, seconds in best.items():
        print(f"{name:32} {seconds:7.3f} s  {ratio(seconds, floor):>7} json.loads + jsonschema_rs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
