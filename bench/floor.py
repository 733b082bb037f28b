"""The built-in pack's offline checks by hand with per-guest and per-VSP facts hoisted: the floor.

The reviewer's fastest plain version of bench/handwritten.py (the same checks, the same dict
"guest|target" -> sorted failing rule ids): everything that depends on the guest alone (its own
rules, its labels' needs, its vswitches, MACs, WWIDs, stores) is worked out once per guest,
everything that depends on the VSP alone (its release's path, vCPU and memory rows, its free
functions per label, its vswitches, the MACs and WWIDs it holds) once per VSP, so the pair loop
only compares them. bench/bench_matrix.py asserts it equal to the engine before printing.
"""

from __future__ import annotations


from bench.handwritten import (V6, Facts, NFS_RELEASE, NPIV_RELEASE, guest_failures, memory_for_row, path_ok, release,
                               reserves, vcpu_limit)


class Target:
    """What the checks read of one VSP as a target, worked out once."""

    __slots__ = ("host", "name", "dst", "cores", "cores_free", "most_vcpus", "free", "row", "switches", "san",
                 "restricted", "down", "no_pnic", "macs", "labels", "mounts", "old", "nfs", "v6")

    def __init__(self, host, facts: Facts):
        self.host = host
        self.name = host["name"]
        self.dst = dst = release(host["version"])
        self.cores, self.cores_free = host["cpu_cores"], host["cpu_cores_free"]
        self.most_vcpus = vcpu_limit(facts.vcpu_limits, dst)
        self.free = host["memory_mb"]["free"]
        self.row = next((i for i, (low, below, _) in enumerate(facts.overheads)
                         if low <= dst and (below is None or dst < below)), None)
        self.switches = set(host["vswitches"])
        self.san = None if host["san_wwids"] is None else {w.lower() for w in host["san_wwids"]}
        self.restricted = None if host["restricted_wwids"] is None else {w.lower() for w in host["restricted_wwids"]}
        details = host["vswitch_details"]
        self.down = None if details is None else {v["name"] for v in details if v["state"] == "Down"}
        self.no_pnic = None if details is None else {v["name"] for v in details if v["pnic"] is None}
        self.macs = {n["mac"] for g in facts.guests_on.get(self.name, ()) for n in g["networks"]}
        self.mounts = {(m["mount_point"], m["source"], m["options"]) for m in host["nfs_mounts"] or ()}
        self.old = dst < NPIV_RELEASE
        self.nfs = dst >= NFS_RELEASE  # takes NFS backing stores
        self.v6 = dst >= V6
        # per label: [pooled, pooled FLA, assigned, {holder: functions it holds that stay held}, held in all]
        labels = {}
        for f in host["dio_functions"]:
            if f["pool"]:
                entry = labels.setdefault(f["label"], [0, 0, 0, {}, 0])
                entry[0] += 1
                entry[1] += f["type"] == "FLA"
                holder = f["assigned_to"]
                if holder is not None:
                    entry[2] += 1
                    if not facts.releasable.get(holder, False):
                        entry[3][holder] = entry[3].get(holder, 0) + 1
                        entry[4] += 1
        self.labels = labels


NO_LABEL = (0, 0, 0, {}, 0)


class Guest:
    """What the checks read of one guest, worked out once."""

    __slots__ = ("name", "own", "kind", "running", "vcpus", "needs", "reserving", "shared", "visible", "wwids",
                 "used", "avio", "macs", "local", "nfs", "npiv", "memory", "not_hpux")

    def __init__(self, guest, facts: Facts, source):
        self.name = guest["name"]
        self.own = guest_failures(guest, facts)
        self.kind = guest["kind"]
        self.running = guest["state"] != "off"
        self.vcpus = guest["vcpus"]
        needs = {}
        for f in guest["dio"]:
            if f["label"] is not None:
                need = needs.setdefault(f["label"], [0, 0])
                need[0] += 1
                need[1] += f["type"] == "FLA"
        self.needs = [(label, n, fla) for label, (n, fla) in needs.items()]
        self.reserving = reserves(guest)
        storage = guest["storage"]
        self.shared = any(s["share"] and s["path"] is not None for s in storage)
        self.visible = [s["wwid"].lower() for s in storage if s["shared_san"] and s["wwid"] is not None]
        self.wwids = [s["wwid"].lower() for s in storage if s["wwid"] is not None]
        networks = guest["networks"]
        self.used = {n["vswitch"] for n in networks if n["vswitch"] is not None}
        self.avio = {n["vswitch"] for n in networks if n["adapter"] == "avio_lan" and n["vswitch"] is not None}
        self.macs = {n["mac"] for n in networks if n["mac"] is not None}
        stores = [s for s in storage if s["backing"] not in ("null", "attach") and not s["shared_san"]]
        # an NFS backing file is not copied to a target that mounts one of its source mounts alike
        nfs = {}
        for s in stores:
            if s["nfs"] and s["backing"] == "file" and release(source["version"]) >= NFS_RELEASE:
                keys = {(m["mount_point"], m["source"], m["options"]) for m in source["nfs_mounts"] or ()
                        if m["mount_point"] + "/" in s["path"]}
                if keys:
                    nfs.setdefault(s["path"], set()).update(keys)
        self.local = any(s["path"] not in nfs for s in stores)  # local on every target
        self.nfs = list(nfs.values())  # local on a target that mounts none of a path's mounts alike
        self.npiv = bool(guest["npiv"]) and release(source["version"]) < NPIV_RELEASE, bool(guest["npiv"])
        self.memory = [memory_for_row(guest, row) for _, _, row in facts.overheads]
        self.not_hpux = guest["os_type"] not in (None, "HPUX")


def matrix(snapshot, tables):
    """"guest|target" -> sorted failing rule ids, offline, for every pair: bench.handwritten.matrix's dict."""
    facts = Facts.of(snapshot, tables)
    targets = [Target(h, facts) for h in snapshot.hosts]
    paths: dict = {}  # (kind, source release) -> per target whether Table 32 has a path
    hosts = snapshot.host_by_name
    out = {}
    for guest in snapshot.guests:
        source = hosts[guest["host"]]
        g = Guest(guest, facts, source)
        src = release(source["version"])
        ok = paths.get((g.kind, src))
        if ok is None:
            ok = paths[(g.kind, src)] = [path_ok(facts.table, g.kind, src, t.dst) for t in targets]
        prefix = g.name + "|"
        own, vcpus, needs, macs, used, avio = g.own, g.vcpus, g.needs, g.macs, g.used, g.avio
        source_old, has_npiv = g.npiv
        for t, path in zip(targets, ok):
            if t.host is source:
                continue
            failing = own.copy()
            if not path:
                failing.append("PATH-OFFLINE")
            if g.running:
                failing.append("GUEST-RUNNING")
            if g.not_hpux and t.v6:
                failing.append("GUEST-OS-TARGET")
            if vcpus is not None:
                if t.cores is not None and vcpus > t.cores:
                    failing.append("CPU-CORES")
                if g.kind == "vm" and t.most_vcpus is not None and vcpus > t.most_vcpus:
                    failing.append("CPU-MAX-VCPUS")
                if g.kind == "vpar" and t.cores_free is not None and vcpus > t.cores_free:
                    failing.append("VPAR-CORES-FREE")
            if needs:
                no_match = in_use = cross = reserved = False
                for label, need, need_fla in needs:
                    have, have_fla, busy, holders, held = t.labels.get(label, NO_LABEL)
                    if have < need:
                        no_match = True
                        continue
                    if busy:
                        in_use = True
                    if have_fla < need_fla or have - have_fla < need - need_fla:
                        cross = True
                    if g.reserving and have - (held - holders.get(g.name, 0)) < need:
                        reserved = True
                if no_match:
                    failing.append("DIO-NO-MATCH")
                if in_use:
                    failing.append("DIO-IN-USE")
                if reserved:
                    failing.append("DIO-RESERVED")
                if cross:
                    failing.append("DIO-CROSS-TYPE")
            if g.local or (g.nfs and (not t.nfs or any(not (keys & t.mounts) for keys in g.nfs))):
                failing.append("STORAGE-LOCAL")
            if g.shared:
                failing.append("STORAGE-SHARED")
            if t.restricted is not None and any(w in t.restricted for w in g.wwids):
                failing.append("STORAGE-RESTRICTED")
            if has_npiv and (source_old or t.old):
                failing.append("NPIV-RELEASE")
            if t.san is not None and any(w not in t.san for w in g.visible):
                failing.append("STORAGE-VISIBLE")
            if not used <= t.switches:
                failing.append("VSWITCH-MISSING")
            if macs and not macs.isdisjoint(t.macs):
                failing.append("NETWORK-MAC-IN-USE")
            if t.down is not None and not used.isdisjoint(t.down):
                failing.append("VSWITCH-DOWN")
            if t.no_pnic is not None and not avio.isdisjoint(t.no_pnic):
                failing.append("VSWITCH-AVIO-PNIC")
            if (guest["memory_mb"] if t.row is None else g.memory[t.row]) > t.free:
                failing.append("MEMORY-TARGET")
            failing.sort()
            out[prefix + t.name] = failing
    return out
