"""`swlist -l bundle`, the Integrity VM / vPars bundle lines: the VSP's release.

A bundle line is `  NAME  REVISION  DESCRIPTION`. Integrity VM releases appear as HP
revision strings (`A.03.50`, `B.04.20`, `B.04.20.05`, `B.06.10`); the VSP's release is the
revision of its Integrity VM (or vPars and Integrity VM) bundle. Guest-side bundles
(`VMGuestLib`, guest AVIO drivers) and HP-UX-revision drivers (`B.11.23.0712`) are read
and do not give the release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import Problems, Source

_BUNDLE = re.compile(r"^\s*(?P<name>\S+)\s+(?P<revision>[A-Z]\.[0-9]+(?:\.[0-9]+)*)(?:\s+(?P<description>.*?))?\s*$")
_RELEASE = re.compile(r"^[AB]\.0[1-9]\.[0-9][0-9](\.[0-9][0-9])?$")


@dataclass
class Bundle:
    name: str
    revision: str
    description: str
    line: int

    @property
    def is_guest_side(self) -> bool:
        return "guest" in self.description.lower() or self.name.lower().startswith(("vmguest", "guest"))

    @property
    def is_release(self) -> bool:
        return bool(_RELEASE.match(self.revision)) and not self.is_guest_side


def parse_swlist(source: Source) -> tuple[list[Bundle], list]:
    problems = Problems(source.file)
    bundles = []
    for no, text in source.numbered():
        if not text.strip() or text.lstrip().startswith("#"):  # swlist's own `# Initializing...` lines
            continue
        m = _BUNDLE.match(text)
        if m is None:
            problems.at(no, 1, f"expected a bundle line `NAME REVISION DESCRIPTION`, found `{text.strip()}`")
            continue
        bundles.append(Bundle(m["name"], m["revision"], m["description"] or "", no))
    return bundles, problems.items


def release(bundles: list[Bundle], source: Source) -> tuple[str | None, list]:
    """The VSP's Integrity VM release from its bundles, or a located problem."""
    problems = Problems(source.file)
    candidates = [b for b in bundles if b.is_release]
    revisions = sorted({b.revision for b in candidates})
    if len(revisions) == 1:
        return revisions[0], []
    if not revisions:
        guest = [f"{b.name} {b.revision}" for b in bundles if b.is_guest_side]
        problems.at(source.start, 1, "no Integrity VM release bundle (a revision such as `B.04.20` or `B.06.10`) "
                    "in the swlist capture" + (f"; only guest bundles ({', '.join(guest)}): was it taken inside "
                                               "a guest?" if guest else ""),
                    "capture `swlist -l bundle` on the VSP, keeping the Integrity VM bundle line")
    else:
        first = candidates[0]
        problems.at(first.line, 1, f"more than one Integrity VM release among the bundles: {', '.join(revisions)}",
                    "keep the line of the installed Integrity VM (or vPars and Integrity VM) bundle")
    return None, problems.items
