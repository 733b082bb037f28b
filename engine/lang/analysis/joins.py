"""Compiler helper: selections that look items up by key instead of scanning a stored list.

`count(f in target.dio_functions where f.pool and f.label == label)` scans the target's
list for every label of every guest: in the matrix that scan is most of the work. When a
selection's source is a list stored in the snapshot (a path from a subject) and its
condition is a conjunction of tests of the item alone plus one `item-expr == outer-expr`,
the list is indexed once (per list, per selection): item key -> the items passing the
item-only tests, in their order. The selection is then a dictionary lookup.

Keys compare as the rules' `==` does (`builtins.equality_key`: a boolean equals only a
boolean; `1 == 1.0`; an exact `3/2` equals a snapshot's `1.5`). The lookup gives exactly what the scan gives, or is not used: the
index is built with the rule's own compiled closures, and when building it raises anything
(a test that the scan's short-circuit might never have reached), when the outer value is
not a plain hashable value, or when computing it raises, the caller scans, errors and all;
an `any` then reads every item as building the index does, so its answer does not depend
on the order of the list (`compiler._selection`).

The indexes a lookup keeps are bounded by the items they index, least recently used dropped
first: a plan copies the estate's lists at every step, and an index of each copy (holding the
copy alive) would otherwise stay for the whole plan. The bound is the larger of `_FLOOR_ITEMS`
and `_COPIES` times the longest list indexed, so a matrix, whose lists are the snapshot's own
(one per subject, e.g. every target's `dio_functions`), keeps all of them unless they hold more
than `_FLOOR_ITEMS` items together, and a plan keeps the indexes of a few copies of its longest list.
A copy's index is made from the index of the list it was copied from (`core.lineage`), brought up to
date at the few places a move replaced (`Lookup._updated`), not built again over every item.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable
from fractions import Fraction

from .. import ast
from ..builtins import equality_key
from ..visit import Visitor
from ...core.lineage import ancestors
from ...core.vocabulary import OBJECT_NAMES, TABLES, names_with

# the snapshot's objects and the whole-snapshot scope hold the snapshot's own lists (a stage's are built per stage)
_STORED_ROOTS = OBJECT_NAMES | names_with({"snapshot"})
_PLAIN = (str, int, float, Fraction, bool, type(None))  # an exact number is a key like an integer or a float
_FLOOR_ITEMS = 1 << 16  # items a lookup's indexes may hold together, whatever its lists' lengths
_COPIES = 4  # ... or this many times its longest list's


def _conjuncts(expr) -> list:
    if isinstance(expr, ast.Logic) and expr.op == "and":
        return _conjuncts(expr.left) + _conjuncts(expr.right)
    return [expr]


class _Names(Visitor):
    """The names an expression reads (`out`), and whether it holds a nested selection (not followed)."""

    def __init__(self, out: set):
        self.out = out
        self.nested = False

    def visit_Name(self, node) -> None:
        self.out.add(node.name)

    def visit_Selection(self, node) -> None:
        self.nested = True

    visit_Comprehension = visit_Selection


def _names(expr, out: set) -> bool:
    """Collect the names `expr` reads; False when it holds a nested selection (not followed)."""
    names = _Names(out)
    names.visit(expr)
    return not names.nested


def _stored(source) -> bool:
    """A path from a subject through fields: its value is a list kept by the snapshot, never built per run."""
    node = source
    while isinstance(node, ast.Attr):
        node = node.obj
    return isinstance(node, ast.Name) and node.name in _STORED_ROOTS and node is not source


def plan(sel_var: str, source, cond) -> tuple[Any, Any, list] | None:
    """For `var in source where cond`: (item key expr, outer key expr, item-only conjuncts) or None."""
    if cond is None or not _stored(source):
        return None
    key = None
    tests = []
    for conj in _conjuncts(cond):
        names: set = set()
        if not _names(conj, names):
            return None
        if names <= {sel_var, TABLES} and sel_var in names:
            tests.append(conj)
            continue
        if key is None and isinstance(conj, ast.Compare) and conj.op == "==":
            sides = []
            for side in (conj.left, conj.right):
                side_names: set = set()
                if not _names(side, side_names):
                    return None
                sides.append(side_names)
            if sides[0] <= {sel_var, TABLES} and sel_var in sides[0] and sel_var not in sides[1]:
                key = (conj.left, conj.right)
                continue
            if sides[1] <= {sel_var, TABLES} and sel_var in sides[1] and sel_var not in sides[0]:
                key = (conj.right, conj.left)
                continue
        return None
    if key is None:
        return None
    return key[0], key[1], tests


class Lookup:
    """`lookup(env)`: the items of the selection in order, or None (then scan)."""

    __slots__ = ("var", "source", "item_key", "outer", "tests", "indexes", "fallbacks", "source_node", "budget",
                 "items", "longest", "last", "last_index")

    def __init__(self, var: str, source: Callable, item_key: Callable, outer: Callable, tests: list[Callable],
                 budget=None):
        self.var = var
        self.source = source
        self.item_key = item_key
        self.outer = outer
        self.tests = tests
        self.indexes: dict[int, tuple] = {}  # id(list) -> (list, index or None, length, places), least recently
        # used first; places: id(item) -> (its place, its key) of the items indexed (None: not known, `_index`)
        self.items = 0  # the items of the lists in `indexes`
        self.longest = 0  # the longest list indexed
        self.last: list | None = None  # the list of the last lookup, and its index (the newest of `indexes`)
        self.last_index: dict | None = None
        self.fallbacks = 0  # how often the caller had to scan (the matrix stops classing targets by counts)
        self.source_node = None
        self.budget = budget  # the rule's: building an index is not the work of the run that asks first

    def index_of(self, items) -> dict | None:
        """The index of a stored list (built on first use), or None when the scan must decide."""
        if items is self.last:
            return self.last_index
        if type(items) is not list:
            return None
        indexes = self.indexes
        found = indexes.pop(id(items), None)
        if found is None or found[0] is not items:
            if found is not None:  # (never: a list in `indexes` is alive, so its id is not reused)
                self.items -= found[2]
            found = self._updated(items) or (items, *self._index(items))
            self._make_room(found[2])
        indexes[id(items)] = found  # the most recently used last
        self.last, self.last_index = items, found[1]
        return found[1]

    def _make_room(self, size: int) -> None:
        """Drop the least recently used indexes until one of `size` more items fits within the bound."""
        self.longest = max(self.longest, size)
        bound = max(_FLOOR_ITEMS, _COPIES * self.longest)
        indexes = self.indexes
        while indexes and self.items + size > bound:
            self.items -= indexes.pop(next(iter(indexes)))[2]
        self.items += size

    def counts(self, items) -> tuple | None:
        """What a counted selection can see of `items`: the number of items per key, typed; None if unknown."""
        index = self.index_of(items)
        if index is None:
            return None
        # whether the list is empty too: for an empty list the lookup answers without computing the key
        return (bool(items),) + tuple(sorted(((type(k).__name__, k, len(v)) for k, v in index.items()), key=repr))

    def _index(self, items) -> tuple[dict | None, int, dict | None]:
        """`items`' index (None: the scan decides), their number, and the places and keys of those indexed
        (None: an item is listed twice, or the list is short: an index of its copy is built whole)."""
        return self._apart(lambda: self._build(items), (None, len(items), None))

    def _build(self, items) -> tuple[dict | None, int, dict | None]:
        var = self.var
        env = {}
        index: dict = {}
        places: dict | None = {} if len(items) >= _UPDATED_FROM else None
        for place, item in enumerate(items):
            env[var] = item
            if all(test(env) for test in self.tests):
                key = self.item_key(env)
                if type(key) not in _PLAIN or key != key:
                    return None, len(items), None
                key = equality_key(key)
                index.setdefault(key, []).append(item)
                if places is not None:
                    if id(item) in places:
                        places = None
                    else:
                        places[id(item)] = (place, key)
            else:
                self.item_key(env)  # the scan computes it too: it must not raise either
        return index, len(items), places

    def _apart(self, work, failed):
        """`work()`, counted by the rule's budget on its own: whether building an index goes past the budget
        does not depend on who asked first; `failed` when it raises (then the scan decides, and reports it
        as the scan would)."""
        budget = self.budget
        saved = budget.steps if budget is not None else 0
        if budget is not None:
            budget.steps = 0
        try:
            return work()
        except Exception:  # noqa: BLE001 - any failure: the scan decides
            return failed
        finally:
            if budget is not None:
                budget.steps = saved

    def _updated(self, items) -> tuple | None:
        """`indexes`' entry of `items` (a plan's copy of an estate's list, `core.lineage`) made from the index of
        a list it was copied from, brought up to date at the places replaced since (each move replaces a few
        items of 10,000); None: no such index (then `_index` builds it)."""
        if type(items) is not list:
            return None
        for older, changed in ancestors(items):
            found = self.indexes.get(id(older))
            if found is None or found[0] is not older:
                continue
            if found[1] is None or found[3] is None or len(older) != len(items):
                return None
            del self.indexes[id(older)]  # its index becomes the copy's (`older` asked again: built again)
            self.items -= found[2]
            if self.last is older:
                self.last = self.last_index = None
            index, places = self._apart(lambda: self._replace(found[1], found[3], older, items, changed), (None, None))
            return None if index is None else (items, index, len(items), places)
        return None

    def _replace(self, index: dict, places: dict, older: list, items: list, changed: frozenset) -> tuple:
        """`index` and `places` of `older` made those of `items`, which holds other items at the places `changed`:
        the item that left each place out of its key's list, the one that came in its key's list in order of
        place. A key's list is copied before it changes (a rule's value may hold it); the dictionaries are
        changed in place (copying them costs as much as building them). (None, None): an item's key is not plain."""
        own: set = set()  # keys whose list is already this index's copy
        var = self.var
        env: dict = {}
        for place in sorted(changed):
            before, after = older[place], items[place]
            if before is after:
                continue
            left = places.pop(id(before), None)  # (its place is `place`: an item is listed once)
            if left is not None:
                key = left[1]
                bucket = index[key] if key in own else list(index[key])
                del bucket[next(i for i, item in enumerate(bucket) if item is before)]
                if bucket:
                    index[key] = bucket
                    own.add(key)
                else:  # (no key of an empty list: as `_index` leaves none)
                    del index[key]
                    own.discard(key)
            env[var] = after
            if all(test(env) for test in self.tests):
                key = self.item_key(env)
                if type(key) not in _PLAIN or key != key:
                    return None, None
                key = equality_key(key)
                if id(after) in places:
                    return None, None  # listed twice: `_index` decides
                bucket = index[key] if key in own else list(index.get(key, ()))
                at = next((i for i, item in enumerate(bucket) if places[id(item)][0] > place), len(bucket))
                bucket.insert(at, after)
                index[key] = bucket
                own.add(key)
                places[id(after)] = (place, key)
            else:
                self.item_key(env)  # as `_index`: must not raise
        return index, places

    def __call__(self, env: dict):
        found = self._find(env)
        if found is None:
            self.fallbacks += 1
        return found

    def _find(self, env: dict):
        try:
            items = self.source(env)
        except Exception:  # noqa: BLE001 - the scan reports it
            return None
        index = self.index_of(items)
        if index is None:
            return None
        if not items:
            return []
        saved = env.get(self.var, _UNSET)
        try:
            value = self.outer(env)
        except Exception:  # noqa: BLE001
            return None
        finally:
            if saved is _UNSET:
                env.pop(self.var, None)
            else:
                env[self.var] = saved
        if type(value) not in _PLAIN or value != value:
            return None
        return index.get(equality_key(value), _EMPTY)


_UPDATED_FROM = 128  # a list this long keeps its items' places: an index of a copy of it is brought up to date
_UNSET = object()
_EMPTY: list = []
