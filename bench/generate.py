"""A seeded generator of synthetic HP vPars / Integrity VM estates.

`generate(hosts, guests, seed)` returns snapshot data (a dict, valid and consistent:
every DIO function listed by a guest is on its host and assigned to it). Tests use it at
small sizes, benchmarks at large ones. Run as a script to write a file:

    python -m bench.generate --hosts 200 --guests 10000 --seed 7 -o estate.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys

RELEASES = ["B.04.10", "B.04.20", "B.04.20.05", "B.04.30", "B.06.00", "B.06.10", "6.1.5", "6.2", "6.3"]
PROCESSORS = ["Itanium 2", "Itanium 2 9000", "Itanium 2 9100", "Itanium 9300", "Itanium 9500", "Itanium 9700"]
VSWITCHES = ["vs-pub", "vs-bkp", "vs-mgmt", "vs-nfs", "vs-dmz"]
LABELS = ["lan_pub", "lan_bkp", "lan_db", "lan_app", "lan_dmz"]
APPS = ["web", "db", "app", "mq", "ldap", "erp", "crm", "build"]


def generate(hosts: int, guests: int, seed: int = 1, dio_per_host: int = 8) -> dict:
    """Snapshot data for an estate of `hosts` VSPs and `guests` guests, the same for the same seed."""
    rng = random.Random(seed)
    host_list = []
    for h in range(hosts):
        release = rng.choice(RELEASES)
        functions = []
        for f in range(dio_per_host if release >= "B.04.20.05" or release[0].isdigit() else 0):
            fn = {"hwpath": f"{f // 4}/0/0/{f % 4}/0/0/0", "type": rng.choice(["FLA", "DLA"]),
                  "pool": rng.random() < 0.85}
            if rng.random() < 0.9:
                fn["label"] = rng.choice(LABELS)
            functions.append(fn)
        total = rng.choice([65536, 131072, 262144, 524288])
        host_list.append({
            "name": f"vsp{h:04d}",
            "version": release,
            "processor": rng.choice(PROCESSORS),
            "memory_mb": {"total": total, "free": rng.randrange(0, total + 1, 1024)},
            "vswitches": sorted(rng.sample(VSWITCHES, rng.randint(1, len(VSWITCHES)))),
            "online_migration": {"enabled": rng.random() < 0.7, "licensed": rng.random() < 0.8},
            "dio_functions": functions,
            "attrs": {"rack": f"R{h % 40:02d}"},
        })
    guest_list = []
    for g in range(guests):
        host = host_list[rng.randrange(hosts)] if hosts else None
        name = f"{rng.choice(APPS)}{g:05d}"
        kind = "vpar" if host and host["version"] >= "B.06" and rng.random() < 0.2 else "vm"
        free = [f for f in (host["dio_functions"] if host else []) if "assigned_to" not in f]
        dio = []
        if free and rng.random() < 0.3:
            for fn in rng.sample(free, min(len(free), rng.randint(1, 2))):
                fn["assigned_to"] = name
                dio.append(fn["hwpath"])
        networks = [{"dio": hw, "ip_name": f"{name}-{i}"} for i, hw in enumerate(dio)]
        usable = host["vswitches"] if host else VSWITCHES
        networks += [{"vswitch": vs, "ip_name": f"{name}-{vs}"} for vs in rng.sample(usable, rng.randint(0, len(usable)))]
        storage = [{"backing": "disk", "path": f"/dev/rdisk/disk{g * 3 + i}", "shared_san": True}
                   for i in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            storage.append({"backing": rng.choice(["lv", "file"]), "path": f"/dev/vg_guests/r{name}"})
        guest = {"name": name, "kind": kind, "host": host["name"] if host else "nowhere",
                 "state": rng.choice(["on", "off"]), "memory_mb": rng.choice([2048, 4096, 8192, 16384, 32768]),
                 "vcpus": rng.randint(1, 8), "dio": dio, "networks": networks, "storage": storage}
        guest_list.append(guest)
    return {"snapshot": 1, "site": f"synthetic-{seed}", "collected": "2026-11-25T00:00:00Z",
            "hosts": host_list, "guests": guest_list}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--guests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args(argv)
    text = json.dumps(generate(args.hosts, args.guests, args.seed), indent=1)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
