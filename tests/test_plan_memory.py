"""What a plan keeps per migration (issue 21, item 9): the results of one subject of a migration share
one subject (with its stage and step), and the estate lets go of the guests and hosts a migration
replaced once no view holds them, while a view that is still held keeps locating its own."""

from __future__ import annotations

from migcheck.estate.effects import Estate
from migcheck.estate.snapshot import load_snapshot
from migcheck.packs.ruleset import load_rules
from migcheck.waves.plans import plan_from_data, run_plan

from .conftest import FIXTURES


def test_the_results_of_one_subject_of_a_migration_share_its_subject():
    rolling = load_snapshot(str(FIXTURES / "rolling-site.yaml"))
    data = {"plan": 1, "stages": [{"migrations": [{"guest": "app01", "to": "vsp-r2"}]},
                                  {"migrations": [{"guest": "web11", "to": "vsp-r3"}]}]}
    outcome = run_plan(load_rules(), rolling, plan_from_data(data, rolling))
    for step in (1, 2):
        mine = [r for r in outcome.results if r.subject.get("step") == step]
        guest_rules = [r for r in mine if "target" not in r.subject]
        migration_rules = [r for r in mine if "target" in r.subject]
        assert len(guest_rules) > 1 and len(migration_rules) > 1
        for group in (guest_rules, migration_rules):
            assert len({id(r.subject) for r in group}) == 1  # one dict, not one per result
        assert guest_rules[0].subject is not migration_rules[0].subject
        assert migration_rules[0].subject["stage"] == step and migration_rules[0].subject["target"]


def test_an_estate_lets_go_of_what_no_view_holds_and_keeps_what_one_does():
    rolling = load_snapshot(str(FIXTURES / "rolling-site.yaml"))
    estate = Estate(rolling)
    estate.migrate("app01", "vsp-r2")
    held = estate.view()  # held across every move below: its guest and hosts stay located
    app01, r2 = held.snapshot.guest_by_name["app01"], held.snapshot.host_by_name["vsp-r2"]
    where = held.snapshot.locate(app01), held.snapshot.locate(r2)
    assert where[0][1] > 1 and where[1][1] > 1
    for i in range(1500):  # back and forth: each move replaces the guest and both of its VSPs
        estate.view()  # taken and dropped, as `plan` does for each migration
        estate.migrate("app01", "vsp-r1" if i % 2 == 0 else "vsp-r2")
    size = len(rolling.hosts) + len(rolling.guests)
    assert len(estate.snapshot.origin) < size + 1000  # not one entry per replaced object (4,500 of them)
    assert (held.snapshot.locate(app01), held.snapshot.locate(r2)) == where
    now = estate.view().snapshot
    assert now.locate(now.guest_by_name["app01"]) == where[0]
    assert held.snapshot.guest_by_name["app01"]["host"] == "vsp-r2"
