"""The matrix's sharing (engine/sharing.py): cells equal `check`, pair by pair, on every fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from migcheck.evaluate import Engine
from migcheck.findings import check_verdict
from migcheck.packs import load_rules
from migcheck.sharing import freeze, project
from migcheck.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted(p for p in (ROOT / "fixtures").glob("*.yaml") if p.name.startswith(("mixed", "ivm", "estate")))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("mode", ["offline", "online"])
def test_matrix_cells_equal_check_for_every_pair(fixture, mode):
    ruleset = load_rules([ROOT / "fixtures" / "site-rules"])
    snapshot = load_snapshot(str(fixture))
    engine = Engine(ruleset, snapshot)
    cells, _ = engine.matrix(mode, results=False)
    assert cells, "a fixture without pairs proves nothing"
    pairs = [(g, t) for g in snapshot.guests for t in snapshot.hosts if t["name"] != g["host"]]
    assert len(pairs) == len(cells)  # in order, duplicate names (estate-broken) included
    for (guest, target), cell in zip(pairs, cells):
        results = engine.check(guest, target, mode)
        assert (cell.guest, cell.target) == (guest["name"], target["name"])
        assert cell.verdict == check_verdict(results), (guest["name"], target["name"])
        assert cell.failing == sorted({r.rule for r in results if r.status in ("fail", "error")})


def test_keys_are_typed():
    assert len({freeze(True), freeze(1), freeze(1.0)}) == 3
    assert freeze({"a": 1}) != freeze("a") and freeze([1]) != freeze((int, 1))
    assert project({"fns": [{"label": "x", "pool": True}, {"label": None}]}, ("fns", "label")) == ("[]", "x", None)
    assert project({"fns": [1, 2, 3]}, ("fns", "#")) == ("#", 3)


def test_restricted_matrix_evaluates_only_its_pairs():
    snapshot = load_snapshot(str(ROOT / "fixtures" / "mixed-site.yaml"))
    engine = Engine(load_rules(), snapshot)
    guest = snapshot.guests[0]
    target = next(h for h in snapshot.hosts if h["name"] != guest["host"])
    cells, _ = engine.matrix("offline", guests=[guest], targets=[target])
    full = {(c.guest, c.target): c for c in engine.matrix("offline")[0]}
    assert cells == [full[(guest["name"], target["name"])]]
