"""`migcheck campaign`: a rolling upgrade proposed VSP by VSP, every proposal checked by `plan`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import generate
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data
from migcheck.lang.builtins import as_version
from migcheck.packs.ruleset import load_rules
from migcheck.waves.campaign import CampaignOptions, offline_lower_bound, propose_campaign
from migcheck.waves.plans import plan_from_data, run_plan

pytest.importorskip("ortools")

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "fixtures" / "campaign-site.yaml"


@pytest.fixture(scope="module")
def ruleset():
    return load_rules([])


@pytest.fixture(scope="module")
def site():
    return load_snapshot(str(SITE))


def _after(ruleset, snapshot, campaign):
    """The estate after the proposed plan, read back from its plan file as `plan` reads it."""
    outcome = run_plan(ruleset, snapshot, plan_from_data(campaign.plan_data(), snapshot))
    return outcome, outcome.estate.to_data()


def test_the_site_is_upgraded_and_the_plan_passes(ruleset, site):
    campaign = propose_campaign(ruleset, site, CampaignOptions(upgrade="vsp-c*", to="6.3", time_limit=20))
    assert sorted(s["vsp"] for s in campaign.skipped) == ["vsp-c5", "vsp-c6", "vsp-c8"]  # at 6.3 already
    assert sorted(campaign.upgraded) == ["vsp-c1", "vsp-c2", "vsp-c3", "vsp-c4", "vsp-c7"] and not campaign.stopped
    outcome, after = _after(ruleset, site, campaign)
    assert outcome.verdict == "ready" == campaign.check.verdict
    versions = {h["name"]: h["version"] for h in after["hosts"]}
    assert all(as_version(versions[v]) == as_version("6.3") for v in campaign.upgraded)
    # each VSP's step moves off every guest it had (and those an earlier step put there: app1 goes 4.3 -> 6.1
    # online rather than offline to a 6.3 VSP, then on to 6.3 online: two moves and no downtime)
    for step in campaign.steps:
        assert {m["guest"] for m in step.moves} >= {g["name"] for g in site.guests if g["host"] == step.vsp}
    app1 = [m for s in campaign.steps for m in s.moves if m["guest"] == "app1"]
    assert [m["mode"] for m in app1] == ["online", "online"]


def test_the_guests_that_go_offline_say_why(ruleset, site):
    campaign = propose_campaign(ruleset, site, CampaignOptions(upgrade="vsp-c*", to="6.3", time_limit=20))
    moves = {m["guest"]: m for s in campaign.steps for m in s.moves if m["from"] == s.vsp}
    assert moves["vpdb1"]["mode"] == "offline" and "ONLINE-VPAR" in moves["vpdb1"]["why_offline"]  # a vPar
    assert moves["web1"]["mode"] == "offline" and "ONLINE-PATH" in moves["web1"]["why_offline"]  # 4.2.5: no path
    assert moves["db1"]["mode"] == "online" and "why_offline" not in moves["db1"]  # 6.1 -> 6.3 online
    assert moves["app2"]["mode"] == "offline" and not moves["app2"]["running"]  # stopped: no downtime
    assert campaign.offline_running == sum(1 for m in moves.values() if m["mode"] == "offline" and m["running"])
    assert moves["nokit1"]["mode"] == "offline" and "ONLINE-GUEST-KIT" in moves["nokit1"]["why_offline"]  # no kit
    # the bound: the running guests no VSP takes online at either end of the campaign (vpdb1, nokit1)
    bound = offline_lower_bound(ruleset, site, CampaignOptions(upgrade="vsp-c*", to="6.3"), vsps=campaign.upgraded)
    assert bound == 2 <= campaign.offline_running


def test_kept_guests_stop_their_vsp_and_say_so(ruleset, site):
    campaign = propose_campaign(ruleset, site, CampaignOptions(upgrade="vsp-c*", to="6.3", keep="db*", time_limit=20))
    stopped = {s.vsp: s.stopped for s in campaign.stopped}
    assert list(stopped) == ["vsp-c3"] and stopped["vsp-c3"][0]["guest"] == "db1"
    assert "--keep db*" in stopped["vsp-c3"][0]["why"]
    assert "vsp-c3" not in campaign.upgraded and campaign.check.verdict == "ready"
    _, after = _after(ruleset, site, campaign)
    assert next(h for h in after["hosts"] if h["name"] == "vsp-c3")["version"] == "B.06.10"


def test_the_offline_window_and_the_stage_limit_hold(ruleset, site):
    campaign = propose_campaign(ruleset, site, CampaignOptions(upgrade="vsp-c*", to="6.3", offline_window=1,
                                                               time_limit=20))
    for stage in campaign.stages:
        assert sum(1 for m in stage if "guest" in m and m.get("mode") != "online") <= 1
    assert campaign.check.verdict == "ready"
    limited = propose_campaign(ruleset, site, CampaignOptions(upgrade="vsp-c*", to="6.3", max_stages=3,
                                                              time_limit=20))
    assert len(limited.stages) <= 3 and limited.limited and set(limited.limited).isdisjoint(limited.upgraded)


def test_with_return_the_guests_come_back(ruleset, site):
    campaign = propose_campaign(ruleset, site, CampaignOptions(upgrade="vsp-c7", to="6.3", return_guests=True,
                                                               time_limit=20))
    _, after = _after(ruleset, site, campaign)
    assert next(g for g in after["guests"] if g["name"] == "vpapp2")["host"] == "vsp-c7"
    assert next(h for h in after["hosts"] if h["name"] == "vsp-c7")["version"] == "6.3"


def test_a_guest_that_fits_nowhere_stops_its_vsp_with_its_rules(ruleset, site):
    data = site.doc.data
    data = {**data, "guests": [dict(g, memory_mb=1_000_000) if g["name"] == "batch1" else g for g in data["guests"]]}
    snapshot = snapshot_from_data(data)
    campaign = propose_campaign(ruleset, snapshot, CampaignOptions(upgrade="vsp-c4", to="6.3", time_limit=10))
    (step,) = campaign.stopped
    assert step.vsp == "vsp-c4" and step.stopped[0]["guest"] == "batch1"
    assert "MEMORY-TARGET" in step.stopped[0]["blocking"] and campaign.upgraded == []


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), hosts=st.integers(3, 7))
def test_every_proposal_passes_plan_and_ends_at_the_release(seed, hosts):
    """Property, over generated estates: the proposal's own check by `plan` never blocks, every VSP
    the campaign says it upgraded is at the release after the plan, and the others are said."""
    ruleset = load_rules([])
    snapshot = snapshot_from_data(generate(hosts, hosts * 4, seed))
    campaign = propose_campaign(ruleset, snapshot, CampaignOptions(upgrade="*", to="6.3", time_limit=10))
    if campaign.stages:
        outcome, after = _after(ruleset, snapshot, campaign)
        assert outcome.verdict != "blocked", [(m.migration, m.failing) for m in outcome.migrations if m.failing]
        versions = {h["name"]: h["version"] for h in after["hosts"]}
        assert all(as_version(versions[v]) == as_version("6.3") for v in campaign.upgraded)
    selected = {h["name"] for h in snapshot.hosts} - {s["vsp"] for s in campaign.skipped}
    assert selected == set(campaign.upgraded) | {s.vsp for s in campaign.stopped} | set(campaign.limited)
    assert all(s.stopped and all(x["why"] for x in s.stopped) for s in campaign.stopped)


def _cli(*args, cwd=None):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "migcheck", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def test_the_command_writes_a_plan_that_plan_accepts_and_the_estate_after(tmp_path):
    import json
    import jsonschema
    plan, after, report = tmp_path / "campaign.yaml", tmp_path / "after.yaml", tmp_path / "r.json"
    run = _cli("campaign", SITE, "--upgrade", "vsp-c*", "--to", "6.3", "-o", plan, "-f", f"json:{report}")
    assert run.returncode == 0, run.stderr
    data = json.loads(report.read_text())
    jsonschema.validate(data, json.loads((ROOT / "schemas" / "report.schema.json").read_text()))
    assert data["command"] == "campaign" and data["campaign"]["plan_file"] == str(plan)
    assert sorted(data["campaign"]["upgraded"]) == ["vsp-c1", "vsp-c2", "vsp-c3", "vsp-c4", "vsp-c7"]
    assert {u["vsp"] for u in data["plan"]["upgrades"]} == set(data["campaign"]["upgraded"])
    checked = _cli("plan", SITE, plan, "--emit-snapshot", after)
    assert checked.returncode == 0 and checked.stdout.startswith("READY"), checked.stdout
    versions = {h["name"]: h["version"] for h in load_snapshot(str(after)).hosts}
    assert {v for n, v in versions.items() if n in data["campaign"]["upgraded"]} == {"6.3"}
    assert "upgrade vsp-c1 to 6.3" in checked.stdout  # the stage table names the upgrades


def test_a_vsp_that_cannot_be_vacated_fails_the_run_and_says_why(tmp_path):
    run = _cli("campaign", SITE, "--upgrade", "vsp-c*", "--to", "6.3", "--keep", "db1")
    assert run.returncode == 1
    assert "vsp-c3 cannot be vacated: db1: it must not move (--keep db1)" in run.stdout
    unknown = _cli("campaign", SITE, "--upgrade", "vsp-x*", "--to", "6.3")
    assert unknown.returncode == 2 and "vsp-x*" in unknown.stderr


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_a_campaign_that_upgrades_nothing_still_says_why(fmt):
    """Its only VSP kept by --keep: no plan, and the table, Markdown and HTML said nothing of what stopped it
    (the reasons were in the JSON only)."""
    run = _cli("campaign", SITE, "--upgrade", "vsp-c1", "--to", "6.3", "--keep", "web1", "--format", fmt)
    assert run.returncode == 1, run.stderr
    said = run.stdout.replace("&#x27;", "'")
    assert "vsp-c1 cannot be vacated: web1: it must not move (--keep web1)" in said, said
    assert "what would free it" not in said  # a kept guest is freed by not keeping it


@pytest.mark.parametrize("release", ["abc", "", "-1", "6." + "9" * 5000])
def test_a_release_that_is_not_one_is_a_usage_error(release):
    run = _cli("campaign", SITE, "--upgrade", "vsp-c*", "--to", release)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    if release == "":  # (every option refuses an empty value, naming it)
        assert "argument --to: empty value" in run.stderr
        return
    assert run.stderr.startswith("migcheck: --to: ") and "is not a release" in run.stderr and "--to 6.3" in run.stderr


def test_the_shipped_campaign_plan_is_what_campaign_proposes(ruleset, site):
    """fixtures/plan-campaign.yaml (README's walk-through) is the proposal of today's rules."""
    campaign = propose_campaign(ruleset, site, CampaignOptions(upgrade="vsp-c*", to="6.3", time_limit=20))
    shipped = yaml.safe_load((ROOT / "fixtures" / "plan-campaign.yaml").read_text())
    assert shipped == campaign.plan_data()


def test_a_step_the_solver_runs_out_of_time_on_says_so(ruleset, site, monkeypatch):
    """No placement in time is said as such (raise --time-limit), never as targets "used up"."""
    from ortools.sat.python import cp_model
    from migcheck.waves import campaign as module
    monkeypatch.setattr(module, "_solve", lambda *a, **k: ([cp_model.UNKNOWN], {}, []))
    campaign = propose_campaign(ruleset, site, CampaignOptions(upgrade="vsp-c7", to="6.3", time_limit=1))
    (step,) = campaign.stopped
    assert step.vsp == "vsp-c7" and "--time-limit" in step.stopped[0]["why"] and "used up" not in step.stopped[0]["why"]


@pytest.mark.parametrize("seed, hosts", [(4819, 3), (4828, 5)])
def test_the_estates_that_once_broke_a_campaign_pass_plan(seed, hosts):
    """Found by the property above: a DIO function a step gave shared by a later step (PLAN-DIO-SHARED across
    stages: place's `given`), and a compacted plan kept at equal length; both pass `plan` now."""
    ruleset = load_rules([])
    snapshot = snapshot_from_data(generate(hosts, hosts * 4, seed))
    campaign = propose_campaign(ruleset, snapshot, CampaignOptions(upgrade="*", to="6.3", time_limit=10))
    assert campaign.stages and campaign.check.verdict != "blocked"
    outcome, _ = _after(ruleset, snapshot, campaign)
    assert outcome.verdict != "blocked"


def test_a_blocked_upgrade_does_not_happen(ruleset, site, tmp_path, run_cli):
    """Stage 1 upgrades vsp-c2 while it holds app1 and app2 (PLAN-UPGRADE-RUNNABLE blocks it): the upgrade still
    happened, so stage 2's vpapp2 -> vsp-c2 was checked against 6.3 and said READY, and --emit-snapshot wrote 6.3."""
    plan = tmp_path / "p.yaml"
    plan.write_text('plan: 1\nstages:\n  - migrations:\n      - {upgrade: vsp-c2, to: "6.3"}\n'
                    "  - migrations:\n      - {guest: vpapp2, to: vsp-c2}\n")
    before = next(h["version"] for h in site.hosts if h["name"] == "vsp-c2")
    after = tmp_path / "after.yaml"
    code, out, err = run_cli("plan", SITE, plan, "--format", "json", "--emit-snapshot", after)
    import json

    data = json.loads(out)
    assert code == 1 and data["plan"]["stages"][0]["failing"] == ["PLAN-UPGRADE-RUNNABLE"]
    assert data["plan"]["stages"][0]["held"] == ["vsp-c2"]
    (move,) = data["plan"]["migrations"]
    assert move["verdict"] == "blocked" and "PATH-OFFLINE" in move["failing"]  # vsp-c2 at its own release
    emitted = load_snapshot(str(after))
    assert next(h["version"] for h in emitted.hosts if h["name"] == "vsp-c2") == before
    # an upgrade no rule blocks happens as before
    plan.write_text('plan: 1\nstages:\n  - migrations:\n      - {upgrade: vsp-c8, to: "6.3.5"}\n')
    after.unlink()
    assert run_cli("plan", SITE, plan, "--emit-snapshot", after)[0] == 0
    assert str(next(h["version"] for h in load_snapshot(str(after)).hosts if h["name"] == "vsp-c8")) == "6.3.5"


def test_a_vsp_upgraded_twice_in_one_stage_is_a_located_problem(tmp_path, run_cli):
    plan = tmp_path / "p.yaml"
    plan.write_text('plan: 1\nstages:\n  - migrations:\n      - {upgrade: vsp-c5, to: "6.3"}\n'
                    '      - {upgrade: vsp-c5, to: "6.3.5"}\n')
    code, _, err = run_cli("plan", SITE, plan)
    assert code == 2 and "Traceback" not in err
    assert f"{plan}:5:19: error[upgraded-twice]: stage 1 upgrades VSP `vsp-c5` twice (first at line 4)" in err, err


@pytest.mark.parametrize("args, said", [
    (("place", ROOT / "fixtures" / "mixed-site.yaml", "--guest", "nosuch*"), "--guest: no guest matches `nosuch*`"),
    (("place", ROOT / "fixtures" / "mixed-site.yaml", "--vacate", "vsp-e1", "--to", "nosuch*"),
     "--to: no VSP matches `nosuch*`"),
    (("campaign", SITE, "--upgrade", "vsp-c*", "--to", "6.3", "--keep", "wbe1"),
     "--keep: no guest matches `wbe1`; did you mean `web1`?"),
])
def test_a_glob_that_matches_nothing_is_a_usage_error(args, said):
    """As `matrix --guest` and `where --target` refuse one: `place --guest` said READY with nothing placed, and
    `campaign --keep wbe1` (a typo for web1) moved web1."""
    run = _cli(*args)
    assert run.returncode == 2 and said in run.stderr and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("args, said", [
    (("--vacate", "vsp-e1", "--guest", "build04"), "--guest: no guest on `vsp-e1` (the VSP vacated) matches `build04`"),
    (("--vacate", "vsp-e1", "--to", "vsp-e1"), "--to: no VSP but `vsp-e1` (the one vacated) matches `vsp-e1`"),
])
def test_place_selections_that_select_nothing_are_usage_errors(args, said):
    """`--vacate vsp-e1 --guest build04` (build04 is on vsp-e2) said READY, 0 of 0 guests moved, exit 0."""
    run = _cli("place", ROOT / "fixtures" / "mixed-site.yaml", *args)
    assert run.returncode == 2 and said in run.stderr, run.stderr


def test_a_campaign_says_which_pairs_are_not_known(tmp_path):
    """web1's networks not captured: its pairs are unknown; the campaign called them blocked ("what would free it")
    and its JSON said "blocked on any other other VSP"."""
    text = SITE.read_text()
    assert text.count("{name: web1, ") == 1
    site = tmp_path / "s.yaml"
    site.write_text(text.replace("{name: web1, ", "{name: web1, unknown: [networks], "))
    run = _cli("campaign", site, "--upgrade", "vsp-c1", "--to", "6.3", "--format", "json")
    import json

    stopped = {x["guest"]: x for v in json.loads(run.stdout)["campaign"]["vsps"] for x in v.get("stopped_by", [])}
    assert "web1" in stopped and stopped["web1"]["why"].startswith("not known on"), stopped
    assert "other other" not in run.stdout
    table = _cli("campaign", site, "--upgrade", "vsp-c1", "--to", "6.3").stdout
    line = next(line for line in table.splitlines() if "cannot be vacated: web1" in line)
    assert "not known on" in line, line


def test_a_stage_rule_that_judges_the_stage_as_a_whole_holds_its_upgrades(tmp_path, run_cli):
    """A site rule `on stage` that blocks without binding an upgrade (`all(u in stage.upgrades: ...)`): the stage was
    blocked and the upgrade happened all the same (--emit-snapshot wrote the new release)."""
    from .conftest import site_pack

    pack = site_pack(tmp_path, 'rule SITE-NO-63 {\n  title "t"\n  severity error\n  on stage\n  cite "c"\n'
                               '  require all(u in stage.upgrades: u.to != "6.3.5")\n  message "m"\n}\n')
    plan = tmp_path / "p.yaml"
    plan.write_text('plan: 1\nstages:\n  - migrations:\n      - {upgrade: vsp-c8, to: "6.3.5"}\n')
    after = tmp_path / "after.yaml"
    code, out, err = run_cli("plan", SITE, plan, "--rules", pack, "--format", "json", "--emit-snapshot", after)
    import json

    stage = json.loads(out)["plan"]["stages"][0]
    assert code == 1 and stage["failing"] == ["SITE-NO-63"] and stage["held"] == ["vsp-c8"], stage
    assert str(next(h["version"] for h in load_snapshot(str(after)).hosts if h["name"] == "vsp-c8")) == "B.06.30"


def test_a_guest_no_upgraded_vsp_runs_stops_its_vsp(ruleset, tmp_path):
    """A Linux VM on an Integrity VM 4.x VSP: V6.x VSPs run HP-UX guests only (GUEST-OS-TARGET), so no VSP of a
    campaign to 6.3 takes it, and its VSP is not upgraded; the campaign says why and upgrades the others."""
    data = yaml.safe_load(SITE.read_text())
    data["guests"].append({"name": "lin1", "kind": "vm", "host": "vsp-c1", "state": "on", "memory_mb": 4096,
                           "vcpus": 1, "os_type": "LINUX", "networks": [{"vswitch": "vs-pub", "ip_name": "lin1"}],
                           "storage": [{"backing": "disk", "path": "/dev/rdisk/disk29", "shared_san": True}]})
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data))
    campaign = propose_campaign(ruleset, load_snapshot(str(path)),
                                CampaignOptions(upgrade="vsp-c*", to="6.3", time_limit=20))
    stopped = {s.vsp: s.stopped for s in campaign.stopped}
    assert list(stopped) == ["vsp-c1"] and "vsp-c1" not in campaign.upgraded
    assert [g["guest"] for g in stopped["vsp-c1"]] == ["lin1"]
    assert list(stopped["vsp-c1"][0]["blocking"]) == ["GUEST-OS-TARGET"]
    assert {"vsp-c2", "vsp-c3", "vsp-c4", "vsp-c7"} <= set(campaign.upgraded)
