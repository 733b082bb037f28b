"""Issue 19, item 6: `if C then A else B` and exact decimals in every stage that walks the AST.

The evaluation and diagnostics cases live in tests/lang/*.yaml; here: what each analysis makes of
a conditional (reads, hoisting, key lookups, cost, sharing, unparse), the evaluation budget of the
branch not taken, the one equality of integers, floats and exact numbers (`equal`, `equality_key`,
order) as a property, and the matrix equal to `check` pair by pair for rules that use both.
"""

from __future__ import annotations

import functools
import json
import math
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migcheck.estate.snapshot import snapshot_from_data
from migcheck.eval.engine import Engine
from migcheck.lang import ast
from migcheck.lang.analysis import hoist, joins
from migcheck.lang.analysis.cost import cost_warnings
from migcheck.lang.builtins import equal, equality_key, order_key, order_pair, render
from migcheck.lang.parser import parse, parse_expression
from migcheck.lang.unparse import to_text
from migcheck.packs.ruleset import load_rules

from .conftest import site_pack, small_estate
from .test_differential import assert_matrix_equals_check


def _rule(rule_id: str, on: str, body: str, message: str = "m") -> str:
    return (f'rule {rule_id} {{\n  title "t"\n  severity error\n  on {on}\n  cite "c"\n{body}'
            f'  message {json.dumps(message)}\n}}\n')


def _ruleset(tmp_path, *rules: str):
    return load_rules([site_pack(tmp_path, "".join(rules))], builtin=False)


# -- the AST and its walks ------------------------------------------------------------------------
def test_a_conditional_is_one_node_whose_children_are_its_three_parts():
    node = parse_expression('if guest.kind == "vm" then guest.vcpus else 1')
    assert isinstance(node, ast.Conditional)
    assert ast.children(node) == (node.test, node.then, node.otherwise)
    assert {ast.dotted(n) for n in ast.walk(node)} >= {"guest.kind", "guest.vcpus"}
    assert (node.span.line, node.span.col) == (1, 1)


@pytest.mark.parametrize("text", [
    'if a then 1 else 2 + 3', '(if a then 1 else 2) + 3', 'x * 0.4% + 64', 'a and (if b then c else d)',
    'f(if a then b else c, 2.50)', '-(if a then 1 else 2)', 'if if a then b else c then 1 else 2',
    'if a then if b then 1 else 2 else 3', '[x for x in (if a then xs else ys) where x > 0.5%]', '10 % 3'])
def test_unparse_gives_text_that_parses_to_the_same_tree(text):
    node = parse_expression(text)
    again = parse_expression(to_text(node))
    assert _shape(again) == _shape(node)
    assert to_text(again) == to_text(node)


def _shape(node):
    """A node without spans: the tree unparse must keep."""
    if isinstance(node, ast.Literal):
        return ("Literal", type(node.value), node.value)
    if isinstance(node, (str, type(None))):
        return node
    return (type(node).__name__, getattr(node, "op", None), getattr(node, "name", None),
            getattr(node, "field", None), getattr(node, "func", None), getattr(node, "var", None),
            tuple(_shape(c) for c in ast.children(node)))


def test_numbers_keep_their_text_and_read_as_exact_numbers():
    assert parse_expression("0.4%").value == Fraction(4, 1000)
    assert parse_expression("0.004").value == Fraction(4, 1000)
    assert parse_expression("2.50").value == Fraction(5, 2)
    assert parse_expression("-0.5").value == Fraction(-1, 2)
    assert to_text(parse_expression("x * 0.4%")) == "x * 0.4%"
    assert to_text(ast.Literal(Fraction(1, 250), None)) == "0.004"  # a literal made without text
    # `%` right before an operand is the remainder operator, as before
    assert isinstance(parse_expression("10%3"), ast.Arith) and isinstance(parse_expression("10%(3)"), ast.Arith)
    assert isinstance(parse_expression("10% and x"), ast.Logic)


def test_the_reads_of_a_conditional_are_those_of_its_three_parts(tmp_path):
    ruleset = _ruleset(tmp_path, _rule("SITE-IF", "migration",
                                       '  require if guest.kind == "vm" then target.memory_mb.free > 1 '
                                       'else source.version == "6.1"\n'))
    reads = ruleset.by_id("SITE-IF").reads
    assert reads == {("guest", "kind"), ("target", "memory_mb", "free"), ("source", "version")}


def test_a_let_of_a_conditional_over_lists_reads_both_lists(tmp_path):
    ruleset = _ruleset(tmp_path, _rule("SITE-IF", "migration",
                                       '  for s in (if mode == "online" then guest.storage.path else guest.networks.ip_name)\n'
                                       '  require s != "x"\n'))
    reads = ruleset.by_id("SITE-IF").reads
    assert reads == {("mode",), ("guest", "storage", "path"), ("guest", "networks", "ip_name")}


def test_a_conditional_over_constants_is_computed_once_per_run():
    node = parse_expression('if mode == "online" then count(g in snapshot.guests where g.memory_mb > 1) else 0')
    assert hoist.worth_hoisting(node)
    assert not hoist.worth_hoisting(parse_expression(
        'if guest.kind == "vm" then count(g in snapshot.guests where g.memory_mb > 1) else 0'))


def test_a_key_lookup_may_take_its_key_from_a_conditional():
    sel = parse_expression('count(f in target.dio_functions where f.pool and '
                           'f.label == (if guest.kind == "vm" then "a" else "b"))').args[0]
    found = joins.plan(sel.var, sel.source, sel.cond)
    assert found is not None and isinstance(found[1], ast.Conditional)


def test_a_loop_over_every_guest_in_a_branch_is_a_cost_warning():
    text = _rule("SITE-IF", "guest", '  let n = if mode == "online" then count(g in snapshot.guests where '
                                     'g.memory_mb > guest.memory_mb) else 0\n  require n >= 0\n')
    (rules, _), = [parse(text, "site.rules")]
    assert [d.code for d in cost_warnings(rules.rules[0])] == ["all-guests"]


# -- evaluation ----------------------------------------------------------------------------------
_ESTATE = small_estate([{"name": "h1"}, {"name": "h2"}],
                       [{"name": "vm1", "host": "h1", "kind": "vm", "vcpus": 2},
                        {"name": "vp1", "host": "h1", "kind": "vpar"}])


def test_the_branch_not_taken_costs_no_steps(tmp_path):
    """Budget steps are counted by the items a loop goes through: a branch not evaluated goes through none."""
    def body(who):
        return (f'  let n = if guest.name == "{who}" then count(x in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] where x > 0) '
                "else 0\n  require n >= 0\n")
    ruleset = _ruleset(tmp_path, _rule("SITE-NOBODY", "guest", body("nobody")), _rule("SITE-VM", "guest", body("vm1")))
    results = Engine(ruleset, snapshot_from_data(json.loads(json.dumps(_ESTATE)))).audit()
    assert {r.status for r in results if r.rule.startswith("SITE")} == {"pass"}
    assert ruleset.by_id("SITE-NOBODY").budget.most == 0
    assert ruleset.by_id("SITE-VM").budget.most == 10


def test_an_exact_key_is_looked_up_not_scanned(tmp_path):
    """`g.attrs.share == want` with `want` exact (3/2) and the snapshot's 1.5 a float: one index key."""
    body = "  let want = 3 / 2\n  require count(g in snapshot.guests where g.attrs.share == want) == 2\n"
    ruleset = _ruleset(tmp_path, _rule("SITE-KEY", "snapshot", body))
    data = small_estate([{"name": "h1"}], [{"name": f"g{i}", "host": "h1", "attrs": {"share": share}}
                                           for i, share in enumerate([1.5, 2, 1.5, 0.15])])
    results = Engine(ruleset, snapshot_from_data(data)).audit()
    assert [r.status for r in results if r.rule == "SITE-KEY"] == ["pass"]
    (lookup, _), = ruleset.by_id("SITE-KEY").lookups
    assert lookup.fallbacks == 0 and lookup.indexes


# -- one equality for integers, floats and exact numbers ----------------------------------------------
_NUMBERS = st.one_of(
    st.integers(-10**20, 10**20),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**6, max_value=10**6).map(
        lambda d: Fraction(d)),
    st.sampled_from([0.1, Fraction(1, 10), 2.0, 2, Fraction(2), 1.5, Fraction(3, 2), -0.0, 0, 2.0**60, 2**60,
                     Fraction(2**60), 1e22, 10**22, Fraction(1, 3)]))


@settings(max_examples=400, deadline=None)
@given(_NUMBERS, _NUMBERS)
def test_keys_equal_exactly_when_values_are_equal_and_the_order_agrees(a, b):
    same = equal(a, b)
    assert same == (equality_key(a) == equality_key(b))
    if same:
        assert hash(equality_key(a)) == hash(equality_key(b))
    x, y = order_pair(a, b)
    assert (x == y) == same and (x < y) == (not same and not (y < x))
    assert equal(a, b) == equal(b, a)
    key = order_key([a, b])
    ordered = sorted([a, b], key=key)
    first, second = order_pair(*ordered)
    assert first <= second


def test_floats_beside_exact_numbers_read_as_written():
    assert equal(0.1, Fraction(1, 10)) and not equal(0.1, Fraction(1, 10) + Fraction(1, 10**20))
    assert equal(2.0, 2) and equal(Fraction(2), 2.0) and not equal(True, Fraction(1))
    assert equal(float(2**60), 2**60) and not equal(float(2**60), 2**60 + 1)  # an integral float: its integer
    assert equal(math.inf, math.inf) and not equal(Fraction(10**400), math.inf)


@pytest.mark.parametrize("value, text", [
    (Fraction(1, 250), "0.004"), (Fraction(3, 2), "1.5"), (Fraction(4, 2), "2"), (Fraction(-1, 8), "-0.125"),
    (Fraction(1, 3), "0.3333333333333333"), (Fraction(768), "768"), (Fraction(1, 10**20), "1e-20"), (1.5, "1.5"),
    (2.0, "2")])
def test_exact_numbers_render_as_decimals(value, text):
    assert render(value) == text


# -- the matrix equals `check` pair by pair for rules using both ---------------------------------------
_MIXED = [1, 1.0, 1.5, 0.5, True, "1", None, 2]
_CONDITIONAL_RULES = [
    # what only the branch after `else` reads: the matrix must class guests and targets by it too
    _rule("SITE-IF-ELSE", "migration",
          '  require if guest.kind == "vm" then true else guest.memory_mb + 64 <= target.memory_mb.free\n',
          "{guest.name} to {target.name}"),
    _rule("SITE-IF-MEMORY", "migration",
          '  let need = if guest.kind == "vm" then round_up(guest.memory_mb * (1 + default(guest.vcpus, 1) * 0.4%), 1)'
          " else guest.memory_mb\n"
          '  require need <= (if version(target.version) >= "6.3" then target.memory_mb.free '
          "else target.memory_mb.free - 64)\n",
          '{guest.name} needs {need} MB on {target.name} ({if guest.kind == "vm" then guest.vcpus else 1} cpus)'),
    _rule("SITE-IF-ATTR", "migration",
          "  require if target.attrs.x == null then guest.attrs.x != 150% else guest.attrs.x == target.attrs.x\n",
          "{guest.attrs.x} against {target.attrs.x}"),
    _rule("SITE-IF-LIST", "migration",
          '  for s in (if guest.kind == "vm" then guest.storage else [])\n'
          "  require if target.attrs.paths == null then true else s.path in target.attrs.paths\n",
          "{s.path} on {target.name}"),
    _rule("SITE-IF-ERROR", "migration",
          "  require (if guest.vcpus == null then 0 else 10 / (guest.vcpus - 2)) >= 0 or target.attrs.x == 1\n",
          "{guest.name} to {target.name}"),
    _rule("SITE-IF-COUNT", "migration",
          '  require if guest.kind == "vm" then count(f in target.attrs.fns where f.k == guest.attrs.x) > 0 else true\n',
          "{guest.attrs.x} on {target.name}"),
]


def _mixed_estate(draw_guests, draw_hosts) -> dict:
    guests = [{"name": f"g{i}", "host": "h0", "kind": kind, "memory_mb": memory,
               "storage": [{"backing": "disk", "path": p} for p in paths],
               "attrs": {"x": _MIXED[x]}, **({"vcpus": vcpus} if vcpus else {})}
              for i, (kind, memory, vcpus, x, paths) in enumerate(draw_guests)]
    hosts = [{"name": "h0"}] + [
        {"name": f"h{j + 1}", "version": version, "memory_mb": {"total": 65536, "free": free},
         "attrs": {k: v for k, v in (("x", _MIXED[x]), ("paths", paths), ("fns", [{"k": _MIXED[f]} for f in fns]))
                   if v is not None}}
        for j, (version, free, x, paths, fns) in enumerate(draw_hosts)]
    return small_estate(hosts, guests)


_PATHS = st.lists(st.sampled_from(["/a", "/b", "/c"]), max_size=2, unique=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["vm", "vpar"]), st.sampled_from([1000, 2048, 4000, 4096]),
                          st.sampled_from([None, 1, 2, 4]), st.integers(0, len(_MIXED) - 1), _PATHS),
                min_size=1, max_size=4),
       st.lists(st.tuples(st.sampled_from(["6.1", "6.3"]), st.sampled_from([4000, 4096, 4160]),
                          st.integers(0, len(_MIXED) - 1), st.one_of(st.none(), _PATHS),
                          st.lists(st.integers(0, len(_MIXED) - 1), max_size=2)),
                min_size=2, max_size=3),
       st.sampled_from(["offline", "online"]))
def test_the_matrix_equals_check_for_rules_with_conditionals_and_decimals(tmp_path_factory, guests, hosts, mode):
    pack = site_pack(tmp_path_factory.mktemp("p"), "".join(_CONDITIONAL_RULES))
    snapshot = snapshot_from_data(_mixed_estate(guests, hosts))
    assert_matrix_equals_check(load_rules([pack], builtin=False), snapshot, mode)


# -- MEMORY-TARGET rewritten with both gives the results it gave with the idioms -------------------------
_MEMORY_WITH_IDIOMS = '''rule SITE-MEMORY-IDIOMS {
  title    "The target has enough free memory for the guest and its memory overhead"
  severity error
  on       migration
  cite     "the text of MEMORY-TARGET before issue 19 (with the per-guest fraction of Integrity VM 4.x since)"
  let      o = first([r for r in data.memory_overhead where within(target.version, r.target_min, r.target_below)])
  let      cpus = default(first([default(guest.vcpus, 1) for k in [guest.kind] where k == "vm"]), 1)
  let      memory = round_up(guest.memory_mb, default(o.granule_mb, 1))
  let      ppm = round_up(default(o.per_cpu_fraction, 0) * 1000000 - 0.5, 1)
  let      guest_ppm = round_up(default(o.per_guest_fraction, 0) * 1000000 - 0.5, 1)
  let      overhead = round_up((cpus * (memory * ppm + default(o.per_cpu_mb, 0) * 1000000)
                                + memory * guest_ppm + default(o.per_guest_mb, 0) * 1000000) / 1000000, 1)
  require  memory + overhead <= target.memory_mb.free
  message  "{guest.name} needs {memory} MB + {overhead} MB overhead = {memory + overhead} MB; {target.name} has "
           "{target.memory_mb.free} MB free (overhead on release {target.version}: "
           "{default(o.formula, \\"none documented\\")}, cpu_count {cpus})"
  fix      "free {memory + overhead - target.memory_mb.free} MB on {target.name} (stop or move a guest there; "
           "`hpvmstatus -s` shows the available memory), or reduce the guest's memory with "
           "`hpvmmodify -P {guest.name} -r <size>`"
}
'''


@functools.cache
def _with_the_builtin_pack(text: str):
    """The built-in pack and a site pack of `text`, loaded once for every example."""
    return load_rules([site_pack(Path(tempfile.mkdtemp()), text)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["vm", "vpar"]), st.integers(1, 70000), st.sampled_from([None, 1, 2, 4, 5, 32])),
                min_size=1, max_size=4),
       st.lists(st.tuples(st.sampled_from(["6.1", "6.1.5", "6.3", "6.3.5", "B.06.20", "4.2.5", "6.4"]),
                          st.integers(0, 80000)), min_size=1, max_size=3))
def test_memory_target_with_if_and_exact_decimals_gives_what_its_idioms_gave(guests, hosts):
    """The built-in MEMORY-TARGET (`if`, the table's exact 0.004) and its text before (a comprehension over
    `[guest.kind]` for the cpu_count, parts per million): the same status, message and fix for every pair.
    HP's own example is among them: 5 vCPUs, 22400 MB on 6.1 is 768 MB of overhead, not 769."""
    ruleset = _with_the_builtin_pack(_MEMORY_WITH_IDIOMS)
    data = small_estate(
        [{"name": "src"}, {"name": "hp61", "version": "6.1", "memory_mb": {"total": 131072, "free": 0}}]
        + [{"name": f"t{j}", "version": version, "memory_mb": {"total": 131072, "free": free}}
           for j, (version, free) in enumerate(hosts)],
        [{"name": "hp", "host": "src", "kind": "vm", "vcpus": 5, "memory_mb": 22400}]
        + [{"name": f"g{i}", "host": "src", "kind": kind, "memory_mb": memory, **({"vcpus": cpus} if cpus else {})}
           for i, (kind, memory, cpus) in enumerate(guests)])
    snapshot = snapshot_from_data(data)
    engine = Engine(ruleset, snapshot)
    for guest in snapshot.guests:
        for target in snapshot.hosts[1:]:
            results = {r.rule: r for r in engine.check(guest, target, "offline")}
            new, old = results["MEMORY-TARGET"], results["SITE-MEMORY-IDIOMS"]
            assert (new.status, new.message, new.fix) == (old.status, old.message, old.fix)
            if (guest["name"], target["name"]) == ("hp", "hp61"):
                assert new.status == "fail" and "needs 22400 MB + 768 MB overhead = 23168 MB" in new.message


def test_explain_shows_a_conditional_as_written_with_its_value(tmp_path, run_cli):
    body = ('  let cpus = if guest.kind == "vm" then default(guest.vcpus, 1) else 1\n'
            "  let share = cpus * 12.5%\n  require share < 0.25\n")
    pack = site_pack(tmp_path, _rule("SITE-IF", "guest", body, "{guest.name}: {share} of a core"))
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(_ESTATE))
    code, out, _ = run_cli("explain", estate, "SITE-IF", "vm1", "--rules", pack)
    assert code == 0
    assert 'let cpus = if guest.kind == "vm" then default(guest.vcpus, 1) else 1  =>  2' in out
    assert "let share = cpus * 12.5%  =>  0.25" in out
    assert "message: vm1: 0.25 of a core" in out and "=> FAIL" in out
    _, out, _ = run_cli("explain", estate, "SITE-IF", "vp1", "--rules", pack)
    assert "else 1  =>  1" in out and "let share = cpus * 12.5%  =>  0.125" in out and "=> pass" in out
