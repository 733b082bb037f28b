"""AST back to rule-language text, for `explain` and messages about expressions."""

from __future__ import annotations

import json

from . import ast

_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "neg": 7}


def _prec(node) -> int:
    if isinstance(node, ast.Logic):
        return _PRECEDENCE[node.op]
    if isinstance(node, ast.Not):
        return 3
    if isinstance(node, ast.Compare):
        return 4
    if isinstance(node, ast.Arith):
        return _PRECEDENCE[node.op]
    if isinstance(node, ast.Neg):
        return 7
    return 9


def to_text(node, parent: int = 0) -> str:
    text = _text(node)
    return f"({text})" if _prec(node) < parent else text


def _text(node) -> str:
    if isinstance(node, ast.Literal):
        v = node.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        return str(v)
    if isinstance(node, ast.ListExpr):
        return "[" + ", ".join(to_text(i) for i in node.items) + "]"
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Attr):
        return f"{to_text(node.obj, 9)}.{node.field}"
    if isinstance(node, ast.Neg):
        return "-" + to_text(node.operand, 7)
    if isinstance(node, ast.Not):
        return "not " + to_text(node.operand, 3)
    if isinstance(node, ast.Logic):
        p = _PRECEDENCE[node.op]
        return f"{to_text(node.left, p)} {node.op} {to_text(node.right, p + 1)}"
    if isinstance(node, ast.Compare):
        return f"{to_text(node.left, 5)} {node.op} {to_text(node.right, 5)}"
    if isinstance(node, ast.Arith):
        p = _PRECEDENCE[node.op]
        return f"{to_text(node.left, p)} {node.op} {to_text(node.right, p + 1)}"
    if isinstance(node, ast.Selection):
        return f"{node.var} in {to_text(node.source)} where {to_text(node.cond)}"
    if isinstance(node, ast.Call):
        return f"{node.func}(" + ", ".join(to_text(a) for a in node.args) + ")"
    if isinstance(node, ast.Comprehension):
        tail = f" where {to_text(node.cond)}" if node.cond is not None else ""
        return f"[{to_text(node.expr)} for {node.var} in {to_text(node.source)}{tail}]"
    return "?"
