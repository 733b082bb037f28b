"""A capture folder (one folder per VSP) to a snapshot: every file parsed, then checked together.

Input: the folder `migcheck collector` fills (layout in DESIGN.md, "Importing an estate").
Output: an `Estate` with the snapshot as plain data, every located problem, and notes.
Nothing is dropped silently: a file that is missing, a line a parser did not understand,
a guest listed without its `-P` capture, each is a problem; with `--partial` the snapshot
holds what could be read.

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
from ..files.reader import os_problem, read_bytes
from ._text import Source
from .available import parse_available
from .details import parse_details
from .devices import parse_devices
from .hpvminfo import parse_hpvminfo
from .hpvmnet import parse_hpvmnet
from .machinfo import parse_machinfo
from .summary import parse_summary
from .supplement import parse_supplement
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

    def problem(self, file: Path | str, line: int, col: int, message: str, help: str = "") -> None:
        self.estate.problems.append(Problem(str(file), line, col, message, help=help))

    def source(self, relative: str, what: str, required: bool = True) -> Source | None:
        path = self.path / relative
        if not _present(path):
            if required:
                self.problem(path, 1, 1, f"`{what}` was not captured for VSP `{self.name}`",
                             f"run `migcheck collector` on {self.name} again, or write the output of `{what}` "
                             f"to {relative}")
            return None
        try:  # the one reader: bounded while reading, an unreadable file said in words
            raw = read_bytes(path, self.limits.max_bytes, self.limits.bytes_option)
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
    """The VSP folders of the capture folder; anything else in it is a problem."""
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        estate.problems.append(os_problem(str(root), exc))
        return []
    vsps = [p for p in entries if p.is_dir() and not p.name.startswith(".")]
    for p in entries:
        if p.name.startswith(".") or p.is_dir():
            continue
        if p.is_file():
            if not p.name.startswith("README"):
                estate.problems.append(Problem(str(p), 1, 1, "a file beside the VSP folders; expected only one "
                                               "folder per VSP", help="move it elsewhere"))
        else:  # a dangling link, a link loop, a socket: a VSP folder that cannot be read is never skipped silently
            estate.problems.append(_unreadable(p, "VSP folder"))
    if not vsps:
        estate.problems.append(Problem(str(root), 1, 1, "no VSP folder in the capture folder",
                                       help="run `migcheck collector` on each VSP and copy its folder here"))
    return vsps


def _read_vsps(vsps: list[Path], estate: Estate, limits: Limits) -> None:
    """Each VSP's host and runnable guests into the snapshot; a note for each guest runnable nowhere."""
    runnable_at: dict[str, tuple[str, Problem]] = {}
    not_runnable: dict[str, list[str]] = {}
    for path in vsps:
        host, guests = _read_vsp(_Vsp(path, estate, limits))
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


def _add_guest(guest: dict, where: Problem, runnable_at: dict[str, tuple[str, Problem]], estate: Estate) -> None:
    """A guest into the snapshot, unless a VSP read before holds it runnable too (then a problem)."""
    first = runnable_at.get(guest["name"])
    if first is not None:
        estate.problems.append(Problem(where.file, where.line, 1, f"guest `{guest['name']}` is runnable on "
                                       f"VSP `{first[0]}` ({first[1].file}:{first[1].line}) and on VSP "
                                       f"`{guest['host']}`; a guest is runnable on one VSP only (this copy "
                                       "is left out of the snapshot)",
                                       help=f"mark one copy Not Runnable (`hpvmmigrate` does) or remove it "
                                       f"(`hpvmremove -P {guest['name']}`)"))
        return
    runnable_at[guest["name"]] = (guest["host"], where)
    estate.snapshot["guests"].append(guest)


def _present(path: Path) -> bool:
    """Whether a capture file is there at all: a directory, a dangling link or a link loop in its place is
    there (and its reading says what is wrong with it), only an absent name is "not captured"."""
    return os.path.lexists(path)


def _unreadable(path: Path, what: str) -> Problem:
    """A folder entry that is neither a file nor a folder, as a located problem in words."""
    try:
        os.stat(path)
    except OSError as exc:
        problem = os_problem(str(path), exc)
        return Problem(problem.file, 1, 1, f"cannot be read as a {what}: {problem.message}", help=problem.help)
    return Problem(str(path), 1, 1, f"cannot be read as a {what}: neither a folder nor a file",
                   help="remove it or replace it with the folder `migcheck collector` wrote")


def _listing(vsp: _Vsp, folder: Path) -> list[Path]:
    """The entries of a VSP's `guests/` or `vswitches/` folder; one that cannot be listed is a problem."""
    if not folder.is_dir():
        return []  # absent (each capture it should hold is reported missing) or reported by `_read_vsp`
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        vsp.estate.problems.append(os_problem(str(folder), exc))
        return []


def _read_vsp(vsp: _Vsp) -> tuple[dict | None, list]:
    known = set(FILES) | set(OPTIONAL) | set(FOLDERS)
    try:
        entries = sorted(vsp.path.iterdir())
    except OSError as exc:
        vsp.estate.problems.append(os_problem(str(vsp.path), exc))
        return None, []
    for p in entries:
        if p.name not in known and not p.name.startswith("."):
            vsp.problem(p, 1, 1, f"`{p.name}` is not a file of the capture layout",
                        "the layout: hpvmstatus.txt, hpvmstatus-s.txt, hpvmnet.txt, machinfo.txt, swlist.txt, "
                        "hpvminfo.txt, dio.yaml, guests/, vswitches/")
        elif p.name in FOLDERS and not p.is_dir():
            vsp.estate.problems.append(_unreadable(p, "folder"))
    vsp.parsed("hpvminfo.txt", "hpvminfo", parse_hpvminfo, required=False)
    rows, _ = vsp.parsed("hpvmstatus.txt", "hpvmstatus", parse_summary)
    free, _ = vsp.parsed("hpvmstatus-s.txt", "hpvmstatus -s", parse_available)
    network, _ = vsp.parsed("hpvmnet.txt", "hpvmnet", parse_hpvmnet)
    machine, _ = vsp.parsed("machinfo.txt", "machinfo", parse_machinfo)
    bundles, swlist_src = vsp.parsed("swlist.txt", "swlist -l bundle", parse_swlist)
    version = None
    if bundles is not None:
        version, problems = release(bundles, swlist_src)
        vsp.estate.problems.extend(problems)
    vswitches = _vswitches(vsp, network)
    rows = rows or []
    guests = _guests(vsp, rows, vswitches)
    functions = _dio(vsp, rows)
    for guest, _ in guests:
        guest["dio"] = [f["hwpath"] for f in functions if f.get("assigned_to") == guest["name"]]
        if not guest["dio"]:
            del guest["dio"]
    facts = {"version": version, "processor": machine and machine.processor,
             "total memory": machine and machine.memory_mb, "free memory": free}
    unknown = [what for what, value in facts.items() if value is None]
    if unknown:
        names = ", ".join(f"`{g['name']}`" for g, _ in guests)
        vsp.problem(vsp.path, 1, 1, f"VSP `{vsp.name}` is left out of the snapshot: its {', '.join(unknown)} "
                    "could not be read" + (f"; so are its guests {names}" if names else ""))
        return None, guests
    host = {"name": vsp.name, "version": version, "processor": machine.processor,
            "memory_mb": {"total": machine.memory_mb, "free": free}, "vswitches": vswitches,
            "dio_functions": functions}
    nr = [r.name for r in rows if r.valid and not r.runnable]
    if nr:
        host["not_runnable"] = nr
    return host, guests


def _vswitches(vsp: _Vsp, network) -> list[str]:
    names = [v.name for v in network.vswitches] if network is not None else []
    folder = vsp.path / "vswitches"
    for name in names:
        single, src = vsp.parsed(f"vswitches/{name}.txt", f"hpvmnet -S {name}", parse_hpvmnet, True)
        if single is not None and single.vswitches and single.vswitches[0].name != name:
            v = single.vswitches[0]
            vsp.problem(src.file, v.line, 1, f"this is `hpvmnet -S {v.name}`, expected vswitch `{name}` (the file's name)")
    for p in _listing(vsp, folder):
        if p.suffix != ".txt" or p.stem not in names:
            vsp.problem(p, 1, 1, f"`{p.name}` is not the capture of a vswitch that `hpvmnet.txt` lists "
                        f"({', '.join(names) or 'none'})")
    return names


def _guests(vsp: _Vsp, rows, vswitches) -> list[tuple[dict, Problem]]:
    out = []
    names = {r.name for r in rows}
    summary = vsp.path / "hpvmstatus.txt"
    for row in rows:
        if not row.valid:  # its row's problem is reported; its files are its own, not strays
            continue
        where = Problem(str(summary), row.line, 1, "")
        details = _detail(vsp, row, f"guests/{row.name}.txt")
        devices, _ = vsp.parsed(f"guests/{row.name}.d.txt", f"hpvmstatus -P {row.name} -d", parse_devices,
                                required=False)
        if devices is None and not _present(vsp.path / "guests" / f"{row.name}.d.txt"):
            vsp.problem(summary, row.line, 1, f"guest `{row.name}` is listed here but `hpvmstatus -P {row.name} -d` "
                        f"was not captured (guests/{row.name}.d.txt): its storage and networks are unknown",
                        f"capture it: `hpvmstatus -P {row.name} -d > guests/{row.name}.d.txt`")
        if not row.runnable:
            continue
        guest = {"name": row.name, "kind": row.kind, "host": vsp.name, "state": row.state,
                 "memory_mb": row.memory_mb, "vcpus": row.vcpus}
        if devices is not None:
            if devices.networks:
                guest["networks"] = [{"vswitch": name} for name, _ in devices.networks]
            if devices.storage:
                guest["storage"] = [{"backing": backing, "path": path} for _, backing, path, _ in devices.storage]
            if details is not None:
                _compare_devices(vsp, row.name, details, devices)
        out.append((guest, where))
    folder = vsp.path / "guests"
    for p in _listing(vsp, folder):
        stem = p.name[:-len(".d.txt")] if p.name.endswith(".d.txt") else p.name[:-4] if p.name.endswith(".txt") else None
        if stem not in names:
            vsp.problem(p, 1, 1, f"`{p.name}` is the capture of no guest that `hpvmstatus.txt` lists")
    return out


def _detail(vsp: _Vsp, row, relative: str):
    details, src = vsp.parsed(relative, f"hpvmstatus -P {row.name}", parse_details, required=False)
    summary = vsp.path / "hpvmstatus.txt"
    if details is None:
        if _present(vsp.path / relative):
            return None  # there, but refused (its problem says why)
        vsp.problem(summary, row.line, 1, f"guest `{row.name}` is listed here but `hpvmstatus -P {row.name}` was not "
                    f"captured ({relative})", f"capture it: `hpvmstatus -P {row.name} > {relative}`")
        return None
    checks = [("name", details.name, row.name),
              ("state", (details.state, details.runnable) if details.state else None, (row.state, row.runnable)),
              ("vcpus", details.vcpus, row.vcpus), ("memory_mb", details.memory_mb, row.memory_mb)]
    for key, got, want in checks:
        if got is not None and got != want:
            show = {"state": lambda v: "On" if v[0] == "on" else "Off" if v[1] else "Off (NR)",
                    "memory_mb": lambda v: f"{v} MB"}.get(key, str)
            vsp.problem(src.file, details.line.get(key, 1), 1,
                        f"{key.replace('_mb', '')} `{show(got)}` here, `{show(want)}` in hpvmstatus.txt:{row.line}: "
                        "the captures disagree", "capture hpvmstatus and the guest's details again, one after the other")
    return details


def _compare_devices(vsp: _Vsp, name: str, details, devices) -> None:
    """The -P storage and network tables must list what the -d lines list."""
    file = vsp.path / "guests" / f"{name}.txt"
    d_paths = [path for _, _, path, _ in devices.storage]
    for _, _, path, line in details.storage:
        if path not in d_paths:
            vsp.problem(file, line, 1, f"storage `{path}` is not among the `-d` device lines of `{name}`",
                        "capture both files again, one after the other")
    d_nets = sorted(n for n, _ in devices.networks)
    p_nets = sorted(n for n, _ in details.networks)
    if details.networks and d_nets != p_nets:
        line = next((no for n, no in details.networks if n not in d_nets), details.networks[0][1])
        vsp.problem(file, line, 1, f"vswitches {', '.join(p_nets)} here, "
                    f"{', '.join(d_nets) or 'none'} in the `-d` lines of `{name}`")


def _dio(vsp: _Vsp, rows) -> list[dict]:
    path = vsp.path / "dio.yaml"
    if not _present(path):
        vsp.problem(path, 1, 1, f"the DIO supplement of VSP `{vsp.name}` is missing",
                    "write `dio_functions: []` to dio.yaml when the VSP has no DIO functions")
        return []
    functions, problems, doc = parse_supplement(path, vsp.limits)
    vsp.estate.problems.extend(problems)
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
    return out
