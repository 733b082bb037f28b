"""The built-in pack's offline checks written by hand in Python, pair by pair: the honest baseline.

What a reviewer writes in ten minutes to check the engine against: one function per pair
(`migration_failures`), the guest's own checks once per guest, Table 32's bounds parsed
once and each release string parsed once (a cached parser), nothing artificially slow and
no per-VSP precomputation. It yields the same failing rules as `migcheck matrix` (offline),
which bench/bench_matrix.py asserts, pair by pair, before it prints any figure.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from migcheck.lang.builtins import as_version

LABEL = re.compile(r"[A-Za-z0-9_.-]{1,256}")
RELEASE = re.compile(r"[A-Za-z][.][0-9]{2}[.][0-9]{2}([.][0-9]{2})?|[Vv]?[0-9]+([.][0-9]+)*")
INVENTORY = (("INV-DUPLICATE-GUEST", {"duplicate-guest"}), ("INV-UNKNOWN-HOST", {"unknown-host"}),
             ("INV-DIO-MISSING", {"dio-missing", "dio-duplicate"}),
             ("INV-DIO-ASSIGNMENT", {"dio-assigned-elsewhere"}), ("INV-NETWORK-DIO", {"network-dio-unlisted"}))


@lru_cache(maxsize=None)
def release(text):
    return as_version(text)


def offline_table(rows):
    """Table 32 with its bounds parsed: (kind, a_min, a_below, b_min, b_below), None for "or later"."""
    return [(r["kind"], release(r["a_min"]), r["a_below"] and release(r["a_below"]),
             release(r["b_min"]), r["b_below"] and release(r["b_below"])) for r in rows]


def overhead_table(rows):
    """rules/data/memory_overhead.yaml with its bounds parsed."""
    return [(release(r["target_min"]), r["target_below"] and release(r["target_below"]), r) for r in rows]


def needed_memory(guest, dst, overheads):
    """The guest's memory in granules plus the overhead of the first row covering the target's release."""
    for low, below, row in overheads:
        if low <= dst and (below is None or dst < below):
            memory = math.ceil(guest["memory_mb"] / row["granule_mb"]) * row["granule_mb"]
            cpus = (guest["vcpus"] or 1) if guest["kind"] == "vm" else 1
            return memory + math.ceil(cpus * (memory * row["per_cpu_fraction"] + row["per_cpu_mb"])
                                      + row["per_guest_mb"])
    return guest["memory_mb"]


def guest_failures(guest):
    failing = []
    dio = guest["dio"]
    if any(f["label"] is None for f in dio):
        failing.append("DIO-UNLABELED")
    if any(f["label"] is not None and (not LABEL.fullmatch(f["label"]) or f["label"] in (".", "..")) for f in dio):
        failing.append("DIO-LABEL-FORMAT")
    if any(not f["pool"] for f in dio):
        failing.append("DIO-NOT-POOLED")
    if any(f["label"] is not None and f["ip_name"] is not None and f["label"] != f["ip_name"] for f in dio):
        failing.append("DIO-LABEL-IPNAME")
    if guest["booted_on"] is not None and not RELEASE.fullmatch(guest["booted_on"]):
        failing.append("INV-BOOTED-ON")
    kinds = {p["kind"] for p in guest["problems"]}
    failing.extend(rule for rule, wanted in INVENTORY if kinds & wanted)
    return failing


def migration_failures(guest, source, target, table, overheads):
    """The failing offline migration rules for one pair."""
    failing = []
    src, dst = release(source["version"]), release(target["version"])
    kind = guest["kind"]
    for k, a_min, a_below, b_min, b_below in table:
        if k == kind and ((a_min <= src and (a_below is None or src < a_below)
                           and b_min <= dst and (b_below is None or dst < b_below))
                          or (a_min <= dst and (a_below is None or dst < a_below)
                              and b_min <= src and (b_below is None or src < b_below))):
            break
    else:
        failing.append("PATH-OFFLINE")
    if guest["state"] != "off":
        failing.append("GUEST-RUNNING")
    if guest["dio"]:
        no_match = in_use = cross = False
        for label in dict.fromkeys(f["label"] for f in guest["dio"] if f["label"] is not None):
            need = need_fla = 0
            for f in guest["dio"]:
                if f["label"] == label:
                    need += 1
                    need_fla += f["type"] == "FLA"
            have = have_fla = busy = 0
            for f in target["dio_functions"]:
                if f["pool"] and f["label"] == label:
                    have += 1
                    have_fla += f["type"] == "FLA"
                    busy += f["assigned_to"] is not None
            if have < need:
                no_match = True
            if busy and have >= need:
                in_use = True
            if (have_fla < need_fla or have - have_fla < need - need_fla) and have >= need:
                cross = True
        if no_match:
            failing.append("DIO-NO-MATCH")
        if in_use:
            failing.append("DIO-IN-USE")
        if cross:
            failing.append("DIO-CROSS-TYPE")
    if any(not s["shared_san"] for s in guest["storage"]):
        failing.append("STORAGE-LOCAL")
    if any(s["share"] for s in guest["storage"]):
        failing.append("STORAGE-SHARED")
    if target["san_wwids"] is not None:
        seen = {w.lower() for w in target["san_wwids"]}
        if any(s["shared_san"] and s["wwid"] is not None and s["wwid"].lower() not in seen for s in guest["storage"]):
            failing.append("STORAGE-VISIBLE")
    switches = target["vswitches"]
    if any(n["vswitch"] is not None and n["vswitch"] not in switches for n in guest["networks"]):
        failing.append("VSWITCH-MISSING")
    if needed_memory(guest, dst, overheads) > target["memory_mb"]["free"]:
        failing.append("MEMORY-TARGET")
    return failing


def matrix(snapshot, offline_paths, memory_overhead):
    """"guest|target" -> sorted failing rule ids, offline, for every pair (as the engine's cells give them)."""
    table = offline_table(offline_paths)
    overheads = overhead_table(memory_overhead)
    hosts = snapshot.host_by_name
    out = {}
    for guest in snapshot.guests:
        source = hosts[guest["host"]]
        own = guest_failures(guest)
        prefix = guest["name"] + "|"
        for target in snapshot.hosts:
            if target is not source:
                out[prefix + target["name"]] = sorted(own + migration_failures(guest, source, target, table, overheads))
    return out
