"""Checker warnings about cost: a rule run for each guest (or host) that goes through all of them.

A rule `on guest` or `on migration` that loops over `snapshot.guests` does, over the whole
estate, work that grows with the square of the number of guests (and a rule `on host` over
`snapshot.hosts` likewise); nested, with its cube. The evaluation budget stops one run that
goes too far, but the author should know before: `cost_warnings(rule)` finds such loops,
except the ones a key lookup answers without going through the list (`lang/joins.py`).
"""

from __future__ import annotations

from .. import ast
from . import joins
from ..diagnostics import Diagnostic, at

_PER = {"guest": ("guests", "guest"), "migration": ("guests", "guest"), "host": ("hosts", "host")}


def _all_of(node) -> str | None:
    """`guests` or `hosts` for `snapshot.guests`/`snapshot.hosts` (or a path below them), else None."""
    fields = []
    while isinstance(node, ast.Attr):
        fields.append(node.field)
        node = node.obj
    if isinstance(node, ast.Name) and node.name == "snapshot" and fields and fields[-1] in ("guests", "hosts"):
        return fields[-1]
    return None


def _loops(rule: ast.Rule):
    """(span, source expr, var, cond) of every loop of the rule's steps, `for` steps included."""
    for step in rule.steps:
        if isinstance(step, ast.For):
            yield step.span, step.source, step.var, step.cond
        for expr in (getattr(step, "expr", None), getattr(step, "source", None), getattr(step, "cond", None)):
            for node in ast.walk(expr):
                if isinstance(node, (ast.Selection, ast.Comprehension)):
                    yield node.span, node.source, node.var, node.cond


def cost_warnings(rule: ast.Rule) -> list[Diagnostic]:
    subject = rule.get("on", "migration")
    if subject not in _PER:
        return []
    section, noun = _PER[subject]
    out = []
    for span, source, var, cond in _loops(rule):
        if _all_of(source) != section or joins.plan(var, source, cond) is not None:
            continue
        if section == "guests":
            code = "all-guests"
        else:
            code = "all-hosts"
        out.append(at(span, code,
                      f"rule `{rule.id}` runs for each {noun} and goes through every {noun} of the snapshot "
                      f"(`{ast.dotted(source) or 'snapshot.' + section}`): its cost grows with the square of the "
                      "estate",
                      f"select by key (`x.host == {noun}.host` as the condition is looked up, not scanned), or "
                      "make it a rule `on snapshot`; the evaluation budget stops a run that goes too far"))
    return out
