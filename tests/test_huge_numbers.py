"""A number of more digits than Python turns into one (`sys.get_int_max_str_digits()`, 4,300) is a
located problem, never a traceback (both found by fuzzing): in a rule file, every numeric form the
grammar has (an integer, a decimal, a percentage), and in a capture, every numeric field the importer
reads (memory amounts, vCPU counts, VM numbers, core counts, hpvmnet's `Number`). Exit 2 and
`file:line:col`; with `import --partial`, the field is unread like any other unreadable number.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES

LIMIT = sys.get_int_max_str_digits()
BIG = "9" * 5000


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in `path` by `new`; the number of the line it was on."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old):])
    return text.count("\n", 0, at) + 1


def _located(err: str, path: Path, line: int, fragment: str) -> None:
    """`err` holds a problem at `path:line:COL: ` whose text holds `fragment`."""
    hits = [x for x in err.splitlines() if re.match(re.escape(f"{path}:{line}:") + r"[0-9]+: ", x)]
    assert hits, f"no problem at {path}:{line} in:\n{err[:3000]}"
    assert any(fragment in x for x in hits), f"{fragment!r} not in {[h[:300] for h in hits]}"


# -- rule files ---------------------------------------------------------------------------

def _site_pack(tmp_path: Path, condition: str) -> tuple[Path, int]:
    """The fixture site pack with its `when` condition replaced; the pack and the condition's line."""
    pack = tmp_path / "p"
    shutil.copytree(FIXTURES / "site-rules", pack)
    return pack, _edit(pack / "support.rules", 'guest.attrs.tier == "production"', condition)


@pytest.mark.parametrize("command", [
    ("lint",), ("test",), ("fmt", "--check"), ("check", FIXTURES / "mixed-site.yaml", "sapapp01", "vsp-e3", "--rules"),
], ids=["lint", "test", "fmt", "check"])
def test_decimal_over_the_digit_limit_in_a_rule_file(tmp_path, run_cli, command):
    pack, line = _site_pack(tmp_path, "len(guest.name) < 0." + "1" * 5000)
    code, out, err = run_cli(*command, pack)
    assert code == 2 and "Traceback" not in out + err
    _located(err, pack / "support.rules", line,
             "number of 5,001 digits is over the limit of 4,300 digits (Python's integer-string limit)")
    assert f"support.rules:{line}:30: " in err  # at the number, after `  when     len(guest.name) < `


@pytest.mark.parametrize("number,digits", [
    # each side under the limit, which is all `Fraction` checks, but its exact value's numerator has 4,400
    # digits: a message showing it (`{...}`) could not print it
    ("1" * 2200 + "." + "1" * 2200, 4400),
    ("5." + "1" * 5000, 5001),
], ids=["both-sides", "decimal"])
def test_every_numeric_form_counts_its_digits(tmp_path, run_cli, number, digits):
    pack, line = _site_pack(tmp_path, f"len(guest.name) < {number}")
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "Traceback" not in err
    _located(err, pack / "support.rules", line, f"number of {digits:,} digits is over the limit of {LIMIT:,} digits")


def test_decimal_in_a_message_hole(tmp_path, run_cli):
    pack, _ = _site_pack(tmp_path, "true")
    line = _edit(pack / "support.rules", '"{guest.name} is production;', '"{0.' + "1" * 5000 + '} is production;')
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "Traceback" not in err
    _located(err, pack / "support.rules", line, "number of 5,001 digits is over the limit")
    # at the limit a decimal is still a number: 4,300 digits
    pack, line = _site_pack(tmp_path / "ok", "len(guest.name) < 0." + "1" * (LIMIT - 1))
    assert run_cli("lint", pack)[0] == 0


def test_no_limit_when_python_has_none():
    """`sys.set_int_max_str_digits(0)` switches the limit off: then no number is refused, a percentage neither."""
    from migcheck.lang.parser import parse

    text = (FIXTURES / "site-rules" / "support.rules").read_text()
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        for number in ("0.4%", "0." + "1" * 5000, "1" * 5000 + "%"):
            rules, problems = parse(text.replace('guest.attrs.tier == "production"', f"len(guest.name) < {number}"))
            assert rules is not None and problems == [], number
    finally:
        sys.set_int_max_str_digits(before)


# -- captures ------------------------------------------------------------------------------

# (case, capture, file, text, the text with the huge number, what the problem says)
CAPTURES = [
    ("machinfo-memory", "two-vsp", "ivmcl01/machinfo.txt", "Memory: 98135 MB", f"Memory: {BIG} MB",
     "number of 5,000 digits is over the limit of 4,300 digits"),
    ("machinfo-cores", "dc-west", "vsp-w1/machinfo.txt", "  8 cores (4 per socket)", f"  {BIG} cores (4 per socket)",
     "number of 5,000 digits is over the limit of 4,300 digits"),
    ("free-memory", "two-vsp", "ivmcl01/hpvmstatus-s.txt", "= 24320 Mbytes", f"= {BIG} Mbytes",
     "number of 5,000 digits is over the limit of 4,300 digits"),
    ("free-vpar-cores", "two-vsp", "ivmcl01/hpvmstatus-s.txt", "for 7 (max avail.) CPU vPar",
     f"for {BIG} (max avail.) CPU vPar", "number of 5,000 digits is over the limit of 4,300 digits"),
    ("summary-memory", "two-vsp", "ivmcl01/hpvmstatus.txt", "    4 GB ", f" {BIG} GB ",
     "guest `ivm1`: number of 5,000 digits is over the limit of 4,300 digits"),
    ("summary-megabytes", "two-vsp", "ivmcl01/hpvmstatus.txt", "    4 GB ", f" {'9' * LIMIT} GB ",
     "is more than 4,300 digits of megabytes"),  # a number at the limit, in GB: too many megabytes to write
    ("summary-vcpus", "two-vsp", "ivmcl01/hpvmstatus.txt", "Off            2 ", f"Off            {BIG} ",
     "expected a number (ASCII digits) in column `#VCPUs` of `ivm1`"),
    ("summary-vm-number", "two-vsp", "ivmcl01/hpvmstatus.txt", "ivm1                     8",
     f"ivm1                     {BIG}", "expected a number (ASCII digits) in column `VM #` of `ivm1`"),
    ("details-vcpus", "two-vsp", "ivmcl01/guests/ivm1.txt", " 2       10.0%", f" {BIG}       10.0%",
     "expected a number of vCPUs"),
    ("details-memory", "two-vsp", "ivmcl01/guests/ivm1.txt", " 4 GB     64 MB", f" 4 GB     {BIG} MB",
     "number of 5,000 digits is over the limit of 4,300 digits"),
    ("hpvmnet-number", "two-vsp", "ivmcl01/hpvmnet.txt", "vlan02        2 Up", f"vlan02        {BIG} Up",
     "expected a vswitch row"),
]


@pytest.mark.parametrize("case,capture,file,old,new,fragment", CAPTURES, ids=[c[0] for c in CAPTURES])
def test_number_over_the_digit_limit_in_a_capture(tmp_path, run_cli, case, capture, file, old, new, fragment):
    root = tmp_path / "capture"
    shutil.copytree(FIXTURES / "capture" / capture, root)
    line = _edit(root / file, old, new)
    out = tmp_path / "out.yaml"
    code, stdout, err = run_cli("import", root, "--output", out)
    assert code == 2 and "Traceback" not in stdout + err and not out.exists()
    _located(err, root / file, line, fragment)
    # --partial: the field is unread and listed, as any unreadable number; what is written validates
    code, stdout, err = run_cli("import", root, "--partial", "--output", out)
    assert code == 0 and "Traceback" not in stdout + err
    _located(err, root / file, line, fragment)
    assert run_cli("validate", out)[0] == 0


def test_a_capture_line_of_thousands_of_characters_is_quoted_short(tmp_path, run_cli):
    """A problem's message quotes at most `QUOTED` characters of the capture (the line echo below it is cut
    around the column too): a damaged line of 5,000 digits gives a message of a few hundred characters."""
    from migcheck.importer._text import QUOTED

    capture = tmp_path / "c"
    shutil.copytree(FIXTURES / "capture" / "two-vsp", capture)
    details = capture / "ivmcl01" / "guests" / "ivm1.txt"
    lines = details.read_text().splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.startswith("#vCPUs")) + 2
    lines[row] = "9" * 5000 + lines[row].lstrip(" 0123456789")
    details.write_text("".join(lines))
    code, _, err = run_cli("import", capture)
    assert code == 2 and "Traceback" not in err
    first = err.splitlines()[0]
    assert first.startswith(f"{details}:{row + 1}:") and "9" * QUOTED not in first and len(first) < 400, first
    assert all(len(line) < 400 for line in err.splitlines())


def test_a_capture_line_of_many_short_quotes_gives_a_short_message():
    """Quotes cut one by one still add up (a hostile line with a backtick every hundred characters): the message is
    cut at `MESSAGE` characters as well."""
    from migcheck.importer._text import MESSAGE, Problems

    problems = Problems("f.txt")
    problems.at(1, 1, "found " + " ".join(f"`{'a' * 100}`" for _ in range(500)))
    assert len(problems.items[0].message) == MESSAGE and problems.items[0].message.endswith("...")
