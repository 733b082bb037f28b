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


def _transcripts() -> list[tuple[str, list[str]]]:
    """(command, lines shown after it) for every `$ migcheck ...` in README.md's plain code blocks."""
    blocks, current = [], None
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("```"):
            if current is None:
                current = [] if line == "```" else ["(not a transcript)"]
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    out = []
    for lines in blocks:
        i = 0
        while i < len(lines):
            if not lines[i].startswith(("$ ", "# ")):  # a user's or root's prompt
                i += 1
                continue
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + lines[i].strip()
            i += 1
            shown = []
            while i < len(lines) and not lines[i].startswith(("$ ", "# ")):
                shown.append(lines[i])
                i += 1
            out.append((command.split("  #")[0].strip(), shown))
    return out


def _shows(shown: list[str], actual: list[str]) -> bool:
    """Whether `shown` is `actual`, where a line `...` stands for any number of lines."""
    pattern = "".join(".*?" if line == "..." else re.escape(line + "\n") for line in shown)
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual), re.S) is not None


def test_readme_excerpts_are_real_output_or_marked(run_cli, monkeypatch):
    """Every `$ migcheck` transcript in README.md that shows output shows the real output, with
    `...` where lines are left out (a command shown without output is an example, not an excerpt)."""
    monkeypatch.chdir(ROOT)
    code = None
    checked = 0
    for command, shown in _transcripts():
        if command == "echo $?":
            assert shown == [str(code)]
            continue
        if not shown or not command.startswith("migcheck ") or ">" in command or "|" in command:
            code = None
            continue
        args = command.split()[1:]
        if any("/" in a and not (ROOT / a.split(":")[-1]).exists() for a in args if not a.startswith("-")):
            code = None  # a run on files the repository does not hold: an illustration, not checkable
            continue
        code, out, err = run_cli(*args)
        assert _shows(shown, (out + err).rstrip("\n").splitlines()), f"README.md shows for `{command}`:\n" \
            + "\n".join(shown) + "\n\nbut migcheck prints:\n" + out + err
        checked += 1
    assert checked >= 4  # the two sessions, explain and validate
