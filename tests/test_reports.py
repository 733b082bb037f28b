"""Reports in every format, waivers, site configuration, explain, manifests and baselines.

Golden files live in tests/golden/; refresh them on purpose with
MIGCHECK_UPDATE_GOLDEN=1 python -m pytest tests/test_reports.py
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
import yaml

from .conftest import FIXTURES, ROOT

GOLDEN = Path(__file__).parent / "golden"
# the official SARIF 2.1.0 schema (a copy of shared/reference/sarif-schema-2.1.0.json)
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
EPOCH = "1764000000"  # 2025-11-24, the report time of golden files (the waiver fixture does not depend on it)
FORMATS = ["table", "json", "csv", "csv-cells", "markdown", "html", "sarif", "junit"]
EXT = {"table": "txt", "json": "json", "csv": "csv", "csv-cells": "cells.csv", "markdown": "md", "html": "html",
       "sarif": "sarif", "junit": "xml"}


@pytest.fixture
def in_root(monkeypatch):
    """Run from the repository root with a fixed report time, so reports are byte-stable."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def _report(run_cli, fmt: str, command: str = "matrix") -> tuple[int, str]:
    args = {"matrix": ["matrix", "fixtures/mixed-site.yaml"],
            "check": ["check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2"],
            "audit": ["audit", "fixtures/estate-broken.yaml"]}[command]
    code, out, err = run_cli(*args, "--waivers", "fixtures/waivers.yaml", "--warn-expiring", "30",
                             "--format", fmt)
    assert not err, err
    return code, out


@pytest.mark.parametrize("command", ["matrix", "check", "audit"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_reports(in_root, run_cli, fmt, command):
    code, out = _report(run_cli, fmt, command)
    assert code == 1
    golden = GOLDEN / f"{command}.{EXT[fmt]}"
    if os.environ.get("MIGCHECK_UPDATE_GOLDEN"):
        golden.write_bytes(out.encode())
    assert out.encode() == golden.read_bytes(), f"{golden} differs; refresh on purpose with MIGCHECK_UPDATE_GOLDEN=1"
    assert _report(run_cli, fmt, command)[1] == out  # byte-stable across runs


def _sarif_validator():
    schema = json.loads(SARIF_SCHEMA.read_text())
    return jsonschema.validators.validator_for(schema)(schema)


@pytest.mark.parametrize("command", ["matrix", "check", "audit"])
def test_sarif_is_valid_against_the_official_schema(in_root, run_cli, command):
    _, out = _report(run_cli, "sarif", command)
    sarif = json.loads(out)
    errors = sorted(_sarif_validator().iter_errors(sarif), key=str)
    assert not errors, errors[0]
    run = sarif["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "DIO-NO-MATCH" in ids and all(r["help"]["text"] and r["properties"]["cite"]
                                         for r in run["tool"]["driver"]["rules"])
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "fixtures/" + location["uri"].removeprefix("fixtures/"), "uriBaseId": "%SRCROOT%"}


def test_sarif_locates_results_at_their_subject_line(in_root, run_cli):
    _, out = _report(run_cli, "sarif", "check")
    results = json.loads(out)["runs"][0]["results"]
    vswitch = [r for r in results if r["ruleId"] == "VSWITCH-MISSING"][0]
    assert vswitch["locations"][0]["physicalLocation"]["region"]["startLine"] == 67  # `- name: sapapp01`
    assert "suppressions" not in vswitch  # its waiver has expired
    waived = [r for r in json.loads(_report(run_cli, "sarif", "matrix")[1])["runs"][0]["results"] if "suppressions" in r]
    assert waived and all(s["status"] == "accepted" for r in waived for s in r["suppressions"])


def test_junit_distinguishes_failures_errors_and_skips(in_root, run_cli):
    code, out, _ = run_cli("check", "fixtures/estate-broken.yaml", "crm01", "vsp-w1", "--format", "junit")
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    assert {c.get("classname") for c in failures} >= {"migcheck.INV-UNKNOWN-HOST"}
    assert {c.get("classname") for c in errors} >= {"migcheck.PATH-OFFLINE"}
    assert int(root.get("failures")) == len(failures) and int(root.get("errors")) == len(errors)
    assert int(root.get("tests")) == len(cases)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_junit_matrix_has_a_case_per_guest_naming_every_migration(in_root, run_cli):
    _, out = _report(run_cli, "junit", "matrix")
    root = ET.fromstring(out)
    cases = root.findall(".//testcase")
    cells = json.loads(_report(run_cli, "json", "matrix")[1])["cells"]
    guests = list(dict.fromkeys(c["guest"] for c in cells))
    assert len(cases) == len(guests) == 6 and root.get("tests") == "6"  # one case per guest, counted once
    blocked = {c["guest"] for c in cells if c["verdict"] == "blocked"}
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == len(blocked) and root.get("failures") == str(len(blocked))
    for suite in root.findall("testsuite"):  # each migration is named in its guest's properties and text
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        mine = [c for c in cells if c["guest"] == props["guest"]]
        for verdict in ("ready", "blocked", "unknown"):
            assert props[f"{verdict}_targets"].split() == [c["target"] for c in mine if c["verdict"] == verdict]
        failure = suite.find("testcase/failure")
        for c in mine:
            if c["verdict"] == "blocked":  # every blocked migration visible with its blocking rules
                line = [x for x in failure.text.splitlines() if x.startswith("blocked by ")
                        and c["target"] in x.split(": ", 1)[1].split(", ")]
                assert len(line) == 1 and all(rule in line[0] for rule in c["blocking"]), (c, failure.text)
    dbprod = [c for c in cases if c.get("name").startswith("dbprod01: vsp-e1 -> ")][0]
    message = dbprod.find("failure").get("message")
    assert message.startswith("blocked on ") and "GUEST-RUNNING" in message and "DIO-CROSS-TYPE" not in message
    assert "not blocking: DIO-CROSS-TYPE" in dbprod.find("failure").text
    assert "waived" in dbprod.find("failure").text
    assert all(c.get("time") == "0" for c in cases)


RULE_DOCS = "https://github.com/migcheck/migcheck/blob/main/docs/rules.md#rule-"  # links, never fetched


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headings, self.external, self.cells, self.stack = [], [], [], []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._tag = tag
        for key in ("src", "href"):
            if key in attrs and not (tag == "a" and attrs[key].startswith(RULE_DOCS)):  # a rule's documentation
                self.external.append(attrs[key])
        if tag == "td" and "class" in attrs and attrs["class"].startswith("c-"):
            self.cells.append(attrs["class"])
        if tag == "script" and "src" in attrs:
            self.external.append("<script src>")

    def handle_data(self, data):
        if self._tag in ("h1", "h2") and data.strip():
            self.headings.append(data.strip())
            self._tag = None


def test_html_is_self_contained_and_ordered(in_root, run_cli):
    _, out = _report(run_cli, "html", "matrix")
    parser = _Html()
    parser.feed(out)
    assert parser.external == []
    assert parser.headings[:5] == ["migcheck matrix report", "Migrations", "Findings", "Rules behind the findings",
                                   "Waivers"]
    assert out.index('class="cards"') < out.index("<h2>Migrations</h2>") < out.index("<h2>Findings</h2>")
    assert parser.cells.count("c-blocked") == 13 and parser.cells.count("c-ready") == 5
    assert "@media print" in out
    assert '<td class="cite">HP vPars and Integrity VM V6.1 Administrator Guide' in out
    assert "hpvmnet -c -S" in out  # fixes are shown with their findings


def test_csv_rows(in_root, run_cli):
    _, out = _report(run_cli, "csv", "check")
    rows = list(csv.DictReader(io.StringIO(out)))
    vs = [r for r in rows if r["rule"] == "VSWITCH-MISSING"][0]
    assert vs["status"] == "fail" and vs["waived"] == "no" and vs["target"] == "vsp-e2" and vs["line"] == "67"


def test_several_formats_in_one_run_written_atomically(in_root, run_cli, tmp_path):
    a, b = tmp_path / "out" / "r.json", tmp_path / "r.html"
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2",
                           "--format", f"json:{a}", "--format", f"html:{b}")
    assert code == 1 and out == ""
    assert json.loads(a.read_text())["verdict"] == "blocked"
    assert b.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["out", "r.html", "r.json"]
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--format", "csv",
                           "--output", tmp_path / "r.csv")
    assert out == "" and (tmp_path / "r.csv").read_text().startswith("rule,severity")


def test_a_crash_while_writing_leaves_the_old_report(tmp_path, monkeypatch):
    from migcheck.files import outputs as atomic

    target = tmp_path / "report.json"
    target.write_text("old")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(OSError):
        atomic.write_atomic(target, "new" * 1000)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


# -- waivers -----------------------------------------------------------------------------
def test_waivers_active_expired_stale_expiring(in_root, run_cli, tmp_path):
    # waivers are judged on --as-of (the report clock, SOURCE_DATE_EPOCH, is not theirs): one lapsing 7 days after
    from datetime import UTC, datetime, timedelta

    today = datetime.fromtimestamp(int(EPOCH), tz=UTC).date()
    soon = (today + timedelta(days=7)).isoformat()
    text = (ROOT / "fixtures/waivers.yaml").read_text()
    assert "expires: 2099-12-01" in text
    waivers = _write(tmp_path / "w.yaml", text.replace("expires: 2099-12-01", f"expires: {soon}"))
    code, out, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--waivers", waivers, "--warn-expiring", "30",
                           "--as-of", today.isoformat(), "--format", "json")
    data = json.loads(out)
    waived = [r for r in data["results"] if r["waiver"]]
    assert {(r["rule"], r["subject"]["guest"]) for r in waived} == {
        ("DIO-LABEL-IPNAME", "dbprod01"), ("STORAGE-LOCAL", "apptest03")}
    assert all(r["status"] == "fail" for r in waived)  # a waiver never changes the status
    notes = {n["status"]: n for n in data["waivers"]}
    assert notes["expiring"]["rule"] == "STORAGE-LOCAL" and "lapses in 7 day(s)" in notes["expiring"]["message"]
    assert notes["expired"]["rule"] == "VSWITCH-MISSING" and notes["expired"]["location"] == f"{waivers}:17"
    assert notes["expired"]["ticket"] == "CHG-0999"
    assert notes["stale"]["rule"] == "DIO-IN-USE"  # the matrix evaluated every guest: judged on this run
    assert "matches nothing in this run" in notes["stale"]["message"]
    # the expired waiver does not apply: sapapp01 -> vsp-e2 is still blocked by VSWITCH-MISSING
    cell = [c for c in data["cells"] if c["guest"] == "sapapp01" and c["target"] == "vsp-e2"][0]
    assert "VSWITCH-MISSING" in cell["blocking"] and cell["verdict"] == "blocked"
    assert data["summary"]["waived"] == 4
    # the fixture itself holds no waiver whose role depends on today's date
    code, out, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--waivers", "fixtures/waivers.yaml",
                           "--warn-expiring", "30", "--format", "json")
    assert "expiring" not in {n["status"] for n in json.loads(out)["waivers"]}


def test_unused_waivers_are_stale_only_if_no_command_matches_them(in_root, run_cli):
    """With `--stale-check`, in a `check`, waivers of other migrations and of audit findings are out of
    scope, not stale."""
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers",
                           "fixtures/waivers.yaml", "--format", "json", "--stale-check")
    notes = {n["rule"]: n for n in json.loads(out)["waivers"]}
    assert notes["DIO-LABEL-IPNAME"]["status"] == "out-of-scope"
    assert notes["DIO-LABEL-IPNAME"]["scope"] == ["audit", "matrix offline"]
    assert notes["STORAGE-LOCAL"]["status"] == "out-of-scope" and notes["STORAGE-LOCAL"]["scope"] == ["matrix offline"]
    assert notes["VSWITCH-MISSING"]["status"] == "expired"
    assert notes["DIO-IN-USE"]["status"] == "stale"
    # an online matrix does not see offline-only findings, yet the waivers stay in scope elsewhere
    code, out, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--mode", "online", "--waivers",
                           "fixtures/waivers.yaml", "--format", "json", "--stale-check")
    notes = {n["rule"]: n for n in json.loads(out)["waivers"]}
    assert notes["STORAGE-LOCAL"]["status"] == "out-of-scope" and "matrix online" not in notes["STORAGE-LOCAL"]["scope"]
    assert notes["DIO-IN-USE"]["status"] == "stale"
    # the HTML calls them what they are
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers",
                           "fixtures/waivers.yaml", "--format", "html", "--stale-check")
    assert out.count(">not in scope of this run</span>") == 2 and out.count(">stale</span>") == 1


@pytest.mark.parametrize("share", [1, 4])  # 1: the 3 waived guests of 6 are checked pair by pair
def test_unused_waiver_scope_is_the_same_pair_by_pair_or_by_matrix(in_root, run_cli, monkeypatch, share):
    """Looking only at the waivers' own guests (check by check) finds what the whole matrix finds."""
    from migcheck.eval import waivers

    monkeypatch.setattr(waivers, "TARGETED_SHARE", share)
    _, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers",
                        "fixtures/waivers.yaml", "--format", "json", "--stale-check")
    notes = {n["rule"]: (n["status"], n.get("scope")) for n in json.loads(out)["waivers"]}
    assert notes == {"DIO-LABEL-IPNAME": ("out-of-scope", ["audit", "matrix offline"]),
                     "STORAGE-LOCAL": ("out-of-scope", ["matrix offline"]),
                     "VSWITCH-MISSING": ("expired", None), "DIO-IN-USE": ("stale", None)}


def test_a_waived_failure_no_longer_fails_the_run(in_root, run_cli, tmp_path):
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: VSWITCH-MISSING\n    guest: sapapp01\n    reason: r\n    owner: o\n"
                       "    expires: 2030-01-01\n  - rule: DIO-NO-MATCH\n    guest: sap*\n    target: vsp-e?\n"
                       "    reason: r\n    owner: o\n    expires: 2030-01-01\n")
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers", waivers)
    assert code == 0 and out.startswith("READY")
    assert "waived until 2030-01-01" in out


def test_expiring_is_only_listed_when_asked(in_root, run_cli):
    _, out, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--waivers", "fixtures/waivers.yaml", "--format", "json")
    assert "expiring" not in {n["status"] for n in json.loads(out)["waivers"]}


def test_malformed_waiver_file_exits_2_with_every_problem(in_root, run_cli, tmp_path):
    bad = tmp_path / "w.yaml"
    bad.write_text("waivers:\n  - rule: DIO-LABEL-IPNAM\n    reason: r\n    owner: o\n    expires: 2027-02-30\n"
                   "  - rule: MEMORY-TARGET\n    owner: o\n    expires: soon\n    gust: web*\n")
    code, _, err = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers", bad)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith(str(bad))]
    assert any(":6:5: error[schema]: waiver #2 (`MEMORY-TARGET`) is missing `reason`" in x for x in lines), lines
    assert any(":8:14: " in x and "`expires`" in x for x in lines), lines
    assert any(":9:5: error[schema]: waiver #2 (`MEMORY-TARGET`) has unknown field `gust`" in x for x in lines), lines
    code, _, err = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers",
                           _write(tmp_path / "w2.yaml", "waivers:\n  - rule: DIO-LABEL-IPNAM\n    reason: r\n"
                                  "    owner: o\n    expires: 2027-02-30\n"))
    assert code == 2
    assert "w2.yaml:2:11: error[unknown-rule]: unknown rule `DIO-LABEL-IPNAM`" in err and "did you mean `DIO-LABEL-IPNAME`?" in err
    assert "w2.yaml:5:14: error[bad-date]: `2027-02-30` is not a date" in err


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- site configuration --------------------------------------------------------------------
def test_configuration_changes_verdicts_without_touching_rules(in_root, run_cli):
    before = {p: p.read_bytes() for p in (ROOT / "rules").rglob("*") if p.is_file()}
    # a disabled built-in rule: dbprod01 is blocked only because it is running
    assert run_cli("check", "fixtures/mixed-site.yaml", "dbprod01", "vsp-e2")[0] == 1
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "dbprod01", "vsp-e2", "--config", "fixtures/migcheck.yaml")
    assert code == 0 and "GUEST-RUNNING" not in out
    # a warning raised to an error: apptest03 has local storage
    assert run_cli("check", "fixtures/mixed-site.yaml", "apptest03", "vsp-e1")[0] == 0
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "apptest03", "vsp-e1", "--config",
                           "fixtures/migcheck.yaml", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["verdict"] == "blocked"
    assert [r["severity"] for r in data["results"] if r["rule"] == "STORAGE-LOCAL"] == ["error"]
    # an added migration path: Integrity VM 3.5 -> 4.1, validated by the site
    assert run_cli("check", "fixtures/ivm4-small.yaml", "legacy01", "ivmn03")[0] == 1
    code, out, _ = run_cli("check", "fixtures/ivm4-small.yaml", "legacy01", "ivmn03", "--config", "fixtures/migcheck.yaml")
    assert code == 0, out
    # the site pack listed in the configuration runs
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e3", "--config",
                           "fixtures/migcheck.yaml")
    assert "SITE-SUPPORT" in out
    assert before == {p: p.read_bytes() for p in (ROOT / "rules").rglob("*") if p.is_file()}


def test_configuration_default_fail_on_and_tags(run_cli, tmp_path):
    cfg = _write(tmp_path / "c.yaml", "fail_on: warning\ntags: [memory]\n")
    code, out, _ = run_cli("check", FIXTURES / "mixed-site.yaml", "apptest03", "vsp-e1", "--config", cfg,
                           "--format", "json")
    data = json.loads(out)
    assert {r["rule"] for r in data["results"]} == {"MEMORY-TARGET"}
    assert code == 0
    cfg = _write(tmp_path / "d.yaml", "fail_on: warning\n")
    assert run_cli("check", FIXTURES / "mixed-site.yaml", "apptest03", "vsp-e1", "--config", cfg)[0] == 1
    assert run_cli("check", FIXTURES / "mixed-site.yaml", "apptest03", "vsp-e1", "--config", cfg,
                   "--fail-on", "error")[0] == 0


def test_configuration_errors_are_located_never_ignored(run_cli, tmp_path):
    cfg = _write(tmp_path / "c.yaml", "disable: [DIO-LABEL-IPNAM]\nseverity: {STORAGE-LOCL: error}\n"
                 "data:\n  offline_path: []\n  online_paths:\n    - {source_min: \"4.1\", extra: 1}\n"
                 "rules: [nowhere/]\n")
    code, _, err = run_cli("check", FIXTURES / "mixed-site.yaml", "apptest03", "vsp-e1", "--config", cfg)
    assert code == 2
    assert f"{cfg}:7:9: error[bad-pack]: rule pack `nowhere/` is not a directory" in err
    cfg = _write(tmp_path / "c2.yaml", "disable: [DIO-LABEL-IPNAM]\nseverity: {STORAGE-LOCL: error}\n"
                 "data:\n  offline_path: []\n  online_paths:\n    - {source_min: \"4.1\", extra: 1}\n"
                 "colour: red\n")
    code, _, err = run_cli("check", FIXTURES / "mixed-site.yaml", "apptest03", "vsp-e1", "--config", cfg)
    assert code == 2 and "has unknown field `colour`" in err
    cfg = _write(tmp_path / "c3.yaml", "disable: [DIO-LABEL-IPNAM]\nseverity: {STORAGE-LOCL: error}\n"
                 "data:\n  offline_path: []\n  online_paths:\n    - {source_min: \"4.1\", extra: 1}\n")
    code, _, err = run_cli("check", FIXTURES / "mixed-site.yaml", "apptest03", "vsp-e1", "--config", cfg)
    assert code == 2
    assert f"{cfg}:1:11: error[unknown-rule]: unknown rule `DIO-LABEL-IPNAM`" in err and "did you mean `DIO-LABEL-IPNAME`?" in err
    assert f"{cfg}:2:12: error[unknown-rule]: unknown rule `STORAGE-LOCL`" in err
    assert f"{cfg}:4:3: error[unknown-table]: unknown data table `offline_path`" in err
    assert "row 1 of `online_paths` has unknown column(s) `extra`" in err


# -- explain, manifest, baseline ---------------------------------------------------------------
def test_explain_shows_values_and_what_would_pass(in_root, run_cli):
    code, out, _ = run_cli("explain", "fixtures/mixed-site.yaml", "DIO-NO-MATCH", "sapapp01", "vsp-e2")
    assert code == 0
    assert "let have = count(f in target.dio_functions where f.pool and f.label == label)  =>  0" in out
    assert "is 0; it passes when at least 1 (need)" in out
    assert 'message: 1 DIO function(s) labeled "sapapp01" on sapapp01, 0 pooled on vsp-e2' in out
    assert "rule DIO-NO-MATCH {" in out  # the rule's source
    code, out, _ = run_cli("explain", "fixtures/mixed-site.yaml", "MEMORY-TARGET", "sapapp01", "vsp-e2")
    assert "=> pass" in out
    code, out, _ = run_cli("explain", "fixtures/mixed-site.yaml", "DIO-LABEL-IPNAME", "dbprod01")
    assert '[f = 0/0/0/4/0/0/0]' in out and "=> FAIL" in out
    code, out, _ = run_cli("explain", "fixtures/ivm4-small.yaml", "PATH-OFFLINE", "legacy01", "ivmn03")
    assert "no p in data.offline_paths (5 item(s)) meets" in out
    assert "[p = {kind: vm, a_min: 3.5, a_below: 3.6, b_min: 3.5, b_below: 3.6" in out
    code, _, err = run_cli("explain", "fixtures/mixed-site.yaml", "DIO-NO-MATCH", "sapapp01")
    assert code == 2 and "give GUEST TARGET" in err
    code, _, err = run_cli("explain", "fixtures/mixed-site.yaml", "DIO-NO-MACH", "sapapp01", "vsp-e2")
    assert code == 2 and "did you mean `DIO-NO-MATCH`?" in err


def test_manifest_makes_reports_reproducible(in_root, run_cli):
    _, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers",
                        "fixtures/waivers.yaml", "--config", "fixtures/migcheck.yaml", "--format", "json")
    m = json.loads(out)["manifest"]
    import hashlib

    assert m["snapshot_sha256"] == hashlib.sha256((ROOT / "fixtures/mixed-site.yaml").read_bytes()).hexdigest()
    assert m["waivers_sha256"] == hashlib.sha256((ROOT / "fixtures/waivers.yaml").read_bytes()).hexdigest()
    assert m["config_sha256"] == hashlib.sha256((ROOT / "fixtures/migcheck.yaml").read_bytes()).hexdigest()
    assert len(m["rule_pack_sha256"]) == 64 and len(m["schema_sha256"]) == 64
    assert m["generated"] == "2025-11-24T16:00:00Z" and m["tool_version"]


def test_baseline_marks_new_unchanged_and_resolved(in_root, run_cli, tmp_path):
    base = tmp_path / "base.json"
    run_cli("matrix", "fixtures/mixed-site.yaml", "--format", f"json:{base}")
    # the same estate after the fix of vsp-e2, and a new local disk on web01
    after = tmp_path / "after.yaml"
    after.write_text((ROOT / "fixtures/mixed-site-after.yaml").read_text().replace(
        "      - {backing: disk, path: /dev/rdisk/disk120, shared_san: true}",
        "      - {backing: disk, path: /dev/rdisk/disk120, shared_san: true}\n"
        "      - {backing: lv, path: /dev/vg01/rweb01_logs}"))
    code, out, _ = run_cli("matrix", after, "--baseline", base, "--format", "json")
    data = json.loads(out)
    marks = {(r["rule"], r["subject"]["guest"], r["subject"].get("target")): r["baseline"]
             for r in data["results"] if r["status"] == "fail"}
    assert marks[("STORAGE-LOCAL", "web01", "vsp-e4")] == "new"
    assert marks[("GUEST-RUNNING", "web01", "vsp-e4")] == "unchanged"
    resolved = {(r["rule"], r["subject"]["guest"], r["subject"]["target"]) for r in data["baseline"]["resolved"]}
    assert ("VSWITCH-MISSING", "sapapp01", "vsp-e2") in resolved
    # --fail-on-new: unchanged findings do not fail, new warnings do not either, new errors would
    assert run_cli("matrix", after, "--baseline", base, "--fail-on-new")[0] == 0
    assert run_cli("matrix", after, "--baseline", base, "--fail-on-new", "--fail-on", "warning")[0] == 1
    assert run_cli("matrix", "fixtures/mixed-site.yaml", "--baseline", base, "--fail-on-new", "--fail-on",
                   "warning")[0] == 0


def _sapapp01_not_captured(tmp_path, parts: str):
    """mixed-site.yaml with `unknown: [PARTS]` on sapapp01 (parts of it a capture did not give)."""
    lines = (ROOT / "fixtures/mixed-site.yaml").read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "name: sapapp01" in line)
    lines.insert(at + 1, " " * lines[at].index("name") + f"unknown: [{parts}]\n")
    partial = tmp_path / "partial.yaml"
    partial.write_text("".join(lines))
    return partial


@pytest.mark.parametrize("command", [("check", "sapapp01", "vsp-e2"), ("matrix", "--guest", "sapapp01")])
def test_a_finding_that_erred_in_the_baseline_and_fails_now_is_new(in_root, run_cli, tmp_path, command):
    """The baseline could not evaluate sapapp01's network rules (networks not captured); captured now, they fail:
    that failure is new (`--fail-on-new` fails), not "unchanged" by its fingerprint alone."""
    partial = _sapapp01_not_captured(tmp_path, "networks")
    base = tmp_path / "base.json"
    run_cli(command[0], partial, *command[1:], "--format", f"json:{base}")
    assert any(r["rule"] == "VSWITCH-MISSING" and r["status"] == "error" for r in json.loads(base.read_text())["results"])
    code, out, _ = run_cli(command[0], "fixtures/mixed-site.yaml", *command[1:], "--baseline", base, "--format", "json")
    data = json.loads(out)
    marks = {r["rule"]: r["baseline"] for r in data["results"]
             if r["status"] == "fail" and r["subject"].get("target") == "vsp-e2"}
    assert marks["VSWITCH-MISSING"] == "new", marks
    resolved = {(r["rule"], r["subject"].get("target")) for r in data["baseline"]["resolved"]}
    assert ("VSWITCH-MISSING", "vsp-e2") in resolved  # the error it was is gone
    assert run_cli(command[0], "fixtures/mixed-site.yaml", *command[1:], "--baseline", base, "--fail-on-new")[0] == 1


@pytest.mark.parametrize("value", [["apptest03"], {"a": 1}])
def test_a_baseline_subject_holding_a_list_or_a_map_is_located(run_cli, tmp_path, value):
    """`subject: {guest: [apptest03]}` raised TypeError (unhashable) when the run scoped the resolved findings."""
    base = tmp_path / "b.json"
    run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{base}")
    doc = json.loads(base.read_text())
    doc["results"].append({**doc["results"][0], "fingerprint": "zzzz", "subject": {"guest": value}})
    base.write_text(json.dumps(doc, indent=2))
    code, _, err = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--baseline", base)
    assert code == 2 and "Traceback" not in err and "`subject.guest` must be a name or a number, not" in err, err


def test_a_check_does_not_resolve_the_findings_of_pairs_it_did_not_evaluate(in_root, run_cli, tmp_path):
    """A baseline of the whole matrix and a check of one pair: the matrix's findings of every other pair were
    listed as resolved. Only what the run evaluated is; the rest is counted as not evaluated."""
    base = tmp_path / "base.json"
    run_cli("matrix", "fixtures/mixed-site.yaml", "--format", f"json:{base}")
    earlier = [r for r in json.loads(base.read_text())["results"] if r["status"] in ("fail", "error")]
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "web01", "vsp-e3", "--baseline", base,
                           "--format", "json")
    section = json.loads(out)["baseline"]
    assert section["resolved"] == []  # web01 -> vsp-e3 fails as it did; nothing of it is gone
    mine = [r for r in earlier if r["subject"].get("guest") == "web01" and r["subject"].get("target") == "vsp-e3"]
    assert section["unchanged"] == len(mine) and section["not_evaluated"] == len(earlier) - len(mine)
    _, table, _ = run_cli("check", "fixtures/mixed-site.yaml", "web01", "vsp-e3", "--baseline", base)
    assert f"{len(earlier) - len(mine)} of its findings not evaluated by this run" in " ".join(table.split())


def test_bad_baseline_exits_2(run_cli, tmp_path):
    bad = _write(tmp_path / "b.json", '{"results": []}')
    code, _, err = run_cli("matrix", FIXTURES / "mixed-site.yaml", "--baseline", bad)
    assert code == 2 and "not a migcheck JSON report" in err


def test_a_baseline_result_of_a_status_no_report_has_is_located(run_cli, tmp_path):
    """`"status": "FAIL"` (hand-edited) dropped the finding without a word: it then counted as new."""
    base = tmp_path / "b.json"
    run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{base}")
    text = base.read_text()
    assert '"status": "fail"' in text
    base.write_text(text.replace('"status": "fail"', '"status": "FAIL"', 1))
    line = base.read_text()[:base.read_text().index('"status": "FAIL"')].count("\n") + 1
    code, _, err = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--baseline", base)
    assert code == 2 and "Traceback" not in err
    assert f"{base}:{line}:" in err and "has the status `FAIL`, not one of `fail`" in err, err


def _chromium() -> str | None:
    import shutil

    return next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or "")
                 if p and Path(p).exists()), None)


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed")
def test_html_report_renders_in_a_browser(in_root, run_cli, tmp_path):
    """Render the mixed site's matrix report headless: a real page, a working filter, and complete without scripts."""
    import subprocess

    page = tmp_path / "report.html"
    run_cli("matrix", "fixtures/mixed-site.yaml", "--waivers", "fixtures/waivers.yaml", "--format", f"html:{page}")
    browser = _chromium()
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    shot = tmp_path / "report.png"
    subprocess.run(common + [f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600",
                             f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank page compresses to a few kilobytes

    def dom(*flags: str, profile: str) -> str:
        return subprocess.run(common + [f"--user-data-dir={tmp_path / profile}", *flags, "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=120).stdout

    _, js = _report(run_cli, "json", "matrix")
    findings = [r for r in json.loads(js)["results"] if r["status"] in ("fail", "error")]
    n, running = len(findings), sum(1 for r in findings if r["rule"] == "GUEST-RUNNING")
    live = dom(profile="p2")
    assert "BLOCKED" in live and "DIO-NO-MATCH" in live
    assert 'class="controls"' in live and f"{n} of {n} shown" in live  # the inline script ran and counted the rows
    # the filter hides what does not match: #q=GUEST-RUNNING leaves the running-guest findings
    filtered = subprocess.run(common + [f"--user-data-dir={tmp_path / 'p4'}", "--dump-dom",
                                        page.as_uri() + "#q=GUEST-RUNNING"], capture_output=True, text=True,
                              timeout=120).stdout
    assert f"{running} of {n} shown" in filtered
    rows = re.findall(r"<tr class=\"sev-[^\"]*\"[^>]*>", filtered)
    assert len(rows) == n and sum(1 for r in rows if " hidden" in r) == n - running
    # scripts off, the page is the file as written: no controls to go dead, and every finding
    static = page.read_text()
    assert 'class="controls"' not in static
    assert static.split('id="findings"')[1].split("</table>")[0].count("<tr ") == n


def test_reports_are_written_with_ordinary_permissions(tmp_path):
    from migcheck.files.outputs import write_atomic

    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "r.txt").stat().st_mode & 0o777 == 0o644


def test_table_colour_only_when_asked(in_root, run_cli):
    from migcheck.report import Report, render
    from migcheck.core.results import Result

    report = Report("audit", "fail", [Result("X", "error", "fail", {"host": "h"}, "m", "f", "c", "t")],
                    snapshot_path="s.yaml")
    assert "\033[" in render(report, "table", color=True)
    assert "\033[" not in render(report, "table", color=False)


def test_report_options_are_checked_before_any_work(run_cli, tmp_path):
    code, _, err = run_cli("matrix", FIXTURES / "mixed-site.yaml", "--fail-on-new")
    assert code == 2 and "--fail-on-new needs --baseline" in err
    code, _, err = run_cli("matrix", FIXTURES / "nope.yaml", "--format", "htm")
    assert code == 2 and "did you mean `html`?" in err  # reported before the missing snapshot


def test_wide_matrix_is_summarised_per_guest(run_cli, tmp_path):
    from bench.generate import generate

    estate = tmp_path / "wide.json"
    estate.write_text(json.dumps(generate(45, 30, seed=5)))
    run_cli("matrix", estate, "--format", f"markdown:{tmp_path / 'r.md'}", "--format", f"html:{tmp_path / 'r.html'}",
            "--format", f"json:{tmp_path / 'r.json'}")
    md = (tmp_path / "r.md").read_text()
    assert "| guest | on | ready | blocked | unknown | blocked most by |" in md
    cells = json.loads((tmp_path / "r.json").read_text())["cells"]
    lines = md.splitlines()
    start = lines.index("| guest | on | ready | blocked | unknown | blocked most by | ready targets |") + 2
    rows = lines[start:lines.index("", start)]
    assert len(rows) == 30
    total = sum(int(r.split("|")[3]) + int(r.split("|")[4]) + int(r.split("|")[5]) for r in rows)
    assert total == len(cells)
    html = (tmp_path / "r.html").read_text()
    assert 'class="grid"' not in html and "blocked most by" in html
    # each guest's ready targets are listed, and "blocked most by" names blocking rules only
    from migcheck.packs.ruleset import load_rules

    blocking_rules = {r.id for r in load_rules().rules if r.severity == "error"}
    ready = {}
    for c in cells:
        if c["verdict"] == "ready":
            ready.setdefault(c["guest"], []).append(c["target"])
    for line in rows:
        guest, listed = line.split("|")[1].strip(), line.split("|")[7].strip()
        assert listed == (", ".join(sorted(ready[guest])).replace("_", "\\_") if guest in ready else "-")
        blockers = [part.split(" (")[0] for part in line.split("|")[6].strip().split(", ") if part]
        assert all(rule in blocking_rules for rule in blockers), blockers


def test_documents_for_people_say_how_many_results_they_leave_out(run_cli, tmp_path):
    from bench.generate import generate
    from migcheck.report.common import ROWS_PER_RULE

    estate = tmp_path / "big.json"
    estate.write_text(json.dumps(generate(12, 80, seed=9)))
    run_cli("matrix", estate, "--format", f"markdown:{tmp_path / 'r.md'}", "--format", f"json:{tmp_path / 'r.json'}")
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    counts = {}
    for r in results:
        counts[r["rule"]] = counts.get(r["rule"], 0) + 1
    rule, count = max(counts.items(), key=lambda kv: kv[1])
    assert count > ROWS_PER_RULE
    assert f"and {count - ROWS_PER_RULE:,} more results of {rule}" in (tmp_path / "r.md").read_text()


@pytest.mark.parametrize("command", [("check", "sapapp01", "vsp-e2"), ("matrix", "--guest", "sapapp01")])
def test_a_baseline_never_makes_unknown_ready(in_root, run_cli, tmp_path, command):
    """`--fail-on-new` counts new failures only, but a rule that could not be evaluated leaves the run unknown
    (exit 3) whatever the baseline says, as a waiver does: a baseline of the same unknown run made it exit 0."""
    partial = _sapapp01_not_captured(tmp_path, "storage, networks, dio")
    base = tmp_path / "base.json"
    run_cli(command[0], partial, *command[1:], "--format", f"json:{base}")
    code, out, _ = run_cli(command[0], partial, *command[1:], "--baseline", base, "--fail-on-new", "--format", "json")
    assert code == 3 and json.loads(out)["baseline"]["new"] == 0


def test_a_finding_that_got_worse_is_new(in_root, run_cli, tmp_path):
    """A finding whose severity a site configuration raised since the baseline, or whose waiver has lapsed, is new:
    `--fail-on-new` fails on it, as the run without the baseline does (it was "unchanged" by fingerprint and status)."""
    base = tmp_path / "base.json"
    run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{base}")
    config = tmp_path / "sev.yaml"
    config.write_text("severity:\n  STORAGE-LOCAL: error\n")
    args = ("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--config", config)
    code, out, _ = run_cli(*args, "--baseline", base, "--format", "json")
    marks = {r["rule"]: r["baseline"] for r in json.loads(out)["results"] if r["status"] == "fail"}
    assert marks["STORAGE-LOCAL"] == "new" and marks["VSWITCH-MISSING"] == "unchanged"
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: VSWITCH-MISSING\n    guest: sapapp01\n    owner: net@example.com\n"
                       "    reason: the vswitch is created in the change window\n    expires: 2027-03-01\n")
    waived = tmp_path / "waived.json"
    run_cli(*args[:4], "--waivers", waivers, "--as-of", "2027-01-01", "--format", f"json:{waived}")
    code, out, _ = run_cli(*args[:4], "--waivers", waivers, "--as-of", "2027-06-01", "--baseline", waived,
                           "--format", "json", "--fail-on-new")
    marks = {r["rule"]: r["baseline"] for r in json.loads(out)["results"] if r["status"] == "fail"}
    assert marks["VSWITCH-MISSING"] == "new" and code == 1


def test_a_plans_findings_are_not_resolved_by_a_check(in_root, run_cli, tmp_path):
    """A plan's baseline given to `check`: its findings (stage and step in their fingerprints) never meet the check's,
    so they are not evaluated by it, not resolved (a finding failing in this very run was listed resolved)."""
    base = tmp_path / "plan.json"
    run_cli("plan", "fixtures/mixed-site.yaml", "fixtures/plan-dio.yaml", "--format", f"json:{base}")
    assert any("stage" in r["subject"] for r in json.loads(base.read_text())["results"])
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "dbprod01", "vsp-e2", "--baseline", base,
                           "--format", "json")
    section = json.loads(out)["baseline"]
    assert section["resolved"] == [] and section["not_evaluated"] > 0


@pytest.mark.parametrize("key,value", [("item", ["a"]), ("item", {"a": 1}), ("item", None), ("severity", ["error"]),
                                       ("waiver", "yes"), ("subject", {"guest": None}), ("subject", {"guest": True})])
def test_a_baseline_result_of_another_shape_is_located(run_cli, tmp_path, key, value):
    """A baseline result whose `item`, `severity` or `waiver` is not what a report writes, or whose subject holds
    null or true, is a located `bad-baseline` (an `item` list reached the report, which then failed its schema;
    `None` and `True` were shown in the tables)."""
    base = tmp_path / "b.json"
    run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{base}")
    doc = json.loads(base.read_text())
    doc["results"][0] = {**doc["results"][0], key: value, "fingerprint": "zzzz"}
    base.write_text(json.dumps(doc, indent=2))
    code, _, err = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--baseline", base)
    assert code == 2 and "bad-baseline" in err and "result #1" in err and "Traceback" not in err, err


def test_a_json_lines_report_or_a_yaml_file_is_not_a_baseline(run_cli, tmp_path):
    """A JSON Lines report given as the baseline says what to give instead; a YAML file is not a JSON report (YAML
    reads it, but migcheck writes none)."""
    lines = tmp_path / "b.jsonl"
    run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"jsonl:{lines}")
    code, _, err = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--baseline", lines)
    assert code == 2 and "looks like a JSON Lines report" in err and "--format json:FILE" in err
    base = tmp_path / "b.json"
    run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{base}")
    yaml_copy = tmp_path / "b.yaml"
    yaml_copy.write_text(yaml.safe_dump(json.loads(base.read_text())))
    code, _, err = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--baseline", yaml_copy)
    assert code == 2 and "not a migcheck JSON report (the file is not JSON)" in err
