"""One diagnostic type and one registry of codes, iterated by the docs and the tests."""

from __future__ import annotations

import re

import pytest

from migcheck.core.diagnostics import CODES, Diagnostic, LoadError, markdown_table

from .conftest import FIXTURES, ROOT

ENGINE = ROOT / "engine"
TESTS = ROOT / "tests"


def _codes_in_source() -> set[str]:
    """Codes the engine makes: `at(span, "CODE"`, `diag(..., "CODE"`, `code="CODE"`."""
    found = set()
    for path in ENGINE.rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'\bcode(?:: str)? ?= ?"([a-z-]+)"', text))
        found |= set(re.findall(r'(?:(?<![.\w])at|\.error|\bdiag)\((?:[^"\n()]|\([^()\n]*\))*"([a-z-]+)"', text))
    return found


def test_every_code_the_engine_makes_is_registered():
    made = _codes_in_source()
    assert len(made) >= 25
    assert made <= set(CODES), made - set(CODES)
    assert Diagnostic("f", 1, 1, "m").code == "input"  # what a reader's problem is when nothing more is known


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_registered_code_is_documented_and_made_and_tested(code):
    assert f"| `{code}` |" in (ROOT / "docs" / "diagnostics.md").read_text()
    assert code in _codes_in_source(), f"`{code}` is registered but nothing makes it"
    tests = "".join(p.read_text() for p in list(TESTS.rglob("*.py")) + list(TESTS.rglob("*.yaml")))
    assert re.search(rf"(code: |\[|\"){re.escape(code)}(\]|,|\"|\}})", tests), f"no test expects `{code}`"


def test_the_docs_table_is_the_registry():
    assert markdown_table() in (ROOT / "docs" / "diagnostics.md").read_text()


def test_snapshot_problems_show_the_source_line_and_a_caret(run_cli):
    code, _, err = run_cli("validate", FIXTURES / "estate-broken.yaml")
    assert code == 2
    lines = err.splitlines()
    at = lines.index(next(x for x in lines if "guest `crm01` is on host `vsp-w3`" in x))
    assert lines[at].startswith(f"{FIXTURES / 'estate-broken.yaml'}:50:11: error[integrity]: ")
    assert lines[at + 1] == "  |     host: vsp-w3"
    assert lines[at + 2] == "  |           ^"  # under column 11
    assert lines[at + 3] == "  = help: did you mean `vsp-w2`?"


def test_a_control_character_in_the_echoed_line_is_not_sent_to_the_terminal(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text("snapshot: 1\nhosts:\n  - name: \"a\\e[2J\"\n    version: 1\n")
    code, _, err = run_cli("validate", path)
    assert code == 2 and "\x1b" not in err


def _pack(tmp_path, require: str):
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "p.rules").write_text('rule SITE-W {\n  title "t"\n  severity error\n  on guest\n  cite "c"\n'
                                  f'  let unused = 1\n  require {require}\n  message "m"\n}}\n')
    return pack


def test_warnings_do_not_fail_lint_unless_asked(tmp_path, run_cli):
    pack = _pack(tmp_path, 'guest.kind != "container"')
    code, _, err = run_cli("lint", pack)
    assert code == 0
    assert f"{pack / 'p.rules'}:6:7: warning[unused-let]: `unused` is never used" in err
    assert f"{pack / 'p.rules'}:7:25: warning[always-true]: " in err
    assert "1 rule(s) checked in 1 pack(s): 2 warning(s)" in err
    assert run_cli("lint", pack, "--warnings-as-errors")[0] == 2
    code, out, _ = run_cli("lint", pack, "--format", "json")
    import json

    got = [(d["code"], d["severity"], d["line"], d["col"]) for d in json.loads(out)["diagnostics"]]
    assert code == 0 and got == [("unused-let", "warning", 6, 7), ("always-true", "warning", 7, 25)]
    # and a warning never stops a check
    assert run_cli("check", FIXTURES / "mixed-site.yaml", "apptest03", "vsp-e1", "--rules", pack)[0] == 0


def test_an_error_beside_a_warning_fails_lint(tmp_path, run_cli):
    code, _, err = run_cli("lint", _pack(tmp_path, 'guest.kind == "container"'))
    assert code == 2
    assert "error[impossible-comparison]" in err and "warning[unused-let]" in err
    assert "1 problem(s) in rule packs" in err


RULE = 'rule SITE-X {\n  title "t"\n  severity error\n  on guest\n  cite "c"\n  require true\n  message "m"\n}\n'


def _files(root, files: dict):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


# name, files, command (with {tmp}), the diagnostic's file (relative to tmp), line, col, code, message fragment
CASES = [
    ("a baseline that is no report", {"b.json": '{"results": []}'},
     ["check", str(FIXTURES / "mixed-site.yaml"), "sapapp01", "vsp-e2", "--baseline", "{tmp}/b.json"],
     "b.json", 1, 1, "bad-baseline", "not a migcheck JSON report"),
    ("a rule test naming a guest its snapshot lacks", {"p/p.rules": RULE, "p/tests/t.yaml":
     f"cases:\n  - name: c\n    snapshot: {FIXTURES / 'mixed-site.yaml'}\n    check: {{guest: nobody, target: vsp-e2}}\n"
     "    expect: {SITE-X: pass}\n"}, ["test", "{tmp}/p"], "p/tests/t.yaml", 4, 12, "bad-case", "guest `nobody`"),
    ("a configuration row that does not fit", {"c.yaml": "data:\n  offline_paths:\n    - {kind: vm}\n"},
     ["audit", str(FIXTURES / "mixed-site.yaml"), "--config", "{tmp}/c.yaml"], "c.yaml", 3, 7, "bad-row",
     "row 1 of `offline_paths` lacks column"),
    ("a data table that is a list", {"p/p.rules": RULE, "p/data/t.yaml": "- 1\n- 2\n"}, ["lint", "{tmp}/p"],
     "p/data/t.yaml", 1, 1, "bad-table", "data table `t` must be a mapping"),
    ("a data table two packs define", {"p/p.rules": RULE, "p/data/offline_paths.yaml": "rows: []\n"},
     ["lint", "{tmp}/p"], "p/data/offline_paths.yaml", 1, 1, "duplicate-table", "is already defined"),
    ("a rule file in Latin-1", {"p/p.rules": RULE.replace('"t"', '"caf\u00e9"').encode("latin-1")},
     ["lint", "{tmp}/p"], "p/p.rules", 2, 13, "unreadable", "not UTF-8 text"),
    ("a pack that is not there", {}, ["lint", "{tmp}/nowhere"], "nowhere", 1, 1, "no-pack", "not a directory"),
    ("a tag no rule has", {"c.yaml": "tags: [dio, nope]\n"},
     ["audit", str(FIXTURES / "mixed-site.yaml"), "--config", "{tmp}/c.yaml"], "c.yaml", 1, 13, "unknown-tag",
     "no loaded rule has the tag `nope`"),
]


@pytest.mark.parametrize("name,files,command,file,line,col,code,fragment", CASES, ids=[c[0] for c in CASES])
def test_each_input_problem_is_located_with_its_code(tmp_path, run_cli, name, files, command, file, line, col, code,
                                                     fragment):
    _files(tmp_path, files)
    exit_code, out, err = run_cli(*[a.replace("{tmp}", str(tmp_path)) for a in command])
    assert exit_code == 2 and "Traceback" not in err
    head = f"{tmp_path / file}:{line}:{col}: error[{code}]: "
    assert any(x.startswith(head) and fragment in x for x in (out + err).splitlines()), out + err


@pytest.mark.parametrize("col", [1, 7, 500_000, 999_990, 1_000_000])
def test_a_long_source_line_is_echoed_around_its_column(col):
    """A located problem on a line of a megabyte (a minified snapshot) echoes 160 characters around the column,
    cut with `…`, and the caret under the character the column names; a short line is echoed whole."""
    line = "".join(chr(ord("a") + i % 26) for i in range(1_000_000))
    rendered = Diagnostic("f.json", 1, col, "m").render(line)
    _, echoed, caret = rendered.split("\n")
    assert len(rendered) < 400
    assert echoed.startswith("  | ") and caret.startswith("  | ")
    at = caret.index("^")
    assert echoed[at] == line[col - 1]
    assert echoed.endswith("…") == (col < 1_000_000 - 80) and echoed.startswith("  | …") == (col > 81)
    short = Diagnostic("f.json", 1, 3, "m").render("abcdef").split("\n")
    assert short[1:] == ["  | abcdef", "  |   ^"]


def test_a_caret_past_the_end_of_its_line_stays_just_after_it():
    """A column counted with tabs wider than the echo's (the importer's are eight wide) lands past the end: the caret
    goes just after the line, never a column's worth of spaces (100,000 tabs: 700,000 of them)."""
    line = "\t" * 100_000 + "x"
    rendered = Diagnostic("f.txt", 1, 800_001, "m").render(line)
    assert len(rendered) < 400
    short = Diagnostic("f.txt", 1, 50, "m").render("ab").split("\n")
    assert short[1:] == ["  | ab", "  |   ^"]


def test_a_caret_stands_under_its_character_as_shown():
    """Control characters before the column are shown as four-character escapes: the caret moves with them."""
    rendered = Diagnostic("f.txt", 1, 3, "m").render("\x1b\x1bX").split("\n")
    assert rendered[1] == "  | \\x1b\\x1bX" and rendered[2].index("^") == rendered[1].index("X")


def test_a_source_line_is_found_by_line_feeds_only():
    """Rule files and captures end lines at line feeds: a form feed or U+2028 inside a line does not move the echo."""
    rendered = Diagnostic("f.rules", 2, 1, "m").render("a\x0cb\u2028c\nsecond\r\nthird\n").split("\n")
    assert rendered[1] == "  | second"


def test_many_problems_of_one_file_read_and_split_it_once(tmp_path, monkeypatch):
    """A file with thousands of problems on one long line: its lines are split once for all of its number problems
    (`Document.line`), read once to echo them, and only the part shown is copied (minutes at 40,000 problems before:
    the whole text split, and the megabyte line copied, for each)."""
    import linecache

    from migcheck.estate.snapshot import load_snapshot
    from migcheck.files import document

    snap = tmp_path / "s.json"
    snap.write_text('{"snapshot": 1, "hosts": [], "guests": [' + ", ".join(["1"] * 3000) + "]}\n")
    splits = []
    real_split = document.LINE_BREAK.split
    monkeypatch.setattr(document, "LINE_BREAK", type("P", (), {"split": lambda self, t: splits.append(1) or real_split(t)})())
    reads = []
    real_getlines = linecache.getlines
    monkeypatch.setattr(linecache, "getlines", lambda f, *a: reads.append(f) or real_getlines(f, *a))
    try:
        load_snapshot(str(snap))
    except LoadError as exc:
        problems = exc.problems
    assert len(problems) >= 3000 and len(splits) <= 1
    rendered = [p.render() for p in problems[:2000]]
    assert len(reads) == 1 and all(len(r.splitlines()[1]) < 200 for r in rendered)
