"""`guest.unknown` (issue 19): a rule that reads a part of a guest the capture did not give reports
`error` with what to capture, so the verdict is `unknown`, never `ready` (engine/eval/uncaptured.py);
rules that read no unknown part pass and fail as usual; `check`, the matrix and its sharing agree."""

from __future__ import annotations

import json

import pytest

from migcheck.core.verdicts import check_verdict
from migcheck.estate.snapshot import snapshot_from_data
from migcheck.eval.engine import Engine
from migcheck.packs.ruleset import load_rules

from .conftest import site_pack, small_estate

LOCAL = '''rule SITE-LOCAL {
  title "no logical volume"
  severity error
  on migration
  cite "site"
  require count(s in guest.storage where s.backing == "lv") == 0
  message "{guest.name} has a logical volume"
}
rule SITE-MEMORY {
  title "memory fits"
  severity error
  on migration
  cite "site"
  require guest.memory_mb <= target.memory_mb.free
  message "{guest.name} does not fit on {target.name}"
}
rule SITE-ONLINE-DISKS {
  title "online: SAN disks only"
  severity error
  on migration
  cite "site"
  when mode == "online"
  require all(s in guest.storage: s.backing == "disk")
  message "{guest.name} has storage other than disks"
}
rule SITE-VCPUS {
  title "vcpus known to the site"
  severity warning
  on guest
  cite "site"
  require default(guest.vcpus, 1) <= 8
  message "{guest.name} has many vcpus"
}
rule SITE-KIT {
  title "guest kit"
  severity warning
  on migration
  cite "site"
  require guest.guest_kit != "none"
  message "{guest.name} has no guest kit"
}
'''

MACS = '''rule SITE-MAC {
  title "MAC unused on the target"
  severity error
  on migration
  cite "site"
  for mac in distinct([n.mac for n in guest.networks where n.mac != null])
  require count(g in snapshot.guests where g.host == target.name and any(n in g.networks: n.mac == mac)) == 0
  message "{mac} of {guest.name} is used on {target.name}"
}
'''


def _rules(tmp_path, text: str = LOCAL):
    return load_rules([site_pack(tmp_path, text)], builtin=False)


def _snapshot(guests: list[dict], free: int = 65536, third: bool = False):
    hosts = [{"name": "h1"}, {"name": "h2", "memory_mb": {"total": 65536, "free": free}}] + [{"name": "h3"}] * third
    return snapshot_from_data(small_estate(hosts, guests))


def _problems(results) -> dict:
    return {r.rule: (r.status, r.message) for r in results if r.status in ("fail", "error")}


def _check(rules, snapshot, name: str, mode: str = "offline"):
    engine = Engine(rules, snapshot)
    results = engine.check(snapshot.guest_by_name[name], snapshot.host_by_name["h2"], mode)
    return check_verdict(results), _problems(results)


def _agrees_with_matrix(rules, snapshot, mode: str = "offline") -> list:
    """Cells and results of the matrix, shared and not, equal `check` pair by pair."""
    engine = Engine(rules, snapshot)
    cells, results = engine.matrix(mode)
    assert cells == Engine(rules, snapshot).matrix(mode, share=False)[0]
    by_pair: dict = {}
    for r in results:
        by_pair.setdefault((r.subject["guest"], r.subject.get("target")), []).append((r.rule, r.status, r.message))
    for cell in cells:
        checked = engine.check(snapshot.guest_by_name[cell.guest], snapshot.host_by_name[cell.target], mode)
        assert cell.verdict == check_verdict(checked), cell
        assert cell.failing == sorted({r.rule for r in checked if r.status in ("fail", "error")}), cell
        mine = sorted((r.rule, r.status, r.message) for r in checked if r.status in ("fail", "error")
                      and r.subject.get("target") == cell.target)
        assert sorted(by_pair.get((cell.guest, cell.target), [])) == mine
    return cells


@pytest.mark.parametrize("storage, known", [([{"backing": "lv", "path": "/dev/vg/r1"}], "blocked"), ([], "ready")])
def test_storage_unknown_is_unknown_where_known_storage_decides(tmp_path, storage, known):
    rules = _rules(tmp_path)
    assert _check(rules, _snapshot([{"name": "g", "host": "h1", "storage": storage}]), "g")[0] == known
    verdict, problems = _check(rules, _snapshot([{"name": "g", "host": "h1", "storage": storage,
                                                  "unknown": ["storage"]}]), "g")
    assert verdict == "unknown"
    assert problems == {"SITE-LOCAL": ("error", "storage of guest `g` was not captured (import --partial): "
                                                "capture `hpvmstatus -P g -d` on `h1` and import again")}


def test_rules_reading_no_unknown_part_pass_and_fail_as_usual(tmp_path):
    rules = _rules(tmp_path)
    snapshot = _snapshot([{"name": "g", "host": "h1", "memory_mb": 4096, "unknown": ["networks", "vcpus"]}], free=1024)
    verdict, problems = _check(rules, snapshot, "g")
    # SITE-LOCAL reads storage (known: none), SITE-MEMORY memory: both decide; SITE-VCPUS reads vcpus
    assert verdict == "blocked"
    assert problems["SITE-MEMORY"] == ("fail", "g does not fit on h2")
    assert "SITE-LOCAL" not in problems
    assert problems["SITE-VCPUS"][0] == "error" and "vcpus of guest `g` was not captured" in problems["SITE-VCPUS"][1]
    assert "capture `hpvmstatus -P g` on `h1`" in problems["SITE-VCPUS"][1]


def test_unknown_never_ready_even_where_every_rule_would_pass(tmp_path):
    rules = _rules(tmp_path)
    for part in ("storage", "memory_mb", "vcpus", "guest_kit"):
        known = _snapshot([{"name": "g", "host": "h1", "vcpus": 2, "guest_kit": "B.06.30"}])
        assert _check(rules, known, "g")[0] == "ready"
        unknown = _snapshot([{"name": "g", "host": "h1", "vcpus": 2, "guest_kit": "B.06.30", "unknown": [part]}])
        assert _check(rules, unknown, "g")[0] == "unknown", part


def test_a_rule_that_does_not_apply_to_the_run_is_not_applicable_whatever_it_reads(tmp_path):
    """The online rule of an offline check reads storage, yet does not apply: its `when` on the mode."""
    rules = _rules(tmp_path)
    snapshot = _snapshot([{"name": "g", "host": "h1", "unknown": ["storage"]}])
    engine = Engine(rules, snapshot)
    results = engine.check(snapshot.guests[0], snapshot.hosts[1], "offline")
    assert {r.rule: r.status for r in results}["SITE-ONLINE-DISKS"] == "notapplicable"
    online = {r.rule: r.status for r in engine.check(snapshot.guests[0], snapshot.hosts[1], "online")}
    assert online["SITE-ONLINE-DISKS"] == "error"


def test_the_message_names_every_part_and_where_each_comes_from(tmp_path):
    rules = _rules(tmp_path, LOCAL.replace('s.backing == "lv") == 0',
                                           's.backing == "lv") == 0 and guest.guest_kit != "none"'))
    snapshot = _snapshot([{"name": "g", "host": "h1", "unknown": ["guest_kit", "storage"]}])
    problems = _check(rules, snapshot, "g")[1]
    assert problems["SITE-LOCAL"] == (
        "error", "guest_kit and storage of guest `g` were not captured (import --partial): capture "
                 "`hpvmstatus -P g -d` on `h1` and give guest_kit in its entry in the import supplement and import again")


def test_audit_reports_the_guest_rule_error(tmp_path):
    rules = _rules(tmp_path)
    snapshot = _snapshot([{"name": "g", "host": "h1", "vcpus": 2}, {"name": "k", "host": "h1", "unknown": ["vcpus"]}])
    found = {(r.subject.get("guest"), r.rule): r.status for r in Engine(rules, snapshot).audit()}
    assert found[("g", "SITE-VCPUS")] == "pass" and found[("k", "SITE-VCPUS")] == "error"


def test_guests_differing_only_in_unknown_are_never_shared(tmp_path):
    rules = _rules(tmp_path)
    guests = [{"name": f"g{i}", "host": "h1", "storage": [{"backing": "disk", "path": "/dev/rdisk/disk1"}],
               **({"unknown": unknown} if unknown is not None else {})}
              for i, unknown in enumerate([None, ["storage"], [], ["networks"], ["storage"], None])]
    snapshot = _snapshot(guests)
    for mode in ("offline", "online"):
        cells = _agrees_with_matrix(rules, snapshot, mode)
        if mode == "offline":
            assert [c.verdict for c in cells] == ["ready", "unknown", "ready", "ready", "unknown", "ready"]


def test_a_rule_reading_other_guests_errs_when_one_of_them_was_not_captured(tmp_path):
    """MACs on the target: a guest whose networks are unknown may hold any MAC, so no move is ready."""
    rules = _rules(tmp_path, MACS)
    guests = [{"name": "g", "host": "h1", "networks": [{"vswitch": "vs", "mac": "0x2A2E5A050ABA"}]},
              {"name": "k", "host": "h2", "networks": [{"vswitch": "vs", "mac": "2a-2e-5a-05-0a-bb"}]}]
    assert _check(rules, _snapshot(guests), "g")[0] == "ready"
    clash = [guests[0], {**guests[1], "networks": [{"vswitch": "vs", "mac": "2a:2e:5a:05:0a:ba"}]}]
    assert _check(rules, _snapshot(clash), "g")[0] == "blocked"  # compared normalised
    for unknown, verdict in ((["networks"], "unknown"), (["vcpus"], "ready")):
        snapshot = _snapshot([guests[0], {**guests[1], "networks": [], "unknown": unknown}])
        found, problems = _check(rules, snapshot, "g")
        assert found == verdict, unknown
        if verdict == "unknown":
            assert problems["SITE-MAC"][1] == (
                "networks of guest `k` on `h2` was not captured (import --partial), and this rule reads the guests "
                "there: capture `hpvmstatus -P k -d` on `h2` and import again")
        _agrees_with_matrix(rules, snapshot)


def test_with_the_builtin_pack_a_guest_whose_storage_was_not_captured_is_never_ready():
    """The pack as it is in the tree: some rule reads storage in each mode. A rule reading the storage of
    the guests on the target (STORAGE-SHARED today) errs for moves onto `g`'s VSP, not elsewhere."""
    rules = load_rules()
    guests = [{"name": "g", "host": "h1", "storage": [], "unknown": ["storage"]},
              {"name": "k", "host": "h3", "storage": []}]
    snapshot = _snapshot(guests, third=True)
    engine = Engine(rules, snapshot)
    g, k = snapshot.guests
    for mode in ("offline", "online"):
        for target in ("h2", "h3"):
            results = engine.check(g, snapshot.host_by_name[target], mode)
            assert check_verdict(results) != "ready"
            assert any(r.status == "error" and "storage of guest `g` was not captured" in r.message for r in results)
    assert check_verdict(engine.check(k, snapshot.host_by_name["h2"], "offline")) == "ready"
    _agrees_with_matrix(rules, snapshot)


@pytest.mark.parametrize("command", ["check", "matrix"])
def test_a_waiver_never_turns_a_part_not_captured_into_ready(tmp_path, run_cli, command):
    """A waiver matching the errors of rules that read a part not captured made the migration `ready` (exit 0):
    a waiver covers failures only, and says that it matched errors only."""
    from .conftest import FIXTURES

    text = (FIXTURES / "mixed-site-after.yaml").read_text()
    snapshot = tmp_path / "s.yaml"
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "name: sapapp01" in line)
    lines.insert(at + 1, " " * lines[at].index("name") + "unknown: [networks]\n")
    snapshot.write_text("".join(lines))
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: NETWORK-MAC-IN-USE\n    guest: sapapp01\n    reason: unique here\n"
                       "    owner: net\n    expires: 2099-01-01\n  - rule: \"VSWITCH-*\"\n    guest: sapapp01\n"
                       "    reason: rebuilt\n    owner: net\n    expires: 2099-01-01\n")
    args = ("check", snapshot, "sapapp01", "vsp-e2") if command == "check" else (
        "matrix", snapshot, "--guest", "sapapp01")
    code, out, err = run_cli(*args, "--waivers", waivers, "--format", "json")
    report = json.loads(out)
    cells = [report] if command == "check" else [c for c in report["cells"] if c["target"] == "vsp-e2"]
    assert [c["verdict"] for c in cells] == ["unknown"], cells
    errors = [r for r in report["results"] if r["status"] == "error" and r["subject"].get("target") == "vsp-e2"]
    assert errors and all(r.get("waiver") is None for r in errors)
    notes = {n["rule"]: n for n in report["waivers"]}
    assert notes["NETWORK-MAC-IN-USE"]["status"] == "errors-only", notes
    assert "matches only" in notes["NETWORK-MAC-IN-USE"]["message"]
    if command == "check":
        assert code == 3
