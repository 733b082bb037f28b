"""The built-in pack's offline checks written by hand in Python, pair by pair: the honest baseline.

What a reviewer writes to check the engine against: one function per pair
(`migration_failures`), the guest's own checks once per guest, the data tables' bounds parsed
once and each release string parsed once (a cached parser), the snapshot indexed by guest name
and by host (`Facts`), nothing artificially slow and no per-VSP precomputation. It yields the
same failing rules as `migcheck matrix` (offline), which bench/bench_matrix.py asserts, pair by
pair, before it prints any figure. The same checks with per-guest and per-VSP facts hoisted out
of the pair loop, the reviewer's fastest plain version, are bench/floor.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
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
            return memory_for_row(guest, row)
    return guest["memory_mb"]


def memory_for_row(guest, row):
    """The guest's memory in the row's granules plus the row's overhead for it."""
    memory = math.ceil(guest["memory_mb"] / row["granule_mb"]) * row["granule_mb"]
    cpus = (guest["vcpus"] or 1) if guest["kind"] == "vm" else 1
    # (in parts per million, exactly, as the rules count: 0.4% is 4000, 8.3% is 83000)
    millionths = cpus * (memory * round(row["per_cpu_fraction"] * 1_000_000) + row["per_cpu_mb"] * 1_000_000) \
        + memory * round(row.get("per_guest_fraction", 0) * 1_000_000) + row["per_guest_mb"] * 1_000_000
    return memory + -(-millionths // 1_000_000)


def vcpu_table(rows):
    """rules/data/vcpu_limits.yaml with its bounds parsed: (min, below, max_vcpus)."""
    return [(release(r["release_min"]), r["release_below"] and release(r["release_below"]), r["max_vcpus"])
            for r in rows]


def reserves(guest):
    """Whether a guest holds its DIO functions even while off (resources_reserved; a vPar's default)."""
    reserved = guest["resources_reserved"]
    return guest["kind"] == "vpar" if reserved is None else reserved


@dataclass(frozen=True)
class Facts:
    """What every pair's checks read besides the pair: the data tables parsed, the snapshot indexed."""

    table: list
    overheads: list
    vcpu_limits: list
    releasable: dict  # a guest name -> some guest of that name is off and reserves nothing (its DIO is available)
    guests_on: dict  # a host's name -> the guests whose host it is
    runnable: dict  # a guest name -> how many entries of `guests` have it

    @classmethod
    def of(cls, snapshot, tables):
        releasable, guests_on, runnable = {}, {}, {}
        for g in snapshot.guests:
            releasable[g["name"]] = releasable.get(g["name"], False) or (g["state"] == "off" and not reserves(g))
            guests_on.setdefault(g["host"], []).append(g)
            runnable[g["name"]] = runnable.get(g["name"], 0) + 1
        return cls(offline_table(tables["offline_paths"]), overhead_table(tables["memory_overhead"]),
                   vcpu_table(tables["vcpu_limits"]), releasable, guests_on, runnable)


def vcpu_limit(limits, dst):
    for low, below, most in limits:
        if low <= dst and (below is None or dst < below):
            return most
    return None


def path_ok(table, kind, src, dst):
    for k, a_min, a_below, b_min, b_below in table:
        if k == kind and ((a_min <= src and (a_below is None or src < a_below)
                           and b_min <= dst and (b_below is None or dst < b_below))
                          or (a_min <= dst and (a_below is None or dst < a_below)
                              and b_min <= src and (b_below is None or src < b_below))):
            return True
    return False


def nfs_copied(store, source, target):
    """Whether an NFS backing file needs no copy: both VSPs at 4.3 or later, the target mounts its file system alike."""
    if release(source["version"]) < NFS_RELEASE or release(target["version"]) < NFS_RELEASE:
        return False
    for m in source["nfs_mounts"] or ():
        if m["mount_point"] + "/" in store["path"]:
            for t in target["nfs_mounts"] or ():
                if t["mount_point"] == m["mount_point"] and t["source"] == m["source"] and t["options"] == m["options"]:
                    return True
    return False


def local_stores(guest, source, target):
    """STORAGE-LOCAL's stores: not on the SAN, not empty or attached, not NFS files the target mounts alike."""
    stores = [s for s in guest["storage"] if s["backing"] not in ("null", "attach") and not s["shared_san"]]
    nfs = {s["path"] for s in stores if s["nfs"] and s["backing"] == "file" and nfs_copied(s, source, target)}
    return [s for s in stores if s["path"] not in nfs]


def guest_failures(guest, facts=None):
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
    if facts is not None and facts.runnable[guest["name"]] != 1 and "INV-DUPLICATE-GUEST" not in failing:
        failing.append("INV-DUPLICATE-GUEST")
    return failing


def migration_failures(guest, source, target, facts):
    """The failing offline migration rules for one pair."""
    failing = []
    src, dst = release(source["version"]), release(target["version"])
    kind = guest["kind"]
    if not path_ok(facts.table, kind, src, dst):
        failing.append("PATH-OFFLINE")
    if guest["state"] != "off":
        failing.append("GUEST-RUNNING")
    if guest["os_type"] not in (None, "HPUX") and dst >= V6:
        failing.append("GUEST-OS-TARGET")
    vcpus = guest["vcpus"]
    if vcpus is not None:
        if target["cpu_cores"] is not None and vcpus > target["cpu_cores"]:
            failing.append("CPU-CORES")
        if kind == "vm":
            most = vcpu_limit(facts.vcpu_limits, dst)
            if most is not None and vcpus > most:
                failing.append("CPU-MAX-VCPUS")
        if kind == "vpar" and target["cpu_cores_free"] is not None and vcpus > target["cpu_cores_free"]:
            failing.append("VPAR-CORES-FREE")
    if guest["dio"]:
        no_match = in_use = cross = reserved = False
        reserving = reserves(guest)
        for label in dict.fromkeys(f["label"] for f in guest["dio"] if f["label"] is not None):
            need = need_fla = 0
            for f in guest["dio"]:
                if f["label"] == label:
                    need += 1
                    need_fla += f["type"] == "FLA"
            have = have_fla = busy = held = 0
            for f in target["dio_functions"]:
                if f["pool"] and f["label"] == label:
                    have += 1
                    have_fla += f["type"] == "FLA"
                    holder = f["assigned_to"]
                    busy += holder is not None
                    held += holder is not None and holder != guest["name"] and not facts.releasable.get(holder, False)
            if have < need:
                no_match = True
            if busy and have >= need:
                in_use = True
            if (have_fla < need_fla or have - have_fla < need - need_fla) and have >= need:
                cross = True
            if reserving and have - held < need <= have:
                reserved = True
        if no_match:
            failing.append("DIO-NO-MATCH")
        if in_use:
            failing.append("DIO-IN-USE")
        if reserved:
            failing.append("DIO-RESERVED")
        if cross:
            failing.append("DIO-CROSS-TYPE")
    if local_stores(guest, source, target):
        failing.append("STORAGE-LOCAL")
    if any(s["share"] and s["path"] is not None for s in guest["storage"]):  # (a path list drops nulls)
        failing.append("STORAGE-SHARED")
    if target["restricted_wwids"] is not None:
        restricted = {w.lower() for w in target["restricted_wwids"]}
        if any(s["wwid"] is not None and s["wwid"].lower() in restricted for s in guest["storage"]):
            failing.append("STORAGE-RESTRICTED")
    if guest["npiv"] and (src < NPIV_RELEASE or dst < NPIV_RELEASE):
        failing.append("NPIV-RELEASE")
    if target["san_wwids"] is not None:
        seen = {w.lower() for w in target["san_wwids"]}
        if any(s["shared_san"] and s["wwid"] is not None and s["wwid"].lower() not in seen for s in guest["storage"]):
            failing.append("STORAGE-VISIBLE")
    switches = target["vswitches"]
    networks = guest["networks"]
    if any(n["vswitch"] is not None and n["vswitch"] not in switches for n in networks):
        failing.append("VSWITCH-MISSING")
    macs = {n["mac"] for n in networks if n["mac"] is not None}  # (normalised by the snapshot's view)
    if macs:
        taken = {n["mac"] for g in facts.guests_on.get(target["name"], ()) for n in g["networks"]}
        if macs & taken:
            failing.append("NETWORK-MAC-IN-USE")
    details = target["vswitch_details"]
    if details is not None:
        used = {n["vswitch"] for n in networks if n["vswitch"] is not None}
        if any(v["name"] in used and v["state"] == "Down" for v in details):
            failing.append("VSWITCH-DOWN")
        avio = {n["vswitch"] for n in networks if n["adapter"] == "avio_lan" and n["vswitch"] is not None}
        if any(v["name"] in avio and v["pnic"] is None for v in details):
            failing.append("VSWITCH-AVIO-PNIC")
    if needed_memory(guest, dst, facts.overheads) > target["memory_mb"]["free"]:
        failing.append("MEMORY-TARGET")
    return failing


NPIV_RELEASE = NFS_RELEASE = release("4.3")  # NPIV guests migrate, NFS backing stores exist, from 4.3 on
V6 = release("6.0")  # V6.x VSPs run HP-UX guests only


def matrix(snapshot, tables):
    """"guest|target" -> sorted failing rule ids, offline, for every pair (as the engine's cells give them).
    `tables`: the rule set's data tables (`RuleSet.tables`)."""
    facts = Facts.of(snapshot, tables)
    hosts = snapshot.host_by_name
    out = {}
    for guest in snapshot.guests:
        source = hosts[guest["host"]]
        own = guest_failures(guest, facts)
        prefix = guest["name"] + "|"
        for target in snapshot.hosts:
            if target is not source:
                out[prefix + target["name"]] = sorted(own + migration_failures(guest, source, target, facts))
    return out
