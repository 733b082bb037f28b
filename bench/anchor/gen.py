# Copied unchanged from ../shared/reference/anchor-policy/gen.py: the anchor inventory generator.
#!/usr/bin/env python3
"""Synthetic VSP/guest inventory generator (deterministic).

usage: gen.py H G [seed] > inventory.json
"""
import json
import random
import sys

IVM_VERSIONS = ["3.5", "4.0", "4.1", "4.2", "4.3"]
VPARS_VERSIONS = ["6.0", "6.1"]
LABELS = ["lan_pub", "lan_bkp", "lan_priv", "fc_a", "fc_b", "fc_tape"]
PROC = ["itanium2-9100", "itanium-9300", "itanium-9500", "itanium-9700"]


def hwpath(rng):
    return "0/0/%d/%d/0/0/%d" % (rng.randrange(16), rng.randrange(8), rng.randrange(4))


def generate(H, G, seed=42):
    rng = random.Random(seed)
    hosts = []
    for i in range(H):
        product = "vpars" if rng.random() < 0.3 else "ivm"
        ver = rng.choice(VPARS_VERSIONS if product == "vpars" else IVM_VERSIONS)
        pool = []
        for j in range(8):
            pool.append({
                "hwpath": "0/0/%d/0/0/0/%d" % (j, rng.randrange(4)),
                "label": rng.choice(LABELS),
                "type": rng.choice(["FLA", "DLA"]),
                "assigned_to": None,  # filled below
            })
        hosts.append({
            "name": "vsp%04d" % i,
            "hpvm_version": ver,
            "product": product,
            "processor_family": rng.choice(PROC),
            "dio_pool": pool,
        })
    guests = []
    for k in range(G):
        h = hosts[rng.randrange(H)]
        name = "g%05d" % k
        kind = "vpar" if h["product"] == "vpars" and rng.random() < 0.7 else "vm"
        dio = []
        for _ in range(rng.choice([0, 0, 1, 2, 2, 3, 4])):
            dio.append({
                "hwpath": hwpath(rng),
                "label": None if rng.random() < 0.08 else rng.choice(LABELS),
                "type": rng.choice(["FLA", "DLA"]),
            })
        # mark some of the current host's pool as assigned to this guest
        for f in h["dio_pool"]:
            if f["assigned_to"] is None and rng.random() < 0.05:
                f["assigned_to"] = name
        storage = []
        for s in range(rng.randint(1, 4)):
            kd = rng.choice(["disk", "disk", "lv", "file"])
            path = {"disk": "/dev/rdisk/disk%d" % rng.randrange(4000),
                    "lv": "/dev/vg%02d/rlvol%d" % (rng.randrange(20), rng.randrange(50)),
                    "file": "/var/opt/hpvm/img/%s_%d.img" % (name, s)}[kd]
            storage.append({"kind": kd, "path": path, "shared": rng.random() < 0.6})
        guests.append({
            "name": name,
            "kind": kind,
            "host": h["name"],
            "state": "Off" if rng.random() < 0.35 else "On",
            "dio_functions": dio,
            "storage": storage,
        })
    # some other-host assignments so capacity check varies on targets too
    for h in hosts:
        for f in h["dio_pool"]:
            if f["assigned_to"] is None and rng.random() < 0.25:
                f["assigned_to"] = "g%05d" % rng.randrange(G)
    return {"schema_version": 1, "generated": "2024-01-01T00:00:00Z",
            "hosts": hosts, "guests": guests}


if __name__ == "__main__":
    H = int(sys.argv[1]); G = int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    json.dump(generate(H, G, seed), sys.stdout, separators=(",", ":"))
