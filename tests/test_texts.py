"""A matrix's texts, shared by pairs that look alike (engine/texts.py), equal `check`'s pair by pair."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migcheck.eval.engine import Engine, Subject
from migcheck.core.results import sort_results
from migcheck.core.keys import freeze
from migcheck.lang.compiler import name_text
from migcheck.lang.analysis.reads import NAME_HOLES
from migcheck.packs.ruleset import load_rules
from migcheck.report.json_report import result_json
from migcheck.core.results import Text
from migcheck.eval.texts import ClassText
from migcheck.lang.compiler import RuleText
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data
from migcheck.eval.texts import text_paths

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted(p for p in (ROOT / "fixtures").glob("*.yaml") if p.name.startswith(("mixed", "ivm", "estate")))


def _shown(r) -> tuple:
    return (r.rule, r.severity, r.status, dict(r.subject), r.message, r.fix, r.item, r.waiver)


def _json(r) -> str:
    """A result as `json.dumps(indent=2)` writes it inside a report's `results` (the reference)."""
    return textwrap.indent(json.dumps(r.to_json(), indent=2, ensure_ascii=False), "    ")


def fill(pieces: tuple, holes: tuple, names: tuple) -> str:
    """A split text (`CompiledRule.message_split`) with the names (by hole index) in its holes."""
    out = [pieces[0]]
    for hole, piece in zip(holes, pieces[1:]):
        out += [names[hole], piece]
    return "".join(out)


def _assert_streamed_equal_check(engine: Engine, snapshot, mode: str) -> int:
    """Every pair's streamed results (texts shared) are `check`'s problems, text for text and in
    report order, and each one's JSON is the reference's; returns how many were compared."""
    compared = 0
    expected = []  # check's, each guest's own results once (check repeats them for every target)
    for guest in snapshot.guests:
        seen = set()
        for target in snapshot.hosts:
            if target["name"] != guest["host"]:
                for r in engine.check(guest, target, mode):
                    if r.status in ("fail", "error") and ("target" in r.subject or (r.rule, r.item) not in seen):
                        seen.add((r.rule, r.item))
                        expected.append(r)
    streamed = [r for _, results in engine.iter_matrix(mode) for r in results]
    reference = [r for _, results in engine.iter_matrix(mode, share=False) for r in results]
    assert [_shown(r) for r in streamed] == [_shown(r) for r in sort_results(expected)]
    assert [_shown(r) for r in reference] == [_shown(r) for r in streamed]
    for r in [r for _, rs in engine.iter_matrix(mode) for r in rs]:  # fresh: their texts not rendered yet
        assert result_json(r) == _json(r)  # (result_json first: the JSON path, then the text for the reference)
        compared += 1
    return compared


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("mode", ["offline", "online"])
def test_streamed_texts_equal_check_for_every_pair(fixture, mode):
    snapshot = load_snapshot(str(fixture))
    engine = Engine(load_rules([ROOT / "fixtures" / "site-rules"]), snapshot)
    assert _assert_streamed_equal_check(engine, snapshot, mode) > 0 or mode == "online"


def test_the_builtin_rules_share_their_texts():
    """Every built-in migration rule's texts are shared (a rule left pair by pair would be a slow path
    nobody notices), and the rules that name the target only by its name see one class of targets."""
    ruleset = load_rules([])
    migration = [r for r in ruleset.rules if r.subject == "migration"]
    assert migration and all(text_paths(r) is not None for r in migration)
    by_id = {r.id: r for r in migration}
    assert text_paths(by_id["GUEST-RUNNING"])[1] == ()  # {target.name} alone: a hole, not a read
    assert ("memory_mb", "free") in text_paths(by_id["MEMORY-TARGET"])[1]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_split_texts_filled_with_the_names_are_the_texts(fixture):
    """`render(env) == fill(split(env), holes, name texts)` for every built-in rule and pair."""
    snapshot = load_snapshot(str(fixture))
    engine = Engine(load_rules([]), snapshot)
    checked = 0
    for rule in engine.by_subject["migration"]:
        for guest in snapshot.guests[:6]:
            for target in snapshot.hosts:
                subject = Subject("migration", guest=guest, target=target, mode="offline")
                for outcome in engine.outcomes(rule, subject):
                    if outcome.status != "fail":
                        continue
                    env = outcome.env
                    names = tuple(name_text(root, env[root]) for root in NAME_HOLES)
                    assert rule.message(env) == fill(rule.message_split(env), rule.message_holes, names)
                    assert rule.fix(env) == fill(rule.fix_split(env), rule.fix_holes, names)
                    checked += 1
    assert checked


def test_float_keys_tell_minus_zero_from_zero():
    assert freeze(0.0) != freeze(-0.0) and freeze(1.0) != freeze(1) and freeze(True) != freeze(1)


# -- texts that read what the steps do not, names that look like patterns ---------------------
_NAMES = st.text(st.sampled_from('ab{}%s0"\\\n\té→'), min_size=1, max_size=6)
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-1, 1), st.sampled_from([0.0, -0.0, 1.5]),
                    st.sampled_from(["", "x", "{0}", "%s"]), st.lists(st.sampled_from(["a", "b"]), max_size=2),
                    st.lists(st.sampled_from([1, True, 1.0, 0, False]), max_size=3))  # `1`/`true` mixes
_TEMPLATES = [
    "{target.name}", "{guest.name} to {target.name} from {source.name}, again {target.name}",
    "{target.attrs.v} on {target.name}", "{target.attrs} {guest.attrs.v}", "{t}: {target.name}",
    "{count(target.vswitches)} {target.vswitches} {guest.name}", "{[x for x in target.vswitches where x != \"a\"]}",
    "{{literal}} {target.name}{guest.name}{source.name}", "{target.memory_mb.free / 2} {target.attrs.v == guest.attrs.v}",
    "{[v for v in target.vswitches]} {count(target.vswitches)}", '{first(v in target.vswitches where v != "a")}',
    "{distinct([target.attrs.v, guest.attrs.v, true, 1])} on {target.name}", "{sorted(target.vswitches)}",
]


def _rules(tmp_path: Path, require: str, message: str, fix: str) -> Path:
    pack = tmp_path / "site"
    pack.mkdir(exist_ok=True)
    (pack / "site.rules").write_text(
        f'rule SITE-TEXT {{\n  title "t"\n  severity warning\n  on migration\n  cite "c"\n'
        f'  let t = target.attrs.v\n  require {require}\n  message {json.dumps(message)}\n  fix {json.dumps(fix)}\n}}\n'
        'rule SITE-FOR {\n  title "f"\n  severity info\n  on migration\n  cite "c"\n'
        '  for v in target.vswitches where v != "a"\n  require v in guest.attrs.seen\n'
        '  message "{v} of {target.name} for {guest.name}"\n}\n')
    return pack


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_NAMES, _VALUES, st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
                          st.sampled_from([1024, 2048])), min_size=2, max_size=5, unique_by=lambda t: t[0]),
       st.lists(st.tuples(_NAMES, _VALUES), min_size=1, max_size=3, unique_by=lambda t: t[0]),
       st.sampled_from(["false", "target.attrs.v == guest.attrs.v", "count(target.vswitches) > 1", "t != null",
                        '[v for v in target.vswitches] == ["a"]', "1 in distinct([target.attrs.v, guest.attrs.v])",
                        'count(distinct(target.vswitches)) == 2 and "b" in target.vswitches']),
       st.sampled_from(_TEMPLATES), st.sampled_from(_TEMPLATES))
def test_shared_texts_over_free_form_data_equal_check(tmp_path_factory, hosts, guests, require, message, fix):
    """Targets and guests that differ only where a text (not the rule's steps) reads, names with
    braces, quotes, percent signs and newlines, values mixing `1` and `true`, each target beside a twin
    whose lists hold its items in the reverse order: the streamed results are still `check`'s."""
    ruleset = load_rules([_rules(tmp_path_factory.mktemp("p"), require, message, fix)], builtin=False)
    host = {"version": "6.1", "processor": "Itanium 9300"}
    hosts = hosts + [(name + "r", v[::-1] if isinstance(v, list) else v, vs[::-1], free) for name, v, vs, free in hosts]
    data = {"snapshot": 1,
            "hosts": [{"name": name, **host, "memory_mb": {"total": 65536, "free": free}, "vswitches": vs,
                       "attrs": {"v": v}} for name, v, vs, free in hosts],
            "guests": [{"name": name, "kind": "vm", "host": hosts[0][0], "state": "off", "memory_mb": 1024,
                        "attrs": {"v": v, "seen": ["b"]}} for name, v in guests]}
    snapshot = snapshot_from_data(data)
    _assert_streamed_equal_check(Engine(ruleset, snapshot), snapshot, "offline")


def test_streamed_texts_with_waivers_equal_check():
    """Waivers attach to results as they are made, shared texts or not: the same results, waivers included."""
    from migcheck.eval.waivers import load_waivers

    ruleset = load_rules([ROOT / "fixtures" / "site-rules"])
    snapshot = load_snapshot(str(ROOT / "fixtures" / "mixed-site.yaml"))
    waivers = load_waivers(str(ROOT / "fixtures" / "waivers.yaml"), set(ruleset.ids()))
    engine = Engine(ruleset, snapshot, waivers=waivers)
    assert _assert_streamed_equal_check(engine, snapshot, "offline")
    streamed = [r for _, results in engine.iter_matrix("offline") for r in results]
    assert any(r.waiver is not None for r in streamed)  # the fixture waives something in this matrix


# -- what a text reads through a list it filters, maps or renders (found by review) -------------
_REVIEW_HOSTS = [("h1", ["a"], [{"a": 1, "b": 2}]), ("h2", ["b"], [{"a": 1, "b": 3}]), ("h3", ["a", "b"], [])]


@pytest.mark.parametrize("steps, message", [
    ("require false", "{[v for v in target.vswitches]}"),
    ("require false", "{sorted([v for v in target.vswitches])}"),
    ("require false", '{join([v for v in target.vswitches where true], ",")}'),
    ("require false", '{"a" in [v for v in target.vswitches]}'),
    ('let s = join([v for v in target.vswitches], ",")\n  require false', "{s}"),
    ("require false", "{count(x in target.attrs.l where x.a == 1)} {[x for x in target.attrs.l where x.a == 1]}"),
    ("let s = default([x for x in target.attrs.l where x.a == 1], [])\n  require false", "{s}"),
    ("let c = count(x in target.attrs.l where x.a == 1)\n"
     "  for s in default([x for x in target.attrs.l where x.a == 1], [])\n  require c > 5", "m"),
    ("require false", "{first(x in target.attrs.l where x.a == 1)}"),
    ("let l = [x for x in target.attrs.l where x.a == 1]\n  require false", "{l}"),
    ("let l = [x for x in target.attrs.l where x.b == 2]\n  require count(l) == 0", "{count(l)} on {target.name}"),
    ("let l = first(x in target.attrs.l where x.a == 1)\n  require l == null", "{l.b}"),
    ("let l = target.vswitches\n  require count(l) > 1", "{l}"),
    ('require [v for v in target.vswitches] == ["a"]', "{target.name}"),
])
def test_texts_and_items_read_the_items_a_list_passes_on(tmp_path, steps, message):
    """A list of a target's items filtered, sorted or passed on whole reads those items whole, though
    its length and its filter were read before: targets whose items differ are told apart."""
    pack = tmp_path / "site"
    pack.mkdir()
    (pack / "site.rules").write_text(f'rule SITE-L {{\n  title "t"\n  severity warning\n  on migration\n  cite "c"\n'
                                     f'  {steps}\n  message {json.dumps(message)}\n}}\n')
    host = {"version": "6.1", "processor": "Itanium 9300", "memory_mb": {"total": 65536, "free": 65536}}
    data = {"snapshot": 1, "hosts": [{"name": "h0", **host}] + [
        {"name": name, **host, "vswitches": vs, "attrs": {"l": items}} for name, vs, items in _REVIEW_HOSTS],
            "guests": [{"name": "g", "kind": "vm", "host": "h0", "state": "off", "memory_mb": 1024}]}
    snapshot = snapshot_from_data(data)
    engine = Engine(load_rules([pack], builtin=False), snapshot)
    assert _assert_streamed_equal_check(engine, snapshot, "offline")


@pytest.mark.parametrize("share", [True, False])
def test_a_result_s_text_is_one_model(share):
    """Every pending text of a matrix result is a `Text` (a rule's, bound to an outcome's
    environment; or a text class's, bound to a pair's names), its JSON is its plain text escaped,
    and reading the message makes both message and fix at once and lets the binding go."""
    snapshot = load_snapshot(str(FIXTURES[0]))
    engine = Engine(load_rules([ROOT / "fixtures" / "site-rules"]), snapshot)
    kinds = set()
    for mode in ("offline", "online"):
        for _, results in engine.iter_matrix(mode, share=share):
            for r in results:
                if r.status != "fail":
                    continue
                text, binding = r._text, r._binding
                assert isinstance(text, Text)
                kinds.add(type(text))
                plain = text.plain(binding)
                assert text.json(binding) == tuple(json.dumps(t, ensure_ascii=False) for t in plain)
                assert r.json_texts() == text.json(binding)
                assert (r.message, r.fix) == plain and r._text is None and r._binding is None
    # shared: the text classes' (and a rule's own for what is not shared: guest rules, rules that
    # read what a class cannot key); the reference: each rule's own, pair by pair
    assert ClassText in kinds if share else kinds == {RuleText}
