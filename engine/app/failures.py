"""On exit 2, the failure documents a CI job asked for: when `--format sarif:FILE` or
`--format junit:FILE` (or the format with `--output FILE`) was given, FILE is written saying the
run failed and why (SARIF `executionSuccessful: false` with the problems as notifications, JUnit
one `<error>` case), so the upload step finds a file and shows the real error."""

from __future__ import annotations

import os
import sys

from ..files.outputs import OutputError, write_output
from ..report.junit import failure_junit
from ..report.sarif import failure_sarif

_STDOUT = (None, "", "-", "/dev/stdout")


def failure_files(args) -> list[tuple[str, str]]:
    """(format, file) for each `sarif` or `junit` report the command line asked to write to a file."""
    specs = [spec.partition(":") for spec in (getattr(args, "format", None) or []) if isinstance(spec, str)]
    output = getattr(args, "output", None)
    out = []
    for fmt, _, path in specs:
        if not path and output and sum(1 for s in specs if not s[2]) == 1:
            path = output  # `--format sarif --output FILE`
        if fmt in ("sarif", "junit") and path not in _STDOUT:
            out.append((fmt, path))
    return out


_INPUTS = ("snapshot", "plan", "config", "waivers", "baseline")


def _is_input(args, path: str) -> bool:
    """Whether `path` is one of the run's inputs or lies in a rule pack: a failed run (perhaps failed for
    that very reason) must not write over it."""
    target = os.path.realpath(path)
    files = [getattr(args, name, None) for name in _INPUTS]
    if any(isinstance(f, str) and os.path.realpath(f) == target for f in files):
        return True
    return any(target.startswith(os.path.realpath(d) + os.sep) for d in getattr(args, "rules", None) or [])


_FAILURE = {"sarif": failure_sarif, "junit": failure_junit}


def write_failure_documents(args, problems: list) -> list[str]:
    """Write the failure documents the command line asked for; the files written."""
    written = []
    for fmt, path in failure_files(args):
        if _is_input(args, path):
            continue
        text = _FAILURE[fmt](problems, getattr(args, "command", "") or "")
        try:
            write_output(path, text)
        except OutputError as exc:  # the run has failed already: say so and go on
            print(f"migcheck: {exc}", file=sys.stderr)
            continue
        written.append(path)
    return written
