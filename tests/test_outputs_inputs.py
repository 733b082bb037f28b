"""No output onto an input, for every output option of every command, checked before any work (issue 21)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "fixtures" / "mixed-site.yaml"
PLAN = ROOT / "fixtures" / "plan-dio.yaml"
WAIVERS = ROOT / "fixtures" / "waivers.yaml"


@pytest.fixture
def files(tmp_path):
    out = {}
    for name, src in (("snap", SITE), ("plan", PLAN), ("waivers", WAIVERS)):
        out[name] = tmp_path / src.name
        shutil.copy(src, out[name])
    return out


def _unchanged(files) -> dict:
    return {k: p.read_bytes() for k, p in files.items()}


@pytest.mark.parametrize("case", ["place-output-snapshot", "place-output-waivers", "plan-emit-plan",
                                  "plan-emit-snapshot", "place-output-and-format", "campaign-output-snapshot"])
def test_an_output_onto_an_input_is_refused_before_any_work(files, run_cli, case):
    pytest.importorskip("ortools")
    snap, plan, waivers = files["snap"], files["plan"], files["waivers"]
    args = {
        "place-output-snapshot": ("place", snap, "--vacate", "vsp-e1", "--output", snap),
        "place-output-waivers": ("place", snap, "--vacate", "vsp-e1", "--waivers", waivers, "--output", waivers),
        "plan-emit-plan": ("plan", snap, plan, "--emit-snapshot", plan),
        "plan-emit-snapshot": ("plan", snap, plan, "--emit-snapshot", snap),
        "place-output-and-format": ("place", snap, "--vacate", "vsp-e1", "--output", snap.parent / "p.yaml",
                                    "--format", f"json:{snap.parent / 'p.yaml'}"),
        "campaign-output-snapshot": ("campaign", snap, "--upgrade", "vsp-e*", "--to", "6.3", "--output", snap),
    }[case]
    before = _unchanged(files)
    code, out, err = run_cli(*args)
    assert code == 2 and "Traceback" not in err, err
    assert "would overwrite" in err or "would be written to one file" in err, err
    assert _unchanged(files) == before
    assert not (snap.parent / "p.yaml").exists()


def test_import_refuses_an_output_inside_its_capture_folder(tmp_path, run_cli):
    capture = tmp_path / "capture"
    shutil.copytree(ROOT / "fixtures" / "capture" / "two-vsp", capture)
    target = next(capture.iterdir()) / "dio.yaml"
    before = target.read_bytes() if target.exists() else None
    code, _, err = run_cli("import", capture, "--output", target)
    assert code == 2 and "inside the capture folder" in err
    assert (target.read_bytes() if target.exists() else None) == before
    code, _, _ = run_cli("import", capture, "--output", tmp_path / "estate.yaml")
    assert code == 0 and (tmp_path / "estate.yaml").exists()


@pytest.fixture
def pack(tmp_path):
    """A copy of the site pack with its rule test, and the snapshot its cases read (`../../mixed-site.yaml`)."""
    shutil.copytree(ROOT / "fixtures" / "site-rules", tmp_path / "site")
    shutil.copy(SITE, tmp_path / "mixed-site.yaml")
    return tmp_path / "site"


@pytest.mark.parametrize("case", ["where-snapshot", "where-waivers", "where-rule-file", "rules-rule-file",
                                  "rules-json-rule-file", "summary-snapshot", "summary-format-waivers",
                                  "test-rule-file", "test-rule-test", "test-case-snapshot"])
def test_an_answer_onto_an_input_is_refused(files, pack, run_cli, case):
    """`where`, `rules`, `matrix --summary` and `test` write an answer with `-o` (or `-f FMT:FILE`): never onto a
    file the run reads, the snapshots a rule test's cases read included."""
    snap, waivers = files["snap"], files["waivers"]
    rule_file, rule_test = pack / "support.rules", pack / "tests" / "support.yaml"
    case_snapshot = pack.parent / "mixed-site.yaml"
    args, target = {
        "where-snapshot": (("where", snap, "sapapp01", "-o", snap), snap),
        "where-waivers": (("where", snap, "sapapp01", "--waivers", waivers, "-o", waivers), waivers),
        "where-rule-file": (("where", snap, "sapapp01", "--rules", pack, "-o", rule_file), rule_file),
        "rules-rule-file": (("rules", "--rules", pack, "-o", rule_file), rule_file),
        "rules-json-rule-file": (("rules", "--rules", pack, "-f", "json", "-o", rule_file), rule_file),
        "summary-snapshot": (("matrix", snap, "--summary", "-f", "json", "-o", snap), snap),
        "summary-format-waivers": (("matrix", snap, "--summary", "-f", f"json:{waivers}", "--waivers", waivers),
                                   waivers),
        "test-rule-file": (("test", pack, "-o", rule_file), rule_file),
        "test-rule-test": (("test", pack, "-o", rule_test), rule_test),
        "test-case-snapshot": (("test", pack, "-f", "json", "-o", case_snapshot), case_snapshot),
    }[case]
    before = target.read_bytes()
    code, out, err = run_cli(*args)
    assert code == 2 and "Traceback" not in err, err
    assert "would overwrite" in err and target.name in err, err
    assert target.read_bytes() == before


@pytest.mark.parametrize("args", [("where", "{snap}", "sapapp01"), ("rules",), ("matrix", "{snap}", "--summary"),
                                  ("test", "{pack}")])
def test_an_answer_to_another_file_is_written(files, pack, run_cli, tmp_path, args):
    out = tmp_path / "answer.txt"
    code, _, err = run_cli(*[a.format(snap=files["snap"], pack=pack) for a in args], "-o", out)
    assert code in (0, 1), err
    assert out.read_text()


def test_test_never_writes_over_a_plan_a_skipped_case_or_the_built_in_pack_names(tmp_path, run_cli, monkeypatch):
    """`test -o` against every file a case names (a plan file too), cases `--run` leaves out included, and the
    built-in pack's files, which every `test` loads (here a copy standing for it, wherever it is installed: a
    failing guard overwrites the copy, never the checkout)."""
    from migcheck.app import ruletest
    from migcheck.files import resources

    builtin_pack = tmp_path / "installed" / "rules"
    shutil.copytree(resources.builtin_rules_dir(), builtin_pack)
    monkeypatch.setattr(ruletest, "builtin_rules_dir", lambda: builtin_pack)
    shutil.copy(SITE, tmp_path / "s.yaml")
    shutil.copy(SITE, tmp_path / "mixed-site.yaml")  # (the site pack's own cases read it)
    shutil.copy(PLAN, tmp_path / "plan.yaml")
    pack = tmp_path / "site"
    shutil.copytree(ROOT / "fixtures" / "site-rules", pack)
    (pack / "tests" / "plan.yaml").write_text(
        "cases:\n  - name: a plan\n    snapshot: ../../s.yaml\n    plan: ../../plan.yaml\n    expect: {SITE-SUPPORT: pass}\n"
        "  - name: left out\n    snapshot: ../../other.yaml\n    audit: true\n    expect: {SITE-SUPPORT: pass}\n")
    shutil.copy(SITE, tmp_path / "other.yaml")
    builtin = next(builtin_pack.glob("*.rules"))
    for target, extra in ((tmp_path / "plan.yaml", ()), (tmp_path / "other.yaml", ("--run", "a plan")),
                          (builtin, ())):
        before = target.read_bytes()
        code, _, err = run_cli("test", pack, *extra, "-f", "json", "-o", target)
        assert code == 2 and "would overwrite" in err and target.name in err, err
        assert target.read_bytes() == before


@pytest.mark.parametrize("how", ["upward", "environment", "misspelt-command"])
@pytest.mark.parametrize("fmt", ["junit", "sarif"])
def test_the_failure_document_never_replaces_the_configuration_it_found(tmp_path, run_cli, monkeypatch, how, fmt):
    """The exit-2 SARIF or JUnit document (written so that a CI upload finds a file) refused the configuration
    given with --config, but wrote over one found upward from the working folder or named by MIGCHECK_CONFIG."""
    config = tmp_path / ("env.yaml" if how == "environment" else "migcheck.yaml")
    config.write_text("fail_on: warning\n")
    work = tmp_path / "sub"
    work.mkdir()
    monkeypatch.chdir(work)
    if how == "environment":
        monkeypatch.setenv("MIGCHECK_CONFIG", str(config))
    else:
        monkeypatch.delenv("MIGCHECK_CONFIG", raising=False)
    command = "chek" if how == "misspelt-command" else "check"
    code, _, err = run_cli(command, SITE, "sapapp01", "vsp-e2", "--format", f"{fmt}:{config}")
    assert code == 2 and "Traceback" not in err, err
    assert config.read_text() == "fail_on: warning\n"


def test_the_failure_document_never_replaces_a_rule_file_of_a_pack_the_configuration_names(tmp_path, run_cli,
                                                                                          monkeypatch):
    """Refused as a report ("a rule file this run reads"), the exit-2 SARIF document then wrote over it: only the
    --rules folders were kept, not the packs the configuration names."""
    pack = tmp_path / "pack"
    pack.mkdir()
    rules = pack / "a.rules"
    shutil.copy(ROOT / "fixtures" / "site-rules" / "support.rules", rules)
    before = rules.read_bytes()
    (tmp_path / "migcheck.yaml").write_text("rules: [pack/]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MIGCHECK_CONFIG", raising=False)
    code, _, err = run_cli("audit", SITE, "--format", "sarif:pack/a.rules")
    assert code == 2 and "a rule file this run reads" in err, err
    assert rules.read_bytes() == before


@pytest.mark.parametrize("option", ["-f", "--fail-on"])
def test_the_failure_document_never_replaces_an_input_through_a_hard_link(tmp_path, run_cli, option):
    """The exit-2 document is kept off the run's inputs by the same identity `check_outputs` uses (device and
    inode): a hard link of the snapshot named as the report was refused, then written over anyway."""
    snap = tmp_path / "snap.yaml"
    shutil.copy(ROOT / "fixtures" / "mixed-site.yaml", snap)
    alias = tmp_path / "alias.yaml"
    alias.hardlink_to(snap)
    before = snap.read_bytes()
    extra = ["--fail-on", "bogus"] if option == "--fail-on" else []
    code, _, err = run_cli("check", alias, "sapapp01", "vsp-e2", *extra, "-f", f"sarif:{snap}")
    assert code == 2, err
    assert snap.read_bytes() == before and alias.stat().st_ino == snap.stat().st_ino


def test_another_spelling_of_standard_output_is_standard_output(tmp_path):
    """`/dev/./stdout` (or the file standard output is redirected to) is standard output: with another report to
    standard output it is refused, as `/dev/stdout` is, not replaced under the shell's redirection (the other
    report was lost)."""
    out = tmp_path / "two.txt"
    with open(out, "w") as stdout:
        run = subprocess.run([sys.executable, "-m", "migcheck", "check", str(ROOT / "fixtures" / "mixed-site.yaml"),
                              "sapapp01", "vsp-e2", "-f", "json:/dev/./stdout", "-f", "csv"], stdout=stdout,
                             stderr=subprocess.PIPE, text=True)
    assert run.returncode == 2 and "two reports would go to standard output" in run.stderr
    with open(out, "w") as stdout:
        run = subprocess.run([sys.executable, "-m", "migcheck", "check", str(ROOT / "fixtures" / "mixed-site.yaml"),
                              "sapapp01", "vsp-e2", "-f", f"json:{out}"], stdout=stdout, stderr=subprocess.PIPE,
                             text=True)
    assert run.returncode == 1 and out.stat().st_nlink == 1 and out.read_text().startswith("{")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("where", ["x.rules", "data/t.yaml", "tests/t.yaml"])
def test_a_fifo_in_a_pack_is_refused_not_waited_on(tmp_path, where):
    """A FIFO found in a pack (a rule file, a table, a rule test) would hold reading forever: it is a located
    problem, for every command that reads packs."""
    pack = tmp_path / "pack"
    (pack / "data").mkdir(parents=True)
    (pack / "tests").mkdir()
    (pack / "ok.rules").write_text('rule SITE-X {\n  title "x"\n  severity warning\n  on guest\n  require true\n'
                                   '  message "x"\n  cite "site"\n}\n')
    os.mkfifo(pack / where)
    for args in (["lint", pack], ["fmt", "--check", pack], ["test", pack, "--no-builtin"],
                 ["check", ROOT / "fixtures" / "mixed-site.yaml", "sapapp01", "vsp-e2", "--rules", pack]):
        run = subprocess.run([sys.executable, "-m", "migcheck", *map(str, args)], capture_output=True, text=True,
                             timeout=60)
        reads = {"x.rules": {"lint", "fmt", "test", "check"}, "data/t.yaml": {"lint", "test", "check"},
                 "tests/t.yaml": {"test"}}[where]
        if args[0] in reads:
            assert run.returncode == 2, (args, run.stderr)
            assert f"{pack / where}:1:1" in run.stderr and "not a regular file" in run.stderr, (args, run.stderr)
