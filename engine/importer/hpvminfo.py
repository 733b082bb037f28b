"""`hpvminfo`: where the capture was taken (a VSP, or inside a guest by mistake)."""

from __future__ import annotations

import re

from ._text import Problems, Source

_HOST = re.compile(r"^hpvminfo: Running on an HPVM host\.$")
_GUEST = re.compile(r"^hpvminfo: Running (inside an HPVM guest|.*HPVM vPar)")


def parse_hpvminfo(source: Source) -> tuple[str | None, list]:
    """`host`, `guest`, or None; a capture from inside a guest is a problem (it is not a VSP)."""
    problems = Problems(source.file)
    where = None
    for no, text in source.numbered():
        line = text.strip()
        if not line:
            continue
        if _HOST.match(line):
            where = "host"
        elif _GUEST.match(line):
            where = "guest"
            problems.at(no, 1, f"`{line}`: this capture was taken inside a guest, not on a VSP",
                        "run the collector on the VSP (the VM Host) itself")
        else:
            problems.at(no, 1, f"expected `hpvminfo: Running on an HPVM host.`, found `{line}`")
    if where is None and not problems.items:
        problems.at(source.last, 1, "the hpvminfo capture is empty; expected `hpvminfo: Running on an HPVM host.`")
    return where, problems.items
