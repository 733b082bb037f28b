"""Stage: rule file text to the typed AST (`RuleFile`), or diagnostics.

`parse(text, path)` returns `(RuleFile | None, [Diagnostic])`. lark's tree is turned into
`ast` dataclasses here and never leaves this module. Syntax errors are said in words:
what was found, what was expected, and for a missing brace which rule it should close.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.tree import Meta
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, VisitError
from fractions import Fraction

from . import ast
from ..core.diagnostics import digit_limit
from ..core.words import did_you_mean
from .diagnostics import Diagnostic, diag
from .syntax_errors import Seen, SyntaxProblem, classify, fail
from .visit import Visitor

CLAUSES, KEYWORDS = ast.CLAUSES, ast.KEYWORDS

_PUNCTUATION = {
    "LBRACE": "`{`", "RBRACE": "`}`", "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`",
    "COMMA": "`,`", "DOT": "`.`", "EQUAL": "`=`", "MINUS": "`-`", "COLON": "`:`",
    "COMPARE": "a comparison", "ADD": "`+` or `-`", "MUL": "`*`, `/` or `%`",
    "NAME": "a name", "STRING": "a string", "NUMBER": "a number", "PERCENT": "a number", "RULE_ID": "a rule id",
}


@cache
def _lark() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    # cache=True: lark keeps the built tables in the temporary directory, keyed by the grammar's
    # hash and lark's version, instead of rebuilding them on every start (about 40 ms)
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True,
                start=["start", "expr"], cache=True)


def parse(text: str, path: str = "<rules>") -> tuple[ast.RuleFile | None, list[Diagnostic]]:
    """Parse a rule file; on a syntax error return no file and one located diagnostic."""
    try:
        tree = _lark().parse(text, start="start")
        _shape(tree, base=3)  # start, rule, clause
        rules = _Build(path, text).transform(tree)
    except UnexpectedInput as exc:
        return None, [_located(path, _syntax_problem(exc, text))]
    except VisitError as exc:
        return None, [_located(path, _unwrapped(exc))]
    except SyntaxProblem as problem:
        return None, [_located(path, problem)]
    return ast.RuleFile(path, tuple(rules), text), []


def _unwrapped(exc: VisitError) -> SyntaxProblem:
    """The syntax problem a transformer raised (a problem inside a message's `{...}` is wrapped twice)."""
    problem = exc.orig_exc
    while isinstance(problem, VisitError):
        problem = problem.orig_exc
    if isinstance(problem, SyntaxProblem):
        return problem
    raise exc


def _located(path: str, problem: SyntaxProblem) -> Diagnostic:
    return diag(path, problem.line, problem.col, problem.code, problem.message, problem.help)


def parse_expression(text: str, path: str = "<expr>", line: int = 1, col: int = 1,
                     columns: list[int] | None = None) -> ast.Expr:
    """Parse one expression whose first character sits at `line:col` of `path`; `columns`, if
    given, is the file column of each character of a one-line `text` (an expression inside a
    message, where `\"` stood for `"`)."""
    columns = columns or [col + k for k in range(len(text))]

    def place(at_line: int, at_col: int) -> tuple[int, int]:
        if at_line != 1:
            return line + at_line - 1, at_col
        return line, columns[at_col - 1] if 1 <= at_col <= len(columns) else columns[-1] + 1 if columns else col

    try:
        tree = _lark().parse(text, start="expr")
        _shape(tree, base=0)
        return _Build(path, text, place=place).transform(tree)
    except UnexpectedInput as exc:
        problem = _syntax_problem(exc, text)
    except SyntaxProblem as exc:
        problem = exc
    except VisitError as exc:
        problem = _unwrapped(exc)
    raise (problem if problem.placed else problem.moved(*place(problem.line, problem.col))) from None


def _span(path: str, line: int, col: int) -> ast.Span:
    return ast.Span(path, line, col)


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _fail(token: Token, offset: int, name: str, **fields):
    """A named syntax problem at character `offset` of a token's text."""
    raise fail(name, token.line, token.column + offset, **fields)


def _digits_checked(token: Token) -> str:
    """A number token's text, refused if it has more digits than Python turns into a number: `int`
    and `Fraction` (which reads `1.5` as the integer 15 over 10) raise a bare ValueError past
    `digit_limit()`, so every numeric form is counted here, the point and `%` aside."""
    text, limit = token.value, digit_limit()
    digits = sum(ch.isdigit() for ch in text)
    if limit and digits > limit:  # 0: the limit is switched off
        _fail(token, 0, "number-digits", digits=digits, limit=limit)
    return text


def _escape(token: Token, offset: int) -> str:
    """The character the escape at `offset` of `token`'s text stands for."""
    nxt = token.value[offset + 1]
    if nxt not in _ESCAPES:
        _fail(token, offset, "unknown-escape", escape=nxt)
    return _ESCAPES[nxt]


def _unquote(token: Token) -> str:
    """A string token's value: quotes removed, escapes resolved."""
    text, out, i, end = token.value, [], 1, len(token.value) - 1
    while i < end:
        if text[i] == "\\" and i + 1 < end:
            out.append(_escape(token, i))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class _Build(Transformer):
    """lark tree to `ast` nodes. `place` maps positions in the text parsed to positions in the file
    (they differ for an expression inside a message)."""

    def __init__(self, path: str, text: str, place=None):
        super().__init__()
        self.path, self.text = path, text
        self.place = place or (lambda line, col: (line, col))  # positions in `text` to positions in the file

    def _at(self, line: int, col: int) -> ast.Span:
        return _span(self.path, *self.place(line, col))

    def _meta(self, meta) -> ast.Span:
        return self._at(meta.line, meta.column)

    def _tok(self, token: Token) -> ast.Span:
        return self._at(token.line, token.column)

    # -- file and rules ------------------------------------------------------------
    def start(self, rules):
        return list(rules)

    @v_args(meta=True)
    def rule(self, meta, children):
        rule_id = children[0]
        clauses = children[1:]
        meta_items = tuple(c for c in clauses if isinstance(c, ast.Meta))
        steps = tuple(c for c in clauses if not isinstance(c, ast.Meta))
        end = _span(self.path, meta.end_line, max(1, meta.end_column - 1))
        source = self.text[meta.start_pos:meta.end_pos]
        return ast.Rule(str(rule_id), self._tok(rule_id), end, meta_items, steps, source)

    def _meta_clause(self, key, meta, value, token):
        return ast.Meta(key, value, self._meta(meta), self._tok(token))

    @v_args(meta=True)
    def title(self, meta, children):
        return self._meta_clause("title", meta, "".join(_unquote(c) for c in children), children[0])

    @v_args(meta=True)
    def cite(self, meta, children):
        return self._meta_clause("cite", meta, "".join(_unquote(c) for c in children), children[0])

    @v_args(meta=True)
    def severity(self, meta, children):
        return self._meta_clause("severity", meta, str(children[0]), children[0])

    @v_args(meta=True)
    def subject(self, meta, children):
        return self._meta_clause("on", meta, str(children[0]), children[0])

    @v_args(meta=True)
    def tags(self, meta, children):
        return self._meta_clause("tags", meta, tuple(str(c) for c in children), children[0])

    @v_args(meta=True)
    def message(self, meta, children):
        return self._meta_clause("message", meta, self._templates(children), children[0])

    @v_args(meta=True)
    def fix(self, meta, children):
        return self._meta_clause("fix", meta, self._templates(children), children[0])

    def _templates(self, tokens) -> ast.Template:
        """Adjacent strings ("part one" "part two") make one template."""
        parts = [p for t in tokens for p in self._template(t).parts]
        return ast.Template(tuple(parts), self._tok(tokens[0]))

    def _template(self, token: Token) -> ast.Template:
        """Split a string into text and `{expr}` holes; `{{` and `}}` are literal braces.
        Offsets are into `token.value`, whose character 0 is the opening quote."""
        value = token.value
        end = len(value) - 1
        line, first = self.place(token.line, token.column)  # where the opening quote sits in the file
        parts: list = []
        text: list[str] = []
        i = 1
        while i < end:
            ch = value[i]
            if value.startswith("{{", i) or value.startswith("}}", i):
                text.append(ch)
                i += 2
            elif ch == "{":
                close = value.find("}", i, end)
                if close < 0:
                    _fail(token, i, "message-open-brace")
                if text:
                    parts.append("".join(text))
                    text = []
                hole, columns = [], []
                k = i + 1
                while k < close:  # a string inside a hole is written {f(\"x\")}
                    columns.append(first + k)
                    if value.startswith('\\"', k):
                        hole.append('"')
                        k += 2
                    else:
                        hole.append(value[k])
                        k += 1
                if not "".join(hole).strip():
                    _fail(token, i, "message-empty-hole")
                parts.append(parse_expression("".join(hole), self.path, line, first + i + 1, columns))
                i = close + 1
            elif ch == "}":
                _fail(token, i, "message-close-brace")
            elif ch == "\\" and i + 1 < end:
                text.append(_escape(token, i))
                i += 2
            else:
                text.append(ch)
                i += 1
        if text:
            parts.append("".join(text))
        return ast.Template(tuple(parts), self._tok(token))

    @v_args(meta=True)
    def when(self, meta, children):
        return ast.When(children[0], self._meta(meta))

    @v_args(meta=True)
    def for_(self, meta, children):
        cond = children[2] if len(children) > 2 else None
        return ast.For(str(children[0]), children[1], cond, self._meta(meta))

    @v_args(meta=True)
    def let(self, meta, children):
        return ast.Let(str(children[0]), children[1], self._tok(children[0]))

    @v_args(meta=True)
    def require(self, meta, children):
        return ast.Require(children[0], self._meta(meta))

    # -- expressions ---------------------------------------------------------------
    @v_args(meta=True)
    def conditional(self, meta, c):
        return ast.Conditional(c[0], c[1], c[2], self._meta(meta))

    @v_args(meta=True)
    def or_op(self, meta, c):
        return ast.Logic("or", c[0], c[1], self._meta(meta))

    @v_args(meta=True)
    def and_op(self, meta, c):
        return ast.Logic("and", c[0], c[1], self._meta(meta))

    @v_args(meta=True)
    def not_op(self, meta, c):
        return ast.Not(c[0], self._meta(meta))

    def compare(self, c):
        return ast.Compare(str(c[1]), c[0], c[2], self._tok(c[1]))

    @v_args(meta=True)
    def in_op(self, meta, c):
        return ast.Compare("in", c[0], c[1], self._meta(meta))

    @v_args(meta=True)
    def not_in_op(self, meta, c):
        return ast.Compare("not in", c[0], c[1], self._meta(meta))

    @v_args(meta=True)
    def matches(self, meta, c):
        return ast.Compare("matches", c[0], c[1], self._meta(meta))

    def arith(self, c):
        return ast.Arith(str(c[1]), c[0], c[2], self._tok(c[1]))

    @v_args(meta=True)
    def neg(self, meta, c):
        literal = c[0]
        if isinstance(literal, ast.Literal) and type(literal.value) in (int, Fraction):
            return ast.Literal(-literal.value, self._meta(meta), "-" + literal.text if literal.text else "")
        return ast.Neg(literal, self._meta(meta))

    def attr(self, c):
        return ast.Attr(c[0], str(c[1]), self._tok(c[1]))

    def number(self, c):
        """An integer, or a decimal as the exact number it writes (`0.004` is 4/1000, not a binary float)."""
        text = _digits_checked(c[0])
        if "." in text:
            return ast.Literal(Fraction(text), self._tok(c[0]), text)
        return ast.Literal(int(text), self._tok(c[0]), text)

    def percent(self, c):
        """`0.4%`: the exact number a hundredth of it (0.004)."""
        text = _digits_checked(c[0])
        return ast.Literal(Fraction(text[:-1]) / 100, self._tok(c[0]), text)

    def string(self, c):
        return ast.Literal(_unquote(c[0]), self._tok(c[0]))

    @v_args(meta=True)
    def true(self, meta, c):
        return ast.Literal(True, self._meta(meta))

    @v_args(meta=True)
    def false(self, meta, c):
        return ast.Literal(False, self._meta(meta))

    @v_args(meta=True)
    def null(self, meta, c):
        return ast.Literal(None, self._meta(meta))

    @v_args(meta=True)
    def list(self, meta, c):
        return ast.ListExpr(tuple(x for x in c if x is not None), self._meta(meta))

    @v_args(meta=True)
    def comprehension(self, meta, c):
        cond = c[3] if len(c) > 3 else None
        return ast.Comprehension(c[0], str(c[1]), c[2], cond, self._meta(meta))

    def name(self, c):
        return ast.Name(str(c[0]), self._tok(c[0]))

    def call(self, c):
        args = tuple(x for x in c[1:] if x is not None)
        return ast.Call(str(c[0]), args, self._tok(c[0]))

    def selection(self, c):
        binder, cond = c
        if not (isinstance(binder, ast.Compare) and binder.op == "in" and isinstance(binder.left, ast.Name)):
            span = _first_span(binder)
            problem = fail("selection-start", span.line, span.col)
            problem.placed = True  # a node's span: placed in the file already (an expression in a message too)
            raise problem
        return ast.Selection(binder.left.name, binder.right, cond, binder.left.span)


def _first_span(node) -> ast.Span:
    """The leftmost position of an expression (binary nodes keep their operator's span)."""
    return _FIRST_SPAN.visit(node)


class _FirstSpan(Visitor):
    def visit_Compare(self, node) -> ast.Span:
        return self.visit(node.left)

    visit_Arith = visit_Logic = visit_Compare

    def generic_visit(self, node, *args) -> ast.Span:
        return node.span


_FIRST_SPAN = _FirstSpan()


# -- long chains and deep nesting -----------------------------------------------------
# Every later stage (transformer, checker, compiler, evaluation, explain) walks
# expressions recursively, so the lark tree is shaped here, without recursion, before
# any of them sees it: a long `and`/`or` chain (left-deep as parsed) is folded into a
# balanced tree, which evaluates the same operands in the same order with the same
# short-circuits, and whatever is still nested deeper than the bound (parentheses around
# `not`, lists in lists, a 1,000-term sum) is a located diagnostic, not a RecursionError.
MAX_EXPR_DEPTH = 100
MAX_BODY_CLAUSES = 200  # `when`, `for`, `let` and `require` of one rule: each step nests the next
_BODY = ("when", "for_", "let", "require")
_CHAINS = ("and_op", "or_op")
_BALANCE_OVER = 16  # shorter chains keep their parsed shape (and how `explain` shows them)


def _shape(root: Tree, base: int) -> None:
    """Balance long logic chains in place; raise `SyntaxProblem` where nesting passes the bound."""
    holder = Tree("holder", [root])
    stack = [holder]
    while stack:
        node = stack.pop()
        for i, child in enumerate(node.children):
            if not isinstance(child, Tree):
                continue
            if child.data in _CHAINS:
                operands = _chain(child)
                if len(operands) > _BALANCE_OVER:
                    child = node.children[i] = _balanced(child.data, operands)
            stack.append(child)
    for rule in root.children if root.data == "start" else ():
        body = [c for c in rule.children if isinstance(c, Tree) and c.data in _BODY]
        if len(body) > MAX_BODY_CLAUSES:
            line, col = _start(body[MAX_BODY_CLAUSES])
            raise fail("too-many-clauses", line, col, limit=MAX_BODY_CLAUSES)
    limit = MAX_EXPR_DEPTH + base
    pending = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            line, col = _start(node)
            raise fail("too-deep", line, col, limit=MAX_EXPR_DEPTH)
        pending.extend((c, depth + 1) for c in reversed(node.children) if isinstance(c, Tree))  # leftmost first


def _chain(node: Tree) -> list:
    """The operands of a left-deep chain of one operator, left to right."""
    data, rights = node.data, []
    while isinstance(node, Tree) and node.data == data:
        rights.append(node.children[1])
        node = node.children[0]
    return [node] + rights[::-1]


def _balanced(data: str, operands: list) -> Tree:
    if len(operands) == 1:
        return operands[0]
    middle = len(operands) // 2
    left, right = _balanced(data, operands[:middle]), _balanced(data, operands[middle:])  # depth log2(n)
    meta = Meta()
    meta.line, meta.column = _start(operands[0])
    meta.empty = False
    return Tree(data, [left, right], meta)


def _start(node) -> tuple[int, int]:
    while isinstance(node, Tree) and getattr(node.meta, "empty", True) and node.children:
        node = node.children[0]
    if isinstance(node, Tree):
        return getattr(node.meta, "line", 1), getattr(node.meta, "column", 1)
    return getattr(node, "line", 1) or 1, getattr(node, "column", 1) or 1


# -- syntax errors in words ----------------------------------------------------------
def _expected_words(expected: set[str]) -> str:
    names = sorted(expected)
    clause_kw = [n.lower() for n in names if n.lower() in CLAUSES]
    words = []
    if len(clause_kw) >= 5:
        words.append("a clause (" + ", ".join(c for c in CLAUSES) + ")")
        names = [n for n in names if n.lower() not in CLAUSES]
    for n in names:
        if n.lower() in KEYWORDS:
            words.append(f"`{n.lower()}`")
        elif n in _PUNCTUATION:
            words.append(_PUNCTUATION[n])
        elif n == "$END":
            words.append("end of file")
    words = list(dict.fromkeys(words))
    if not words:
        return "something else"
    if len(words) > 6:
        return "an expression or an operator"
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


def _open_rule(text: str, pos: int) -> tuple[str, int, int] | None:
    last = None
    for m in re.finditer(r"\brule\s+([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\s*\{", text[:pos]):
        last = m
    if last is None:
        return None
    line = text.count("\n", 0, last.start()) + 1
    col = last.start() - (text.rfind("\n", 0, last.start()) + 1) + 1
    return last.group(1), line, col


def _syntax_problem(exc: UnexpectedInput, text: str) -> SyntaxProblem:
    """A parse lark refused, as the named problem of `syntax_errors` that matches what it saw."""
    line, col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
    if line < 1:
        line, col = text.count("\n") + 1, len(text) - text.rfind("\n")
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None:
        pos = len(text)
    expected = frozenset(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    if isinstance(exc, UnexpectedCharacters):
        char = text[pos] if pos < len(text) else ""
        seen = Seen(exc, text, char=char, expected=expected, fields={
            "char": char, "expected_help": f"expected {_expected_words(expected)}" if expected else ""})
        return fail(classify(seen), line, col, **seen.fields)
    token = getattr(exc, "token", None)
    at_end = token is None or token.type == "$END"
    if at_end:
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
        line, col = (line + 1, 1) if text.endswith("\n") else (line, len(text) - text.rfind("\n"))
    opened = _open_rule(text, pos if not at_end else len(text))
    fields = {"found": "end of file" if at_end else f"`{token.value}`", "expected": _expected_words(expected),
              "value": "" if at_end else token.value,
              "hint": did_you_mean(token.value, CLAUSES) if token is not None and token.type == "NAME" else ""}
    if opened:
        fields.update(rule=opened[0], rule_line=opened[1], rule_col=opened[2])
    name = classify(Seen(exc, text, token=token, expected=expected, fields=fields))
    if name == "if-operand":  # the caret under the `if` that needs parentheses, not the token after it
        line, col = _position(text, text.rindex("if", 0, pos))
    return fail(name, line, col, **fields)


def _position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
