"""The package behaves like a Python package: `python -m migcheck`, the installed tree, and
`lint`/`test` of a copy of the built-in pack (the checkout's `rules/` beside an installed one).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT


def test_python_dash_m_version():
    out = subprocess.run([sys.executable, "-m", "migcheck", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"migcheck \d+\.\d+\.\d+\n", out.stdout)


@pytest.mark.skipif(os.environ.get("MIGCHECK_TEST_INSTALLED") != "1",
                    reason="only .ci/run tests the installed package (it sets MIGCHECK_TEST_INSTALLED=1)")
def test_the_suite_runs_against_the_installed_package():
    import migcheck

    here = Path(migcheck.__file__).resolve()
    assert not here.is_relative_to(ROOT / "engine") and not here.is_relative_to(ROOT / ".dev"), here
    assert "site-packages" in here.parts
    # the installed package carries its own rule pack and schemas
    assert (here.parent / "rules" / "dio.rules").is_file()
    assert (here.parent / "schemas" / "report.schema.json").is_file()


def test_nothing_imports_the_checkout_source_folder():
    """Tests and benchmarks import `migcheck`; `engine` is only the source folder's name."""
    assert "engine" not in sys.modules
    pattern = re.compile(r"^\s*(from|import)\s+engine\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for folder in ("tests", "bench") for p in (ROOT / folder).rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.fixture
def installed_layout(tmp_path, monkeypatch):
    """The built-in pack somewhere else, as after `pip install .`: the checkout's rules/ is then a copy."""
    from migcheck.files import resources as _resources

    installed = tmp_path / "site-packages" / "migcheck" / "rules"
    shutil.copytree(ROOT / "rules", installed)
    monkeypatch.setattr(_resources, "builtin_rules_dir", lambda: installed)
    import migcheck.packs.ruleset as packs

    monkeypatch.setattr(packs, "builtin_rules_dir", lambda: installed)
    return installed


def test_lint_and_test_of_the_checkout_rules_beside_an_installed_pack(installed_layout, run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, _, err = run_cli("lint", "rules")
    assert code == 0, err
    assert "duplicate-rule" not in err
    assert re.search(r"^\d+ rule\(s\) checked in 1 pack\(s\): no problems$", err, re.M), err
    code, out, _ = run_cli("test", "rules")
    assert code == 0, out
    assert " 0 failed" in out


def test_an_edited_copy_is_checked_in_place_of_the_builtin_pack(tmp_path, run_cli):
    copy = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", copy)
    text = (copy / "memory.rules").read_text()
    (copy / "memory.rules").write_text(text.replace("target.memory_mb.free", "target.memory_mb.fre", 1))
    code, _, err = run_cli("lint", copy)
    assert code == 2
    assert "duplicate-rule" not in err  # the copy replaced the built-in pack
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "target.memory_mb.free" in l)
    assert re.search(rf"{re.escape(str(copy / 'memory.rules'))}:{line}:\d+: error\[unknown-field\]", err), err
    assert "did you mean `free`?" in err


def test_a_site_pack_reusing_a_builtin_id_is_still_a_duplicate(tmp_path, run_cli):
    pack = tmp_path / "site"
    pack.mkdir()
    (pack / "memory.rules").write_text('rule MEMORY-TARGET { title "t" severity info on migration cite "c" '
                                       'require true message "m" }\n')
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "error[duplicate-rule]: rule `MEMORY-TARGET` is already defined at" in err
    # with --no-builtin the built-in pack is left out, so the site pack stands alone
    code, _, err = run_cli("lint", pack, "--no-builtin")
    assert code == 0, err


def test_no_builtin_reports_what_the_site_pack_needs_from_it(tmp_path, run_cli):
    """Without the built-in pack a site rule reading a built-in data table is located."""
    pack = tmp_path / "site"
    pack.mkdir()
    (pack / "site.rules").write_text('rule SITE-P {\n  title "t"\n  severity info\n  on guest\n  cite "c"\n'
                                     '  require len(data.offline_paths) > 0\n  message "m"\n}\n')
    assert run_cli("lint", pack)[0] == 0
    code, _, err = run_cli("lint", pack, "--no-builtin")
    assert code == 2 and f"{pack / 'site.rules'}:6:" in err and "offline_paths" in err

