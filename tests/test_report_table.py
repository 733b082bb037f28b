"""The terminal table at the terminal's width: `render_table(report, width=N)` lays the table out for
N columns (the message column takes what is left, or goes under its row when that is too narrow),
never breaks a word, and `width=None` keeps the fixed layout of pipes and files. Baseline marks and
resolved findings are shown in the table and in Markdown; counts are written with their plurals."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import ROOT
from .conftest import whole_report as _report

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


def _words_whole(text: str, report) -> None:
    """Every word of every listed message is a whole token of the output: nothing wrapped inside a word."""
    tokens = set(ANSI.sub("", text).split())
    for r in report.results:
        if r.status in ("fail", "error"):
            for word in r.message.split():
                assert word in tokens, (word, r.message)


@pytest.mark.parametrize("argv", [["matrix", "fixtures/mixed-site.yaml", "--waivers", "fixtures/waivers.yaml"],
                                  ["check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2"],
                                  ["audit", "fixtures/estate-broken.yaml"]])
def test_table_fits_80_columns_without_breaking_a_word(in_root, argv):
    from migcheck.report import render

    report = _report(argv)
    for color in (False, True):
        out = render(report, "table", color=color, width=80)
        for line in ANSI.sub("", out).splitlines():
            # a line may pass 80 only when one token alone (a path) is wider than the room it has
            assert len(line) <= 80 or any(len(t) > 36 for t in line.split()), line
        _words_whole(out, report)


def test_table_message_column_grows_on_200_columns(in_root):
    from migcheck.report import render
    from migcheck.report.table import render_table

    report = _report(["matrix", "fixtures/mixed-site.yaml"])
    wide, fixed = render(report, "table", width=200), render(report, "table")
    assert render_table(report) == fixed == render(report, "table", width=None)  # pipes: the fixed layout
    longest = max(len(r.message) for r in report.results if r.status == "fail")
    assert max(len(line) for line in wide.splitlines()) > 150 > max(len(line) for line in fixed.splitlines())
    assert len(wide.splitlines()) < len(fixed.splitlines())
    for r in report.results:  # on 200 columns a message of up to 120 characters takes one line
        if r.status == "fail" and len(r.message) <= 120:
            assert any(line.rstrip().endswith(r.message) for line in wide.splitlines()), r.message
    assert longest > 100
    _words_whole(wide, report)


def test_format_passes_width_only_to_formats_that_take_it(in_root):
    from migcheck.report import FORMATS, render

    report = _report(["check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2"])
    assert FORMATS["table"].width and not FORMATS["json"].width
    assert render(report, "json", width=80) == render(report, "json")
    assert render(report, "table", width=80) != render(report, "table", width=200)


def test_baseline_marks_and_resolved_findings_in_table_and_markdown(in_root, run_cli, tmp_path):
    from migcheck.report import render

    base = tmp_path / "base.json"
    run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{base}")
    doc = json.loads(base.read_text())
    kept = [r for r in doc["results"] if r["status"] == "fail"]
    gone = {**kept[0], "fingerprint": "0123456789abcdef", "item": "an item no longer failing"}
    # a finding of a rule this run does not have was not evaluated by it: counted, never called resolved
    doc["results"] = kept[1:] + [gone, {**kept[0], "fingerprint": "fedcba9876543210", "rule": "OLD-RULE"}]
    base.write_text(json.dumps(doc))
    report = _report(["matrix", "fixtures/mixed-site.yaml", "--baseline", base])
    new = [r for r in report.results if r.baseline == "new"]
    assert new and [r["fingerprint"] for r in report.baseline["resolved"]] == [gone["fingerprint"]]
    assert report.baseline["not_evaluated"] == 1
    for width in (None, 80):
        table = render(report, "table", width=width)
        assert table.count("(new)") >= len([r for r in new]) and f"{gone['rule']} (" in table and "resolved" in table
        assert f"{report.baseline['new']:,} new" in " ".join(table.split())
        assert "OLD-RULE" not in table and "1 of its findings not evaluated by this run" in " ".join(table.split())
    md = render(report, "markdown")
    assert f"resolved: `{gone['rule']}`" in md and ", new" in md and "OLD-RULE" not in md
    # more findings than --limit: the table groups them, and each group says how many are new
    from migcheck.core.records import replace

    grouped = " ".join(render(replace(report, limit=3), "table", width=120).split())
    assert "findings, more than --limit 3" in grouped and re.search(r"\d+ new", grouped.split("--limit 3")[1])


def test_counts_are_written_with_their_plurals():
    from migcheck.report.table import summary_line

    line = summary_line({"failed_by_severity": {"error": 1, "warning": 2, "info": 1}, "error": 0, "pass": 1,
                         "notapplicable": 0, "waived": 0})
    assert line.startswith("1 error, 2 warnings, 1 note, 0 rule errors; 1 passed")


def test_html_cards_count_with_plurals():
    from migcheck.core.results import Result
    from migcheck.report import Report, render

    one = Result("X-ONE", "warning", "fail", {"host": "h1"}, "m", "f", "c", "t")
    two = [Result("X-TWO", "info", "fail", {"host": h}, "m", "f", "c", "t") for h in ("h1", "h2")]
    html = render(Report("audit", "fail", [one, *two], snapshot_path="s.yaml"), "html")
    assert "<b>1</b><span>warning</span>" in html and "<b>2</b><span>notes</span>" in html
    assert "<b>0</b><span>errors</span>" in html
