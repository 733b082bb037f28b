"""Messages in every report: no Python `None`, CSV fingerprints no spreadsheet reads as a number,
one escape for control and bidirectional characters in every format (`\\x1b`, `\\u202e`), plurals."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from .conftest import FIXTURES, ROOT

FORMATS = ["table", "json", "jsonl", "csv", "csv-cells", "markdown", "html", "sarif", "junit", "github", "gitlab"]
COMMANDS = [["matrix", "fixtures/mixed-site.yaml"], ["check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2"],
            ["audit", "fixtures/estate-broken.yaml"]]


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_python_none_in_any_report(in_root, run_cli, fmt):
    for argv in COMMANDS:  # (config_sha256 is None: no site configuration)
        _, out, err = run_cli(*argv, "--waivers", "fixtures/waivers.yaml", "--format", fmt)
        found = re.findall(r".{0,40}\b(?:None|True|False)\b.{0,20}", out)
        assert out and not found, (argv, fmt, found)


def _spreadsheet_number(text: str) -> bool:
    """Whether a spreadsheet (LibreOffice, Excel) would read the cell as a number: decimal or scientific."""
    return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text.strip()) is not None


def test_csv_fingerprints_are_never_read_as_numbers(run_cli, tmp_path):
    from bench.generate import generate

    estate = tmp_path / "e.json"
    estate.write_text(json.dumps(generate(10, 120, seed=11)))
    _, out, _ = run_cli("matrix", estate, "--format", "csv")
    prints = [row["fingerprint"] for row in csv.DictReader(io.StringIO(out))]
    assert len(prints) > 1000
    assert all(re.fullmatch(r"fp:[0-9a-f]{16}", p) and not _spreadsheet_number(p) for p in prints)
    # bare, some of them would be numbers (all digits, or digits with one `e`): the reason for the prefix
    assert _spreadsheet_number("1234e567") and _spreadsheet_number("4070123456789012")


ESCAPED = [
    # (guest name, format, how the output shows it)
    ("\x1b[2Jweb01", "markdown", "\\x1b[2Jweb01"),
    ("web\u202eexe.10", "markdown", "web\\u202eexe.10"),
    ("\x1b[2Jweb01", "html", "\\x1b[2Jweb01"),
    ("\x1b[2Jweb01", "table", "\\x1b[2Jweb01"),
    ("web\x1b01", "junit", "web\\x1b01"),
    ("web\u202eexe.10", "junit", "web\\u202eexe.10"),
    ("web\x1b01", "sarif", "web\\x1b01"),
    ("web\u2066x\u2069", "sarif", "web\\u2066x\\u2069"),
    ("web\x1b01", "github", "web\\x1b01"),
    ("web\x1b01", "gitlab", "web\\x1b01"),
]


def _shown(fmt: str, out: str) -> str:
    """The text a reader of the format sees."""
    if fmt == "markdown":
        from markdown_it import MarkdownIt

        return MarkdownIt("commonmark").enable("table").render(out)
    if fmt == "sarif":  # what code scanning shows: the messages (properties keep the data as it is, as JSON does)
        return " ".join(r["message"]["text"] for r in json.loads(out)["runs"][0]["results"])
    if fmt == "gitlab":
        return json.dumps(json.loads(out), ensure_ascii=False).replace("\\\\", "\\")
    if fmt == "junit":
        import xml.etree.ElementTree as ET

        root = ET.fromstring(out)
        return " ".join(filter(None, [e.text or "" for e in root.iter()] + [v for e in root.iter()
                                                                            for v in e.attrib.values()]))
    return out


@pytest.mark.parametrize("name,fmt,wanted", ESCAPED, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(ESCAPED)])
def test_one_escape_for_control_characters_in_every_format(run_cli, tmp_path, name, fmt, wanted):
    pytest.importorskip("markdown_it")
    text = (FIXTURES / "mixed-site.yaml").read_text()
    snapshot = tmp_path / "evil.yaml"
    snapshot.write_text(text.replace("- name: web01\n", f"- name: {json.dumps(name)}\n"))
    code, out, err = run_cli("check", "--format", fmt, "--", snapshot, name, "vsp-e2")
    assert code == 1, err
    bad = [c for c in name if not c.isprintable()]
    shown = _shown(fmt, out)
    assert not any(c in shown for c in bad) and (fmt == "sarif" or not any(c in out for c in bad))
    assert wanted in shown


def test_xml_forbidden_is_the_complement_of_xml_1_0_char():
    """Every code point: forbidden in a JUnit/SARIF-XML text exactly when XML 1.0's `Char` production excludes it."""
    from migcheck.report.common import _XML_FORBIDDEN

    def char(c: int) -> bool:
        return c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or 0x10000 <= c <= 0x10FFFF

    assert [c for c in range(0x110000) if (_XML_FORBIDDEN.match(chr(c)) is None) != char(c)] == []
