"""The migrations of a stage run at the same time (issue 21, item 4).

No arrival is credited with what a departure of its own stage frees (memory, a vPar's cores,
DIO functions): the order a stage lists its migrations in does not decide the verdict. What
departures free is free from the next stage on.
"""

from __future__ import annotations

import random

import pytest

from migcheck.estate.effects import Estate
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data
from migcheck.packs.ruleset import load_rules
from migcheck.waves.plans import plan_from_data, run_plan

from .conftest import FIXTURES
from .test_waves_estate_facts import facts_estate

CORES = '''
rule SITE-VPAR-CORES {
  title "A vPar's cores are free on the target"
  severity error
  on migration
  when guest.kind == "vpar" and guest.vcpus != null and target.cpu_cores_free != null
  require guest.vcpus <= target.cpu_cores_free
  message "{guest.name} needs {guest.vcpus} cores; {target.name} has {target.cpu_cores_free} free"
  cite "test"
}

rule SITE-DIO-FREE {
  title "A vPar finds free matching DIO functions on the target"
  severity error
  on migration
  when guest.kind == "vpar"
  for label in distinct(guest.dio.label)
  let need = count(f in guest.dio where f.label == label)
  require count(f in target.dio_functions where f.pool and f.label == label and f.assigned_to == null) >= need
  message "{guest.name} needs {need} free function(s) labeled {label} on {target.name}"
  cite "test"
}
'''


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    pack = tmp_path_factory.mktemp("cores")
    (pack / "cores.rules").write_text(CORES)
    return load_rules([pack])


@pytest.fixture(scope="module")
def generated():
    from bench.generate import generate
    return generate


def _plan(snapshot, *stages):
    return plan_from_data({"plan": 1, "stages": [{"migrations": list(s)} for s in stages]}, snapshot)


def _by_guest(outcome) -> dict:
    return {(m.migration.stage, m.migration.guest): (m.verdict, tuple(m.failing)) for m in outcome.migrations}


# -- the example of the issue --------------------------------------------------------------------------
def test_memory_a_departure_frees_is_not_credited_to_an_arrival_of_its_stage(rules):
    """app01 takes most of vsp-r2's free memory; in stage 2 batch21 leaves vsp-r2 and app02 arrives. Listed
    departure first, app02 was credited with batch21's memory (ready); arrival first, blocked. Now both
    orders block app02 (MEMORY-TARGET), and a stage after the departure gets the memory."""
    rolling = load_snapshot(str(FIXTURES / "rolling-site.yaml"))
    first = [{"guest": "app01", "to": "vsp-r2", "stop": True}]
    leave = {"guest": "batch21", "to": "vsp-r3", "stop": True}
    arrive = {"guest": "app02", "to": "vsp-r2", "stop": True}
    for second in ([leave, arrive], [arrive, leave]):
        outcome = run_plan(rules, rolling, _plan(rolling, first, second))
        verdicts = _by_guest(outcome)
        assert verdicts[(2, "app02")] == ("blocked", ("MEMORY-TARGET",)), second
        assert verdicts[(2, "batch21")][0] == "ready" and outcome.verdict == "blocked"
    later = run_plan(rules, rolling, _plan(rolling, first, [leave], [arrive]))
    assert later.verdict == "ready"
    estate = later.estate
    assert estate.free_memory("vsp-r2") == rolling.host_by_name["vsp-r2"]["memory_mb"]["free"] \
        - later.migrations[0].effect.memory_from_target + later.migrations[1].effect.memory_to_source \
        - later.migrations[2].effect.memory_from_target


def test_cores_a_departing_vpar_frees_wait_for_the_next_stage(rules):
    hosts = [{"name": n, "version": "B.06.10", "processor": "Itanium 9300", "memory_mb": {"total": 65536,
              "free": 65536}, "cpu_cores": 8, "cpu_cores_free": free} for n, free in (("vsp-a", 2), ("vsp-b", 8))]
    guests = [{"name": "big", "kind": "vpar", "host": "vsp-a", "state": "off", "memory_mb": 4096, "vcpus": 6},
              {"name": "new", "kind": "vpar", "host": "vsp-b", "state": "off", "memory_mb": 4096, "vcpus": 4}]
    snapshot = snapshot_from_data({"snapshot": 1, "hosts": hosts, "guests": guests})
    leave, arrive = {"guest": "big", "to": "vsp-b"}, {"guest": "new", "to": "vsp-a"}
    for stage in ([leave, arrive], [arrive, leave]):
        outcome = run_plan(rules, snapshot, _plan(snapshot, stage))
        verdict, failing = _by_guest(outcome)[(1, "new")]
        assert verdict == "blocked" and "SITE-VPAR-CORES" in failing, stage
    outcome = run_plan(rules, snapshot, _plan(snapshot, [leave], [arrive]))
    assert outcome.verdict == "ready" and outcome.estate.free_cores("vsp-a") == 4
    assert outcome.estate.free_cores("vsp-b") == 6  # 8, less big's 6, plus new's 4 back


def test_dio_functions_a_departure_frees_wait_for_the_next_stage(rules):
    """x holds vsp-a's one `lan` function and leaves for vsp-b; the vPar y (it reserves: it needs a free
    function, SITE-DIO-FREE) arrives at vsp-a in the same stage. In either order the function is x's while the
    stage runs: y does not get it free; in the next stage it does."""
    def fn(hwpath, holder=None):
        return {"hwpath": hwpath, "type": "FLA", "pool": True, "label": "lan",
                **({"assigned_to": holder} if holder else {})}
    hosts = [{"name": n, "version": "B.06.10", "processor": "Itanium 9300",
              "memory_mb": {"total": 262144, "free": 131072}, "dio_functions": f}
             for n, f in (("vsp-a", [fn("0/0/1", "x")]), ("vsp-b", [fn("1/0/1")]), ("vsp-c", [fn("2/0/1", "y")]))]
    guests = [{"name": "x", "kind": "vpar", "host": "vsp-a", "state": "on", "memory_mb": 4096, "vcpus": 1,
               "dio": ["0/0/1"]},
              {"name": "y", "kind": "vpar", "host": "vsp-c", "state": "on", "memory_mb": 4096, "vcpus": 1,
               "dio": ["2/0/1"]}]
    snapshot = snapshot_from_data({"snapshot": 1, "hosts": hosts, "guests": guests})
    leave, arrive = {"guest": "x", "to": "vsp-b", "stop": True}, {"guest": "y", "to": "vsp-a", "stop": True}
    for stage in ([leave, arrive], [arrive, leave]):
        outcome = run_plan(rules, snapshot, _plan(snapshot, stage))
        assert outcome.verdict == "blocked", stage
        [y] = [m for m in outcome.migrations if m.migration.guest == "y"]
        assert y.verdict == "blocked" and "SITE-DIO-FREE" in y.failing, stage
    later = run_plan(rules, snapshot, _plan(snapshot, [leave], [arrive]))
    assert later.verdict == "ready"
    assert [(g.hwpath, g.holder) for g in later.migrations[1].effect.given] == [("0/0/1", None)]


def test_an_estate_outside_a_stage_gives_back_at_once():
    """`Estate.migrate` alone (no stage): the source gets its memory back at once, as before."""
    rolling = load_snapshot(str(FIXTURES / "rolling-site.yaml"))
    estate = Estate(rolling)
    before = estate.free_memory("vsp-r2")
    effect = estate.migrate("batch21", "vsp-r3")
    assert effect.memory_to_source > 0 and estate.free_memory("vsp-r2") == before + effect.memory_to_source
    estate.begin_stage()
    r3 = estate.free_memory("vsp-r3")
    effect = estate.migrate("batch21", "vsp-r2")
    assert effect.memory_to_source == 0 and estate.free_memory("vsp-r3") == r3  # held: back when the stage ends
    estate.end_stage()
    assert effect.memory_to_source > 0 and estate.free_memory("vsp-r3") == r3 + effect.memory_to_source


# -- the property --------------------------------------------------------------------------------------
def _stage(data: dict, rng: random.Random) -> list[dict]:
    """Three to seven moves of distinct guests, mostly between three VSPs, so departures and arrivals meet."""
    hosts = [h["name"] for h in data["hosts"]][:3]
    on = [g for g in data["guests"] if g["host"] in hosts]
    moves = []
    for g in rng.sample(on, min(len(on), rng.randint(3, 7))):
        moves.append({"guest": g["name"], "to": rng.choice([h for h in hosts if h != g["host"]]), "stop": True})
    return moves


def _no_macs(data: dict) -> dict:
    for g in data["guests"]:
        for n in g["networks"]:
            n.pop("mac", None)  # which guests are on a VSP changes in listed order: see docs/plans.md
    return data


def test_every_order_of_a_stage_gives_the_same_verdicts(rules, generated):
    """60 random stages (memory, vPar cores, reservations; guests moving between three VSPs, so that
    departures and arrivals meet): every ordering tried (listed, reversed, two shuffles) gives the same
    plan verdict, and each guest the same verdict when no two of the stage's migrations reach one VSP
    (arrivals competing for one VSP's room take it in order: the first may be ready and the second not)."""
    met = 0
    for seed in range(60):
        rng = random.Random(seed)
        data = _no_macs(facts_estate(generated, seed, hosts=4, guests=14))
        snapshot = snapshot_from_data(data)
        stage = _stage(data, rng)
        orders = [stage, stage[::-1], rng.sample(stage, len(stage)), rng.sample(stage, len(stage))]
        outcomes = [run_plan(rules, snapshot, _plan(snapshot, order)) for order in orders]
        assert len({o.verdict for o in outcomes}) == 1, (seed, [o.verdict for o in outcomes])
        targets = [m["to"] for m in stage]
        if len(set(targets)) == len(targets):
            verdicts = [{g: v for (_, g), (v, _) in _by_guest(o).items()} for o in outcomes]
            assert all(v == verdicts[0] for v in verdicts), (seed, verdicts)
        sources = {snapshot.guest_by_name[m["guest"]]["host"] for m in stage}
        met += bool(sources & set(targets))
    assert met >= 40  # most stages have a VSP that a guest leaves and another reaches


def test_every_order_of_a_stage_gives_the_same_verdicts_with_dio_functions(rules, generated):
    """The same with DIO functions (labels, pools, functions held on the VSPs the guests leave and reach):
    a departure's functions are free from the next stage on. Every guest runs, so no holder is a stopped
    guest that reserves nothing (a rule may read such a holder's position, which does change in order)."""
    met = 0
    for seed in range(40):
        rng = random.Random(seed)
        data = generated(4, 14, seed, dio_per_host=3)  # few functions: arrivals need the ones departures hold
        for h in data["hosts"]:
            h.update(version="B.06.10", processor="Itanium 9300")
            h["vswitches"] = ["vs-pub", "vs-bkp", "vs-mgmt", "vs-nfs", "vs-dmz"]
            h["memory_mb"]["free"] = h["memory_mb"]["total"]  # memory is not what this test is about
        for g in data["guests"]:
            g["state"] = "on"
            g["kind"] = rng.choice(["vm", "vpar"])  # a vPar reserves: it needs an available function
        snapshot = snapshot_from_data(data)
        stage = _stage(data, rng)
        orders = [stage, stage[::-1], rng.sample(stage, len(stage))]
        outcomes = [run_plan(rules, snapshot, _plan(snapshot, order)) for order in orders]
        assert len({o.verdict for o in outcomes}) == 1, (seed, [o.verdict for o in outcomes])
        targets = [m["to"] for m in stage]
        if len(set(targets)) == len(targets):
            verdicts = [{g: v for (_, g), (v, _) in _by_guest(o).items()} for o in outcomes]
            assert all(v == verdicts[0] for v in verdicts), (seed, verdicts)
        moved = {m["guest"] for m in stage}
        met += any(snapshot.guest_by_name[g]["dio"] for g in moved)
    assert met >= 15  # many stages move a guest with DIO functions
