"""The join indexes a selection keeps (`lang.analysis.joins.Lookup`) stay bounded by the items they hold.

A plan copies the estate's lists at every step: indexing 1,000 copies of a list must not keep
1,000 indexes (and copies) alive; a list whose index was dropped is indexed again and answers as
before; a matrix's many small lists, together under the bound, are each indexed once.
"""

from __future__ import annotations

from migcheck.lang.analysis import joins


def _lookup(checked: list | None = None) -> joins.Lookup:
    """`[g for g in guests where g.up and g.host == target]` as a lookup; `checked` collects the items tested."""

    def up(env):
        if checked is not None:
            checked.append(env["g"])
        return env["g"]["up"]

    return joins.Lookup("g", lambda env: env["guests"], lambda env: env["g"]["host"], lambda env: env["target"], [up])


def _guests(count: int, hosts: int) -> list[dict]:
    return [{"name": f"g{i}", "host": f"h{i % hosts}", "up": i % 3 != 0} for i in range(count)]


def _scan(guests: list[dict], target: str) -> list[dict]:
    return [g for g in guests if g["up"] and g["host"] == target]


def _held(lookup: joins.Lookup) -> int:
    return sum(len(entry[0]) for entry in lookup.indexes.values())


def test_copies_of_a_list_do_not_accumulate():
    guests = _guests(1_000, 10)
    lookup = _lookup()
    for i in range(1_000):
        copy = list(guests)
        assert lookup({"guests": copy, "target": f"h{i % 10}"}) == _scan(guests, f"h{i % 10}")
    held = _held(lookup)
    assert held < 100_000  # 1,000,000 items when every copy's index is kept
    assert held <= max(joins._FLOOR_ITEMS, joins._COPIES * 1_000)
    assert lookup.items == held
    assert lookup.fallbacks == 0


def test_a_dropped_index_is_built_again_and_answers_as_the_scan():
    first = _guests(1_000, 7)
    lookup = _lookup()
    assert lookup({"guests": first, "target": "h3"}) == _scan(first, "h3")
    for _ in range(200):  # enough copies to push `first` out
        lookup({"guests": _guests(1_000, 7), "target": "h1"})
    assert id(first) not in lookup.indexes
    for target in ("h0", "h3", "h6", "h9"):
        assert lookup({"guests": first, "target": target}) == _scan(first, target)
    assert id(first) in lookup.indexes
    assert lookup({"guests": [], "target": "h0"}) == []


def test_many_small_lists_under_the_bound_are_indexed_once():
    checked: list = []
    lookup = _lookup(checked)
    lists = [_guests(8, 3) for _ in range(2_000)]  # a matrix's lists: one per target, all alive
    for round_ in range(3):
        for i, guests in enumerate(lists):
            assert lookup({"guests": guests, "target": f"h{(i + round_) % 3}"}) == _scan(guests, f"h{(i + round_) % 3}")
    assert len(checked) == 2_000 * 8  # every item tested once: no index was built twice
    assert len(lookup.indexes) == 2_000


def test_a_long_list_raises_the_bound():
    lookup = _lookup()
    long = _guests(joins._FLOOR_ITEMS, 50)
    copies = [list(long) for _ in range(joins._COPIES)]
    for copy in copies:
        lookup({"guests": copy, "target": "h1"})
    assert all(id(copy) in lookup.indexes for copy in copies)  # up to `_COPIES` copies of the longest list
    lookup({"guests": list(long), "target": "h1"})
    assert id(copies[0]) not in lookup.indexes and len(lookup.indexes) == joins._COPIES
