"""The command line: check, audit, matrix, rules, lint and test, their output and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migcheck.eval.engine import Engine
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import load_snapshot

from .conftest import FIXTURES, ROOT

MIXED = FIXTURES / "mixed-site.yaml"


def site_pack(tmp_path, rules: str, tests: str | None = None):
    """A site rule pack in a temporary directory: `site.rules`, and `tests/t.yaml` if given."""
    pack = tmp_path / "site"
    pack.mkdir()
    (pack / "site.rules").write_text(rules)
    if tests is not None:
        (pack / "tests").mkdir()
        (pack / "tests" / "t.yaml").write_text(tests)
    return pack


def test_check_blocked_then_ready(run_cli):
    code, out, _ = run_cli("check", MIXED, "sapapp01", "vsp-e2")
    assert code == 1
    assert out.startswith("BLOCKED  sapapp01: vsp-e1 -> vsp-e2 (offline migration)")
    assert "VSWITCH-MISSING" in out and "hpvmnet -c -S" in out
    code, out, _ = run_cli("check", FIXTURES / "mixed-site-after.yaml", "sapapp01", "vsp-e2")
    assert code == 0, out
    assert out.startswith("READY")


def test_check_json_shape(run_cli):
    code, out, _ = run_cli("check", MIXED, "sapapp01", "vsp-e2", "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert list(data)[:4] == ["tool", "command", "snapshot", "verdict"]
    assert data["tool"] == {"name": "migcheck", "version": data["tool"]["version"]}
    assert data["snapshot"]["site"] == "dc-east" and len(data["snapshot"]["sha256"]) == 64
    assert data["verdict"] == "blocked"
    failing = {r["rule"] for r in data["results"] if r["status"] == "fail"}
    assert failing == {"VSWITCH-MISSING", "DIO-NO-MATCH", "STORAGE-LOCAL"}
    for r in data["results"]:
        assert set(r) >= {"rule", "severity", "status", "subject", "message", "fix", "cite", "waiver"}
        assert r["subject"]["guest"] == "sapapp01" and r["waiver"] is None
    vs = [r for r in data["results"] if r["rule"] == "VSWITCH-MISSING"][0]
    assert vs["message"] == "vswitch(es) vs-mgmt of sapapp01 do not exist on vsp-e2"
    assert vs["subject"] == {"guest": "sapapp01", "source": "vsp-e1", "target": "vsp-e2", "mode": "offline"}
    assert data["summary"]["fail"] == 3


def test_warnings_alone_do_not_fail_unless_asked(run_cli):
    # apptest03 -> vsp-e1: only warnings (DIO-IN-USE, STORAGE-LOCAL)
    code, out, _ = run_cli("check", MIXED, "apptest03", "vsp-e1")
    assert code == 0 and out.startswith("READY")
    assert run_cli("check", MIXED, "apptest03", "vsp-e1", "--fail-on", "warning")[0] == 1
    assert run_cli("check", MIXED, "sapapp01", "vsp-e2", "--fail-on", "never")[0] == 0


def test_unknown_names_exit_2_with_a_suggestion(run_cli):
    code, _, err = run_cli("check", MIXED, "sapap01", "vsp-e2")
    assert code == 2 and "unknown guest `sapap01`; did you mean `sapapp01`?" in err
    code, _, err = run_cli("check", MIXED, "sapapp01", "vsp-e9")
    assert code == 2 and "unknown host `vsp-e9`" in err
    code, _, err = run_cli("check", MIXED, "sapapp01", "vsp-e1")
    assert code == 2 and "already on `vsp-e1`" in err
    code, _, err = run_cli("check", MIXED, "sapapp01", "vsp-e2", "--format", "jsn")
    assert code == 2 and "did you mean `json`?" in err


def test_bad_invocation_exits_2(run_cli):
    assert run_cli("check", MIXED)[0] == 2
    assert run_cli("frobnicate")[0] == 2


def test_audit_reports_integrity_problems_as_findings(run_cli):
    code, out, _ = run_cli("audit", FIXTURES / "estate-broken.yaml", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["verdict"] == "fail"
    failing = {r["rule"] for r in data["results"] if r["status"] == "fail"}
    assert {"INV-DUPLICATE-HOST", "INV-DUPLICATE-GUEST", "INV-UNKNOWN-HOST", "INV-DIO-MISSING",
            "INV-DIO-ASSIGNMENT", "INV-DIO-OWNER", "INV-DUPLICATE-HWPATH", "INV-NETWORK-DIO"} <= failing
    unknown = [r for r in data["results"] if r["rule"] == "INV-UNKNOWN-HOST" and r["status"] == "fail"][0]
    assert unknown["location"]["line"] == 48  # the guest entry in the snapshot


def test_audit_of_a_sound_estate_passes(run_cli):
    code, out, _ = run_cli("audit", FIXTURES / "ivm4-small.yaml")
    assert code == 0, out
    assert out.startswith("PASS")


@pytest.mark.parametrize("fixture", ["mixed-site.yaml", "ivm4-small.yaml", "estate-broken.yaml"])
@pytest.mark.parametrize("mode", ["offline", "online"])
def test_matrix_and_check_agree_on_every_pair(fixture, mode):
    ruleset = load_rules()
    snapshot = load_snapshot(str(FIXTURES / fixture))
    engine = Engine(ruleset, snapshot)
    cells, matrix_results = engine.matrix(mode)
    # cells come guest by guest, each against the hosts in snapshot order: pair them by position, so
    # duplicate names (estate-broken has two hosts `vsp-w2`) never let the value compared pick the cell
    pairs = [(g, t) for g in snapshot.guests for t in snapshot.hosts if t["name"] != g["host"]]
    assert len(cells) == len(pairs)
    for cell, (guest, target) in zip(cells, pairs):
        assert (cell.guest, cell.source, cell.target) == (guest["name"], guest["host"], target["name"])
        results = engine.check(guest, target, mode)
        failing = sorted({r.rule for r in results if r.status in ("fail", "error")})
        blocked = any(r.status == "fail" and r.severity == "error" for r in results)
        unknown = any(r.status == "error" for r in results)
        assert cell.failing == failing, (guest["name"], target["name"])
        assert cell.verdict == ("blocked" if blocked else "unknown" if unknown else "ready")
        # and the same findings, with the same messages rendered from the pair's own values
        mine = sorted((r.rule, r.item, r.message) for r in results if r.status in ("fail", "error")
                      and "target" in r.subject)
        theirs = sorted((r.rule, r.item, r.message) for r in matrix_results
                        if r.subject.get("target") == target["name"] and r.subject["guest"] == guest["name"]
                        and r.subject["source"] == guest["host"] and r.location == results[0].location)
        if sum(h["name"] == target["name"] for h in snapshot.hosts) == 1:  # duplicates are INV findings
            assert mine == theirs, (guest["name"], target["name"])


def test_matrix_json_has_cells(run_cli):
    code, out, _ = run_cli("matrix", MIXED, "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert len(data["cells"]) == 6 * 3
    cell = [c for c in data["cells"] if c["guest"] == "sapapp01" and c["target"] == "vsp-e2"][0]
    assert cell == {"guest": "sapapp01", "source": "vsp-e1", "target": "vsp-e2", "mode": "offline",
                    "verdict": "blocked", "failing": ["DIO-NO-MATCH", "STORAGE-LOCAL", "VSWITCH-MISSING"],
                    "blocking": ["DIO-NO-MATCH", "VSWITCH-MISSING"]}
    assert data["summary"]["cells"]["ready"] + data["summary"]["cells"]["blocked"] == 18


def test_matrix_table_is_a_grid_within_100_columns(run_cli):
    _, out, _ = run_cli("matrix", MIXED)
    assert "guest \\ target" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    grid = [line for line in out.splitlines() if line.startswith("sapapp01 ")][0]
    assert grid.split()[1:] == ["=", "X", "X", "ok"]


def test_table_output_fits_100_columns(run_cli):
    _, out, _ = run_cli("check", MIXED, "sapapp01", "vsp-e2")
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "\033[" not in out  # no colour when not on a terminal


def test_output_is_deterministic(run_cli, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    first = run_cli("matrix", MIXED, "--format", "json")[1]
    second = run_cli("matrix", MIXED, "--format", "json")[1]
    assert first == second


def test_rules_catalogue(run_cli):
    code, out, _ = run_cli("rules", "--format", "json")
    data = json.loads(out)
    ids = {r["id"] for r in data["rules"]}
    design = {"PATH-OFFLINE", "GUEST-RUNNING", "DIO-UNLABELED", "DIO-LABEL-FORMAT", "DIO-NOT-POOLED",
              "DIO-NO-MATCH", "DIO-IN-USE", "DIO-CROSS-TYPE", "DIO-LABEL-IPNAME", "STORAGE-LOCAL",
              "VSWITCH-MISSING", "MEMORY-TARGET", "ONLINE-VPAR", "ONLINE-PATH", "ONLINE-PROCESSOR", "ONLINE-DIO"}
    assert design <= ids
    assert any(i.startswith("INV-") for i in ids)
    assert all(r["cite"] for r in data["rules"])
    code, out, _ = run_cli("rules")
    assert code == 0 and "PATH-OFFLINE" in out


def test_builtin_rule_tests_pass_with_full_coverage(run_cli):
    code, out, _ = run_cli("test", ROOT / "rules")
    assert code == 0, out
    assert "MISSING fail case" not in out and "MISSING pass case" not in out
    assert " 0 failed" in out


def test_rule_test_runner_fails_a_wrong_expectation_and_missing_coverage(tmp_path, run_cli):
    pack = site_pack(tmp_path, 'rule SITE-BIG { title "t" severity warning on guest cite "site policy" '
                     'require guest.memory_mb <= 16384 message "{guest.name} is big" }\n',
                     f"cases:\n  - name: big guest\n    snapshot: {MIXED}\n    audit: true\n    subject: dbprod01\n"
                     "    expect: {SITE-BIG: pass}\n")
    code, out, _ = run_cli("test", pack)
    assert code == 1
    assert "SITE-BIG: wanted pass, got fail (dbprod01 is big)" in out
    assert "MISSING" in out


def test_rule_test_file_errors_exit_2(tmp_path, run_cli):
    pack = site_pack(tmp_path, 'rule SITE-X { title "t" severity warning on guest cite "c" require true '
                     'message "m" }\n', "cases:\n  - name: x\n    snapshot: nope.yaml\n    audit: true\n"
                     "    expect: {SITE-Y: pass}\n")
    code, out, err = run_cli("test", pack)
    assert code == 2 and not out  # on stderr, as every command's problems
    assert "t.yaml:5:14: error[unknown-rule]: unknown rule `SITE-Y`" in err
    assert "nope.yaml:1:1: error[input]: file not found" in err


def test_lint_clean_and_broken(tmp_path, run_cli):
    assert run_cli("lint", ROOT / "rules")[0] == 0
    pack = site_pack(tmp_path, 'rule SITE-X {\n  title "t"\n  severity warning\n  on guest\n  cite "c"\n'
                     '  require guest.memroy_mb > 0\n  message "m"\n}\n')
    code, _, err = run_cli("lint", pack)
    assert code == 2
    assert f"{pack / 'site.rules'}:6:17: error[unknown-field]: guest has no field `memroy_mb`" in err
    assert "did you mean `memory_mb`?" in err
    assert "^" in err


def test_site_rule_cannot_replace_a_builtin_one(tmp_path, run_cli):
    pack = site_pack(tmp_path, 'rule MEMORY-TARGET { title "t" severity info on migration cite "c" '
                     'require true message "m" }\n')
    code, _, err = run_cli("check", MIXED, "sapapp01", "vsp-e2", "--rules", pack)
    assert code == 2
    assert "error[duplicate-rule]: rule `MEMORY-TARGET` is already defined at" in err


def test_site_pack_adds_a_rule(tmp_path, run_cli):
    pack = site_pack(tmp_path,
        'rule SITE-SUPPORT {\n  title "Production guests go to 24x7 VSPs"\n  severity error\n  on migration\n'
        '  when guest.attrs.tier == "production"\n  require target.attrs.support == "24x7"\n'
        '  message "{guest.name} is production; {target.name} has {default(target.attrs.support, \\"no\\")} support"\n'
        '  cite "site policy OPS-12"\n}\n')
    code, out, _ = run_cli("check", MIXED, "sapapp01", "vsp-e4", "--rules", pack, "--format", "json")
    data = json.loads(out)
    site = [r for r in data["results"] if r["rule"] == "SITE-SUPPORT"][0]
    assert site["status"] == "fail" and site["message"] == "sapapp01 is production; vsp-e4 has no support"
    assert code == 1


@pytest.mark.skipif(shutil.which("migcheck") is None, reason="migcheck is not installed in this environment")
def test_installed_command_finds_its_rules(tmp_path):
    out = subprocess.run(["migcheck", "rules", "--format", "json"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["rules"]) >= 26


def test_module_entry_point(tmp_path):
    out = subprocess.run([sys.executable, "-m", "migcheck", "validate", str(MIXED)], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0 and "valid snapshot" in out.stderr


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sharing_outcomes_between_equal_views_changes_nothing(seed):
    from bench.generate import generate
    from migcheck.estate.snapshot import snapshot_from_data

    snapshot = snapshot_from_data(generate(8, 60, seed=seed))
    ruleset = load_rules()
    for mode in ("offline", "online"):
        shared, shared_results = Engine(ruleset, snapshot).matrix(mode)
        plain, plain_results = Engine(ruleset, snapshot).matrix(mode, share=False)
        fast, _ = Engine(ruleset, snapshot).matrix(mode, results=False)
        assert shared == plain == fast
        assert [r.to_json() for r in shared_results] == [r.to_json() for r in plain_results]


def test_shipped_site_pack_from_the_language_walkthrough(run_cli):
    code, out, _ = run_cli("test", FIXTURES / "site-rules")
    assert code == 0, out
    assert run_cli("lint", FIXTURES / "site-rules")[0] == 0


def test_an_evaluation_error_alone_exits_3(tmp_path, run_cli):
    pack = site_pack(tmp_path,
        'rule SITE-RATIO {\n  title "t"\n  severity warning\n  on migration\n  cite "c"\n'
        '  require guest.memory_mb / (target.memory_mb.free - target.memory_mb.free) < 1\n  message "m"\n}\n')
    code, out, _ = run_cli("check", MIXED, "apptest03", "vsp-e1", "--rules", pack, "--format", "json")
    data = json.loads(out)
    assert code == 3 and data["verdict"] == "unknown"
    error = [r for r in data["results"] if r["rule"] == "SITE-RATIO"][0]
    assert error["status"] == "error" and "division by zero" in error["message"] and "site.rules:6:" in error["message"]
    # a blocking failure wins over the error
    assert run_cli("check", MIXED, "sapapp01", "vsp-e2", "--rules", pack)[0] == 1


def test_lint_json_diagnostics(tmp_path, run_cli):
    pack = site_pack(tmp_path, 'rule SITE-X {\n  title "t"\n  severity warning\n  on guest\n  cite "c"\n'
                     '  require guest.knd == "vm"\n  message "m"\n}\n')
    code, out, _ = run_cli("lint", pack, "--format", "json")
    assert code == 2
    (d,) = json.loads(out)["diagnostics"]
    assert (d["code"], d["line"], d["col"], d["help"]) == ("unknown-field", 6, 17, "did you mean `kind`?")
    assert json.loads(run_cli("lint", ROOT / "rules", "--format", "json")[1]) == {"diagnostics": []}


def test_read_paths_follow_values_through_functions(tmp_path):
    """A rule reading `guest.dio.label` through `default(...)` must not share outcomes between guests
    whose labels differ (an unsound read-path analysis would)."""
    pack = site_pack(tmp_path, 'rule SITE-L {\n  title "t"\n  severity error\n  on migration\n  cite "c"\n'
                     '  require count(default(target.attrs.fns, guest.dio).label) == 0\n  message "m"\n}\n')
    ruleset = load_rules([pack])
    reads = ruleset.by_id("SITE-L").reads
    assert ("guest", "dio", "label") in reads or ("guest", "dio") in reads
    snapshot = load_snapshot(str(MIXED))
    shared, _ = Engine(ruleset, snapshot).matrix("offline")
    plain, _ = Engine(ruleset, snapshot).matrix("offline", share=False)
    assert shared == plain


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=2, max_value=6),
       st.integers(min_value=1, max_value=40))
def test_sharing_is_sound_on_random_estates(seed, hosts, guests):
    from bench.generate import generate
    from migcheck.estate.snapshot import snapshot_from_data

    snapshot = snapshot_from_data(generate(hosts, guests, seed=seed))
    ruleset = _builtin()
    for mode in ("offline", "online"):
        assert Engine(ruleset, snapshot).matrix(mode, results=False)[0] == \
            Engine(ruleset, snapshot).matrix(mode, results=False, share=False)[0]


_BUILTIN = []


def _builtin():
    if not _BUILTIN:
        _BUILTIN.append(load_rules())
    return _BUILTIN[0]


@pytest.mark.parametrize("expression,wanted", [
    ("count(default(target.attrs.fns, guest.dio).label) == 0", [("guest", "dio")]),
    ("count(distinct(f in target.dio_functions where f.pool).label) > 0",
     [("target", "dio_functions", "label"), ("target", "dio_functions", "pool")]),
    ("first([f for f in guest.storage where f.shared_san]).path != null",
     [("guest", "storage", "path"), ("guest", "storage", "shared_san")]),
])
def test_read_paths_include_everything_the_outcome_depends_on(tmp_path, expression, wanted):
    pack = site_pack(tmp_path, 'rule SITE-R {\n  title "t"\n  severity error\n  on migration\n  cite "c"\n'
                     f'  require {expression}\n  message "m"\n}}\n')
    reads = load_rules([pack]).by_id("SITE-R").reads
    def covers(r, path):  # a read path covers `path` if it is a prefix; `x.#` covers only x's length
        return r[:-1] == path if r[-1] == "#" else path[:len(r)] == r

    for path in wanted:
        assert any(covers(r, path) for r in reads), (path, sorted(reads))


def test_a_pack_named_by_the_configuration_and_by_rules_is_loaded_once(run_cli, tmp_path):
    """`--config fixtures/migcheck.yaml` (whose `rules:` names site-rules/) with `--rules fixtures/site-rules`: every
    site rule was "already defined" at its own place, exit 2."""
    from .conftest import FIXTURES

    link = tmp_path / "same-pack"
    link.symlink_to(FIXTURES / "site-rules")
    for again in (FIXTURES / "site-rules", link):
        code, out, err = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2",
                                 "--config", FIXTURES / "migcheck.yaml", "--rules", again)
        assert code == 1 and "already defined" not in err, err


def test_explain_refuses_a_migration_to_the_guests_own_vsp(run_cli):
    """`explain` of a migration onto the VSP the guest is on is refused, as `check` refuses it (it said `pass`)."""
    code, out, err = run_cli("explain", "fixtures/mixed-site.yaml", "DIO-NO-MATCH", "sapapp01", "vsp-e1")
    assert code == 2 and "already on `vsp-e1`" in err and out == ""
