"""Constant sub-expressions of a rule, evaluated when it is checked (`lint`): a part that reads
nothing of its subject (literals, arithmetic on them, functions of them) and cannot be computed —
a release literal that does not parse, a number past `MAX_DIGITS`, a division by zero — would
be an `error` on every subject; the checker makes it a located diagnostic instead.

Input: an expression node; output: its value, `NOT_CONSTANT`, or an `EvalError` at the part that fails.
"""

from __future__ import annotations

import operator
from fractions import Fraction

from .. import ast
from ..builtins import BUILTINS, MAX_BITS, MAX_DIGITS, EvalError, bits, divide, exact_pair  # noqa: F401  (re-exported)

NOT_CONSTANT = object()

_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": divide, "%": operator.mod}
_PURE = frozenset({"len", "sum", "min", "max", "distinct", "sorted", "first", "version", "within", "default",
                   "round_up", "lower", "upper", "starts_with"})  # functions of their arguments alone, as cheap as them


def too_big(a, b, symbol: str) -> str:
    """Why `a symbol b` is not computed (its result could exceed `MAX_DIGITS`), or ""; an integer
    `+`, `-` or `%` grows a bit at most, `*`, `/` and fractions by both operands' sizes."""
    sa, sb = bits(a), bits(b)
    bound = max(sa, sb) + 1 if type(a) is int and type(b) is int and symbol in "+-%" else sa + sb
    if bound > MAX_BITS:
        return f"the result of `{symbol}` could have more than {MAX_DIGITS:,} digits, more than a rule may compute"
    return ""


def constant(node, memo: dict):
    """The value of `node` if it reads nothing, else `NOT_CONSTANT`; raises `EvalError` where it fails."""
    key = id(node)
    if key not in memo:
        memo[key] = NOT_CONSTANT  # while it is computed: a failure below is raised once
        memo[key] = _value(node, memo)
    return memo[key]


def _value(node, memo: dict):
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.ListExpr):
        items = [constant(item, memo) for item in node.items]
        return NOT_CONSTANT if any(i is NOT_CONSTANT for i in items) else items
    if isinstance(node, ast.Neg):
        v = constant(node.operand, memo)
        return -v if type(v) in (int, Fraction, float) else NOT_CONSTANT
    if isinstance(node, ast.Arith):
        return _arith(node, constant(node.left, memo), constant(node.right, memo))
    if isinstance(node, ast.Call) and node.func in _PURE and not any(isinstance(a, ast.Selection) for a in node.args):
        args = [constant(a, memo) for a in node.args]
        if any(a is NOT_CONSTANT for a in args):
            return NOT_CONSTANT
        try:
            return BUILTINS[node.func].impl(*args)
        except EvalError as exc:
            raise EvalError(exc.message, exc.span or node.span) from None
        except (TypeError, ValueError):  # the checker's to report, or a case of its own at run time
            return NOT_CONSTANT
    return NOT_CONSTANT


def _arith(node, a, b):
    numbers = (int, Fraction)
    if type(a) not in numbers or type(b) not in numbers:
        if type(a) is str and type(b) is str and node.op == "+":
            return a + b if len(a) + len(b) <= MAX_DIGITS else NOT_CONSTANT
        return NOT_CONSTANT
    a, b = exact_pair(a, b) if type(a) is not type(b) else (a, b)
    why = too_big(a, b, node.op)
    if why:
        raise EvalError(why, node.span)
    try:
        return _ARITH[node.op](a, b)
    except ZeroDivisionError:
        raise EvalError(f"division by zero in `{node.op}`", node.span) from None
