"""Built-in functions given data they cannot take (a guest's free-form `attrs`: a number where a
string belongs, `.nan`, `.inf`, a map where a list belongs, numbers at the size limit): the rule
is an `error` whose message says what is wrong, never an internal error, and the other rules of
the run report as they do without it."""

from __future__ import annotations

import json

import pytest

from migcheck.lang import builtins
from migcheck.lang.analysis import constants

from .conftest import FIXTURES, site_pack

MIXED = FIXTURES / "mixed-site.yaml"
GUEST = "dbprod01"
NEAR_LIMIT = "9" * 4300  # the longest integer a snapshot may hold (CPython's int-string limit)
ATTRS = ("{app: oracle, tier: production, mixed: [1, a, true], five: 5, yes: true, list: [a, b], text: abc, "
         "map: {a: 1}, nan: .nan, inf: .inf, ninf: -.inf, tiny: 5e-324, "
         f"big: {NEAR_LIMIT}, bigs: [{NEAR_LIMIT}, {NEAR_LIMIT}]}}")


def _rule(rule_id: str, require: str) -> str:
    return (f'rule {rule_id} {{\n  title "t"\n  severity error\n  on guest\n  cite "c"\n'
            f'  require {require}\n  message "m"\n}}\n')


def _results(tmp_path, run_cli, require: str) -> dict[str, dict]:
    """The results for GUEST of the rule `require`, of one that passes and of one that fails, all in one run."""
    snapshot = tmp_path / "s.yaml"
    text = MIXED.read_text()
    assert "attrs: {app: oracle, tier: production}" in text
    snapshot.write_text(text.replace("attrs: {app: oracle, tier: production}", "attrs: " + ATTRS, 1))
    pack = site_pack(tmp_path, _rule("SITE-MISUSE", require) + _rule("SITE-PASS", "guest.memory_mb > 0")
                     + _rule("SITE-FAIL", "guest.memory_mb < 0"))
    code, out, err = run_cli("audit", snapshot, "--rules", pack, "--format", "json", "--fail-on", "never")
    assert "Traceback" not in err
    results = json.loads(out)["results"]
    mine = {r["rule"]: r for r in results if r["rule"].startswith("SITE-") and r["subject"]["guest"] == GUEST}
    assert set(mine) == {"SITE-MISUSE", "SITE-PASS", "SITE-FAIL"}
    return mine


def _assert_error(results: dict[str, dict], *fragments: str) -> None:
    got = results["SITE-MISUSE"]
    assert got["status"] == "error", got
    assert "internal error" not in got["message"] and "please report" not in got["message"], got["message"]
    for fragment in fragments:
        assert fragment in got["message"], (fragment, got["message"])
    assert "site.rules:6:" in got["message"]  # located at the rule's `require`
    # the rule's error stands alone: the other rules of the run report as usual
    assert results["SITE-PASS"]["status"] == "pass"
    assert results["SITE-FAIL"]["status"] == "fail"


# -- join: the separator is its second argument and must be a string ---------------------------
# was: internal error, AttributeError: 'int' object has no attribute 'join'
@pytest.mark.parametrize("sep,shown", [
    ("guest.attrs.five", "the number `5`"),
    ("guest.attrs.yes", "the boolean `true`"),
    ("guest.attrs.list", "the list `[a, b]`"),
    ("guest.attrs.nan", "the number `nan`"),
    ("guest.attrs.map", "the map `{a: 1}`"),
])
def test_join_with_a_separator_that_is_not_a_string(tmp_path, run_cli, sep, shown):
    results = _results(tmp_path, run_cli, f'join(guest.attrs.mixed, {sep}) != ""')
    _assert_error(results, "join() needs a separator string as its second argument", shown)


# -- join: the items are its first argument and must be a list ----------------------------------
# was: a number `join` cannot take, not saying which argument; a string joined character by
# character and a map by its keys, as if they were lists
@pytest.mark.parametrize("items,shown", [
    ("guest.attrs.five", "the number `5`"),
    ("guest.attrs.text", "the string `abc`"),
    ("guest.attrs.map", "the map `{a: 1}`"),
])
def test_join_of_items_that_are_not_a_list(tmp_path, run_cli, items, shown):
    results = _results(tmp_path, run_cli, f'join({items}, ",") != ""')
    _assert_error(results, "join() needs a list of items as its first argument", shown)


# -- round_up: NaN and the infinities have no multiple ------------------------------------------
# was: internal error, ValueError: cannot convert float NaN to integer (and OverflowError for an infinity)
@pytest.mark.parametrize("value,shown", [("nan", "the number `nan`"), ("inf", "the number `inf`"),
                                         ("ninf", "the number `-inf`")])
def test_round_up_of_a_number_that_is_not_finite(tmp_path, run_cli, value, shown):
    results = _results(tmp_path, run_cli, f"round_up(guest.attrs.{value}, 1) > 0")
    _assert_error(results, "round_up() needs a finite number to round as its first argument, got", shown)


# was: NaN passed the `step <= 0` test (internal error, ValueError), an infinite step made the result
# NaN (a silent `fail`), and a step of 0 or below did not say which argument was wrong
@pytest.mark.parametrize("step,shown", [
    ("guest.attrs.nan", "the number `nan`"), ("guest.attrs.inf", "the number `inf`"),
    ("guest.attrs.ninf", "the number `-inf`"), ("0", "the number `0`"), ("-64", "the number `-64`"),
])
def test_round_up_by_a_step_that_is_not_finite_and_above_0(tmp_path, run_cli, step, shown):
    results = _results(tmp_path, run_cli, f"round_up(guest.memory_mb, {step}) > 0")
    _assert_error(results, "round_up() needs a finite step above 0 as its second argument, got", shown)


# was: "`abc` is not a number", not saying which argument
@pytest.mark.parametrize("args,fragment", [
    ("guest.attrs.text, 1", "round_up() needs a number to round as its first argument, got the string `abc`"),
    ("1, guest.attrs.list", "round_up() needs a finite step above 0 as its second argument, got the list `[a, b]`"),
])
def test_round_up_of_arguments_that_are_not_numbers(tmp_path, run_cli, args, fragment):
    _assert_error(_results(tmp_path, run_cli, f"round_up({args}) > 0"), fragment)


# was: OverflowError, "a number in the rule is too large to compute", naming neither round_up nor its arguments
def test_round_up_by_a_step_too_small_to_count(tmp_path, run_cli):
    results = _results(tmp_path, run_cli, "round_up(guest.memory_mb, guest.attrs.tiny) > 0")
    _assert_error(results, "round_up() cannot round `65536` to a multiple of `5e-324`",
                  "the number of steps is too large a number")


# -- numbers past the limit a rule may compute ---------------------------------------------------
# was: the result was made, and showing it (`join`, a message) raised an internal error,
# ValueError: Exceeds the limit (4300 digits) for integer string conversion
@pytest.mark.parametrize("number,fn", [
    ("round_up(guest.attrs.big, 10)", "round_up"),
    ("sum(guest.attrs.bigs)", "sum"),
])
def test_a_builtin_result_past_the_digits_a_rule_may_compute(tmp_path, run_cli, number, fn):
    results = _results(tmp_path, run_cli, f'join([{number}], ",") != ""')
    _assert_error(results, f"the result of {fn}() is too large a number: a rule computes numbers of up to 4,300 digits")


def test_the_limit_is_the_one_arithmetic_enforces():
    assert builtins.MAX_BITS == constants.MAX_BITS  # one limit, in builtins, which constants imports
    assert constants.bits is builtins.bits


# -- first: a list only -------------------------------------------------------------------------
# was: internal error, KeyError: 0 (a map was indexed by the key 0)
@pytest.mark.parametrize("value,shown", [
    ("guest.attrs.map", "the map `{a: 1}`"),
    ("guest.attrs.text", "the string `abc`"),  # was its first character
    ("guest.attrs.five", "the number `5`"),
])
def test_first_of_a_value_that_is_not_a_list(tmp_path, run_cli, value, shown):
    results = _results(tmp_path, run_cli, f"first({value}) == 1")
    _assert_error(results, "first() needs a list", shown)


def test_the_builtins_still_take_what_they_take(tmp_path, run_cli):
    """The checks above refuse only what cannot be evaluated."""
    require = ('join(guest.attrs.mixed, "+") == "1+a+true" and first(guest.attrs.list) == "a"'
               " and round_up(guest.memory_mb, 64) == 65536 and round_up(100, 64) == 128"
               " and sum([guest.attrs.five, 0.5]) == 5.5")
    results = _results(tmp_path, run_cli, require)
    assert results["SITE-MISUSE"]["status"] == "pass", results["SITE-MISUSE"]


# -- the builtins that take a list, given an attrs value that is not one -------------------------
# was: Python's own functions took a string or a map too and answered: count("abc") 3, min("abc") "a",
# any of a string true, min(0) and max(false) null; a rule built on them could pass on data it never read
@pytest.mark.parametrize("call,shown", [
    ("count(guest.attrs.text) >= 2", "count() needs a list, got the string `abc`"),
    ("count(guest.attrs.map) >= 1", "count() needs a list, got the map `{a: 1}`"),
    ('min(guest.attrs.text) == "a"', "min() needs a list, got the string `abc`"),
    ("max(guest.attrs.yes) == null", "max() needs a list, got the boolean `true`"),
    ("min(guest.attrs.five) == null", "min() needs a list, got the number `5`"),
    ("any(guest.attrs.text)", "any() needs a list of booleans, got the string `abc`"),
    ("all(guest.attrs.map)", "all() needs a list of booleans, got the map `{a: 1}`"),
    ("any(guest.attrs.list)", "any() needs a list of booleans, got the string `a` in its list"),
    ("all([guest.attrs.five])", "all() needs a list of booleans, got the number `5` in its list"),
    ("sum(guest.attrs.text) > 0", "sum() needs a list, got the string `abc`"),
    ("len(distinct(guest.attrs.text)) > 0", "distinct() needs a list, got the string `abc`"),
    ("len(sorted(guest.attrs.map)) > 0", "sorted() needs a list, got the map `{a: 1}`"),
    ("len(guest.attrs.five) > 0", "len() needs a list, a string or a map, got the number `5`"),
    ("len(guest.attrs.yes) > 0", "len() needs a list, a string or a map, got the boolean `true`"),
])
def test_a_list_builtin_given_an_attrs_value_that_is_not_a_list(tmp_path, run_cli, call, shown):
    _assert_error(_results(tmp_path, run_cli, call), shown)


def test_the_list_builtins_still_take_attrs_lists_and_len_a_string(tmp_path, run_cli):
    ok = _results(tmp_path, run_cli, 'count(guest.attrs.list) == 2 and min(guest.attrs.list) == "a" and '
                  'len(guest.attrs.text) == 3 and max(guest.attrs.list) == "b" and any([true]) and any([guest.attrs.yes]) and '
                  'len(sorted(guest.attrs.list)) == 2')
    assert ok["SITE-MISUSE"]["status"] == "pass", ok["SITE-MISUSE"]


@pytest.mark.parametrize("require", ["-guest.attrs.long > 0", 'version(guest.attrs.long) > version("1")',
                                     "guest.attrs.long < 1"])
def test_a_message_quotes_a_long_value_short(tmp_path, run_cli, monkeypatch, require):
    """A message quotes at most 80 characters of a value (a snapshot's string may be megabytes)."""
    import sys
    monkeypatch.setattr(sys.modules[__name__], "ATTRS", ATTRS[:-1] + ", long: " + "x" * 100_000 + "}")
    got = _results(tmp_path, run_cli, require)["SITE-MISUSE"]
    assert got["status"] == "error" and "x" * 81 not in got["message"] and len(got["message"]) < 400, got["message"]


# -- starts_with: a prefix test (a file under a mount point), strings only -----------------------
def test_starts_with_answers_a_prefix_not_a_substring(tmp_path, run_cli):
    (tmp_path / "no").mkdir()
    ok = _results(tmp_path, run_cli, 'starts_with(guest.attrs.text, "ab") and not starts_with(guest.attrs.text, "bc")'
                  ' and starts_with("/hpvm/big/x.img", "/hpvm" + "/") and not starts_with("/backup/hpvm/x", "/hpvm/")'
                  ' and starts_with(guest.name, "")')
    assert ok["SITE-MISUSE"]["status"] == "pass", ok["SITE-MISUSE"]
    no = _results(tmp_path / "no", run_cli, 'starts_with(guest.attrs.text, "bc")')
    assert no["SITE-MISUSE"]["status"] == "fail", no["SITE-MISUSE"]


@pytest.mark.parametrize("call,shown", [
    ('starts_with(guest.attrs.five, "5")', "starts_with() needs a string, got `5`"),
    ("starts_with(guest.name, guest.attrs.list)", "starts_with() needs a string, got `[a, b]`"),
])
def test_starts_with_given_an_attrs_value_that_is_not_a_string(tmp_path, run_cli, call, shown):
    _assert_error(_results(tmp_path, run_cli, call), shown)


def test_starts_with_of_a_number_is_a_located_type_error(tmp_path, run_cli):
    pack = site_pack(tmp_path, _rule("SITE-TYPED", 'starts_with(guest.memory_mb, "1")'))
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "Traceback" not in err
    assert "site.rules:6:" in err and "starts_with" in err and "takes strings, not int" in err, err
