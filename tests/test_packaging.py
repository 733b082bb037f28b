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



# -- the distribution: hpvm-migcheck, its licence, what its sdist holds ----------------------------
_INSTALL_HINT = re.compile(r"pip install\s+(?:-e\s+)?['\"]?([A-Za-z0-9_.-]+)(\[[a-z,]+\])?")


def _install_hints() -> list[tuple[str, str]]:
    """(file, package) for every `pip install PACKAGE` in the engine's messages and the documents."""
    files = [*(ROOT / "engine").rglob("*.py"), ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    return [(str(f.relative_to(ROOT)), m.group(1)) for f in files
            for m in _INSTALL_HINT.finditer(f.read_text(encoding="utf-8"))]




def test_every_install_hint_names_the_distribution():
    hints = _install_hints()
    assert ("engine/app/waves.py", "hpvm-migcheck") in hints  # the OR-Tools hint of `place`
    wrong = {(f, p) for f, p in hints if p not in ("hpvm-migcheck", ".")}
    assert not wrong, \
        f"install hints naming another distribution (the index's `migcheck` is another project): {sorted(wrong)}"


def test_pyproject_names_the_distribution_and_its_licence_file():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "hpvm-migcheck"
    assert project["scripts"] == {"migcheck": "migcheck.cli:main"}  # the command keeps its name
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in licence


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sdist and the wheel `python -m build` makes (the wheel built from the sdist, as pip does)."""
    pytest.importorskip("build", reason="`build` (the test extra) makes the distributions")
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0 and "Could not find a version" in done.stderr + done.stdout:
        pytest.skip("the build backend could not be installed (no package index)")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return next(out.glob("*.tar.gz")), next(out.glob("*.whl"))


def test_the_wheel_is_hpvm_migcheck_with_its_licence_and_the_migcheck_command(built):
    import zipfile

    _, wheel = built
    assert wheel.name.startswith("hpvm_migcheck-")
    names = zipfile.ZipFile(wheel).namelist()
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{info}/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "\nName: hpvm-migcheck\n" in metadata and "\nLicense-Expression: MIT\n" in metadata
    assert "migcheck = migcheck.cli:main" in zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    assert "migcheck/cli.py" in names and "migcheck/rules/dio.rules" in names
    assert not [n for n in names if n.startswith("tests/")]


def test_the_sdist_holds_the_licence_and_no_tests_that_cannot_run(built):
    """The suite needs the checkout (fixtures, golden files, bench, .ci): the sdist ships none of it
    rather than tests that fail; the built-in pack's own rule tests stay (package data)."""
    import tarfile

    sdist, _ = built
    names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    assert "LICENSE" in names and "pyproject.toml" in names and "README.md" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "fixtures/"))]
    assert "rules/tests/dio.yaml" in names and "engine/cli.py" in names


def test_the_readme_command_runs_from_the_built_wheel(built, tmp_path):
    """README's first command on the distribution as pip installs it (its dependencies are this
    environment's; .ci/run does the whole of it in a fresh environment): the `migcheck` script and
    package come from the wheel, the rules and schemas with them."""
    _, wheel = built
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                           "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    command = re.search(r"&& (migcheck check \S+ \S+ \S+)\n", (ROOT / "README.md").read_text()).group(1).split()
    env = {**os.environ, "PYTHONPATH": str(target)}
    ran = subprocess.run([str(target / "bin" / "migcheck"), *command[1:]], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=300)
    assert ran.returncode == 1 and ran.stdout.startswith("BLOCKED  sapapp01"), ran.stderr
    where = subprocess.run([sys.executable, "-c", "import migcheck; print(migcheck.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env)
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr
