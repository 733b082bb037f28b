"""A capture folder (one folder per VSP) to a snapshot: every file parsed, then checked together.

Input: the folder `migcheck collector` fills (layout in DESIGN.md, "Importing an estate", and
docs/import.md). Output: an `Estate` with the snapshot as plain data, every located problem,
and notes. Nothing is dropped silently: a file that is missing, a line a parser did not
understand, a guest listed without its `-P` capture, each is a problem; with `--partial` the
snapshot holds what could be read and each guest lists in `unknown` what it could not.
Import reads inside the capture folder only: no link is followed and only regular files
are opened (`layout`).

`Off (NR)` guests are the copies hpvmmigrate leaves on a source VSP (marked Not Runnable:
a guest is runnable on one VSP only, V6.1 Administrator Guide 12.3.4). They are not
guests of the estate: the host lists them in `not_runnable`, so they are neither checked
nor reported as duplicates of the runnable guest on the target.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..files.document import Limits, LoadError, Problem, decode
from ..files.reader import os_problem
from ._text import Source
from .available import parse_available, vpar_cores
from .details import parse_details
from .devices import parse_devices
from .devmgmt import parse_devmgmt
from .guests import Captured, assemble, mark_unknown
from .hpvminfo import parse_hpvminfo
from .hpvmnet import parse_hpvmnet
from .layout import NEW_DETAILS, NEW_DEVICES, entry, flat_owners, guest_files, kind, read_regular, refused, safe_name
from .machinfo import parse_machinfo
from .mounts import parse_mounts
from .summary import parse_summary
from .supplement import guest_facts, parse_supplement
from .swlist import parse_swlist, release

FILES = {
    "hpvmstatus.txt": "hpvmstatus",
    "hpvmstatus-s.txt": "hpvmstatus -s",
    "hpvmnet.txt": "hpvmnet",
    "machinfo.txt": "machinfo",
    "swlist.txt": "swlist -l bundle",
    "dio.yaml": "the DIO supplement",
}
OPTIONAL = {"hpvminfo.txt": "hpvminfo"}
# Written by the collector beside a kept dio.yaml when `hpvmhwmgmt -p dio -l` prints otherwise than when dio.yaml
# was written: a new template; the VSP's DIO functions are not known until it is completed and renamed to dio.yaml
DIO_CHANGED = "dio-changed.txt"
# Written by the collector: the capture files whose command failed (one name a line), so that a fact file it could
# not write is not read as the file a first collector did not write (a note, the field unknown): a problem
FAILED = "failed.txt"
# Added with the third reading: a capture of the first collector lacks them, and the host fields they give
# are then absent (unknown), with a note
FACTS = {
    "hpvmdevmgmt-gdev.txt": ("hpvmdevmgmt -l gdev", "shared_wwids"),
    "hpvmdevmgmt-rdev.txt": ("hpvmdevmgmt -l rdev", "restricted_wwids"),
    "mount-p.txt": ("mount -p", "nfs_mounts"),
}
FOLDERS = ("guests", "vswitches")


@dataclass
class Estate:
    """What an import produced: the snapshot (plain data), problems, and notes that are not problems."""

    snapshot: dict
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Vsp:
    def __init__(self, path: Path, estate: Estate, limits: Limits):
        self.path, self.name, self.estate, self.limits = path, path.name, estate, limits
        self.machine_id: tuple[str, int] | None = None  # machinfo's `Machine ID number` and its line

    def problem(self, file: Path | str, line: int, col: int, message: str, help: str = "") -> None:
        self.estate.problems.append(Problem(str(file), line, col, message, help=help))

    def source(self, relative: str, what: str, required: bool = True) -> Source | None:
        """A capture file's text; None (and a problem) when it is missing, not a regular file, or unreadable."""
        path = self.path / relative
        found = kind(path)
        for parent in path.parents:  # inside a folder that is a link or no folder: that folder's problem says so
            if parent == self.path:
                break
            if kind(parent) not in ("folder", "missing"):
                return None
        if found == "missing":
            if required:
                self.problem(path, 1, 1, f"`{what}` was not captured for VSP `{self.name}`",
                             f"run `migcheck collector` on {self.name} again, or write the output of `{what}` "
                             f"to {relative}")
            return None
        if found != "file":
            self.estate.problems.append(refused(path, found))
            return None
        try:  # the one reader: bounded while reading, an unreadable file said in words, no link, no FIFO
            raw = read_regular(path, self.limits.max_bytes, self.limits.bytes_option)
        except LoadError as exc:
            self.estate.problems.extend(exc.problems)
            return None
        src = Source.of(str(path), raw.decode("utf-8-sig", errors="replace"))
        try:
            decode(raw, str(path))
        except LoadError as exc:  # read on with U+FFFD in place of the bad bytes; the line says where
            self.estate.problems.extend(exc.problems)
        if src.lines and not raw.endswith(b"\n"):
            self.problem(path, src.last, len(src.lines[-1]) + 1, "the last line has no line end: the capture "
                         "looks cut off", "capture the command's output again")
        return src

    def parsed(self, relative: str, what: str, parser, *args, required: bool = True):
        src = self.source(relative, what, required)
        if src is None:
            return None, None
        value, problems = parser(src, *args)
        self.estate.problems.extend(problems)
        return value, src


def import_capture(root: str | Path, site: str | None = None, limits: Limits = Limits()) -> Estate:
    """Read every VSP folder under `root` into one snapshot."""
    root = Path(root)
    data: dict = {"snapshot": 1}
    if site is not None:
        data["site"] = site
    data["hosts"], data["guests"] = [], []
    estate = Estate(data)
    problem = _root_problem(root)
    if problem is not None:
        estate.problems.append(problem)
        return estate
    _read_vsps(_vsp_folders(root, estate), estate, limits)
    return estate


def _root_problem(root: Path) -> Problem | None:
    """Why `root` is not a capture folder, if it is not."""
    try:
        root.stat()
    except PermissionError as exc:  # a folder on the way that cannot be read (another user's /proc/PID/cwd)
        return os_problem(str(root), exc)
    except OSError:
        pass  # (said below: missing, a loop)
    if not root.is_dir():
        if os.path.lexists(root) and not root.is_file():  # a link loop or a dangling link: say which
            return _unreadable(root, "capture folder")
        return Problem(str(root), 1, 1, "not a folder: expected a capture folder with one folder per VSP",
                       help="run `migcheck collector` on each VSP and copy the folders here")
    if (root / "hpvmstatus.txt").is_file():
        return Problem(str(root / "hpvmstatus.txt"), 1, 1, f"`{root}` is one VSP's folder: "
                       "expected the folder that holds one folder per VSP", help=f"run `migcheck import {root.parent}`")
    return None


def _vsp_folders(root: Path, estate: Estate) -> list[Path]:
    """The VSP folders of the capture folder; anything else in it is a problem (links are not followed)."""
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        estate.problems.append(os_problem(str(root), exc))
        return []
    vsps = []
    for p in entries:
        found = kind(p)
        if p.name.startswith(".migcheck-work.") and p.name.endswith(".old"):  # a swap the collector did not finish
            estate.problems.append(Problem(str(p), 1, 1, f"`{p.name}` is a capture the collector was replacing when it "
                                           "stopped (between its two renames): its VSP's capture is not read",
                                           help="rename it to the VSP's name, or run `migcheck collector` again"))
            continue
        if p.name.startswith(".migcheck-work."):  # the collector's work folder of a run that did not finish
            estate.notes.append(f"`{p.name}` is the work folder of a collector run that did not finish: not read")
            continue
        if p.name.startswith("."):  # (a hidden folder or file is not read without a word)
            if found == "folder" and kind(p / "hpvmstatus.txt") == "file":  # a VSP's capture hidden (by a rename)
                estate.problems.append(Problem(str(p), 1, 1, f"`{p.name}` is a VSP's capture (it holds hpvmstatus.txt) "
                                               "hidden by its name: not read, nor its guests",
                                               help="rename it to the VSP's name, or move it out of the capture folder"))
                continue
            estate.notes.append(f"`{p.name}` in the capture folder is hidden: not read")
            continue
        if found == "folder" and not safe_name(p.name):  # its name becomes the VSP's, in every report
            estate.problems.append(Problem(str(p), 1, 1, f"folder `{p.name}` cannot name a VSP: a VSP's name is "
                                           "letters, digits, `.`, `_` and `-` (as `uname -n` prints it)",
                                           help="rename the folder to the VSP's name"))
        elif found == "folder":
            vsps.append(p)
        elif found != "file":  # a link, a FIFO, a socket: a VSP folder that is not read is never skipped silently
            estate.problems.append(refused(p, found, "folder"))
        elif not p.name.startswith("README"):
            estate.problems.append(Problem(str(p), 1, 1, "a file beside the VSP folders; expected only one "
                                           "folder per VSP", help="move it elsewhere"))
    if not vsps:
        estate.problems.append(Problem(str(root), 1, 1, "no VSP folder in the capture folder",
                                       help="run `migcheck collector` on each VSP and copy its folder here"))
    return vsps


def _read_vsps(vsps: list[Path], estate: Estate, limits: Limits) -> None:
    """Each VSP's host and runnable guests into the snapshot; a note for each guest runnable nowhere."""
    runnable_at: dict[str, tuple[str, Problem, dict]] = {}
    not_runnable: dict[str, list[str]] = {}
    read = [(vsp, *_read_vsp(vsp)) for vsp in (_Vsp(path, estate, limits) for path in vsps)]
    machines: dict[str, list[_Vsp]] = {}  # machinfo's Machine ID number and node name -> the VSPs read with them
    for vsp, host, _ in read:
        if host is not None and vsp.machine_id is not None:
            machines.setdefault(vsp.machine_id[0], []).append(vsp)
    for vsp, host, guests in read:
        copies = machines.get(vsp.machine_id[0], []) if host is not None and vsp.machine_id is not None else []
        if len(copies) > 1:  # one OS instance captured twice (a VSP's folder copied under another name): which is the
            others = [c for c in copies if c is not vsp]  # capture of today is not known, so neither is read
            names = ", ".join(f"`{g['name']}`" for g, _ in guests)
            vsp.problem(vsp.path / "machinfo.txt", vsp.machine_id[1], 1,
                        f"VSP `{vsp.name}` and {', '.join(f'`{c.name}`' for c in others)} are one machine (Machine "
                        f"ID number {vsp.machine_id[0]}, in machinfo): one VSP captured twice; no copy is read"
                        + (f", nor its guests {names}" if names else ""),
                        "keep one folder per VSP in the capture folder (remove the older capture), and import again")
            continue
        if host is None:
            continue  # the problem names the VSP and its guests: a guest needs its host in a snapshot
        estate.snapshot["hosts"].append(host)
        for name in host.get("not_runnable", []):
            not_runnable.setdefault(name, []).append(host["name"])
        for guest, where in guests:
            _add_guest(guest, where, runnable_at, estate)
    for name, hosts in sorted(not_runnable.items()):
        if name not in runnable_at:
            estate.notes.append(f"guest `{name}` is Not Runnable on {', '.join(hosts)} and runnable on no captured "
                                "VSP: it is left out of the snapshot's guests")


def _add_guest(guest: dict, where: Problem, runnable_at: dict[str, tuple[str, Problem, dict]],
               estate: Estate) -> None:
    """A guest into the snapshot, unless a VSP read before holds it runnable too (then a problem, and the copy
    written has its `state` unknown: which copy runs, and where a migration of it would meet the other, is not
    known, so that no move of it reads as ready from what `--partial` writes)."""
    first = runnable_at.get(guest["name"])
    if first is not None:
        estate.problems.append(Problem(where.file, where.line, 1, f"guest `{guest['name']}` is runnable on "
                                       f"VSP `{first[0]}` ({first[1].file}:{first[1].line}) and on VSP "
                                       f"`{guest['host']}`; a guest is runnable on one VSP only (this copy "
                                       f"is left out of the snapshot, and the state of the copy on `{first[0]}` "
                                       "is written unknown)",
                                       help=f"mark one copy Not Runnable (`hpvmmigrate` does) or remove it "
                                       f"(`hpvmremove -P {guest['name']}`)"))
        mark_unknown(first[2], "state")
        return
    runnable_at[guest["name"]] = (guest["host"], where, guest)
    estate.snapshot["guests"].append(guest)


def _listing(vsp: _Vsp, folder: Path) -> list[Path]:
    """The entries of a capture folder (`guests/`, one guest's folder, `vswitches/`); a link or a folder
    that cannot be listed is a problem."""
    found = kind(folder)
    if found == "missing":
        return []  # each capture it should hold is reported missing
    if found != "folder":
        vsp.estate.problems.append(refused(folder, found, "folder"))
        return []
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        vsp.estate.problems.append(os_problem(str(folder), exc))
        return []


def _check_entries(vsp: _Vsp) -> bool:
    """Every entry of a VSP folder is a file or folder of the layout; False when the folder cannot be listed."""
    known = set(FILES) | set(OPTIONAL) | set(FACTS) | set(FOLDERS) | {DIO_CHANGED, FAILED}
    try:
        entries = sorted(vsp.path.iterdir())
    except OSError as exc:
        vsp.estate.problems.append(os_problem(str(vsp.path), exc))
        return False
    for p in entries:
        if p.name.startswith("."):  # (not read, said)
            vsp.estate.notes.append(f"`{vsp.name}/{p.name}` is hidden: not read")
        elif p.name not in known:
            vsp.estate.problems.append(entry(
                p, f"`{p.name}` is not a file of the capture layout",
                "the layout (docs/import.md): hpvmstatus.txt, hpvmstatus-s.txt, hpvmnet.txt, machinfo.txt, swlist.txt, "
                "hpvminfo.txt, hpvmdevmgmt-gdev.txt, hpvmdevmgmt-rdev.txt, mount-p.txt, dio.yaml, guests/, vswitches/"))
    return True


def _read_vsp(vsp: _Vsp) -> tuple[dict | None, list]:
    if not _check_entries(vsp):
        return None, []
    vsp.parsed("hpvminfo.txt", "hpvminfo", parse_hpvminfo, required=False)
    rows, _ = vsp.parsed("hpvmstatus.txt", "hpvmstatus", parse_summary)
    rows = rows or []
    host, missing = _host(vsp)
    extra, gdev, mounts = _facts(vsp)
    guests = _guests(vsp, rows, mounts)
    _device_facts(vsp, guests, gdev if "shared_wwids" in extra else None)
    functions, doc = _dio(vsp, rows)
    if kind(vsp.path / DIO_CHANGED) != "missing":
        vsp.problem(vsp.path / DIO_CHANGED, 1, 1, f"the DIO functions of VSP `{vsp.name}` changed since its dio.yaml "
                    f"was written ({DIO_CHANGED} is a new template, with what `hpvmhwmgmt -p dio -l` printed at the "
                    "last capture): dio.yaml may describe functions as they were",
                    f"complete {DIO_CHANGED} and rename it to dio.yaml")
        missing.append("DIO functions")
    _guest_supplement(vsp, doc, guests)
    for guest, _ in guests:
        dio = [f["hwpath"] for f in functions if f.get("assigned_to") == guest["name"]]
        if dio:
            guest["dio"] = dio
    if missing:
        names = ", ".join(f"`{g['name']}`" for g, _ in guests)
        vsp.problem(vsp.path, 1, 1, f"VSP `{vsp.name}` is left out of the snapshot: its {', '.join(missing)} "
                    "could not be read" + (f"; so are its guests {names}" if names else ""))
        return None, guests
    host["dio_functions"] = functions
    host.update(extra)
    nr = [r.name for r in rows if r.valid and not r.runnable]
    if nr:
        host["not_runnable"] = nr
    return host, guests


def _host(vsp: _Vsp) -> tuple[dict, list[str]]:
    """The host entry from the VSP-wide captures, and the required facts that could not be read."""
    before = len(vsp.estate.problems)
    free, free_src = vsp.parsed("hpvmstatus-s.txt", "hpvmstatus -s", parse_available)
    if len(vsp.estate.problems) != before:  # (a line not read, or two outputs: the free memory and cores are not
        free = None                         # known, and an absent core count reads as "no constraint")
    before = len(vsp.estate.problems)
    network, _ = vsp.parsed("hpvmnet.txt", "hpvmnet", parse_hpvmnet)
    whole = network is not None and len(vsp.estate.problems) == before
    machine, _ = vsp.parsed("machinfo.txt", "machinfo", parse_machinfo)
    # one OS instance: the machine's ID number (shared by the nPartitions of a complex) and the node name
    vsp.machine_id = machine and machine.machine_id and machine.nodename and (
        f"{machine.machine_id[0]}, node name {machine.nodename}", machine.machine_id[1])
    bundles, swlist_src = vsp.parsed("swlist.txt", "swlist -l bundle", parse_swlist)
    version = None
    if bundles is not None:
        version, problems = release(bundles, swlist_src)
        vsp.estate.problems.extend(problems)
    before = len(vsp.estate.problems)
    vswitches = _vswitches(vsp, network)
    # (a vswitch table with a row not read, or a vswitch capture it does not list, is not written from the rest: an
    # absent vswitch reads as "not there")
    whole = whole and len(vsp.estate.problems) == before
    facts = {"version": version, "processor": machine and machine.processor,
             "total memory": machine and machine.memory_mb, "free memory": free, "vswitches": whole or None}
    host = {"name": vsp.name, "version": version, "processor": machine and machine.processor,
            "memory_mb": {"total": machine and machine.memory_mb, "free": free}, "vswitches": vswitches}
    if machine is not None and machine.cores is not None:
        host["cpu_cores"] = machine.cores
    cores = vpar_cores(free_src) if free_src is not None else None
    if cores is not None:
        host["cpu_cores_free"] = cores
    if network is not None:
        host["vswitch_details"] = [{"name": v.name, "state": v.state, "pnic": v.pnic} for v in network.vswitches]
    return host, [what for what, value in facts.items() if value is None]


def _facts(vsp: _Vsp) -> tuple[dict, dict, object]:
    """`shared_wwids`, `restricted_wwids` and `nfs_mounts` from their captures, the `gdev` entries by device name,
    and the mounts in effect (`mounts.MountTable`, None when not read whole); a field whose capture is missing or holds a line not understood is left out (unknown),
    never written from part of a list."""
    out, gdev, mounts = {}, {}, None
    failed = _failed(vsp)
    for filename, (what, name) in FACTS.items():
        if kind(vsp.path / filename) == "missing" and filename in failed:
            vsp.problem(vsp.path / FAILED, failed[filename], 1, f"`{what}` failed when VSP `{vsp.name}` was captured: "
                        f"its `{name}` is unknown" + (", and so is its guests' storage" if name == "shared_wwids"
                                                       else ""),
                        f"run `{what}` on {vsp.name} to see why, then `migcheck collector` again")
            continue
        if kind(vsp.path / filename) == "missing":
            vsp.estate.notes.append(f"VSP `{vsp.name}`: `{what}` was not captured ({filename}): its `{name}` is "
                                    "unknown" + (", and so is its guests' storage (which devices are shared, their "
                                                 "WWIDs)" if name == "shared_wwids" else ""))
            continue
        before = len(vsp.estate.problems)
        if name == "nfs_mounts":
            table, _ = vsp.parsed(filename, what, parse_mounts)
            value = None if table is None else table.nfs
        else:
            db, _ = vsp.parsed(filename, what, parse_devmgmt, what.split()[-1])
            value = None if db is None else db.shared if name == "shared_wwids" else db.restricted
        if value is not None and len(vsp.estate.problems) == before:
            out[name] = value
            if name == "shared_wwids":
                gdev = db.devices
            elif name == "nfs_mounts":
                mounts = table
    return out, gdev, mounts


def _failed(vsp: _Vsp) -> dict[str, int]:
    """The capture files the collector says its command failed for (`FAILED`), each with its line there."""
    if kind(vsp.path / FAILED) == "missing":
        return {}
    source = vsp.source(FAILED, "the collector's list of failed commands")
    if source is None:
        return {}
    return {text.strip(): no for no, text in source.numbered() if text.strip()}


def _device_facts(vsp: _Vsp, guests: list[tuple[dict, Problem]], gdev: dict | None) -> None:
    """Each storage line's `share` (SHARE=YES) and `wwid` from its `hpvmdevmgmt -l gdev` entry, found by path;
    `gdev` None (not captured, or not read whole): a guest's storage is unknown, not "shared by none, no WWID".
    So is the storage of a guest with a device the listing has no entry for: the device database lists every
    device a guest is given (`hpvmmodify -a` adds it), so a listing without one is cut short or stale (an empty
    listing, one cut between two lines), not a device "shared by none"."""
    for guest, _ in guests:
        storage = guest.get("storage", [])
        absent = [] if gdev is None else [s["path"] for s in storage if s["path"] not in gdev]
        if gdev is None or absent:
            if absent:
                vsp.estate.notes.append(
                    f"VSP `{vsp.name}`: `hpvmdevmgmt -l gdev` (hpvmdevmgmt-gdev.txt) has no entry for "
                    f"{', '.join(f'`{p}`' for p in absent[:3])}{' and more' if len(absent) > 3 else ''} of guest "
                    f"`{guest['name']}`: its storage (which devices are shared, their WWIDs) is unknown; capture "
                    "`hpvmdevmgmt -l gdev` again")
            if storage:
                mark_unknown(guest, "storage")
            continue
        for store in storage:
            share, wwid = gdev[store["path"]]
            if share:
                store["share"] = True
            if wwid is not None:
                store["wwid"] = wwid


def _vswitches(vsp: _Vsp, network) -> list[str]:
    names = [v.name for v in network.vswitches] if network is not None else []
    hpvmnet = vsp.path / "hpvmnet.txt"
    for v in network.vswitches if network is not None else []:
        if not safe_name(v.name):
            vsp.problem(hpvmnet, v.line, 1, f"vswitch name `{v.name}` cannot name a capture file: "
                        "`hpvmnet -S` of it is not read")
            continue
        single, src = vsp.parsed(f"vswitches/{v.name}.txt", f"hpvmnet -S {v.name}", parse_hpvmnet, True)
        if single is not None and single.vswitches and single.vswitches[0].name != v.name:
            got = single.vswitches[0]
            vsp.problem(src.file, got.line, 1, f"this is `hpvmnet -S {got.name}`, expected vswitch `{v.name}` "
                        "(the file's name)")
    for p in _listing(vsp, vsp.path / "vswitches"):
        if p.suffix != ".txt" or p.stem not in names:
            vsp.estate.problems.append(entry(p, f"`{p.name}` is not the capture of a vswitch that `hpvmnet.txt` "
                                             f"lists ({', '.join(names) or 'none'})"))
    return names


def _guests(vsp: _Vsp, rows, mounts) -> list[tuple[dict, Problem]]:
    out = []
    summary = vsp.path / "hpvmstatus.txt"
    names = {r.name for r in rows if safe_name(r.name)}
    clashes = _clashes(vsp, names)
    for row in rows:
        if not row.valid:  # its row's problem is reported; its files are its own, not strays
            continue
        if not safe_name(row.name):
            vsp.problem(summary, row.line, 1, f"guest name `{row.name}` cannot name a capture file (it holds `/`, "
                        "a leading `.` or a character hpvmcreate does not allow): its captures are not read and "
                        "it is left out of the snapshot", "rename the guest, or capture it by hand")
            continue
        cap = _captured(vsp, row, clashes)
        if not row.runnable:
            continue
        guest, problems = assemble(row, vsp.name, cap, mounts)
        vsp.estate.problems.extend(problems)
        out.append((guest, Problem(str(summary), row.line, 1, "")))
    _strays(vsp, names)
    return out


def _clashes(vsp: _Vsp, names: set[str]) -> set[str]:
    """Old-layout files that two guests' captures share (`web.d.txt` of `web` and of `web.d`), each reported."""
    out = set()
    for name in sorted(names):
        if kind(vsp.path / "guests" / name) == "folder":
            continue
        filename = f"{name}.d.txt"
        owners = flat_owners(filename, names)
        if len(owners) > 1 and kind(vsp.path / "guests" / filename) != "missing":
            out.add(filename)
            vsp.problem(vsp.path / "guests" / filename, 1, 1, f"in the first capture layout `{filename}` is both "
                        f"`hpvmstatus -P {owners[0]} -d` and `hpvmstatus -P {owners[1]}`: it is read as neither",
                        "capture the VSP again with this version's collector (one folder per guest)")
    return out


def _captured(vsp: _Vsp, row, clashes: set[str]) -> Captured:
    details_rel, devices_rel, _ = guest_files(vsp.path / "guests", row.name)
    summary = vsp.path / "hpvmstatus.txt"
    details = devices = None
    if kind(vsp.path / "guests" / row.name) == "link":  # the guest's folder, never followed
        vsp.estate.problems.append(refused(vsp.path / "guests" / row.name, "link", "folder"))
        clashes = {details_rel.split("/")[-1], devices_rel.split("/")[-1]}
    if details_rel.split("/")[-1] not in clashes:
        details = _detail(vsp, row, details_rel)
    if devices_rel.split("/")[-1] not in clashes:
        devices, _ = vsp.parsed(devices_rel, f"hpvmstatus -P {row.name} -d", parse_devices, required=False)
        if devices is None and kind(vsp.path / devices_rel) == "missing":
            vsp.problem(summary, row.line, 1, f"guest `{row.name}` is listed here but `hpvmstatus -P {row.name} "
                        f"-d` was not captured ({devices_rel}): its storage and networks are read from "
                        f"`hpvmstatus -P {row.name}` where it lists them, else unknown",
                        f"capture it: `hpvmstatus -P {row.name} -d > {devices_rel}`")
    return Captured(details, devices, str(vsp.path / details_rel), str(vsp.path / devices_rel), str(summary))


def _strays(vsp: _Vsp, names: set[str]) -> None:
    """Entries of `guests/` that are the capture of no listed guest, or of one whose captures are elsewhere."""
    folder = vsp.path / "guests"
    for p in _listing(vsp, folder):
        found = kind(p)
        if found == "folder" and p.name in names:
            for inner in _listing(vsp, p):
                if inner.name not in (NEW_DETAILS, NEW_DEVICES):
                    vsp.estate.problems.append(entry(inner, f"`{inner.name}` is not a file of a guest's capture "
                                                     f"folder (expected {NEW_DETAILS} and {NEW_DEVICES})"))
            continue
        owners = flat_owners(p.name, names) if found != "folder" else []
        if not owners and not (found == "link" and p.name in names):  # a guest's folder as a link: said when read
            vsp.estate.problems.append(entry(p, f"`{p.name}` is the capture of no guest that `hpvmstatus.txt` "
                                             "lists"))
        elif owners and all(kind(folder / o) == "folder" for o in owners):
            vsp.estate.problems.append(entry(p, f"`{p.name}` is a first-layout capture of `{owners[0]}`, whose "
                                             f"captures are in guests/{owners[0]}/: it is not read",
                                             "remove one of the two"))


def _detail(vsp: _Vsp, row, relative: str):
    details, src = vsp.parsed(relative, f"hpvmstatus -P {row.name}", parse_details, required=False)
    summary = vsp.path / "hpvmstatus.txt"
    if details is None:
        if kind(vsp.path / relative) != "missing":
            return None  # there, but refused (its problem says why)
        vsp.problem(summary, row.line, 1, f"guest `{row.name}` is listed here but `hpvmstatus -P {row.name}` was not "
                    f"captured ({relative})", f"capture it: `hpvmstatus -P {row.name} > {relative}`")
        return None
    checks = [("name", details.name, row.name), ("kind", details.kind, row.kind),
              # (an OS type is compared when both captures print one)
              ("os_type", details.os_type and row.os_type and details.os_type.upper(), row.os_type.upper()),
              ("state", (details.state, details.runnable) if details.state else None, (row.state, row.runnable)),
              ("vcpus", details.vcpus, row.vcpus), ("memory_mb", details.memory_mb, row.memory_mb)]
    for key, got, want in checks:
        if got is not None and got != want:
            details.disagree.add(key)  # which is the guest's is not known: the part is unknown (--partial)
            show = {"state": lambda v: "On" if v[0] == "on" else "Off" if v[1] else "Off (NR)",
                    "memory_mb": lambda v: f"{v} MB"}.get(key, str)
            vsp.problem(src.file, details.line.get(key, 1), 1,
                        f"{key.replace('_mb', '')} `{show(got)}` here, `{show(want)}` in hpvmstatus.txt:{row.line}: "
                        "the captures disagree", "capture hpvmstatus and the guest's details again, one after the other")
    return details


def _dio(vsp: _Vsp, rows) -> tuple[list[dict], object]:
    """The host's DIO functions from the supplement, and the supplement's document (for its `guests`)."""
    path = vsp.path / "dio.yaml"
    found = kind(path)
    if found == "missing":
        vsp.problem(path, 1, 1, f"the DIO supplement of VSP `{vsp.name}` is missing",
                    "write `dio_functions: []` to dio.yaml when the VSP has no DIO functions")
        return [], None
    if found != "file":
        vsp.estate.problems.append(refused(path, found))
        return [], None
    functions, problems, doc = parse_supplement(path, vsp.limits)
    vsp.estate.problems.extend(problems)
    if doc is not None and doc.text and not doc.text.endswith("\n"):  # a supplement cut short reads as valid YAML
        lines = doc.text.split("\n")
        vsp.problem(path, len(lines), len(lines[-1]) + 1, "the last line has no line end: the file looks cut off",
                    "complete dio.yaml again from the collector's template")
    runnable = {r.name for r in rows if r.valid and r.runnable}
    nr = {r.name for r in rows if r.valid and not r.runnable}
    unread = {r.name for r in rows if not r.valid}
    out = []
    for fn in functions:
        index = fn.pop("_index")
        owner = fn.get("assigned_to")
        if owner is not None and owner not in runnable:
            why = ("is Not Runnable here" if owner in nr else "could not be read from hpvmstatus.txt"
                   if owner in unread else "is not in hpvmstatus.txt")
            vsp.estate.problems.append(doc.problem(("dio_functions", index, "assigned_to"),
                                                   f"DIO function `{fn['hwpath']}` is assigned to guest `{owner}`, "
                                                   f"which {why}", "correct `assigned_to` or remove it"))
            fn.pop("assigned_to")
        fn.setdefault("pool", False)
        out.append({k: fn[k] for k in ("hwpath", "type", "pool", "label", "assigned_to") if k in fn})
    return out, doc


def _guest_supplement(vsp: _Vsp, doc, guests: list[tuple[dict, Problem]]) -> None:
    """`guest_kit` and `virtualbase` from the supplement's `guests` (not visible from the VSP)."""
    facts, problems = guest_facts(doc, {g["name"] for g, _ in guests})
    vsp.estate.problems.extend(problems)
    for guest, _ in guests:
        guest.update(facts.get(guest["name"], {}))


def _unreadable(path: Path, what: str) -> Problem:
    """The capture folder named on the command line, when it is neither a file nor a folder, in words."""
    try:
        os.stat(path)
    except OSError as exc:
        problem = os_problem(str(path), exc)
        return Problem(problem.file, 1, 1, f"cannot be read as a {what}: {problem.message}", help=problem.help)
    return Problem(str(path), 1, 1, f"cannot be read as a {what}: neither a folder nor a file",
                   help="remove it or replace it with the folder `migcheck collector` wrote")
