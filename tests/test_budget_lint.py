"""`lint` computes what reads nothing of a subject (issue 21): a release literal that does not parse,
or a number past the digit limit, is a located diagnostic when the pack is checked, not an `error`
on every subject or a traceback."""

from __future__ import annotations

import pytest

HEAD = 'rule SITE-CONST {\n  title "t"\n  severity warning\n  on guest\n  cite "c"\n'
NINES = "9" * 4401
CASES = [
    ('version(default(guest.guest_kit, "1")) >= version("6.1-rc1")', 53, "`6.1-rc1` is not a release"),
    (f'version(default(guest.guest_kit, "1")) >= version("{NINES}")', 53, "has more than 4,300 digits"),
    (f'version(default(guest.guest_kit, "1")) >= version("1.{NINES}")', 53, "has more than 4,300 digits"),
    ('version(default(guest.guest_kit, "1")) != "6.1-rc1"', 53, "`6.1-rc1` is not a release"),
    (f'guest.memory_mb < 10 * {"9" * 4300}', 32, "could have more than 4,300 digits"),
    (f'guest.memory_mb < {"9" * 4000} * {"9" * 400}', 0, "could have more than 4,300 digits"),
    ('guest.memory_mb < 1 / (2 - 2)', 0, "division by zero"),
]


@pytest.mark.parametrize("require, col, wanted", CASES)
def test_a_constant_that_fails_is_a_located_diagnostic(tmp_path, run_cli, require, col, wanted):
    pack = tmp_path / "site"
    pack.mkdir()
    (pack / "site.rules").write_text(HEAD + f"  require {require}\n  message \"m\"\n}}\n")
    code, out, err = run_cli("lint", pack)
    text = out + err
    assert code == 2 and "Traceback" not in text
    assert wanted in text
    assert f"site.rules:6:{col}: error[type-mismatch]" in text if col else "site.rules:6:" in text
    assert "= help: " in text


def test_constants_that_compute_pass_lint(tmp_path, run_cli):
    pack = tmp_path / "site"
    pack.mkdir()
    require = ('version(default(guest.guest_kit, "1")) >= version("B.11.31") and guest.memory_mb < 2 * 1024 * 1024'
               ' and round_up(22400 * 0.4%, 1) == 90')
    (pack / "site.rules").write_text(HEAD + f"  require {require}\n  message \"m\"\n}}\n")
    code, out, err = run_cli("lint", pack)
    assert code == 0, out + err
