"""Messages for names the user got slightly wrong: did-you-mean ignores case; a VSP given as the
guest (or a guest as the target) is named as such."""

from __future__ import annotations

import pytest

from .conftest import FIXTURES

MIXED = FIXTURES / "mixed-site.yaml"


@pytest.mark.parametrize("args,message", [
    (("check", MIXED, "SAPAPP01", "vsp-e2"), "unknown guest `SAPAPP01`; did you mean `sapapp01`?"),
    (("check", MIXED, "sapapp01", "VSP-E2"), "unknown host `VSP-E2`; did you mean `vsp-e2`?"),
    (("check", MIXED, "Sapap01", "vsp-e2"), "unknown guest `Sapap01`; did you mean `sapapp01`?"),
    (("explain", MIXED, "dio-no-match", "sapapp01", "vsp-e2"), "did you mean `DIO-NO-MATCH`?"),
    (("check", MIXED, "vsp-e2", "sapapp01"),
     "`vsp-e2` is a VSP, not a guest; write the guest first: `check SNAPSHOT sapapp01 vsp-e2`"),
    (("check", MIXED, "vsp-e2", "vsp-e1"), "`vsp-e2` is a VSP, not a guest; give GUEST TARGET"),
    (("check", MIXED, "sapapp01", "dbprod01"), "`dbprod01` is a guest, not a VSP"),
    (("matrix", MIXED, "--format", "HTML"), "unknown format `HTML`; did you mean `html`?"),
])
def test_near_misses_are_named(run_cli, args, message):
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert message in err
    assert "Traceback" not in err


def test_did_you_mean_prefers_an_exact_match_ignoring_case():
    from migcheck.core.words import did_you_mean

    assert did_you_mean("WEB01", ["web02", "web01", "Web01x"]) == "did you mean `web01`?"
    assert did_you_mean("zzz", ["web01"], "see the list") == "see the list"


# -- issue 20: the messages a new user meets ---------------------------------------------------------
PLAN = FIXTURES / "plan-dio.yaml"


@pytest.mark.parametrize("args,message", [
    (("where", MIXED, "vsp-e1"), "`vsp-e1` is a VSP, not a guest; `where` takes a guest"),
    (("explain", MIXED, "DIO-NO-MATCH", "vsp-e1", "vsp-e2"),
     "`vsp-e1` is a VSP, not a guest; rule `DIO-NO-MATCH` is `on migration`: give GUEST TARGET"),
    (("explain", MIXED, "DIO-NO-MATCH", "sapapp01", "dbprod01"), "`dbprod01` is a guest, not a VSP"),
    (("explain", MIXED, "DIO-POOL-LABEL", "sapapp01"),
     "`sapapp01` is a guest, not a VSP; rule `DIO-POOL-LABEL` is `on host`: give HOST"),
    (("explain", MIXED, "DIO-UNLABELED", "vsp-e2"), "`vsp-e2` is a VSP, not a guest"),
    (("where", MIXED, "sapap01"), "unknown guest `sapap01`; did you mean `sapapp01`?"),
])
def test_where_and_explain_name_a_guest_vsp_mix_up(run_cli, args, message):
    code, out, err = run_cli(*args)
    assert code == 2 and out == "" and message in err, err


def test_a_misspelt_command_gets_a_suggestion(run_cli):
    code, out, err = run_cli("chek", MIXED, "sapapp01", "vsp-e2")
    assert code == 2 and out == ""
    assert "migcheck: unknown command `chek`; did you mean `check`?" in err
    code, _, err = run_cli("frobnicate")
    assert code == 2 and "unknown command `frobnicate`; the commands are validate, audit, check" in err
    assert run_cli("--version")[0] == 0  # an option before any command is argparse's to judge


def test_a_missing_file_gets_the_closest_name_in_its_folder(run_cli, tmp_path):
    code, _, err = run_cli("check", FIXTURES / "mixed-sit.yaml", "sapapp01", "vsp-e2")
    assert code == 2
    assert f"{FIXTURES / 'mixed-sit.yaml'}:1:1: error[input]: file not found" in err
    assert f"help: did you mean `{MIXED}`?" in err
    (tmp_path / "estate.yaml").write_text("snapshot: 1\n")
    code, _, err = run_cli("audit", tmp_path / "nothing-like-it.json")
    assert code == 2 and "did you mean" not in err and "help: check the path" in err


def test_an_unknown_format_lists_the_formats(run_cli):
    from migcheck.report import FORMATS

    code, out, err = run_cli("check", MIXED, "sapapp01", "vsp-e2", "--format", "text")
    assert code == 2 and out == ""
    assert "unknown format `text`" in err and "the formats are " + ", ".join(FORMATS) in err


def test_a_plan_given_as_the_snapshot_is_named_as_such(run_cli):
    code, out, err = run_cli("plan", PLAN, MIXED)
    assert code == 2 and out == ""
    assert f"{PLAN}:4:" in err and "this looks like a plan file (it has `plan:`), not a snapshot" in err
    assert "give the snapshot first, then the plan: `migcheck plan SNAPSHOT PLAN`" in err
    assert err.count("error[") == 1  # one problem, not the schema's five
    code, _, err = run_cli("check", PLAN, "sapapp01", "vsp-e2")
    assert code == 2 and "looks like a plan file" in err and "give the inventory snapshot" in err


def test_a_snapshot_given_as_the_plan_is_named_as_such(run_cli):
    code, out, err = run_cli("plan", MIXED, MIXED)
    assert code == 2 and out == ""
    assert f"{MIXED}:4:" in err and "this looks like a snapshot file (it has `snapshot:`), not a plan" in err
    assert err.count("error[") == 1


def test_a_broken_snapshot_keeps_its_own_schema_errors(run_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("snapshot: 1\nhosts: []\nguests: []\nsite: 3\n")
    code, _, err = run_cli("audit", bad)
    assert code == 2 and "looks like" not in err and "error[schema]" in err


def test_exit_2_writes_the_sarif_and_junit_files_asked_for(run_cli, tmp_path):
    """A CI job uploads these: on a bad input they exist and say why, instead of `file not found`."""
    import json
    from xml.etree import ElementTree

    sarif, junit, table = tmp_path / "out.sarif", tmp_path / "out.xml", tmp_path / "out.txt"
    code, _, err = run_cli("check", PLAN, "sapapp01", "vsp-e2", "--format", f"sarif:{sarif}",
                           "--format", f"junit:{junit}", "--format", f"table:{table}")
    assert code == 2 and "looks like a plan file" in err
    run = json.loads(sarif.read_text())["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["results"] == []
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("looks like a plan file" in n["message"]["text"] for n in notes)
    errors = ElementTree.parse(junit).getroot().iter("error")
    assert any("looks like a plan file" in (e.get("message", "") + (e.text or "")) for e in errors)
    assert not table.exists()  # only the documents CI uploads


def test_exit_2_on_a_usage_error_writes_them_too_but_never_over_an_input(run_cli, tmp_path):
    import json

    sarif = tmp_path / "out.sarif"
    code, _, err = run_cli("check", MIXED, "sapap01", "vsp-e2", "-f", "sarif", "-o", sarif)
    assert code == 2 and "unknown guest `sapap01`" in err
    notes = json.loads(sarif.read_text())["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("unknown guest `sapap01`" in n["message"]["text"] for n in notes)
    snapshot = tmp_path / "estate.yaml"
    snapshot.write_text(MIXED.read_text())
    code, _, err = run_cli("check", snapshot, "sapapp01", "vsp-e2", "--format", f"sarif:{snapshot}")
    assert code == 2 and snapshot.read_text() == MIXED.read_text()  # the refused output is the snapshot


@pytest.mark.parametrize("argv", [
    ("check", MIXED, "sapapp01", "vsp-e2", "--mode", "bogus"),  # argparse refuses it
    ("chek", MIXED, "sapapp01", "vsp-e2"),  # no such command
])
def test_a_usage_error_argparse_finds_writes_the_failure_documents_too(run_cli, tmp_path, argv):
    import json

    sarif, junit = tmp_path / "u.sarif", tmp_path / "u.xml"
    code, out, err = run_cli(*argv, "-f", f"sarif:{sarif}", "--format=junit:" + str(junit))
    assert code == 2 and out == ""
    run = json.loads(sarif.read_text())["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    text = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert ("invalid choice: 'bogus'" in text) if "--mode" in argv else ("did you mean `check`?" in text)
    assert "<error" in junit.read_text()
    code, _, _ = run_cli(*argv, "-f", f"sarif:{MIXED}")  # never over a word of the command line
    assert code == 2 and MIXED.read_text().startswith("# A mixed")


def test_a_usage_error_without_failure_documents_imports_no_engine_module():
    import os
    import subprocess
    import sys
    from pathlib import Path

    parent = str(Path(__import__("migcheck").__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "migcheck", "check", "x", "--mode", "bogus"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": parent})
    assert done.returncode == 2 and "invalid choice: 'bogus'" in done.stderr
    mods = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {m for m in mods if m.startswith("migcheck.")} <= {"migcheck.cli", "migcheck.__main__", "migcheck.core",
                                                                "migcheck.core.vocabulary"}
