"""`github` report: GitHub Actions workflow commands, one annotation per finding, for a CI log.

Each finding is a line `::error file=PATH,line=N,col=N,title=RULE: SUBJECT::MESSAGE Fix: FIX`
(`::warning` for a warning, `::notice` for a note; a rule that could not be evaluated is an
error). Escaped as the Actions toolkit escapes commands (`@actions/core` command.ts): in the
message `%` `\\r` `\\n` as `%25` `%0D` `%0A`, in a property also `:` `,` as `%3A` `%2C`; control
characters first shown as escapes (`\\x1b`), as in every format. PATH is relative to the source
root (`--source-root`, else the working directory), which is what the runner resolves.

A job shows few annotations (its summary and the pull request's diff keep the first few of each
kind): at most `MAX_ANNOTATIONS` lines, errors first, one per rule and guest (a guest that fails a
rule on many targets is one annotation saying on how many), then a notice that counts the rest and
names the reports that hold every finding.
"""

from __future__ import annotations

import io
import os

from ..core.vocabulary import ERROR_SEVERITY, FAIL, INFO, PROBLEMS, WARNING
from .common import plural, subject_text, terminal_safe

MAX_ANNOTATIONS = 50
# the workflow command of each kind of finding (GitHub's words)
COMMAND_ERROR, COMMAND_WARNING, COMMAND_NOTICE = "error", "warning", "notice"
_COMMAND = {ERROR_SEVERITY: COMMAND_ERROR, WARNING: COMMAND_WARNING, INFO: COMMAND_NOTICE}
_ORDER = (COMMAND_ERROR, COMMAND_WARNING, COMMAND_NOTICE)


def escape_data(text) -> str:
    """A command's message: control characters as escapes, then `%`, CR and LF as the toolkit writes them."""
    return terminal_safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text) -> str:
    """A command's property value: as `escape_data`, and `:` and `,` that would end it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **properties) -> str:
    """`::KIND k=v,k=v::MESSAGE`, every part escaped."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v not in (None, ""))
    return f"::{kind}{' ' + props if props else ''}::{escape_data(message)}"


def _path(path: str, root: str | None) -> str:
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, os.path.abspath(root or os.getcwd()))
    return absolute if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel.replace(os.sep, "/")


def _kind(r) -> str:
    return _COMMAND[r.severity] if r.status == FAIL else COMMAND_ERROR


def annotation(r, snapshot: str, root: str | None, more: int = 0) -> str:
    """The annotation of a finding; `more`: the guest's other findings of the rule it stands for."""
    kind = _kind(r)
    text = r.message if r.status == FAIL else f"rule could not be evaluated: {r.message}"
    if r.fix and r.status == FAIL:
        text += f" Fix: {r.fix}"
    if r.waiver:
        text += f" (waived until {r.waiver.get('expires')}: {r.waiver.get('reason')})"
    if more:
        text += f" (and {plural(more, 'more finding')} of {r.rule} for {r.subject.get('guest')})"
    where = r.location or (snapshot, None, None)
    return command(kind, text, file=_path(where[0], root) if where[0] else None, line=where[1], col=where[2],
                   title=f"{r.rule}: {subject_text(r)}")


class GithubWriter:
    """`github` of a matrix as it streams: the first annotation of each rule and guest kept per kind
    (with how many findings it stands for), the rest counted."""

    def __init__(self, report, out):
        self.report, self.out = report, out
        self.kept: dict[str, dict] = {kind: {} for kind in _ORDER}  # kind -> (rule, subject) -> [first, findings]
        self.counts = dict.fromkeys(_ORDER, 0)

    def feed(self, cells, results, found=None) -> None:
        for r in results:
            if r.status not in PROBLEMS:
                continue
            kind = _kind(r)
            self.counts[kind] += 1
            kept = self.kept[kind]
            s = r.subject
            key = (r.rule, s.get("guest") or s.get("host") or "", r.item if "target" not in s else "")
            if key in kept:
                kept[key][1] += 1
            elif len(kept) < MAX_ANNOTATIONS:
                kept[key] = [r, 1]

    def finish(self, report) -> None:
        shown = [x for kind in _ORDER for x in self.kept[kind].values()][:MAX_ANNOTATIONS]
        if sum(self.counts.values()) > sum(n for _, n in shown):
            shown = shown[:MAX_ANNOTATIONS - 1]  # the last line counts the rest
        lines = [annotation(r, report.snapshot_path, report.source_root, n - 1) for r, n in shown]
        left = {kind: total - sum(n for r, n in shown if _kind(r) == kind) for kind, total in self.counts.items()}
        if any(left.values()):
            counted = ", ".join(plural(n, word) for n, word in ((left[COMMAND_ERROR], "error"),
                                                                 (left[COMMAND_WARNING], "warning"),
                                                                 (left[COMMAND_NOTICE], "note")) if n)
            lines.append(command(COMMAND_NOTICE, (
                f"{counted} more not annotated (at most {MAX_ANNOTATIONS} annotations, errors first); every finding "
                "is in the JSON, JSON Lines and CSV reports (--format json:FILE)"), title="migcheck: more findings"))
        self.out.write("".join(line + "\n" for line in lines))


def render_github(report) -> str:
    out = io.StringIO()
    writer = GithubWriter(report, out)
    writer.feed((), report.results)
    writer.finish(report)
    return out.getvalue()
