"""The typed AST of rule files: immutable records, each node with its source span.

The parser builds these from lark's tree; nothing after the parser sees lark. Names
follow the grammar: the grammar rule `compare` becomes `Compare`, and the checker and
compiler each have one method per node type.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Union

# the words of the grammar (grammar.lark): a clause starts with one of CLAUSES; no rule may bind a keyword
CLAUSES = ("title", "severity", "on", "when", "for", "let", "require", "message", "fix", "cite", "tags")
KEYWORDS = frozenset(CLAUSES) | {"rule", "in", "not", "and", "or", "matches", "where", "true", "false", "null",
                                 "if", "then", "else"}


_set = object.__setattr__  # a node's fields are set once, by its __init__


class FrozenNodeError(AttributeError):
    """An assignment to a field of a node (nodes are immutable: they are shared, hashed and cached)."""


class Node:
    """What every node is: a frozen record of `_fields` (the constructor's parameters, in order), equal to
    and hashed as a node of the same class with equal `_compared` fields (all of them unless a class
    says fewer), shown as `Name(field=value, ...)`, pickled as its constructor and fields.

    Written out rather than made by `dataclasses`: the module is imported by every run, and generating
    these classes cost more than the rest of the run's rule language together (cold start)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _compared: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        if "_compared" not in cls.__dict__:
            cls._compared = cls._fields
        # the compared fields as a tuple (a dataclass's __eq__ and __hash__ compare and hash the same tuple)
        cls._key = staticmethod(attrgetter(*cls._compared) if len(cls._compared) > 1 else
                                lambda node, name=cls._compared[0]: (getattr(node, name),))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._key(self) == self._key(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key(self))

    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{name}={getattr(self, name)!r}' for name in self._fields)})"

    def __reduce__(self) -> tuple:
        return self.__class__, tuple(getattr(self, name) for name in self._fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenNodeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenNodeError(f"cannot delete field {name!r}")


class Span(Node):
    __slots__ = _fields = ('file', 'line', 'col',)

    def __init__(self, file: str, line: int, col: int) -> None:
        _set(self, 'file', file)
        _set(self, 'line', line)
        _set(self, 'col', col)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Literal(Node):
    __slots__ = _fields = ('value', 'span', 'text',)
    _compared = ('value', 'span',)
    # value: str, int, Fraction (a decimal: exact), bool or None
    # text: a number as written (`0.4%`), for unparse

    def __init__(self, value: Any, span: Span, text: str = "") -> None:
        _set(self, 'value', value)
        _set(self, 'span', span)
        _set(self, 'text', text)


class ListExpr(Node):
    __slots__ = _fields = ('items', 'span',)

    def __init__(self, items: tuple[Expr, ...], span: Span) -> None:
        _set(self, 'items', items)
        _set(self, 'span', span)


class Name(Node):
    __slots__ = _fields = ('name', 'span',)

    def __init__(self, name: str, span: Span) -> None:
        _set(self, 'name', name)
        _set(self, 'span', span)


class Attr(Node):
    __slots__ = _fields = ('obj', 'field', 'span',)
    # span: of the field name

    def __init__(self, obj: Expr, field: str, span: Span) -> None:
        _set(self, 'obj', obj)
        _set(self, 'field', field)
        _set(self, 'span', span)


class Neg(Node):
    __slots__ = _fields = ('operand', 'span',)

    def __init__(self, operand: Expr, span: Span) -> None:
        _set(self, 'operand', operand)
        _set(self, 'span', span)


class Not(Node):
    __slots__ = _fields = ('operand', 'span',)

    def __init__(self, operand: Expr, span: Span) -> None:
        _set(self, 'operand', operand)
        _set(self, 'span', span)


class Logic(Node):
    __slots__ = _fields = ('op', 'left', 'right', 'span',)
    # op: "and" | "or"

    def __init__(self, op: str, left: Expr, right: Expr, span: Span) -> None:
        _set(self, 'op', op)
        _set(self, 'left', left)
        _set(self, 'right', right)
        _set(self, 'span', span)


class Compare(Node):
    __slots__ = _fields = ('op', 'left', 'right', 'span',)
    # op: == != < <= > >= in "not in" matches
    # span: of the operator

    def __init__(self, op: str, left: Expr, right: Expr, span: Span) -> None:
        _set(self, 'op', op)
        _set(self, 'left', left)
        _set(self, 'right', right)
        _set(self, 'span', span)


class Arith(Node):
    __slots__ = _fields = ('op', 'left', 'right', 'span',)
    # op: + - * / %

    def __init__(self, op: str, left: Expr, right: Expr, span: Span) -> None:
        _set(self, 'op', op)
        _set(self, 'left', left)
        _set(self, 'right', right)
        _set(self, 'span', span)


class Selection(Node):
    """`x in xs where cond` (or `x in xs: cond`), an argument of count, any, all and friends."""

    __slots__ = _fields = ('var', 'source', 'cond', 'span',)

    def __init__(self, var: str, source: Expr, cond: Expr, span: Span) -> None:
        _set(self, 'var', var)
        _set(self, 'source', source)
        _set(self, 'cond', cond)
        _set(self, 'span', span)


class Call(Node):
    __slots__ = _fields = ('func', 'args', 'span',)

    def __init__(self, func: str, args: tuple[Expr | Selection, ...], span: Span) -> None:
        _set(self, 'func', func)
        _set(self, 'args', args)
        _set(self, 'span', span)


class Comprehension(Node):
    """`[expr for x in xs where cond]`."""

    __slots__ = _fields = ('expr', 'var', 'source', 'cond', 'span',)

    def __init__(self, expr: Expr, var: str, source: Expr, cond: Expr | None, span: Span) -> None:
        _set(self, 'expr', expr)
        _set(self, 'var', var)
        _set(self, 'source', source)
        _set(self, 'cond', cond)
        _set(self, 'span', span)


class Conditional(Node):
    """`if test then then else otherwise`: the value of one branch, picked by the test."""

    __slots__ = _fields = ('test', 'then', 'otherwise', 'span',)
    # span: of `if`

    def __init__(self, test: Expr, then: Expr, otherwise: Expr, span: Span) -> None:
        _set(self, 'test', test)
        _set(self, 'then', then)
        _set(self, 'otherwise', otherwise)
        _set(self, 'span', span)


Expr = Union[Literal, ListExpr, Name, Attr, Neg, Not, Logic, Compare, Arith, Call, Comprehension, Conditional]


class Template(Node):
    """A message or fix: literal text and `{expr}` holes."""

    __slots__ = _fields = ('parts', 'span',)

    def __init__(self, parts: tuple[str | Expr, ...], span: Span) -> None:
        _set(self, 'parts', parts)
        _set(self, 'span', span)


class When(Node):
    __slots__ = _fields = ('expr', 'span',)

    def __init__(self, expr: Expr, span: Span) -> None:
        _set(self, 'expr', expr)
        _set(self, 'span', span)


class For(Node):
    __slots__ = _fields = ('var', 'source', 'cond', 'span',)

    def __init__(self, var: str, source: Expr, cond: Expr | None, span: Span) -> None:
        _set(self, 'var', var)
        _set(self, 'source', source)
        _set(self, 'cond', cond)
        _set(self, 'span', span)


class Let(Node):
    __slots__ = _fields = ('name', 'expr', 'span',)

    def __init__(self, name: str, expr: Expr, span: Span) -> None:
        _set(self, 'name', name)
        _set(self, 'expr', expr)
        _set(self, 'span', span)


class Require(Node):
    __slots__ = _fields = ('expr', 'span',)

    def __init__(self, expr: Expr, span: Span) -> None:
        _set(self, 'expr', expr)
        _set(self, 'span', span)


Step = Union[When, For, Let, Require]


class Meta(Node):
    """A header clause (title, severity, on, message, fix, cite, tags) and where it was written."""

    __slots__ = _fields = ('key', 'value', 'span', 'value_span',)
    # value: str, Template or tuple of tags

    def __init__(self, key: str, value: Any, span: Span, value_span: Span) -> None:
        _set(self, 'key', key)
        _set(self, 'value', value)
        _set(self, 'span', span)
        _set(self, 'value_span', value_span)


class Rule(Node):
    __slots__ = _fields = ('id', 'span', 'end', 'meta', 'steps', 'source',)
    _compared = ('id', 'span', 'end', 'meta', 'steps',)
    # end: the closing brace
    # source: the rule's text, for explain

    def __init__(self, id: str, span: Span, end: Span, meta: tuple[Meta, ...], steps: tuple[Step, ...],
                 source: str = "") -> None:
        _set(self, 'id', id)
        _set(self, 'span', span)
        _set(self, 'end', end)
        _set(self, 'meta', meta)
        _set(self, 'steps', steps)
        _set(self, 'source', source)

    def get(self, key: str, default: Any = None) -> Any:
        for m in self.meta:
            if m.key == key:
                return m.value
        return default


class RuleFile(Node):
    __slots__ = _fields = ('path', 'rules', 'text',)
    _compared = ('path', 'rules',)

    def __init__(self, path: str, rules: tuple[Rule, ...], text: str = "") -> None:
        _set(self, 'path', path)
        _set(self, 'rules', rules)
        _set(self, 'text', text)


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
    found = _CHILDREN.get(node.__class__)
    return found(node) if found is not None else ()


_CHILDREN = {  # by the node's class (no node class has subclasses)
    ListExpr: attrgetter("items"),
    Attr: lambda node: (node.obj,),
    Neg: lambda node: (node.operand,),
    Not: lambda node: (node.operand,),
    Logic: attrgetter("left", "right"),
    Compare: attrgetter("left", "right"),
    Arith: attrgetter("left", "right"),
    Call: attrgetter("args"),
    Selection: attrgetter("source", "cond"),
    Comprehension: lambda node: tuple(x for x in (node.expr, node.source, node.cond) if x is not None),
    Conditional: attrgetter("test", "then", "otherwise"),
    Template: lambda node: tuple(p for p in node.parts if not isinstance(p, str)),
}


def walk(node: Any):
    """Every expression node under `node` (itself included), depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        yield current
        stack.extend(children(current))
