"""Which list an estate's list was copied from, and the places replaced in the copy since.

A plan moves guests one by one; each move copies the estate's lists of hosts and guests (copy on
write, `estate.effects.Estate`) and replaces a few of their items. An index of the list it was copied
from (`lang.analysis.joins.Lookup`) is brought up to date from those places, instead of being built
again over every item for each move (at 200 x 10,000, a plan of 1,000 moves spent four fifths of its
time rebuilding them). Only the last few copies are remembered; a list copied from is never changed.
"""

from __future__ import annotations

from collections.abc import Iterator

_KEPT = 8  # the copies remembered (each holds the list it was copied from)
_copies: dict[int, tuple[list, list, set]] = {}  # id(copy) -> (copy, copied from, places replaced since)


def copied(copy: list, original: list) -> None:
    """`copy` is `list(original)`: from now on `original` is not changed, `copy` only through `replaced`."""
    while len(_copies) >= _KEPT:
        del _copies[next(iter(_copies))]
    _copies[id(copy)] = (copy, original, set())


def replaced(items: list, place: int) -> None:
    """The item at `place` of `items` (a copy, `copied`) was replaced."""
    entry = _copies.get(id(items))
    if entry is not None and entry[0] is items:
        entry[2].add(place)


def ancestors(items: list) -> Iterator[tuple[list, frozenset]]:
    """The lists `items` was copied from, nearest first, each with the places where `items` may differ from
    it (every item elsewhere is the same object, and the lists are as long)."""
    places: set = set()
    entry = _copies.get(id(items))
    while entry is not None and entry[0] is items:
        items, changed = entry[1], entry[2]
        places |= changed
        yield items, frozenset(places)
        entry = _copies.get(id(items))


def forget() -> None:
    """Remember no copy (tests)."""
    _copies.clear()
