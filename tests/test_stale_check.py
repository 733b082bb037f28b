"""Unused waivers are judged from what the run evaluated; `--stale-check` looks for them in every
command and mode of the snapshot, at the cost of evaluating them (issue 21, item 6)."""

from __future__ import annotations

import json

import pytest

from migcheck.eval import waivers as waivers_module

from .conftest import FIXTURES

MIXED = FIXTURES / "mixed-site.yaml"
PAIR = ("check", MIXED, "sapapp01", "vsp-e2")


def _waivers(tmp_path, *items: str):
    path = tmp_path / "w.yaml"
    path.write_text("waivers:\n" + "".join(f"  - {{{item}, reason: r, owner: o, expires: 2099-01-01}}\n"
                                           for item in items))
    return path


def _notes(run_cli, *args) -> dict[str, dict]:
    code, out, err = run_cli(*args, "--format", "json")
    assert code in (0, 1), err
    return {n["rule"]: n for n in json.loads(out).get("waivers", [])}


@pytest.fixture
def scans(monkeypatch):
    """How many times a run looked for unused waivers across commands and modes (the costly scan)."""
    calls = []
    real = waivers_module.findings_across_modes

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(waivers_module, "findings_across_modes", counted)
    return calls


def test_a_waiver_matching_only_outside_the_run_is_not_stale_by_default(tmp_path, run_cli, scans):
    # STORAGE-LOCAL fails for apptest03 (another guest than the pair's): out of scope of this check
    waivers = _waivers(tmp_path, "rule: STORAGE-LOCAL, guest: apptest03")
    note = _notes(run_cli, *PAIR, "--waivers", waivers)["STORAGE-LOCAL"]
    assert note["status"] == "out-of-scope" and note["scope"] == []
    assert "not in scope of this run" in note["message"] and "--stale-check" in note["message"]
    assert scans == []  # nothing evaluated again


def test_a_wildcard_waiver_is_not_judged_by_a_check_of_one_pair(tmp_path, run_cli, scans):
    # the case: no guest named, so every guest; the check evaluated one pair, where it matches nothing,
    # while another guest's migrations match it (the stale check finds them): never "remove it" by default
    waivers = _waivers(tmp_path, "rule: 'DIO-IN-*'")
    note = _notes(run_cli, *PAIR, "--waivers", waivers)["DIO-IN-*"]
    assert note["status"] == "out-of-scope" and scans == []
    note = _notes(run_cli, *PAIR, "--waivers", waivers, "--stale-check")["DIO-IN-*"]
    assert note["status"] == "out-of-scope" and note["scope"] == ["matrix offline"]


def test_with_a_stale_check_it_is_out_of_scope_where_it_matches_and_stale_where_nothing_does(tmp_path, run_cli,
                                                                                            scans):
    waivers = _waivers(tmp_path, "rule: STORAGE-LOCAL, guest: apptest03", "rule: DIO-IN-USE, guest: 'web*'")
    notes = _notes(run_cli, *PAIR, "--waivers", waivers, "--stale-check")
    assert len(scans) == 1
    assert notes["STORAGE-LOCAL"]["status"] == "out-of-scope" and notes["STORAGE-LOCAL"]["scope"] == ["matrix offline"]
    # no web guest's DIO is in use anywhere in the snapshot: stale, and said to be judged on the whole snapshot
    assert notes["DIO-IN-USE"]["status"] == "stale"
    assert "matches nothing in this snapshot for any command" in notes["DIO-IN-USE"]["message"]
    # without the stale check, the web guests were not evaluated by this check: not called stale
    default = _notes(run_cli, *PAIR, "--waivers", waivers)
    assert {n["status"] for n in default.values()} == {"out-of-scope"}


def test_a_waiver_matching_nothing_the_run_evaluated_is_stale_by_default(tmp_path, run_cli, scans):
    # the pair's own guest, and a rule the check ran (it passes here): stale, said to be judged on this run
    waivers = _waivers(tmp_path, "rule: DIO-IN-USE, guest: sapapp01")
    note = _notes(run_cli, *PAIR, "--waivers", waivers)["DIO-IN-USE"]
    assert note["status"] == "stale" and "matches nothing in this run;" in note["message"]
    assert scans == []
    # nothing in the snapshot matches it either: the stale check agrees, judged on the whole snapshot
    note = _notes(run_cli, *PAIR, "--waivers", waivers, "--stale-check")["DIO-IN-USE"]
    assert note["status"] == "stale" and "in this snapshot for any command" in note["message"]


def test_a_matrix_judges_on_its_own_guests_and_mode(tmp_path, run_cli, scans):
    # a matrix of other guests than apptest03 did not evaluate it: out of scope; of every guest: used
    waivers = _waivers(tmp_path, "rule: STORAGE-LOCAL, guest: apptest03")
    note = _notes(run_cli, "matrix", MIXED, "--guest", "sap*", "--waivers", waivers)["STORAGE-LOCAL"]
    assert note["status"] == "out-of-scope"
    assert "STORAGE-LOCAL" not in _notes(run_cli, "matrix", MIXED, "--waivers", waivers)
    assert scans == []


def test_sarif_says_what_the_note_was_judged_on(tmp_path, run_cli):
    waivers = _waivers(tmp_path, "rule: DIO-IN-USE, guest: sapapp01")
    code, out, _ = run_cli(*PAIR, "--waivers", waivers, "--format", "sarif")
    texts = [n["message"]["text"] for n in json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert any("matches nothing in this run" in t for t in texts), texts
    code, out, _ = run_cli(*PAIR, "--waivers", waivers, "--format", "sarif", "--stale-check")
    texts = [n["message"]["text"] for n in json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert any("matches nothing in this snapshot for any command" in t for t in texts), texts


def test_the_stale_check_is_an_option_of_every_command_that_reports_on_waivers():
    from migcheck.cli import build_parser

    parser = build_parser()
    for command in (["check", "s", "g", "t"], ["audit", "s"], ["matrix", "s"], ["plan", "s", "p"], ["place", "s"],
                    ["campaign", "s", "--upgrade", "v*", "--to", "6.3"]):
        assert parser.parse_args([*command, "--stale-check"]).stale_check is True
        assert parser.parse_args(command).stale_check is False
    sub = next(a for a in parser._actions if a.dest == "command")
    help_text = next(a.help for a in sub.choices["check"]._actions if a.dest == "stale_check")
    assert "costly" in help_text and "evaluates audit and the whole matrix" in help_text


def test_a_waiver_naming_no_subject_of_the_snapshot_is_stale_without_a_stale_check(tmp_path, run_cli, scans):
    # no guest of the fixture is called gone01: nothing anywhere can match it, known without evaluating
    waivers = _waivers(tmp_path, "rule: STORAGE-LOCAL, guest: 'gone0*'", "rule: VSWITCH-DOWN, target: vsp-z9")
    notes = _notes(run_cli, *PAIR, "--waivers", waivers)
    assert [n["status"] for n in notes.values()] == ["stale", "stale"] and scans == []
    for note in notes.values():
        assert "matches nothing in this snapshot for any command: it names no guest, host or target" in note["message"]
    checked = _notes(run_cli, *PAIR, "--waivers", waivers, "--stale-check")
    assert [n["status"] for n in checked.values()] == ["stale", "stale"]  # the stale check agrees
