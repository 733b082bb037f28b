"""Waivers at scale (issue 21, item 6): matching indexed by rule id, then guest, gives the first active
matching waiver in file order as the linear scan did, looking at a few waivers per result however many
the file holds; unused waivers are judged from what the run evaluated unless a stale check is asked."""

from __future__ import annotations

import fnmatch
import json
import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from migcheck.core.results import Result
from migcheck.estate.snapshot import load_snapshot
from migcheck.eval import waivers as waivers_mod
from migcheck.eval.engine import Engine
from migcheck.eval.waivers import Waiver, Waivers, notes_for_run
from migcheck.packs.ruleset import load_rules

from .conftest import FIXTURES, ROOT

ROOT_TESTS = ROOT / "rules" / "tests"

TODAY = date(2026, 12, 5)
RULES = ["DIO-IN-USE", "DIO-NO-MATCH", "STORAGE-LOCAL", "VSWITCH-MISSING"]
GUESTS = ["web01", "web02", "db01", "app"]
HOSTS = ["vsp1", "vsp2", "vsp3"]


def _linear(items: list[Waiver], result: Result, today: date) -> Waiver | None:
    """The first active waiver in file order matching `result`: the scan the index replaces."""
    for w in items:
        if w.matches(result) and w.expires >= today:
            return w
    return None


_pattern = st.one_of(st.none(), st.sampled_from(["*", "w*", "db0?", "web01", "app", "[dw]*"]))
_waiver = st.builds(
    lambda rule, guest, host, target, expired: Waiver(rule, "r", "o", date(2020 if expired else 2099, 1, 1),
                                                      guest, host, target),
    st.sampled_from(RULES + ["DIO-*", "*", "STORAGE-?OCAL"]), _pattern,
    st.one_of(st.none(), st.sampled_from(HOSTS + ["vsp*"])), st.one_of(st.none(), st.sampled_from(HOSTS + ["vsp[12]"])),
    st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(_waiver, max_size=25), st.sampled_from(RULES), st.sampled_from(GUESTS + [None]),
       st.sampled_from(HOSTS), st.sampled_from(HOSTS + [None]))
def test_the_index_finds_the_waiver_the_linear_scan_finds(items, rule, guest, host, target):
    subject = {"guest": guest, "source": host, "target": target} if target else {"guest": guest, "host": host}
    result = Result(rule, "error", "fail", {k: v for k, v in subject.items() if v is not None}, "m")
    waivers = Waivers("w.yaml", items, today=TODAY)
    want = _linear(items, result, TODAY)
    waivers.waive(result)
    assert result.waiver == (want.to_json() if want is not None else None)
    assert sum(w.used for w in items) == (1 if want is not None else 0)
    assert waivers.waived_rules(RULES) == {r for r in RULES if any(fnmatch.fnmatchcase(r, w.rule) for w in items)}


def _results(n: int, rng: random.Random) -> list[Result]:
    return [Result(rng.choice(RULES), "error", "fail", {"guest": f"g{rng.randrange(50_000)}", "source": "vsp1",
                                                        "target": "vsp2"}, "m") for _ in range(n)]


def test_twenty_thousand_waivers_cost_what_twenty_do():
    """Each waiver names one rule and one guest (the usual file): a result looks at the waivers of its own
    rule and guest, and at the patterns, whether the file holds 20 waivers or 20,000."""
    rng = random.Random(21)
    examined = {}
    for n in (20, 20_000):
        items = [Waiver(rng.choice(RULES), "r", "o", date(2099, 1, 1), f"g{i}") for i in range(n)]
        items += [Waiver("DIO-*", "r", "o", date(2099, 1, 1), "web*"), Waiver("*", "r", "o", date(2020, 1, 1))]
        waivers = Waivers("w.yaml", items, today=TODAY)
        results = _results(5_000, rng)
        for i, r in enumerate(results):
            waivers.waive(r)
            if i < 100:  # the linear scan is what costs: on a sample
                want = _linear(items, r, TODAY)
                assert r.waiver == (want.to_json() if want is not None else None)
        examined[n] = waivers.examined / len(results)
    assert examined[20_000] <= 3 and examined[20] <= 3, examined


def _mixed():
    snapshot = load_snapshot(str(FIXTURES / "mixed-site.yaml"))
    return snapshot, load_rules()


def _waivers(*items: Waiver) -> Waivers:
    return Waivers("w.yaml", list(items), today=TODAY)


def test_a_rule_pattern_waives_a_matrix_cell_as_the_rule_id_does():
    """The matrix decides pair by pair the rules some waiver names: by id or by pattern alike."""
    snapshot, rules = _mixed()
    cells = {}
    for rule in ("VSWITCH-MISSING", "VSWITCH-*"):
        engine = Engine(rules, snapshot, waivers=_waivers(Waiver(rule, "r", "o", date(2099, 1, 1), "sapapp01")))
        found, results = engine.matrix("offline")
        cells[rule] = {(c.guest, c.target): (c.verdict, c.failing) for c in found}
        waived = [r for r in results if r.waiver and r.subject["guest"] == "sapapp01"]
        assert waived and all(r.rule == "VSWITCH-MISSING" for r in waived)
    assert cells["VSWITCH-*"] == cells["VSWITCH-MISSING"]
    plain = {(c.guest, c.target): (c.verdict, c.failing) for c in Engine(rules, snapshot).matrix("offline")[0]}
    assert cells["VSWITCH-MISSING"] != plain  # the waiver decided some cell


def _checked():
    """Four waivers after an offline check of sapapp01 onto vsp-e2 (which uses the first), and what a
    stale check is given: (waivers, an engine without them, the guest, the target)."""
    snapshot, rules = _mixed()
    guest, target = snapshot.guest_by_name["sapapp01"], snapshot.host_by_name["vsp-e2"]
    waivers = _waivers(Waiver("VSWITCH-MISSING", "r", "o", date(2099, 1, 1), "sapapp01", target="vsp-e2"),
                       Waiver("STORAGE-LOCAL", "r", "o", date(2099, 1, 1), "apptest03"),
                       Waiver("DIO-IN-USE", "r", "o", date(2099, 1, 1), "sapapp01"),
                       Waiver("INV-DUPLICATE-HOST", "r", "o", date(2099, 1, 1)))
    Engine(rules, snapshot, waivers=waivers).check(guest, target, "offline")
    return waivers, Engine(rules, snapshot), guest, target


def _notes(stale_check: bool):
    waivers, plain, guest, target = _checked()
    return {n["rule"]: n for n in notes_for_run(waivers, plain, "check", "offline", stale_check=stale_check,
                                                 guests=[guest], targets=[target])}


def test_without_a_stale_check_unused_waivers_are_judged_from_what_the_run_evaluated(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a run without a stale check evaluates nothing again")

    notes = _notes_patched(monkeypatch, refuse)
    assert set(notes) == {"STORAGE-LOCAL", "DIO-IN-USE", "INV-DUPLICATE-HOST"}  # VSWITCH-MISSING was used
    # another guest's waiver, and a host rule a check does not run: out of scope, not stale
    for rule in ("STORAGE-LOCAL", "INV-DUPLICATE-HOST"):
        assert notes[rule]["status"] == "out-of-scope" and notes[rule]["scope"] == []
        assert "not in scope of this run" in notes[rule]["message"]
    # the pair's own guest and a rule the check ran: it matched nothing there
    assert notes["DIO-IN-USE"]["status"] == "stale"
    assert "matches nothing in this run" in notes["DIO-IN-USE"]["message"]


def _notes_patched(monkeypatch, refuse):
    waivers, plain, guest, target = _checked()
    for name in ("matrix", "audit", "check"):
        monkeypatch.setattr(Engine, name, refuse)
    monkeypatch.setattr(waivers_mod, "findings_across_modes", refuse)
    notes = notes_for_run(waivers, plain, "check", "offline", stale_check=False, guests=[guest], targets=[target])
    monkeypatch.undo()
    return {n["rule"]: n for n in notes}


def test_with_a_stale_check_unused_waivers_are_looked_for_in_every_command():
    notes = _notes(True)
    assert notes["STORAGE-LOCAL"]["status"] == "out-of-scope" and notes["STORAGE-LOCAL"]["scope"] == ["matrix offline"]
    assert notes["DIO-IN-USE"]["status"] == "stale"
    assert "in this snapshot for any command" in notes["DIO-IN-USE"]["message"]
    assert notes["INV-DUPLICATE-HOST"]["status"] == "stale"  # audit finds no duplicate host


def test_a_waiver_of_a_rule_of_the_other_mode_is_out_of_scope_not_stale():
    """DIO-IN-USE applies offline only (its first step is `when mode == "offline"`): an online check never
    evaluates it, so its unused waiver is kept (out of scope), never called stale."""
    snapshot, rules = _mixed()
    guest, target = snapshot.guest_by_name["sapapp01"], snapshot.host_by_name["vsp-e2"]
    waivers = _waivers(Waiver("DIO-IN-USE", "r", "o", date(2099, 1, 1), "sapapp01"))
    Engine(rules, snapshot, waivers=waivers).check(guest, target, "online")
    notes = notes_for_run(waivers, Engine(rules, snapshot), "check", "online", stale_check=False, guests=[guest],
                          targets=[target])
    assert [(n["rule"], n["status"]) for n in notes] == [("DIO-IN-USE", "out-of-scope")]
    assert "not in scope of this run" in notes[0]["message"]


def test_a_selector_the_result_has_no_name_for_does_not_match_it(tmp_path, run_cli):
    """`target: "*"` waives a rule's failures towards any target; the guest's own failure (a guest rule: no
    target) stays, as a waiver naming a host or guest no result of its has: it hid DIO-UNLABELED (the move
    then READY with a waiver the file never meant for it)."""
    estate = ROOT_TESTS / "snapshots" / "estate.yaml"
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: \"*\"\n    guest: gunl\n    target: \"*\"\n    reason: r\n    owner: o\n"
                       "    expires: 2099-01-01\n")
    code, out, err = run_cli("check", estate, "gunl", "h35", "--waivers", waivers, "--format", "json")
    assert code == 1, out + err
    found = {r["rule"]: r for r in json.loads(out)["results"] if r["status"] == "fail"}
    assert found["PATH-OFFLINE"]["waiver"] is not None and found["PATH-OFFLINE"]["subject"]["target"] == "h35"
    assert found["DIO-UNLABELED"]["waiver"] is None and "target" not in found["DIO-UNLABELED"]["subject"]
    assert json.loads(out)["verdict"] == "blocked"
    waiver = Waiver("DIO-*", "r", "o", date(2099, 1, 1), target="*")
    assert not waiver.matches(Result("DIO-UNLABELED", "error", "fail", {"guest": "gunl", "host": "h61a"}, "m"))
    assert waiver.matches(Result("DIO-NO-MATCH", "error", "fail", {"guest": "g", "source": "a", "target": "b"}, "m"))


def test_a_stale_check_across_modes_judges_a_guest_rule_s_finding_as_the_run_does(tmp_path, run_cli):
    """`--stale-check` looks for an unused waiver's findings in the other commands and modes; a guest rule's
    finding there has no target, as in a run: `target: "*"` matches it nowhere, and the waiver is stale. The
    whole-matrix search gave every finding its cell's target and called the waiver in use elsewhere."""
    estate = ROOT_TESTS / "snapshots" / "estate.yaml"
    waivers = tmp_path / "w.yaml"
    waivers.write_text('waivers:\n  - {rule: DIO-UNLABELED, target: "*", reason: r, owner: o, expires: 2099-01-01}\n')
    for args in (("matrix", estate, "--mode", "online"), ("check", estate, "gunl", "h35")):
        code, out, err = run_cli(*args, "--waivers", waivers, "--stale-check", "--format", "json")
        notes = json.loads(out)["waivers"]
        assert [n["status"] for n in notes] == ["stale"], (args, notes)
        assert "matches nothing in this snapshot for any command" in notes[0]["message"]
