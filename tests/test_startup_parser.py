"""Cold start (issue 23, item 4): `main` builds only the subparser of the command it was given; what it
prints and returns is what the whole parser would have printed and returned."""

from __future__ import annotations

import pytest

from migcheck import cli

ARGVS = [
    *([name, "--help"] for name in cli._commands()),
    ["check"], ["check", "s.yaml", "g"], ["check", "s.yaml", "g", "t", "--bogus"], ["check", "--version"],
    ["check", "s.yaml", "g", "t", "--format", "nope"], ["audit", "--fail-on", "nothing"], ["matrix", "-h"],
    ["import"], ["collector", "extra"], ["--help"], ["--help", "check"], ["chek"], [], ["--bogus", "check"],
]


def _outcome(argv, capsys):
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = ("exit", exc.code)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("argv", ARGVS, ids=" ".join)
def test_one_command_s_parser_says_what_the_whole_parser_says(argv, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_handler", lambda name: (lambda *args: 0))  # parse only: run nothing
    monkeypatch.setenv("COLUMNS", "100")
    partial = _outcome(argv, capsys)
    whole = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda command=None: whole())
    assert partial == _outcome(argv, capsys)


def test_only_the_command_given_is_built():
    sub = next(a for a in cli.build_parser("check")._actions if a.__class__.__name__ == "_SubParsersAction")
    assert list(sub.choices) == ["check"]
    sub = next(a for a in cli.build_parser("completion")._actions if a.__class__.__name__ == "_SubParsersAction")
    assert list(sub.choices) == cli._commands()
    sub = next(a for a in cli.build_parser("nope")._actions if a.__class__.__name__ == "_SubParsersAction")
    assert list(sub.choices) == cli._commands()


@pytest.mark.parametrize("columns", [None, "50", "130", "0", "-3", "wide", ""])
def test_the_terminal_is_as_wide_as_shutil_says(columns, monkeypatch):
    import shutil

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert cli._terminal_columns() == shutil.get_terminal_size().columns


@pytest.mark.parametrize("columns", [None, "60", "200"])
@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["matrix", "--help"]], ids=" ".join)
def test_help_is_laid_out_as_argparse_s_own_formatter_lays_it_out(argv, columns, capsys, monkeypatch):
    import argparse

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    ours = _outcome(argv, capsys)
    monkeypatch.setattr(cli, "_Formatter", argparse.HelpFormatter)
    assert ours == _outcome(argv, capsys)
