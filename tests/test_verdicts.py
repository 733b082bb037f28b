"""Every verdict and exit code (`migcheck.core.verdicts`), and the glue that decides them for each
command: through the functions, and end to end through `migcheck.cli.main` on the fixtures.

Each test here failed on a deliberately broken copy of the verdict code that the rest of the
suite let through: a plan ranking `unknown` above `blocked`, `where` never exiting 3, a waiver
lapsing on its expiry day, an audit of rule errors only saying `pass`.

Mutation testing, by hand and never in CI (`pip install -e '.[dev]'`): mutmut derives module
names from file paths, so run it in a copy of the checkout with `engine/` renamed `migcheck/`
and, in that copy's pyproject.toml, `[tool.mutmut]` with `source_paths = ["migcheck"]`,
`only_mutate = ["migcheck/core/verdicts.py", "migcheck/eval/waivers.py"]`, `also_copy =
["fixtures", "rules", "schemas", "bench", "docs", "README.md"]` and
`pytest_add_cli_args_test_selection` = this file and the waiver tests of tests/test_reports.py.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from migcheck.core import verdicts
from migcheck.core.results import Cell, Result
from migcheck.core.verdicts import (BLOCKING, EXIT_BAD_INPUT, EXIT_EVAL_ERROR, EXIT_FINDINGS, EXIT_OK, VERDICT_RANK,
                                    audit_verdict, blocks, cell_verdict, check_verdict, counted_verdict, exit_code,
                                    failing, fails_at, leaves_unknown, place_verdict, problems, report_verdict,
                                    where_exit, worst)
from migcheck.core.vocabulary import (AUDIT_ERROR, AUDIT_FAIL, AUDIT_PASS, BLOCKED, ERROR, FAIL, NOTAPPLICABLE, PASS,
                                      READY, UNKNOWN)
from migcheck import cli as cli_module
from migcheck.eval import waivers as waivers_module

from .conftest import ROOT
from migcheck.eval.waivers import Waiver, Waivers

from .conftest import FIXTURES

MIXED = FIXTURES / "mixed-site.yaml"
SMALL = FIXTURES / "ivm4-small.yaml"  # audits clean; ldap01 is ready for ivmn02 and ivmn03, blocked on ivmn04

# A site pack whose rules can never be evaluated: a division by zero for every guest and every pair.
ERRING_RULES = """\
rule SITE-PAIR-RATIO {
  title "t"
  severity warning
  on migration
  cite "c"
  require guest.memory_mb / (target.memory_mb.free - target.memory_mb.free) < 1
  message "m"
}
rule SITE-GUEST-RATIO {
  title "t"
  severity warning
  on guest
  cite "c"
  require guest.memory_mb / (guest.memory_mb - guest.memory_mb) < 1
  message "m"
}
"""

# 2025-11-24 in UTC: its first and last second, and the first second of the next day
DAY_START, DAY_END, NEXT_DAY = "1763942400", "1764028799", "1764028800"


@pytest.fixture
def erring_pack(tmp_path):
    pack = tmp_path / "erring"
    pack.mkdir()
    (pack / "site.rules").write_text(ERRING_RULES)
    return pack


def result(status: str = FAIL, severity: str = BLOCKING, waived: bool = False, rule: str = "R") -> Result:
    return Result(rule, severity, status, {"guest": "g", "host": "h"}, "m",
                  waiver={"rule": rule} if waived else None)


def cell(verdict: str) -> Cell:
    return Cell("g", "h", "t", "offline", verdict, [])


# -- the ranks and constants -------------------------------------------------------------------
def test_exit_codes_and_ranks():
    assert (EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_EVAL_ERROR) == (0, 1, 2, 3)
    assert list(VERDICT_RANK) == [READY, UNKNOWN, BLOCKED]  # `where`'s order and its counts' keys
    assert VERDICT_RANK[READY] < VERDICT_RANK[UNKNOWN] < VERDICT_RANK[BLOCKED]
    assert BLOCKING == "error"


# -- migration verdicts: blocked > unknown > ready -----------------------------------------------
@pytest.mark.parametrize("given, expected", [
    ([], READY), ([READY], READY), ([READY, READY], READY),
    ([UNKNOWN], UNKNOWN), ([READY, UNKNOWN], UNKNOWN), ([UNKNOWN, READY], UNKNOWN),
    ([BLOCKED], BLOCKED), ([UNKNOWN, BLOCKED], BLOCKED), ([BLOCKED, UNKNOWN], BLOCKED),
    ([READY, BLOCKED, UNKNOWN], BLOCKED), ([BLOCKED, READY], BLOCKED),
])
def test_worst_ranks_blocked_above_unknown_above_ready(given, expected):
    assert worst(given) == expected
    assert worst(iter(given)) == expected  # a generator, as a plan gives its stages


@pytest.mark.parametrize("blocked, unknown, expected", [
    (False, False, READY), (False, True, UNKNOWN), (True, False, BLOCKED), (True, True, BLOCKED)])
def test_cell_verdict_a_blocking_failure_wins_over_an_error(blocked, unknown, expected):
    assert cell_verdict(blocked, unknown) == expected


@pytest.mark.parametrize("counts, expected", [
    ({READY: 0, BLOCKED: 0, UNKNOWN: 0}, READY), ({READY: 5, BLOCKED: 0, UNKNOWN: 0}, READY),
    ({READY: 5, BLOCKED: 0, UNKNOWN: 1}, UNKNOWN), ({READY: 0, BLOCKED: 1, UNKNOWN: 7}, BLOCKED),
    ({READY: 2, BLOCKED: 3, UNKNOWN: 0}, BLOCKED)])
def test_counted_verdict_is_worst_of_the_verdicts_counted(counts, expected):
    assert counted_verdict(counts) == expected


@pytest.mark.parametrize("checked, unplaced, expected", [
    (READY, False, READY), (UNKNOWN, False, UNKNOWN), (BLOCKED, False, BLOCKED),
    (READY, True, BLOCKED), (UNKNOWN, True, BLOCKED)])
def test_place_verdict_a_guest_with_nowhere_to_go_blocks(checked, unplaced, expected):
    assert place_verdict(checked, unplaced) == expected


# -- findings verdicts and exit codes -------------------------------------------------------------
@pytest.mark.parametrize("failing_, errors, expected", [
    (False, False, AUDIT_PASS), (False, True, AUDIT_ERROR), (True, False, AUDIT_FAIL), (True, True, AUDIT_FAIL)])
def test_audit_verdict(failing_, errors, expected):
    assert audit_verdict(failing_, errors) == expected


@pytest.mark.parametrize("failing_, errors, unplaced, expected", [
    (False, False, False, 0), (True, False, False, 1), (False, True, False, 3), (True, True, False, 1),
    (False, False, True, 1), (False, True, True, 3), (True, False, True, 1), (True, True, True, 1)])
def test_exit_code(failing_, errors, unplaced, expected):
    assert exit_code(failing_, errors, unplaced=unplaced) == expected
    if not unplaced:
        assert exit_code(failing_, errors) == expected


@pytest.mark.parametrize("given, expected", [
    ([UNKNOWN], 3), ([UNKNOWN, UNKNOWN], 3), ([BLOCKED, UNKNOWN], 3), ([UNKNOWN, BLOCKED], 3),
    ([BLOCKED], 1), ([BLOCKED, BLOCKED], 1), ([], 1),
    ([READY], 0), ([BLOCKED, READY], 0), ([UNKNOWN, READY, BLOCKED], 0)])
def test_where_exit_undecided_on_every_target_is_3(given, expected):
    assert where_exit(given) == expected
    assert where_exit(iter(given)) == expected  # a generator, as `questions.where_exit` gives it


@pytest.mark.parametrize("severity, fail_on, expected", [
    ("error", "error", True), ("warning", "error", False), ("info", "error", False),
    ("warning", "warning", True), ("error", "warning", True), ("info", "warning", False),
    ("info", "info", True), ("error", "never", False)])
def test_fails_at(severity, fail_on, expected):
    assert fails_at(severity, fail_on) is expected


# -- from results ---------------------------------------------------------------------------------
def test_what_blocks_and_what_leaves_unknown():
    assert blocks(result()) is True
    assert not blocks(result(severity="warning"))
    assert not blocks(result(waived=True))
    assert not blocks(result(status=ERROR))
    assert leaves_unknown(result(status=ERROR)) is True
    assert leaves_unknown(result(status=ERROR, waived=True))  # no waiver covers an error: unknown is never ready
    assert not leaves_unknown(result(status=FAIL))
    assert not leaves_unknown(result(status=PASS))


def test_failing_counts_unwaived_failures_at_or_above_fail_on():
    warn, err, info = result(severity="warning", rule="W"), result(rule="E"), result(severity="info", rule="I")
    found = [warn, err, info, result(rule="X", waived=True), result(status=ERROR, rule="Y"),
             result(status=PASS, rule="P"), result(status=NOTAPPLICABLE, rule="N")]
    assert failing(found, "error") == [err]
    assert failing(found, "warning") == [warn, err]
    assert failing(found, "info") == [warn, err, info]
    assert failing(found, "never") == []


@pytest.mark.parametrize("found, fail_on, expected", [
    ([], "error", (False, False)),
    ([result(status=ERROR)], "error", (False, True)),
    ([result(status=ERROR, waived=True)], "error", (False, True)),  # unknown is never ready, waiver or not
    ([result(severity="warning")], "error", (False, False)),
    ([result(severity="warning")], "warning", (True, False)),
    ([result(), result(status=ERROR)], "error", (True, True)),
])
def test_problems(found, fail_on, expected):
    assert problems(found, fail_on) == expected


def test_check_verdict_of_results():
    assert check_verdict([]) == READY
    assert check_verdict([result(status=PASS), result(severity="warning")]) == READY
    assert check_verdict([result(waived=True)]) == READY
    assert check_verdict([result(status=ERROR)]) == UNKNOWN
    assert check_verdict([result(status=ERROR, waived=True)]) == UNKNOWN
    assert check_verdict([result(status=ERROR), result()]) == BLOCKED
    assert check_verdict([result(), result(status=ERROR)]) == BLOCKED


def test_an_audit_whose_only_problems_are_rule_errors_is_an_error():
    errors_only = [result(status=ERROR), result(status=PASS, rule="P")]
    assert report_verdict("audit", errors_only) == AUDIT_ERROR
    assert report_verdict("audit", errors_only, "warning") == AUDIT_ERROR
    assert exit_code(*problems(errors_only, "error")) == 3
    assert report_verdict("audit", [result(status=ERROR, waived=True)]) == AUDIT_ERROR
    assert report_verdict("audit", [result(severity="warning")]) == AUDIT_PASS
    assert report_verdict("audit", [result(severity="warning")], "warning") == AUDIT_FAIL
    assert report_verdict("audit", [result(status=ERROR), result()]) == AUDIT_FAIL


def test_report_verdict_by_command():
    assert report_verdict("check", [result(status=ERROR)]) == UNKNOWN
    assert report_verdict("check", [result(severity="warning")], "warning") == READY  # check: readiness
    assert report_verdict("matrix", [], cells=[cell(READY), cell(UNKNOWN), cell(BLOCKED)]) == BLOCKED
    assert report_verdict("matrix", [], cells=[cell(UNKNOWN), cell(READY)]) == UNKNOWN
    assert report_verdict("matrix", [result()], cells=[cell(READY)]) == READY  # from the cells
    assert report_verdict("matrix", []) == READY
    assert report_verdict("plan", [result(status=ERROR)]) == AUDIT_ERROR  # others: the findings


# -- waivers: valid on their `expires` day, lapsed the day after -----------------------------------
def test_a_waiver_is_active_on_its_expiry_day_and_lapsed_the_day_after():
    waiver = Waiver("R", "reason", "owner", date(2025, 11, 24), guest="g")
    assert Waivers("w.yaml", [waiver], today=date(2025, 11, 23)).active(waiver)
    assert Waivers("w.yaml", [waiver], today=date(2025, 11, 24)).active(waiver)
    assert not Waivers("w.yaml", [waiver], today=date(2025, 11, 25)).active(waiver)


@pytest.mark.parametrize("today, waived", [(date(2025, 11, 24), True), (date(2025, 11, 25), False)])
def test_a_waiver_applies_on_its_expiry_day_only_until_it_ends(today, waived):
    waiver = Waiver("R", "reason", "owner", date(2025, 11, 24), guest="g", line=3)
    ws = Waivers("w.yaml", [waiver], today=today)
    found = [result(), result(status=ERROR)]
    ws.apply(found)
    assert [r.waiver is not None for r in found] == [waived, False]  # a waiver covers failures only
    assert [r.status for r in found] == [FAIL, ERROR]  # a waiver never changes the status
    assert waiver.used == (1 if waived else 0)
    assert check_verdict(found) == (UNKNOWN if waived else BLOCKED)
    (note,) = ws.notes(warn_days=0)
    if waived:
        assert note["status"] == "expiring" and "lapses in 0 day(s), on 2025-11-24" in note["message"]
    else:
        assert note["status"] == "expired" and "expired on 2025-11-24" in note["message"]
        assert note["location"] == "w.yaml:3"


def test_the_waiver_clock_is_the_real_date_not_source_date_epoch(monkeypatch):
    """CI exports SOURCE_DATE_EPOCH as the last commit's time: it fixes the report's timestamps only, or an
    expired waiver would apply again (issue 21); `--as-of` is how a report is judged on another day."""
    from datetime import UTC, datetime
    monkeypatch.setenv("SOURCE_DATE_EPOCH", DAY_END)
    assert waivers_module.today() == datetime.now(UTC).date() == Waivers("w.yaml").today
    assert waivers_module.today() != date(2025, 11, 24)


def test_as_of_judges_the_waivers_on_that_day_and_says_so(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", DAY_END)  # 2025-11-24: before the waiver's end, and ignored for it
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: VSWITCH-MISSING\n    guest: sapapp01\n    reason: r\n"
                       "    owner: o\n    expires: 2026-01-31\n")
    args = ("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--waivers", waivers, "-f", "json")
    monkeypatch.chdir(ROOT)
    _, today_out, _ = run_cli(*args)
    _, then_out, _ = run_cli(*args, "--as-of", "2026-01-15")
    today, then = json.loads(today_out), json.loads(then_out)
    waived = lambda d: [r["rule"] for r in d["results"] if r["waiver"]]  # noqa: E731
    assert waived(today) == [] and [n["status"] for n in today["waivers"]] == ["expired"]
    assert waived(then) == ["VSWITCH-MISSING"] and then["manifest"]["as_of"] == "2026-01-15"
    assert "as_of" not in today["manifest"]


@pytest.mark.parametrize("epoch", ["\u00b2", "-1", "1.5", "x", "99999999999999"])
def test_a_bad_source_date_epoch_is_a_usage_error(run_cli, monkeypatch, epoch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    code, _, err = run_cli("audit", ROOT / "fixtures" / "mixed-site.yaml")
    assert code == 2 and "SOURCE_DATE_EPOCH" in err and "Traceback" not in err


# -- end to end ---------------------------------------------------------------------------------
def _plan_file(tmp_path, stages: list[list[tuple[str, str]]]):
    lines = ["plan: 1", "name: verdicts", "stages:"]
    for stage in stages:
        lines.append("  - migrations:")
        lines += [f"      - {{guest: {g}, to: {t}}}" for g, t in stage]
    path = tmp_path / "plan.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_plan_ranks_blocked_above_unknown(tmp_path, run_cli):
    # sapapp01 -> vsp-e2 is blocked; a later migration of sapapp01 is unknown (it did not move)
    plan = _plan_file(tmp_path, [[("sapapp01", "vsp-e2")], [("sapapp01", "vsp-e1")]])
    code, out, _ = run_cli("plan", MIXED, plan, "--format", "json")
    data = json.loads(out)
    assert [m["verdict"] for m in data["plan"]["migrations"]] == [BLOCKED, UNKNOWN]
    assert [s["verdict"] for s in data["plan"]["stages"]] == [BLOCKED, UNKNOWN]
    assert data["plan"]["verdict"] == data["verdict"] == BLOCKED
    assert code == 1
    # the same two in one stage: the stage is blocked
    plan = _plan_file(tmp_path, [[("sapapp01", "vsp-e2"), ("sapapp01", "vsp-e1")]])
    code, out, _ = run_cli("plan", MIXED, plan, "--format", "json")
    data = json.loads(out)
    assert [s["verdict"] for s in data["plan"]["stages"]] == [BLOCKED]
    assert data["plan"]["verdict"] == data["verdict"] == BLOCKED and code == 1


def test_a_plan_of_an_undecided_migration_is_unknown_and_exits_3(tmp_path, run_cli, erring_pack):
    plan = _plan_file(tmp_path, [[("ldap01", "ivmn02")]])
    code, out, _ = run_cli("plan", SMALL, plan, "--format", "json")
    assert json.loads(out)["verdict"] == READY and code == 0
    code, out, _ = run_cli("plan", SMALL, plan, "--rules", erring_pack, "--format", "json")
    data = json.loads(out)
    assert [m["verdict"] for m in data["plan"]["migrations"]] == [UNKNOWN]
    assert [s["verdict"] for s in data["plan"]["stages"]] == [UNKNOWN]
    assert data["plan"]["verdict"] == data["verdict"] == UNKNOWN and code == 3


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_where_undecided_on_every_target_exits_3(run_cli, erring_pack, fmt):
    targets = ["--target", "ivmn02", "--target", "ivmn03"]  # ready for both without the erring pack
    code, out, _ = run_cli("where", SMALL, "ldap01", *targets, "--format", fmt)
    assert code == 0
    code, out, _ = run_cli("where", SMALL, "ldap01", *targets, "--rules", erring_pack, "--format", fmt)
    assert code == 3, out
    if fmt == "json":
        data = json.loads(out)
        assert [t["verdict"] for t in data["targets"]] == [UNKNOWN, UNKNOWN]
        assert data["summary"] == {READY: 0, UNKNOWN: 2, BLOCKED: 0}
    else:
        assert "ready for 0 of 2 VSP(s), blocked on 0, undecided on 2" in out
    # every target: undecided on two, blocked on the third
    code, out, _ = run_cli("where", SMALL, "ldap01", "--rules", erring_pack, "--format", fmt)
    assert code == 3, out
    # blocked everywhere
    assert run_cli("where", SMALL, "mail01", "--format", fmt)[0] == 1


def test_a_matrix_undecided_everywhere_exits_3_streamed_and_summed(run_cli, erring_pack):
    pick = ["--guest", "ldap01", "--target", "ivmn02", "--target", "ivmn03", "--rules", erring_pack]
    code, out, _ = run_cli("matrix", SMALL, *pick, "--format", "json")
    data = json.loads(out)
    assert code == 3 and data["verdict"] == UNKNOWN
    assert {c["verdict"] for c in data["cells"]} == {UNKNOWN}
    assert run_cli("matrix", SMALL, *pick, "--summary")[0] == 3
    # a blocked pair with them: blocked wins over unknown, and the exit code says findings
    pick = ["--guest", "ldap01", "--rules", erring_pack]
    code, out, _ = run_cli("matrix", SMALL, *pick, "--format", "json")
    assert code == 1 and json.loads(out)["verdict"] == BLOCKED
    assert run_cli("matrix", SMALL, *pick, "--summary")[0] == 1


def _waiver_file(tmp_path, expires: str):
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n  - rule: PATH-OFFLINE\n    guest: ldap01\n    target: ivmn04\n"
                    f"    reason: r\n    owner: o\n    expires: {expires}\n")
    return path


@pytest.mark.parametrize("as_of, waived", [("2025-11-23", True), ("2025-11-24", True), ("2025-11-25", False)])
def test_a_waiver_is_valid_on_its_expiry_day_and_lapsed_the_day_after(tmp_path, run_cli, as_of, waived):
    waivers = _waiver_file(tmp_path, "2025-11-24")
    assert run_cli("check", SMALL, "ldap01", "ivmn04")[0] == 1  # PATH-OFFLINE alone blocks it
    code, out, _ = run_cli("check", SMALL, "ldap01", "ivmn04", "--waivers", waivers, "--as-of", as_of,
                           "--format", "json")
    data = json.loads(out)
    (found,) = [r for r in data["results"] if r["rule"] == "PATH-OFFLINE"]
    assert found["status"] == FAIL
    if waived:
        assert code == 0 and data["verdict"] == READY and found["waiver"]["expires"] == "2025-11-24"
        assert data.get("waivers", []) == []  # no note: the waiver is neither expired nor unused
    else:
        assert code == 1 and data["verdict"] == BLOCKED and found["waiver"] is None
        assert [n["status"] for n in data.get("waivers", [])] == ["expired"]
    # `where` and the matrix read the same clock
    code, out, _ = run_cli("where", SMALL, "ldap01", "--target", "ivmn04", "--waivers", waivers, "--as-of", as_of,
                           "--format", "json")
    assert json.loads(out)["targets"][0]["verdict"] == (READY if waived else BLOCKED)
    assert code == (0 if waived else 1)


def test_an_audit_of_rule_errors_only_is_an_error_and_exits_3(tmp_path, run_cli, erring_pack):
    code, out, _ = run_cli("audit", SMALL, "--format", "json")
    assert code == 0 and json.loads(out)["verdict"] == AUDIT_PASS
    code, out, _ = run_cli("audit", SMALL, "--rules", erring_pack, "--format", "json")
    data = json.loads(out)
    assert data["summary"]["fail"] == 0 and data["summary"]["error"] > 0
    assert data["verdict"] == AUDIT_ERROR and code == 3
    assert run_cli("audit", SMALL, "--rules", erring_pack, "--fail-on", "info")[0] == 3
    # a waiver does not cover them: they still count (unknown is never ready), and the waiver says so
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: SITE-GUEST-RATIO\n    reason: r\n    owner: o\n    expires: 2099-01-01\n")
    code, out, _ = run_cli("audit", SMALL, "--rules", erring_pack, "--waivers", waivers, "--format", "json")
    assert code == 3 and json.loads(out)["verdict"] == AUDIT_ERROR
    assert [n["status"] for n in json.loads(out)["waivers"]] == ["errors-only"]


def test_every_verdict_word_is_the_vocabulary_s():
    """The module decides with the vocabulary's constants (a verdict spelled twice could drift)."""
    assert set(VERDICT_RANK) == {READY, BLOCKED, UNKNOWN}
    assert {audit_verdict(a, b) for a in (False, True) for b in (False, True)} == {AUDIT_PASS, AUDIT_FAIL, AUDIT_ERROR}
    assert verdicts.worst([]) is READY


# -- waivers: what a mutation run over eval/waivers.py found the tests did not check ----------------
def _migration(guest="g", source="h1", target="t1", status=FAIL) -> Result:
    return Result("R", BLOCKING, status, {"guest": guest, "source": source, "target": target, "mode": "offline"}, "m")


def test_a_waiver_matches_by_rule_guest_host_and_target():
    on_host = Result("R", BLOCKING, FAIL, {"host": "h1"}, "m")
    on_guest = Result("R", BLOCKING, FAIL, {"guest": "g", "host": "h1"}, "m")
    waiver = Waiver("R", "r", "o", date(2099, 1, 1), host="h?")
    assert waiver.matches(on_host) and waiver.matches(on_guest) and waiver.matches(_migration())  # host, or source
    assert not waiver.matches(Result("R", BLOCKING, FAIL, {"host": "x1"}, "m"))
    assert not waiver.matches(_migration(source="x1"))
    assert not waiver.matches(Result("R", BLOCKING, FAIL, {}, "m"))  # no host at all
    assert not Waiver("S*", "r", "o", date(2099, 1, 1), host="h1").matches(on_host)
    by_target = Waiver("R", "r", "o", date(2099, 1, 1), guest="g", target="t*")
    assert by_target.matches(_migration()) and not by_target.matches(_migration(target="x1"))
    assert not by_target.matches(_migration(guest="other"))
    assert not by_target.matches(on_guest)  # a guest's own result has no target


def test_warn_expiring_days():
    import argparse

    assert cli_module.warn_days("0") == 0 and cli_module.warn_days("30") == 30
    with pytest.raises(argparse.ArgumentTypeError, match=r"^`-1` days is in the past; give 0 or more days$"):
        cli_module.warn_days("-1")
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        cli_module.warn_days("x" * 50)
    assert str(raised.value) == f"`{'x' * 40}` is not a whole number of days"
    assert waivers_module.horizon(date(2025, 11, 24), 0) == date(2025, 11, 24)
    assert waivers_module.horizon(date(2025, 11, 24), 10 ** 9) == date.max


def test_waive_leaves_passes_and_waived_results_alone():
    waiver = Waiver("R", "r", "o", date(2099, 1, 1))
    ws = Waivers("w.yaml", [waiver], today=date(2025, 11, 24))
    passed, done = result(status=PASS), result(waived=True)
    ws.waive(passed)
    ws.waive(done)
    assert passed.waiver is None and done.waiver == {"rule": "R"} and waiver.used == 0
    expired = Waiver("R", "r", "o", date(2025, 11, 23))
    ws = Waivers("w.yaml", [expired, waiver], today=date(2025, 11, 24))
    found = result()
    ws.waive(found)  # the first active matching waiver
    assert found.waiver["expires"] == "2099-01-01" and (expired.used, waiver.used) == (0, 1)
    assert ws.unused() == []  # an expired waiver is expired, not unused


def test_waiver_notes_say_why():
    ws = Waivers("w.yaml", [Waiver("A", "r", "o", date(2025, 11, 23), line=2),
                            Waiver("B", "r", "o", date(2099, 1, 1), line=7, ticket="T-1"),
                            Waiver("C", "r", "o", date(2099, 1, 1), line=9)], today=date(2025, 11, 24))
    ws.items[2].scope = ["audit", "matrix online"]
    expired, stale, elsewhere = ws.notes()
    assert expired["message"] == "w.yaml:2: waiver of A (o) expired on 2025-11-23 and no longer applies"
    assert stale["message"] == "w.yaml:7: waiver of B (o) matches nothing in this run; remove it if the finding is gone"
    assert stale["ticket"] == "T-1" and "ticket" not in expired
    assert elsewhere["message"] == ("w.yaml:9: waiver of C (o) is not in scope of this run; it matches findings of "
                                    "audit, matrix online on this snapshot")
    ws.classify_unused(lambda: iter(()))
    assert "matches nothing in this snapshot for any command;" in ws.notes()[1]["message"]


def test_a_waiver_of_a_rule_that_errs_elsewhere_says_so_and_is_not_stale(tmp_path, run_cli, erring_pack):
    # ldap01 -> ivmn02 does not use it; mail01's pairs (checked pair by pair) err on that rule
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: SITE-PAIR-RATIO\n    guest: mail01\n    reason: r\n    owner: o\n"
                       "    expires: 2099-01-01\n")
    code, out, _ = run_cli("check", SMALL, "ldap01", "ivmn02", "--rules", erring_pack, "--waivers", waivers,
                           "--format", "json", "--stale-check")
    (note,) = json.loads(out)["waivers"]
    assert note["status"] == "errors-only", note  # not stale: it matches, but only errors, which it cannot cover


def test_a_waiver_by_host_found_elsewhere_through_the_matrix(tmp_path, run_cli, erring_pack):
    # audit does not use a migration rule's waiver; the matrix (no guest named: every pair) matches it by source
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: SITE-PAIR-RATIO\n    host: ivmn03\n    target: ivmn0[12]\n"
                       "    reason: r\n    owner: o\n    expires: 2099-01-01\n")
    code, out, _ = run_cli("audit", SMALL, "--rules", erring_pack, "--waivers", waivers, "--format", "json",
                           "--stale-check")
    (note,) = json.loads(out)["waivers"]
    assert note["status"] == "out-of-scope" and note["scope"] == ["matrix offline", "matrix online"]
    waivers.write_text(waivers.read_text().replace("ivmn03", "ivmn09"))
    code, out, _ = run_cli("audit", SMALL, "--rules", erring_pack, "--waivers", waivers, "--format", "json",
                           "--stale-check")
    assert json.loads(out)["waivers"][0]["status"] == "stale"


def _load_problems(tmp_path, text: str, known=("PATH-OFFLINE", "DIO-IN-USE")) -> list:
    from migcheck.files.document import LoadError

    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(LoadError) as raised:
        waivers_module.load_waivers(str(path), set(known))
    return [(p.line, p.col, p.code, p.message, p.help) for p in raised.value.problems]


def test_waiver_file_problems_are_located_and_named(tmp_path):
    assert _load_problems(tmp_path, "- a\n") == [
        (1, 1, "schema", "a waiver file is a mapping with `waivers:` (a list)", "")]
    assert [p[3] for p in _load_problems(tmp_path, "other: 1\n")][0].startswith("the waiver file ")
    (missing,) = _load_problems(tmp_path, "waivers:\n  - reason: r\n    owner: o\n    expires: 2099-01-01\n")
    assert missing[3] == "waiver #1 is missing `rule`"
    found = _load_problems(tmp_path, "waivers:\n"
                           "  - {rule: PATH-OFFLINE, reason: r, owner: o, expires: 2099-02-30}\n"
                           "  - {rule: XYZ, reason: r, owner: o, expires: 2099-01-01}\n"
                           "  - {rule: 'SITE-*', reason: r, owner: o, expires: 2099-01-01}\n"
                           "  - {rule: 'DIO-*', reason: r, owner: o, expires: 2099-01-01}\n")
    assert found == [
        (2, 56, "bad-date", "`2099-02-30` is not a date", "write the last valid day as YYYY-MM-DD"),
        (3, 12, "unknown-rule", "unknown rule `XYZ`", "see `migcheck rules`"),
        (4, 12, "unknown-rule", "`SITE-*` matches no loaded rule", "")]


def test_a_waiver_file_is_read_within_the_byte_limit(tmp_path):
    from migcheck.files.document import Limits, LoadError

    path = tmp_path / "w.yaml"
    path.write_text("waivers:\n  - {rule: PATH-OFFLINE, reason: r, owner: o, expires: 2099-01-01}\n")
    assert len(waivers_module.load_waivers(str(path), {"PATH-OFFLINE"}).items) == 1
    with pytest.raises(LoadError):
        waivers_module.load_waivers(str(path), {"PATH-OFFLINE"}, Limits(max_bytes=20))


def test_a_waiver_file_s_target_and_host_are_kept(tmp_path, run_cli):
    # PATH-OFFLINE blocks ldap01 -> ivmn04 only: a waiver of it for another target does not apply
    waivers = _waiver_file(tmp_path, "2099-01-01")
    waivers.write_text(waivers.read_text().replace("target: ivmn04", "target: ivmn02"))
    code, out, _ = run_cli("check", SMALL, "ldap01", "ivmn04", "--waivers", waivers, "--format", "json")
    assert code == 1 and json.loads(out)["verdict"] == BLOCKED
    waivers.write_text(waivers.read_text().replace("target: ivmn02", "host: ivmn03"))  # ldap01 is on ivmn01
    assert run_cli("check", SMALL, "ldap01", "ivmn04", "--waivers", waivers)[0] == 1
    waivers.write_text(waivers.read_text().replace("host: ivmn03", "host: ivmn01"))
    assert run_cli("check", SMALL, "ldap01", "ivmn04", "--waivers", waivers)[0] == 0


def test_an_online_only_waiver_unused_offline_is_out_of_scope(tmp_path, run_cli):
    # vpdb11 (a vPar) cannot migrate online (ONLINE-VPAR): an offline matrix does not use the waiver,
    # the online one, on the other VSPs, would
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: ONLINE-VPAR\n    guest: vpdb11\n    target: vsp-r[234]\n"
                       "    reason: r\n    owner: o\n    expires: 2099-01-01\n")
    code, out, _ = run_cli("matrix", FIXTURES / "rolling-site.yaml", "--mode", "offline", "--waivers", waivers,
                           "--format", "json", "--stale-check")
    (note,) = json.loads(out)["waivers"]
    assert note["status"] == "out-of-scope" and note["scope"] == ["matrix online"]


def test_a_host_rule_s_waiver_unused_by_check_is_found_by_audit(tmp_path, run_cli):
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: DIO-POOL-LABEL\n    host: vsp-e3\n"
                       "    reason: r\n    owner: o\n    expires: 2099-01-01\n")
    code, out, _ = run_cli("check", MIXED, "sapapp01", "vsp-e4", "--waivers", waivers, "--format", "json",
                           "--stale-check")
    (note,) = json.loads(out)["waivers"]
    assert note["status"] == "out-of-scope" and note["scope"] == ["audit"]


def test_a_snapshot_rule_s_waiver_unused_by_check_is_found_by_audit(tmp_path, run_cli):
    pack = tmp_path / "snap"
    pack.mkdir()
    (pack / "site.rules").write_text('rule SITE-FEW-HOSTS {\n  title "t"\n  severity warning\n  on snapshot\n'
                                     '  cite "c"\n  require count(snapshot.hosts) > 100\n  message "m"\n}\n')
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - rule: SITE-FEW-HOSTS\n    reason: r\n    owner: o\n    expires: 2099-01-01\n")
    code, out, _ = run_cli("check", SMALL, "ldap01", "ivmn02", "--rules", pack, "--waivers", waivers,
                           "--format", "json", "--stale-check")
    (note,) = json.loads(out)["waivers"]
    assert note["status"] == "out-of-scope" and note["scope"] == ["audit"]


@pytest.mark.parametrize("config", ["disable: [VSWITCH-MISSING]\n", "tags: [dio]\n"])
def test_a_waiver_of_a_rule_the_configuration_does_not_run_is_not_in_scope(tmp_path, run_cli, config):
    """It was an `unknown-rule` error (exit 2) suggesting another rule (`VSWITCH-DOWN`, `INV-DIO-MISSING`):
    following the suggestion would waive a rule it never meant; the rule is known, only not run."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config)
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - {rule: VSWITCH-MISSING, guest: sapapp01, reason: r, owner: o, "
                       "expires: 2099-01-01}\n")
    code, out, err = run_cli("check", MIXED, "sapapp01", "vsp-e2", "--config", cfg, "--waivers", waivers,
                             "--format", "json")
    assert code in (0, 1) and "unknown-rule" not in err, err
    (note,) = json.loads(out)["waivers"]
    assert note["status"] == "out-of-scope" and "the configuration does not run its rule" in note["message"], note
    # --stale-check looks for it in every command and mode: still not stale (it called it "remove it")
    _, out, _ = run_cli("check", MIXED, "sapapp01", "vsp-e2", "--config", cfg, "--waivers", waivers,
                        "--format", "json", "--stale-check")
    (note,) = json.loads(out)["waivers"]
    assert note["status"] == "out-of-scope" and "the configuration does not run its rule" in note["message"], note
    # a rule no pack has is still an unknown rule
    waivers.write_text(waivers.read_text().replace("VSWITCH-MISSING", "VSWITCH-MISING"))
    code, _, err = run_cli("check", MIXED, "sapapp01", "vsp-e2", "--config", cfg, "--waivers", waivers)
    assert code == 2 and "unknown rule `VSWITCH-MISING`" in err and "did you mean `VSWITCH-MISSING`" in err, err
