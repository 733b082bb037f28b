"""The differential findings of issue 18 (random lint-clean packs, matrix against check pair by pair):
each is a test that the matrix equals `check` pair by pair, that `--jobs 2` writes what `--jobs 1`
writes, and that the language decides as docs/language.md says.

1. `any(x in guest.LIST where TEST and x.k == v)`, whose lookup index cannot be built, decided by
   a scan that stopped at the first match: one order of a guest's list erred, another did not,
   and the matrix shared the outcome of one with the other (`internal error: ... gave no fail
   outcome here again`, exit 1 where `check` exits 3).
2. A guest rule binding `stop` (or a host rule `mode`): a value computed once per run was keyed on
   the name by Python equality, so `1` and `true` shared it. The names are reserved now, and the
   run's constants are told apart by typed keys.
"""

from __future__ import annotations

from migcheck.core.keys import freeze
from migcheck.lang import ast
from migcheck.lang.analysis import hoist
from migcheck.lang.compiler import Budget


# -- 2. reserved names; run constants keyed by typed keys ------------------------------------------------
def test_run_constants_are_keyed_by_typed_keys():
    """A value computed once per run is computed again when a constant changes type: 1, 1.0, true differ."""
    calls = []

    def fn(env):
        calls.append(env["stop"])
        return f"{type(env['stop']).__name__} {env['stop']}"

    node = ast.Literal(None, None)
    hoisted = hoist.once_per_run(fn, node, Budget("T"))
    scope = {}
    for stop in (1, True, 1.0, 1, False, 0, 0.0, -0.0):
        assert hoisted({"snapshot": scope, "stop": stop, "mode": None}) == f"{type(stop).__name__} {stop}"
    assert calls == [1, True, 1.0, 1, False, 0, 0.0, -0.0]
    assert hoisted({"snapshot": scope, "stop": -0.0, "mode": None}) == "float -0.0" and len(calls) == 8
    assert freeze(True) != freeze(1) != freeze(1.0)
