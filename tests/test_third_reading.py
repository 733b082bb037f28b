"""Issue 19: the third reading of HP's manuals, as verdicts an administrator reads.

Each example of the issue's list is a snapshot under rules/tests/snapshots/hp/ (its header says
HP's verdict and the source, quotes N34..N49 of reference/hp-sources.md). Here each gives HP's
verdict (`ready` or `blocked`) and exit code through the named rule, and that rule is the only
error behind a `blocked`. The rule tests (rules/tests/third-reading.yaml) check each rule's
status both ways; these check the verdict, and that a guest runnable twice is reported by every
command that evaluates it (`check`, `matrix`, `where`, `plan`, `place`), not only by `audit`.
"""

from __future__ import annotations

import importlib.util
import json

import pytest
import yaml

from .conftest import ROOT

HP = ROOT / "rules" / "tests" / "snapshots" / "hp"
ONLINE, STOP = ["--mode", "online"], ["--stop"]

# (snapshot, guest, target, options, HP's verdict, the rule that decides it, its status)
EXAMPLES = [
    # vCPUs against the target's cores and its release's maximum; a vPar's free cores
    ("cpu-cores", "vm8", "vsp-4core", [], "blocked", "CPU-CORES", "fail"),
    ("cpu-cores", "vm8", "vsp-8core", [], "ready", "CPU-CORES", "pass"),
    ("cpu-cores", "vm8", "vsp-cores-unknown", [], "ready", "CPU-CORES", "notapplicable"),
    ("cpu-cores", "vm32", "vsp-61", [], "blocked", "CPU-MAX-VCPUS", "fail"),
    ("cpu-cores", "vm32", "vsp-63b", [], "ready", "CPU-MAX-VCPUS", "pass"),
    ("cpu-cores", "vm32", "vsp-62", [], "ready", "CPU-MAX-VCPUS", "notapplicable"),
    ("cpu-cores", "vpar8", "vsp-4free", [], "blocked", "VPAR-CORES-FREE", "fail"),
    ("cpu-cores", "vpar8", "vsp-8free", [], "ready", "VPAR-CORES-FREE", "pass"),
    # online: HP-UX (OpenVMS between 4.3 VSPs) guests with the guest kit (or VirtualBase B.06.30 on 6.3)
    ("online-guest", "linux01", "vsp-b", ONLINE, "blocked", "ONLINE-GUEST-OS", "fail"),
    ("online-guest", "linux01", "vsp-b", STOP, "blocked", "GUEST-OS-TARGET", "fail"),  # V6.x runs HP-UX guests only
    ("online-guest", "vms43", "vsp-43b", ONLINE, "ready", "ONLINE-GUEST-OS", "pass"),
    ("online-guest", "vms01", "vsp-b", ONLINE, "blocked", "ONLINE-GUEST-OS", "fail"),  # V6.x: HP-UX guests only
    ("online-guest", "osunk01", "vsp-b", STOP, "unknown", "GUEST-OS-TARGET", "error"),  # a V6.x target: HP-UX only
    ("online-guest", "vms42", "vsp-42b", ONLINE, "blocked", "ONLINE-GUEST-OS", "fail"),
    ("online-guest", "nokit01", "vsp-b", ONLINE, "blocked", "ONLINE-GUEST-KIT", "fail"),
    ("online-guest", "kit01", "vsp-b", ONLINE, "ready", "ONLINE-GUEST-KIT", "pass"),
    ("online-guest", "vbase01", "vsp-b", ONLINE, "ready", "ONLINE-GUEST-KIT", "pass"),
    ("online-guest", "unknown01", "vsp-b", ONLINE, "ready", "ONLINE-GUEST-KIT", "notapplicable"),
    # online storage: whole SAN disks and ejected DVDs only
    ("online-storage", "lvsan", "vsp-b", ONLINE, "blocked", "ONLINE-STORAGE-LOCAL", "fail"),
    ("online-storage", "filesan", "vsp-b", ONLINE, "blocked", "ONLINE-STORAGE-LOCAL", "fail"),
    ("online-storage", "dvdloaded", "vsp-b", ONLINE, "blocked", "ONLINE-STORAGE-DEVICE", "fail"),
    ("online-storage", "dvdejected", "vsp-b", ONLINE, "ready", "ONLINE-STORAGE-DEVICE", "pass"),
    ("online-storage", "tape01", "vsp-b", ONLINE, "blocked", "ONLINE-STORAGE-DEVICE", "fail"),
    ("online-storage", "tape01", "vsp-b", STOP, "ready", "STORAGE-LOCAL", "pass"),
    # NPIV: 4.3 or later on both VSPs
    ("npiv", "npiv42", "vsp-43b", [], "blocked", "NPIV-RELEASE", "fail"),
    ("npiv", "npiv43", "vsp-42", STOP, "blocked", "NPIV-RELEASE", "fail"),
    ("npiv", "npiv43", "vsp-43b", STOP, "ready", "NPIV-RELEASE", "pass"),
    ("npiv", "npiv43", "vsp-43b", ONLINE, "ready", "NPIV-RELEASE", "pass"),
    # the NFS exception's limits, file-backed DVDs, HP-UX guests only on V6.x (a fourth reading)
    ("nfs-limits", "nfs425", "vsp425-b", ONLINE, "blocked", "ONLINE-STORAGE-LOCAL", "fail"),
    ("nfs-limits", "nfs43", "vsp43-b", ONLINE, "ready", "ONLINE-STORAGE-LOCAL", "pass"),
    ("nfs-limits", "shadowed", "vsp-b", ONLINE, "blocked", "ONLINE-STORAGE-LOCAL", "fail"),
    ("nfs-limits", "shadowed", "vsp-b", STOP, "ready", "STORAGE-LOCAL", "fail"),
    ("nfs-limits", "nfsscsi", "vsp-b", ONLINE, "blocked", "ONLINE-STORAGE-LOCAL", "fail"),
    ("nfs-limits", "nfsudp", "vsp-b", ONLINE, "blocked", "ONLINE-STORAGE-LOCAL", "fail"),
    ("nfs-limits", "nfsok", "vsp-b", ONLINE, "ready", "ONLINE-STORAGE-LOCAL", "pass"),
    ("nfs-limits", "dvddrive", "vsp-b", ONLINE, "blocked", "ONLINE-STORAGE-DEVICE", "fail"),
    ("nfs-limits", "lin63", "vsp63", [], "blocked", "GUEST-OS-TARGET", "fail"),
    ("nfs-limits", "lin63", "vsp43-b", [], "ready", "GUEST-OS-TARGET", "pass"),
    # NFS backing files mounted alike on both VSPs (V6.1.5)
    ("nfs", "nfsvm", "vsp-b", ONLINE, "ready", "ONLINE-STORAGE-LOCAL", "pass"),
    ("nfs", "nfsvm", "vsp-c", ONLINE, "blocked", "ONLINE-STORAGE-LOCAL", "fail"),
    ("nfs", "nfsvm", "vsp-d", ONLINE, "blocked", "ONLINE-STORAGE-LOCAL", "fail"),
    ("nfs", "nfsvm", "vsp-b", STOP, "ready", "STORAGE-LOCAL", "pass"),
    ("nfs", "nfsvm", "vsp-c", STOP, "ready", "STORAGE-LOCAL", "fail"),  # a warning: copy it, or mount alike
    # SHARE=YES online: a warning; the second sharing guest an error where the target does not mark it
    ("share-online", "quorum1", "vsp-b", ONLINE, "blocked", "STORAGE-SHARED-TARGET", "fail"),
    ("share-online", "quorum1", "vsp-c", ONLINE, "ready", "STORAGE-SHARED-ONLINE", "pass"),
    ("share-online", "quorum1", "vsp-d", ONLINE, "ready", "STORAGE-SHARED-ONLINE", "fail"),  # a warning
    ("share-online", "quorum1", "vsp-d", STOP, "blocked", "STORAGE-SHARED", "fail"),
    # the target's networks
    ("network-target", "web01", "vsp-mac", [], "blocked", "NETWORK-MAC-IN-USE", "fail"),
    ("network-target", "web01", "vsp-down", [], "ready", "VSWITCH-DOWN", "fail"),  # a warning
    ("network-target", "avio01", "vsp-local", [], "blocked", "VSWITCH-AVIO-PNIC", "fail"),
    ("network-target", "lan01", "vsp-local", [], "ready", "VSWITCH-AVIO-PNIC", "pass"),
    ("network-target", "avio01", "vsp-ok", [], "ready", "VSWITCH-AVIO-PNIC", "pass"),
    # restricted devices on the target
    ("restricted", "db01", "vsp-b", [], "blocked", "STORAGE-RESTRICTED", "fail"),
    ("restricted", "db01", "vsp-c", [], "ready", "STORAGE-RESTRICTED", "pass"),
    ("restricted", "db01", "vsp-d", [], "ready", "STORAGE-RESTRICTED", "notapplicable"),
    # a reserving guest needs available DIO functions
    ("dio-available", "vpar01", "vsp-b", [], "blocked", "DIO-RESERVED", "fail"),
    ("dio-available", "vpar01", "vsp-d", [], "blocked", "DIO-RESERVED", "fail"),
    ("dio-available", "vpar01", "vsp-c", [], "ready", "DIO-RESERVED", "pass"),
    ("dio-available", "vm01", "vsp-b", [], "ready", "DIO-RESERVED", "notapplicable"),
    # a guest runnable on one VSP
    ("same-name", "g1", "dst", [], "blocked", "INV-DUPLICATE-GUEST", "fail"),
    ("same-name", "g1", "back", [], "blocked", "INV-DUPLICATE-GUEST", "fail"),
    ("same-name", "g2", "back", [], "ready", "INV-DUPLICATE-GUEST", "pass"),
]


def _check(run_cli, snapshot, guest, target, options):
    code, out, err = run_cli("check", HP / f"{snapshot}.yaml", guest, target, *options, "--format", "json")
    assert code in (0, 1, 3), err
    return code, json.loads(out)


# examples refused by a second rule as well: online-guest.yaml's Linux and OpenVMS guests run on V6.3 VSPs, which
# run HP-UX guests only (GUEST-OS-TARGET, a later reading than the example)
ALSO = {("online-guest", "vms01", "vsp-b"): ["GUEST-OS-TARGET"], ("online-guest", "linux01", "vsp-b"): ["GUEST-OS-TARGET"]}


@pytest.mark.parametrize("snapshot, guest, target, options, verdict, rule, status", EXAMPLES,
                         ids=[f"{e[0]}-{e[1]}-{e[2]}{'-' + e[3][-1] if e[3] else ''}" for e in EXAMPLES])
def test_hp_verdict_through_the_named_rule(run_cli, snapshot, guest, target, options, verdict, rule, status):
    code, report = _check(run_cli, snapshot, guest, target, options)
    assert report["verdict"] == verdict
    assert code == {"blocked": 1, "unknown": 3}.get(verdict, 0)
    statuses = {r["rule"]: r["status"] for r in report["results"]}
    assert statuses[rule] == status
    blocking = sorted({r["rule"] for r in report["results"] if r["status"] == "fail" and r["severity"] == "error"})
    also = ALSO.get((snapshot, guest, target), []) if verdict == "blocked" else []
    assert blocking == (sorted({rule, *also}) if verdict == "blocked" else [])


def test_every_snapshot_header_names_its_rules():
    """Each example's snapshot says HP's verdict and names the rule that gives it."""
    for snapshot in sorted({e[0] for e in EXAMPLES}):
        header = "".join(line for line in (HP / f"{snapshot}.yaml").read_text().splitlines(True)
                         if line.startswith("#"))
        assert "Issue 19" in header or "reading of HP's manuals" in header, snapshot
        for e in EXAMPLES:
            if e[0] == snapshot and e[6] == "fail":
                assert e[5] in header, (snapshot, e[5])


def test_new_rules_are_catalogued_with_their_source(run_cli):
    _, out, _ = run_cli("rules", "--format", "json")
    rules = {r["id"]: r for r in json.loads(out)["rules"]}
    for rule in {e[5] for e in EXAMPLES}:
        assert rules[rule]["cite"].strip(), rule
    warnings = {"STORAGE-SHARED-ONLINE", "VSWITCH-DOWN"}
    assert {r for r in warnings if rules[r]["severity"] == "warning"} == warnings
    assert rules["STORAGE-SHARED"]["severity"] == rules["STORAGE-SHARED-TARGET"]["severity"] == "error"


def test_vcpu_limits_rows_say_where_they_come_from():
    data = yaml.safe_load((ROOT / "rules" / "data" / "vcpu_limits.yaml").read_text())
    assert "does not apply" in data["description"]
    assert {(r["release_min"], r["max_vcpus"]) for r in data["rows"]} == {("6.1", 16), ("6.3", 32)}
    for row in data["rows"]:
        assert row["source"].strip() and row["limit"].strip()


def test_messages_name_what_blocks(run_cli):
    _, report = _check(run_cli, "cpu-cores", "vm32", "vsp-61", [])
    (result,) = [r for r in report["results"] if r["rule"] == "CPU-MAX-VCPUS"]
    assert "32 vCPUs" in result["message"] and "at most 16" in result["message"]
    _, report = _check(run_cli, "online-storage", "tape01", "vsp-b", ONLINE)
    (result,) = [r for r in report["results"] if r["rule"] == "ONLINE-STORAGE-DEVICE"]
    assert "tape /dev/rtape/tape1_BESTn (attach)" in result["message"]
    _, report = _check(run_cli, "network-target", "web01", "vsp-mac", [])
    (result,) = [r for r in report["results"] if r["rule"] == "NETWORK-MAC-IN-USE"]
    assert "other01" in result["message"]
    _, report = _check(run_cli, "dio-available", "vpar01", "vsp-b", [])
    (result,) = [r for r in report["results"] if r["rule"] == "DIO-RESERVED"]
    assert "held by vparres" in result["message"] and "0 available" in result["message"]


# A guest runnable twice: every command that evaluates it says so

SAME = HP / "same-name.yaml"


def test_check_onto_a_vsp_running_the_same_name_is_blocked_exit_1(run_cli):
    code, out, err = run_cli("check", SAME, "g1", "dst")
    assert code == 1, err
    assert out.startswith("BLOCKED") and "INV-DUPLICATE-GUEST" in out


def test_matrix_blocks_every_cell_of_the_guest_and_not_the_others(run_cli):
    code, out, err = run_cli("matrix", SAME, "--format", "json")
    assert code == 1, err
    cells = json.loads(out)["cells"]
    assert all("INV-DUPLICATE-GUEST" in c["failing"] for c in cells if c["guest"] == "g1")
    g2 = {c["target"]: c for c in cells if c["guest"] == "g2"}
    assert g2["back"]["verdict"] == "ready" and "INV-DUPLICATE-GUEST" not in g2["back"]["failing"]


def test_where_reports_it(run_cli):
    code, out, err = run_cli("where", SAME, "g1", "--format", "json")
    assert code == 1, err
    assert "INV-DUPLICATE-GUEST" in out
    assert "ready" not in {t.get("verdict") for t in json.loads(out).get("targets", [])}


def test_plan_reports_it(run_cli, tmp_path):
    plan = tmp_path / "wave.yaml"
    plan.write_text("plan: 1\nstages:\n  - migrations:\n      - {guest: g1, to: back}\n      - {guest: g2, to: back}\n")
    code, out, err = run_cli("plan", SAME, plan, "--format", "json")
    assert code == 1, err
    report = json.loads(out)
    failing = [r for r in report["results"] if r["status"] == "fail" and r["severity"] == "error"]
    assert {r["rule"] for r in failing} == {"INV-DUPLICATE-GUEST"}


@pytest.mark.skipif(importlib.util.find_spec("ortools") is None, reason="place needs the [place] extra")
def test_place_does_not_place_it(run_cli):
    code, out, err = run_cli("place", SAME, "--vacate", "src")
    assert code == 1, err
    assert "g1 fits nowhere: INV-DUPLICATE-GUEST" in out


def test_a_not_runnable_copy_is_not_a_second_guest(run_cli):
    code, out, err = run_cli("audit", SAME, "--format", "json")
    results = [r for r in json.loads(out)["results"] if r["rule"] == "INV-DUPLICATE-GUEST"]
    assert {(r["subject"]["guest"], r["status"]) for r in results} == {("g1", "fail"), ("g2", "pass")}
    assert sum(r["status"] == "fail" for r in results) == 2  # both runnable entries of g1


# Unknown is never ready

def _write(tmp_path, guest: str, target_extra: str = "") -> str:
    path = tmp_path / "estate.yaml"
    path.write_text(
        "snapshot: 1\nhosts:\n"
        "  - {name: a, version: \"6.3\", processor: Itanium 9300, memory_mb: {total: 65536, free: 32768},\n"
        "     online_migration: {enabled: true, licensed: true}}\n"
        "  - {name: b, version: \"6.3\", processor: Itanium 9300, memory_mb: {total: 65536, free: 32768},\n"
        f"     online_migration: {{enabled: true, licensed: true}}{target_extra}}}\n"
        f"guests:\n  - {guest}\n")
    return str(path)


def test_a_virtualbase_that_is_not_a_release_is_an_error_not_a_guess(run_cli, tmp_path):
    path = _write(tmp_path, "{name: g, kind: vm, host: a, state: on, memory_mb: 1024, vcpus: 1, guest_kit: none, "
                            "virtualbase: latest}")
    code, out, err = run_cli("check", path, "g", "b", "--mode", "online", "--format", "json")
    assert code == 3, err
    report = json.loads(out)
    assert report["verdict"] == "unknown"
    (result,) = [r for r in report["results"] if r["rule"] == "ONLINE-GUEST-KIT"]
    assert result["status"] == "error" and "`latest` is not a release" in result["message"]


def test_storage_not_captured_leaves_the_online_storage_rules_unknown(run_cli, tmp_path):
    path = _write(tmp_path, "{name: g, kind: vm, host: a, state: on, memory_mb: 1024, vcpus: 1, os_type: HPUX, "
                            "guest_kit: B.06.30, unknown: [storage]}")
    code, out, err = run_cli("check", path, "g", "b", "--mode", "online", "--format", "json")
    assert code == 3, err
    report = json.loads(out)
    assert report["verdict"] == "unknown"
    statuses = {r["rule"]: r["status"] for r in report["results"]}
    assert statuses["ONLINE-STORAGE-LOCAL"] == statuses["ONLINE-STORAGE-DEVICE"] == "error"
    assert statuses["ONLINE-GUEST-KIT"] == "pass"


def test_cores_not_captured_leave_cpu_cores_not_applicable_and_a_known_count_decides(run_cli, tmp_path):
    guest = "{name: g, kind: vm, host: a, state: off, memory_mb: 1024, vcpus: 8}"
    for extra, status in (("", "notapplicable"), (", cpu_cores: 8", "pass"), (", cpu_cores: 7", "fail")):
        code, out, err = run_cli("check", _write(tmp_path, guest, extra), "g", "b", "--format", "json")
        statuses = {r["rule"]: r["status"] for r in json.loads(out)["results"]}
        assert statuses["CPU-CORES"] == status, (extra, err)
        assert code == (1 if status == "fail" else 0)
