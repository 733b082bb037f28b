"""Compiler helper: what the matrix may share for a rule, read from its AST once, at compile time.

`sharing_plan(rule, lookups)` gives a `SharingPlan`, kept on the compiled rule; the matrix
(engine/eval/matrix.py) reads it and never walks the AST itself (as Cedar's evaluator does
not): which guest-side lists the rule reads in no order (keyed as multisets), whether its
first step is a `when` on the run's constants only (evaluated once per run by the matrix),
whether it sees a target only through counted key lookups (targets keyed by the counts),
and whether it gives one outcome per subject.
"""

from __future__ import annotations

from typing import Any

from ...core.records import record
from .. import ast
from ..visit import Visitor
from .joins import plan as joins_plan
from ...core.vocabulary import RUN_CONSTANTS, SCOPES

# the names of guest and migration rules (`vocabulary.SCOPES`) by the side of a pair they name: a guest-side
# name -> which object it is (the guest, or its host: `source`, and `host` of a guest rule); the target's names
_SIDE_OF_ROLE = {"guest": "guest", "source": "host"}
GUEST_SIDE = {name: _SIDE_OF_ROLE[role] for kind in ("guest", "migration")
              for name, role in SCOPES[kind].items() if role in _SIDE_OF_ROLE}
TARGET_NAMES = frozenset(name for name, role in SCOPES["migration"].items() if role == "target")


@record(frozen=True)
class SharingPlan:
    order_free: frozenset  # guest-side fields (side, field) whose lists the rule reads blind to their order
    constant_when: Any  # the first step's `when` expression when it reads only the run's constants, else None
    counted: tuple | None  # its counted lookups on the target, when they are all it reads of it; else None
    single: bool  # no `for` step: one outcome per subject
    # (parts of its own guest, parts of `snapshot.guests`) the rule reads (`EVERY`: all): what `guest.unknown`
    # meets (eval/uncaptured.py), decided once per compiled rule
    guest_parts: tuple = (frozenset(), frozenset())


EVERY = "*"  # a rule reading a guest whole reads every part


def sharing_plan(rule: ast.Rule, lookups: tuple = (), reads: frozenset = frozenset(), analysis=None) -> SharingPlan:
    """The plan of a rule whose steps' key lookups are `lookups` ((joins.Lookup, only counted), ...) and
    whose read paths are `reads`; `analysis` (`lang.checker.Analysis`): its order-free lists and constant
    `when` as worked out before."""
    if analysis is not None:
        order_free, constant_when = analysis.order_free, analysis.constant_when
    else:
        order_free, constant_when = _order_free(rule), _constant_when(rule)
    return SharingPlan(order_free=order_free, constant_when=constant_when,
                       counted=_counted_view(rule, lookups),
                       single=not any(isinstance(step, ast.For) for step in rule.steps),
                       guest_parts=guest_parts(rule.get("on", "migration"), reads))


def guest_parts(subject: str, reads) -> tuple[frozenset, frozenset]:
    """(parts of its own guest, parts of `snapshot.guests`) a rule `on subject` reading `reads` reads."""
    scope = SCOPES[subject]
    own, others = set(), set()
    for path in reads:
        role = scope.get(path[0])
        if role == "guest":
            own.add(path[1] if len(path) > 1 else EVERY)
        elif role == "snapshot" and (len(path) == 1 or path[1] == "guests"):
            if len(path) <= 2:
                others.add(EVERY)
            elif path[2] != "#":
                others.add(path[2])
    return frozenset(own), frozenset(others)


def _constant_when(rule: ast.Rule):
    """The expression of the rule's first step when it is a `when` reading only constants of the run."""
    steps = rule.steps
    if not steps or not isinstance(steps[0], ast.When):
        return None
    expr = steps[0].expr
    if any(isinstance(n, ast.Name) and n.name not in RUN_CONSTANTS for n in ast.walk(expr)):
        return None
    if any(isinstance(n, (ast.Selection, ast.Comprehension)) for n in ast.walk(expr)):
        return None  # a bound variable would look like a name the check above refuses anyway
    return expr


def _step_exprs(rule: ast.Rule):
    for step in rule.steps:
        for expr in (getattr(step, "expr", None), getattr(step, "source", None), getattr(step, "cond", None)):
            yield expr


def _counted_view(rule: ast.Rule, lookups: tuple) -> tuple | None:
    """The rule's counted lookups on `target`, when they are all it reads of the target; else None.

    Such a rule sees of a target only how many items of a stored list pass its tests per
    key (`count(f in target.dio_functions where f.label == label and f.assigned_to == null)`),
    so targets with equal counts are one class for it, however their lists are ordered or
    whatever else their items hold.
    """
    counted = tuple(lk for lk, only_counted in lookups if only_counted and _root(lk.source_node) in TARGET_NAMES)
    if not counted:
        return None
    # (no step can bind the target's name or another subject's: the checker reserves them)
    reads = sum(1 for expr in _step_exprs(rule) for node in ast.walk(expr)
                if isinstance(node, ast.Name) and node.name in TARGET_NAMES)
    return counted if reads == len(counted) else None


def _root(node) -> str | None:
    while isinstance(node, ast.Attr):
        node = node.obj
    return node.name if isinstance(node, ast.Name) else None


def _guest_list(node) -> tuple | None:
    """(side, field) for a chain of fields on a guest-side name (its last field, the top-level one)."""
    fields = []
    while isinstance(node, ast.Attr):
        fields.append(node.field)
        node = node.obj
    if isinstance(node, ast.Name) and node.name in GUEST_SIDE and fields:
        return GUEST_SIDE[node.name], fields[-1]
    return None


def _distinct_of(node):
    """LIST for `distinct(LIST)` (not of a selection), else None."""
    if isinstance(node, ast.Call) and node.func == "distinct" and len(node.args) == 1 \
            and not isinstance(node.args[0], ast.Selection):
        return node.args[0]
    return None


class _OrderFree(Visitor):
    """Each use of a guest-side list (`visit(node, ok)`), with whether the use is blind to its order."""

    def __init__(self):
        self.uses: dict = {}

    def visit_Attr(self, node, ok: bool) -> None:
        found = _guest_list(node)
        if found is None:
            self.generic_visit(node, ok)
        else:
            self.uses.setdefault(found, []).append(ok)

    def visit_Call(self, node, ok: bool) -> None:
        if len(node.args) != 1:
            self.generic_visit(node, ok)
            return
        arg = node.args[0]
        if isinstance(arg, ast.Selection):
            indexed = joins_plan(arg.var, arg.source, arg.cond) is not None
            if node.func == "count" or (node.func == "any" and indexed):
                self.visit(arg.source, True)
                self.visit(arg.cond, False)
                return
        elif node.func in ("count", "len"):
            listed = _distinct_of(arg)
            self.visit(arg if listed is None else listed, True)
            return
        self.generic_visit(node, ok)

    def generic_visit(self, node, ok: bool = False) -> None:
        for child in ast.children(node):
            self.visit(child, False)


def _order_free(rule: ast.Rule) -> frozenset:
    """Guest-side fields (side, field) whose lists the rule reads only in ways blind to their order.

    Accepted uses: `for x in distinct(LIST)`, `count(LIST)`, `len(LIST)`, `count(distinct(LIST))`,
    `count(x in LIST where ...)` and an indexed `any(x in LIST where ... x.k == v)`: each reads
    every item (an error in any item is an error whatever the order) and yields the same
    outcomes in another order. A rule whose outcome is an error for some guest stops sharing
    this way (`Matrix._statuses`), since an error can cut a loop short at a place the order decides.
    """
    walk = _OrderFree()
    for step in rule.steps:
        if isinstance(step, ast.For):
            listed = _distinct_of(step.source)
            if listed is None:
                walk.visit(step.source, False)
            else:
                walk.visit(listed, True)
            walk.visit(step.cond, False)
        else:
            walk.visit(step.expr, False)
    return frozenset(key for key, oks in walk.uses.items() if all(oks))
