"""README.md's two opening commands stay true, and .ci/run runs the README's test command."""

from __future__ import annotations

import re

from .conftest import ROOT


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_ci_runs_the_readme_test_command():
    install_and_run, test = _commands()
    assert "pip install ." in install_and_run and "migcheck " in install_and_run
    assert test.endswith("python -m pytest")
    assert test in (ROOT / ".ci" / "run").read_text()


def test_readme_run_command_works(run_cli):
    install_and_run, _ = _commands()
    args = install_and_run.split("migcheck ", 1)[1].split()
    code, _, err = run_cli(*[ROOT / a if a.startswith("fixtures/") else a for a in args])
    assert code in (0, 1), err


def test_readme_session_is_what_migcheck_prints(run_cli, monkeypatch):
    """The blocked-fixed-ready session in README.md is real output, kept true."""
    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text()
    sessions = re.findall(r"\$ migcheck (check [^\n]+)\n(.*?)\n\$ echo \$\?\n(\d)", text, re.S)
    assert len(sessions) == 2
    for command, shown, code in sessions:
        got_code, out, _ = run_cli(*command.split())
        assert out.rstrip() == shown
        assert got_code == int(code)


def test_rule_catalogue_document_is_current(run_cli):
    _, out, _ = run_cli("rules", "--format", "markdown")
    assert out in (ROOT / "docs" / "rules.md").read_text()
