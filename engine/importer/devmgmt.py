"""`hpvmdevmgmt -l gdev` and `hpvmdevmgmt -l rdev`: the VSP's device-management database entries.

One entry per line, `NAME:ATTRIBUTES:DEPENDENTS:WWID`, as the IVM guide (8.7.2, `hpvmdevmgmt -l
rdev`) prints it: `/dev/rdsk/c10t0d4:CONFIG=rdev,EXIST=YES,DEVTYPE=DISK,SHARE=NO::6005-08b4-0001-
15d0-0001-2000-003a-0000` (the dependents, the guests using it, between the last two colons).
`gdev` entries with `SHARE=YES` give `shared_wwids`; every `rdev` entry with a WWID gives
`restricted_wwids`. A WWID is kept as 0x and 32 lowercase hex digits (scsimgr's form), so that
`6005-08b4-...` and `0x600508B4...` name one LUN. Entries without a WWID (files, vswitches) are
read and give none. An entry's name is the device as guests name it (aliases comma-separated),
so a guest's storage line finds its `share` flag and `wwid` by its path (`devices`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._text import Problems, Source

_ATTR = re.compile(r"[A-Z_]+=[^,]*")
_HEX = re.compile(r"(0[xX])?[0-9a-fA-F]+")


@dataclass
class DeviceDb:
    """WWIDs of the entries of one `hpvmdevmgmt -l` listing, by what the entries say."""

    shared: list[str] = field(default_factory=list)
    restricted: list[str] = field(default_factory=list)
    entries: int = 0
    devices: dict[str, tuple[bool, str | None]] = field(default_factory=dict)  # name -> (SHARE=YES, WWID)


def wwid(text: str) -> str | None:
    """`6005-08b4-...` or `0x600508B4...` as `0x600508b4...`; None when it is not hex digits."""
    bare = text.replace("-", "")
    if not _HEX.fullmatch(bare):
        return None
    return "0x" + bare.lower().removeprefix("0x")


def parse_devmgmt(source: Source, config: str) -> tuple[DeviceDb, list]:
    """`config`: `gdev` or `rdev`, the listing the file should hold."""
    problems = Problems(source.file)
    out = DeviceDb()
    for no, text in source.numbered():
        if text.strip():
            _entry(no, text.strip(), config, out, problems)
    return out, problems.items


def _entry(no: int, text: str, config: str, out: DeviceDb, problems: Problems) -> None:
    fields = text.split(":")
    if len(fields) < 4 or not fields[0]:
        problems.at(no, 1, f"expected an entry `NAME:ATTRIBUTES:DEPENDENTS:WWID` of `hpvmdevmgmt -l {config}`, "
                    f"found `{text}`")
        return
    attrs = fields[1].split(",") if fields[1] else []
    bad = next((a for a in attrs if not _ATTR.fullmatch(a)), None)
    if bad is not None:
        problems.at(no, len(fields[0]) + 2 + fields[1].find(bad), f"expected attributes `KEY=VALUE,...`, found `{bad}`")
        return
    values = dict(a.split("=", 1) for a in attrs)
    if values.get("CONFIG", config) != config:
        problems.at(no, len(fields[0]) + 2, f"a `CONFIG={values['CONFIG']}` entry in the `hpvmdevmgmt -l {config}` "
                    "capture", f"capture `hpvmdevmgmt -l {config}` again into this file")
        return
    out.entries += 1
    raw = fields[-1].strip()
    value = wwid(raw) if raw else None
    if raw and value is None:
        problems.at(no, len(text) - len(fields[-1]) + 1, f"expected a WWID of hex digits, found `{raw}`")
        return
    said = (values.get("SHARE") == "YES", value)
    again = next((name for name in fields[0].split(",") if out.devices.get(name, said) != said), None)
    if again is not None:  # a device listed twice, otherwise: which entry is the VSP's is not known
        problems.at(no, 1, f"device `{again}` is listed again with another share or WWID; `hpvmdevmgmt -l "
                    f"{config}` lists each device once", f"capture `hpvmdevmgmt -l {config}` again into this file")
        return
    for name in fields[0].split(","):
        out.devices[name] = said
    if value is None:
        return
    listed = out.restricted if config == "rdev" else out.shared if values.get("SHARE") == "YES" else None
    if listed is not None and value not in listed:  # (a line given twice lists its WWID once)
        listed.append(value)
