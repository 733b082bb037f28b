"""The site configuration is applied before compiling: disabled rules are never compiled,
severities, budgets and extra data rows are compiled in, and no compiled rule or table of the
packs is changed afterwards (the same checked packs compile again to the same rules)."""

from __future__ import annotations

from migcheck.lang.compiler import DEFAULT_BUDGET
from migcheck.packs.config import load_config
from migcheck.packs.ruleset import Settings, check_packs, compile_packs, load_rules

from .conftest import FIXTURES


def test_settings_are_compiled_in_and_leave_the_packs_alone():
    checked = check_packs()
    pack_rows = {name: list(rows) for name, rows in checked.tables.items()}
    extra = {"kind": "vm", "a_min": "3.5", "a_below": "3.6", "b_min": "4.1", "b_below": "4.2", "row": "x", "source": "y"}
    configured = compile_packs(checked, Settings(disable=frozenset({"GUEST-RUNNING"}),
                                                 severity={"STORAGE-LOCAL": "error"},
                                                 extra_rows={"offline_paths": [extra]}, budget=77))
    plain = compile_packs(checked)
    assert "GUEST-RUNNING" not in configured.ids() and "GUEST-RUNNING" in plain.ids()
    assert configured.by_id("STORAGE-LOCAL").severity == "error" and plain.by_id("STORAGE-LOCAL").severity == "warning"
    assert {r.budget.limit for r in configured.rules} == {77} and {r.budget.limit for r in plain.rules} == {DEFAULT_BUDGET}
    assert configured.tables["offline_paths"][0] == extra and extra not in plain.tables["offline_paths"]  # first
    assert {name: list(rows) for name, rows in checked.tables.items()} == pack_rows  # the packs' rows untouched


def test_a_configured_run_leaves_the_next_run_as_it_was(run_cli):
    before = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--format", "json")
    configured = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--format", "json",
                         "--config", FIXTURES / "migcheck.yaml")
    after = run_cli("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e2", "--format", "json")
    assert configured[1] != before[1]
    strip = lambda out: "\n".join(l for l in out.splitlines() if '"generated"' not in l)  # noqa: E731
    assert strip(after[1]) == strip(before[1]) and after[0] == before[0]


def test_tags_select_before_compiling(tmp_path):
    config = tmp_path / "migcheck.yaml"
    config.write_text("tags: [dio]\n")
    rules = load_rules(config=load_config(str(config)))
    assert rules.rules and all("dio" in r.tags for r in rules.rules)
