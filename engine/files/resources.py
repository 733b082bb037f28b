"""Where the built-in rule pack and the schemas live, installed or in a source checkout."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the import package `migcheck`
_SOURCE_ROOT = _PACKAGE.parent


def _packaged(name: str) -> Path:
    installed = _PACKAGE / name  # where the wheel puts rules/ and schemas/
    return installed if installed.is_dir() else _SOURCE_ROOT / name


def builtin_rules_dir() -> Path:
    """The built-in rule pack (`rules/` in the source tree, `migcheck/rules` when installed)."""
    return _packaged("rules")


def schema_path(name: str) -> Path:
    return _packaged("schemas") / name


@cache
def schema(name: str) -> dict:
    """A JSON Schema shipped with migcheck, by file name (`snapshot.schema.json`)."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))
