"""`migcheck fmt`: rule files formatted canonically, comments kept, idempotent, and never changing a
rule (its AST, spans aside, and its results on the fixtures)."""

from __future__ import annotations

import re
import shutil

import pytest

from .conftest import FIXTURES, ROOT

BUILTIN = sorted((ROOT / "rules").glob("*.rules"))


def _scrambled(text: str) -> str:
    """The same rules written carelessly: bodies indented three more, `}` indented, trailing spaces,
    the blank line after a rule gone or tripled, other blank lines outside rules tripled, CRLF line ends."""
    out, inside, after_rule = [], False, False
    for n, line in enumerate(text.split("\n")):
        if line.startswith("rule "):
            inside = True
            out.append(line + "   ")
        elif inside and line == "}":
            inside, after_rule = False, True
            out.append("   }")
        elif line == "" and not inside:
            if not (after_rule and n % 2):  # the blank line after a rule: dropped every other time
                out += ["", "", ""]
        else:
            out.append(("   " + line if inside and line else line) + (" " if n % 3 == 0 else ""))
            after_rule = after_rule and line == ""
    return "\r\n".join(out)


def _comments(text: str) -> list[str]:
    return [m.group().rstrip() for m in re.finditer(r'#[^\n"]*$', text, re.M)]


@pytest.mark.parametrize("path", BUILTIN, ids=lambda p: p.name)
def test_the_builtin_pack_is_formatted_and_formatting_is_idempotent(path):
    from migcheck.lang.fmt import format_rules

    text = path.read_text()
    assert format_rules(text, str(path)) == text  # the built-in pack is formatted by `migcheck fmt`
    scrambled = _scrambled(text)
    assert scrambled != text
    formatted = format_rules(scrambled, str(path))
    assert formatted == text  # carelessly written, then formatted: the canonical text again
    assert format_rules(formatted, str(path)) == formatted
    assert _comments(formatted) == _comments(text)


def test_a_formatted_pack_compiles_to_the_same_rules_with_the_same_results(tmp_path):
    """The AST of every rule equal (spans aside), and an audit and a check give the same results."""
    from migcheck.estate.snapshot import load_snapshot
    from migcheck.eval.engine import Engine
    from migcheck.lang.fmt import format_rules, shape
    from migcheck.lang.parser import parse
    from migcheck.packs.ruleset import load_rules

    copy = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", copy)
    for path in copy.glob("*.rules"):
        one_line = re.sub(r"\s*\n\s*", " ", path.read_text())  # every rule on one line: comments kept apart
        one_line = re.sub(r"(#[^\n]*?) (rule |\}|title |severity |on |cite )", r"\1\n\2", one_line)
        source = one_line if parse(one_line, str(path))[0] is not None else _scrambled(path.read_text())
        path.write_text(format_rules(source, str(path)))
    for path in BUILTIN:
        before, after = parse(path.read_text(), "x")[0], parse((copy / path.name).read_text(), "x")[0]
        assert shape(before.rules) == shape(after.rules), path.name
    snapshot = load_snapshot(str(FIXTURES / "mixed-site.yaml"))

    def results(ruleset):
        engine = Engine(ruleset, snapshot)
        guest, target = snapshot.guest_by_name["sapapp01"], snapshot.host_by_name["vsp-e2"]
        got = engine.audit() + engine.check(guest, target, "offline")
        return sorted((r.rule, r.status, r.message, str(r.subject)) for r in got)

    assert results(load_rules([copy], builtin=None)) == results(load_rules([]))


def test_structure_is_normalised_and_expressions_kept_verbatim():
    from migcheck.lang.fmt import format_rules

    src = ('# the site\'s rules\n\n\n'
           'rule SITE-A { title "t" severity info on migration cite "c" require true message "m" }\n'
           '# about B\n'
           'rule SITE-B {\n'
           '    title "B"\n'
           '        "continued"   \n'
           '  severity   warning\n'
           '    on guest   # trailing\n'
           '  let x=count(guest.dio)\n'
           '  for   f   in guest.dio where f.pool\n'
           '  # standalone\n'
           '\n'
           '  require x >= 0 and\n'
           '          (f.pool or\n'
           '             # inside the expression\n'
           '           not f.pool)\n'
           '  message "m {x}"\n'
           '  tags dio,offline ,  audit\n'
           '  cite "c"\n'
           '}   # end\n')
    assert format_rules(src) == (
        "# the site's rules\n\n"
        "rule SITE-A {\n  title    \"t\"\n  severity info\n  on       migration\n  cite     \"c\"\n"
        "  require  true\n  message  \"m\"\n}\n\n"
        "# about B\n"
        "rule SITE-B {\n"
        '  title    "B"\n'
        '           "continued"\n'
        "  severity warning\n"
        "  on       guest   # trailing\n"
        "  let      x = count(guest.dio)\n"
        "  for      f in guest.dio where f.pool\n"
        "  # standalone\n"
        "\n"
        "  require  x >= 0 and\n"
        "           (f.pool or\n"
        "              # inside the expression\n"
        "            not f.pool)\n"
        '  message  "m {x}"\n'
        "  tags     dio, offline, audit\n"
        '  cite     "c"\n'
        "}  # end\n")


def test_syntax_the_formatter_does_not_know_passes_through():
    """Expressions are copied, not re-printed: a construct added to the grammar later (here an
    operator no grammar has) keeps its text; only the clause structure around it moves."""
    from migcheck.lang.fmt import format_text

    src = 'rule SITE-X {\n      require   if a ?? b then 0.4% else   1.25\n   message "m"\n}\n'
    assert format_text(src) == 'rule SITE-X {\n  require  if a ?? b then 0.4% else   1.25\n  message  "m"\n}\n'


def test_a_formatting_that_would_change_a_rule_is_refused(monkeypatch):
    from migcheck.lang import fmt

    monkeypatch.setattr(fmt, "format_text", lambda text: text.replace("== 0", "== 1"))
    with pytest.raises(fmt.FormatError, match="would change the rules"):
        fmt.format_rules('rule SITE-A {\n  title "t"\n  severity info\n  on guest\n  cite "c"\n'
                         '  require count(guest.dio) == 0\n  message "m"\n}\n')


def _pack(tmp_path, text: str):
    pack = tmp_path / "site"
    pack.mkdir(exist_ok=True)
    (pack / "site.rules").write_text(text)
    return pack


CARELESS = 'rule SITE-A { title "t" severity info on guest cite "c" require true message "m" }  # kept\n'


def test_fmt_check_and_diff_change_nothing(run_cli, tmp_path):
    pack = _pack(tmp_path, CARELESS)
    code, out, err = run_cli("fmt", "--check", pack)
    assert code == 1 and out == "" and f"would reformat {pack / 'site.rules'}" in err
    code, out, err = run_cli("fmt", "--diff", pack)
    assert code == 1 and out.startswith(f"--- {pack / 'site.rules'}\n") and "+  severity info\n" in out
    assert (pack / "site.rules").read_text() == CARELESS
    assert run_cli("fmt", "--check", ROOT / "rules")[0] == 0


def test_fmt_writes_the_formatted_files_and_keeps_comments(run_cli, tmp_path):
    pack = _pack(tmp_path, CARELESS)
    code, _, err = run_cli("fmt", pack)
    assert code == 0 and "1 file reformatted" in err
    text = (pack / "site.rules").read_text()
    assert text.startswith("rule SITE-A {\n  title    \"t\"\n") and text.endswith("}  # kept\n")
    assert run_cli("fmt", "--check", pack / "site.rules")[0] == 0  # a file, as well as a folder
    assert run_cli("lint", pack)[0] == 0


def test_fmt_of_a_file_that_does_not_parse_writes_nothing(run_cli, tmp_path):
    pack = _pack(tmp_path, CARELESS)
    (pack / "broken.rules").write_text("rule SITE-B {\n  title \"t\"\n  require (\n}\n")
    code, _, err = run_cli("fmt", pack)
    assert code == 2 and f"{pack / 'broken.rules'}:" in err and "nothing written" in err
    assert (pack / "site.rules").read_text() == CARELESS
    code, _, err = run_cli("fmt", tmp_path / "nowhere")
    assert code == 2 and "is neither a rule pack" in err
