"""A plan's copies of the estate's lists are indexed from the list they were copied from (`core.lineage`,
`lang.analysis.joins.Lookup._updated`, `eval.uncaptured.elsewhere`): the index brought up to date at the
places replaced gives exactly what a scan of the copy gives, in order; a list a rule's value holds is never
changed; and a whole plan says the same, byte for byte, as when every copy is indexed from scratch."""

from __future__ import annotations

import json
import random

import pytest

from migcheck.core import lineage
from migcheck.lang.analysis import joins
from tests.test_join_cache import _guests, _lookup, _scan


@pytest.fixture(autouse=True)
def _fresh():
    lineage.forget()
    yield
    lineage.forget()


def _copy(items: list) -> list:
    new = list(items)
    lineage.copied(new, items)
    return new


def _replace(items: list, place: int, item: dict) -> None:
    items[place] = item
    lineage.replaced(items, place)


@pytest.mark.parametrize("seed", range(6))
def test_an_index_brought_up_to_date_answers_as_the_scan_of_the_copy(seed):
    rng = random.Random(seed)
    guests = _guests(300, 7)
    lookup = _lookup()
    assert lookup({"guests": guests, "target": "h1"}) == _scan(guests, "h1")
    built = []
    real = joins.Lookup._index
    lookup_index = lambda self, items: built.append(len(items)) or real(self, items)  # noqa: E731
    joins.Lookup._index = lookup_index
    try:
        for step in range(60):
            held = lookup({"guests": guests, "target": "h2"})  # a rule's value: must not change
            kept = list(held)
            new = _copy(guests)
            for _ in range(rng.randint(0, 4)):  # moves, key and test changed; an item moved to another place
                place = rng.randrange(len(new))
                new_item = {**new[place], "host": f"h{rng.randrange(9)}", "up": rng.random() < 0.7}
                _replace(new, place, new_item)
            if step % 7 == 3:  # the same place replaced twice in one copy
                _replace(new, 5, {**new[5], "host": "h2", "up": True})
                _replace(new, 5, {**new[5], "host": "h3", "up": True})
            guests = new
            for target in ("h0", "h2", "h3", "h8", "nowhere"):
                assert lookup({"guests": guests, "target": target}) == _scan(guests, target)
            assert held == kept
            assert lookup.fallbacks == 0
    finally:
        joins.Lookup._index = real
    assert built == []  # every copy from the one before: none built over every item


def test_a_short_lists_copy_is_indexed_whole():
    short = _guests(joins._UPDATED_FROM - 1, 3)
    lookup = _lookup()
    lookup({"guests": short, "target": "h0"})
    assert lookup.indexes[id(short)][3] is None  # no places kept
    copy = _copy(short)
    _replace(copy, 2, {**copy[2], "host": "h0", "up": True})
    assert lookup({"guests": copy, "target": "h0"}) == _scan(copy, "h0")
    assert id(short) in lookup.indexes  # not taken over: the copy's built whole


def test_the_list_copied_from_asked_again_is_indexed_again_and_answers_as_its_scan():
    first = _guests(200, 5)
    assert len(first) >= joins._UPDATED_FROM
    lookup = _lookup()
    assert lookup({"guests": first, "target": "h1"}) == _scan(first, "h1")
    second = _copy(first)
    _replace(second, 1, {**second[1], "host": "h4"})
    assert lookup({"guests": second, "target": "h1"}) == _scan(second, "h1")
    assert id(first) not in lookup.indexes  # its index became the copy's
    for target in ("h1", "h4"):
        assert lookup({"guests": first, "target": target}) == _scan(first, target)
        assert lookup({"guests": second, "target": target}) == _scan(second, target)


def test_a_key_that_is_not_plain_after_a_move_leaves_the_copy_to_the_scan():
    guests = _guests(joins._UPDATED_FROM, 3)
    lookup = _lookup()
    lookup({"guests": guests, "target": "h0"})
    new = _copy(guests)
    _replace(new, 4, {**new[4], "host": ["h0"], "up": True})  # a list: not a key an index can hold
    assert lookup({"guests": new, "target": "h0"}) is None  # the caller scans, as for a list built whole
    assert lookup.fallbacks == 1


def test_a_plan_says_the_same_with_its_copies_indexed_from_scratch(tmp_path, run_cli, monkeypatch):
    """A plan that vacates a VSP (its moves ready, each changing the estate) over an estate with guests of
    unknown parts (`elsewhere`) and the rules' indexes of guests by host and by name: the same report when
    every copy's indexes are built from scratch."""
    from bench.generate import generate
    from migcheck.eval import uncaptured

    data = generate(6, 160, 3)
    for guest in data["guests"][::9]:
        guest.setdefault("unknown", ["storage"])
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(data), encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    run_cli("place", estate, "--vacate", "vsp0000", "-o", plan, "-q", "-f", f"json:{tmp_path / 'place.json'}")
    updated = []
    real = joins.Lookup._updated
    monkeypatch.setattr(joins.Lookup, "_updated",
                        lambda self, items: (lambda found: updated.append(found is not None) or found)(real(self, items)))

    def report(name: str) -> dict:
        out = tmp_path / name
        run_cli("plan", estate, plan, "-q", "--fail-on", "never", "-f", f"json:{out}")
        found = json.loads(out.read_text())
        found.pop("manifest")  # (when it ran, how long each stage took)
        return found

    derived = report("derived.json")
    assert [m["verdict"] for m in derived["plan"]["migrations"]].count("ready") >= 10
    assert sum(updated) >= 10  # the copies' indexes were brought up to date
    monkeypatch.setattr(joins, "ancestors", lambda items: iter(()))
    monkeypatch.setattr(uncaptured, "ancestors", lambda items: iter(()))
    assert report("scratch.json") == derived


def test_the_guests_of_unknown_parts_of_a_copy_are_those_a_fresh_look_finds():
    from migcheck.eval import uncaptured

    uncaptured._ESTATES.clear()
    guests = [{"name": f"g{i}", "host": f"h{i % 4}", **({"unknown": ["storage"]} if i % 5 == 0 else {})}
              for i in range(40)]
    first = uncaptured.elsewhere(guests)
    copy = _copy(guests)
    _replace(copy, 5, {"name": "g5", "host": "h2"})  # its parts now all known
    _replace(copy, 7, {"name": "g7", "host": "h0", "unknown": ["networks"]})  # one now unknown
    _replace(copy, 10, {"name": "g10", "host": "h3", "unknown": ["storage"]})  # moved, still unknown
    found = uncaptured.elsewhere(copy)
    fresh = uncaptured.Elsewhere(copy)
    assert found is not first
    assert found.places == fresh.places == [0, 7, 10, 15, 20, 25, 30, 35]
    assert found.by_host == fresh.by_host
    assert uncaptured.elsewhere(guests).places == first.places == [0, 5, 10, 15, 20, 25, 30, 35]  # as it was
