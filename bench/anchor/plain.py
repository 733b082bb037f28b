"""The anchor policy's four checks in plain Python, as the anchor measured them.

Copied from ../shared/reference/anchor-policy/engines.py (the plain-Python part, unchanged
in substance): `check_pair` is the per-pair function a reviewer writes in ten minutes,
`fast_matrix` the same checks with per-VSP facts precomputed. Both read the anchor's own
inventory format (gen.py), not migcheck's snapshot.
"""

from __future__ import annotations


def pairs(inv):
    """Fleet matrix: every guest x every host other than its own (deterministic order)."""
    hosts = {h["name"]: h for h in inv["hosts"]}
    for g in inv["guests"]:
        s = hosts[g["host"]]
        for t in inv["hosts"]:
            if t["name"] != g["host"]:
                yield g, s, t


def version_ok(s, t):
    sp, tp, sv, tv = s["product"], t["product"], s["hpvm_version"], t["hpvm_version"]
    if sp == "ivm" and tp == "ivm":
        return ((sv == "3.5" and tv == "3.5") or (sv == "4.0" and tv == "4.0")
                or (float(sv) >= 4.1 and float(tv) >= 4.1))
    if sp == "vpars" and tp == "vpars":
        return sv in ("6.0", "6.1") and tv in ("6.0", "6.1")
    return False


def check_pair(g, s, t):
    """Naive per-pair function, no precomputation (mirrors the Rego/CEL logic)."""
    out = []
    if not version_ok(s, t):
        out.append("version")
    fns = g["dio_functions"]
    if any(f["label"] is None for f in fns):
        out.append("dio_label")
    need = {}
    for f in fns:
        L = f["label"]
        if L is not None:
            need[L] = need.get(L, 0) + 1
    for L, n in need.items():
        have = 0
        for p in t["dio_pool"]:
            if p["label"] == L and p["assigned_to"] is None:
                have += 1
        if n > have:
            out.append("dio_capacity")
            break
    if g["state"] != "Off":
        out.append("state")
    return sorted(out)


def naive_matrix(inv):
    return {g["name"] + "|" + t["name"]: check_pair(g, s, t) for g, s, t in pairs(inv)}


def fast_matrix(inv):
    """Hand-optimised floor: per-host / per-guest facts precomputed once."""
    hosts = inv["hosts"]
    free = []
    for h in hosts:
        d = {}
        for p in h["dio_pool"]:
            if p["assigned_to"] is None:
                d[p["label"]] = d.get(p["label"], 0) + 1
        free.append(d)
    idx = {h["name"]: i for i, h in enumerate(hosts)}
    n = len(hosts)
    vok = [[version_ok(hosts[i], hosts[j]) for j in range(n)] for i in range(n)]
    names = [h["name"] for h in hosts]
    res = {}
    for g in inv["guests"]:
        si = idx[g["host"]]
        fns = g["dio_functions"]
        unl = any(f["label"] is None for f in fns)
        need = {}
        for f in fns:
            L = f["label"]
            if L is not None:
                need[L] = need.get(L, 0) + 1
        need = tuple(need.items())
        on = g["state"] != "Off"
        row = vok[si]
        gn = g["name"] + "|"
        for j in range(n):
            if j == si:
                continue
            out = []
            if not row[j]:
                out.append("version")
            if unl:
                out.append("dio_label")
            fj = free[j]
            for L, c in need:
                if c > fj.get(L, 0):
                    out.append("dio_capacity")
                    break
            if on:
                out.append("state")
            res[gn + names[j]] = sorted(out)
    return res
