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

from .. import ast
from ..builtins import BUILTINS
from ..types import Type
from ..visit import Visitor
from ...core.vocabulary import NAME_HOLES, SCOPE_NAMES as ROOTS

_KEEP_ELEMENTS = {"distinct", "sorted", "first"}  # functions whose result comes from their one argument


class _Reads(Visitor):
    def __init__(self, types: dict[int, Type]):
        self.types = types
        self.paths: set[tuple] = set()
        # paths whose items pass through `distinct` or `sorted`: which items remain, in what order, and
        # whether they can be sorted at all depend on the whole items, so any read below is a read of them
        self.compared: set[tuple] = set()
        # paths whose items pass through `first`: how many items the first one holds is read inside it
        self.whole: set[tuple] = set()

    def covering(self, path: tuple) -> tuple:
        """The path to record for a read of `path` (the whole items where they went through `distinct`/`sorted`)."""
        for i in range(1, len(path) + 1):
            if path[:i] in self.compared:
                return path[:i]
        return path

    def length(self, path: tuple) -> tuple:
        """The path to record for reading only how many items `path` yields."""
        covering = self.covering(path)
        if covering in self.compared or path in self.whole:
            return covering
        return path + ("#",)

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
            path = self.provenance(arg.source if isinstance(arg, ast.Selection) else arg, binds)
            if path is not None:
                (self.whole if expr.func == "first" else self.compared).add(path)
            return path
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

    # -- the walk: what each node reads (`visit(expr, binds)`) ----------------------------
    def _used_whole(self, expr, binds: dict) -> bool:
        """For a value made of a path's items, unchanged (a name, a field, a filter, `first`/`sorted`/
        `distinct` of them): record that the items are read whole here; False for other values."""
        path = self.provenance(expr, binds)
        if path is None:
            return False
        self.paths.add(self.covering(path))
        self.chain_conditions(expr, binds)
        return True

    def visit_Name(self, expr, binds: dict) -> None:
        self._used_whole(expr, binds)

    def visit_Attr(self, expr, binds: dict) -> None:
        if not self._used_whole(expr, binds):
            self.visit(expr.obj, binds)

    def visit_Call(self, expr, binds: dict) -> None:
        if self._used_whole(expr, binds):
            return
        if len(expr.args) == 1 and isinstance(expr.args[0], ast.Selection) \
                and expr.func in BUILTINS and BUILTINS[expr.func].selection == "items":
            # `sum(x in xs where ...)`, `max(...)`, `sorted(...)`: the items that pass are used whole
            selection = expr.args[0]
            self.visit(selection.cond, self.bind(selection.var, selection.source, binds))
            path = self.provenance(selection.source, binds)
            if path is not None:
                self.paths.add(self.covering(path))
            return
        if expr.func in ("count", "len") and len(expr.args) == 1 and not isinstance(expr.args[0], ast.Selection):
            path = self.provenance(expr.args[0], binds)
            if path is not None and path[-1] != "#":
                self.paths.add(self.length(path))  # only the length is read
                self.chain_conditions(expr.args[0], binds)
                return
        self.generic_visit(expr, binds)

    def visit_Selection(self, expr, binds: dict) -> None:
        inner = self.bind(expr.var, expr.source, binds)
        self.visit(expr.cond, inner)

    def visit_Comprehension(self, expr, binds: dict) -> None:
        if self._used_whole(expr, binds):
            return
        inner = self.bind(expr.var, expr.source, binds)
        self.visit(expr.cond, inner)
        if not (isinstance(expr.expr, ast.Name) and expr.expr.name == expr.var):  # a filter reads its condition
            self.visit(expr.expr, inner)

    def bind(self, var: str, source, binds: dict) -> dict:
        """Bind an iteration variable to the items of `source`, recording that the list's length is read."""
        path = self.provenance(source, binds)
        if path is not None:
            self.paths.add(self.length(path))
            self.chain_conditions(source, binds)
            return {**binds, var: path}
        self.guarded(source, binds)
        return {**binds, var: None}

    def guarded(self, expr, binds: dict) -> None:
        """Visit `expr`, whose object values will be used in ways not followed: read their whole fields
        (every path it reads, also those read before by other expressions)."""
        own = _Reads(self.types)
        own.whole, own.compared = self.whole, self.compared
        own.visit(expr, binds)
        self.paths |= own.paths
        if self._object_valued(expr):
            self.paths |= {path[:2] for path in own.paths}


def read_paths(rule: ast.Rule, types: dict[int, Type]) -> frozenset:
    return _minimal(_replay(rule, types)[0].paths)


def text_paths(rule: ast.Rule, types: dict[int, Type]) -> frozenset:
    """The paths a failure's text reads beyond `read_paths`: its message and fix (each `{expr}`
    rendered whole) and the items of its `for` variables (a result's `item` renders them whole).

    A part that is exactly `{guest.name}`, `{source.name}` or `{target.name}` is left out: the
    matrix renders a message once for subjects that look alike and puts each one's names in
    those places (engine/texts.py).
    """
    steps_reads, binds, for_vars = _replay(rule, types)
    reads = _Reads(types)
    reads.whole, reads.compared = steps_reads.whole, steps_reads.compared  # names bound through `sorted` (say)
    for var in for_vars:
        path = binds.get(var)
        if path is not None:
            reads.paths.add(path)
    for key in ("message", "fix"):
        template = rule.get(key)
        for part in () if template is None else template.parts:
            if isinstance(part, str) or name_hole(part, binds) is not None:
                continue
            reads.guarded(part, binds)
    return _minimal(reads.paths)


def name_hole(expr, binds: dict) -> str | None:
    """The subject whose name a template part is exactly (`{target.name}`, not rebound), or None."""
    if (isinstance(expr, ast.Attr) and expr.field == "name" and isinstance(expr.obj, ast.Name)
            and expr.obj.name in NAME_HOLES and expr.obj.name not in binds):
        return expr.obj.name
    return None


def _replay(rule: ast.Rule, types: dict[int, Type]) -> tuple[_Reads, dict, list]:
    """The reads of the rule's steps, the provenance of every name they bind, and its `for` variables."""
    reads = _Reads(types)
    binds: dict = {}
    for_vars = []
    for step in rule.steps:
        if isinstance(step, (ast.When, ast.Require)):
            reads.visit(step.expr, binds)
        elif isinstance(step, ast.For):
            binds = reads.bind(step.var, step.source, binds)
            for_vars.append(step.var)
            reads.visit(step.cond, binds)
        elif isinstance(step, ast.Let):
            path = reads.provenance(step.expr, binds)
            if path is None:
                reads.guarded(step.expr, binds)
            else:  # the name stands for the path's items: its uses read what they read of them (through
                # `binds`); making it reads the list's length and the filters on the way
                reads.paths.add(reads.length(path))
                reads.chain_conditions(step.expr, binds)
            binds = {**binds, step.name: path}
    return reads, binds, for_vars


def _minimal(paths: set) -> frozenset:
    """Drop paths covered by a shorter one (reading `guest.dio` covers `guest.dio.label`)."""
    out = set()
    for p in paths:
        core = p[:-1] if p[-1] == "#" else p
        if any(q != p and q[-1] != "#" and core[:len(q)] == q for q in paths):
            continue
        out.add(p)
    return frozenset(out)
