from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(ROOT))  # for `bench.generate`


YAML_BREAKS = "\r\n|\r|\n|\x85|\u2028|\u2029"


def assert_inside(text: str, line: int, col: int, breaks: str = YAML_BREAKS) -> None:
    """A reported position names a character of `text`, or the end of a line or of the file
    (lines end at `breaks`: YAML's line breaks by default)."""
    import re

    def inside(lines):
        return 1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]) + 1

    # YAML's own marks count every YAML line break; byte-level problems count "\n" only
    assert inside(re.split(breaks, text)) or inside(text.split("\n")), (line, col, text[:200])


@pytest.fixture
def run_cli(capsys):
    """Run `migcheck ARGS...` in-process; return (exit code, stdout, stderr)."""
    from migcheck.cli import main

    def run(*args: str):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
