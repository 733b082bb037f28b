"""Cold start (issue 23, item 4): a checked rule from the packs cache comes with its `Analysis` (the nodes
worth hoisting, the sharing plan's order-free lists and constant `when`), which is what the compiler works
out itself from a rule checked afresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from migcheck.lang.analysis import hoist, sharing
from migcheck.packs import ruleset

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_cached_rule_s_analysis_is_the_compiler_s(folder):
    fresh = ruleset.check_packs([ROOT / "fixtures" / "site-rules"])
    assert all(c.analysis is None for c in fresh.checked)
    cached = ruleset.check_packs([ROOT / "fixtures" / "site-rules"])  # from the entry the first load wrote
    assert len(cached.checked) == len(fresh.checked) > 50
    hoisted_somewhere = False
    for c, f in zip(cached.checked, fresh.checked):
        assert c.rule == f.rule and c.analysis is not None
        nodes = ruleset._nodes(c.rule, {})
        assert c.analysis.hoisted == {key for key, node in nodes.items() if hoist.worth_hoisting(node)}
        hoisted_somewhere |= bool(c.analysis.hoisted)
        assert c.analysis.order_free == sharing._order_free(f.rule)
        assert c.analysis.constant_when == sharing._constant_when(f.rule)
        assert (c.analysis.constant_when is None) == (sharing._constant_when(c.rule) is None)
    assert hoisted_somewhere


def test_a_cached_rule_compiles_to_the_same_plan(folder):
    fresh = ruleset.compile_packs(ruleset.check_packs([]))
    cached = ruleset.compile_packs(ruleset.check_packs([]))
    for c, f in zip(cached.rules, fresh.rules):
        assert c.sharing.order_free == f.sharing.order_free and c.sharing.single == f.sharing.single
        assert c.sharing.constant_when == f.sharing.constant_when
        assert c.sharing.guest_parts == f.sharing.guest_parts
        hoisted = {key for key, fn in c.compiled.items() if fn.__name__ == "hoisted"}
        assert hoisted == {key for key, fn in c.compiled.items()
                           if hoist.worth_hoisting(ruleset._nodes(c.rule, {})[key])}
        assert len(hoisted) == sum(fn.__name__ == "hoisted" for fn in f.compiled.values())


def test_a_warm_compile_works_nothing_out_again(folder, monkeypatch):
    ruleset.load_rules([])  # writes the entry

    def refuse(*args, **kwargs):
        raise AssertionError("analysed again")

    monkeypatch.setattr(hoist, "worth_hoisting", refuse)
    monkeypatch.setattr(sharing, "_order_free", refuse)
    monkeypatch.setattr(sharing, "_constant_when", refuse)
    assert len(ruleset.load_rules([]).rules) > 50
