"""`hpvmstatus -P GUEST -d`: a guest's devices, one per line in `hpvmcreate -a` syntax.

`disk:scsi:0,0,0:lv:/dev/vg_vmtest/rvmnode2disk` is a device type, an adaptor, a bus
address, a backing type and a backing path; a network line's backing is `vswitch` and
its name (`network:lan:0,1,0xB20EBA14E76C:vswitch:localnet[:portid:4]`). Storage backed
by `disk`, `lv` or `file` becomes the guest's storage; `null` (an empty removable drive)
backs nothing; other backings are reported, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._text import Problems, Source, sections

_SECTIONS = ("Virtual Machine Devices", "Storage Interface Details", "Network Interface Details",
             "Misc Interface Details")
_STORAGE_DEVICES = {"disk", "dvd", "tape", "burner"}
BACKINGS = {"disk": "disk", "lv": "lv", "file": "file"}


@dataclass
class Devices:
    """The storage and vswitch interfaces of one guest, each with its line."""

    storage: list = field(default_factory=list)   # (device type, backing, path, line)
    networks: list = field(default_factory=list)  # (vswitch, line)


def parse_devices(source: Source) -> tuple[Devices, list]:
    problems = Problems(source.file)
    out = Devices()
    found = sections(source, problems, "hpvmstatus -P GUEST -d")
    if not found:
        problems.at(source.last, 1, "no `[Virtual Machine Devices]` section: expected the output of "
                    "`hpvmstatus -P GUEST -d`")
    for section in found:
        if section.title not in _SECTIONS:
            problems.at(section.line, 1, f"section `[{section.title}]` is not one migcheck reads; expected one of "
                        + ", ".join(f"`[{s}]`" for s in _SECTIONS))
            continue
        for no, text in section.body:
            if text.strip():
                _line(section.title, no, text.strip(), out, problems)
    return out, problems.items


def _line(title: str, no: int, text: str, out: Devices, problems: Problems) -> None:
    fields = text.split(":")
    if title == "Virtual Machine Devices" or len(fields) < 5:
        problems.at(no, 1, f"expected a device line such as `disk:avio_stor:0,1,0:disk:/dev/rdisk/disk3` "
                    f"under `[{title}]`, found `{text}`")
        return
    device, adaptor, _address, backing = fields[:4]
    rest = ":".join(fields[4:])
    col = len(":".join(fields[:3])) + 2  # column of the backing type
    if title == "Network Interface Details":
        if device != "network" or backing != "vswitch":
            problems.at(no, col if device == "network" else 1,
                        f"expected a vswitch interface `network:ADAPTOR:BUS,DEV,MAC:vswitch:NAME`, found `{text}`")
            return
        name, *extra = rest.split(":")
        if not name or (extra and (len(extra) != 2 or extra[0] != "portid" or not extra[1].isdigit())):
            problems.at(no, col, f"expected `vswitch:NAME` optionally followed by `:portid:N`, found `{backing}:{rest}`")
            return
        out.networks.append((name, no))
    elif title == "Storage Interface Details":
        if device not in _STORAGE_DEVICES:
            problems.at(no, 1, f"unknown storage device type `{device}`; expected disk, dvd, tape or burner")
        elif backing == "null":
            pass  # an empty removable-media drive: nothing to copy or present
        elif backing not in BACKINGS:
            problems.at(no, col, f"backing type `{backing}` of `{rest}` is not one a snapshot holds; "
                        "expected disk, lv, file or null",
                        "a pass-through (attach) device must be presented on the target by hand")
        elif not rest.startswith("/"):
            problems.at(no, col + len(backing) + 1, f"expected an absolute backing path, found `{rest}`")
        else:
            out.storage.append((device, BACKINGS[backing], rest, no))
    # `[Misc Interface Details]` (serial consoles) moves with the guest: nothing for a snapshot
