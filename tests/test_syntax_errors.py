"""The table of named syntax errors (engine/lang/syntax_errors.py): every example of every entry
is parsed and must be reported under that entry's name, with its message and help, located; every
entry has examples; and the table's order decides (a specific entry wins over a general one)."""

from __future__ import annotations

import pytest

from migcheck.lang import parser
from migcheck.lang.syntax_errors import KINDS, SYNTAX_ERRORS, SyntaxProblem, fail


def _named(text: str) -> tuple[str, object]:
    """The name of the problem parsing `text` gives, and its diagnostic."""
    names = []
    made = fail

    def spy(name, line, col, **fields):
        names.append(name)
        return made(name, line, col, **fields)

    original = parser.fail
    parser.fail = spy
    try:
        rules, diagnostics = parser.parse(text, "site.rules")
    finally:
        parser.fail = original
    assert rules is None and len(diagnostics) == 1, diagnostics
    return names[-1], diagnostics[0]


@pytest.mark.parametrize("kind, example", [(k, e) for k in SYNTAX_ERRORS for e in k.examples],
                         ids=lambda v: v.name if hasattr(v, "name") else "")
def test_each_example_gives_its_named_error(kind, example):
    name, diagnostic = _named(example)
    assert name == kind.name, f"{kind.name}'s example is reported as {name}: {diagnostic.render()}"
    assert diagnostic.code == kind.code and diagnostic.file == "site.rules"
    assert diagnostic.line >= 1 and diagnostic.col >= 1
    first = kind.message.split("{", 1)[0].replace("{{", "{").replace("}}", "}")
    assert diagnostic.message.startswith(first)


def test_every_entry_has_examples_and_a_unique_name():
    assert all(kind.examples for kind in SYNTAX_ERRORS)
    assert len(KINDS) == len(SYNTAX_ERRORS)


@pytest.mark.parametrize("text, line, col, message", [
    ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require guest.name == \'a\'\n  message "m"\n}\n',
     5, 25, "strings use double quotes"),
    ('rule SITE-X {\n  titel "t"\n}\n', 2, 3, "unknown clause `titel`"),
    ('rule SITE-X {\n  title "if"\n  severity error\n  on guest\n  require x == if a then 1 else 2\n  message "m"\n}\n',
     5, 16, "a conditional after an operator needs parentheses"),
    ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require true\n'
     '  message "m {1 + if true then 1 else 2}"\n}\n', 6, 19, "a conditional after an operator needs parentheses"),
    ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  let n = if guest.vcpus > 1 then 2\n'
     '  require n > 0\n  message "m"\n}\n', 6, 3, "`if ... then ...` needs an `else` branch, found `require`"),
    ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require if true 1 else 2\n  message "m"\n}\n',
     5, 19, "expected `then` after the test of `if`, found `1`"),
    ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require true\n  message "m"\n', 7, 1,
     "expected `}` to close rule `SITE-X` opened at 1:1, found end of file"),
])
def test_named_errors_are_located(text, line, col, message):
    _, diagnostic = _named(text)
    assert (diagnostic.line, diagnostic.col, diagnostic.message) == (line, col, message)


def test_a_problem_inside_a_message_is_placed_in_its_file():
    text = 'rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require true\n  message "m {guest.name ==}"\n}\n'
    name, diagnostic = _named(text)
    assert name == "unexpected" and diagnostic.line == 6 and diagnostic.col > 14


def test_fail_fills_the_message_and_help():
    problem = fail("unknown-escape", 3, 7, escape="q")
    assert isinstance(problem, SyntaxProblem)
    assert (problem.line, problem.col, problem.message, problem.name) == (3, 7, "unknown escape `\\q` in a string",
                                                                          "unknown-escape")
