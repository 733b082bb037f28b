"""The matrix's sharing (engine/sharing.py): cells equal `check`, pair by pair, on every fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from migcheck.eval.engine import Engine
from migcheck.core.verdicts import check_verdict
from migcheck.packs.ruleset import load_rules
from migcheck.core.keys import freeze, project
from migcheck.estate.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted(p for p in (ROOT / "fixtures").glob("*.yaml") if p.name.startswith(("mixed", "ivm", "estate")))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("mode", ["offline", "online"])
def test_matrix_cells_equal_check_for_every_pair(fixture, mode):
    ruleset = load_rules([ROOT / "fixtures" / "site-rules"])
    snapshot = load_snapshot(str(fixture))
    engine = Engine(ruleset, snapshot)
    cells, _ = engine.matrix(mode, results=False)
    assert cells, "a fixture without pairs proves nothing"
    pairs = [(g, t) for g in snapshot.guests for t in snapshot.hosts if t["name"] != g["host"]]
    assert len(pairs) == len(cells)  # in order, duplicate names (estate-broken) included
    for (guest, target), cell in zip(pairs, cells):
        results = engine.check(guest, target, mode)
        assert (cell.guest, cell.target) == (guest["name"], target["name"])
        assert cell.verdict == check_verdict(results), (guest["name"], target["name"])
        assert cell.failing == sorted({r.rule for r in results if r.status in ("fail", "error")})


def test_keys_are_typed():
    assert len({freeze(True), freeze(1), freeze(1.0)}) == 3
    assert freeze({"a": 1}) != freeze("a") and freeze([1]) != freeze((int, 1))
    labels = project({"fns": [{"label": "x", "pool": True}, {"label": None}]}, ("fns", "label"))
    assert labels == ("map", ("list", (("map", (str, "x")), ("map", (type(None), None)))))
    assert project({"fns": [1, 2, 3]}, ("fns", "#")) == ("map", ("len", 3))
    assert project({"x": {"a": "v"}}, ("x", "a")) != project({"x": "v"}, ("x", "a"))  # a map and a string differ
    assert project({"x": {"a": 1, "b": 2}}, ("x", "#")) != project({"x": [1, 2]}, ("x", "#"))


def test_restricted_matrix_evaluates_only_its_pairs():
    snapshot = load_snapshot(str(ROOT / "fixtures" / "mixed-site.yaml"))
    engine = Engine(load_rules(), snapshot)
    guest = snapshot.guests[0]
    target = next(h for h in snapshot.hosts if h["name"] != guest["host"])
    cells, _ = engine.matrix("offline", guests=[guest], targets=[target])
    full = {(c.guest, c.target): c for c in engine.matrix("offline")[0]}
    assert cells == [full[(guest["name"], target["name"])]]


# -- coarse classes stay sound: the cases where they must give way -----------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from migcheck.estate.snapshot import snapshot_from_data  # noqa: E402


from .conftest import site_pack as _pack, small_estate as _estate  # noqa: E402


def _assert_cells_equal_check(ruleset, snapshot, mode="offline"):
    engine = Engine(ruleset, snapshot)
    cells, _ = engine.matrix(mode, results=False)
    pairs = [(g, t) for g in snapshot.guests for t in snapshot.hosts if t["name"] != g["host"]]
    assert [(c.guest, c.target) for c in cells] == [(g["name"], t["name"]) for g, t in pairs]
    for (guest, target), cell in zip(pairs, cells):
        results = engine.check(guest, target, mode)
        assert (cell.verdict, cell.failing) == (
            check_verdict(results), sorted({r.rule for r in results if r.status in ("fail", "error")})), cell
    assert cells == Engine(ruleset, snapshot).matrix(mode, results=False, share=False)[0]
    return cells


def test_an_error_that_the_order_decides_makes_guest_classes_ordered(tmp_path):
    """Labels [aa, b] give a failure then an error; [b, aa] stop at the error: blocked vs unknown,
    though the two guests hold the same labels."""
    pack = _pack(tmp_path, 'rule SITE-ORDER {\n  title "t"\n  severity error\n  on migration\n  cite "c"\n'
                 '  for label in distinct(guest.dio.label)\n'
                 '  let n = count(f in guest.dio where f.label == label)\n'
                 '  require 10 / (len(label) - n) > 0 and label != "aa"\n  message "m"\n}\n')
    fns = [{"hwpath": f"0/{i}", "type": "FLA", "pool": True, "label": lab, "assigned_to": g}
           for i, (lab, g) in enumerate([("aa", "x"), ("b", "x"), ("b", "y"), ("aa", "y")])]
    snapshot = snapshot_from_data(_estate(
        [{"name": "h1", "dio_functions": fns}, {"name": "h2"}],
        [{"name": "x", "host": "h1", "dio": ["0/0", "0/1"]}, {"name": "y", "host": "h1", "dio": ["0/2", "0/3"]}]))
    cells = _assert_cells_equal_check(load_rules([pack], builtin=False), snapshot)
    assert [c.verdict for c in cells] == ["blocked", "unknown"]


def test_a_lookup_that_must_scan_makes_target_classes_finer(tmp_path):
    """Targets with equal counts differ when the key cannot be computed: the scan fails on a
    non-empty list only."""
    pack = _pack(tmp_path, 'rule SITE-SCAN {\n  title "t"\n  severity error\n  on migration\n  cite "c"\n'
                 '  require count(f in target.dio_functions where len(f.hwpath) == 1 / (guest.memory_mb - 1024) and f.pool)'
                 ' == 0\n'
                 '  message "m"\n}\n')
    hosts = [{"name": "h0"}, {"name": "empty"},
             {"name": "unpooled", "dio_functions": [{"hwpath": "0/0", "type": "FLA", "pool": False}]},
             {"name": "empty2"}]
    guests = [{"name": "g", "host": "h0", "memory_mb": 1024}, {"name": "k", "host": "h0", "memory_mb": 2048}]
    cells = _assert_cells_equal_check(load_rules([pack], builtin=False), snapshot_from_data(_estate(hosts, guests)))
    assert [(c.guest, c.target, c.verdict) for c in cells][:3] == [
        ("g", "empty", "ready"), ("g", "unpooled", "unknown"), ("g", "empty2", "ready")]


ANCHOR = ROOT / "bench" / "anchor"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=2, max_value=8),
       st.integers(min_value=1, max_value=60))
def test_anchor_policy_cells_equal_its_plain_python(seed, hosts, guests):
    """Counted target classes and multiset guest classes give the anchor's own answers."""
    from bench.anchor import plain
    from bench.anchor.convert import NAMES, to_snapshot
    from bench.anchor.gen import generate
    from migcheck.packs.config import load_config

    config = load_config(str(ANCHOR / "migcheck.yaml"))
    ruleset = load_rules(config.rules, config=config)
    inv = generate(hosts, guests, seed)
    snapshot = snapshot_from_data(to_snapshot(inv))
    ours = {c.guest + "|" + c.target: sorted(NAMES[r] for r in c.failing)
            for c in Engine(ruleset, snapshot).matrix("offline", results=False)[0]}
    assert ours == plain.naive_matrix(inv)


def test_anchor_config_disables_every_builtin_rule():
    from migcheck.packs.config import load_config

    config = load_config(str(ANCHOR / "migcheck.yaml"))
    assert sorted(config.disable) == sorted(load_rules().ids())
    assert sorted(load_rules(config.rules, config=config).ids()) == [
        "ANCHOR-DIO-CAPACITY", "ANCHOR-DIO-LABEL", "ANCHOR-STATE", "ANCHOR-VERSION"]


def test_json_snapshot_located_without_reading_every_position(tmp_path):
    """A guest of a JSON snapshot is located at its opening brace, as the loader's positions say."""
    import json as json_module

    from migcheck.files.document import parse_text
    from migcheck.files.jsonlocate import JsonLocator

    data = load_snapshot(str(ROOT / "fixtures" / "mixed-site.yaml")).doc.data
    for indent in (None, 1, 4):
        text = json_module.dumps(data, indent=indent)
        doc = parse_text(text, "s.json")
        locator = JsonLocator(text)
        for section in ("hosts", "guests"):
            for i in range(len(data[section])):
                assert locator.locate((section, i)) == doc.position((section, i)), (indent, section, i)
        assert locator.locate(("guests", len(data["guests"]))) is None
        assert locator.locate(("nothing", 0)) is None
    snapshot_file = tmp_path / "s.json"
    snapshot_file.write_text(json_module.dumps(data, indent=2))
    snapshot = load_snapshot(str(snapshot_file))
    guest = snapshot.guests[-1]
    where = snapshot.locate(guest)
    assert snapshot.doc._positions is None  # found without the full positions
    assert where == (str(snapshot_file), *snapshot.doc.position(("guests", len(snapshot.guests) - 1)))


# -- reordered lists, reserved names, `1`/`true` mixes (issue 18's differential findings) ---------------
import random  # noqa: E402

from hypothesis import example  # noqa: E402

from migcheck.lang.diagnostics import RuleError  # noqa: E402
from migcheck.core.vocabulary import RESERVED, SCOPES  # noqa: E402

from .test_differential import assert_matrix_equals_check  # noqa: E402

_MIXED = [1, True, 1.0, 0, False, 0.0, "1", None, [1], [True]]  # values `==` and the sharing keys tell apart
_PATHS = ["/ab", "/dev/x", "/dev/y", "/ab/c"]  # `/ab` cannot be tested: 10 / (len - 3)
_SHARING_RULES = {
    "SITE-ANY": ("migration", '  let want = "disk"\n  require not any(s in guest.storage where 10 / (len(s.path) - 3) > 0'
                              ' and s.backing == want)\n', "{guest.name} to {target.name}"),
    "SITE-DISTINCT": ("migration", "  for v in distinct(guest.attrs.l)\n  require v != true and count(guest.storage) >= 0\n",
                      "{v} of {guest.name}"),
    "SITE-COUNT": ("guest", "  require count(x in guest.attrs.l where x == 1) == count(x in guest.attrs.l where x == true)\n",
                   "{guest.attrs.l}"),
    "SITE-ORDER": ("migration", "  require max(guest.attrs.l) != 1 and sorted(guest.attrs.l) != []\n", "{guest.name}"),
    "SITE-IN": ("migration", "  require true in guest.attrs.l or 1.0 in distinct(guest.attrs.l)\n", "{guest.attrs.l}"),
    "SITE-HOISTED": ("migration", "  require count(g in snapshot.guests where true in g.attrs.l)"
                                  " >= count(g in snapshot.guests where 1 in g.attrs.l)\n", "{target.name}"),
    "SITE-KEYS": ("migration", "  let k = first(guest.attrs.l)\n  require k == null or count(f in target.attrs.fns"
                               " where f.k == k) > 0\n", "{k} on {target.name}"),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.lists(st.sampled_from(_PATHS), min_size=1, max_size=3, unique=True),
                          st.lists(st.sampled_from(range(len(_MIXED))), max_size=4)), min_size=1, max_size=3),
       st.lists(st.lists(st.sampled_from(range(len(_MIXED))), max_size=3), min_size=2, max_size=3),
       st.lists(st.sampled_from(sorted(_SHARING_RULES)), min_size=1, max_size=3, unique=True),
       st.sampled_from(["", "stop", "mode", "target", "source", "host", "snapshot", "data", "stage", "guest"]),
       st.integers(0, 2**16))
@example([(["/dev/x", "/ab"], [])], [[], []], ["SITE-ANY"], "", 0)  # the first finding: an order that erred
@example([(["/dev/x"], [0, 1, 3])], [[1], [0]], ["SITE-DISTINCT", "SITE-IN", "SITE-HOISTED"], "", 0)  # 1 and true
@example([(["/dev/x"], [])], [[], []], ["SITE-COUNT"], "stop", 0)  # the second finding: `for stop in [1, true]`
def test_sharing_over_reordered_lists_typed_values_and_reserved_names(tmp_path_factory, guests, hosts, rules, bound,
                                                                      seed):
    """Guests whose lists hold the same items in other orders, values that `==` tells apart (`1`, `true`,
    `1.0`, `[1]`, `[true]`), rules that read them without order, with `distinct`, `max`, `sorted`, `in`,
    a value computed once per run and counted key lookups: the matrix is `check`, pair by pair, texts
    included. A rule binding a reserved name (any subject's) is refused, located."""
    text = "".join(f'rule {rule_id} {{\n  title "t"\n  severity error\n  on {_SHARING_RULES[rule_id][0]}\n  cite "c"\n'
                   f'{_SHARING_RULES[rule_id][1]}  message "{_SHARING_RULES[rule_id][2]}"\n}}\n' for rule_id in rules)
    if bound:
        text += ('rule SITE-BIND {\n  title "t"\n  severity error\n  on guest\n  cite "c"\n'
                 f'  for {bound} in [1, true]\n  require true\n  message "m"\n}}\n')
    pack = _pack(tmp_path_factory.mktemp("p"), text)
    if bound:
        assert bound in RESERVED
        with pytest.raises(RuleError) as refused:
            load_rules([pack], builtin=False)
        codes = [(d.code, d.line, d.col) for d in refused.value.diagnostics]
        line = text.count("\n", 0, text.index(f"  for {bound} in")) + 1
        assert codes == [("shadowed-name" if bound in SCOPES["guest"] else "reserved-name", line, 3)]
        return
    estate_guests = []
    for i, (paths, items) in enumerate(guests):
        shuffled = random.Random(seed + i)
        twins = {"a": (paths, items), "b": (paths[::-1], items[::-1]),  # the same items in other orders
                 "c": (shuffled.sample(paths, len(paths)), shuffled.sample(items, len(items)))}
        for twin, (paths, items) in twins.items():
            estate_guests.append({"name": f"g{i}{twin}", "host": "h0",
                                  "storage": [{"backing": "disk", "path": p} for p in paths],
                                  "attrs": {"l": [_MIXED[k] for k in items]}})
    estate_hosts = [{"name": "h0"}] + [{"name": f"h{j + 1}", "attrs": {"fns": [{"k": _MIXED[k]} for k in fns]}}
                                       for j, fns in enumerate(hosts)]
    snapshot = snapshot_from_data(_estate(estate_hosts, estate_guests))
    cells = assert_matrix_equals_check(load_rules([pack], builtin=False), snapshot)
    if "SITE-KEYS" not in rules:  # (`first` reads an order) the others decide the same whatever the order
        by_twin = {}
        for c in cells:
            by_twin.setdefault((c.guest[:-1], c.target), set()).add((c.verdict, tuple(c.failing)))
        assert all(len(found) == 1 for found in by_twin.values()), by_twin


# -- the third reading's fields and `unknown` (issue 19) ---------------------------------------------
from .conftest import THIRD_READING_RULES  # noqa: E402


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=2, max_value=6),
       st.integers(min_value=1, max_value=40), st.sampled_from(["offline", "online"]))
def test_cells_equal_check_on_generated_estates_with_the_third_readings_fields(tmp_path_factory, seed, hosts, guests,
                                                                               mode):
    """bench/generate.py's `third` estates (cores, vswitch states, WWIDs, NFS, MAC collisions, device kinds,
    guests with `unknown` parts): the built-in pack as it is in the tree plus a site pack reading every
    new field, the matrix shared and not, equal `check` pair by pair."""
    from bench.generate import generate

    pack = _pack(tmp_path_factory.mktemp("third"), THIRD_READING_RULES)
    snapshot = snapshot_from_data(generate(hosts, guests, seed, third=True))
    _assert_cells_equal_check(load_rules([pack]), snapshot, mode)


def test_the_generated_third_reading_estates_hold_what_the_property_needs():
    """The property above sees each new field, both ways: unknown guests, MAC collisions, Down and local
    vswitches, null and attach backings, NFS files; and the cells it compares include unknown ones."""
    from bench.generate import generate

    data = generate(12, 300, seed=3, third=True)
    snapshot = snapshot_from_data(data)
    assert snapshot.problems == []
    guests, hosts = snapshot.guests, snapshot.hosts
    assert any(g["unknown"] for g in guests) and any(not g["unknown"] for g in guests)
    macs = [n["mac"] for g in guests for n in g["networks"] if n["mac"]]
    assert len(set(macs)) < len(macs)
    details = [d for h in hosts for d in h["vswitch_details"] or []]
    assert {d["state"] for d in details} >= {"Up", "Down"} and any(d["pnic"] is None for d in details)
    stores = [(s["device"], s["backing"]) for g in guests for s in g["storage"]]
    assert ("dvd", "null") in stores and any(b == "attach" for _, b in stores)
    assert any(s["nfs"] for g in guests for s in g["storage"]) and any(h["nfs_mounts"] for h in hosts)
    assert {h["cpu_cores"] is None for h in hosts} == {True, False}
    assert generate(12, 300, seed=3, third=True) == data
    plain = generate(12, 300, seed=3)
    assert [g["name"] for g in plain["guests"]] == [g["name"] for g in data["guests"]]
