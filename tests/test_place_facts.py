"""`place` and the third reading's facts (issue 19, item 3): its model counts a vPar's cores and keeps two
guests of one MAC apart, so what it proposes is what `plan` and `check` let through, step by step, with
a site pack reading the new fields (`test_waves_estate_facts.FACTS`), and no migration has to be left
out by the proposal's own check.
"""

from __future__ import annotations

import pytest

from migcheck.core.verdicts import check_verdict
from migcheck.estate.effects import Estate
from migcheck.estate.snapshot import snapshot_from_data
from migcheck.eval.engine import Engine
from migcheck.waves import place
from migcheck.waves.plans import estate_before, plan_from_data, run_plan

from .test_waves_estate_facts import facts_estate, facts_rules, generated  # noqa: F401  (fixtures)


@pytest.mark.parametrize("seed", range(12))
def test_every_proposal_passes_plan_and_check_with_the_new_facts(facts_rules, generated, seed):  # noqa: F811
    data = facts_estate(generated, seed, hosts=5, guests=24)
    snapshot = snapshot_from_data(data)
    vacate = max(snapshot.hosts, key=lambda h: sum(g["host"] == h["name"] for g in snapshot.guests))["name"]
    proposal = place.propose(facts_rules, snapshot, vacate=vacate, time_limit=2)
    assert proposal.status in ("optimal", "feasible") and proposal.note is None
    left_out = [u for u in proposal.unplaced if u["why"].startswith("blocked in the wave")]
    assert left_out == []  # the model counted what the rules count: its check blocked nothing
    if not proposal.stages:
        return
    plan = plan_from_data(proposal.plan_data(), snapshot)
    assert run_plan(facts_rules, snapshot, plan).verdict == "ready"
    for m in plan.migrations:
        estate, migration = estate_before(snapshot, plan, facts_rules, m.step)
        engine = Engine(facts_rules, estate.view(), stop=migration.stop)
        found = engine.check(engine.snapshot.guest_by_name[m.guest], engine.snapshot.host_by_name[m.to], m.mode)
        assert check_verdict(found) == "ready", (m.guest, m.to, [r.rule for r in found if r.counts])


def test_vpar_cores_are_a_capacity_of_the_model(facts_rules):  # noqa: F811
    """Two vPars of 6 cores, each ready alone for vsp-b's 8 free cores: the model places one of them there."""
    hosts = [{"name": n, "version": "B.06.10", "processor": "Itanium 9300", "memory_mb": {"total": 262144,
              "free": 131072}, "cpu_cores": 16, "cpu_cores_free": free} for n, free in (("vsp-a", 0), ("vsp-b", 8))]
    guests = [{"name": f"vp{k}", "kind": "vpar", "host": "vsp-a", "state": "on", "memory_mb": 4096, "vcpus": 6}
              for k in (1, 2)]
    snapshot = snapshot_from_data({"snapshot": 1, "hosts": hosts, "guests": guests})
    estate = Estate(snapshot)
    pairs = [("vp1", "vsp-b"), ("vp2", "vsp-b")]
    assert (8, {("vp1", "vsp-b"): 6, ("vp2", "vsp-b"): 6}) in place._capacities(pairs, estate)
    proposal = place.propose(facts_rules, snapshot, vacate="vsp-a", time_limit=2)
    placed = [m["guest"] for s in proposal.stages for m in s]
    assert len(placed) == 1 and proposal.check.verdict == "ready"
    assert [u["guest"] for u in proposal.unplaced] == [{"vp1": "vp2", "vp2": "vp1"}[placed[0]]]
    assert "used up" in proposal.unplaced[0]["why"]


def test_one_mac_per_target(facts_rules):  # noqa: F811
    hosts = [{"name": n, "version": "B.06.10", "processor": "Itanium 9300", "vswitches": ["vs-pub"],
              "memory_mb": {"total": 262144, "free": 131072}} for n in ("vsp-a", "vsp-b")]
    guests = [{"name": f"vm{k}", "kind": "vm", "host": "vsp-a", "state": "off", "memory_mb": 4096, "vcpus": 1,
               "networks": [{"vswitch": "vs-pub", "ip_name": f"vm{k}", "mac": "2a2e5a050aba"}]} for k in (1, 2)]
    snapshot = snapshot_from_data({"snapshot": 1, "hosts": hosts, "guests": guests})
    proposal = place.propose(facts_rules, snapshot, vacate="vsp-a", time_limit=2)
    assert len([m for s in proposal.stages for m in s]) == 1 and proposal.check.verdict == "ready"
    assert [u["why"].startswith("its ready targets (vsp-b) are used up") for u in proposal.unplaced] == [True]


def test_a_guest_not_known_anywhere_is_said_so_and_only_blocking_rules_are_named(tmp_path, run_cli):
    """A guest whose networks were not captured: its pairs are unknown, which `place` called "blocked on every
    candidate target" and named every rule of those cells as blocking, warnings and notes among them."""
    import json

    from .conftest import FIXTURES

    lines = (FIXTURES / "mixed-site-after.yaml").read_text().splitlines(keepends=True)
    for name in ("web01", "sapapp01"):
        at = next(i for i, line in enumerate(lines) if f"name: {name}" in line)
        lines.insert(at + 1, " " * lines[at].index("name") + "unknown: [networks]\n")
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text("".join(lines))
    code, out, err = run_cli("place", snapshot, "--vacate", "vsp-e1", "--format", "json")
    assert code == 1, err
    unplaced = {u["guest"]: u for u in json.loads(out)["placement"]["unplaced"]}
    from migcheck.packs.ruleset import load_rules

    severity = {r.id: r.severity for r in load_rules([]).rules}
    assert unplaced and all(severity[rule] == "error" for u in unplaced.values() for rule in u["blocking"])
    assert unplaced["web01"]["why"].startswith("not known on any candidate target"), unplaced["web01"]


def test_place_to_the_guests_own_vsp_only_says_there_is_no_candidate(run_cli):
    """`--guest web01 --to vsp-e1` (web01 is on vsp-e1) said "blocked on every candidate target", naming no rule."""
    import json

    from .conftest import FIXTURES

    code, out, _ = run_cli("place", FIXTURES / "mixed-site.yaml", "--guest", "web01", "--to", "vsp-e1", "--format",
                           "json")
    (unplaced,) = json.loads(out)["placement"]["unplaced"]
    assert unplaced["why"] == "no candidate target: its own VSP is the only one asked" and unplaced["blocking"] == {}


def test_an_unknown_pair_names_no_blocking_rule(tmp_path, run_cli):
    """The rules of an unknown cell erred (or fail below blocking): they were listed as blocking it."""
    import json

    from .conftest import FIXTURES

    lines = (FIXTURES / "mixed-site-after.yaml").read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "name: web01" in line)
    lines.insert(at + 1, " " * lines[at].index("name") + "unknown: [networks]\n")
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text("".join(lines))
    code, out, _ = run_cli("place", snapshot, "--guest", "web01", "--format", "json")
    (unplaced,) = json.loads(out)["placement"]["unplaced"]
    assert unplaced["why"].startswith("not known on any candidate target") and unplaced["blocking"] == {}, unplaced
