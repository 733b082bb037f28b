"""Stage: which parts of its subjects a checked rule's outcome depends on.

`read_paths(rule, types)` returns a set of paths such as `("target", "memory_mb", "free")`
or `("guest", "networks", "vswitch")` (a path over a list means that field of every item;
a final `"#"` means only the list's length; a one-element path means the whole subject).
Two subjects whose values agree on every path give the rule the same outcome, which is
what lets `matrix` share outcomes between targets and between guests. Messages and fixes
are not read: they are rendered per subject after the outcome is known.

The analysis follows iteration variables (`for f in target.dio_functions` then `f.pool`
reads `target.dio_functions.pool`) and `let`s that filter a list; where it cannot follow
a value it falls back to the whole top-level field, which is always safe.
"""

from __future__ import annotations

from . import ast
from .types import Type

ROOTS = frozenset({"host", "guest", "source", "target", "mode", "stop", "snapshot", "stage"})
_KEEP_ELEMENTS = {"distinct", "sorted", "first"}  # functions whose result comes from their one argument


class _Reads:
    def __init__(self, types: dict[int, Type]):
        self.types = types
        self.paths: set[tuple] = set()

    def provenance(self, expr, binds: dict) -> tuple | None:
        """The path whose items (or value) `expr` yields unchanged, if there is one."""
        if isinstance(expr, ast.Name):
            if expr.name in ROOTS and expr.name not in binds:
                return (expr.name,)
            return binds.get(expr.name)
        if isinstance(expr, ast.Attr):
            base = self.provenance(expr.obj, binds)
            return base + (expr.field,) if base else None
        if isinstance(expr, ast.Comprehension) and isinstance(expr.expr, ast.Name) and expr.expr.name == expr.var:
            return self.provenance(expr.source, binds)
        if isinstance(expr, ast.Call) and expr.func in _KEEP_ELEMENTS and len(expr.args) == 1:
            arg = expr.args[0]
            return self.provenance(arg.source if isinstance(arg, ast.Selection) else arg, binds)
        return None

    def chain_conditions(self, expr, binds: dict) -> None:
        """Visit the filters along a provenance chain (`first(f in xs where f.pool).label` reads `pool`)."""
        while True:
            if isinstance(expr, ast.Attr):
                expr = expr.obj
            elif isinstance(expr, ast.Call) and expr.func in _KEEP_ELEMENTS and len(expr.args) == 1:
                expr = expr.args[0]
                if isinstance(expr, ast.Selection):
                    self.visit(expr.cond, self.bind(expr.var, expr.source, binds))
                    expr = expr.source
            elif isinstance(expr, ast.Comprehension) and expr.cond is not None:
                self.visit(expr.cond, self.bind(expr.var, expr.source, binds))
                expr = expr.source
            else:
                return

    def _object_valued(self, expr) -> bool:
        t = self.types.get(id(expr))
        if t is None:
            return True
        while t.kind == "list" and t.elem is not None:
            t = t.elem
        return t.kind in ("object", "any")

    def visit(self, expr, binds: dict) -> None:
        if expr is None:
            return
        if isinstance(expr, (ast.Name, ast.Attr)):
            path = self.provenance(expr, binds)
            if path is not None:
                self.paths.add(path)
                self.chain_conditions(expr, binds)
                return
            if isinstance(expr, ast.Attr):
                self.visit(expr.obj, binds)
            return
        if isinstance(expr, ast.Call) and expr.func in ("count", "len") and len(expr.args) == 1 \
                and not isinstance(expr.args[0], ast.Selection):
            path = self.provenance(expr.args[0], binds)
            if path is not None and path[-1] != "#":
                self.paths.add(path + ("#",))  # only the length is read
                self.chain_conditions(expr.args[0], binds)
                return
        if isinstance(expr, (ast.Selection, ast.Comprehension)):
            inner = self.bind(expr.var, expr.source, binds)
            self.visit(expr.cond, inner)
            if isinstance(expr, ast.Comprehension) and not (
                    isinstance(expr.expr, ast.Name) and expr.expr.name == expr.var):  # a filter reads its condition
                self.visit(expr.expr, inner)
            return
        for child in ast.children(expr):
            self.visit(child, binds)

    def bind(self, var: str, source, binds: dict) -> dict:
        """Bind an iteration variable to the items of `source`, recording that the list's length is read."""
        path = self.provenance(source, binds)
        if path is not None:
            self.paths.add(path + ("#",))
            self.chain_conditions(source, binds)
            return {**binds, var: path}
        self.guarded(source, binds)
        return {**binds, var: None}

    def guarded(self, expr, binds: dict) -> None:
        """Visit `expr`, whose object values will be used in ways not followed: read their whole fields."""
        before = set(self.paths)
        self.visit(expr, binds)
        if self._object_valued(expr):
            for path in self.paths - before:
                self.paths.add(path[:2])


def read_paths(rule: ast.Rule, types: dict[int, Type]) -> frozenset:
    reads = _Reads(types)
    binds: dict = {}
    for step in rule.steps:
        if isinstance(step, (ast.When, ast.Require)):
            reads.visit(step.expr, binds)
        elif isinstance(step, ast.For):
            binds = reads.bind(step.var, step.source, binds)
            reads.visit(step.cond, binds)
        elif isinstance(step, ast.Let):
            path = reads.provenance(step.expr, binds)
            if path is None:
                reads.guarded(step.expr, binds)
            else:
                reads.visit(step.expr, binds)
            binds = {**binds, step.name: path}
    return _minimal(reads.paths)


def _minimal(paths: set) -> frozenset:
    """Drop paths covered by a shorter one (reading `guest.dio` covers `guest.dio.label`)."""
    out = set()
    for p in paths:
        core = p[:-1] if p[-1] == "#" else p
        if any(q != p and q[-1] != "#" and core[:len(q)] == q for q in paths):
            continue
        out.add(p)
    return frozenset(out)
