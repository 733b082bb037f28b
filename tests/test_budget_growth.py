"""The evaluation budget counts what grows (issue 21): `let`s, strings made by `+` and `join`, big
numbers, and the holes and length of a message. Each case is a rule that once made a MemoryError,
minutes of arithmetic or a report of gigabytes; now it is an `error` result, or a capped message,
and every other rule still reports."""

from __future__ import annotations

import json
import time
from pathlib import Path

from migcheck.eval.engine import Engine
from migcheck.lang.compiler import MAX_DIGITS, TEXT_CAP
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import snapshot_from_data

HEAD = 'rule {id} {{\n  title "t"\n  severity warning\n  on guest\n  cite "c"\n'


def _rule(rule_id: str, lets: list[str], require: str, message: str = "m") -> str:
    body = "".join(f"  let {line}\n" for line in lets)
    return HEAD.format(id=rule_id) + body + f"  require {require}\n  message \"{message}\"\n}}\n"


def _pack(tmp_path: Path, text: str) -> Path:
    pack = tmp_path / "site"
    pack.mkdir(exist_ok=True)
    (pack / "site.rules").write_text(text)
    return pack


def _estate(guests: int) -> dict:
    from bench.generate import generate
    return generate(2, guests, seed=5)


def _results(tmp_path: Path, text: str, guests: int = 3, limit: int | None = None):
    ruleset = load_rules([_pack(tmp_path, text)])
    if limit is not None:
        for rule in ruleset.rules:
            rule.budget.limit = limit
    results = Engine(ruleset, snapshot_from_data(_estate(guests))).audit()
    return [r for r in results if r.rule.startswith("SITE-")], [r for r in results if not r.rule.startswith("SITE-")]


def test_forty_string_doublings_are_an_error_not_a_memory_error(tmp_path):
    lets = ["s0 = guest.name"] + [f"s{i} = s{i - 1} + s{i - 1}" for i in range(1, 41)]
    started = time.process_time()
    mine, others = _results(tmp_path, _rule("SITE-DOUBLE", lets, "len(s40) > 0"))
    assert time.process_time() - started < 20
    assert mine and {r.status for r in mine} == {"error"}
    assert "rule `SITE-DOUBLE` needs more than its evaluation budget of 100,000 steps" in mine[0].message
    assert "site.rules:" in mine[0].message
    assert others and all(r.status != "error" for r in others)


def test_thirty_integer_squarings_stop_before_the_digit_limit(tmp_path):
    lets = ["n0 = guest.memory_mb + 2"] + [f"n{i} = n{i - 1} * n{i - 1}" for i in range(1, 31)]
    started = time.process_time()
    mine, others = _results(tmp_path, _rule("SITE-SQUARE", lets, "n30 > 0"))
    assert time.process_time() - started < 20
    assert mine and {r.status for r in mine} == {"error"}
    assert f"could have more than {MAX_DIGITS:,} digits" in mine[0].message
    assert "site.rules:" in mine[0].message
    assert others and all(r.status != "error" for r in others)


def test_exact_decimals_are_bounded_too(tmp_path):
    lets = ["d0 = guest.memory_mb / 7 + 0.1"] + [f"d{i} = d{i - 1} * d{i - 1} + 0.3" for i in range(1, 31)]
    mine, _ = _results(tmp_path, _rule("SITE-FRACTION", lets, "d30 > 0"))
    assert mine and {r.status for r in mine} == {"error"}
    assert f"more than {MAX_DIGITS:,} digits" in mine[0].message


def test_a_let_chain_costs_by_the_size_it_binds(tmp_path):
    """Each `let` costs a step per SIZE_PER_STEP characters or items of what it binds (a number: none)."""
    sep = "x" * 64
    lets = [f'a0 = join(snapshot.guests, "{sep}")'] + [f"a{i} = a{i - 1}" for i in range(1, 60)]
    mine, _ = _results(tmp_path, _rule("SITE-LETS", lets, "len(a59) > 0"), limit=100)
    assert mine and {r.status for r in mine} == {"error"}
    assert "evaluation budget of 100 steps" in mine[0].message
    mine, _ = _results(tmp_path, _rule("SITE-LETS", lets, "len(a59) > 0"), limit=1000)
    assert {r.status for r in mine} == {"pass"}


def test_join_is_counted_before_it_makes_its_text(tmp_path):
    lets = ["s0 = guest.name"] + [f"s{i} = s{i - 1} + s{i - 1}" for i in range(1, 12)]
    lets.append("big = join(snapshot.guests, s11)")
    mine, _ = _results(tmp_path, _rule("SITE-JOIN", lets, "len(big) > 0"), guests=400, limit=20_000)
    assert mine and {r.status for r in mine} == {"error"}
    assert "evaluation budget of 20,000 steps" in mine[0].message


HOLES = "{snapshot.guests} " * 2000


def test_a_two_thousand_hole_message_is_capped(tmp_path):
    text = _rule("SITE-HOLES", [], "guest.memory_mb < 0", HOLES)
    mine, others = _results(tmp_path, text, guests=20)
    assert mine and {r.status for r in mine} == {"fail"}
    message = mine[0].message
    assert len(message) < TEXT_CAP + 100
    assert message.endswith(" more characters)") and "…" in message
    one = len(mine[0].message.split(" ")[0])
    assert f"({2000 * (one + 1) - TEXT_CAP:,} more characters)" in message or "more characters)" in message
    assert others


def test_a_two_thousand_hole_message_keeps_every_report_small(tmp_path, run_cli):
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(_estate(20)))
    pack = _pack(tmp_path, _rule("SITE-HOLES", [], "guest.memory_mb < 0", HOLES))
    for fmt in ("jsonl", "html", "json"):
        code, out, err = run_cli("audit", estate, "--rules", pack, "--format", fmt)
        assert "Traceback" not in err and "MemoryError" not in err
        assert len(out) < 40 * (TEXT_CAP + 2000) + 2_000_000, fmt
        assert "more characters)" in out


def test_a_hole_past_the_budget_stops_the_message(tmp_path):
    holes = "{join(snapshot.guests, \\\"-\\\")} " * 200
    text = _rule("SITE-SLOW", [], "guest.memory_mb < 0", holes)
    mine, _ = _results(tmp_path, text, guests=200, limit=500)
    assert mine and {r.status for r in mine} == {"fail"}
    assert len(mine[0].message) < TEXT_CAP + 200
    assert "needs more than the evaluation budget of 500 steps" in mine[0].message


def test_a_let_chain_of_lists_holding_lists_twice_is_an_error_not_a_hang(tmp_path):
    """`let l1 = [l0, l0]` ... 25 times: a list of 2^25 items once gone through (its message, `==`)."""
    for make in ("[l{p}, l{p}]", "[l{p} for x in [1, 2]]"):
        lets = ["l0 = [guest.name]"] + [f"l{i} = " + make.format(p=i - 1) for i in range(1, 26)]
        started = time.process_time()
        mine, others = _results(tmp_path, _rule("SITE-NEST", lets, "l25 == [l24, l24] and count(l25) < 0",
                                                "{l25}"))
        assert time.process_time() - started < 20
        assert mine and {r.status for r in mine} == {"error"}, make
        assert "needs more than its evaluation budget of 100,000 steps" in mine[0].message
        assert others and all(r.status != "error" for r in others)
