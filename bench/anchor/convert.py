"""The anchor inventory (gen.py's format) as a migcheck snapshot, field by field.

host: name, hpvm_version -> version, processor_family -> processor, product -> attrs.product,
dio_pool -> dio_functions (pool: true; label and assigned_to omitted when null). The anchor
has no memory or vswitches: fixed values no anchor rule reads. guest: name, kind, host,
state On/Off -> on/off, storage kind/shared -> backing/shared_san. A guest's own DIO
functions are not in its host's pool in the anchor; here they must be functions of its host
(`dio` lists hwpaths), so each is added to the host, assigned to the guest (so never free:
the capacity counts of every target are unchanged), under a hwpath unique on that host.
"""

from __future__ import annotations

import json
import sys


def to_snapshot(inv: dict) -> dict:
    hosts = []
    by_name = {}
    for h in inv["hosts"]:
        functions = []
        for p in h["dio_pool"]:
            fn = {"hwpath": p["hwpath"], "type": p["type"], "pool": True}
            if p["label"] is not None:
                fn["label"] = p["label"]
            if p["assigned_to"] is not None:
                fn["assigned_to"] = p["assigned_to"]
            functions.append(fn)
        host = {"name": h["name"], "version": h["hpvm_version"], "processor": h["processor_family"],
                "memory_mb": {"total": 262144, "free": 131072}, "vswitches": [],
                "dio_functions": functions, "attrs": {"product": h["product"]}}
        hosts.append(host)
        by_name[h["name"]] = host
    guests = []
    for number, g in enumerate(inv["guests"]):
        host = by_name[g["host"]]
        dio = []
        for k, f in enumerate(g["dio_functions"]):
            hwpath = f"1/{number}/{k}/{f['hwpath']}"
            fn = {"hwpath": hwpath, "type": f["type"], "pool": True, "assigned_to": g["name"]}
            if f["label"] is not None:
                fn["label"] = f["label"]
            host["dio_functions"].append(fn)
            dio.append(hwpath)
        guests.append({
            "name": g["name"], "kind": g["kind"], "host": g["host"], "state": g["state"].lower(),
            "memory_mb": 4096, "vcpus": 1, "dio": dio,
            "storage": [{"backing": s["kind"], "path": s["path"], "shared_san": s["shared"]} for s in g["storage"]],
        })
    return {"snapshot": 1, "site": "anchor", "collected": inv["generated"], "hosts": hosts, "guests": guests}


NAMES = {"ANCHOR-VERSION": "version", "ANCHOR-DIO-LABEL": "dio_label", "ANCHOR-DIO-CAPACITY": "dio_capacity",
         "ANCHOR-STATE": "state"}


def main(argv=None) -> int:
    """python -m bench.anchor.convert H G [seed] > estate.json"""
    from bench.anchor.gen import generate

    argv = sys.argv[1:] if argv is None else argv
    hosts, guests = int(argv[0]), int(argv[1])
    seed = int(argv[2]) if len(argv) > 2 else 42
    json.dump(to_snapshot(generate(hosts, guests, seed)), sys.stdout, separators=(",", ":"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
