"""`migcheck fmt [--check] [--diff] DIR...`: rule files formatted canonically (`lang.fmt`).

Without options each file that changes is rewritten (atomically); `--check` changes nothing and
exits 1 when a file is not formatted; `--diff` changes nothing and prints what would change, as
a unified diff (exit 1 when something would). A file that does not parse exits 2 with its
diagnostics, and no file is written then.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from ..core.diagnostics import UsageError, render_all
from ..core.verdicts import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK
from ..files.outputs import OutputError, write_output
from ..files.document import LoadError
from ..files.reader import DEFAULT_MAX_BYTES, NOT_REGULAR, read_text, regular_file
from ..lang.diagnostics import diag
from ..lang.fmt import FormatError, format_rules


def rule_files(paths: list[str]) -> list[Path]:
    """The `.rules` files of each DIR (its own, not its subfolders'), or the file itself."""
    out = []
    for name in paths:
        path = Path(name)
        try:
            is_dir, is_file = path.is_dir(), path.is_file()
        except OSError:  # a folder on the way that cannot be read
            is_dir = is_file = False
        if is_dir:
            out.extend(sorted(path.glob("*.rules")))
        elif is_file:
            out.append(path)
        else:
            raise UsageError(f"`{name}` is neither a rule pack (a folder) nor a rule file")
    return out


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def cmd_fmt(args) -> int:
    files = rule_files(args.dirs)
    changed, problems = [], []
    for path in files:
        if not regular_file(path):  # a FIFO or a device in a pack would hold reading forever
            problems.append(diag(str(path), 1, 1, "unreadable", NOT_REGULAR, "put the rule file itself here"))
            continue
        try:  # every file that cannot be read is said, not only the first
            text, _ = read_text(str(path), DEFAULT_MAX_BYTES)
        except LoadError as exc:
            problems.extend(diag(p.file, p.line, p.col, "unreadable", p.message, p.help) for p in exc.problems)
            continue
        try:
            formatted = format_rules(text, str(path))
        except FormatError as exc:
            problems.extend(exc.diagnostics)
            continue
        if formatted != text:
            changed.append((path, text, formatted))
    if problems:
        print(render_all(problems), file=sys.stderr)
        print(f"migcheck: {_files(len({p.file for p in problems}))} cannot be formatted; nothing written",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.diff:
        for path, text, formatted in changed:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), formatted.splitlines(True),
                                                       f"{path}", f"{path} (formatted)"))
    if args.check or args.diff:
        for path, _, _ in changed:
            print(f"would reformat {path}", file=sys.stderr)
        print(f"{len(changed)} of {_files(len(files))} would be reformatted", file=sys.stderr)
        return EXIT_FINDINGS if changed else EXIT_OK
    for path, _, formatted in changed:
        try:
            write_output(str(path), formatted)
        except OutputError as exc:
            raise UsageError(str(exc)) from None
    print(f"{_files(len(changed))} reformatted, {len(files) - len(changed)} left unchanged", file=sys.stderr)
    return EXIT_OK
