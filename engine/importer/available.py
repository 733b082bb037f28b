"""`hpvmstatus -s`: the memory a VSP still has for guests.

Real lines (V6.1 Administrator Guide, 2.5): `Available memory for vPars and VMs = 24320
Mbytes`, and one line per CPU count (`Available memory for 7 (max avail.) CPU VM = 23552
Mbytes`). The first is the VSP's free memory; the `(max avail.) CPU vPar` line gives the cores
a vPar can be given now (`cpu_cores_free`: a vPar has dedicated cores, vPars 6.0 guide p.12).
"""

from __future__ import annotations

import re

from ._text import Problems, Source, UnitError, memory_mb, number, too_long

_LINE = re.compile(r"^Available memory for (?P<what>.+?) = (?P<amount>.+)$")
# The other lines of the output (the manual's excerpt elides them with "..." before and after those above): a
# `[Section]` heading or a `Name = value` line of another figure, read past; any other shape is a problem
_OTHER = re.compile(r"^(\[[^\]]+\]|[A-Za-z][^=]*[^ =] += +\S.*)$")
_FREE = ("vPars and VMs", "VMs")
_VPAR_CORES = re.compile(r"^(?P<n>[0-9]+) \(max avail\.\) CPU vPar$")


def vpar_cores(source: Source) -> int | None:
    """The cores free for a vPar (`Available memory for 7 (max avail.) CPU vPar = ...`), None when not printed.
    Only the line's shape is read here; `parse_available` reports the lines it does not understand."""
    found = set()
    for _, text in source.numbered():
        m = _LINE.match(text.strip())
        cores = m and _VPAR_CORES.match(m["what"])
        if cores:
            found.add(number(cores["n"]))  # None when too long to read (`parse_available` says so)
    return found.pop() if len(found) == 1 else None  # (two counts: which is this VSP's is not known; said)


def parse_available(source: Source) -> tuple[int | None, list]:
    """Free memory in MB (None when no line says it) and the problems."""
    problems = Problems(source.file)
    found: dict[str, tuple[int, int]] = {}
    cores_at: tuple[str, int] | None = None  # the first vPar core count line: (its count, its line)
    for no, text in source.numbered():
        if not text.strip():
            continue
        m = _LINE.match(text.strip())
        if m is None and _OTHER.match(text.strip()) and not text.strip().startswith("Available memory"):
            continue
        if m is None:
            problems.at(no, 1, f"expected `Available memory for ... = N Mbytes` (or another `Name = value` line of "
                        f"`hpvmstatus -s`), found `{text.strip()}`")
            continue
        cores = _VPAR_CORES.match(m["what"])
        if cores and number(cores["n"]) is None:
            problems.at(no, text.find(cores["n"]) + 1, f"{too_long(cores['n'])}: HP prints no such number",
                        "capture it again with `hpvmstatus -s > hpvmstatus-s.txt`")
        elif cores and cores_at is None:
            cores_at = (cores["n"], no)
        elif cores and cores["n"] != cores_at[0]:  # hpvmstatus -s prints one vPar line: two outputs in one file
            problems.at(no, 1, f"the cores free for a vPar are {cores['n']} here and {cores_at[0]} at line "
                        f"{cores_at[1]}: the capture holds two outputs",
                        "capture it again with `hpvmstatus -s > hpvmstatus-s.txt`")
        try:
            amount = memory_mb(m["amount"])
        except UnitError as exc:
            problems.at(no, text.find(m["amount"]) + 1 + exc.offset, str(exc))
            continue
        first = found.setdefault(m["what"], (amount, no))
        if first[0] != amount and first[1] is not None:  # which one is this VSP's is not known: neither is taken
            problems.at(no, 1, f"`Available memory for {m['what']}` is {amount} MB here and {first[0]} MB at line "
                        f"{first[1]}: the capture holds two outputs", "capture it again with "
                        "`hpvmstatus -s > hpvmstatus-s.txt`")
            found[m["what"]] = (None, None)
    for what in _FREE:
        if what in found:
            return found[what][0], problems.items  # (None: said twice otherwise)
    problems.at(source.last, 1, "no `Available memory for vPars and VMs = N Mbytes` line: the VSP's free memory "
                "is unknown", "capture it again with `hpvmstatus -s > hpvmstatus-s.txt`")
    return None, problems.items
