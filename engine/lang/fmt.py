"""Rule files formatted canonically (`migcheck fmt`): text in, text out, comments kept.

The formatter normalises a file's structure and keeps every expression as written, so syntax it
does not know (a new operator, a new literal) passes through unchanged:

- comments before, between and after rules kept, at most one blank line between items, one
  blank line between rules, no trailing spaces, one newline at the end;
- `rule ID {` on its line, `}` alone at the start of its line;
- one clause per line, its keyword indented two columns and padded to nine (`  severity error`),
  a comment between clauses indented two columns;
- a clause's value as written, its first line on the keyword's line with runs of spaces kept;
  its further lines (string continuations, long expressions) indented to the value's column
  plus whatever they were indented beyond the value's first column, so that aligned operands
  stay aligned; `let NAME = `, `for NAME in ` and `tags a, b` spaced one way.

It works from its own small tokenizer (strings, comments, brackets, words), not the grammar:
a clause starts at a clause keyword outside brackets. `format_rules` parses the text before
and after and refuses (`FormatError`) unless both give the same rules, node for node, spans
aside: formatting never changes what a rule means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, is_dataclass

from ..core.diagnostics import Diagnostic
from . import ast
from .parser import parse

CLAUSES = ast.CLAUSES
INDENT = 2  # of a clause keyword
KEYWORD_WIDTH = 9  # a keyword and its padding: the longest, `severity`, and one space
VALUE_COLUMN = INDENT + KEYWORD_WIDTH

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\n|[ \t\r\f\v]+|[A-Za-z_][A-Za-z0-9_]*|.', re.S)


class FormatError(Exception):
    """A file that cannot be formatted: its syntax problems, or (never expected) a formatting that
    would change a rule."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("; ".join(d.message for d in diagnostics))


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # offset in the file
    line: int  # from 1

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def blank(self) -> bool:
        return self.text.isspace() and self.text != "\n"

    @property
    def significant(self) -> bool:
        return not self.text.isspace() and not self.text.startswith("#")


def tokens(text: str) -> list[Token]:
    out, line = [], 1
    for m in _TOKEN.finditer(text):
        out.append(Token(m.group(), m.start(), line))
        line += m.group().count("\n")
    return out


# -- the structure: items of the file, clauses of a rule ------------------------------------------
@dataclass
class Clause:
    keyword: str
    value: list[Token]  # from the first token after the keyword to the clause's last token
    blank_before: bool


@dataclass
class Comment:
    text: str
    blank_before: bool


@dataclass
class RuleBlock:
    header: str  # the rule's id as written
    body: list  # Clause and Comment, in order
    blank_before: bool
    trailing: str = ""  # a comment after the closing brace on its line


class _Reader:
    """The file's tokens read into comments and rule blocks."""

    def __init__(self, text: str):
        self.toks = tokens(text)
        self.i = 0
        self.newlines = 0  # newlines met since the last item

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next_significant(self, j: int) -> Token | None:
        while j < len(self.toks) and not self.toks[j].significant:
            j += 1
        return self.toks[j] if j < len(self.toks) else None

    def skip_space(self) -> None:
        while (t := self.peek()) is not None and t.text.isspace():
            self.newlines += t.text.count("\n")
            self.i += 1

    def blank_before(self) -> bool:
        blank = self.newlines >= 2
        self.newlines = 0
        return blank

    def items(self) -> list:
        out = []
        while True:
            self.skip_space()
            t = self.peek()
            if t is None:
                return out
            if t.text.startswith("#"):
                out.append(Comment(t.text.rstrip(), self.blank_before()))
                self.i += 1
            elif t.text == "rule":
                out.append(self.rule())
            else:
                raise ValueError(f"line {t.line}: `{t.text}` where a rule or a comment was expected")

    def rule(self) -> RuleBlock:
        blank = self.blank_before()
        self.i += 1
        header = []
        while (t := self.peek()) is not None and t.text != "{":
            if t.text.startswith("#") or t.text == "\n":
                raise ValueError(f"line {t.line}: a rule's header holds its id and `{{` on one line")
            header.append(t.text.strip())
            self.i += 1
        if t is None:
            raise ValueError("a rule without `{`")
        self.i += 1
        block = RuleBlock("".join(header), [], blank)
        self.body(block)
        t = self.peek()
        while t is not None and t.blank:
            self.i += 1
            t = self.peek()
        if t is not None and t.text.startswith("#"):  # `}  # end of the rule`
            block.trailing = t.text.rstrip()
            self.i += 1
        return block

    def body(self, block: RuleBlock) -> None:
        """The clauses and comments up to the rule's closing brace (consumed)."""
        depth, clause, previous = 0, None, None
        while (t := self.peek()) is not None:
            if depth == 0 and t.text == "}":
                self.i += 1
                return
            if depth == 0 and t.text in CLAUSES and (previous is None or previous.text != "."):
                clause = Clause(t.text, [], self.blank_before())
                block.body.append(clause)
            elif t.text.isspace():
                self.newlines += t.text.count("\n")
                if clause is not None:
                    clause.value.append(t)
            elif t.text.startswith("#") and depth == 0 and self._stands_alone(clause):
                block.body.append(Comment(t.text.rstrip(), self.blank_before()))
                clause = None
            elif clause is None:
                raise ValueError(f"line {t.line}: `{t.text}` where a clause keyword was expected")
            else:
                clause.value.append(t)
                depth += t.text in "([{"
                depth -= t.text in ")]}" and depth > 0
            if t.significant:
                previous = t
                if clause is not None and t.text not in CLAUSES:
                    self.newlines = 0
            self.i += 1
        raise ValueError("a rule without its closing `}`")

    def _stands_alone(self, clause: Clause | None) -> bool:
        """Whether the comment at the cursor sits on its own line and the next thing is a clause or `}`
        (else it is part of the clause it sits in, an expression continued around it)."""
        on_own_line = clause is None or any(t.text == "\n" for t in _after_last_significant(clause.value))
        following = self.next_significant(self.i + 1)
        return on_own_line and (following is None or following.text in CLAUSES or following.text == "}")


def _after_last_significant(value: list[Token]) -> list[Token]:
    last = max((n for n, t in enumerate(value) if t.significant or t.text.startswith("#")), default=-1)
    return value[last + 1:]


# -- writing ---------------------------------------------------------------------------------------
def _value_lines(value: list[Token], text: str) -> list[str]:
    """A clause's value as lines: the first as written, the others re-indented to `VALUE_COLUMN` plus
    their indentation beyond the value's first column."""
    kept = list(value)
    while kept and kept[-1].text.isspace():
        kept.pop()
    while kept and kept[0].text.isspace():
        kept.pop(0)
    if not kept:
        return [""]
    start, end = kept[0].start, kept[-1].end
    column = start - (text.rfind("\n", 0, start) + 1)
    lines = text[start:end].split("\n")
    out = [lines[0].rstrip()]
    for line in lines[1:]:
        stripped = line.strip()
        if stripped:
            extra = max(0, len(line) - len(line.lstrip()) - column)
            out.append(" " * (VALUE_COLUMN + extra) + stripped)
    return out


_LET = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*")
_FOR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s+in\s+")


def _spaced(keyword: str, first: str) -> str:
    """`let NAME = `, `for NAME in ` and `tags a, b` spaced one way; other values as written."""
    if keyword == "let":
        return _LET.sub(r"\1 = ", first, count=1)
    if keyword == "for":
        return _FOR.sub(r"\1 in ", first, count=1)
    if keyword == "tags" and "#" not in first:
        return ", ".join(part.strip() for part in first.split(","))
    return first


def _clause(clause: Clause, text: str) -> list[str]:
    lines = _value_lines(clause.value, text)
    lines[0] = _spaced(clause.keyword, lines[0])
    head = " " * INDENT + clause.keyword.ljust(KEYWORD_WIDTH - 1) + " " + lines[0]
    return [head.rstrip(), *lines[1:]]


def _rule(block: RuleBlock, text: str) -> list[str]:
    out = [f"rule {block.header} {{"]
    for n, item in enumerate(block.body):
        if item.blank_before and n > 0:
            out.append("")
        if isinstance(item, Comment):
            out.append(" " * INDENT + item.text)
        else:
            out.extend(_clause(item, text))
    out.append("}" + (f"  {block.trailing}" if block.trailing else ""))
    return out


def format_text(text: str) -> str:
    """The file formatted (no check that the rules are unchanged: `format_rules` does that)."""
    text = text.replace("\r\n", "\n")
    out: list[str] = []
    previous = None
    for item in _Reader(text).items():
        if out and (item.blank_before or isinstance(previous, RuleBlock)):
            out.append("")
        out.extend(_rule(item, text) if isinstance(item, RuleBlock) else [item.text])
        previous = item
    return "\n".join(out) + "\n" if out else ""


# -- the guarantee: the same rules before and after ---------------------------------------------------
def shape(node):
    """A node as nested tuples of what it means: every field that takes part in equality, spans and the
    text kept for messages left out."""
    if isinstance(node, ast.Span):
        return None
    if isinstance(node, ast.Node):
        return (type(node).__name__, *(shape(getattr(node, name)) for name in node._compared if name != "span"))
    if is_dataclass(node):
        return (type(node).__name__, *(shape(getattr(node, f.name)) for f in fields(node)
                                       if f.compare and f.name != "span"))
    if isinstance(node, (list, tuple)):
        return tuple(shape(n) for n in node)
    if isinstance(node, dict):
        return tuple(sorted((k, shape(v)) for k, v in node.items()))
    return node


def format_rules(text: str, path: str = "<rules>") -> str:
    """`text` formatted; `FormatError` when it does not parse, or (a bug) when the formatted text
    would not give the same rules."""
    before, problems = parse(text, path)
    if before is None:
        raise FormatError(problems)
    try:
        formatted = format_text(text)
    except ValueError as exc:
        raise FormatError([Diagnostic(path, 1, 1, f"cannot format this file: {exc}", code="syntax")]) from None
    after, problems = parse(formatted, path)
    if after is None or shape(after.rules) != shape(before.rules):
        raise FormatError([Diagnostic(path, 1, 1, "formatting would change the rules of this file; it is left "
                                                  "as it is (please report it)", code="syntax")])
    return formatted
