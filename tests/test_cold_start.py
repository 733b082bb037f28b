"""A start that costs nothing (issue 23, item 4): a command imports only what it uses, `--version` builds
no parser, and a warm cache parses and checks no rule pack. Behaviour, never time: the modules a
command left in `sys.modules` (in a new process), and what a cached load did not call."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from migcheck.packs import cache, ruleset

ROOT = Path(__file__).resolve().parent.parent
MIXED = str(ROOT / "fixtures" / "mixed-site.yaml")

# what a `check` on the fixture, written as a table, has no use for
NOT_FOR_A_TABLE_CHECK = (
    "ortools", "lark", "jsonschema", "xml.etree.ElementTree",
    "jsonschema_rs", "email.utils",  # the snapshot was found valid by the run that warmed the cache (files.cache)
    "migcheck.lang.parser",  # the cache holds the packs
    "migcheck.waves.place", "migcheck.waves.campaign", "migcheck.waves.plans", "migcheck.waves.questions",
    "migcheck.app.waves", "migcheck.app.campaign", "migcheck.app.explaining", "migcheck.app.ruletest",
    "migcheck.app.failures", "migcheck.app.tools", "migcheck.eval.explain", "migcheck.eval.waivers",
    "migcheck.report.html", "migcheck.report.sarif", "migcheck.report.junit", "migcheck.report.json_report",
    "migcheck.report.csv_report", "migcheck.report.markdown", "migcheck.report.github", "migcheck.report.gitlab",
    "migcheck.report.stream", "migcheck.report.catalogue",
    "tabulate", "importlib.metadata",  # a table of plain text is laid out by report.table itself
    "difflib",  # only a name that is not found asks for a close one
    "tempfile", "signal", "threading",  # only a file written (an output, a cache entry) needs them
    "shutil", "bz2", "lzma",  # only a terminal's width: argparse's help formatter measures it without them
    # no class of the check path is a dataclass (results, diagnostics, the report, builtins are written out
    # or `core.records`): `dataclasses` would import inspect, ast, dis and tokenize
    "dataclasses", "inspect", "ast", "dis",
    "linecache", "tokenize",  # only a diagnostic rendered from its file reads its line
    "pickle",  # a warm cache is read by the C unpickler (`_pickle`); `pickle` writes an entry
    "hashlib", "_hashlib",  # OpenSSL: CPython's own sha256 hashes a small snapshot, its own blake2b the cache keys
)

_PROBE = """
import io, json, sys
from migcheck.cli import main
out, sys.stdout = sys.stdout, io.StringIO()
code = main(sys.argv[1:])
sys.stdout = out
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(cache_dir: Path, *args: str) -> tuple[int, set[str]]:
    """The exit code of `migcheck ARGS` run in a new process, and the modules it had imported."""
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    return found["code"], set(found["modules"])


@pytest.fixture
def warm(tmp_path) -> Path:
    """A cache directory an earlier run has filled."""
    folder = tmp_path / "cache"
    assert _modules_after(folder, "check", MIXED, "sapapp01", "vsp-e2")[0] == 1
    return folder


def test_a_check_imports_only_what_it_uses(warm):
    code, modules = _modules_after(warm, "check", MIXED, "sapapp01", "vsp-e2")
    assert code == 1  # blocked, as always
    assert not [m for m in NOT_FOR_A_TABLE_CHECK if m in modules]
    assert {"migcheck.report.table", "migcheck.eval.engine"} <= modules


def test_a_part_is_imported_when_the_run_asks_for_it(warm, tmp_path):
    code, modules = _modules_after(warm, "check", MIXED, "sapapp01", "vsp-e2", "--waivers",
                                   str(ROOT / "fixtures" / "waivers.yaml"), "--format", "sarif")
    assert code == 1 and {"migcheck.eval.waivers", "migcheck.report.sarif"} <= modules
    assert "migcheck.report.html" not in modules and "migcheck.report.stream" not in modules
    code, modules = _modules_after(warm, "matrix", MIXED, "--guest", "sap*")
    assert "migcheck.report.stream" in modules and "migcheck.waves.questions" in modules
    assert "migcheck.waves.plans" not in modules and "ortools" not in modules


def test_a_failed_run_still_writes_the_failure_document_asked_for(warm, tmp_path):
    sarif = tmp_path / "out.sarif"
    code, modules = _modules_after(warm, "check", str(tmp_path / "absent.yaml"), "g", "t", "--format",
                                   f"sarif:{sarif}")
    assert code == 2 and "migcheck.app.failures" in modules
    assert json.loads(sarif.read_text())["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_version_builds_no_parser(monkeypatch, capsys):
    from migcheck import __version__, cli

    def refuse():
        raise AssertionError("--version built the argument parser")

    monkeypatch.setattr(cli, "build_parser", refuse)
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"migcheck {__version__}\n"


def test_version_imports_nothing_of_the_engine(tmp_path):
    code, modules = _modules_after(tmp_path, "--version")
    assert code == 0
    assert {m for m in modules if m.split(".")[0] == "migcheck"} <= {
        "migcheck", "migcheck.cli", "migcheck.core", "migcheck.core.vocabulary"}


# -- the checked packs' cache ----------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _shape(rules) -> list:
    """What a compiled rule is made from (its lookups by their variable and source node: closures differ)."""
    return [(r.id, r.severity, r.subject, r.pack, repr(r.rule), sorted(map(repr, r.reads)),
             [(lookup.var, repr(lookup.source_node), counted) for lookup, counted in r.lookups]) for r in rules.rules]


def _refuse(*args, **kwargs):
    raise AssertionError("parsed or checked again")


def test_a_warm_load_parses_and_checks_nothing_and_gives_the_same_rules(folder, monkeypatch):
    site = ROOT / "fixtures" / "site-rules"
    first = ruleset.load_rules([site])
    assert len(list(folder.glob("checked-*.pickle"))) == 1
    monkeypatch.setattr(ruleset, "check_rules", _refuse)
    monkeypatch.setattr(ruleset, "_parse", _refuse)
    second = ruleset.load_rules([site])
    assert _shape(second) == _shape(first) and second.digest == first.digest
    assert second.warnings == first.warnings and second.tables == first.tables
    assert {name: len(p.files) for name, p in zip("ab", second.packs)} == {
        name: len(p.files) for name, p in zip("ab", first.packs)}


def test_the_checker_s_types_come_back_for_the_same_nodes(folder):
    ruleset.check_packs([])
    fresh = ruleset._from_cache(ruleset._to_cache(ruleset.check_packs([])))  # through the entry's form
    for c in fresh.checked:
        nodes = ruleset._nodes(c.rule, {})
        assert c.types and set(c.types) <= set(nodes)


def test_a_changed_table_or_rule_file_is_checked_again(folder, tmp_path, monkeypatch):
    pack = tmp_path / "pack"
    (pack / "data").mkdir(parents=True)
    (pack / "site.rules").write_text('rule SITE-1 {\n  title "t"\n  severity warning\n  on guest\n  cite "c"\n'
                                     '  require count(data.sizes) > 0\n  message "m"\n}\n')
    (pack / "data" / "sizes.yaml").write_text("rows:\n  - {size: 1}\n")
    ruleset.load_rules([pack])
    (pack / "data" / "sizes.yaml").write_text("rows:\n  - {size: 2}\n")
    assert ruleset.load_rules([pack]).tables["sizes"] == [{"size": 2}]
    assert len(list(folder.glob("checked-*.pickle"))) == 2
    monkeypatch.setattr(ruleset, "check_rules", _refuse)
    ruleset.load_rules([pack])  # both are entries now


def test_a_corrupt_or_hostile_checked_entry_is_ignored(folder, monkeypatch):
    first = ruleset.load_rules([])
    (entry,) = folder.glob("checked-*.pickle")
    key = entry.name[len("checked-"):-len(".pickle")]
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated
    assert _shape(ruleset.load_rules([])) == _shape(first)

    class Call:  # an entry that would call a function of an allowed module when loaded
        def __reduce__(self):
            from migcheck.lang import ast
            return ast.children, ((),)

    entry.write_bytes(pickle.dumps((key, Call())))
    assert cache.load_checked(key) is None
    entry.write_bytes(pickle.dumps((key, [os.getcwd])))
    assert cache.load_checked(key) is None
    assert _shape(ruleset.load_rules([])) == _shape(first)


def test_the_checker_s_files_are_those_its_patterns_glob(tmp_path, monkeypatch):
    import shutil

    engine = tmp_path / "engine"
    shutil.copytree(cache._ENGINE, engine, ignore=shutil.ignore_patterns("__pycache__"))
    (engine / "lang" / ".hidden.py").write_text("")  # as Path.glob matches them
    (engine / "lang" / "notes.pyc").write_text("")
    (engine / "files" / "document.py").unlink()
    monkeypatch.setattr(cache, "_ENGINE", engine)
    globbed = {str(p) for pattern in cache.CHECKER_FILES for p in engine.glob(pattern)}
    assert set(cache._checker_paths()) == globbed and len(globbed) > 30
    assert str(engine / "lang" / ".hidden.py") in globbed and cache._checker_paths() == sorted(globbed)


@pytest.mark.parametrize("size", [0, 1, 1000, 512 * 1024, 512 * 1024 + 1, 3 * 1024 * 1024])
def test_the_snapshot_s_sha256_is_hashlib_s_at_every_size(size):
    import hashlib

    from migcheck.files.reader import sha256_hex

    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_the_cache_off_keeps_no_checked_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", "off")
    assert cache.checked_key([("a.rules", "x")]) is None
    ruleset.load_rules([])
