"""`hpvmstatus` (no options): the guests of a VSP, one row each.

Two layouts are known from real output: Integrity VM 3.5/4.x (`Virtual Machine Name, VM #,
OS Type, State, #VCPUs, #Devs, #Nets, Memory, Runsysid`) and vPars and Integrity VM V6
(a `Type` column, SH for a VM and VP for a vPar, and no `Runsysid`). Cells are cut at the
`====` ruler's columns; where a copy lost the alignment the row is split by the known
columns instead (only `State` and `Memory` hold a space).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import Problems, Source, UnitError, memory_mb, number, sections, shorten, split_by_ruler, table

# Column titles as hpvmstatus prints them, longest first so "OS Type" wins over "Type".
_VOCABULARY = ["Virtual Machine Name", "OS Type", "Runsysid", "#VCPUs", "Memory", "State", "#Devs", "#Nets",
               "VM #", "Type"]
_REQUIRED = ["Virtual Machine Name", "State", "#VCPUs", "Memory"]
_CELL = {
    "Virtual Machine Name": r"\S+", "VM #": r"[0-9]+", "Type": r"\S+", "OS Type": r"\S+",
    "State": r"\S+(?: \(\S+\))?", "#VCPUs": r"[0-9]+", "#Devs": r"[0-9]+", "#Nets": r"[0-9]+",
    "Memory": r"[0-9.]+ ?[A-Za-z]+", "Runsysid": r"[0-9]+",
}
KINDS = {"SH": "vm", "VP": "vpar"}


@dataclass
class GuestRow:
    """One guest as the summary shows it."""

    name: str
    line: int
    kind: str
    state: str          # on or off
    runnable: bool      # False for `Off (NR)`: the copy hpvmmigrate leaves on the source
    vcpus: int
    memory_mb: int
    os_type: str = ""
    devs: int | None = None  # the `#Devs` and `#Nets` columns, checked against the guest's -P and -d captures
    nets: int | None = None
    valid: bool = True  # False: the row was not understood (a problem says why); only its name is known


def header_columns(words: str) -> list[str] | None:
    """The column titles of a header line, or None if a word is not one hpvmstatus prints."""
    out = []
    rest = words
    while rest:
        for name in _VOCABULARY:
            if rest == name or rest.startswith(name + " "):
                out.append(name)
                rest = rest[len(name):].lstrip()
                break
        else:
            return None
    return out


def parse_state(text: str) -> tuple[str, bool] | None:
    """`On (OS)` -> (on, runnable); `Off (NR)` -> (off, not runnable); None when unknown."""
    m = re.fullmatch(r"(On|Off)(?: \((\w+)\))?", text)
    if not m:
        return None
    if m[1] == "On":
        return "on", True
    if m[2] is None:
        return "off", True
    if m[2] == "NR":
        return "off", False
    return None


def parse_summary(source: Source) -> tuple[list[GuestRow], list]:
    problems = Problems(source.file)
    rows: list[GuestRow] = []
    found = sections(source, problems, "hpvmstatus")
    if not found:
        problems.at(source.last, 1, "no `[Virtual Machines]` table: expected the output of `hpvmstatus`",
                    "capture it again with `hpvmstatus > hpvmstatus.txt`")
    for section in found:
        if section.title != "Virtual Machines":
            problems.at(section.line, 1, f"unexpected section `[{section.title}]`; expected `[Virtual Machines]`")
            continue
        rows.extend(_read_table(section, problems))
    return rows, problems.items


def _read_table(section, problems: Problems) -> list[GuestRow]:
    tab = table(section.body)
    if tab.ruler is None:
        problems.at(section.body[-1][0] if section.body else section.line, 1,
                    "the table has no `====` ruler under its column titles; the capture looks truncated")
        return []
    columns = header_columns(tab.columns())
    if not columns or len(columns) != len(tab.spans) or any(c not in columns for c in _REQUIRED):
        where = tab.header[0][0] if tab.header else tab.ruler[0]
        problems.at(where, 1, f"expected the column titles of `hpvmstatus`, found `{shorten(tab.columns())}`",
                    "migcheck reads `Virtual Machine Name VM # [Type] OS Type State #VCPUs #Devs #Nets Memory [Runsysid]`")
        return []
    pattern = re.compile(" +".join(f"(?P<c{i}>{_CELL[c]})" for i, c in enumerate(columns)) + r"\s*$")
    out = []
    for no, text in tab.rows:
        cells = split_by_ruler(text, tab.spans)
        if cells is None or len(text.strip().split()) < 2:
            m = pattern.match(text.strip())
            if m is None:
                problems.at(no, 1, f"expected a guest row with {len(columns)} columns "
                            f"({', '.join(columns)}), found `{text.strip()}`")
                _unread(text.split(), no, out)
                continue
            cells = [m[f"c{i}"] for i in range(len(columns))]
        row = _row(dict(zip(columns, cells)), no, text, problems)
        if row is not None:
            out.append(row)
        else:
            _unread(cells, no, out)
    for no, text in tab.after:
        problems.at(no, 1, f"unexpected line after the guest table: `{text.strip()}`")
    return out


def _unread(cells: list[str], no: int, out: list) -> None:
    """Keep the name of a guest row that could not be read (a name, then a VM number), so its files are its own."""
    if len(cells) >= 2 and cells[0] and number(cells[1]) is not None:
        out.append(GuestRow(cells[0], no, "vm", "off", True, 0, 0, valid=False))


def _row(cells: dict, no: int, text: str, problems: Problems) -> GuestRow | None:
    def col(name):
        value = cells.get(name, "")
        return text.find(value) + 1 if value and value in text else 1

    if not cells["Virtual Machine Name"] or " " in cells["Virtual Machine Name"]:  # names hold no spaces
        problems.at(no, 1, f"expected a guest row with {len(cells)} columns ({', '.join(cells)}), "
                    f"found `{text.strip()}`")
        return None
    missing = [name for name, value in cells.items() if not value and name in (*_REQUIRED, "VM #", "OS Type", "Type")]
    if missing:
        problems.at(no, len(text.rstrip()) + 1, f"the row of `{cells['Virtual Machine Name'] or '?'}` ends without "
                    f"{', '.join(f'`{m}`' for m in missing)}; the capture looks truncated")
        return None
    name = cells["Virtual Machine Name"]
    ok = True
    state = parse_state(cells["State"])
    if state is None:
        problems.at(no, col("State"), f"unknown state `{cells['State']}` of guest `{name}`; "
                    "expected `On (...)`, `Off` or `Off (NR)`")
        ok = False
    kind = "vm"
    if "Type" in cells:
        kind = KINDS.get(cells["Type"])
        if kind is None:
            problems.at(no, col("Type"), f"unknown guest type `{cells['Type']}` of `{name}`; expected SH (a VM) or VP (a vPar)")
            ok = False
    for column in ("VM #", "#VCPUs", "#Devs", "#Nets", "Runsysid"):
        if column in cells and number(cells[column]) is None:
            problems.at(no, col(column), f"expected a number (ASCII digits) in column `{column}` of `{name}`, "
                        f"found `{cells[column]}`", "capture `hpvmstatus` again; HP prints 0-9 only")
            ok = False
    try:
        memory = memory_mb(cells["Memory"])
    except UnitError as exc:
        problems.at(no, col("Memory") + exc.offset, f"guest `{name}`: {exc}")
        ok = False
    if not ok:
        return None
    vcpus = number(cells["#VCPUs"])
    if vcpus < 1:
        problems.at(no, col("#VCPUs"), f"guest `{name}` has {vcpus} vCPUs; expected at least 1")
        return None
    counts = {k: number(cells[c]) for k, c in (("devs", "#Devs"), ("nets", "#Nets")) if c in cells}
    return GuestRow(name, no, kind, state[0], state[1], vcpus, memory, cells.get("OS Type", ""), **counts)
