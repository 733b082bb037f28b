"""Reports as their strictest consumers take them: GitHub code scanning (SARIF), Jenkins'
xUnit schema (JUnit), the report JSON Schema, spreadsheets (CSV), Markdown renderers,
terminals and browsers; and output that hostile snapshot text cannot subvert.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT, assert_valid_json_output

DATA = Path(__file__).parent / "data"
MIXED = "fixtures/mixed-site.yaml"
EPOCH = "1764000000"


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def _junit_schema():
    etree = pytest.importorskip("lxml.etree")
    return etree, etree.XMLSchema(etree.parse(str(DATA / "junit-10.xsd")))


def _sarif_validator():
    import jsonschema

    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    return jsonschema.validators.validator_for(schema)(schema)


COMMANDS = {"matrix": ["matrix", MIXED], "check": ["check", MIXED, "sapapp01", "vsp-e2"],
            "audit": ["audit", "fixtures/estate-broken.yaml"], "online": ["matrix", MIXED, "--mode", "online"],
            "broken-check": ["check", "fixtures/estate-broken.yaml", "crm01", "vsp-w1"]}


# -- JUnit: Jenkins xUnit junit-10.xsd --------------------------------------------------------
@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("fail_on", ["error", "warning", "never"])
def test_junit_is_valid_against_jenkins_xunit_schema(in_root, run_cli, command, fail_on):
    etree, schema = _junit_schema()
    _, out, _ = run_cli(*COMMANDS[command], "--waivers", "fixtures/waivers.yaml", "--fail-on", fail_on,
                        "--format", "junit")
    doc = etree.fromstring(out.encode())
    assert schema.validate(doc), schema.error_log
    cases = doc.findall(".//testcase")
    assert int(doc.get("tests")) == len(cases) and all(c.get("time") is not None for c in cases)
    assert int(doc.get("failures")) == len(doc.findall(".//testcase/failure"))
    assert int(doc.get("errors")) == len(doc.findall(".//testcase/error"))
    for suite in doc.findall("testsuite"):
        assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped"))


def test_junit_warnings_are_skipped_below_fail_on_and_fail_at_it(in_root, run_cli):
    def storage_case(*extra):
        _, out, _ = run_cli("check", MIXED, "apptest03", "vsp-e1", *extra, "--format", "junit")
        etree, _ = _junit_schema()
        doc = etree.fromstring(out.encode())
        return [c for c in doc.findall(".//testcase") if c.get("classname") == "migcheck.STORAGE-LOCAL"][0]

    case = storage_case()
    assert case.find("failure") is None
    assert case.find("skipped").get("message").startswith("warning below --fail-on: 1 local backing store(s)")
    case = storage_case("--fail-on", "warning")
    assert case.find("skipped") is None and case.find("failure").get("type") == "warning"


def test_junit_matrix_cases_fail_at_fail_on_warning(in_root, run_cli):
    etree, _ = _junit_schema()
    _, out, _ = run_cli(*COMMANDS["matrix"], "--fail-on", "warning", "--format", "junit")
    cases = {c.get("classname"): c for c in etree.fromstring(out.encode()).iter("testcase")}
    apptest = cases["migcheck.migration.apptest03"].find("failure")
    assert apptest.get("message") == ("blocked on 1 of 3 targets by VSWITCH-MISSING; fails --fail-on warning on "
                                      "DIO-IN-USE, STORAGE-LOCAL; ready on 2")
    assert "fails --fail-on with DIO-IN-USE, STORAGE-LOCAL on 2 targets: vsp-e1, vsp-e3" in apptest.text
    _, out, _ = run_cli(*COMMANDS["matrix"], "--format", "junit")
    cases = {c.get("classname"): c for c in etree.fromstring(out.encode()).iter("testcase")}
    assert cases["migcheck.migration.apptest03"].find("failure").get("message") == \
        "blocked on 1 of 3 targets by VSWITCH-MISSING; ready on 2"


def test_junit_reads_with_junitparser(in_root, run_cli):
    junitparser = pytest.importorskip("junitparser")
    _, out, _ = run_cli(*COMMANDS["matrix"], "--format", "junit")
    xml = junitparser.JUnitXml.fromstring(out.encode())
    cases = [case for suite in xml for case in suite]
    assert len(cases) == 6  # a case per guest
    blocked = [c for c in cases if c.result and isinstance(c.result[0], junitparser.Failure)]
    assert len(blocked) == 6 and all("blocked on" in c.result[0].message for c in blocked)


# -- SARIF: GitHub code scanning ----------------------------------------------------------------
def _sarif(run_cli, *args) -> dict:
    _, out, _ = run_cli(*args, "--format", "sarif")
    sarif = json.loads(out)
    errors = sorted(_sarif_validator().iter_errors(sarif), key=str)
    assert not errors, errors[0]
    return sarif


def test_sarif_uris_are_relative_to_srcroot(in_root, run_cli, tmp_path):
    run = _sarif(run_cli, *COMMANDS["check"])["runs"][0]
    assert run["artifacts"][0]["location"] == {"uri": "fixtures/mixed-site.yaml", "uriBaseId": "%SRCROOT%"}
    for r in run["results"]:
        assert r["locations"][0]["physicalLocation"]["artifactLocation"] == run["artifacts"][0]["location"]
    # an absolute snapshot path under the working directory is still relative to %SRCROOT%
    run = _sarif(run_cli, "check", ROOT / MIXED, "sapapp01", "vsp-e2")["runs"][0]
    assert run["artifacts"][0]["location"] == {"uri": "fixtures/mixed-site.yaml", "uriBaseId": "%SRCROOT%"}
    # --source-root moves %SRCROOT% (and says where it is); a file outside it keeps an absolute URI
    run = _sarif(run_cli, "check", MIXED, "sapapp01", "vsp-e2", "--source-root", "fixtures")["runs"][0]
    assert run["artifacts"][0]["location"] == {"uri": "mixed-site.yaml", "uriBaseId": "%SRCROOT%"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (ROOT / "fixtures").as_uri() + "/"
    outside = tmp_path / "my estate.yaml"
    shutil.copy(ROOT / MIXED, outside)
    run = _sarif(run_cli, "check", outside, "sapapp01", "vsp-e2")["runs"][0]
    uri = run["artifacts"][0]["location"]
    assert uri == {"uri": outside.as_uri()} and "%20" in uri["uri"]
    warnings = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]
                if n["level"] == "warning" and "outside the source root" in n["message"]["text"]]
    assert len(warnings) == 1 and str(outside) in warnings[0]  # said once, for the file
    run = _sarif(run_cli, *COMMANDS["check"])["runs"][0]
    assert not any("outside the source root" in n["message"]["text"]
                   for n in run["invocations"][0]["toolExecutionNotifications"])


def test_sarif_rules_link_to_their_catalogue_entry_with_fix(in_root, run_cli):
    run = _sarif(run_cli, *COMMANDS["check"])["runs"][0]
    tomllib = pytest.importorskip("tomllib")
    repo = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    assert run["tool"]["driver"]["informationUri"] == repo and "example" not in repo
    catalogue = (ROOT / "docs" / "rules.md").read_text()
    for rule in run["tool"]["driver"]["rules"]:
        prefix = f"{repo}/blob/main/docs/rules.md#"
        assert rule["helpUri"].startswith(prefix)
        assert f'<a id="{rule["helpUri"][len(prefix):]}"></a>`{rule["id"]}`' in catalogue
    vswitch = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "VSWITCH-MISSING"][0]
    assert "**Fix:** on the target: `hpvmnet -c -S <vswitch>" in vswitch["help"]["markdown"]
    for rule in run["tool"]["driver"]["rules"]:  # placeholders, never a template's holes
        assert not re.search(r"\{[^}]*\}", rule["help"]["text"] + rule["help"]["markdown"]), rule["help"]
    memory = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "DIO-NO-MATCH"][0]["help"]["text"]
    assert "<value>" in memory and "<label>" in memory


def test_sarif_automation_ids_keep_uploads_apart(in_root, run_cli):
    ids = {name: _sarif(run_cli, *args)["runs"][0]["automationDetails"]["id"] for name, args in COMMANDS.items()}
    assert len(set(ids.values())) == len(ids)
    # the category is the command and site, never the snapshot's path: a nightly file keeps its alerts
    assert ids["check"] == "migcheck/check/dc-east/sapapp01-vsp-e2-offline/"
    assert ids["matrix"] == "migcheck/matrix/dc-east/offline/"


def test_sarif_category_ignores_the_snapshot_path_and_can_be_set(in_root, run_cli, tmp_path):
    from migcheck.core.records import replace

    from migcheck.report import Report
    from migcheck.report.sarif import automation_id

    nightly = tmp_path / "estate-2026-12-05.yaml"
    shutil.copy(ROOT / MIXED, nightly)
    run = _sarif(run_cli, "matrix", nightly)["runs"][0]
    assert run["automationDetails"]["id"] == "migcheck/matrix/dc-east/offline/"
    report = Report("audit", "pass", [], snapshot_path=str(nightly), site="dc east/1")
    assert automation_id(report) == "migcheck/audit/dc-east-1/"
    assert automation_id(replace(report, manifest={"sarif_category": "nightly/east"})) == "nightly/east/"
    assert automation_id(replace(report, manifest={"sarif_category": "nightly/"})) == "nightly/"


def test_sarif_fingerprints_are_unique_and_stable(in_root, run_cli):
    first = _sarif(run_cli, *COMMANDS["matrix"])["runs"][0]["results"]
    prints = [r["partialFingerprints"]["migcheckSubject/v1"] for r in first]
    _, out, _ = run_cli(*COMMANDS["matrix"], "--format", "json")
    findings = [r for r in json.loads(out)["results"] if r["status"] in ("fail", "error")]
    assert len(prints) == len(set(prints)) == len(findings) > 20
    again = _sarif(run_cli, *COMMANDS["matrix"])["runs"][0]["results"]
    assert prints == [r["partialFingerprints"]["migcheckSubject/v1"] for r in again]


def test_sarif_baseline_state(in_root, run_cli, tmp_path):
    base = tmp_path / "base.json"
    run_cli("matrix", MIXED, "--format", f"json:{base}")
    results = _sarif(run_cli, "matrix", "fixtures/mixed-site-after.yaml", "--baseline", base)["runs"][0]["results"]
    states = {r["baselineState"] for r in results}
    assert states <= {"new", "unchanged"} and "unchanged" in states
    assert all("baselineState" not in r for r in _sarif(run_cli, *COMMANDS["matrix"])["runs"][0]["results"])


def _covered(results: list, level: str) -> int:
    """How many findings the SARIF results of `level` stand for (a folded result counts its results)."""
    return sum(r["properties"].get("summarised", 1) for r in results if r["level"] == level)


def _levels(full: list) -> dict:
    level = {"error": "error", "warning": "warning", "info": "note"}
    out = {"error": 0, "warning": 0, "note": 0}
    for r in full:
        out["error" if r["status"] == "error" else level[r["severity"]]] += 1
    return out


def test_sarif_keeps_5000_results_errors_first(run_cli, tmp_path):
    """GitHub keeps the top 5,000 results of a run: an estate with more findings gets at most 5,000,
    errors first and served first, each level folded only as far as it must be, every finding counted."""
    from bench.generate import generate
    from migcheck.report import sarif as sarif_module

    assert sarif_module.MAX_RESULTS == 5_000
    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(24, 300, seed=3)))
    _, out, _ = run_cli("matrix", estate, "--format", "json")
    full = json.loads(out)["results"]
    wanted = _levels(full)
    assert sum(wanted.values()) > 5_000 and wanted["error"] > 0
    run = _sarif(run_cli, "matrix", estate)["runs"][0]
    results = run["results"]
    assert 0 < len(results) <= 5_000
    order = [["error", "warning", "note"].index(r["level"]) for r in results]
    assert order == sorted(order)  # errors first
    for level, n in wanted.items():  # nothing left out: each level's results stand for all its findings
        assert _covered(results, level) == n, level
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any("folded per" in n and "JSON" in n and "5,000" in n for n in notes), notes
    prints = [r["partialFingerprints"]["migcheckSubject/v1"] for r in results]
    assert len(prints) == len(set(prints))


def test_sarif_folds_per_rule_and_guest_then_target_then_rule(run_cli, tmp_path, monkeypatch):
    from bench.generate import generate
    from migcheck.report import sarif as sarif_module

    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(10, 60, seed=3)))
    _, out, _ = run_cli("matrix", estate, "--format", "json")
    full = json.loads(out)["results"]
    wanted = _levels(full)
    seen = set()
    for limit in (len(full) // 4, 300, 60, 12):
        monkeypatch.setattr(sarif_module, "MAX_RESULTS", limit)
        run = _sarif(run_cli, "matrix", estate)["runs"][0]
        results = run["results"]
        assert 0 < len(results) <= limit
        folds = {r["properties"].get("folded") for r in results} - {None}
        seen |= folds
        for level, n in wanted.items():
            assert _covered(results, level) == n, (limit, level)
        for r in results:
            p = r["properties"]
            if p.get("folded") == "guest" and "target" in str(full):  # one result per rule and guest naming targets
                guest = p["subject"]["guest"]
                mine = [x for x in full if x["rule"] == r["ruleId"] and x["subject"].get("guest") == guest
                        and "target" in x["subject"] and x["status"] == p["status"]]
                if mine:
                    assert p["targets"] == sorted({x["subject"]["target"] for x in mine})[:50]
                    assert p["summarised"] == len(mine)
            if p.get("folded") == "target":
                assert p["subject"]["target"] in r["message"]["text"]
        text = " ".join(n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"])
        for fold, words in (("guest", "rule and guest"), ("target", "rule and target"), ("rule", "rule into")):
            assert (fold in folds) == (f"folded per {words}" in text), (limit, fold, text)
    assert seen == {"guest", "target", "rule"}


# -- the report JSON Schema -----------------------------------------------------------------------
def test_report_schema_is_2020_12_and_rejects_a_wrong_report(in_root, run_cli):
    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    _, out, _ = run_cli(*COMMANDS["matrix"], "--format", "json")  # run_cli validates every JSON output
    data = json.loads(out)
    assert data["format"] == 1 and data["snapshot"]["collected"] == "2026-11-20T10:00:00Z"
    for broken in ({**data, "format": 2}, {**data, "verdict": "maybe"},
                   {**data, "results": [{**data["results"][0], "status": "failed"}]},
                   {**data, "cells": [{k: v for k, v in data["cells"][0].items() if k != "blocking"}]}):
        with pytest.raises(AssertionError, match="not valid against schemas/report.schema.json"):
            assert_valid_json_output(broken)


# -- CSV -------------------------------------------------------------------------------------------------
def test_csv_cells_has_a_row_per_migration_with_its_blockers(in_root, run_cli):
    _, out, _ = run_cli(*COMMANDS["matrix"], "--format", "csv-cells")
    rows = list(csv.DictReader(io.StringIO(out)))
    _, js, _ = run_cli(*COMMANDS["matrix"], "--format", "json")
    cells = json.loads(js)["cells"]
    assert [(r["guest"], r["target"], r["verdict"]) for r in rows] == [(c["guest"], c["target"], c["verdict"])
                                                                       for c in cells]
    sap = [r for r in rows if (r["guest"], r["target"]) == ("sapapp01", "vsp-e2")][0]
    assert sap["blocking_rules"] == "DIO-NO-MATCH VSWITCH-MISSING" and sap["warnings"] == "STORAGE-LOCAL"
    assert sum(1 for r in rows if r["verdict"] == "blocked") == 13
    assert all(r["blocking_rules"] for r in rows if r["verdict"] == "blocked")


def test_csv_carries_waiver_reason_and_ticket(in_root, run_cli):
    _, out, _ = run_cli(*COMMANDS["matrix"], "--waivers", "fixtures/waivers.yaml", "--format", "csv")
    rows = [r for r in csv.DictReader(io.StringIO(out)) if r["waived"] == "yes"]
    db = [r for r in rows if r["rule"] == "DIO-LABEL-IPNAME"][0]
    assert db["waiver_ticket"] == "CHG-1234" and db["waiver_reason"].startswith("labels predate")


# -- hostile text in every format (issue 11, item 5) --------------------------------------------------
ESC = "\x1b]0;pwned\x07\x1b[2J"
CASES = [
    # (guest name, format, check on the output)
    ("\x1b]0;pwned\x07\x1b[2Jweb01", "table", lambda out, name: "\x1b" not in out and "\x07" not in out
     and "\\x1b]0;pwned\\x07\\x1b[2Jweb01" in out),
    ("web\u202eexe.10", "table", lambda out, name: "\u202e" not in out and "web\\u202eexe.10" in out),
    ('=HYPERLINK("http://x.test","open")', "csv", lambda out, name: _csv_guest(out) == "'" + name),
    ("+1+2", "csv", lambda out, name: _csv_guest(out) == "'+1+2"),
    ("-1+2", "csv", lambda out, name: _csv_guest(out) == "'-1+2"),
    ("@SUM(A1)", "csv", lambda out, name: _csv_guest(out) == "'@SUM(A1)"),
    ("\tweb01", "csv", lambda out, name: _csv_guest(out) == "'\tweb01"),
    ("\rweb01", "csv", lambda out, name: _csv_guest(out) == "'\rweb01"),
    ("=cmd", "csv-cells", lambda out, name: list(csv.DictReader(io.StringIO(out)))[0]["guest"] == "'=cmd"),
    ("web\x01\x0b01", "junit", lambda out, name: "\x01" not in out and "\x0b" not in out and _xsd_ok(out)),
    ("web<01>&\"", "junit", lambda out, name: _xsd_ok(out) and 'name="web&lt;01&gt;&amp;&quot;:' in out),
    ("a|b`c<b>x</b>", "markdown", lambda out, name: _md_safe(out) and "a\\|b\\`c&lt;b&gt;x&lt;/b&gt;" in out),
    ("*web*_[x](http://x.test)", "markdown", lambda out, name: _md_safe(out) and "<em>" not in _md_html(out)
     and "<a " not in _md_html(out)),
    ("<script>alert(1)</script>", "html", lambda out, name: "<script>alert(1)" not in out
     and "&lt;script&gt;alert(1)&lt;/script&gt;" in out),
    ('x" onmouseover="alert(1)', "html", lambda out, name: 'x" onmouseover' not in out),
    ("`rm -rf /`", "html", lambda out, name: "<code>rm -rf /</code>" not in out.split("<h2>Findings</h2>")[0]),
    # C0/C1 controls are HTML parse errors (`&#x80;` would even read as `€`); bidi overrides reorder what is read
    ("web\x80\x01\u202eexe.01", "html", lambda out, name: not any(c in out for c in "\x80\x01\u202e")
     and "web\\x80\\x01\\u202eexe.01" in out),
]


def _csv_guest(out: str) -> str:
    return [r for r in csv.DictReader(io.StringIO(out)) if r["rule"] == "GUEST-RUNNING"][0]["guest"]


def _xsd_ok(out: str) -> bool:
    etree, schema = _junit_schema()
    return schema.validate(etree.fromstring(out.encode()))


def _md_html(out: str) -> str:
    """The Markdown as a CommonMark renderer with GitHub's tables shows it."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable("table").render(out)


def _md_safe(out: str) -> bool:
    """The findings row keeps its four cells and no markup from the name becomes an element."""
    html = _md_html(out)
    rows = [row for row in re.findall(r"<tr>(.*?)</tr>", html, re.S) if "running on" in row]
    return (len(rows) == 1 and rows[0].count("<td>") == 4 and "<b>" not in html and "<script" not in html)


@pytest.mark.parametrize("name,fmt,ok", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_hostile_names_cannot_subvert_a_format(run_cli, tmp_path, name, fmt, ok):
    text = (FIXTURES / "mixed-site.yaml").read_text()
    assert text.count("- name: web01\n") == 1
    quoted = json.dumps(name)  # a JSON string is a YAML 1.2 double-quoted scalar
    snapshot = tmp_path / "evil.yaml"
    snapshot.write_text(text.replace("- name: web01\n", f"- name: {quoted}\n"))
    code, out, err = run_cli("check", "--format", fmt, "--", snapshot, name, "vsp-e2")
    assert code == 1, err
    assert ok(out, name), out[:3000]


@pytest.mark.parametrize("path,root,wanted", [
    ("/srv/ci/estate.yaml", "/srv/ci", {"uri": "estate.yaml", "uriBaseId": "%SRCROOT%"}),
    ("/srv/ci/inv/dc east/é.yaml", "/srv/ci/", {"uri": "inv/dc%20east/%C3%A9.yaml", "uriBaseId": "%SRCROOT%"}),
    ("/srv/cix/estate.yaml", "/srv/ci", {"uri": "file:///srv/cix/estate.yaml"}),  # a sibling, not inside
    ("/tmp/a#b.yaml", "/srv/ci", {"uri": "file:///tmp/a%23b.yaml"}),
])
def test_sarif_artifact_locations(path, root, wanted):
    from migcheck.report.sarif import artifact_location

    assert artifact_location(path, root) == wanted


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_sarif_meets_github_code_scanning_limits(in_root, run_cli, command):
    """GitHub's documented limits: 20 runs per file, 25,000 results per run, 20 tags per rule,
    1,000 locations per result; every result names a rule of its run and has fingerprints."""
    sarif = _sarif(run_cli, *COMMANDS[command], "--waivers", "fixtures/waivers.yaml")
    assert len(sarif["runs"]) <= 20
    for run in sarif["runs"]:
        rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
        assert len(run["results"]) <= 25_000
        assert all(len(r["properties"]["tags"]) <= 20 and r["helpUri"].startswith("https://") for r in rules.values())
        for result in run["results"]:
            assert result["ruleId"] in rules and run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == \
                result["ruleId"]
            assert len(result.get("locations", [])) <= 1000 and result["message"]["text"]
            assert re.fullmatch(r"[0-9a-f]{16}", result["partialFingerprints"]["migcheckSubject/v1"])
            for loc in result.get("locations", []):
                uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                assert not uri.startswith("/") and ("uriBaseId" in loc["physicalLocation"]["artifactLocation"]
                                                    or uri.startswith("file://"))


def test_failure_sarif_and_junit_carry_the_problems(in_root, tmp_path):
    """On exit 2 the CI upload step still finds its file: a SARIF run that did not succeed, each problem a
    located notification (valid against the SARIF schema), and a JUnit report of one `<error>` case."""
    from migcheck.core.diagnostics import Problem
    from migcheck.report.junit import failure_junit
    from migcheck.report.sarif import failure_sarif

    problems = [Problem("fixtures/mixed-site.yaml", 3, 7, "unknown field `hostz`", "$.hostz", "did you mean `hosts`?",
                        "schema"),
                Problem("/elsewhere/waivers.yaml", 1, 1, "a waiver's date is not a date: `2026-13-01`",
                        code="bad-date"),
                Problem("rules/x.rules", 4, 2, "a `let` nothing uses", code="unused-let", severity="warning")]
    sarif = json.loads(failure_sarif(problems, "matrix"))
    assert not sorted(_sarif_validator().iter_errors(sarif), key=str)
    run = sarif["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False and run["results"] == []
    assert run["automationDetails"]["id"] == "migcheck/matrix/failed/"  # never closes the real run's alerts
    notes = invocation["toolExecutionNotifications"]
    first = notes[0]
    assert first["level"] == "error" and first["descriptor"] == {"id": "schema"}
    assert "unknown field `hostz`" in first["message"]["text"] and "did you mean `hosts`?" in first["message"]["text"]
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "fixtures/mixed-site.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3, "startColumn": 7}}
    assert notes[1]["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///elsewhere/waivers.yaml"}
    assert notes[2]["level"] == "warning"
    assert any(n["level"] == "warning" and "outside the source root" in n["message"]["text"] for n in notes[3:])

    xml = failure_junit(problems, "matrix")
    etree, schema = _junit_schema()
    assert schema.validate(etree.fromstring(xml.encode())), schema.error_log
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "f.xml"
    path.write_text(xml)
    cases = [case for suite in junitparser.JUnitXml.fromfile(str(path)) for case in suite]
    assert len(cases) == 1
    (error,) = cases[0].result
    assert isinstance(error, junitparser.Error) and "3 problems" in error.message
    assert "fixtures/mixed-site.yaml:3:7: error[schema]: unknown field `hostz`" in error.text
    assert "rules/x.rules:4:2: warning[unused-let]" in error.text


GITLAB_JUNIT_BYTES = 30_000_000  # GitLab: a JUnit report file must be smaller than 30 MB


def _junit_case_per_guest(run_cli, estate, tmp_path) -> tuple[int, int]:
    """Write the matrix's JUnit and cells; check every blocked migration is named in its guest's suite.
    Returns (JUnit bytes, migrations)."""
    junit, cells = tmp_path / "m.xml", tmp_path / "c.csv"
    run_cli("matrix", estate, "--format", f"junit:{junit}", "--format", f"csv-cells:{cells}")
    blocked: dict[str, set] = {}
    rows = 0
    with open(cells, newline="") as f:
        for row in csv.DictReader(f):
            rows += 1
            if row["verdict"] == "blocked":
                blocked.setdefault(row["guest"], set()).add(row["target"])
    etree, schema = _junit_schema()
    doc = etree.parse(str(junit))
    assert schema.validate(doc)
    named = {}
    for suite in doc.getroot().iter("testsuite"):
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        named[props["guest"]] = set(props["blocked_targets"].split())
        text = suite.find("testcase/failure").text if props["blocked_targets"] else ""
        for target in named[props["guest"]]:  # and in the failure text, with the rules that block it
            assert re.search(rf"^blocked by [A-Z0-9, -]+ on \d+ targets?: (.*, )?{re.escape(target)}(,|$)", text, re.M)
    assert {g: t for g, t in named.items() if t} == blocked
    return junit.stat().st_size, rows


def test_junit_stays_within_gitlab_limits_per_migration(run_cli, tmp_path):
    """A guest's suite costs at most 2,500 bytes and 30 more per migration: 200 x 2,000 (2,000 guests,
    398,000 migrations) is then at most 16.9 MB, under GitLab's 30 MB (measured: 12.6 MB)."""
    from bench.generate import generate

    assert 2_000 * 2_500 + 398_000 * 30 < GITLAB_JUNIT_BYTES
    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(30, 300, seed=5)))
    size, pairs = _junit_case_per_guest(run_cli, estate, tmp_path)
    assert pairs > 8_000 and size < 300 * 2_500 + pairs * 30, (size, pairs)


@pytest.mark.skipif(not __import__("os").environ.get("MIGCHECK_ESTATE_SCALE"),
                    reason="estate scale (200 x 2,000, minutes): set MIGCHECK_ESTATE_SCALE=1")
def test_junit_of_a_200_by_2000_matrix_is_under_30_mb(run_cli, tmp_path):
    from bench.generate import generate

    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(200, 2000)))
    size, pairs = _junit_case_per_guest(run_cli, estate, tmp_path)
    assert pairs == 398_000 and size < GITLAB_JUNIT_BYTES


def test_a_site_rule_with_many_tags_keeps_what_github_keeps(in_root, run_cli, tmp_path):
    """GitHub rejects a SARIF file with more than 20 tags on a rule (and keeps 10): a site rule of 25 tags made
    the whole upload fail."""
    from .conftest import site_pack

    tags = ", ".join(f"t{i}" for i in range(25))
    pack = site_pack(tmp_path, 'rule SITE-MANY-TAGS {\n  title "t"\n  severity warning\n  on guest\n  cite "c"\n'
                               f'  require guest.memory_mb > 0\n  message "m"\n  tags {tags}\n}}\n')
    sarif = _sarif(run_cli, "audit", "fixtures/mixed-site.yaml", "--rules", pack)
    (rule,) = [r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "SITE-MANY-TAGS"]
    assert rule["properties"]["tags"] == [f"t{i}" for i in range(10)]


def test_junit_text_lists_at_most_fifty_targets_and_says_the_rest(tmp_path, run_cli, monkeypatch):
    """At 200 x 2,000 with 32-character VSP names the JUnit matrix was 37 MB, over the 30 MB GitLab reads: each
    case's text listed every target once per reason. Now 50 per line, with how many more; the properties keep all."""
    import xml.etree.ElementTree as ET

    from bench.generate import generate
    from migcheck.report import junit

    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(120, 6, seed=5)))
    out = tmp_path / "m.xml"
    code, _, err = run_cli("matrix", estate, "--fail-on", "never", "--format", f"junit:{out}")
    assert code == 0, err
    suites = ET.parse(out).getroot().findall("testsuite")
    longest = 0
    for suite in suites:
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        ready = props["ready_targets"].split()
        body = next(iter(suite.iter("testcase"))).find("*")
        if body is None or not body.text:
            continue
        first = body.text.split("\n")[0]
        listed = first.split(": ", 1)[1].split(" and ")[0].split(", ")
        if listed == ["none"]:
            listed = []
        longest = max(longest, len(listed))
        assert listed == ready[:50]
        if len(ready) > 50:
            assert f"and {len(ready) - 50:,} more (the suite's properties list them all)" in first
    assert longest == 50  # an estate of 120 VSPs gives lists longer than that
    monkeypatch.setattr(junit, "GITLAB_MAX_BYTES", 1000)
    code, _, err = run_cli("matrix", estate, "--fail-on", "never", "--format", f"junit:{tmp_path / 'n.xml'}")
    assert "more than GitLab reads (0 MB)" in err and "`--guest GLOB`" in err


def test_markdown_stays_within_what_a_github_job_summary_takes(in_root, run_cli, monkeypatch):
    """GitHub drops a job summary over 1 MiB whole: at 200 x 2,000 the Markdown was 1.76 MB. Past the budget table
    rows are left out (counted, and said after each table cut); headings and the manifest stay."""
    from migcheck.report import markdown

    _, whole, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--format", "markdown", "--fail-on", "never")
    assert "rows left out" not in whole
    budget = len(whole.encode()) // 2
    monkeypatch.setattr(markdown, "MAX_BYTES", budget)
    _, cut, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--format", "markdown", "--fail-on", "never")
    assert "more rows left out" in cut and len(cut.encode()) <= budget
    assert [line for line in whole.splitlines() if line.startswith("#")] == \
        [line for line in cut.splitlines() if line.startswith("#")]  # every heading kept
    assert cut.rstrip().endswith(whole.rstrip().splitlines()[-1])  # the manifest kept whole
    dropped = sum(int(m.replace(",", "")) for m in re.findall(r"\*([\d,]+) more rows left out", cut))
    rows = lambda text: sum(1 for line in text.splitlines() if line.startswith("| "))  # noqa: E731
    assert rows(whole) - rows(cut) == dropped


def test_markdown_keeps_its_budget_with_a_long_baseline_and_a_long_site_name(in_root, run_cli, tmp_path, monkeypatch):
    """The resolved findings of a baseline and the waiver notes sat outside the budget (2.5 MB written), and a site
    name of a megabyte went into the heading whole."""
    from migcheck.report import markdown

    base = tmp_path / "b.json"
    run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{base}")
    doc = json.loads(base.read_text())
    first = doc["results"][0]
    doc["results"] += [{**first, "fingerprint": f"{n:016x}", "rule": "VSWITCH-MISSING", "status": "fail"}
                       for n in range(3000)]
    base.write_text(json.dumps(doc))
    monkeypatch.setattr(markdown, "MAX_BYTES", 60_000)
    _, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--baseline", base, "--format",
                        "markdown")
    assert len(out.encode()) <= 60_000 and "more rows left out" in out and "## Manifest" in out
    site = tmp_path / "s.yaml"
    text = (ROOT / "fixtures" / "mixed-site.yaml").read_text()
    assert "\nsite: dc-east\n" in text
    site.write_text(text.replace("\nsite: dc-east\n", "\nsite: dc-" + "x" * 200_000 + "\n", 1))
    _, out, _ = run_cli("audit", site, "--format", "markdown")
    assert len(out.encode()) <= 60_000 and "… (cut)" in out


def test_a_markdown_table_row_cut_keeps_its_cells(in_root, run_cli, tmp_path):
    """A VSP named by 20,000 characters cut the grid's header row into 2 cells against a 5-cell ruler: no table."""
    text = (ROOT / "fixtures" / "mixed-site.yaml").read_text().replace("vsp-e4", "E" * 20_000)
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text(text)
    _, out, _ = run_cli("matrix", snapshot, "--format", "markdown", "--fail-on", "never")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| guest |"))
    cells = lines[at].count(" | ") + 1
    assert cells == lines[at + 1].count("---|") == lines[at + 2].count(" | ") + 1 and "… (cut)" in lines[at]


@pytest.mark.parametrize("command", [("matrix", "fixtures/mixed-site.yaml"),
                                     ("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2")])
def test_a_sarif_report_over_what_github_takes_is_said(in_root, run_cli, tmp_path, monkeypatch, command):
    """GitHub refuses a SARIF file over 10 MB gzipped; a snapshot with a name of megabytes wrote one (18 MB, 12 MB
    gzipped) without a word."""
    from migcheck.report import sarif

    monkeypatch.setattr(sarif, "GITHUB_MAX_GZIP", 1000)
    code, _, err = run_cli(*command, "--format", f"sarif:{tmp_path / 'r.sarif'}")
    assert "gzipped, more than GitHub code scanning takes" in err, err
    monkeypatch.setattr(sarif, "GITHUB_MAX_GZIP", 10 * 2 ** 20)
    _, _, err = run_cli(*command, "--format", f"sarif:{tmp_path / 's.sarif'}")
    assert "more than GitHub code scanning takes" not in err
