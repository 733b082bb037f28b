"""The typed AST of rule files: frozen dataclasses, each node with its source span.

The parser builds these from lark's tree; nothing after the parser sees lark. Names
follow the grammar: the grammar rule `compare` becomes `Compare`, and the checker and
compiler each have one method per node type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

# the words of the grammar (grammar.lark): a clause starts with one of CLAUSES; no rule may bind a keyword
CLAUSES = ("title", "severity", "on", "when", "for", "let", "require", "message", "fix", "cite", "tags")
KEYWORDS = frozenset(CLAUSES) | {"rule", "in", "not", "and", "or", "matches", "where", "true", "false", "null",
                                 "if", "then", "else"}


@dataclass(frozen=True, slots=True)
class Span:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any  # str, int, Fraction (a decimal: exact), bool or None
    span: Span
    text: str = field(default="", compare=False)  # a number as written (`0.4%`), for unparse


@dataclass(frozen=True, slots=True)
class ListExpr:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Attr:
    obj: Expr
    field: str
    span: Span  # of the field name


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Logic:
    op: str  # "and" | "or"
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # == != < <= > >= in "not in" matches
    left: Expr
    right: Expr
    span: Span  # of the operator


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # + - * / %
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Selection:
    """`x in xs where cond` (or `x in xs: cond`), an argument of count, any, all and friends."""

    var: str
    source: Expr
    cond: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr | Selection, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Comprehension:
    """`[expr for x in xs where cond]`."""

    expr: Expr
    var: str
    source: Expr
    cond: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Conditional:
    """`if test then then else otherwise`: the value of one branch, picked by the test."""

    test: Expr
    then: Expr
    otherwise: Expr
    span: Span  # of `if`


Expr = Union[Literal, ListExpr, Name, Attr, Neg, Not, Logic, Compare, Arith, Call, Comprehension, Conditional]


@dataclass(frozen=True, slots=True)
class Template:
    """A message or fix: literal text and `{expr}` holes."""

    parts: tuple[str | Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class When:
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class For:
    var: str
    source: Expr
    cond: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Require:
    expr: Expr
    span: Span


Step = Union[When, For, Let, Require]


@dataclass(frozen=True, slots=True)
class Meta:
    """A header clause (title, severity, on, message, fix, cite, tags) and where it was written."""

    key: str
    value: Any  # str, Template or tuple of tags
    span: Span
    value_span: Span


@dataclass(frozen=True)
class Rule:
    id: str
    span: Span
    end: Span  # the closing brace
    meta: tuple[Meta, ...]
    steps: tuple[Step, ...]
    source: str = field(default="", compare=False)  # the rule's text, for explain

    def get(self, key: str, default: Any = None) -> Any:
        for m in self.meta:
            if m.key == key:
                return m.value
        return default


@dataclass(frozen=True)
class RuleFile:
    path: str
    rules: tuple[Rule, ...]
    text: str = field(default="", compare=False)


def dotted(node: Any) -> str | None:
    """`guest.dio.label` for a name or a chain of fields on one; None for other expressions."""
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Attr):
        base = dotted(node.obj)
        return f"{base}.{node.field}" if base else None
    return None


def children(node: Any) -> tuple:
    """The direct sub-expressions of an expression node."""
    if isinstance(node, ListExpr):
        return node.items
    if isinstance(node, Attr):
        return (node.obj,)
    if isinstance(node, (Neg, Not)):
        return (node.operand,)
    if isinstance(node, (Logic, Compare, Arith)):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Selection):
        return (node.source, node.cond)
    if isinstance(node, Comprehension):
        return tuple(x for x in (node.expr, node.source, node.cond) if x is not None)
    if isinstance(node, Conditional):
        return (node.test, node.then, node.otherwise)
    if isinstance(node, Template):
        return tuple(p for p in node.parts if not isinstance(p, str))
    return ()


def walk(node: Any):
    """Every expression node under `node` (itself included), depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        yield current
        stack.extend(children(current))
