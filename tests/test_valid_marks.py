"""A file found valid is marked so in the user's cache (files.cache, files.schemas): the same bytes are not
validated again; anything else (other bytes, another schema text, an invalid file, a mark that is not one we
wrote, the cache off) is validated as ever."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migcheck.core.diagnostics import LoadError
from migcheck.estate.snapshot import load_snapshot
from migcheck.files import resources, schemas

ROOT = Path(__file__).resolve().parent.parent
MIXED = ROOT / "fixtures" / "mixed-site.yaml"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def validations(monkeypatch):
    """Every run of the compiled validator, by schema name."""
    seen = []
    real = schemas._fast

    def counted(name):
        seen.append(name)
        return real(name)

    monkeypatch.setattr(schemas, "_fast", counted)
    return seen


def _copy(tmp_path, text: str | None = None) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(MIXED.read_text() if text is None else text)
    return path


def test_a_file_found_valid_is_not_validated_again(folder, tmp_path, validations):
    path = _copy(tmp_path)
    first = load_snapshot(str(path))
    assert validations == ["snapshot.schema.json"]
    assert len(list(folder.glob("mark-valid-*"))) == 1
    second = load_snapshot(str(path))
    assert validations == ["snapshot.schema.json"]  # the mark answered
    assert second.guests == first.guests and second.hosts == first.hosts and second.problems == first.problems


def test_other_bytes_are_validated_and_an_invalid_file_is_never_marked(folder, tmp_path, validations):
    path = _copy(tmp_path)
    load_snapshot(str(path))
    path.write_text(MIXED.read_text().replace("memory_mb:", "memory_mb_typo:", 1))  # one key misspelt
    for _ in range(2):
        with pytest.raises(LoadError) as exc:
            load_snapshot(str(path))
        assert any("memory_mb_typo" in str(p) for p in exc.value.problems)
    assert validations == ["snapshot.schema.json"] * 3
    assert len(list(folder.glob("mark-valid-*"))) == 1  # the first, valid text's only


def test_a_changed_schema_validates_the_file_again(folder, tmp_path, monkeypatch):
    path = _copy(tmp_path)
    load_snapshot(str(path))
    stricter = tmp_path / "schemas"
    stricter.mkdir()
    for name in ("snapshot.schema.json",):
        data = json.loads(resources.schema_path(name).read_text())
        data["required"] = [*data.get("required", []), "colour"]  # no snapshot has it
        (stricter / name).write_text(json.dumps(data))
    original = resources.schema_path
    monkeypatch.setattr(resources, "schema_path", lambda name: stricter / name)
    monkeypatch.setattr(schemas, "schema_path", lambda name: stricter / name)
    resources.schema.cache_clear()
    schemas._fast.cache_clear()
    schemas._full.cache_clear()
    try:
        with pytest.raises(LoadError) as exc:
            load_snapshot(str(path))
        assert "colour" in str(exc.value.problems[0])
    finally:
        monkeypatch.setattr(resources, "schema_path", original)
        resources.schema.cache_clear()
        schemas._fast.cache_clear()
        schemas._full.cache_clear()


def test_a_mark_that_is_not_a_file_we_wrote_is_not_trusted(folder, tmp_path, validations):
    path = _copy(tmp_path)
    load_snapshot(str(path))
    (mark,) = folder.glob("mark-valid-*")
    mark.unlink()
    (tmp_path / "elsewhere").write_text("")
    os.symlink(tmp_path / "elsewhere", mark)  # a link planted where the mark goes
    load_snapshot(str(path))
    assert validations == ["snapshot.schema.json"] * 2
    assert mark.is_symlink()  # not written through either


def test_no_mark_with_the_cache_off_or_unwritable(tmp_path, monkeypatch, validations):
    path = _copy(tmp_path)
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", "off")
    load_snapshot(str(path))
    load_snapshot(str(path))
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(blocked / "cache"))
    load_snapshot(str(path))
    load_snapshot(str(path))
    assert validations == ["snapshot.schema.json"] * 4


def test_a_check_of_a_marked_snapshot_imports_no_validator(tmp_path):
    """In a new process: the first check validates (and imports jsonschema_rs), the second does not."""
    path = _copy(tmp_path)
    code = ("import io, sys; from migcheck.cli import main; sys.stdout = io.StringIO(); "
            f"c = main(['check', {str(path)!r}, 'sapapp01', 'vsp-e2']); sys.stdout = sys.__stdout__; "
            "print(c, 'jsonschema_rs' in sys.modules)")
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                           cwd=ROOT).stdout for _ in range(2)]
    assert runs == ["1 True\n", "1 False\n"]
    shutil.rmtree(tmp_path / "cache")  # safe to delete: validated again
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                           cwd=ROOT).stdout
    assert again == "1 True\n"
