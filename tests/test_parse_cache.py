"""The parse cache (packs.cache): the same rules from a cached parse, nothing trusted that it did not write."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from migcheck.packs import cache
from migcheck.packs.ruleset import load_rules

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _shape(ruleset) -> list:
    return [(r.id, r.severity, r.subject, repr(r.rule), sorted(map(repr, r.reads))) for r in ruleset.rules]


def test_a_cached_parse_gives_the_same_rules(folder):
    first = load_rules([ROOT / "fixtures" / "site-rules"])
    entries = sorted(folder.glob("parse-*.pickle"))
    assert len(entries) == len(list((ROOT / "rules").glob("*.rules"))) + len(list((ROOT / "fixtures" / "site-rules").glob("*.rules")))
    stamps = [e.stat().st_mtime_ns for e in entries]
    second = load_rules([ROOT / "fixtures" / "site-rules"])
    assert _shape(second) == _shape(first) and second.digest == first.digest
    assert [e.stat().st_mtime_ns for e in entries] == stamps  # read, not written again


def test_a_cache_hit_imports_no_lark(folder):
    code = "import sys; from migcheck.packs.ruleset import load_rules; load_rules([]); print('lark' in sys.modules)"
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(folder)}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs == ["True\n", "False\n"]  # parsed (and kept) the first time, read from the cache the second


def test_syntax_errors_come_back_from_the_cache_too(folder, tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "bad.rules").write_text("rule X-1 {\n  title \"t\"\n  require (\n}\n")
    messages = []
    for _ in range(2):
        with pytest.raises(Exception) as exc:
            load_rules([pack], builtin=False)
        messages.append(str(exc.value))
    assert messages[0] == messages[1] and "bad.rules:" in messages[0]


def test_a_corrupt_or_foreign_entry_is_ignored_and_never_run(folder, tmp_path):
    load_rules([])
    entries = sorted(folder.glob("parse-*.pickle"))
    entries[0].write_bytes(b"\x80\x05not a pickle")
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))
    entries[1].write_bytes(pickle.dumps(("x", Evil(), [])))
    entries[2].write_bytes(entries[2].read_bytes()[:40])  # truncated
    again = load_rules([])
    assert not marker.exists()
    assert len(again.rules) == len(load_rules([]).rules)
    assert cache.load("anything", "f") is None


def test_off_writes_nothing_and_an_unwritable_folder_is_no_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", "off")
    assert cache.cache_dir() is None
    load_rules([])
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(blocked / "cache"))
    assert load_rules([]).rules


def test_another_version_or_parser_is_another_entry(folder, monkeypatch):
    cache.store("text", "f.rules", "parsed", [])
    assert cache.load("text", "f.rules") == ("parsed", [])
    assert cache.load("text", "g.rules") is None  # spans name the file: another file is another entry
    monkeypatch.setattr(cache, "_KEY_PREFIX", b"9.9.9\0other\0")
    assert cache.load("text", "f.rules") is None


def test_the_checked_packs_key_covers_the_code_a_check_runs(tmp_path, monkeypatch):
    """Editing what the checker's messages and the cached data tables come from (core words and diagnostics,
    the packs' readers, the document parser) makes another key: never old warnings from a dev install."""
    import shutil

    from migcheck.packs import cache

    engine = tmp_path / "engine"
    shutil.copytree(cache._ENGINE, engine, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_ENGINE", engine)
    before = cache._checker_digest()
    for name in ("core/words.py", "core/diagnostics.py", "core/keys.py", "packs/config.py", "files/document.py"):
        path = engine / name
        original = path.read_text()
        path.write_text(original + "\n# edited\n")
        assert cache._checker_digest() != before, name
        path.write_text(original)
    assert cache._checker_digest() == before
