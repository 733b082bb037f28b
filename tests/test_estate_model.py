"""One model of the estate after migrations (issue 18): `Estate(snapshot).migrate()` and `.view()`.

An engine is made for an estate view and evaluates against it alone (its scope is never
patched from outside); two estates of one snapshot, or two states of one estate, do not see
each other's migrations; `place` counts capacities with the functions the effects and the
rules count with, so what it lets a target take is what MEMORY-TARGET and the DIO rules
(PLAN-DIO-SHARED over the effects) decide for the same guests.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest
from ortools.sat.python import cp_model

import migcheck
from migcheck.core.verdicts import check_verdict
from migcheck.estate.capacity import holds_memory
from migcheck.estate.effects import Estate, EstateView
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data
from migcheck.eval.engine import Engine
from migcheck.packs.ruleset import load_rules
from migcheck.waves import place
from migcheck.waves.plans import plan_from_data, run_plan

from .conftest import FIXTURES

MIXED = FIXTURES / "mixed-site.yaml"
ROLLING = FIXTURES / "rolling-site.yaml"

# a site rule reading the scope (`snapshot`): one guest a VSP, so a target holds no guest yet
CROWD = ('rule SITE-CROWD {\n  title "A target holds no guest yet"\n  severity error\n'
         '  on migration\n  require count(g in snapshot.guests where g.host == target.name) == 0\n'
         '  message "{target.name} already holds a guest"\n  cite "site standard"\n}\n')


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def crowd_rules(tmp_path_factory):
    pack = tmp_path_factory.mktemp("crowd")
    (pack / "site.rules").write_text(CROWD)
    return load_rules([pack])


@pytest.fixture(scope="module")
def rolling():
    return load_snapshot(str(ROLLING))


def _status(results, rule: str) -> str:
    [status] = {r.status for r in results if r.rule == rule}
    return status


def _check(rules, estate, guest: str, target: str, stop: bool = True):
    """`check` of one migration on an engine made for `estate`'s view as it stands."""
    view = estate.view() if isinstance(estate, Estate) else estate
    engine = Engine(rules, view, stop=stop)
    return engine.check(engine.snapshot.guest_by_name[guest], engine.snapshot.host_by_name[target], "offline")


# -- an engine is made for one view ---------------------------------------------------------------
def test_an_engines_scope_cannot_be_patched_from_outside(rules, rolling):
    engine = Engine(rules, Estate(rolling).view())
    scope = engine.scope
    with pytest.raises(AttributeError):
        engine.scope = rolling.as_scope()
    with pytest.raises(AttributeError):
        engine.snapshot = rolling
    assert engine.scope is scope and engine.snapshot.guests == rolling.guests


def test_nothing_assigns_an_engines_scope():
    """No module sets `X.scope` on an object but its own (`self`): plan and place patched `engine.scope`
    before each check; an engine now takes its scope from the view it is made for."""
    patched = []
    package = Path(migcheck.__file__).parent
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr == "scope" \
                        and not (isinstance(t.value, ast.Name) and t.value.id == "self"):
                    patched.append(f"{path.relative_to(package)}:{node.lineno}")
    assert patched == []


def test_a_view_is_the_estate_as_it_stood(crowd_rules, rolling):
    """An engine made for a view keeps evaluating that state of the estate (its hosts, guests and the scope
    rules read as `snapshot`) after later migrations; an engine for a later view sees them."""
    estate = Estate(rolling, crowd_rules.tables.get("memory_overhead"))
    before = estate.view()
    engine = Engine(crowd_rules, before, stop=True)
    first = _check(crowd_rules, before, "web12", "vsp-r3")
    assert _status(first, "SITE-CROWD") == "pass"
    estate.migrate("web11", "vsp-r3")
    again = engine.check(engine.snapshot.guest_by_name["web12"], engine.snapshot.host_by_name["vsp-r3"], "offline")
    assert [(r.rule, r.status) for r in again] == [(r.rule, r.status) for r in first]
    assert before.snapshot.guest_by_name["web11"]["host"] == "vsp-r1"
    assert [g["host"] for g in before.scope["guests"] if g["name"] == "web11"] == ["vsp-r1"]
    after = _check(crowd_rules, estate, "web12", "vsp-r3")
    assert _status(after, "SITE-CROWD") == "fail"
    assert estate.view().snapshot.guest_by_name["web11"]["host"] == "vsp-r3"
    assert rolling.guest_by_name["web11"]["host"] == "vsp-r1"  # the loaded snapshot is never changed


def test_two_estates_of_one_snapshot_do_not_see_each_others_migrations(rules, rolling):
    one, two = Estate(rolling), Estate(rolling)
    effect = one.migrate("app01", "vsp-r2")
    assert effect.memory_from_target > 0
    mine, other = one.view(), two.view()
    assert mine.snapshot.guest_by_name["app01"]["host"] == "vsp-r2"
    assert other.snapshot.guest_by_name["app01"]["host"] == "vsp-r1"
    assert other.snapshot.host_by_name["vsp-r2"]["memory_mb"] == rolling.host_by_name["vsp-r2"]["memory_mb"]
    assert [g["host"] for g in other.scope["guests"]] == [g["host"] for g in rolling.guests]
    # app02 fits vsp-r2 as the snapshot has it, not once app01 took its memory there
    assert check_verdict(_check(rules, two, "app02", "vsp-r2")) == "ready"
    assert _status(_check(rules, one, "app02", "vsp-r2"), "MEMORY-TARGET") == "fail"
    assert check_verdict(_check(rules, two, "app02", "vsp-r2")) == "ready"


def test_a_selection_view_walks_the_selection_and_scopes_the_whole_estate(rolling):
    estate = Estate(rolling)
    view = estate.view(guests=["web12"], hosts=["vsp-r3", "vsp-r1"])
    assert [g["name"] for g in view.snapshot.guests] == ["web12"]
    assert [h["name"] for h in view.snapshot.hosts] == ["vsp-r3", "vsp-r1"]
    assert view.scope["guests"] == rolling.guests and view.scope["hosts"] == rolling.hosts
    assert EstateView.of(rolling).scope == view.scope


def test_each_migration_of_a_plan_reads_the_estate_it_finds(crowd_rules, rolling):
    """`plan` checks each migration on an engine for the estate as it then stands: a rule reading
    `snapshot` sees the earlier migrations of the plan (and of its own stage). (The estate's lists were
    changed in place and the selection's lookup index, kept per list, still had web11 on vsp-r1:
    both migrations were ready, exit 0.)"""
    data = {"plan": 1, "stages": [{"migrations": [{"guest": "web11", "to": "vsp-r3", "stop": True},
                                                   {"guest": "web12", "to": "vsp-r3", "stop": True}]}]}
    outcome = run_plan(crowd_rules, rolling, plan_from_data(data, rolling))
    assert [m.verdict for m in outcome.migrations] == ["ready", "blocked"]
    assert outcome.migrations[1].failing == ["SITE-CROWD"]


# -- small estates of DIO functions ------------------------------------------------------------------
def _host(name: str, functions: list[dict]) -> dict:
    return {"name": name, "version": "B.06.10", "processor": "Itanium 9300",
            "memory_mb": {"total": 262144, "free": 131072}, "dio_functions": functions}


def _fn(hwpath: str, label: str, pool: bool = True, kind: str = "FLA", holder: str | None = None) -> dict:
    return {"hwpath": hwpath, "type": kind, "pool": pool, "label": label, **({"assigned_to": holder} if holder else {})}


def _guest(name: str, host: str, dio: list[str], **more) -> dict:
    return {"name": name, "kind": "vm", "host": host, "state": "off", "memory_mb": 4096, "dio": dio, **more}


# -- the effects count as the rules read -------------------------------------------------------------
def _duplicated_hwpath() -> dict:
    """A source listing one hwpath twice (an integrity problem `audit` reports on the host): the first
    labeled lan_a, held by g1, the second labeled lan_b; the target has one free pooled lan_a."""
    return {"snapshot": 1, "hosts": [_host("vsp-s", [_fn("0/0/1", "lan_a", holder="g1"), _fn("0/0/1", "lan_b")]),
                                     _host("vsp-t", [_fn("1/0/1", "lan_a")])],
            "guests": [_guest("g1", "vsp-s", ["0/0/1"], networks=[{"dio": "0/0/1", "ip_name": "g1"}])]}


def test_effects_move_the_function_the_rules_read(rules):
    """Of a hwpath listed twice on the source, the DIO rules read the first (the resolved `guest.dio`); the
    effects and `place` count and move that one (they took the last: a lan_b the target lacks, and left
    the source's function assigned to the guest that had gone)."""
    snapshot = snapshot_from_data(_duplicated_hwpath())
    assert [f["label"] for f in snapshot.guest_by_name["g1"]["dio"]] == ["lan_a"]
    assert _status(_check(rules, snapshot, "g1", "vsp-t"), "DIO-NO-MATCH") == "pass"
    estate = Estate(snapshot)
    assert estate.dio_needs("g1") == {"lan_a": 1}
    effect = estate.migrate("g1", "vsp-t")
    assert [(g.hwpath, g.label) for g in effect.given] == [("1/0/1", "lan_a")] and effect.freed == ["0/0/1"]
    assert estate.raw_guest("g1")["networks"] == [{"dio": "1/0/1", "ip_name": "g1"}]  # its interface follows
    after = snapshot_from_data(estate.to_data())
    assert {p.kind for p in after.problems} == {"duplicate-hwpath"}  # no function left held by a guest gone


# -- place's capacities are the estate model's ------------------------------------------------------
def _admits(estate: Estate, pairs: list[tuple[str, str]]) -> bool:
    """Whether place's model lets every pair be placed at once (capacities only: the rules made them ready)."""
    targets = list(dict.fromkeys(t for _, t in pairs))
    model, x, _, _ = place._model(pairs, {p: 0 for p in pairs}, estate, targets)
    for v in x.values():
        model.add(v == 1)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    return solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _rules_decide(rules, snapshot, moves: list[tuple[str, str]]) -> set[str] | None:
    """What the rules decide of these moves in one stage (running guests stopped, the guests taking no
    memory first, as place writes its plan): which of MEMORY-TARGET (a move finds too little memory) and
    PLAN-DIO-SHARED (the effects give one function to two of the moved guests) fail; None when a move
    is blocked by another rule (its effect is unknown)."""
    ordered = sorted(moves, key=lambda m: holds_memory(snapshot.guest_by_name[m[0]]))
    data = {"plan": 1, "stages": [{"migrations": [
        {"guest": g, "to": t, "stop": snapshot.guest_by_name[g]["state"] == "on"} for g, t in ordered]}]}
    outcome = run_plan(rules, snapshot, plan_from_data(data, snapshot))
    failing = {rule for m in outcome.migrations for rule in m.failing} | set(outcome.stages[0].failing)
    if any(m.verdict == "blocked" and m.failing != ["MEMORY-TARGET"] for m in outcome.migrations):
        return None
    return failing & {"MEMORY-TARGET", "PLAN-DIO-SHARED"}


def _estates(generated):
    yield "mixed-site", load_snapshot(str(MIXED))
    yield "rolling-site", load_snapshot(str(ROLLING))
    yield "ivm4-small", load_snapshot(str(FIXTURES / "ivm4-small.yaml"))
    for seed in (1, 4):
        for tight in (False, True):
            data = generated(6, 30, seed=seed)
            if tight:  # little free memory: two guests overfill a target
                for h in data["hosts"]:
                    h["memory_mb"]["free"] = min(h["memory_mb"]["free"], h["memory_mb"]["total"] // 8)
            yield f"generated {seed}{' tight' if tight else ''}", snapshot_from_data(data)
    yield "few DIO functions", snapshot_from_data(_few_dio_functions())


def _few_dio_functions() -> dict:
    """Guests of two VSPs with one or two labeled functions, and targets with few free pooled functions of
    each label (and unpooled ones beside them): two guests often use a label up."""
    wanted = {"g0": ["lan_a"], "g1": ["lan_a", "lan_b"], "g2": ["lan_b"], "g3": ["lan_a", "lan_a"], "g4": ["lan_b"],
              "g5": ["lan_a"], "g6": ["lan_b", "lan_b"], "g7": ["lan_a", "lan_b"]}
    sources = {"vsp-s0": [], "vsp-s1": []}
    guests = []
    for i, (name, labels) in enumerate(wanted.items()):
        source = f"vsp-s{i % 2}"
        paths = [f"{i}/0/{k}" for k in range(len(labels))]
        kind = "DLA" if i % 3 else "FLA"
        sources[source] += [_fn(p, label, kind=kind, holder=name) for p, label in zip(paths, labels)]
        guests.append(_guest(name, source, paths))
    unpooled = [_fn("9/0/1", "lan_a", pool=False), _fn("9/0/2", "lan_a", pool=False)]
    targets = [_host("vsp-t0", [_fn("9/0/0", "lan_a"), *unpooled, _fn("9/0/3", "lan_b"),
                                _fn("9/0/4", "lan_b", kind="DLA")]),
               _host("vsp-t1", [_fn("9/1/0", "lan_a"), _fn("9/1/1", "lan_a", kind="DLA"), _fn("9/1/2", "lan_b"),
                                _fn("9/1/3", "lan_b", pool=False)]),
               _host("vsp-t2", [_fn("9/2/0", "lan_a"), _fn("9/2/1", "lan_a"), _fn("9/2/2", "lan_a", kind="DLA")])]
    return {"snapshot": 1, "hosts": [_host(n, f) for n, f in sources.items()] + targets, "guests": guests}


@pytest.fixture(scope="module")
def generated():
    from bench.generate import generate
    return generate


def test_place_lets_a_target_take_what_the_rules_let_it_take(rules, generated):
    """For each target and guests ready there alone (the matrix place builds), alone and two at a time: the
    model admits them together exactly when the plan of those moves, checked by the rules over the
    effects, finds the target's memory (MEMORY-TARGET) and its free DIO functions (PLAN-DIO-SHARED) enough.
    Labels with functions already held on the target are left out: place lets the wave share those."""
    seen = {"fits": 0, "MEMORY-TARGET": 0, "PLAN-DIO-SHARED": 0}
    for name, snapshot in _estates(generated):
        estate = Estate(snapshot, rules.tables.get("memory_overhead"))
        cells = place._cells(rules, snapshot, place.select_guests(snapshot, None, None),
                             place.select_targets(snapshot, None, None), "offline", None)
        ready: dict[str, list[str]] = {}
        for c in cells:
            if c.verdict == "ready" and "DIO-IN-USE" not in c.failing:
                ready.setdefault(c.target, []).append(c.guest)
        for target, guests in ready.items():
            for guest in guests:
                assert _admits(estate, [(guest, target)]), (name, guest, target)
            for pair in itertools.combinations(guests[:8], 2):
                moves = [(g, target) for g in pair]
                failing = _rules_decide(rules, snapshot, moves)
                if failing is not None:
                    assert _admits(estate, moves) == (not failing), (name, moves, failing)
                    for why in failing or ["fits"]:
                        seen[why] += 1
    assert seen["fits"] > 100 and seen["MEMORY-TARGET"] > 10 and seen["PLAN-DIO-SHARED"] >= 3, seen


def test_place_counts_dio_functions_as_the_effects_give_them(rules):
    """Two guests of a wave that need vsp-e2's one free lan_pub function: the model lets one of them have it,
    and the effects would give the second one the same function (PLAN-DIO-SHARED)."""
    snapshot = load_snapshot(str(MIXED))
    estate = Estate(snapshot, rules.tables.get("memory_overhead"))
    assert estate.dio_room("vsp-e2", "lan_pub") == (1, 1)
    assert estate.dio_needs("apptest03").get("lan_pub") == estate.dio_needs("dbprod01").get("lan_pub") == 1
    moves = [("apptest03", "vsp-e2"), ("dbprod01", "vsp-e2")]
    assert _admits(estate, moves[:1]) and _admits(estate, moves[1:]) and not _admits(estate, moves)
    assert _rules_decide(rules, snapshot, moves) == {"PLAN-DIO-SHARED"}


def test_place_when_a_function_of_the_label_is_held_outside_the_wave(rules):
    """vsp-t has two pooled `lan` functions: one free, one held by x. g1 needs one, g2 two: the effects give
    g1 the free one and g2 x's and g1's (PLAN-DIO-SHARED). The model bounds a label with held functions by
    the free and held ones (it did not bound it: it placed both, and its own check blocked it, exit 3)."""
    source = [_fn("0/0/1", "lan", holder="g1"), _fn("0/0/2", "lan", holder="g2"), _fn("0/0/3", "lan", holder="g2")]
    snapshot = snapshot_from_data({
        "snapshot": 1, "hosts": [_host("vsp-s", source), _host("vsp-t", [_fn("1/0/1", "lan"),
                                                                        _fn("1/0/2", "lan", holder="x")])],
        "guests": [_guest("g1", "vsp-s", ["0/0/1"]), _guest("g2", "vsp-s", ["0/0/2", "0/0/3"]),
                   _guest("x", "vsp-t", ["1/0/2"])]})
    moves = [("g1", "vsp-t"), ("g2", "vsp-t")]
    assert _rules_decide(rules, snapshot, moves) == {"PLAN-DIO-SHARED"}
    assert not _admits(Estate(snapshot), moves) and _admits(Estate(snapshot), moves[:1])
    assert _admits(Estate(snapshot), moves[1:])
    proposal = place.propose(rules, snapshot, vacate="vsp-s", time_limit=2)
    assert proposal.check.verdict == "ready" and len([m for s in proposal.stages for m in s]) == 1


def test_the_estate_after_a_plan_is_the_estate_model(rules, rolling):
    """`plan --emit-snapshot` writes the estate of the same model: the migrations that happened, applied by
    `Estate.migrate`, and a view of it is what a second plan's engine evaluates against."""
    data = {"plan": 1, "stages": [{"migrations": [{"guest": "web11", "to": "vsp-r3", "stop": True},
                                                   {"guest": "app01", "to": "vsp-r2", "stop": True}]}]}
    outcome = run_plan(rules, rolling, plan_from_data(data, rolling))
    estate = Estate(rolling, rules.tables.get("memory_overhead"))
    for m in outcome.migrations:
        if m.effect is not None:
            assert estate.migrate(m.migration.guest, m.migration.to).to_json() == m.effect.to_json()
    assert outcome.estate.to_data() == estate.to_data()
    after = snapshot_from_data(outcome.estate.to_data())
    assert [(g["name"], g["host"]) for g in after.guests] == \
        [(g["name"], g["host"]) for g in outcome.estate.view().snapshot.guests]
