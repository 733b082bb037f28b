"""The HTML report in a real browser (Playwright driving Debian's Chromium): the tables sort, filter and
page without a server, the filter says when its table holds only part of the findings, rule ids link to
their documentation, and the estate-scale page stays small. Skipped, with the reason, where Playwright
or Chromium cannot be installed (`.ci/run` installs both where it can)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT

MIXED = "fixtures/mixed-site.yaml"


def _chromium() -> str | None:
    return next((p for p in (os.environ.get("MIGCHECK_CHROMIUM"), shutil.which("chromium"),
                             shutil.which("chromium-browser"), "/usr/bin/chromium") if p and Path(p).exists()), None)


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    return sync_playwright


@pytest.fixture(scope="module")
def page():
    sync_playwright = _playwright()
    if sync_playwright is None:
        pytest.skip("Playwright is not installed (pip install playwright)")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


def _count(page, what: str) -> str:
    return page.locator(f'table[data-table="{what}"]').locator("xpath=preceding-sibling::div[1]") \
        .locator(".count").inner_text()


def _visible(page, what: str) -> list[list[str]]:
    return page.evaluate("""what => Array.from(document.querySelectorAll('table[data-table="' + what + '"] tbody tr'))
        .filter(r => !r.hidden).map(r => Array.from(r.cells).map(c => c.textContent.trim()))""", what)


def test_findings_filter_sort_and_rule_links(in_root, run_cli, tmp_path, page):
    report = tmp_path / "r.html"
    run_cli("matrix", MIXED, "--format", f"html:{report}", "--format", f"json:{tmp_path / 'r.json'}")
    findings = [r for r in json.loads((tmp_path / "r.json").read_text())["results"] if r["status"] in ("fail", "error")]
    n = len(findings)
    page.goto(report.as_uri())
    assert _count(page, "findings") == f"{n} of {n} shown"  # the whole table: no partial note
    running = sum(1 for r in findings if r["rule"] == "GUEST-RUNNING")
    page.fill('input[aria-label="filter findings"]', "GUEST-RUNNING")
    assert _count(page, "findings") == f"{running} of {n} shown"
    assert all(row[1] == "GUEST-RUNNING" for row in _visible(page, "findings"))
    page.fill('input[aria-label="filter findings"]', "")
    page.select_option('select[aria-label="severity"]', "warning")
    warnings = sum(1 for r in findings if r["severity"] == "warning" and r["status"] == "fail")
    assert _count(page, "findings") == f"{warnings} of {n} shown"
    page.select_option('select[aria-label="severity"]', "")
    page.click('table[data-table="findings"] th:nth-child(2)')  # sort by rule
    rules = [row[1] for row in _visible(page, "findings")]
    assert rules == sorted(rules, key=str.lower) and len(rules) == n
    page.click('table[data-table="findings"] th:nth-child(2)')
    assert [row[1] for row in _visible(page, "findings")] == sorted(rules, key=str.lower, reverse=True)
    href = page.get_attribute('table[data-table="findings"] a.rule', "href")
    assert href.startswith("https://github.com/migcheck/migcheck/blob/main/docs/rules.md#rule-")
    anchor = href.split("#")[1]
    assert f'<a id="{anchor}"></a>' in (ROOT / "docs" / "rules.md").read_text()
    page.goto("about:blank")
    page.goto(report.as_uri() + "#q=GUEST-RUNNING")  # a link to a filtered view
    assert _count(page, "findings") == f"{running} of {n} shown"


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory):
    """A matrix too wide for a grid, with more findings of a rule than the table lists."""
    from bench.generate import generate
    from migcheck.cli import main

    where = tmp_path_factory.mktemp("wide")
    estate = where / "e.json"
    estate.write_text(json.dumps(generate(45, 260, seed=7)))
    main(["matrix", str(estate), "--format", f"html:{where / 'r.html'}", "--format", f"json:{where / 'r.json'}"])
    return where / "r.html", json.loads((where / "r.json").read_text())


def test_wide_matrix_tables_page_sort_and_filter(wide_report, page):
    report, data = wide_report
    cells = data["cells"]
    guests = sorted({c["guest"] for c in cells})
    targets = sorted({c["target"] for c in cells})
    page.goto(report.as_uri())
    assert _count(page, "guests") == f"{len(guests)} of {len(guests)} shown"
    assert len(_visible(page, "guests")) == 100  # a page of 100 rows
    box = page.locator('table[data-table="guests"]').locator("xpath=preceding-sibling::div[1]")
    pages = -(-len(guests) // 100)
    assert box.locator(".page").inner_text() == f"page 1 of {pages}"
    box.locator(".next").click()
    assert box.locator(".page").inner_text() == f"page 2 of {pages}"
    second = _visible(page, "guests")
    assert len(second) == min(100, len(guests) - 100)
    page.click('table[data-table="guests"] th:nth-child(4)')  # blocked, ascending by number
    page.click('table[data-table="guests"] th:nth-child(4)')  # then descending
    blocked = [int(row[3]) for row in _visible(page, "guests")]
    wanted = sorted((sum(1 for c in cells if c["guest"] == g and c["verdict"] == "blocked") for g in guests),
                    reverse=True)
    assert blocked == wanted[:100]  # sorted as numbers over every page, page 1 shown
    one = guests[17]
    page.fill('input[aria-label="filter guests"]', one)
    rows = _visible(page, "guests")
    assert [r[0] for r in rows] == [g for g in guests if one in g]
    # per target: every target, its counts from the cells
    assert _count(page, "targets") == f"{len(targets)} of {len(targets)} shown"
    page.fill('input[aria-label="filter targets"]', targets[3])
    row = [r for r in _visible(page, "targets") if r[0] == targets[3]][0]
    mine = [c for c in cells if c["target"] == targets[3]]
    assert [int(x) for x in row[1:4]] == [sum(1 for c in mine if c["verdict"] == v)
                                          for v in ("ready", "blocked", "unknown")]


def test_findings_filter_says_the_table_holds_only_part(wide_report, page):
    report, data = wide_report
    findings = [r for r in data["results"] if r["status"] in ("fail", "error")]
    page.goto(report.as_uri())
    count = _count(page, "findings")
    assert "the table holds the first 200 findings of each rule" in count and f"of {len(findings):,}" in count
    guest = findings[0]["subject"]["guest"]
    page.fill('input[aria-label="filter findings"]', guest)
    assert "the table holds the first 200 findings of each rule" in _count(page, "findings")


@pytest.mark.skipif(not os.environ.get("MIGCHECK_ESTATE_SCALE"),
                    reason="estate scale (200 x 2,000, minutes): set MIGCHECK_ESTATE_SCALE=1")
def test_html_of_a_200_by_2000_matrix_is_under_10_mb(tmp_path, page):
    from bench.generate import generate
    from migcheck.cli import main

    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(200, 2000)))
    main(["matrix", str(estate), "--format", f"html:{tmp_path / 'r.html'}"])
    size = (tmp_path / "r.html").stat().st_size
    assert size < 10_000_000, size
    page.goto((tmp_path / "r.html").as_uri())
    assert _count(page, "guests") == "2000 of 2000 shown"
