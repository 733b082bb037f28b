"""What goes to the terminal beside the reports: whether to colour, how wide, and the headline on
stderr when every report went to a file.

Colour (`--color auto|always|never`): `always` and `never` decide; `auto` colours a terminal,
except that `FORCE_COLOR` set and not empty forces colour (even in a pipe) and `NO_COLOR` set
and not empty turns it off (https://no-color.org: an empty value is as good as unset);
`FORCE_COLOR` wins over `NO_COLOR`, as in Node's and Python's own convention.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ..core.vocabulary import ERROR, ERROR_SEVERITY, INFO, WARNING
from ..report.common import headline as report_headline
from ..report.common import terminal_safe

_STDOUT = (None, "-", "/dev/stdout")


def colour_wanted(choice: str, stream, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the table written to `stream` is coloured (`--color`, FORCE_COLOR, NO_COLOR, a terminal)."""
    if choice == "always":
        return True
    if choice == "never" or stream is None:
        return False
    if environ.get("FORCE_COLOR", ""):
        return True
    if environ.get("NO_COLOR", ""):
        return False
    return is_terminal(stream)


def terminal_width(stream) -> int | None:
    """The terminal's columns when `stream` is a terminal; None in a pipe or a file (a fixed layout)."""
    if stream is None or not is_terminal(stream):
        return None
    import shutil  # only a terminal's width needs it (it imports zlib, bz2 and lzma: cold start)

    return shutil.get_terminal_size().columns


def is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a file
        return False


def to_files_only(targets: list[tuple[str, str | None]]) -> bool:
    """Whether every report of the run goes to a file (nothing to standard output)."""
    return bool(targets) and all(path not in _STDOUT for _, path in targets)


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def counts_line(summary: dict) -> str:
    """"2 errors, 1 warning, 0 notes, 0 rule errors" of a report's summary."""
    by = summary["failed_by_severity"]
    return (f"{_plural(by[ERROR_SEVERITY], 'error')}, {_plural(by[WARNING], 'warning')}, "
            f"{_plural(by[INFO], 'note')}, {_plural(summary[ERROR], 'rule error')}")


def headline(report, targets: list[tuple[str, str | None]]) -> str:
    """The lines for stderr when nothing went to stdout: the verdict, the counts, the files written,
    and the waiver notes (expired, unused, expiring)."""
    lines = [f"{report.verdict.upper()}  {terminal_safe(report_headline(report))}", counts_line(report.summary)]
    lines += [f"wrote {terminal_safe(path)} ({fmt})" for fmt, path in targets]
    lines += [f"waivers: {terminal_safe(note['message'])}" for note in report.waiver_notes]
    return "\n".join(lines) + "\n"


def print_headline(report, targets: list[tuple[str, str | None]], quiet: bool) -> None:
    """The headline on stderr when every report went to a file (not with `--quiet`)."""
    if quiet or report is None or not to_files_only(targets):
        return
    sys.stderr.write(headline(report, targets))
