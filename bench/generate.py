"""A seeded generator of synthetic HP vPars / Integrity VM estates.

`generate(hosts, guests, seed)` returns snapshot data (a dict, valid and consistent:
every DIO function listed by a guest is on its host and assigned to it). Tests use it at
small sizes, benchmarks at large ones. Run as a script to write a file:

    python -m bench.generate --hosts 200 --guests 10000 --seed 7 -o estate.json

With `third=True` (`--third-reading`) the estate also holds the snapshot additions of the
third reading (DESIGN.md), drawn from a random stream of their own, so the other fields are
the same as without: host cores and free vPar cores, `vswitch_details` (Up and Down, local
vswitches without a PPA), shared and restricted WWIDs, NFS mounts (alike and not); guest OS
type, guest kit, VirtualBase, NPIV HBAs; MACs in every spelling with some collisions,
adaptors, device kinds (an ejected DVD with a `null` backing, an `attach`ed tape), NFS
backing files, SHARE=YES disks with WWIDs; and some guests with `unknown` parts (their
storage, networks... as `import --partial` leaves them: empty). Each is sometimes absent
(unknown), as in a real capture.
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


def generate(hosts: int, guests: int, seed: int = 1, dio_per_host: int = 8, third: bool = False) -> dict:
    """Snapshot data for an estate of `hosts` VSPs and `guests` guests, the same for the same seed;
    `third`: with the third reading's fields too (`third_reading`)."""
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
    data = {"snapshot": 1, "site": f"synthetic-{seed}", "collected": "2026-11-25T00:00:00Z",
            "hosts": host_list, "guests": guest_list}
    return third_reading(data, seed) if third else data


OS_TYPES = ["HPUX"] * 6 + ["LINUX", "WINDOWS", "OPENVMS"]
KITS = ["B.06.30", "B.06.20", "B.04.30", "none"]
NFS = [("nas1:/vm", "rw,hard,vers=3"), ("nas1:/vm", "rw,soft,vers=3"), ("nas2:/vm", "rw,hard,vers=3")]
UNKNOWN = ["storage", "networks", "dio", "vcpus", "memory_mb", "os_type", "guest_kit"]
EMPTIED = {"storage": [], "networks": [], "npiv": []}  # what `import --partial` writes for a part it could not read


def _sometimes(rng: random.Random, p: float, value):
    """`value`, or absent (None) with probability 1 - p."""
    return value if rng.random() < p else None


def _put(obj: dict, key: str, value) -> None:
    if value is not None:
        obj[key] = value


def _mac(rng: random.Random, digits: str) -> str:
    """A MAC in one of the spellings a snapshot may hold."""
    style = rng.randrange(4)
    if style == 0:
        return "0x" + digits.upper()
    if style == 1:
        return "-".join(digits[i:i + 2] for i in range(0, 12, 2))
    if style == 2:
        return ":".join(digits[i:i + 2].upper() for i in range(0, 12, 2))
    return digits


def third_reading(data: dict, seed: int) -> dict:
    """`data` with the third reading's fields added, from a random stream of their own (the rest unchanged)."""
    rng = random.Random(seed * 7919 + 3)
    wwids: list[str] = []
    for g, guest in enumerate(data["guests"]):
        _third_guest(rng, g, guest, wwids, data["guests"][:g])
    for host in data["hosts"]:
        _third_host(rng, host, wwids)
    return data


def _third_host(rng: random.Random, host: dict, wwids: list[str]) -> None:
    cores = rng.choice([2, 4, 8, 16, 32, 64])
    _put(host, "cpu_cores", _sometimes(rng, 0.9, cores))
    if host["version"] >= "B.06" or host["version"][0].isdigit():
        _put(host, "cpu_cores_free", _sometimes(rng, 0.8, rng.randint(0, cores)))
    if rng.random() < 0.9:
        details = []
        for name in host["vswitches"]:
            if rng.random() < 0.9:  # a vswitch without an entry: unknown
                entry = {"name": name}
                _put(entry, "state", _sometimes(rng, 0.95, "Down" if rng.random() < 0.15 else "Up"))
                entry["pnic"] = None if rng.random() < 0.15 else f"lan{rng.randrange(8)}"
                if entry["pnic"] is None and rng.random() < 0.5:
                    del entry["pnic"]  # an entry without a PPA: local too
                details.append(entry)
        host["vswitch_details"] = details
    if wwids:
        _put(host, "shared_wwids", _sometimes(rng, 0.7, sorted(rng.sample(wwids, min(len(wwids), rng.randint(0, 3))))))
        _put(host, "restricted_wwids", _sometimes(rng, 0.7, sorted(rng.sample(wwids, min(len(wwids), rng.randint(0, 2))))))
    if rng.random() < 0.5:
        mounts = []
        for source, options in rng.sample(NFS, rng.randint(1, 2)):
            mount = {"mount_point": "/hpvm/nfs" if source.startswith("nas1") else "/hpvm/nfs2", "source": source}
            _put(mount, "options", _sometimes(rng, 0.9, options))
            mounts.append(mount)
        host["nfs_mounts"] = mounts


def _third_guest(rng: random.Random, g: int, guest: dict, wwids: list[str], earlier: list[dict]) -> None:
    _put(guest, "os_type", _sometimes(rng, 0.9, rng.choice(OS_TYPES)))
    _put(guest, "guest_kit", _sometimes(rng, 0.7, rng.choice(KITS)))
    _put(guest, "virtualbase", _sometimes(rng, 0.2, "B.06.30"))
    if rng.random() < 0.6:
        guest["npiv"] = [{"wwpn": f"0x5001438002a3{g:04x}", "wwnn": f"0x5001438002a4{g:04x}"}] \
            if rng.random() < 0.15 else []
    for i, net in enumerate(guest["networks"]):
        digits = f"2a2e{g:06x}{i:02x}"
        others = [n["mac"] for e in earlier[-50:] for n in e["networks"] if "mac" in n]
        if others and rng.random() < 0.05:  # a MAC another guest uses, perhaps written otherwise
            digits = others[rng.randrange(len(others))].lower().replace("0x", "").replace("-", "").replace(":", "")
        _put(net, "mac", _sometimes(rng, 0.9, _mac(rng, digits)))
        _put(net, "adapter", _sometimes(rng, 0.9, rng.choice(["lan", "avio_lan"])))
    for store in guest["storage"]:
        _third_store(rng, g, store, wwids)
    _more_devices(rng, guest)
    if rng.random() < 0.06:
        unknown = sorted(rng.sample(UNKNOWN, rng.randint(1, 3)))
        guest["unknown"] = unknown
        for part in unknown:
            if part in EMPTIED:
                guest[part] = list(EMPTIED[part])


def _third_store(rng: random.Random, g: int, store: dict, wwids: list[str]) -> None:
    _put(store, "adapter", _sometimes(rng, 0.8, rng.choice(["scsi", "avio_stor"])))
    if store["backing"] == "disk" and rng.random() < 0.7:
        store["wwid"] = f"0x600508b4000b{g:08x}{len(wwids) % 997:04x}"
        wwids.append(store["wwid"].upper() if rng.random() < 0.2 else store["wwid"])
        if rng.random() < 0.08:
            store["share"] = True


def _more_devices(rng: random.Random, guest: dict) -> None:
    """An ejected or loaded DVD, an attached tape, an NFS backing file, now and then."""
    name = guest["name"]
    if rng.random() < 0.2:
        guest["storage"].append({"device": "dvd", "backing": "null", "path": "/dev/null"} if rng.random() < 0.5
                                else {"device": "dvd", "backing": "file", "path": f"/iso/{name}.iso"})
    if rng.random() < 0.08:
        guest["storage"].append({"device": rng.choice(["tape", "changer", "burner"]), "backing": "attach",
                                 "path": f"/dev/rscsi/c{rng.randrange(8)}t0d0"})
    if rng.random() < 0.15:
        mount = rng.choice(["/hpvm/nfs", "/hpvm/nfs2"])
        guest["storage"].append({"backing": "file", "path": f"{mount}/{name}/disk.img", "nfs": True})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--guests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--third-reading", action="store_true",
                        help="with the snapshot additions of the third reading (cores, MACs, device kinds, unknown, ...)")
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args(argv)
    text = json.dumps(generate(args.hosts, args.guests, args.seed, third=args.third_reading), indent=1)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
