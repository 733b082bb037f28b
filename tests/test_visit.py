"""The one visitor base (engine/lang/visit.py): dispatch by node class through a per-class cache,
`generic_visit` over the children, and every walk over the rule AST built on it."""

from __future__ import annotations

import ast as pyast
from pathlib import Path

import pytest

from migcheck.eval import explain
from migcheck.lang import ast, checker, compiler, parser, unparse, visit
from migcheck.lang.analysis import hoist, joins, reads, sharing
from migcheck.lang.visit import Visitor

ENGINE = Path(__file__).resolve().parent.parent / "engine"
SPAN = ast.Span("t.rules", 1, 1)


def _name(n: str) -> ast.Name:
    return ast.Name(n, SPAN)


class _Names(Visitor):
    def __init__(self):
        self.seen: list = []
        self.generic: list = []

    def visit_Name(self, node, tag=None):
        self.seen.append((node.name, tag))
        return "name"

    def generic_visit(self, node, *args):
        self.generic.append(type(node).__name__)
        return super().generic_visit(node, *args)


class _Checks(Visitor):
    prefix = "check_"

    def check_Name(self, node):
        return "checked " + node.name


def test_a_node_class_goes_to_its_method_with_the_extra_arguments():
    v = _Names()
    assert v.visit(_name("guest"), "x") == "name"
    assert v.seen == [("guest", "x")]
    assert v.generic == []


def test_generic_visit_visits_the_children():
    v = _Names()
    node = ast.Compare("==", _name("a"), ast.Attr(_name("b"), "c", SPAN), SPAN)
    assert v.visit(node) is None
    assert [n for n, _ in v.seen] == ["a", "b"]
    assert v.generic == ["Compare", "Attr"]


def test_none_has_no_children():
    v = _Names()
    assert v.visit(None) is None
    assert v.seen == []


def test_the_method_prefix_is_the_visitor_classes_own():
    assert _Checks().visit(_name("g")) == "checked g"
    assert _Checks().visit(ast.Literal(1, SPAN)) is None  # no check_Literal: generic_visit


def test_the_cache_is_filled_once_per_node_class(monkeypatch):
    calls = []
    real = visit._handler

    def counting(visitor, node_class):
        calls.append((visitor, node_class))
        return real(visitor, node_class)

    class Fresh(_Names):
        pass

    monkeypatch.setattr(visit, "_handler", counting)
    v = Fresh()
    for _ in range(3):
        v.visit(ast.Logic("and", _name("a"), _name("b"), SPAN))
    Fresh().visit(_name("c"))
    assert calls == [(Fresh, ast.Logic), (Fresh, ast.Name)]
    assert Fresh._handlers == {ast.Logic: Fresh.generic_visit, ast.Name: Fresh.visit_Name}
    assert _Checks._handlers is not Fresh._handlers  # each visitor class has its own table


WALKS = [checker.Checker, compiler.Compiler, compiler._Steps, unparse._Text, unparse._Precedence,
         reads._Reads, hoist._FreeNames, joins._Names, sharing._OrderFree, parser._FirstSpan, explain._Explainer]


@pytest.mark.parametrize("walk", WALKS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_walk_is_a_visitor(walk):
    assert issubclass(walk, Visitor)


def _name_dispatch(call: pyast.Call) -> bool:
    """`getattr(self, "prefix" + type(node).__name__)`: a walk dispatching by hand."""
    if not (isinstance(call.func, pyast.Name) and call.func.id == "getattr" and len(call.args) >= 2):
        return False
    key = call.args[1]
    return isinstance(key, pyast.BinOp) and any(
        isinstance(n, pyast.Attribute) and n.attr == "__name__" for n in pyast.walk(key))


def test_no_walk_dispatches_by_hand():
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        if path == ENGINE / "lang" / "visit.py":
            continue  # the one place that does it
        tree = pyast.parse(path.read_text(), str(path))
        found += [f"{path.relative_to(ENGINE)}:{n.lineno}" for n in pyast.walk(tree)
                  if isinstance(n, pyast.Call) and _name_dispatch(n)]
    assert found == []


def test_the_matrix_does_not_walk_the_ast():
    """The analyses sharing needs are made at compile time (lang/analysis/sharing.py), not in the evaluator."""
    tree = pyast.parse((ENGINE / "eval" / "matrix.py").read_text())
    imported = {a.name for n in pyast.walk(tree) if isinstance(n, pyast.ImportFrom) for a in n.names}
    assert "ast" not in imported


EXPRESSIONS = [n for n in ast.Expr.__args__] + [ast.Selection]


@pytest.mark.parametrize("node_class", EXPRESSIONS, ids=lambda c: c.__name__)
def test_every_expression_node_is_checked_compiled_and_unparsed_by_a_method_of_its_own(node_class):
    """A new node (`Conditional`, say) falling to `generic_visit` would be typed `None`, compiled to None
    and shown as `?`: the checker, the compiler and unparse each name every expression node."""
    name = node_class.__name__
    if node_class is not ast.Selection:  # a selection is checked and compiled by the call that holds it
        assert hasattr(checker.Checker, "check_" + name)
        assert hasattr(compiler.Compiler, "compile_" + name)
    assert hasattr(unparse._Text, "visit_" + name)


def test_generic_walks_reach_every_part_of_a_conditional():
    node = parser.parse_expression('if a.x == b then c.y else [d for e in f where g]')
    v = _Names()
    v.visit(node)
    assert [n for n, _ in v.seen] == ["a", "b", "c", "d", "f", "g"]
    names: set = set()
    joins._names(node.test, names)
    assert names == {"a", "b"}
