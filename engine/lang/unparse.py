"""AST back to rule-language text, for `explain` and messages about expressions."""

from __future__ import annotations

import json

from .builtins import render
from .visit import Visitor

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "neg": 7}


def _prec(node) -> int:
    return _PREC.visit(node)


class _Precedence(Visitor):
    """How tightly a node binds (9: an operand that never needs parentheses)."""

    def visit_Logic(self, node) -> int:
        return _PRECEDENCE[node.op]

    visit_Arith = visit_Logic

    def visit_Not(self, node) -> int:
        return 3

    def visit_Compare(self, node) -> int:
        return 4

    def visit_Neg(self, node) -> int:
        return 7

    def visit_Conditional(self, node) -> int:
        return 0  # the loosest: a conditional inside an operator is parenthesised

    def generic_visit(self, node, *args) -> int:
        return 9


_PREC = _Precedence()


def to_text(node, parent: int = 0) -> str:
    text = _TEXT.method_for(node)(_TEXT, node)
    return f"({text})" if _prec(node) < parent else text


class _Text(Visitor):
    """A node's text, its operands parenthesised where their precedence asks for it."""

    def visit_Literal(self, node) -> str:
        v = node.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if node.text:
            return node.text  # a number as written: `0.4%`, `2.50`
        return render(v)

    def visit_ListExpr(self, node) -> str:
        return "[" + ", ".join(to_text(i) for i in node.items) + "]"

    def visit_Name(self, node) -> str:
        return node.name

    def visit_Attr(self, node) -> str:
        return f"{to_text(node.obj, 9)}.{node.field}"

    def visit_Neg(self, node) -> str:
        return "-" + to_text(node.operand, 7)

    def visit_Not(self, node) -> str:
        return "not " + to_text(node.operand, 3)

    def visit_Logic(self, node) -> str:
        p = _PRECEDENCE[node.op]
        return f"{to_text(node.left, p)} {node.op} {to_text(node.right, p + 1)}"

    visit_Arith = visit_Logic

    def visit_Compare(self, node) -> str:
        return f"{to_text(node.left, 5)} {node.op} {to_text(node.right, 5)}"

    def visit_Selection(self, node) -> str:
        return f"{node.var} in {to_text(node.source)} where {to_text(node.cond)}"

    def visit_Call(self, node) -> str:
        return f"{node.func}(" + ", ".join(to_text(a) for a in node.args) + ")"

    def visit_Conditional(self, node) -> str:
        return f"if {to_text(node.test)} then {to_text(node.then)} else {to_text(node.otherwise)}"

    def visit_Comprehension(self, node) -> str:
        tail = f" where {to_text(node.cond)}" if node.cond is not None else ""
        return f"[{to_text(node.expr)} for {node.var} in {to_text(node.source)}{tail}]"

    def generic_visit(self, node, *args) -> str:
        return "?"


_TEXT = _Text()
