"""`github` report: GitHub Actions workflow commands, one annotation per finding, for a CI log.

Each finding is a line `::error file=PATH,line=N,col=N,title=RULE: SUBJECT::MESSAGE Fix: FIX`
(`::warning` for a warning, `::notice` for a note; a rule that could not be evaluated is an
error). Escaped as the Actions toolkit escapes commands (`@actions/core` command.ts): in the
message `%` `\\r` `\\n` as `%25` `%0D` `%0A`, in a property also `:` `,` as `%3A` `%2C`; control
characters first shown as escapes (`\\x1b`), as in every format. PATH is relative to the source
root (`--source-root`, else the working directory), which is what the runner resolves.

A step shows at most `PER_KIND` annotations of each kind (the runner keeps the first 10 errors, 10
warnings and 10 notices of a step and drops the rest without a word: actions/runner
`ExecutionContext._maxCountPerIssueType`), and cuts a message at `MAX_MESSAGE` characters
(`_maxIssueMessageLength`). So the output holds at most 10 lines of each kind, errors first, one
per rule and guest (a guest that fails a rule on many targets is one annotation saying on how
many), each message cut to fit with its count kept; then, when findings are left out, a notice
(one of the 10) counting them by kind and naming the reports that hold every finding.
"""

from __future__ import annotations

import io
import os
import sys

from ..core.vocabulary import ERROR_SEVERITY, FAIL, INFO, PROBLEMS, WARNING
from .common import plural, subject_text, terminal_safe

PER_KIND = 10  # annotations of one kind a step shows (actions/runner: `_maxCountPerIssueType`)
MAX_MESSAGE = 4096  # characters of a message the runner keeps (`_maxIssueMessageLength`)
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


def outside_root(report, fmt: str) -> None:
    """Say on stderr when the snapshot lies outside the source root: GitHub and GitLab place findings on files of the
    repository only, and its path is then written absolute."""
    where = _path(report.snapshot_path, report.source_root) if report.snapshot_path else ""
    if os.path.isabs(where):
        print(f"migcheck: warning: the {fmt} report names `{terminal_safe(where)}`, outside the source root "
              f"`{terminal_safe(os.path.abspath(report.source_root or os.getcwd()))}`: its findings are placed on no "
              "file of the repository; run from the repository or give --source-root", file=sys.stderr)


def _kind(r) -> str:
    """A failure by its severity, a rule that could not be evaluated an error; a waived failure a notice (it blocks
    nothing: as an error it took the few error annotations a step shows from blocking ones)."""
    if r.waiver is not None and r.status == FAIL:
        return COMMAND_NOTICE
    return _COMMAND[r.severity] if r.status == FAIL else COMMAND_ERROR


def _cut(value, width: int = 200) -> str:
    """A name or reason in an annotation's closing words, shown, at most `width` characters."""
    text = terminal_safe(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def annotation(r, snapshot: str, root: str | None, more: int = 0) -> str:
    """The annotation of a finding; `more`: the guest's other findings of the rule it stands for."""
    kind = _kind(r)
    text = r.message if r.status == FAIL else f"rule could not be evaluated: {r.message}"
    if r.fix and r.status == FAIL:
        text += f" Fix: {r.fix}"
    tail = ""
    if r.waiver:
        tail += f" (waived until {_cut(r.waiver.get('expires'))}: {_cut(r.waiver.get('reason'))})"
    if more:
        tail += f" (and {plural(more, 'more finding')} of {_cut(r.rule)} for {_cut(r.subject.get('guest'))})"
    text = terminal_safe(text)
    if len(text) + len(tail) > MAX_MESSAGE:  # the runner would cut the end, which says what it stands for
        text = text[:MAX_MESSAGE - len(tail) - 1] + "…"
    text += tail
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
            elif len(kept) < PER_KIND:
                kept[key] = [r, 1]

    def finish(self, report) -> None:
        shown = [x for kind in _ORDER for x in self.kept[kind].values()]
        if sum(self.counts.values()) > sum(n for _, n in shown) and len(self.kept[COMMAND_NOTICE]) == PER_KIND:
            shown.pop()  # the last notice makes room for the one that counts the rest
        lines = [annotation(r, report.snapshot_path, report.source_root, n - 1) for r, n in shown]
        left = {kind: total - sum(n for r, n in shown if _kind(r) == kind) for kind, total in self.counts.items()}
        if any(left.values()):
            counted = ", ".join(plural(n, word) for n, word in ((left[COMMAND_ERROR], "error"),
                                                                 (left[COMMAND_WARNING], "warning"),
                                                                 (left[COMMAND_NOTICE], "note")) if n)
            lines.append(command(COMMAND_NOTICE, (
                f"{counted} more not annotated (a step shows {PER_KIND} annotations of each kind: one per rule and "
                "guest, errors first); every finding is in the JSON, JSON Lines and CSV reports "
                "(--format json:FILE)"), title="migcheck: more findings"))
        self.out.write("".join(line + "\n" for line in lines))
        outside_root(report, "github")


def render_github(report) -> str:
    out = io.StringIO()
    writer = GithubWriter(report, out)
    writer.feed((), report.results)
    writer.finish(report)
    return out.getvalue()
