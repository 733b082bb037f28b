from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(ROOT))  # for `bench.generate`


@pytest.fixture
def run_cli(capsys):
    """Run `migcheck ARGS...` in-process; return (exit code, stdout, stderr)."""
    from migcheck.cli import main

    def run(*args: str):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
