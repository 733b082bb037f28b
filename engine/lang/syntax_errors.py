"""The rule language's syntax errors: one table of named errors, each with examples, and one `fail`.

As lark's `examples/advanced/error_reporting_lalr.py` and Jinja's `fail(msg, lineno)` do it, every
syntax problem of a rule file has a name here, a message and a help text (templates filled from
what the parser saw), and example rule texts that must give it: the tests parse every example
and check that it is reported under its name, so the table cannot drift from the parser.

`classify(exc, text)` names the problem of a parse that lark refused (the first entry whose
`matches` holds, in table order: the specific ones before the general); the parser's own checks
(escapes, message braces, limits) name theirs directly. Either way the problem is raised through
`fail`, the one place a `SyntaxProblem` is made.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken


class SyntaxProblem(Exception):
    """A located syntax problem, named by its entry in `SYNTAX_ERRORS`."""

    def __init__(self, line: int, col: int, message: str, help: str = "", code: str = "syntax", name: str = ""):
        super().__init__(message)
        self.line, self.col, self.message, self.help, self.code, self.name = line, col, message, help, code, name
        self.placed = False  # True: line:col are the file's already (a span of the tree), never moved again

    def moved(self, line: int, col: int) -> SyntaxProblem:
        """The same problem at another position (an expression inside a message, placed in its file)."""
        return SyntaxProblem(line, col, self.message, self.help, self.code, self.name)


@dataclass(frozen=True)
class Seen:
    """What a refused parse saw: the exception, the text, the character or token found, what was expected."""

    exc: UnexpectedInput | None
    text: str
    char: str = ""
    token: object = None
    expected: frozenset = frozenset()
    fields: dict = field(default_factory=dict)  # what the message and help are filled with

    @property
    def at_end(self) -> bool:
        return self.token is None or self.token.type == "$END"


@dataclass(frozen=True)
class SyntaxKind:
    name: str
    message: str  # a template: str.format(**fields)
    help: str
    examples: tuple[str, ...]  # rule texts that give this problem
    matches: Callable[[Seen], bool] | None = None  # for the problems lark finds (None: raised by the parser itself)
    code: str = "syntax"


def _unexpected_char(seen: Seen) -> bool:
    return isinstance(seen.exc, UnexpectedCharacters)


_BLANKED = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')  # strings and comments: no `if` in them counts
_CLAUSE = re.compile(r"^[ \t]*(?:title|severity|on|when|for|let|require|message|fix|cite|tags)\b", re.M)
_IF = re.compile(r"(?<![.\w])if\b")


def _clause_before(seen: Seen) -> str:
    """The text of the clause being parsed, up to what the parse refused, strings and comments blanked."""
    pos = getattr(seen.token, "start_pos", None) if not seen.at_end else None
    text = _BLANKED.sub(lambda m: " " * len(m.group()), seen.text[:len(seen.text) if pos is None else pos])
    starts = list(_CLAUSE.finditer(text))
    return text[starts[-1].end():] if starts else text


def _if_as_operand(seen: Seen) -> bool:
    """`x == if c then ...`: where an operand must follow an operator, `if` was read as a name."""
    return not isinstance(seen.exc, UnexpectedCharacters) and re.search(r"(?<![.\w])if\s*$", _clause_before(seen)) is not None


def _if_without_then(seen: Seen) -> bool:
    """The innermost `if` of the clause has no `then` yet, and what follows its test is not `then`."""
    if isinstance(seen.exc, UnexpectedCharacters) or "THEN" not in seen.expected:
        return False
    before = _clause_before(seen)
    last = None
    for last in _IF.finditer(before):
        pass
    return last is not None and re.search(r"\bthen\b", before[last.end():]) is None


_RULE = 'rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require %s\n  message "m"\n}\n'

SYNTAX_ERRORS: tuple[SyntaxKind, ...] = (
    # -- characters lark's lexer refused --------------------------------------------------
    SyntaxKind("single-quotes", "strings use double quotes", 'write "text"',
               (_RULE % "guest.name == 'a'",),
               lambda s: _unexpected_char(s) and s.char == "'"),
    SyntaxKind("open-string", "string is not closed on this line",
               'close it with `"`; join long strings as "part one" "part two"',
               (_RULE % 'guest.name == "a',),
               lambda s: _unexpected_char(s) and s.char == '"'),
    SyntaxKind("rule-id-character", "expected a rule id",
               "rule ids are upper-case letters, digits and dashes, e.g. `SITE-NAMING`",
               ("rule @X {\n}\n",),
               lambda s: _unexpected_char(s) and "RULE_ID" in s.expected),
    SyntaxKind("character", "unexpected character `{char}`", "{expected_help}",
               (_RULE % "guest.name == @",),
               _unexpected_char),
    # -- tokens lark's parser refused -------------------------------------------------------
    SyntaxKind("rule-id", "expected a rule id",
               "rule ids are upper-case letters, digits and dashes, e.g. `SITE-NAMING`",
               ("rule {\n}\n", "rule x {\n}\n"),
               lambda s: "RULE_ID" in s.expected),
    SyntaxKind("unclosed-rule", "expected `}}` to close rule `{rule}` opened at {rule_line}:{rule_col}, found {found}",
               "add `}}` after the rule's last clause",
               ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require true\n  message "m"\n',
                'rule SITE-X {\n  title "t"\n  on guest\n  require true\n  message "m"\nrule SITE-Y {\n}\n'),
               lambda s: isinstance(s.exc, (UnexpectedToken, UnexpectedEOF)) and "RBRACE" in s.expected
               and (s.token is None or s.token.type in ("$END", "RULE")) and "rule" in s.fields),
    SyntaxKind("if-operand", "a conditional after an operator needs parentheses",
               "write `x == (if c then a else b)`: unparenthesised, `if ... then ... else ...` is a whole "
               "expression (a `let`, a `require`, an argument)",
               (_RULE % "guest.vcpus == if guest.kind == \"vm\" then 1 else 2",
                _RULE % "1 + if true then 1 else 2 > 0"),
               _if_as_operand),
    SyntaxKind("if-without-then", "expected `then` after the test of `if`, found {found}",
               "write `if CONDITION then VALUE else VALUE`",
               (_RULE % "if guest.vcpus > 1 true else false", _RULE % "(if true 1 else 2) == 1"),
               _if_without_then),
    SyntaxKind("if-without-else", "`if ... then ...` needs an `else` branch, found {found}",
               "write `if CONDITION then VALUE else VALUE`: a conditional has a value either way",
               (_RULE % "if guest.vcpus > 1 then true", _RULE % "(if true then 1) == 1"),
               lambda s: "ELSE" in s.expected and "THEN" not in s.expected),
    SyntaxKind("unknown-clause", "unknown clause `{value}`", "{hint}",
               ('rule SITE-X {\n  titel "t"\n}\n',),
               lambda s: s.token is not None and s.token.type == "NAME" and "TITLE" in s.expected and s.fields["hint"]),
    SyntaxKind("unexpected-name", "unexpected `{value}`",
               "expected {expected}; did the clause before it take one value too many?",
               ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require true\n  message "m"\n'
                '  zzzzzz\n}\n',),
               lambda s: s.token is not None and s.token.type == "NAME" and "TITLE" in s.expected),
    SyntaxKind("unexpected", "unexpected {found}", "expected {expected}",
               (_RULE % "guest.name ==", _RULE % "(guest.name"),
               lambda s: True),
    # -- problems the parser finds itself -----------------------------------------------------
    SyntaxKind("unknown-escape", "unknown escape `\\{escape}` in a string", 'use \\" \\\\ \\n or \\t',
               (_RULE % r'guest.name == "a\q"',)),
    SyntaxKind("message-open-brace", "`{{` in a message opens no `}}`", "write `{{{{` for a literal brace",
               ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require true\n  message "m {"\n}\n',)),
    SyntaxKind("message-empty-hole", "empty `{{}}` in a message", "put an expression inside, or write `{{{{}}}}`",
               ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require true\n  message "m { }"\n}\n',)),
    SyntaxKind("message-close-brace", "`}}` in a message closes no `{{`", "write `}}}}` for a literal brace",
               ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  require true\n  message "m }"\n}\n',)),
    SyntaxKind("number-digits", "number of {digits:,} digits is over the limit of {limit:,} digits "
               "(Python's integer-string limit)", "no release, memory size or count needs so many digits",
               (_RULE % ("1" * 5000 + " > 0"),)),
    SyntaxKind("selection-start", "a selection starts with `NAME in LIST`",
               "write e.g. `count(f in guest.dio where f.pool)`",
               (_RULE % "count(1 where true) > 0",)),
    SyntaxKind("too-many-clauses", "rule has more than {limit} `when`, `for`, `let` and `require` clauses "
               "(the clause limit of the rule language)", "split the rule, or gather values in a list with one `let`",
               ('rule SITE-X {\n  title "t"\n  severity error\n  on guest\n' + "  require true\n" * 201
                + '  message "m"\n}\n',), code="too-deep"),
    SyntaxKind("too-deep", "expression nested more than {limit} levels deep (the nesting limit of the rule "
               "language)", "split it into `let` clauses, or write a long chain with `all(...)`/`any(...)`",
               (_RULE % ("[" * 120 + "]" * 120 + " == []"),), code="too-deep"),
)

KINDS = {kind.name: kind for kind in SYNTAX_ERRORS}


def fail(name: str, line: int, col: int, **fields) -> SyntaxProblem:
    """The named problem at `line:col`, its message and help filled with `fields` (raise it)."""
    kind = KINDS[name]
    return SyntaxProblem(line, col, kind.message.format(**fields), kind.help.format(**fields), kind.code, name)


def classify(seen: Seen) -> str:
    """The name of the first entry of the table that matches what a refused parse saw."""
    return next(kind.name for kind in SYNTAX_ERRORS if kind.matches is not None and kind.matches(seen))
