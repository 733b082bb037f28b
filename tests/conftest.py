from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(ROOT))  # for `bench.generate`


YAML_BREAKS = "\r\n|\r|\n|\x85|\u2028|\u2029"


def assert_inside(text: str, line: int, col: int, breaks: str = YAML_BREAKS) -> None:
    """A reported position names a character of `text`, or the end of a line or of the file
    (lines end at `breaks`: YAML's line breaks by default)."""
    import re

    def inside(lines):
        return 1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]) + 1

    # YAML's own marks count every YAML line break; byte-level problems count "\n" only
    assert inside(re.split(breaks, text)) or inside(text.split("\n")), (line, col, text[:200])


@cache
def report_validator():
    """schemas/report.schema.json (JSON Schema 2020-12), with format checks."""
    import jsonschema

    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid_json_output(data) -> None:
    """Every JSON object migcheck writes is valid against schemas/report.schema.json."""
    import jsonschema

    error = jsonschema.exceptions.best_match(report_validator().iter_errors(data))
    assert error is None, f"JSON output not valid against schemas/report.schema.json: {error}"


@cache
def _result_validator():
    validator = report_validator()
    return validator.evolve(schema={"$ref": "#/$defs/result", "$defs": validator.schema["$defs"]})


def assert_valid_result_line(line: str) -> None:
    """A line of `--format jsonl`: one result, valid as schemas/report.schema.json's `result`."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_result_validator().iter_errors(json.loads(line)))
    assert error is None, f"JSON Lines output not valid as a result of schemas/report.schema.json: {error}"


def _json_files(args: list[str]) -> list[Path]:
    """The files a command line asks migcheck to write as JSON (`--format json:FILE`, `--output`)."""
    files, fmts = [], []
    for flag, value in zip(args, args[1:]):
        if flag == "--format":
            fmt, _, path = value.partition(":")
            fmts.append(fmt)
            if fmt == "json" and path:
                files.append(Path(path))
        if flag == "--output" and "json" in fmts:
            files.append(Path(value))
    return files


@pytest.fixture
def run_cli(capsys):
    """Run `migcheck ARGS...` in-process; return (exit code, stdout, stderr).

    Every JSON object it prints or writes is checked against schemas/report.schema.json.
    """
    from migcheck.cli import main

    def run(*args: str):
        argv = [str(a) for a in args]
        code = main(argv)
        out = capsys.readouterr()
        if "jsonl" in argv:  # JSON Lines: each line one result of the report schema
            for line in out.out.splitlines():
                assert_valid_result_line(line)
        elif out.out.startswith("{"):
            data = json.loads(out.out)
            if "runs" not in data:  # SARIF has its own schema (tests/test_reports.py)
                assert_valid_json_output(data)
        for path in _json_files(argv):
            if path.is_file():
                assert_valid_json_output(json.loads(path.read_text()))
        return code, out.out, out.err

    return run


def site_pack(tmp_path, text: str):
    """A site rule pack of one file holding `text`, in `tmp_path/site`."""
    pack = tmp_path / "site"
    pack.mkdir()
    (pack / "site.rules").write_text(text)
    return pack


def small_estate(hosts: list[dict], guests: list[dict]) -> dict:
    """Snapshot data of these hosts and guests, the fields a test does not care about filled in."""
    for h in hosts:
        h.setdefault("version", "6.1.5")
        h.setdefault("processor", "Itanium 9500")
        h.setdefault("memory_mb", {"total": 65536, "free": 65536})
    for g in guests:
        g.setdefault("kind", "vm")
        g.setdefault("state", "off")
        g.setdefault("memory_mb", 1024)
    return {"snapshot": 1, "hosts": hosts, "guests": guests}


#: A site pack reading every field of the third reading (issue 19), so the sharing and differential
#: tests exercise them whatever the built-in pack holds when they run; it reads other guests too.
THIRD_READING_RULES = '''
rule SITE3-CORES {
  title "vCPUs within the target's cores"
  severity error
  on migration
  cite "site"
  when target.cpu_cores != null
  require target.cpu_cores >= default(guest.vcpus, 1)
  message "{guest.name}: {guest.vcpus} vCPUs on {target.name}"
}
rule SITE3-VPAR-CORES {
  title "a vPar's cores free on the target"
  severity error
  on migration
  cite "site"
  when guest.kind == "vpar" and target.cpu_cores_free != null
  require target.cpu_cores_free >= default(guest.vcpus, 1)
  message "{guest.name}: {guest.vcpus} cores, {target.cpu_cores_free} free on {target.name}"
}
rule SITE3-OS-ONLINE {
  title "online: HP-UX or OpenVMS with the guest kit"
  severity error
  on migration
  cite "site"
  when mode == "online"
  require guest.os_type in ["HPUX", "OPENVMS"] and (guest.guest_kit != "none" or guest.virtualbase != null)
  message "{guest.name} ({guest.os_type}, kit {guest.guest_kit}) cannot move online"
}
rule SITE3-MAC {
  title "MACs unused on the target"
  severity error
  on migration
  cite "site"
  for mac in distinct([n.mac for n in guest.networks where n.mac != null])
  require count(g in snapshot.guests where g.host == target.name and g.name != guest.name
                and any(n in g.networks: n.mac == mac)) == 0
  message "MAC {mac} of {guest.name} is used on {target.name}"
}
rule SITE3-VSWITCH {
  title "vswitches Up and physical for AVIO"
  severity warning
  on migration
  cite "site"
  for n in guest.networks
  let d = first([v for v in default(target.vswitch_details, []) where v.name == n.vswitch])
  require n.vswitch == null or d == null or (d.state != "Down" and (n.adapter != "avio_lan" or d.pnic != null))
  message "{n.vswitch} on {target.name} for {guest.name}"
}
rule SITE3-DEVICES {
  title "restricted, shared and online devices"
  severity error
  on migration
  cite "site"
  let restricted = [lower(w) for w in default(target.restricted_wwids, [])]
  let shared = [lower(w) for w in default(target.shared_wwids, [])]
  let bad = [s.path for s in guest.storage
             where (s.wwid != null and lower(s.wwid) in restricted)
                   or (s.share and s.wwid != null and lower(s.wwid) not in shared and mode == "online")
                   or (mode == "online" and s.backing not in ["disk", "null"] and not s.nfs)
                   or (mode == "online" and s.device != "disk" and s.backing != "null")]
  require count(bad) == 0
  message "{guest.name}: {bad} on {target.name}"
}
rule SITE3-NFS {
  title "NFS backing files mounted alike"
  severity warning
  on migration
  cite "site"
  for s in [s for s in guest.storage where s.nfs]
  require any(m in default(target.nfs_mounts, []): (m.mount_point + "/") in s.path
              and any(o in default(source.nfs_mounts, []): o.mount_point == m.mount_point and o.source == m.source
                      and o.options == m.options))
  message "{s.path} of {guest.name} is not mounted alike on {target.name}"
}
rule SITE3-NPIV {
  title "NPIV needs 4.3 or later"
  severity error
  on migration
  cite "site"
  when count(default(guest.npiv, [])) > 0
  require version(target.version) >= "4.3" and version(source.version) >= "4.3"
  message "{guest.name} has NPIV HBAs"
}
rule SITE3-GUEST {
  title "a guest's own parts"
  severity info
  on guest
  cite "site"
  require default(guest.memory_mb, 0) > 0 and count(guest.dio) <= 4
  message "{guest.name}"
}
'''


def whole_report(argv: list):
    """The report a command line makes; a matrix built the old way, every result and cell in memory (not
    streamed), as the whole-report renderers take it."""
    from migcheck.app import pipeline
    from migcheck.app.commands import _request
    from migcheck.cli import build_parser

    args = build_parser().parse_args([str(a) for a in argv])
    if argv[0] != "matrix":
        return pipeline.run(_request(args, argv[0])).report

    def whole(run):
        cells, results = [], []
        for chunk_cells, chunk_results in run.engine.iter_matrix(run.request.mode):
            cells += chunk_cells
            results += chunk_results
        return pipeline.Evaluation(results, cells=cells)
    saved = pipeline.EVALUATIONS["matrix"]
    pipeline.EVALUATIONS["matrix"] = whole
    try:
        return pipeline.run(_request(args, "matrix")).report
    finally:
        pipeline.EVALUATIONS["matrix"] = saved
