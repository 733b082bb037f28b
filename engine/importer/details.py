"""`hpvmstatus -P GUEST`: one guest's details, in `[Section]` tables.

Read from the Integrity VM 3.5 layout: `[Virtual Machine Details]` (name, state),
`[Authorized Administrators]`, `[Virtual CPU Details]` (vCPUs), `[Memory Details]` (total
memory), and the `[Storage|Network|Misc Interface Details]` device tables. The device
tables are read so that every line is accounted for and compared with the `-d` capture;
the snapshot's storage and networks come from the `-d` lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._text import Problems, Source, UnitError, memory_mb, number, row_cells, sections, shorten, table
from .summary import KINDS, header_columns, parse_state

_ADMIN_KEYS = {"Oper Groups", "Admin Groups", "Oper Users", "Admin Users"}
_DEVICE_COLUMNS = "Guest Physical Device Adaptor Bus Dev Ftn Tgt Lun Storage Device"
_NETWORK_COLUMNS = "Interface Adaptor Name/Num PortNum Bus Dev Ftn Mac Address"
_TABLES = {
    "Virtual CPU Details": "#vCPUs Entitlement Maximum",
    "Memory Details": "Total Reserved Memory Memory",
    "Storage Interface Details": _DEVICE_COLUMNS,
    "Misc Interface Details": _DEVICE_COLUMNS,
    "Network Interface Details": _NETWORK_COLUMNS,
}
# Every section `hpvmstatus -P` prints, in all three IVM 3.5 captures (hpvmstatus-P.details.ivm35.txt), even
# when its table is empty: a capture without one was cut, and what it would have listed is unknown.
_REQUIRED = ("Virtual Machine Details", "Virtual CPU Details", "Memory Details", "Storage Interface Details",
             "Network Interface Details", "Misc Interface Details")


@dataclass
class Details:
    """What `hpvmstatus -P` says about one guest (None where the capture did not say)."""

    name: str | None = None
    kind: str | None = None
    os_type: str | None = None  # the OS Type cell as printed (compared with the summary's, `capture._detail`)
    state: str | None = None
    runnable: bool = True
    vcpus: int | None = None
    memory_mb: int | None = None
    storage: list = field(default_factory=list)   # (device kind, adaptor, storage type, path, line)
    networks: list = field(default_factory=list)  # (vswitch, adaptor, MAC as printed, line)
    sections: set = field(default_factory=set)
    unread: set = field(default_factory=set)      # sections holding a line that was not understood
    line: dict = field(default_factory=dict)      # field -> line it came from
    disagree: set = field(default_factory=set)    # fields hpvmstatus.txt says otherwise (`capture._detail`)


def parse_details(source: Source) -> tuple[Details, list]:
    problems = Problems(source.file)
    out = Details()
    seen = set()
    for section in sections(source, problems, "hpvmstatus -P"):
        if section.title in seen:
            problems.at(section.line, 1, f"section `[{section.title}]` appears twice; expected one guest's details",
                        "capture one guest per file: `hpvmstatus -P GUEST > guests/GUEST.txt`")
            continue
        seen.add(section.title)
        out.sections.add(section.title)
        if section.title == "Virtual Machine Details":
            _vm(section, out, problems)
        elif section.title == "Authorized Administrators":
            for no, key, _ in _kv(section.body):
                if key not in _ADMIN_KEYS:
                    problems.at(no, 1, f"expected one of {', '.join(sorted(_ADMIN_KEYS))} as `Key: value`")
        elif section.title in _TABLES:
            before = len(problems.items)
            _table(section, out, problems)
            if len(problems.items) > before:
                out.unread.add(section.title)
        else:
            problems.at(section.line, 1, f"section `[{section.title}]` is not one migcheck reads; "
                        f"its {sum(1 for _, t in section.body if t.strip())} line(s) were not read")
    for title in _REQUIRED:
        if title not in seen:
            problems.at(source.last, 1, f"section `[{title}]` is missing; the capture looks truncated",
                        "capture it again with `hpvmstatus -P GUEST`")
    return out, problems.items


def _kv(body):
    for no, text in body:
        if text.strip():
            key, sep, value = text.partition(":")
            yield no, key.strip() if sep else None, value.strip()


def _vm(section, out: Details, problems: Problems) -> None:
    tab = table(section.body)
    columns = header_columns(tab.columns()) if tab.ruler else None
    if not columns or len(columns) != len(tab.spans) or "Virtual Machine Name" not in columns or "State" not in columns:
        problems.at(section.line, 1, f"expected the columns `Virtual Machine Name VM # OS Type State` under "
                    f"`[{section.title}]`, found `{shorten(tab.columns())}`")
        return
    if len(tab.rows) != 1:
        problems.at(tab.ruler[0], 1, f"expected one guest row under `[{section.title}]`, found {len(tab.rows)}")
    for no, text in tab.rows[:1]:
        cells = row_cells(text, tab.spans)
        if cells is None:
            problems.at(no, 1, f"expected {len(columns)} columns ({', '.join(columns)}), found `{text.strip()}`")
            return
        cells = dict(zip(columns, cells))
        out.name = cells["Virtual Machine Name"] or None
        out.line["name"] = no
        if cells.get("OS Type"):
            out.os_type = cells["OS Type"]
            out.line["os_type"] = no
        state = parse_state(cells["State"])
        if state is None:
            problems.at(no, max(text.find(cells["State"]), 0) + 1,
                        f"unknown state `{cells['State']}`; expected `On (...)`, `Off` or `Off (NR)`")
        else:
            out.state, out.runnable = state
            out.line["state"] = no
        if "Type" in cells:
            out.kind = KINDS.get(cells["Type"])
            out.line["kind"] = no
            if out.kind is None:
                problems.at(no, text.find(cells["Type"]) + 1, f"unknown guest type `{cells['Type']}`; expected SH or VP")
    _rest(tab, section, problems)


def _rest(tab, section, problems: Problems) -> None:
    for no, text in tab.after:
        problems.at(no, 1, f"unexpected line in `[{section.title}]` after its table: `{text.strip()}`")


def _table(section, out: Details, problems: Problems) -> None:
    tab = table(section.body)
    wanted = _TABLES[section.title]
    if tab.ruler is None or tab.columns() != wanted or len(tab.spans) != _width(section.title):
        where = tab.header[0][0] if tab.header else section.line
        problems.at(where, 1, f"expected the columns `{wanted}` under `[{section.title}]`, found `{shorten(tab.columns())}`"
                    + ("" if tab.ruler else " and no `====` ruler"))
        return
    for no, text in tab.rows:
        cells = row_cells(text, tab.spans)
        if cells is None:
            problems.at(no, 1, f"expected {len(tab.spans)} columns ({wanted}) under `[{section.title}]`, "
                        f"found `{text.strip()}`")
            continue
        if section.title == "Virtual CPU Details":
            if not number(cells[0]):
                problems.at(no, 1, f"expected a number of vCPUs (ASCII digits, at least 1), found `{cells[0]}`")
            elif out.vcpus is not None:
                problems.at(no, 1, "a second row of vCPUs; expected one")
            else:
                out.vcpus, out.line["vcpus"] = number(cells[0]), no
        elif section.title == "Memory Details":
            for cell in cells:
                try:
                    memory_mb(cell)
                except UnitError as exc:
                    problems.at(no, text.find(cell) + 1 + exc.offset, str(exc))
                    break
            else:
                out.memory_mb, out.line["memory_mb"] = memory_mb(cells[0]), no
        elif section.title == "Network Interface Details":
            if cells[0] != "vswitch":
                problems.at(no, 1, f"network interface of kind `{cells[0]}`; migcheck reads vswitch interfaces")
            else:
                out.networks.append((cells[2], cells[1], cells[7], no))
        elif section.title == "Storage Interface Details":
            out.storage.append((cells[0], cells[1], cells[7], cells[8], no))
    if section.title in ("Virtual CPU Details", "Memory Details") and not tab.rows:
        problems.at(tab.ruler[0], 1, f"no row under `[{section.title}]`; the capture looks truncated")
    _rest(tab, section, problems)


def _width(title: str) -> int:
    return {"Virtual CPU Details": 3, "Memory Details": 2, "Network Interface Details": 8}.get(title, 9)
