"""`hpvmstatus -P GUEST -d`: a guest's devices, one per line in `hpvmcreate -a` syntax.

`disk:scsi:0,0,0:lv:/dev/vg_vmtest/rvmnode2disk` is a device kind, an adaptor, a bus
address, a backing type and a backing path; a network line's backing is `vswitch` and
its name, and its address ends with the vNIC's MAC
(`network:lan:0,1,0xB20EBA14E76C:vswitch:localnet[:portid:4]`, the IVM 3.5 and 4.x
captures of `hpvmstatus-P-d.devices.txt`). Every storage line is kept, whatever its
backing: `disk`, `lv`, `file`, `null` (an empty or ejected DVD drive,
`dvd:avio_stor::null:/var/opt/hpvm/ISO-images/hpux/` in the V6.3 guide p.251) and
`attach` (a pass-through tape, changer or burner, IVM 4.2 guide p.102). An NPIV HBA is
`hba:avio_stor:BUS,DEV,vPWWN,vNWWN:npiv:/dev/fcdN` (NPIV white paper, IVM 4.3, p.9).
A line that fits none of these is a located problem, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._text import Problems, Source, number, sections

SECTIONS = ("Virtual Machine Devices", "Storage Interface Details", "Network Interface Details",
            "Misc Interface Details")
STORAGE_DEVICES = ("disk", "dvd", "tape", "changer", "burner")
STORAGE_ADAPTERS = ("scsi", "avio_stor")
NETWORK_ADAPTERS = ("lan", "avio_lan")
BACKINGS = ("disk", "lv", "file", "null", "attach")
_MAC = re.compile(r"0[xX][0-9a-fA-F]{12}")
_WWN = re.compile(r"0[xX][0-9a-fA-F]{16}")


@dataclass(frozen=True)
class Disk:
    """One storage device line."""

    device: str
    adapter: str
    backing: str
    path: str
    line: int


@dataclass(frozen=True)
class Nic:
    """One vswitch interface line."""

    vswitch: str
    adapter: str
    mac: str
    line: int


@dataclass(frozen=True)
class Hba:
    """One NPIV virtual HBA line."""

    wwpn: str
    wwnn: str
    line: int


@dataclass
class Devices:
    """The devices of one guest, each with its line, and the sections the capture holds."""

    storage: list[Disk] = field(default_factory=list)
    networks: list[Nic] = field(default_factory=list)
    npiv: list[Hba] = field(default_factory=list)
    sections: set = field(default_factory=set)
    unread: set = field(default_factory=set)  # sections holding a line that was not understood


def parse_devices(source: Source) -> tuple[Devices, list]:
    problems = Problems(source.file)
    out = Devices()
    found = sections(source, problems, "hpvmstatus -P GUEST -d")
    for section in found:
        if section.title not in SECTIONS:
            problems.at(section.line, 1, f"section `[{section.title}]` is not one migcheck reads; expected one of "
                        + ", ".join(f"`[{s}]`" for s in SECTIONS))
            continue
        if section.title in out.sections:
            problems.at(section.line, 1, f"section `[{section.title}]` appears twice; expected one guest's devices")
            continue
        out.sections.add(section.title)
        before = len(problems.items)
        for no, text in section.body:
            if text.strip():
                _line(section.title, no, text.strip(), out, problems)
        if len(problems.items) > before:
            out.unread.add(section.title)
    missing = [s for s in SECTIONS if s not in out.sections]
    if missing:
        problems.at(source.last, 1, f"section(s) {', '.join(f'`[{s}]`' for s in missing)} missing: the capture "
                    "looks truncated", "capture it again: `hpvmstatus -P GUEST -d`")
    return out, problems.items


def _line(title: str, no: int, text: str, out: Devices, problems: Problems) -> None:
    fields = text.split(":")
    if title == "Virtual Machine Devices" or len(fields) < 5:
        problems.at(no, 1, f"expected a device line such as `disk:avio_stor:0,1,0:disk:/dev/rdisk/disk3` "
                    f"under `[{title}]`, found `{text}`")
    elif title == "Network Interface Details":
        _network(fields, no, text, out, problems)
    elif title == "Storage Interface Details" and fields[0] == "hba":
        _hba(fields, no, text, out, problems)
    elif title == "Storage Interface Details":
        _storage(fields, no, text, out, problems)
    # `[Misc Interface Details]` (serial consoles) moves with the guest: nothing for a snapshot


def _col(fields: list[str], index: int) -> int:
    """The 1-based column where field `index` of a colon-separated line starts."""
    return len(":".join(fields[:index])) + (2 if index else 1)


def _network(fields: list[str], no: int, text: str, out: Devices, problems: Problems) -> None:
    device, adapter, address, backing = fields[:4]
    if device != "network" or backing != "vswitch":
        problems.at(no, _col(fields, 3) if device == "network" else 1,
                    f"expected a vswitch interface `network:ADAPTOR:BUS,DEV,MAC:vswitch:NAME`, found `{text}`")
        return
    name, *extra = fields[4:]
    if not name or (extra and (len(extra) != 2 or extra[0] != "portid" or number(extra[1]) is None)):
        problems.at(no, _col(fields, 3), f"expected `vswitch:NAME` optionally followed by `:portid:N`, "
                    f"found `{':'.join(fields[3:])}`")
        return
    if adapter not in NETWORK_ADAPTERS:
        problems.at(no, _col(fields, 1), f"unknown network adaptor `{adapter}`; expected lan or avio_lan")
        return
    parts = address.split(",")
    if len(parts) != 3 or not _MAC.fullmatch(parts[2]):
        problems.at(no, _col(fields, 2), f"expected `BUS,DEV,MAC` with a MAC such as `0x2A87145CF9ED`, "
                    f"found `{address}`")
        return
    out.networks.append(Nic(name, adapter, parts[2], no))


def _storage(fields: list[str], no: int, text: str, out: Devices, problems: Problems) -> None:
    device, adapter, _address, backing = fields[:4]
    path = ":".join(fields[4:])
    if device not in STORAGE_DEVICES:
        problems.at(no, 1, f"unknown storage device kind `{device}`; expected {', '.join(STORAGE_DEVICES)} or hba")
    elif adapter not in STORAGE_ADAPTERS:
        problems.at(no, _col(fields, 1), f"unknown storage adaptor `{adapter}`; expected scsi or avio_stor")
    elif backing not in BACKINGS:
        problems.at(no, _col(fields, 3), f"unknown backing type `{backing}` of `{path}`; expected "
                    f"{', '.join(BACKINGS)}")
    elif not path.startswith("/"):
        problems.at(no, _col(fields, 4), f"expected an absolute backing path, found `{path}`")
    else:
        out.storage.append(Disk(device, adapter, backing, path, no))


def _hba(fields: list[str], no: int, text: str, out: Devices, problems: Problems) -> None:
    """`hba:avio_stor:BUS,DEV,vPWWN,vNWWN:npiv:/dev/fcdN`."""
    parts = fields[2].split(",")
    if fields[1] != "avio_stor" or fields[3] != "npiv" or len(parts) != 4 or not all(
            _WWN.fullmatch(p) for p in parts[2:]):
        problems.at(no, 1, f"expected an NPIV HBA `hba:avio_stor:BUS,DEV,vPWWN,vNWWN:npiv:/dev/fcdN`, found `{text}`")
        return
    out.npiv.append(Hba(parts[2], parts[3], no))
