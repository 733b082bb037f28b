"""Rule isolation: whatever evaluation raises, that result is `error`, located, in domain words;
every other result stands, and the run exits 3."""

from __future__ import annotations

import json

import pytest

from migcheck.core.records import replace
from migcheck.lang import builtins

from .conftest import FIXTURES

MIXED = FIXTURES / "mixed-site.yaml"


def _pack(tmp_path, requires: dict[str, str]):
    pack = tmp_path / "site"
    pack.mkdir()
    text = "".join(f'rule {rid} {{\n  title "t"\n  severity error\n  on guest\n  cite "c"\n'
                   f'  require {expr}\n  message "m"\n}}\n' for rid, expr in requires.items())
    (pack / "site.rules").write_text(text)
    return pack


def _audit(run_cli, pack):
    code, out, err = run_cli("audit", MIXED, "--rules", pack, "--format", "json", "--fail-on", "never")
    assert "Traceback" not in err
    return code, json.loads(out)["results"]


# rule -> (expression, message fragment, line and col of the place named within the rule's 8 lines)
KINDS = {
    # numbers are exact (fractions): a literal product no longer overflows; a division by zero still fails
    "SITE-DIV-ZERO": ("guest.memory_mb / (guest.memory_mb - guest.memory_mb) > 1", "division by zero in `/`", 6, None),
    "SITE-LIST-TIMES": ("count(default(guest.attrs.nope, guest.storage.path) * 100000000000) >= 0",
                        "`*` takes numbers", 6, 63),
    # not a constant (lint evaluates constants: `version("6.1") >= "4.x"` is a located lint error since issue 21)
    "SITE-RELEASE": ('version("6.1") >= default(guest.attrs.nope, "4.x")', "`4.x` is not a release", 6, 26),
}


def test_every_kind_of_evaluation_failure_is_an_error_result_and_the_others_stand(tmp_path, run_cli):
    pack = _pack(tmp_path, {**{rid: k[0] for rid, k in KINDS.items()}, "SITE-GOOD": "guest.memory_mb > 0",
                            "SITE-CHAIN": " and ".join(["guest.memory_mb > 0"] * 400)})
    code, results = _audit(run_cli, pack)
    assert code == 3
    guests = {r["subject"]["guest"] for r in results if r["rule"] == "SITE-GOOD"}
    assert len(guests) == 6
    for index, (rid, (_, fragment, line, col)) in enumerate(KINDS.items()):
        line += 8 * index  # each rule of the pack takes 8 lines
        mine = [r for r in results if r["rule"] == rid]
        assert {r["subject"]["guest"] for r in mine} == guests, rid  # one result per guest, none lost
        for r in mine:
            assert r["status"] == "error" and fragment in r["message"], (rid, r["message"])
            assert "internal error" not in r["message"]
            where = r["message"].rsplit("site.rules:", 1)[1].split(")")[0]
            got_line, got_col = (int(x) for x in where.split(":"))
            assert got_line == line and (col is None or got_col == col), (rid, r["message"])
    assert {r["status"] for r in results if r["rule"] in ("SITE-GOOD", "SITE-CHAIN")} == {"pass"}
    # the built-in rules still report as they do without the site pack
    _, out, _ = run_cli("audit", MIXED, "--format", "json")
    alone = json.loads(out)["results"]
    assert [r for r in results if not r["rule"].startswith("SITE-")] == alone


@pytest.mark.parametrize("exception,fragment", [
    (MemoryError, "needs more memory than is available"),
    (RecursionError, "nests too deeply to evaluate"),
    (OverflowError, "too large to compute"),
])
def test_exceptions_from_inside_a_builtin_are_isolated(tmp_path, run_cli, monkeypatch, exception, fragment):
    def boom(value):
        raise exception("from inside")

    monkeypatch.setitem(builtins.BUILTINS, "upper", replace(builtins.BUILTINS["upper"], impl=boom))
    pack = _pack(tmp_path, {"SITE-BOOM": 'upper(guest.name) != ""', "SITE-GOOD": "guest.memory_mb > 0"})
    code, results = _audit(run_cli, pack)
    assert code == 3
    boom_results = [r for r in results if r["rule"] == "SITE-BOOM"]
    assert len(boom_results) == 6
    assert all(r["status"] == "error" and fragment in r["message"] and "site.rules:1:6" in r["message"]
               for r in boom_results), boom_results[0]["message"]
    assert {r["status"] for r in results if r["rule"] == "SITE-GOOD"} == {"pass"}


def test_an_unexpected_exception_is_an_internal_error_result_not_a_traceback(tmp_path, run_cli, monkeypatch):
    def boom(value):
        raise KeyError("bug")

    monkeypatch.setitem(builtins.BUILTINS, "upper", replace(builtins.BUILTINS["upper"], impl=boom))
    code, results = _audit(run_cli, _pack(tmp_path, {"SITE-BOOM": 'upper(guest.name) != ""'}))
    assert code == 3
    assert all(r["message"].startswith("internal error: KeyError") for r in results if r["rule"] == "SITE-BOOM")


def test_nesting_too_deep_to_check_is_a_located_diagnostic():
    """Built without the parser (whose own bound is the parser's business): 3,000 nested `not`s."""
    from migcheck.lang import ast
    from migcheck.lang.checker import check_rules

    span = ast.Span("deep.rules", 1, 6)
    expr = ast.Literal(True, span)
    for _ in range(3000):
        expr = ast.Not(expr, span)
    meta = tuple(ast.Meta(k, v, span, span) for k, v in (("title", "t"), ("severity", "error"), ("on", "guest"),
                                                          ("cite", "c")))
    rule = ast.Rule("SITE-DEEPER", span, span, meta + (ast.Meta("message", ast.Template(("m",), span), span, span),),
                    (ast.Require(expr, span),))
    checked, diags = check_rules([ast.RuleFile("deep.rules", (rule,))], {})
    assert [(d.code, d.line, d.col, d.message) for d in diags] == [
        ("too-deep", 1, 6, "rule `SITE-DEEPER` nests its expressions too deeply to check")]


def test_an_evaluation_error_in_the_matrix_is_an_error_in_every_cell_and_nothing_else_changes(tmp_path, run_cli):
    pack = tmp_path / "site"
    pack.mkdir()
    (pack / "site.rules").write_text('rule SITE-OVERFLOW {\n  title "t"\n  severity warning\n  on migration\n'
                                     '  cite "c"\n  require guest.memory_mb / (target.memory_mb.total - '
                                     'target.memory_mb.total) > 0\n'
                                     '  message "m"\n}\n')
    code, out, err = run_cli("matrix", MIXED, "--rules", pack, "--format", "json", "--fail-on", "never")
    assert code == 3 and "Traceback" not in err
    data = json.loads(out)
    errors = [r for r in data["results"] if r["rule"] == "SITE-OVERFLOW"]
    assert len(errors) == len(data["cells"]) == 18
    assert all(r["status"] == "error" and "division by zero in `/`" in r["message"]
               and "site.rules:6:" in r["message"] for r in errors)
    assert all("SITE-OVERFLOW" in c["failing"] and c["verdict"] in ("blocked", "unknown") for c in data["cells"])
    _, alone, _ = run_cli("matrix", MIXED, "--format", "json", "--fail-on", "never")
    alone = json.loads(alone)
    assert [r for r in data["results"] if r["rule"] != "SITE-OVERFLOW"] == alone["results"]
    assert [c["failing"] for c in alone["cells"]] == [
        [f for f in c["failing"] if f != "SITE-OVERFLOW"] for c in data["cells"]]
