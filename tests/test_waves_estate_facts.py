"""The estate after each step of a plan carries the third reading's facts (issue 19, item 3).

A vPar's cores are taken from its target's `cpu_cores_free` and given back to its source when
its stage ends; the guests' MACs are on the target after a step and gone from the source;
restricted devices (`restricted_wwids`) stay as the snapshot has them. The property: over
random estates and plans, every step's results are `check`'s on the estate as the earlier
steps leave it, built here by a reference model of its own (a snapshot file rebuilt from
plain data, no `Estate`), with a site pack reading the new fields (the built-in rules for
them are written elsewhere; this pack keeps the test independent of them).
"""

from __future__ import annotations

import copy
import random

import pytest

from migcheck.core.verdicts import check_verdict
from migcheck.estate.capacity import holds_memory, memory_taken_mb
from migcheck.estate.effects import Estate
from migcheck.estate.snapshot import snapshot_from_data
from migcheck.eval.engine import Engine
from migcheck.packs.ruleset import load_rules
from migcheck.waves.plans import plan_from_data, run_plan

FACTS = '''
rule SITE-VPAR-CORES {
  title "A vPar's cores are free on the target"
  severity error
  on migration
  when guest.kind == "vpar" and guest.vcpus != null and target.cpu_cores_free != null
  require guest.vcpus <= target.cpu_cores_free
  message "{guest.name} needs {guest.vcpus} cores; {target.name} has {target.cpu_cores_free} free"
  cite "test"
}

rule SITE-VCPUS-CORES {
  title "No more vCPUs than the target has cores"
  severity error
  on migration
  when guest.vcpus != null and target.cpu_cores != null
  require guest.vcpus <= target.cpu_cores
  message "{guest.name} has {guest.vcpus} vCPUs; {target.name} has {target.cpu_cores} cores"
  cite "test"
}

rule SITE-MAC-UNIQUE {
  title "No guest on the target has one of the guest's MACs"
  severity error
  on migration
  let macs = [n.mac for n in guest.networks where n.mac != null]
  let clash = [g.name for g in snapshot.guests where g.host == target.name and g.name != guest.name
                                                 and any(n in g.networks: n.mac != null and n.mac in macs)]
  require count(clash) == 0
  message "{guest.name}'s MACs are used on {target.name} by {clash}"
  cite "test"
}

rule SITE-RESTRICTED {
  title "No device of the guest is restricted on the target"
  severity error
  on migration
  when target.restricted_wwids != null
  let hit = [s.wwid for s in guest.storage where s.wwid != null and s.wwid in target.restricted_wwids]
  require count(hit) == 0
  message "{target.name} restricts {hit}"
  cite "test"
}
'''

WWIDS = [f"0x6005{k:028x}" for k in range(12)]


@pytest.fixture(scope="module")
def facts_rules(tmp_path_factory):
    pack = tmp_path_factory.mktemp("facts")
    (pack / "facts.rules").write_text(FACTS)
    return load_rules([pack])


@pytest.fixture(scope="module")
def generated():
    from bench.generate import generate
    return generate


def facts_estate(generated, seed: int, hosts: int = 5, guests: int = 16) -> dict:
    """A generated estate (no DIO functions) with one release and processor, so that many moves are ready,
    and the new facts: cores and free cores (sometimes not captured), restricted WWIDs, MACs from a small
    pool (some shared), WWIDs on SAN disks, more vPars, reservations either way."""
    rng = random.Random(seed)
    data = generated(hosts, guests, seed, dio_per_host=0)
    for h in data["hosts"]:
        h.update(version="B.06.10", processor="Itanium 9300")
        h["vswitches"] = ["vs-pub", "vs-bkp", "vs-mgmt", "vs-nfs", "vs-dmz"]
        h["memory_mb"]["free"] = rng.randrange(0, h["memory_mb"]["total"] // 2 + 1, 1024)
        if rng.random() < 0.85:
            h["cpu_cores"] = rng.choice([4, 8, 16, 32])
            if rng.random() < 0.85:
                h["cpu_cores_free"] = rng.randint(0, h["cpu_cores"])
        if rng.random() < 0.6:
            h["restricted_wwids"] = rng.sample(WWIDS, rng.randint(0, 3))
    for g in data["guests"]:
        g["kind"] = "vpar" if rng.random() < 0.4 else "vm"
        if rng.random() < 0.5:
            g["resources_reserved"] = rng.random() < 0.5
        if rng.random() < 0.1:
            del g["vcpus"]  # not recorded: unknown
        for n in g["networks"]:
            if rng.random() < 0.8:
                n["mac"] = f"2a2e5a05{rng.randrange(24):04x}"
        for s in g["storage"]:
            if s["backing"] == "disk" and rng.random() < 0.5:
                s["wwid"] = rng.choice(WWIDS)
    return data


def random_plan(data: dict, rng: random.Random) -> dict:
    """Two to four stages of one to five offline moves (the running guests stopped), none to where the guest
    is at that point of the plan."""
    where = {g["name"]: g["host"] for g in data["guests"]}
    hosts = [h["name"] for h in data["hosts"]]
    stages = []
    for _ in range(rng.randint(2, 4)):
        moves = []
        for _ in range(rng.randint(1, 5)):
            guest = rng.choice(data["guests"])["name"]
            target = rng.choice([h for h in hosts if h != where[guest]])
            where[guest] = target
            moves.append({"guest": guest, "to": target, "stop": True})
        stages.append({"migrations": moves})
    return {"plan": 1, "stages": stages}


# -- the reference: the estate after each step, from plain data ------------------------------------
class Reference:
    """What the contract (docs/plans.md) says the estate is after each step, kept as snapshot data."""

    def __init__(self, data: dict, rows):
        self.data = copy.deepcopy(data)
        self.rows = rows
        self.held: list = []

    def host(self, name: str) -> dict:
        return next(h for h in self.data["hosts"] if h["name"] == name)

    def guest(self, name: str) -> dict:
        return next(g for g in self.data["guests"] if g["name"] == name)

    def move(self, name: str, to: str) -> None:
        guest, target = self.guest(name), self.host(to)
        source = guest["host"]
        need = memory_taken_mb(guest, target, self.rows)
        if need is not None:
            target["memory_mb"]["free"] -= min(need, target["memory_mb"]["free"])
        cores = guest.get("vcpus") if guest["kind"] == "vpar" and holds_memory(guest) else 0
        if guest["kind"] == "vpar" and holds_memory(guest) and "cpu_cores_free" in target:
            if cores is None:
                del target["cpu_cores_free"]
            else:
                target["cpu_cores_free"] -= min(cores, target["cpu_cores_free"])
        self.held.append((dict(guest), source))
        guest["host"] = to  # its networks, MACs included, go with it

    def end_stage(self) -> None:
        for guest, source_name in self.held:
            source = self.host(source_name)
            back = memory_taken_mb(guest, source, self.rows)
            if back is not None:
                mem = source["memory_mb"]
                mem["free"] += max(0, min(back, mem["total"] - mem["free"]))
            if guest["kind"] == "vpar" and holds_memory(guest) and "cpu_cores_free" in source:
                cores = guest.get("vcpus")
                if cores is None:
                    del source["cpu_cores_free"]
                else:
                    room = source["cpu_cores"] - source["cpu_cores_free"] if "cpu_cores" in source else cores
                    source["cpu_cores_free"] += max(0, min(cores, room))
        self.held = []


def _texts(results) -> list[tuple]:
    return sorted((r.rule, r.status, r.message) for r in results)


def _steps_against_reference(rules, data: dict, plan_data: dict, seen: dict) -> None:
    snapshot = snapshot_from_data(data)
    plan = plan_from_data(plan_data, snapshot)
    outcome = run_plan(rules, snapshot, plan)
    by_step = {m.migration.step: m for m in outcome.migrations}
    ref = Reference(data, rules.tables.get("memory_overhead"))
    blocked: set[str] = set()
    for stage in plan.stages:
        for m in stage:
            got = by_step[m.step]
            if m.guest in blocked:
                assert got.verdict == "unknown" and got.effect is None
                continue
            now = snapshot_from_data(ref.data)
            engine = Engine(rules, now, stop=m.stop)
            wanted = engine.check(now.guest_by_name[m.guest], now.host_by_name[m.to], m.mode)
            mine = [r for r in outcome.results if r.subject.get("step") == m.step]
            assert _texts(mine) == _texts(wanted), (m.step, m.guest, m.to)
            assert got.verdict == check_verdict(wanted)
            for r in wanted:
                if r.rule.startswith("SITE-"):
                    seen[(r.rule, r.status)] = seen.get((r.rule, r.status), 0) + 1
            if got.verdict == "blocked":
                blocked.add(m.guest)
            else:
                ref.move(m.guest, m.to)
        ref.end_stage()
    after = outcome.estate.to_data()  # and the estate after the plan is the reference's
    for h in ref.data["hosts"]:
        mine = next(x for x in after["hosts"] if x["name"] == h["name"])
        assert (mine["memory_mb"], mine.get("cpu_cores_free"), mine.get("restricted_wwids")) == \
            (h["memory_mb"], h.get("cpu_cores_free"), h.get("restricted_wwids")), h["name"]
    for g in ref.data["guests"]:
        mine = next(x for x in after["guests"] if x["name"] == g["name"])
        assert (mine["host"], [n.get("mac") for n in mine["networks"]]) == \
            (g["host"], [n.get("mac") for n in g["networks"]])


def test_each_step_is_check_on_the_estate_the_earlier_steps_leave(facts_rules, generated):
    """40 random estates and plans: every step's results (rule, status, message) equal `check`'s on the
    reference estate; each new fact's rule both passes and fails somewhere, so the facts are exercised."""
    seen: dict = {}
    for seed in range(40):
        data = facts_estate(generated, seed)
        _steps_against_reference(facts_rules, data, random_plan(data, random.Random(1000 + seed)), seen)
    for rule in ("SITE-VPAR-CORES", "SITE-MAC-UNIQUE", "SITE-RESTRICTED", "SITE-VCPUS-CORES"):
        assert seen.get((rule, "pass"), 0) >= 5 and seen.get((rule, "fail"), 0) >= 3, (rule, seen)


# -- the facts, one at a time -----------------------------------------------------------------------
def _two_vsps(**source_more) -> dict:
    hosts = [{"name": n, "version": "B.06.10", "processor": "Itanium 9300", "vswitches": ["vs-pub"],
              "memory_mb": {"total": 262144, "free": 131072}, "cpu_cores": 16, "cpu_cores_free": free}
             for n, free in (("vsp-a", 4), ("vsp-b", 10))]
    hosts[0].update(source_more)
    guests = [{"name": "vp1", "kind": "vpar", "host": "vsp-a", "state": "off", "memory_mb": 8192, "vcpus": 6,
               "networks": [{"vswitch": "vs-pub", "ip_name": "vp1", "mac": "2a2e5a050aba"}]},
              {"name": "vp2", "kind": "vpar", "host": "vsp-a", "state": "off", "memory_mb": 8192, "vcpus": 6,
               "networks": [{"vswitch": "vs-pub", "ip_name": "vp2", "mac": "2a2e5a050abb"}]},
              {"name": "vm1", "kind": "vm", "host": "vsp-b", "state": "on", "memory_mb": 8192, "vcpus": 4,
               "networks": [{"vswitch": "vs-pub", "ip_name": "vm1", "mac": "2a2e5a050aba"}]}]
    return {"snapshot": 1, "hosts": hosts, "guests": guests}


def test_a_vpars_cores_go_with_it_and_come_back_when_its_stage_ends():
    snapshot = snapshot_from_data(_two_vsps())
    estate = Estate(snapshot)
    assert estate.cores_taken("vp1") == (True, 6) and estate.cores_taken("vm1") == (False, None)
    estate.begin_stage()
    effect = estate.migrate("vp1", "vsp-b")
    assert estate.free_cores("vsp-b") == 4 and estate.free_cores("vsp-a") == 4  # given back when the stage ends
    estate.end_stage()
    assert estate.free_cores("vsp-a") == 10 and effect.cores_from_target == 6 and effect.cores_to_source == 6
    assert "cores" not in effect.to_json()  # the report schema's effect has no place for them yet
    estate.migrate("vm1", "vsp-a")  # a VM's vCPUs are not dedicated
    assert estate.free_cores("vsp-a") == 10 and estate.free_cores("vsp-b") == 4
    assert Estate(snapshot).migrate("vm1", "vsp-a").cores_from_target is None


def test_a_vpar_of_unrecorded_cores_leaves_the_counts_unknown_not_unchanged():
    data = _two_vsps()
    del data["guests"][0]["vcpus"]
    estate = Estate(snapshot_from_data(data))
    assert estate.cores_taken("vp1") == (True, None)
    estate.migrate("vp1", "vsp-b")
    assert estate.free_cores("vsp-b") is None and estate.free_cores("vsp-a") is None
    assert "cpu_cores_free" not in estate.raw_host("vsp-b")
    snapshot_from_data(estate.to_data())  # still a valid snapshot: absent is unknown


def test_a_vpar_neither_running_nor_reserving_takes_no_cores():
    data = _two_vsps()
    data["guests"][0]["resources_reserved"] = False
    estate = Estate(snapshot_from_data(data))
    assert estate.cores_taken("vp1") == (False, None)
    estate.migrate("vp1", "vsp-b")
    assert estate.free_cores("vsp-b") == 10 and estate.free_cores("vsp-a") == 4


def test_cores_given_back_stop_at_the_sources_cores():
    data = _two_vsps()
    data["hosts"][0]["cpu_cores_free"] = 14  # 16 cores: only 2 can come back
    estate = Estate(snapshot_from_data(data))
    assert estate.migrate("vp1", "vsp-b").cores_to_source == 2 and estate.free_cores("vsp-a") == 16


def test_macs_follow_their_guest_and_restricted_devices_stay(facts_rules):
    """vp1 shares vm1's MAC: blocked on vsp-b while vm1 is there; once vm1 has left for vsp-c (an earlier
    stage), ready, and the MAC is on vsp-b with vp1. Restricted devices are as the snapshot has them."""
    data = _two_vsps(restricted_wwids=["0x60050000"])
    data["hosts"].append({"name": "vsp-c", "version": "B.06.10", "processor": "Itanium 9300",
                          "vswitches": ["vs-pub"], "memory_mb": {"total": 65536, "free": 65536}})
    snapshot = snapshot_from_data(data)
    alone = run_plan(facts_rules, snapshot, plan_from_data(
        {"plan": 1, "stages": [{"migrations": [{"guest": "vp1", "to": "vsp-b"}]}]}, snapshot))
    assert alone.migrations[0].verdict == "blocked" and "SITE-MAC-UNIQUE" in alone.migrations[0].failing
    apart = run_plan(facts_rules, snapshot, plan_from_data(
        {"plan": 1, "stages": [{"migrations": [{"guest": "vm1", "to": "vsp-c", "stop": True}]},
                               {"migrations": [{"guest": "vp1", "to": "vsp-b"}]}]}, snapshot))
    assert [m.verdict for m in apart.migrations] == ["ready", "ready"]
    after = apart.estate.to_data()
    assert [h.get("restricted_wwids") for h in after["hosts"]] == [["0x60050000"], None, None]
    macs = {h: sorted(n["mac"] for g in after["guests"] if g["host"] == h for n in g["networks"])
            for h in ("vsp-a", "vsp-b", "vsp-c")}
    assert macs == {"vsp-a": ["2a2e5a050abb"], "vsp-b": ["2a2e5a050aba"], "vsp-c": ["2a2e5a050aba"]}


def test_a_plan_moving_a_vpars_cores_reports_valid_json(run_cli, tmp_path):
    """`plan --format json` over a snapshot with free cores is a valid report (run_cli checks the schema):
    vp1 and vp2 (6 cores each) to vsp-b (10 free) in one stage: the second finds 4."""
    import json

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "facts.rules").write_text(FACTS)
    data = _two_vsps()
    for g in data["guests"]:
        g["networks"] = []
    snapshot, plan = tmp_path / "estate.json", tmp_path / "wave.json"
    snapshot.write_text(json.dumps(data))
    plan.write_text(json.dumps({"plan": 1, "stages": [{"migrations": [{"guest": "vp1", "to": "vsp-b"},
                                                                       {"guest": "vp2", "to": "vsp-b"}]}]}))
    code, out, _ = run_cli("plan", snapshot, plan, "--rules", pack, "--format", "json")
    moves = json.loads(out)["plan"]["migrations"]
    assert code == 1 and [m["verdict"] for m in moves] == ["ready", "blocked"]
    assert "SITE-VPAR-CORES" in moves[1]["failing"] and "SITE-VPAR-CORES" not in moves[0]["failing"]
