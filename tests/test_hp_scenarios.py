"""Verdicts re-derived from HP's text by an independent reading (QA pass), checked over whole estates.

Each oracle below is written from HP's words, not from the pack's data tables, and the
estate's `matrix` must agree with it in every cell:

- Table 32 (V6.1 Administrator Guide 12.1.2), forward or backward: Integrity VM 3.5 <-> 3.5,
  4.0 <-> 4.0, 4.1 or later <-> 4.1 or later; vPars between V6.x releases forward or backward
  (V6.3 Release Notes 5.7.1/5.7.2, which widen the table's vPars V6.0 <-> V6.1 row).
- Online paths (V6.1 Release Notes Table 3; IVM 4.3 Guide Table 9-1): 4.1 -> 4.1, 4.2;
  4.2 -> 4.2, 4.2.5, 4.3; 4.2.5 -> 4.2.5, 4.3; 4.3 -> 4.3, 6.1; 6.x forward to the same or a
  later 6.x (V6.3 Release Notes p.39); fallback to a VSP at or above the release the guest
  booted on (IVM 4.2 Guide p.168; V6.3 Release Notes p.39). vPars never migrate online.
- Memory overhead (V6.1 Administrator Guide p.32: `cpu_count * (mem * 0.4% + 64M)`; V6.3
  Administrator Guide p.58: `cpu_count * mem * 0.4% + 64M`; cpu_count the vCPUs of a VM, 1 for
  a vPar; memory in 64 MB granules, p.62), in exact rational arithmetic, rounded up to a whole
  MB: a target with exactly memory + overhead free is ready, one MB less is blocked.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
import yaml

RELEASES = ["3.5", "4.0", "4.1", "4.2", "4.2.5", "4.3", "6.0", "6.1", "6.1.5", "6.2", "6.3"]


def _key(release: str) -> tuple[int, ...]:
    return tuple(int(p) for p in release.split("."))


def _series(release: str) -> str:
    """The release a row of HP's tables names (6.1.5 is a 6.1 update)."""
    return ".".join(release.split(".")[:2]) if release.startswith("6.") else release


def offline_ok(kind: str, a: str, b: str) -> bool:
    if kind == "vpar":
        return a.startswith("6.") and b.startswith("6.")
    if a == b == "3.5" or a == b == "4.0":
        return True
    later = lambda r: _key(r) >= (4, 1)  # noqa: E731
    return later(a) and later(b)


TABLE_3 = {"4.1": {"4.1", "4.2"}, "4.2": {"4.2", "4.2.5", "4.3"}, "4.2.5": {"4.2.5", "4.3"}, "4.3": {"4.3", "6.1"}}


def online_ok(kind: str, a: str, b: str, booted_on: str | None = None) -> bool:
    if kind == "vpar":
        return False
    if booted_on is not None and _key(booted_on) <= _key(b) < _key(a):
        return True  # fallback, not rebooted since
    if _series(b) in TABLE_3.get(_series(a), ()):
        return True
    return _key(a) >= (6, 1) and _key(b) >= _key(a)


def _host(name: str, release: str, free: int = 1 << 20) -> dict:
    return {"name": name, "version": release, "processor": "Itanium 9300",
            "memory_mb": {"total": 1 << 21, "free": free}, "vswitches": ["vs1"],
            "online_migration": {"enabled": True, "licensed": True}}


def _cells(run_cli, tmp_path, estate: dict, *options: str) -> dict[tuple[str, str], list[str]]:
    path = tmp_path / "estate.yaml"
    path.write_text(yaml.safe_dump(estate, sort_keys=False))
    code, out, err = run_cli("matrix", path, "--format", "json", *options)
    assert code in (0, 1), err
    return {(c["guest"], c["target"]): c["failing"] for c in json.loads(out)["cells"]}


def _path_estate(state: str, booted_on: str | None = None) -> dict:
    hosts = [_host(f"h{r}", r) for r in RELEASES]
    guests = []
    for r in RELEASES:
        for kind in ("vm", "vpar"):
            guest = {"name": f"{kind}{r}", "kind": kind, "host": f"h{r}", "state": state, "memory_mb": 1024,
                     "vcpus": 1, "networks": [{"vswitch": "vs1"}]}
            if booted_on is not None and kind == "vm":
                guest["booted_on"] = booted_on
            guests.append(guest)
    return {"snapshot": 1, "hosts": hosts, "guests": guests}


def _path_cells():
    for a in RELEASES:
        for b in RELEASES:
            if a != b:
                for kind in ("vm", "vpar"):
                    yield kind, a, b


def test_offline_paths_are_table_32_forward_and_backward(run_cli, tmp_path):
    cells = _cells(run_cli, tmp_path, _path_estate("off"))
    wrong = [(kind, a, b, offline_ok(kind, a, b)) for kind, a, b in _path_cells()
             if ("PATH-OFFLINE" not in cells[(f"{kind}{a}", f"h{b}")]) != offline_ok(kind, a, b)]
    assert wrong == []
    ready = [k for k, v in cells.items() if not v]
    assert ("vpar6.3", "h6.0") in ready and ("vm6.3", "h4.1") in ready and ("vm3.5", "h4.0") not in ready


def test_online_paths_are_table_3_and_the_6x_forward_paths(run_cli, tmp_path):
    cells = _cells(run_cli, tmp_path, _path_estate("on"), "--mode", "online")
    wrong = []
    for kind, a, b in _path_cells():
        failing = cells[(f"{kind}{a}", f"h{b}")]
        got = "ONLINE-PATH" not in failing and "ONLINE-VPAR" not in failing
        if got != online_ok(kind, a, b):
            wrong.append((kind, a, b, online_ok(kind, a, b), failing))
    assert wrong == []
    assert cells[("vm4.3", "h6.1.5")] == [] and cells[("vm6.1.5", "h6.3")] == []


@pytest.mark.parametrize("booted_on", ["4.1", "4.2.5", "6.1.5", "6.2"])
def test_online_fallback_to_at_or_above_the_boot_release(run_cli, tmp_path, booted_on):
    cells = _cells(run_cli, tmp_path, _path_estate("on", booted_on), "--mode", "online")
    wrong = []
    for kind, a, b in _path_cells():
        if kind != "vm" or _key(a) < _key(booted_on):
            continue  # a guest is not on a VSP older than the one it booted on
        failing = cells[(f"vm{a}", f"h{b}")]
        want = online_ok("vm", a, b, booted_on)
        if ("ONLINE-PATH" not in failing) != want:
            wrong.append((a, b, want, failing))
    assert wrong == []


def overhead_mb(release: str, kind: str, memory: int, vcpus: int) -> tuple[int, int]:
    """(memory in 64 MB granules, overhead in whole MB) as HP's formulas give them, exactly."""
    cpus = vcpus if kind == "vm" else 1
    if _series(release) == "6.1":
        granted = math.ceil(Fraction(memory, 64)) * 64
        return granted, math.ceil(cpus * (Fraction(granted) * Fraction(4, 1000) + 64))
    if _series(release) == "6.3":
        granted = math.ceil(Fraction(memory, 64)) * 64
        return granted, math.ceil(cpus * Fraction(granted) * Fraction(4, 1000) + 64)
    if release.startswith("4."):  # Integrity VM 4.x: "An additional 8.3% of memory" (sizing white paper, p.14)
        return memory, math.ceil(Fraction(memory) * Fraction(83, 1000))
    return memory, 0  # no documented formula (the table's description says so)


# (kind, memory MB, vCPUs): HP's own examples, granule edges, and sizes where binary floats
# land just above a whole MB (22400 MB x 5 on 6.1 is 768 MB exactly)
GUESTS = [("vm", 16384, 4), ("vpar", 16384, 16), ("vm", 16300, 4), ("vm", 22400, 5), ("vm", 44800, 5),
          ("vm", 11200, 15), ("vm", 1600, 16), ("vm", 8000, 1), ("vm", 65, 1), ("vm", 64, 1), ("vpar", 262144, 8),
          ("vm", 262144, 16), ("vm", 30400, 5), ("vm", 97600, 5), ("vpar", 63, 2)]


@pytest.mark.parametrize("release", ["6.1", "6.1.5", "6.3", "4.2.5", "4.3", "6.2"])
def test_memory_with_overhead_at_the_exact_boundary(run_cli, tmp_path, release):
    hosts = [_host("src", release, 0)]
    guests = []
    for i, (kind, memory, vcpus) in enumerate(GUESTS):
        granted, overhead = overhead_mb(release, kind, memory, vcpus)
        need = granted + overhead
        hosts += [_host(f"fit{i}", release, need), _host(f"short{i}", release, need - 1)]
        guests.append({"name": f"g{i}", "kind": kind, "host": "src", "state": "off", "memory_mb": memory,
                       "vcpus": vcpus, "networks": [{"vswitch": "vs1"}]})
    cells = _cells(run_cli, tmp_path, {"snapshot": 1, "hosts": hosts, "guests": guests})
    wrong = [(GUESTS[i], cells[(f"g{i}", f"fit{i}")], cells[(f"g{i}", f"short{i}")]) for i in range(len(GUESTS))
             if "MEMORY-TARGET" in cells[(f"g{i}", f"fit{i}")]
             or "MEMORY-TARGET" not in cells[(f"g{i}", f"short{i}")]]
    assert wrong == []


def test_the_oracle_reproduces_hps_worked_examples():
    """V6.1 p.32: a 16G 4-vCPU VM "roughly about 512M", a 16G vPar 128M; V6.3 p.58: the VM 320MB."""
    assert overhead_mb("6.1", "vm", 16384, 4)[1] == 519  # 4 * (65.536 + 64) = 518.144
    assert overhead_mb("6.1", "vpar", 16384, 16)[1] == 130  # 65.536 + 64
    assert overhead_mb("6.3", "vm", 16384, 4)[1] == 327  # 262.144 + 64
    assert overhead_mb("6.1", "vm", 22400, 5)[1] == 768
    # the sizing white paper, p.14: a 10 GB VM needs 10.83 GB, a 4 GB VM "approximately 4.33 GB"
    assert sum(overhead_mb("4.2", "vm", 10240, 1)) == 11090  # 10.83 GB is 11089.92 MB
    assert sum(overhead_mb("4.2", "vm", 4096, 2)) == 4436  # 4.33 GB is 4433.92 MB


@pytest.mark.parametrize("release", ["6.1", "6.1.5", "6.3", "4.2.5", "4.3", "6.2"])
def test_plan_effects_count_the_overhead_as_hp_and_memory_target_do(release):
    """A wave's effects take memory + overhead from the target: the same whole MB as HP's formula."""
    from migcheck.estate.effects import memory_parts_mb

    for kind, memory, vcpus in GUESTS:
        guest = {"kind": kind, "memory_mb": memory, "vcpus": vcpus}
        assert memory_parts_mb(guest, release) == overhead_mb(release, kind, memory, vcpus), (kind, memory, vcpus)
