"""The command line behaves like its peers' (issue 20): colour and width, the headline on stderr when
every report goes to a file, configuration found upward, -f/-o/-q/-v everywhere, --sarif-category,
shell completion, a --version that imports no engine module, and `migcheck test` for CI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from .conftest import FIXTURES, ROOT

MIXED = FIXTURES / "mixed-site.yaml"
CHECK = ("check", MIXED, "sapapp01", "vsp-e2")
ESC = "\x1b["
PACKAGE_PARENT = str(Path(__import__("migcheck").__file__).resolve().parent.parent)


class _Stream:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


# -- colour -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("choice, tty, env, wanted", [
    ("auto", True, {}, True),
    ("auto", False, {}, False),
    ("auto", True, {"NO_COLOR": ""}, True),  # empty: as good as unset (no-color.org)
    ("auto", True, {"NO_COLOR": "1"}, False),
    ("auto", False, {"FORCE_COLOR": "1"}, True),
    ("auto", False, {"FORCE_COLOR": ""}, False),
    ("auto", True, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),  # forcing wins
    ("always", False, {"NO_COLOR": "1"}, True),
    ("never", True, {"FORCE_COLOR": "1"}, False),
])
def test_colour_follows_the_option_then_the_environment_then_the_terminal(choice, tty, env, wanted):
    from migcheck.app.terminal import colour_wanted

    assert colour_wanted(choice, _Stream(tty), env) is wanted


def test_color_always_and_force_color_colour_a_pipe(run_cli, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert ESC not in run_cli(*CHECK)[1]
    assert ESC in run_cli(*CHECK, "--color", "always")[1]
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ESC in run_cli(*CHECK)[1]
    assert ESC not in run_cli(*CHECK, "--color", "never")[1]
    assert ESC not in run_cli(*CHECK, "--color", "always", "--format", "json")[1]  # the table only


def _on_a_terminal(args: list[str], columns: int, env: dict[str, str]) -> str:
    """migcheck's stdout when it is a terminal of `columns` columns (a pseudo-terminal)."""
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    proc = subprocess.Popen([sys.executable, "-m", "migcheck", *args], stdout=follower, stderr=subprocess.PIPE,
                            env={**base, "PYTHONPATH": PACKAGE_PARENT, **env}, cwd=ROOT)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_an_empty_no_color_leaves_a_terminal_coloured():
    args = ["check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2"]
    assert ESC in _on_a_terminal(args, 100, {})
    assert ESC in _on_a_terminal(args, 100, {"NO_COLOR": ""})
    assert ESC not in _on_a_terminal(args, 100, {"NO_COLOR": "1"})


@pytest.mark.parametrize("columns", [80, 200])
def test_the_table_is_laid_out_for_the_terminal(columns):
    out = _on_a_terminal(["check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--color", "never"],
                         columns, {})
    widths = [len(line) for line in out.splitlines()]
    assert "DIO-NO-MATCH" in out and max(widths) <= columns
    if columns == 200:
        assert max(widths) > 110  # the message column takes the room (a pipe gets the fixed layout)


# -- the headline when nothing goes to stdout ------------------------------------------------------------
def test_every_report_to_a_file_prints_a_headline_on_stderr(run_cli, tmp_path):
    report, sarif = tmp_path / "r.json", tmp_path / "r.sarif"
    code, out, err = run_cli(*CHECK, "--waivers", FIXTURES / "waivers.yaml", "-f", f"json:{report}",
                             "-f", f"sarif:{sarif}")
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == "BLOCKED  sapapp01: vsp-e1 -> vsp-e2 (offline migration)"
    assert re.fullmatch(r"\d+ errors?, \d+ warnings?, \d+ notes?, \d+ rule errors?", lines[1]), lines[1]
    assert f"wrote {report} (json)" in lines and f"wrote {sarif} (sarif)" in lines
    notes = [line for line in lines if line.startswith("waivers: ")]
    assert notes and any("expired" in n for n in notes), err  # fixtures/waivers.yaml holds a long-expired one


def test_no_headline_with_quiet_or_when_a_report_goes_to_stdout(run_cli, tmp_path):
    report = tmp_path / "r.json"
    assert run_cli(*CHECK, "-f", f"json:{report}", "-q")[2] == ""
    code, out, err = run_cli(*CHECK, "-f", f"json:{report}", "-f", "table")
    assert out.startswith("BLOCKED") and "wrote" not in err
    assert run_cli(*CHECK, "-f", "json", "-o", report)[2].startswith("BLOCKED  sapapp01")


def test_a_streamed_matrix_to_files_gets_its_final_verdict_and_counts(run_cli, tmp_path):
    report = tmp_path / "m.json"
    code, out, err = run_cli("matrix", MIXED, "-o", report, "-f", "json")
    data = json.loads(report.read_text())
    cells = data["summary"]["cells"]
    assert out == "" and err.splitlines()[0] == (
        f"{data['verdict'].upper()}  {cells['ready']} ready, {cells['blocked']} blocked, {cells['unknown']} unknown "
        f"of {sum(cells.values())} migrations")
    assert f"wrote {report} (json)" in err


def test_the_counts_line_has_plurals():
    from migcheck.app.terminal import counts_line

    one = {"failed_by_severity": {"error": 1, "warning": 1, "info": 1}, "error": 1}
    assert counts_line(one) == "1 error, 1 warning, 1 note, 1 rule error"
    two = {"failed_by_severity": {"error": 2, "warning": 0, "info": 3}, "error": 0}
    assert counts_line(two) == "2 errors, 0 warnings, 3 notes, 0 rule errors"


# -- configuration found upward --------------------------------------------------------------------------
def test_find_config_order(tmp_path):
    from migcheck.packs.config import find_config

    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(None, deep, {}) is None or not str(find_config(None, deep, {})[0]).startswith(str(tmp_path))
    (tmp_path / ".migcheck.yaml").write_text("{}\n")
    assert find_config(None, deep, {}) == (str(tmp_path / ".migcheck.yaml"), f"found upward from {deep}")
    (tmp_path / "a" / "migcheck.yaml").write_text("{}\n")
    assert find_config(None, deep, {})[0] == str(tmp_path / "a" / "migcheck.yaml")  # the nearest wins
    (tmp_path / "a" / ".migcheck.yaml").write_text("{}\n")
    assert find_config(None, deep, {})[0] == str(tmp_path / "a" / "migcheck.yaml")  # the plain name first
    assert find_config(None, deep, {"MIGCHECK_CONFIG": "/x.yaml"}) == ("/x.yaml", "MIGCHECK_CONFIG")
    assert find_config(None, deep, {"MIGCHECK_CONFIG": ""})[0] == str(tmp_path / "a" / "migcheck.yaml")
    assert find_config("given.yaml", deep, {"MIGCHECK_CONFIG": "/x.yaml"}) == ("given.yaml", "--config")


def _site(tmp_path) -> Path:
    """A folder holding a configuration that disables STORAGE-LOCAL, and a folder below it."""
    (tmp_path / "migcheck.yaml").write_text("disable: [STORAGE-LOCAL]\n")
    below = tmp_path / "ci" / "job"
    below.mkdir(parents=True)
    return below


def _rules_seen(out: str) -> set[str]:
    return {r["rule"] for r in json.loads(out)["results"]}


def test_a_configuration_is_found_upward_and_named_with_verbose(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("MIGCHECK_CONFIG", raising=False)
    below = _site(tmp_path)
    monkeypatch.chdir(below)
    code, out, err = run_cli(*CHECK, "-f", "json", "-v")
    assert "STORAGE-LOCAL" not in _rules_seen(out)
    assert f"migcheck: configuration {tmp_path / 'migcheck.yaml'} (found upward from {below})" in err
    assert run_cli(*CHECK, "-f", "json")[2] == ""  # named with -v only
    monkeypatch.chdir(ROOT)  # no configuration above the checkout
    code, out, err = run_cli(*CHECK, "-f", "json", "-v")
    assert "STORAGE-LOCAL" in _rules_seen(out) and "migcheck: no configuration" in err


def test_migcheck_config_and_config_take_precedence(run_cli, tmp_path, monkeypatch):
    below = _site(tmp_path)
    monkeypatch.chdir(below)
    other = tmp_path / "other.yaml"
    other.write_text("disable: [DIO-NO-MATCH]\n")
    monkeypatch.setenv("MIGCHECK_CONFIG", str(other))
    _, out, err = run_cli(*CHECK, "-f", "json", "-v")
    assert "DIO-NO-MATCH" not in _rules_seen(out) and "STORAGE-LOCAL" in _rules_seen(out)
    assert f"configuration {other} (MIGCHECK_CONFIG)" in err
    monkeypatch.setenv("MIGCHECK_CONFIG", "")  # empty: as if unset
    assert "STORAGE-LOCAL" not in _rules_seen(run_cli(*CHECK, "-f", "json")[1])
    _, out, err = run_cli(*CHECK, "-f", "json", "-v", "--config", FIXTURES / "migcheck.yaml")
    assert f"configuration {FIXTURES / 'migcheck.yaml'} (--config)" in err


def test_the_manifest_names_the_configuration_used(run_cli, tmp_path, monkeypatch):
    from migcheck.files.manifest import build_manifest

    common = dict(rule_pack_sha256="x", rules=1, snapshot_sha256=None, waivers_path=None, fail_on="error")
    site = str(FIXTURES / "migcheck.yaml")
    assert build_manifest(**common, config_path=site)["config_path"] == site
    assert "config_path" not in build_manifest(**common, config_path=None)
    assert build_manifest(**common, config_path=None, sarif_category="nightly")["sarif_category"] == "nightly"
    monkeypatch.delenv("MIGCHECK_CONFIG", raising=False)
    below = _site(tmp_path)
    monkeypatch.chdir(below)
    manifest = json.loads(run_cli(*CHECK, "-f", "json")[1])["manifest"]  # valid against the report schema
    assert manifest["config_path"] == str(tmp_path / "migcheck.yaml") and manifest["config_sha256"]
    manifest = json.loads(run_cli(*CHECK, "-f", "json", "--config", site)[1])["manifest"]
    assert manifest["config_path"] == site
    monkeypatch.chdir(ROOT)
    assert "config_path" not in json.loads(run_cli(*CHECK, "-f", "json")[1])["manifest"]


def test_sarif_category_sets_the_runs_category(run_cli):
    _, out, _ = run_cli(*CHECK, "-f", "json", "--sarif-category", "nightly/dc-east")  # a valid JSON report
    assert json.loads(out)["manifest"]["sarif_category"] == "nightly/dc-east"
    _, out, _ = run_cli(*CHECK, "-f", "sarif", "--sarif-category", "nightly/dc-east")
    run = json.loads(out)["runs"][0]
    assert run["automationDetails"]["id"].startswith("nightly/dc-east")
    assert run["properties"]["manifest"]["sarif_category"] == "nightly/dc-east"
    _, out, _ = run_cli(*CHECK, "-f", "sarif")
    assert "sarif_category" not in json.loads(out)["runs"][0]["properties"]["manifest"]


# -- the same short options on every reporting command ---------------------------------------------------
def _option_strings(command: str) -> set[str]:
    from migcheck.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return {s for action in sub.choices[command]._actions for s in action.option_strings}


@pytest.mark.parametrize("command, options", [
    *[(c, {"-f", "--format", "-o", "--output", "-q", "--quiet", "-v", "--verbose", "--color", "--sarif-category"})
      for c in ("audit", "check", "matrix", "plan", "place")],
    ("where", {"-f", "-o", "-q", "-v", "--color"}),
    ("rules", {"-f", "-o", "-v"}),
    ("test", {"-f", "-o", "-q", "-v", "--run"}),
    ("validate", {"-f", "-q"}),
    ("lint", {"-f", "-q"}),
    ("explain", {"-v"}),
])
def test_short_options_on_every_reporting_command(command, options):
    assert options <= _option_strings(command)


def test_where_and_rules_write_to_a_file(run_cli, tmp_path):
    answer, catalogue = tmp_path / "where.json", tmp_path / "rules.md"
    code, out, _ = run_cli("where", MIXED, "sapapp01", "-f", "json", "-o", answer)
    assert out == "" and json.loads(answer.read_text())["command"] == "where" and "sapapp01" in answer.read_text()
    code, out, _ = run_cli("rules", "-f", "markdown", "-o", catalogue)
    assert code == 0 and out == "" and "DIO-NO-MATCH" in catalogue.read_text()


def test_quiet_validate_and_lint_say_nothing_when_all_is_well(run_cli):
    assert run_cli("validate", MIXED)[2] != "" and run_cli("validate", MIXED, "-q")[2] == ""
    assert run_cli("lint", ROOT / "rules")[2] != "" and run_cli("lint", ROOT / "rules", "-q")[2] == ""


def test_the_cli_keeps_its_copies_of_engine_constants_equal():
    from migcheck import cli
    from migcheck.core import verdicts
    from migcheck.files import reader
    from migcheck.report import FORMATS

    assert cli.DEFAULT_MAX_BYTES == reader.DEFAULT_MAX_BYTES
    assert cli.REPORT_FORMATS == tuple(FORMATS)
    assert (cli.EXIT_OK, cli.EXIT_BAD_INPUT) == (verdicts.EXIT_OK, verdicts.EXIT_BAD_INPUT)


# -- --version -------------------------------------------------------------------------------------------
def test_version_imports_no_engine_module():
    """`python -X importtime -m migcheck --version`: the package, its command line and the vocabulary's
    constants, nothing else of migcheck (the whole engine took 0.10 s of CPU before)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "migcheck", "--version"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": PACKAGE_PARENT}, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("migcheck ")
    mods = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    ours = {m for m in mods if m == "migcheck" or m.startswith("migcheck.")}
    assert ours <= {"migcheck", "migcheck.cli", "migcheck.__main__", "migcheck.core", "migcheck.core.vocabulary"}, ours
    assert "lark" not in mods and "yaml" not in mods and "jsonschema" not in mods


# -- completion ------------------------------------------------------------------------------------------
def _script(run_cli, shell: str) -> str:
    code, out, err = run_cli("completion", shell)
    assert code == 0 and err == ""
    return out


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_names_every_command_and_option(run_cli, shell):
    from migcheck.app.completion import commands
    from migcheck.cli import build_parser

    script = _script(run_cli, shell)
    for command in commands(build_parser()):
        assert re.search(rf"(^|[\s'(]){re.escape(command.name)}[):'\s]", script, re.M), command.name
        for option in command.options:
            for flag in option.flags:
                spelled = f"-l {flag[2:]}" if shell == "fish" and flag.startswith("--") else \
                    f"-s {flag[1:]}" if shell == "fish" else flag
                assert spelled in script, (shell, command.name, flag)
    assert "table json jsonl csv" in script  # --format completes the formats


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_parse(run_cli, tmp_path, shell):
    program = shutil.which(shell)
    if program is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"migcheck.{shell}"
    path.write_text(_script(run_cli, shell))
    flag = "--no-execute" if shell == "fish" else "-n"
    done = subprocess.run([program, flag, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_bash_completion_completes(run_cli, tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    path = tmp_path / "migcheck.bash"
    path.write_text(_script(run_cli, "bash"))

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        done = subprocess.run(["bash", "-c", f'source "{path}"; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; '
                               '_migcheck; printf "%s\\n" "${COMPREPLY[@]}"'], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("migcheck", "che") == ["check"]
    assert complete("migcheck", "check", "--mo") == ["--mode"]
    assert complete("migcheck", "check", "--mode", "") == ["offline", "online"]
    assert "sarif" in complete("migcheck", "audit", "--format", "")
    assert sorted(complete("migcheck", "completion", "")) == ["bash", "fish", "zsh"]


# -- migcheck test for CI ----------------------------------------------------------------------------------
def _tests_json(run_cli, tmp_path, *args) -> tuple[int, dict]:
    """`migcheck test ARGS --format json`, printed (run_cli checks it against schemas/report.schema.json,
    `#/$defs/ruleTests`) and written to a file (`-o`): the same document."""
    code, stdout, _ = run_cli("test", *args, "--format", "json")
    out = tmp_path / "tests.json"
    again, written, _ = run_cli("test", *args, "-f", "json", "-o", out)
    assert (again, written) == (code, "") and json.loads(out.read_text()) == json.loads(stdout)
    return code, json.loads(stdout)


def test_rule_tests_as_json_with_per_rule_coverage(run_cli, tmp_path):
    code, data = _tests_json(run_cli, tmp_path, ROOT / "rules")
    assert code == 0 and data["summary"]["failed"] == 0 and data["summary"]["cases"] == len(data["cases"]) > 50
    coverage = {c["rule"]: c for c in data["coverage"]}
    assert coverage["DIO-NO-MATCH"]["failing_cases"] > 0 and coverage["DIO-NO-MATCH"]["passing_cases"] > 0
    assert all(c["covered"] for c in coverage.values())


def test_rule_tests_run_filtered_by_name(run_cli, tmp_path):
    code, data = _tests_json(run_cli, tmp_path, ROOT / "rules", "--run", "DIO|dio")
    assert code == 0  # coverage is shown but not required of a filtered run
    assert data["cases"] and all(re.search("DIO|dio", c["name"]) for c in data["cases"])
    assert data["summary"]["skipped"] > 0
    code, _, err = run_cli("test", ROOT / "rules", "--run", "(")
    assert code == 2 and "--run `(` is not a regular expression" in err


def _pack_with_a_wrong_case(tmp_path) -> Path:
    """A site pack of one rule (SITE-NAMED, failing for web01) and one case that expects it to pass there."""
    pack = tmp_path / "site"
    (pack / "tests").mkdir(parents=True)
    (pack / "site.rules").write_text('rule SITE-NAMED {\n  title "t"\n  severity warning\n  on guest\n'
                                     '  cite "c"\n  require guest.name != "web01"\n  message "m"\n}\n')
    (pack / "tests" / "site.yaml").write_text(
        f"cases:\n  - name: web01 is flagged\n    snapshot: {MIXED}\n    audit: true\n    subject: web01\n"
        "    expect: {SITE-NAMED: pass}\n")
    return pack


def test_rule_tests_as_json_name_a_wrong_case_within_the_schema(run_cli, tmp_path):
    """A wrong case and a rule not covered, as JSON: valid as `#/$defs/ruleTests` (run_cli checks), which
    refuses a document without its summary or with a case line of 0."""
    from tests.conftest import report_validator

    pack = _pack_with_a_wrong_case(tmp_path)
    code, data = _tests_json(run_cli, tmp_path, pack)
    assert code == 1
    (case,) = data["cases"]
    assert case["passed"] is False and case["wrong"] == ["SITE-NAMED: wanted pass, got fail (m)"] and case["line"] >= 1
    assert data["coverage"] == [{"rule": "SITE-NAMED", "failing_cases": 0, "passing_cases": 0, "covered": False}]
    assert data["summary"] == {"cases": 1, "passed": 0, "failed": 1, "skipped": 0, "rules": 1, "covered": 0}
    assert report_validator().is_valid(data)
    assert not report_validator().is_valid({k: v for k, v in data.items() if k != "summary"})
    assert not report_validator().is_valid({**data, "cases": [{**case, "line": 0}]})


def test_rule_tests_as_junit_fail_a_wrong_case_and_a_missing_coverage(run_cli, tmp_path):
    pack = _pack_with_a_wrong_case(tmp_path)
    report = tmp_path / "tests.xml"
    code, out, _ = run_cli("test", pack, "-f", "junit", "-o", report)
    assert code == 1 and out == ""
    root = ElementTree.parse(report).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    case = suites["rule tests"].find("testcase")
    assert case.get("name") == "web01 is flagged" and case.find("failure") is not None
    assert "SITE-NAMED: wanted pass, got fail" in case.find("failure").text
    coverage = suites["rule coverage"].find("testcase")
    assert coverage.get("name") == "SITE-NAMED" and coverage.find("failure").get("message") == "no failing case"


@pytest.mark.parametrize("args", [
    ("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--config", ""),
    ("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers", ""),
    ("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--baseline", "", "--fail-on-new"),
    ("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "-o", ""),
    ("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--rules", ""),
    ("place", "fixtures/mixed-site.yaml", "--vacate", "vsp-e1", "--name", ""),
    ("explain", "fixtures/mixed-site.yaml", "DIO-NO-MATCH", "sapapp01", "vsp-e2", "--plan", ""),
])
def test_an_option_given_an_empty_value_is_a_usage_error(monkeypatch, run_cli, args):
    """An empty value is refused, naming the option (`--config ""` fell back to the configuration found upward and
    turned BLOCKED into READY; `--baseline ""` was ignored; `-o ""` wrote to standard output)."""
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    code, out, err = run_cli(*args)
    option = args[args.index("") - 1]
    assert code == 2 and out == "" and "empty value" in err and option in err, err
