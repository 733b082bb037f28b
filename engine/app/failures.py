"""On exit 2, the failure documents a CI job asked for: when `--format sarif:FILE` or
`--format junit:FILE` (or the format with `--output FILE`) was given, FILE is written saying the
run failed and why (SARIF `executionSuccessful: false` with the problems as notifications, JUnit
one `<error>` case), so the upload step finds a file and shows the real error."""

from __future__ import annotations

import argparse
import os
import sys

from ..core.diagnostics import LoadError, Problem
from ..core.records import replace
from ..core.words import path_text
from ..files.outputs import OutputError, identity, inside, write_output
from ..packs.config import find_config, load_config
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
    ident = identity(path)
    files = [getattr(args, name, None) for name in _INPUTS]
    files += getattr(args, "inputs", [])
    packs = list(getattr(args, "rules", None) or [])
    try:  # the configuration the run reads (--config, MIGCHECK_CONFIG, or found upward) and the packs it names
        found = find_config(getattr(args, "config", None))
        if found is not None:
            files.append(found[0])
            packs += _config_packs(found[0])
    except OSError:
        pass
    # the same file as `check_outputs` tells it: by device and inode (a hard link too), or a file not there by its path
    if any(isinstance(f, str) and identity(f) == ident for f in files):
        return True
    return any(inside(path, d) for d in packs if isinstance(d, (str, os.PathLike)))


def _config_packs(path: str) -> list[str]:
    """The pack folders a configuration names (`rules:`, relative to it), read as well as it can be: the run failed,
    perhaps on this very file, and a failure document must still not land in one of them."""
    try:
        return load_config(path).rules
    except (LoadError, OSError):  # a configuration that cannot be read names no pack to keep
        return []


_FAILURE = {"sarif": failure_sarif, "junit": failure_junit}


def write_failure_documents(args, problems: list) -> list[str]:
    """Write the failure documents the command line asked for; the files written."""
    written = []
    for fmt, path in failure_files(args):
        if _is_input(args, path):
            continue
        # (text from the command line, a file name's bytes that are not UTF-8 kept as surrogates, shown as U+FFFD)
        shown = [replace(p, **{k: path_text(getattr(p, k)) for k in ("file", "message", "help")
                               if isinstance(getattr(p, k, None), str)}) for p in problems]
        text = _FAILURE[fmt](shown, getattr(args, "command", "") or "")
        try:
            write_output(path, text)
        except OutputError as exc:  # the run has failed already: say so and go on
            print(f"migcheck: {exc}", file=sys.stderr)
            continue
        written.append(path)
    return written


def _options(argv: list[str], short: str, long: str) -> list[str]:
    """The values of an option in an argument list argparse refused (`-f X`, `-fX`, `--format X`, `--format=X`)."""
    out = []
    for n, a in enumerate(argv):
        if a in (short, long) and n + 1 < len(argv):
            out.append(argv[n + 1])
        elif a.startswith(long + "="):
            out.append(a[len(long) + 1:])
        elif a.startswith(short) and len(a) > len(short) and not a.startswith("--"):
            out.append(a[len(short):])
    return out


def write_usage_failure(argv: list[str], message: str, commands: list[str]) -> list[str]:
    """After a usage error argparse found: the failure documents the command line asked for, read from
    the words it was given (every other word counts as an input, never written over)."""
    outputs = _options(argv, "-o", "--output")
    args = argparse.Namespace(format=_options(argv, "-f", "--format"), output=outputs[-1] if outputs else None,
                              command=next((a for a in argv if a in commands), ""),
                              inputs=[a for a in argv if not a.startswith("-")])
    return write_failure_documents(args, [Problem("", 1, 1, message)])
