"""`machinfo`: the VSP's processor (normalised to a compatibility group name) and memory.

Two layouts are known (fusioninventory's real captures): HP-UX 11.23 prints `processor
family: 31 ...` and `processor model: 2 ...` under `CPUID registers` and `Memory = 4076
MB`; HP-UX 11.31 prints one line per processor kind (`2 Intel(R) Itanium 2 9100 series
processors (1.6 GHz, 12 MB)`) and `Memory: 8180 MB (7.99 GB)`.

Processor names are those of `rules/data/processor_groups.yaml`, which ONLINE-PROCESSOR
reads. The IVM 4.3 guide (p.178) states the online rule in machinfo terms: family 31 of
any model are one group; family 32 models 0 and 1 are one group; otherwise family and
model must be identical. Family 31 is the Itanium 2 before the 9000 series, family 32
models 0 and 1 the Itanium 2 9000 and 9100 (V6.1 Release Notes p.34 lists those groups);
any other pair is named by its numbers, a group of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import Problems, Source, UnitError, memory_mb, number, too_long

_FAMILY = re.compile(r"^processor family:\s+(?P<n>[0-9]+)\b")
_MODEL = re.compile(r"^processor model:\s+(?P<n>[0-9]+)\b")
_CPU_LINE = re.compile(r"^(?:(?P<count>[0-9]+)\s+)?(?P<name>[^0-9].*?Itanium.*?)\s+\((?P<speed>[^)]*)\)$")
# The "Active processor count" block of HP-UX 11.31 machinfo: `8 cores (4 per socket)`, `1 core`; hyperthreads
# are the separate `N logical processors` line and never count (V6.3 guide 5.1.5: vCPUs <= physical cores).
_CORES = re.compile(r"^(?P<n>[0-9]+) cores?(?: \([0-9]+ per socket\))?$")
# HP-UX 11.23 (`Number of CPUs = 2`): one core per CPU on processor family 31 (Itanium 2 before the 9000 series,
# single-core, no hyperthreading); for later families the number may count hyperthreads and is not read as cores.
_CPUS = re.compile(r"^Number of CPUs = (?P<n>[0-9]+)$")
_MEMORY = re.compile(r"^Memory\s*[=:]\s*(?P<amount>[0-9]+\s*\S+)(?:\s+\(.*\))?$")
# Top-level lines machinfo prints; indented lines below them are their detail.
_TOP = re.compile(r"^(CPU info|Cache info|Firmware info|Platform info|OS info|Memory\b.*|@\(#\).*)")
_NAMES = [
    (re.compile(r"Itanium 2 (9[01])[0-9][0-9][A-Z]?\b"), lambda m: f"Itanium 2 {m[1]}00"),
    (re.compile(r"Itanium Processor (9[0-9])[0-9][0-9]s?\b"), lambda m: f"Itanium {m[1]}00"),
    (re.compile(r"Itanium 2 (processors?|Family)\b"), lambda m: "Itanium 2"),
]


@dataclass
class Machine:
    processor: str | None = None
    memory_mb: int | None = None
    cores: int | None = None
    machine_id: tuple[str, int] | None = None  # `Machine ID number` and its line: one per machine (nPartitions of
    nodename: str | None = None  # one complex share it: with the OS's node name it names one OS instance)


_MACHINE_ID = re.compile(r"^[Mm]achine [Ii][Dd] number\s*[:=]\s*(?P<id>\S+)$")  # 11.31 `:`, 11.23 `=`
_NODENAME = re.compile(r"^[Nn]odename\s*[:=]\s*(?P<name>\S+)$")


def processor_name(family: int | None, model: int | None, name: str | None) -> str | None:
    """The processor group name for `ONLINE-PROCESSOR`, from family/model numbers when present."""
    if family is not None:
        if family == 31:
            return "Itanium 2"
        if family == 32 and model in (0, 1):
            return "Itanium 2 9000" if model == 0 else "Itanium 2 9100"
        return f"Itanium family {family} model {model}"
    if name is None:
        return None
    clean = " ".join(name.replace("(R)", " ").replace("(TM)", " ").split())
    for pattern, group in _NAMES:
        m = pattern.search(clean)
        if m:
            return group(m)
    return None


def _once(problems: Problems, seen: dict, key: str, value: int, no: int) -> None:
    """A value machinfo prints once, said twice with another value (two outputs in one file): a problem."""
    first = seen.setdefault(key, (value, no))
    if first[0] != value and first[1] is not None:
        problems.at(no, 1, f"`{key}` is {value} here and {first[0]} at line {first[1]}: the capture holds two "
                    "outputs", "capture it again with `machinfo > machinfo.txt`")
        seen[key] = (None, None)  # neither is taken


_FAMILY_MODEL = ("processor family", "processor model")


def _numbered(m, no: int, text: str, problems: Problems, seen: dict) -> None:
    """A `processor family`, `processor model`, cores or CPUs line: its number in `seen` (by what it counts)."""
    n = number(m["n"])
    if n is None:  # digits, but too many to read: its value stays unknown
        problems.at(no, text.find(m["n"]) + 1, f"{too_long(m['n'])}: HP prints no such number",
                    "capture it again with `machinfo > machinfo.txt`")
        return
    key = {_FAMILY: _FAMILY_MODEL[0], _MODEL: _FAMILY_MODEL[1], _CORES: "cores"}.get(m.re, "cpus")
    _once(problems, seen, key, n, no)


def parse_machinfo(source: Source) -> tuple[Machine, list]:
    problems = Problems(source.file)
    out = Machine()
    names: list[tuple[str, int]] = []
    memory_line = None
    seen: dict[str, tuple[int, int]] = {}  # a number the capture gives once, by what it counts: (value, line)
    for no, text in source.numbered():
        line = text.strip()
        if not line:
            continue
        if not text[0].isspace() and not _TOP.match(text):
            problems.at(no, 1, f"expected a machinfo heading (`CPU info:`, `Memory ...`, `OS info:` ...), found `{line}`")
            continue
        if m := _FAMILY.match(line) or _MODEL.match(line) or _CORES.match(line) or _CPUS.match(line):
            _numbered(m, no, text, problems, seen)
        elif m := _CPU_LINE.match(line):
            names.append((m["name"], no))
        elif m := _MACHINE_ID.match(line):
            if out.machine_id is not None and out.machine_id[0] != m["id"]:
                problems.at(no, 1, f"`Machine ID number` is {m['id']} here and {out.machine_id[0]} at line "
                            f"{out.machine_id[1]}: the capture holds two outputs",
                            "capture it again with `machinfo > machinfo.txt`")
            out.machine_id = out.machine_id or (m["id"], no)
        elif m := _NODENAME.match(line):
            out.nodename = out.nodename or m["name"]
        elif m := _MEMORY.match(line):
            memory_line = no
            try:
                out.memory_mb = memory_mb(m["amount"])
            except UnitError as exc:
                problems.at(no, text.find(m["amount"]) + 1 + exc.offset, str(exc))
            else:
                _once(problems, seen, "Memory", out.memory_mb, no)
    if seen.get("Memory", (None, 0))[1] is None:  # two values: which is this VSP's is not known
        out.memory_mb = None
    family, model = (seen.get(key, (None,))[0] for key in _FAMILY_MODEL)
    counted = seen.get("cores", seen.get("cpus") if family == 31 else None)
    out.cores = (counted[0] or None) if counted else None
    if family is not None and model is None:
        problems.at(source.last, 1, "`processor family` without `processor model`; the capture looks truncated")
    kinds = {processor_name(None, None, n) for n, _ in names}
    if family is not None:
        out.processor = processor_name(family, model, None)
    elif names:
        if None in kinds:
            name, no = next((n, no) for n, no in names if processor_name(None, None, n) is None)
            problems.at(no, 1, f"processor `{name}` is not one migcheck can place in a compatibility group",
                        "add the VSP's processor to rules/data/processor_groups.yaml or report it")
        elif len(kinds) > 1:
            problems.at(names[1][1], 1, f"processors of different kinds on one VSP: {', '.join(sorted(kinds))}")
        else:
            out.processor = kinds.pop()
    else:
        problems.at(source.last, 1, "no processor in the machinfo capture (neither `processor family:` nor a "
                    "`N Intel(R) Itanium ... processors` line)", "capture it again with `machinfo > machinfo.txt`")
    if memory_line is None:
        problems.at(source.last, 1, "no `Memory: N MB` line in the machinfo capture; the VSP's memory is unknown")
    return out, problems.items
