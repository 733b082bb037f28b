"""One guest of the snapshot from its summary row, its `-P` details and its `-P -d` devices.

Input: the parsed captures of one guest (either may be missing, cut, or hold unread lines).
Output: the snapshot's guest entry and located problems. What a guest holds is taken from
the `-d` lines when they are complete, else from the `-P` tables (same devices, another
layout), else it is listed in `guest.unknown`: a part never reads as "nothing there" when
it was not read. The summary's `#Devs` and `#Nets` are checked against what was read.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..files.document import Problem
from .details import Details
from .devices import BACKINGS, NETWORK_ADAPTERS, STORAGE_ADAPTERS, STORAGE_DEVICES, Devices
from .mounts import MountTable, on_nfs
from ..core.vocabulary import UNCAPTURED

OS_TYPES = ("HPUX", "LINUX", "WINDOWS", "OPENVMS")
_STORAGE, _NETWORK = "Storage Interface Details", "Network Interface Details"
PARTS = ("storage", "networks", "npiv")
ORDER = ("kind", "state", "vcpus", "memory_mb", "os_type", *PARTS)  # the parts of `guest.unknown`, in the order written


@dataclass
class Captured:
    """A guest's parsed captures and the files they came from (None: not read)."""

    details: Details | None
    devices: Devices | None
    details_file: str
    devices_file: str
    summary_file: str


def assemble(row, host: str, cap: Captured, mounts: MountTable | None) -> tuple[dict, list[Problem]]:
    """The snapshot entry of the runnable guest `row` on VSP `host`, and the problems found assembling it."""
    problems: list[Problem] = []
    guest = {"name": row.name, "kind": row.kind, "host": host, "state": row.state, "memory_mb": row.memory_mb,
             "vcpus": row.vcpus}
    unknown = _os_type(row, cap, guest, problems)
    if cap.details is not None:  # the summary and the guest's -P disagree (said): neither is taken for known
        unknown += [key for key in ("state", "vcpus", "memory_mb", "kind", "os_type") if key in cap.details.disagree]
        if "name" in cap.details.disagree:  # another guest's capture: its devices are not this guest's
            unknown += [part for part in PARTS if part not in unknown]
    storage, npiv, networks = _storage(cap, problems), _npiv(cap), _networks(cap, problems)
    for part, value in (("storage", storage), ("networks", networks), ("npiv", npiv)):
        if value is None:
            unknown.append(part)
    _counts(row, cap, storage, npiv, networks, problems, unknown)
    if storage:
        guest["storage"] = [_nfs(s, mounts) for s in storage]
    if networks:
        guest["networks"] = networks
    if npiv is not None and "npiv" not in unknown:  # (never an empty list that reads as "none")
        guest["npiv"] = npiv
    if storage is not None and networks is not None and cap.details is not None and cap.devices is not None:
        problems += compare(row.name, cap)
    if unknown:
        guest[UNCAPTURED] = [p for p in ORDER if p in unknown]
    return guest, problems


def mark_unknown(guest: dict, part: str) -> None:
    """Add `part` to the parts of `guest` a capture did not give (`UNCAPTURED`), kept in `ORDER`."""
    parts = set(guest.get(UNCAPTURED, ())) | {part}
    guest[UNCAPTURED] = [p for p in ORDER if p in parts]


def _os_type(row, cap: Captured, guest: dict, problems: list[Problem]) -> list[str]:
    """`guest.os_type` from the summary's OS Type column; an OS type migcheck does not know is unknown."""
    value = row.os_type.upper()
    if value in OS_TYPES:
        guest["os_type"] = value
        return []
    if value not in ("", "UNKNOWN"):
        problems.append(Problem(cap.summary_file, row.line, 1, f"unknown OS type `{row.os_type}` of guest "
                                f"`{row.name}`; expected {', '.join(OS_TYPES)} (or UNKNOWN)"))
    return ["os_type"]


def _complete(parsed, section: str) -> bool:
    return parsed is not None and section in parsed.sections and section not in parsed.unread


def _storage(cap: Captured, problems: list[Problem]) -> list[dict] | None:
    if _complete(cap.devices, _STORAGE):
        return [{"backing": d.backing, "path": d.path, "device": d.device, "adapter": d.adapter}
                for d in cap.devices.storage]
    if not _complete(cap.details, _STORAGE):
        return None
    out = []
    for device, adapter, backing, path, line in cap.details.storage:
        if device not in STORAGE_DEVICES or adapter not in STORAGE_ADAPTERS or backing not in BACKINGS \
                or not path.startswith("/"):
            problems.append(Problem(cap.details_file, line, 1, f"storage row `{device} {adapter} {backing} {path}` "
                                    "is not one migcheck can keep without the `-d` capture: the guest's storage "
                                    "is unknown", help="capture `hpvmstatus -P GUEST -d` too"))
            return None
        out.append({"backing": backing, "path": path, "device": device, "adapter": adapter})
    return out


def _npiv(cap: Captured) -> list[dict] | None:
    """NPIV HBAs are read from the `-d` lines only (no `-P` sample shows one)."""
    if not _complete(cap.devices, _STORAGE):
        return None
    return [{"wwpn": h.wwpn, "wwnn": h.wwnn} for h in cap.devices.npiv]


def _networks(cap: Captured, problems: list[Problem]) -> list[dict] | None:
    if _complete(cap.devices, _NETWORK):
        return [{"vswitch": n.vswitch, "mac": n.mac, "adapter": n.adapter} for n in cap.devices.networks]
    if not _complete(cap.details, _NETWORK):
        return None
    out = []
    for vswitch, adapter, mac, line in cap.details.networks:
        if adapter not in NETWORK_ADAPTERS:
            problems.append(Problem(cap.details_file, line, 1, f"unknown network adaptor `{adapter}`; expected "
                                    "lan or avio_lan: the guest's networks are unknown"))
            return None
        out.append({"vswitch": vswitch, "mac": mac, "adapter": adapter})
    return out


def _nfs(storage: dict, mounts: MountTable | None) -> dict:
    if mounts and mounts.nfs and storage["backing"] in ("file", "null") and on_nfs(storage["path"], mounts):
        return {**storage, "nfs": True}
    return storage


def _counts(row, cap: Captured, storage, npiv, networks, problems: list[Problem], unknown: list[str]) -> None:
    """The summary's `#Devs` (storage lines, HBAs included) and `#Nets` against what was read."""
    read = {"#Devs": None if storage is None or npiv is None else len(storage) + len(npiv),
            "#Nets": None if networks is None else len(networks)}
    hbas_unknown = storage is not None and npiv is None  # read from -P, which shows no HBA: #Devs >= storage
    if hbas_unknown:
        read["#Devs"] = len(storage)
    where = cap.devices_file if cap.devices is not None else cap.details_file
    # #Devs counts disks and HBAs alike: when it disagrees, which was lost is not known, so both are unknown
    devices = ("storage",) if hbas_unknown else ("storage", "npiv")
    for column, said, parts in (("#Devs", row.devs, devices), ("#Nets", row.nets, ("networks",))):
        if said is None or read[column] is None or said == read[column] or (
                column == "#Devs" and hbas_unknown and said > read[column]):
            continue
        named = " and ".join(f"`{p}`" for p in parts)
        problems.append(Problem(cap.summary_file, row.line, 1, f"`{column}` of guest `{row.name}` is {said}, but "
                                f"{where} lists {read[column]}: the captures disagree ({named} of the guest "
                                f"{'are' if len(parts) > 1 else 'is'} unknown)",
                                help="capture `hpvmstatus` and the guest's `-P` and `-P -d` again, "
                                "one after the other"))
        unknown.extend(parts)


def compare(name: str, cap: Captured) -> list[Problem]:
    """The -P storage and network tables must list what the -d lines list."""
    out = []
    d_paths = [d.path for d in cap.devices.storage]
    for _, _, _, path, line in cap.details.storage:
        if path not in d_paths:
            out.append(Problem(cap.details_file, line, 1, f"storage `{path}` is not among the `-d` device lines "
                               f"of `{name}`", help="capture both files again, one after the other"))
    d_nets = sorted(n.vswitch for n in cap.devices.networks)
    p_nets = sorted(n[0] for n in cap.details.networks)
    if cap.details.networks and d_nets != p_nets:
        line = next((n[3] for n in cap.details.networks if n[0] not in d_nets), cap.details.networks[0][3])
        out.append(Problem(cap.details_file, line, 1, f"vswitches {', '.join(p_nets)} here, "
                           f"{', '.join(d_nets) or 'none'} in the `-d` lines of `{name}`"))
    return out
