"""`hpvmnet` (the vswitches of a VSP) and `hpvmnet -S VSWITCH` (one vswitch and its ports).

Both start with the vswitch table (`Name Number State Mode NamePPA MAC Address IP
Address`); `-S` adds `[Port Configuration Details]`, a table of ports with the VMs that
reserve or use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._text import Problems, SECTION, Source, number, row_cells, shorten, table

VSWITCH_COLUMNS = "Name Number State Mode NamePPA MAC Address IP Address"
PORT_COLUMNS = "Port Port Port Untagged Number of Active VM Number State Adaptor VLANID Reserved VMs"


@dataclass
class Vswitch:
    name: str
    line: int
    state: str
    pnic: str | None = None  # NamePPA: the physical NIC; none for a local vswitch such as localnet


@dataclass
class Port:
    number: int
    line: int
    active_vm: str


@dataclass
class Network:
    vswitches: list[Vswitch] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
    has_ports: bool = False


def parse_hpvmnet(source: Source, single: bool = False) -> tuple[Network, list]:
    """`single`: the file is `hpvmnet -S VSWITCH` (one vswitch and its port table)."""
    problems = Problems(source.file)
    out = Network()
    head, ports, title_line = [], None, None
    for no, text in source.numbered():
        m = SECTION.match(text)
        if m and ports is None and m["title"].strip() == "Port Configuration Details" and single:
            ports, title_line = [], no
        elif m:
            problems.at(no, 1, f"section `[{m['title']}]` is not part of `hpvmnet{' -S' if single else ''}` output")
        elif ports is not None:
            ports.append((no, text))
        else:
            head.append((no, text))
    tab = table(head)
    if tab.ruler is None or tab.columns() != VSWITCH_COLUMNS:
        where = tab.header[0][0] if tab.header else source.last
        problems.at(where, 1, f"expected the vswitch table `{VSWITCH_COLUMNS}` under a `====` ruler, "
                    f"found `{shorten(tab.columns())}`" if tab.header else "no vswitch table: expected the output of `hpvmnet`")
        return out, problems.items
    for no, text in tab.rows:
        cells = row_cells(text, tab.spans)
        if cells is None or not cells[0] or number(cells[1]) is None:
            problems.at(no, 1, f"expected a vswitch row ({VSWITCH_COLUMNS}), found `{text.strip()}`")
            continue
        if cells[2] not in ("Up", "Down"):
            problems.at(no, text.find(cells[2]) + 1 if cells[2] else 1,
                        f"unknown state `{cells[2]}` of vswitch `{cells[0]}`; expected Up or Down")
            continue
        first = next((v for v in out.vswitches if v.name == cells[0]), None)
        if first is not None:  # hpvmnet lists a vswitch once: two rows of one name are two outputs in one file
            problems.at(no, 1, f"vswitch `{cells[0]}` is listed again (first at line {first.line}); hpvmnet lists "
                        "each vswitch once", "capture it again with `hpvmnet > hpvmnet.txt`")
            continue
        out.vswitches.append(Vswitch(cells[0], no, cells[2], cells[4] or None))
    for no, text in tab.after:
        problems.at(no, 1, f"unexpected line after the vswitch table: `{text.strip()}`")
    if single:
        if len(out.vswitches) != 1:
            problems.at(tab.ruler[0], 1, f"expected one vswitch row in `hpvmnet -S` output, found {len(out.vswitches)}")
        if ports is None:
            problems.at(source.last, 1, "section `[Port Configuration Details]` is missing; the capture looks truncated")
        else:
            out.has_ports = True
            _ports(ports, title_line, out, problems)
    return out, problems.items


def _ports(body, title_line: int, out: Network, problems: Problems) -> None:
    tab = table(body)
    if tab.ruler is None or tab.columns() != PORT_COLUMNS:
        problems.at(tab.header[0][0] if tab.header else title_line, 1,
                    f"expected the port table `{PORT_COLUMNS}` under a `====` ruler, found `{shorten(tab.columns())}`")
        return
    for no, text in tab.rows:
        cells = row_cells(text, tab.spans)
        if cells is None:
            cells = text.split()
            cells = cells + [""] if len(cells) == len(tab.spans) - 1 else None  # a port nobody uses
        if cells is None or number(cells[0]) is None:
            problems.at(no, 1, f"expected a port row ({PORT_COLUMNS}), found `{text.strip()}`")
            continue
        out.ports.append(Port(number(cells[0]), no, cells[5]))
    for no, text in tab.after:
        problems.at(no, 1, f"unexpected line after the port table: `{text.strip()}`")
