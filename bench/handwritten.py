"""The built-in pack's offline migration checks written by hand in Python, pair by pair.

The baseline for bench/bench_matrix.py: the same checks as rules/*.rules (offline mode),
the way one would write them without a rule engine. It yields the same cells as
`Engine.matrix`, which the benchmark asserts before it reports any figure.
"""

from __future__ import annotations

import math
import re

from migcheck.lang.builtins import as_version

LABEL = re.compile(r"[A-Za-z0-9_.-]{1,256}")
RELEASE = re.compile(r"[A-Za-z][.][0-9]{2}[.][0-9]{2}([.][0-9]{2})?|[Vv]?[0-9]+([.][0-9]+)*")


def _within(v, low, below):
    return v >= as_version(low) and (below is None or v < as_version(below))


def guest_failures(guest):
    failing = []
    dio = guest["dio"]
    if any(f["label"] is None for f in dio):
        failing.append(("DIO-UNLABELED", "error"))
    if any(f["label"] is not None and (not LABEL.fullmatch(f["label"]) or f["label"] in (".", "..")) for f in dio):
        failing.append(("DIO-LABEL-FORMAT", "error"))
    if any(not f["pool"] for f in dio):
        failing.append(("DIO-NOT-POOLED", "error"))
    if any(f["label"] is not None and f["ip_name"] is not None and f["label"] != f["ip_name"] for f in dio):
        failing.append(("DIO-LABEL-IPNAME", "warning"))
    if guest["booted_on"] is not None and not RELEASE.fullmatch(guest["booted_on"]):
        failing.append(("INV-BOOTED-ON", "error"))
    kinds = {p["kind"] for p in guest["problems"]}
    for rule, wanted in (("INV-DUPLICATE-GUEST", {"duplicate-guest"}), ("INV-UNKNOWN-HOST", {"unknown-host"}),
                         ("INV-DIO-MISSING", {"dio-missing", "dio-duplicate"}),
                         ("INV-DIO-ASSIGNMENT", {"dio-assigned-elsewhere"}),
                         ("INV-NETWORK-DIO", {"network-dio-unlisted"})):
        if kinds & wanted:
            failing.append((rule, "error"))
    return failing


def _needed_memory(guest, target, memory_overhead):
    """Guest memory in 64 MB granules plus overhead by the target's release (rules/data/memory_overhead.yaml)."""
    dst = as_version(target["version"])
    row = next((r for r in memory_overhead if _within(dst, r["target_min"], r["target_below"])), None)
    if row is None:
        return guest["memory_mb"]
    memory = math.ceil(guest["memory_mb"] / row["granule_mb"]) * row["granule_mb"]
    cpus = (guest["vcpus"] or 1) if guest["kind"] == "vm" else 1
    overhead = math.ceil(cpus * (memory * row["per_cpu_fraction"] + row["per_cpu_mb"]) + row["per_guest_mb"])
    return memory + overhead


def migration_failures(guest, source, target, offline_paths, memory_overhead=()):
    failing = []
    src, dst = as_version(source["version"]), as_version(target["version"])
    if not any(p["kind"] == guest["kind"] and (
            _within(src, p["a_min"], p["a_below"]) and _within(dst, p["b_min"], p["b_below"])
            or _within(dst, p["a_min"], p["a_below"]) and _within(src, p["b_min"], p["b_below"]))
            for p in offline_paths):
        failing.append(("PATH-OFFLINE", "error"))
    if guest["state"] != "off":
        failing.append(("GUEST-RUNNING", "error"))
    labels = list(dict.fromkeys(f["label"] for f in guest["dio"] if f["label"] is not None))
    no_match = in_use = cross = False
    for label in labels:
        mine = [f for f in guest["dio"] if f["label"] == label]
        pooled = [f for f in target["dio_functions"] if f["pool"] and f["label"] == label]
        need, have = len(mine), len(pooled)
        if have < need:
            no_match = True
            continue
        if any(f["assigned_to"] is not None for f in pooled):
            in_use = True
        need_fla = sum(1 for f in mine if f["type"] == "FLA")
        have_fla = sum(1 for f in pooled if f["type"] == "FLA")
        if have_fla < need_fla or have - have_fla < need - need_fla:
            cross = True
    if no_match:
        failing.append(("DIO-NO-MATCH", "error"))
    if in_use:
        failing.append(("DIO-IN-USE", "warning"))
    if cross:
        failing.append(("DIO-CROSS-TYPE", "info"))
    if any(not s["shared_san"] for s in guest["storage"]):
        failing.append(("STORAGE-LOCAL", "warning"))
    if any(s["share"] for s in guest["storage"]):
        failing.append(("STORAGE-SHARED", "error"))
    if target["san_wwids"] is not None:
        seen = {w.lower() for w in target["san_wwids"]}
        if any(s["shared_san"] and s["wwid"] is not None and s["wwid"].lower() not in seen for s in guest["storage"]):
            failing.append(("STORAGE-VISIBLE", "error"))
    switches = target["vswitches"]
    if any(n["vswitch"] is not None and n["vswitch"] not in switches for n in guest["networks"]):
        failing.append(("VSWITCH-MISSING", "error"))
    if _needed_memory(guest, target, memory_overhead) > target["memory_mb"]["free"]:
        failing.append(("MEMORY-TARGET", "error"))
    return failing


def matrix(snapshot, offline_paths, memory_overhead=()):
    """(guest, target) -> (verdict, failing rule ids), offline, for every pair."""
    cells = []
    for guest in snapshot.guests:
        source = snapshot.host_by_name[guest["host"]]
        own = guest_failures(guest)
        for target in snapshot.hosts:
            if target is source:
                continue
            failing = own + migration_failures(guest, source, target, offline_paths, memory_overhead)
            blocked = any(sev == "error" for _, sev in failing)
            cells.append((guest["name"], target["name"], "blocked" if blocked else "ready",
                          sorted({r for r, _ in failing})))
    return cells
