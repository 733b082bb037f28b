"""The evaluation budget (steps per rule and subject) and the checker's cost warning."""

from __future__ import annotations

import json
from pathlib import Path

from migcheck.eval.engine import Engine
from migcheck.lang.compiler import DEFAULT_BUDGET
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import snapshot_from_data

ROOT = Path(__file__).resolve().parent.parent

# for each guest, every pair of guests: guests^2 steps per guest
QUADRATIC = ('rule SITE-SIBLINGS {\n  title "t"\n  severity warning\n  on guest\n  cite "c"\n'
             '  require count(g in snapshot.guests where count(h in snapshot.guests where h.memory_mb > g.memory_mb)'
             ' > 0) >= 0\n  message "m"\n}\n')


def _pack(tmp_path, text: str) -> Path:
    pack = tmp_path / "site"
    pack.mkdir(exist_ok=True)
    (pack / "site.rules").write_text(text)
    return pack


def _estate(guests: int) -> dict:
    from bench.generate import generate
    return generate(3, guests, seed=5)


def test_a_rule_past_its_budget_is_an_error_and_the_others_stand(tmp_path, run_cli):
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(_estate(400)))  # 400 x 400 = 160,000 steps per guest > 100,000
    pack = _pack(tmp_path, QUADRATIC)
    guest = json.loads(estate.read_text())["guests"][0]["name"]
    code, out, _ = run_cli("audit", estate, "--rules", pack, "--format", "json")
    data = json.loads(out)
    mine = [r for r in data["results"] if r["rule"] == "SITE-SIBLINGS"]
    assert len(mine) == 400 and all(r["status"] == "error" for r in mine)
    assert "rule `SITE-SIBLINGS` needs more than its evaluation budget of 100,000 steps" in mine[0]["message"]
    assert "raise `evaluation_budget` in the site configuration" in mine[0]["message"]
    assert "site.rules:6:" in mine[0]["message"]  # located at the loop that went past it
    others = [r for r in data["results"] if r["rule"] != "SITE-SIBLINGS"]
    assert others and all(r["status"] != "error" for r in others)  # every other result stands
    assert code in (1, 3)
    # the site raises it: the same rule passes
    config = tmp_path / "migcheck.yaml"
    config.write_text("rules: [site/]\nevaluation_budget: 200000\n")
    code, out, _ = run_cli("check", estate, guest, "vsp0001" if guest else "", "--config", config, "--format", "json")
    statuses = {r["status"] for r in json.loads(out)["results"] if r["rule"] == "SITE-SIBLINGS"}
    assert statuses == {"pass"}


# the same loops, reading the guest: computed for each guest, every step counted
PER_GUEST = QUADRATIC.replace("> g.memory_mb) > 0)", "> g.memory_mb) > 0 or g.name == guest.name)")


def test_steps_are_counted_exactly_within_the_budget(tmp_path):
    assert PER_GUEST != QUADRATIC
    ruleset = load_rules([_pack(tmp_path, PER_GUEST)])
    rule = ruleset.by_id("SITE-SIBLINGS")
    rule.budget.limit = 60 + 60 * 60  # what the site's `evaluation_budget` sets
    snapshot = snapshot_from_data(_estate(60))  # 60 + 60 x 60 steps: exactly the budget
    results = [r for r in Engine(ruleset, snapshot).audit() if r.rule == "SITE-SIBLINGS"]
    assert {r.status for r in results} == {"pass"} and len(results) == 60
    assert rule.budget.most == 60 + 60 * 60
    over = snapshot_from_data(_estate(61))  # one step more for the first guest's run
    results = [r for r in Engine(ruleset, over).audit() if r.rule == "SITE-SIBLINGS"]
    assert {r.status for r in results} == {"error"} and len(results) == 61
    assert "budget of 3,660 steps" in results[0].message


def test_what_reads_no_subject_is_computed_once_per_run(tmp_path):
    """The loops of QUADRATIC read only the snapshot: computed once, each guest's run costs a step."""
    ruleset = load_rules([_pack(tmp_path, QUADRATIC)])
    snapshot = snapshot_from_data(_estate(300))
    rule = ruleset.by_id("SITE-SIBLINGS")
    results = [r for r in Engine(ruleset, snapshot).audit() if r.rule == "SITE-SIBLINGS"]
    assert {r.status for r in results} == {"pass"} and len(results) == 300
    assert rule.budget.most == 1
    # a new run (another snapshot) computes it again, with its own answer
    (tmp_path / "fail").mkdir()
    failing = load_rules([_pack(tmp_path / "fail", QUADRATIC.replace(">= 0\n", "== 0\n"))])
    assert {r.status for r in Engine(failing, snapshot).audit() if r.rule == "SITE-SIBLINGS"} == {"fail"}
    small = snapshot_from_data(_estate(1))
    assert {r.status for r in Engine(failing, small).audit() if r.rule == "SITE-SIBLINGS"} == {"pass"}


def test_the_builtin_pack_is_far_below_the_default():
    from bench.generate import generate

    ruleset = load_rules()
    snapshot = snapshot_from_data(generate(12, 300, seed=3))
    engine = Engine(ruleset, snapshot)
    engine.audit()
    for mode in ("offline", "online"):
        engine.matrix(mode, share=False)
    assert max(r.budget.most for r in ruleset.rules) * 1000 < DEFAULT_BUDGET


def test_budget_config_key_is_checked(tmp_path, run_cli):
    config = tmp_path / "migcheck.yaml"
    config.write_text("evaluation_budget: 0\n")
    code, _, err = run_cli("audit", ROOT / "fixtures" / "mixed-site.yaml", "--config", config)
    assert code == 2 and "migcheck.yaml:1:" in err


def test_lint_warns_about_a_per_guest_rule_going_through_every_guest(tmp_path, run_cli):
    pack = _pack(tmp_path, QUADRATIC + 'rule SITE-KEYED {\n  title "t"\n  severity warning\n  on guest\n'
                 '  cite "c"\n  require count(g in snapshot.guests where g.host == guest.host) < 100\n'
                 '  message "m"\n}\n')
    code, out, err = run_cli("lint", pack, "--format", "json")
    assert code == 0
    warnings = json.loads(out)["diagnostics"]
    assert [(w["code"], w["severity"], w["line"], w["col"]) for w in warnings] == [
        ("all-guests", "warning", 6, 17), ("all-guests", "warning", 6, 50)]
    assert "rule `SITE-SIBLINGS` runs for each guest and goes through every guest" in warnings[0]["message"]
    code, _, err = run_cli("lint", pack)
    assert code == 0 and "warning[all-guests]" in err and "2 warning(s)" in err  # the keyed lookup: no warning
    assert run_cli("lint", pack, "--warnings-as-errors")[0] == 2


def test_lint_warns_about_a_per_host_rule_going_through_every_host(tmp_path, run_cli):
    pack = _pack(tmp_path, 'rule SITE-PEERS {\n  title "t"\n  severity warning\n  on host\n  cite "c"\n'
                 '  require count(h in snapshot.hosts where h.memory_mb.free > host.memory_mb.free) >= 0\n'
                 '  message "m"\n}\n')
    code, out, _ = run_cli("lint", pack, "--format", "json")
    assert code == 0
    assert [(d["code"], d["line"], d["col"]) for d in json.loads(out)["diagnostics"]] == [("all-hosts", 6, 17)]
