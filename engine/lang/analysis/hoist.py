"""Compiler helper: an expression that reads only what is constant in a run is computed once.

`count(g in snapshot.guests where g.memory_mb > 4096)` in a rule run for every guest reads
nothing of the guest: its value is the same for each of them. `worth_hoisting(node)` says
whether a node reads only the run's constants (`snapshot`, `data`, `mode`, `stop`, and its
own bound variables) and goes through a list; `once_per_run(fn, node, budget)` computes it
once per run (the snapshot scope, mode and stop it was computed with) and reuses the value.
The run is told by the snapshot scope's identity and the typed keys (`keys.freeze`) of the
other constants: `1`, `1.0` and `true` never share a value (no rule can bind those names,
`vocabulary.RESERVED`, yet a value computed for one run must never serve another).

The evaluation budget stays deterministic: the expression is computed with a budget of its
own (the same limit), so whether it goes past it does not depend on which subject computed
it first, and an expression that alone goes past the budget is an error for every subject;
each use then costs one step (the work is not done again). An `EvalError` it raises is
kept and raised again at each use, like a value.
"""

from __future__ import annotations

from .. import ast
from ..builtins import EvalError
from ..visit import Visitor
from ...core.keys import freeze
from ...core.vocabulary import CONSTANT_ROLES, RUN_CONSTANTS as CONSTANTS, names_with

(_SCOPE,) = names_with({"snapshot"})  # the run's snapshot scope, told by identity
_BY_VALUE = tuple(sorted(names_with(CONSTANT_ROLES - {"snapshot"})))  # mode, stop: told by typed keys

_LOOPS = (ast.Selection, ast.Comprehension)


class _FreeNames(Visitor):
    """The names a node reads that it does not bind itself (`free(node)`), remembered by node id in
    `known`: the compiler asks of every node, children first, so each node is visited once."""

    def __init__(self, known: dict | None = None):
        self.known = {} if known is None else known

    def free(self, node) -> frozenset:
        if node is None:
            return _NONE
        found = self.known.get(id(node))
        if found is None:
            found = self.known[id(node)] = self.visit(node)
        return found

    def generic_visit(self, node) -> frozenset:
        found = _NONE
        for child in ast.children(node):
            found = found | self.free(child)
        return found

    def visit_Name(self, node) -> frozenset:
        return frozenset((node.name,))

    def visit_Selection(self, node) -> frozenset:
        return self.free(node.source) | (self.free(node.cond) - {node.var})

    def visit_Comprehension(self, node) -> frozenset:
        return self.visit_Selection(node) | (self.free(node.expr) - {node.var})


_NONE: frozenset = frozenset()


def _goes_through_a_list(node, known: dict) -> bool:
    """Whether a node under `node` (itself included) is a loop or maps a list (`snapshot.guests.name`),
    remembered in `known` by node id: the compiler asks of every node, children first."""
    found = known.get(id(node))
    if found is None:
        found = isinstance(node, _LOOPS) or (isinstance(node, ast.Attr) and isinstance(node.obj, ast.Attr)) \
            or any(_goes_through_a_list(child, known) for child in ast.children(node) if child is not None)
        known[id(node)] = found
    return found


def worth_hoisting(node, known: dict | None = None, free: dict | None = None) -> bool:
    """`known` and `free`: the answers of `_goes_through_a_list` and `_FreeNames` so far, by node id (a
    dict each per rule, whose nodes are alive while they are used)."""
    if isinstance(node, (ast.Literal, ast.Name)) or not _goes_through_a_list(node, {} if known is None else known):
        return False
    names = _FreeNames(free).free(node)
    return bool(names) and names <= CONSTANTS and _SCOPE in names


def hoisted(nodes) -> list:
    """The nodes among `nodes` (every node of a rule) worth hoisting, in their order: what the packs
    cache keeps of a checked rule (`lang.checker.Analysis`), so that a warm run's compiler asks nothing."""
    known: dict = {}
    free: dict = {}
    return [node for node in nodes if worth_hoisting(node, known, free)]


class _Raised:
    __slots__ = ("error",)

    def __init__(self, error: EvalError):
        self.error = error


def once_per_run(fn, node, budget):
    span = getattr(node, "span", None)
    cache: list = [None, None, None]  # snapshot scope, typed keys of the other constants, value

    def hoisted(env):
        scope = env.get(_SCOPE)
        keys = [freeze(env.get(name)) for name in _BY_VALUE]
        if cache[0] is not scope or cache[1] != keys:
            saved = budget.steps
            budget.steps = 0  # a budget of its own: the count does not depend on who computed it first
            try:
                value = fn(env)
            except EvalError as exc:
                value = _Raised(exc)
            budget.steps = saved
            cache[:] = [scope, keys, value]
        value = cache[2]
        if type(value) is _Raised:
            raise value.error
        budget.steps += 1
        if budget.steps > budget.limit:
            raise budget.exceeded(span)
        return value
    return hoisted
