"""Reports that stream: a matrix written guest by guest, in one pass, to every format asked for.

`Engine.iter_matrix` yields a chunk per guest (its cells and sorted results); `write_matrix`
feeds each chunk to one writer per output and forgets it, so memory grows with the snapshot
(per guest and per target), never with the number of findings. What each format does:

- json: streamed (results straight out once the matrix has told the verdict, which heads
  the document; cells through a spool file; the same bytes as a whole-report render).
- jsonl, csv, csv-cells: streamed, a line or row per result or cell. These and json can be
  written by several processes, each a share of the guests (`Helper`, `--jobs`).
- junit: streamed, a suite per guest (suites spooled: the totals head the document); it too
  can be written by several processes.
- sarif: at most 25,001 results kept, plus a summary per rule, guest and status (bounded
  by the snapshot), which it writes when the run has more than 25,000.
- table, markdown, html: summarised as they stream (`Digest`): the grid or a line per guest,
  and the findings by rule, the first of each rule only, with how many more.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time

from ..core.perf import collector_paused
from ..core.results import FAIL_ON, SEVERITY_RANK, cell_verdict
from .common import GRID_LIMIT, ROWS_PER_RULE, CellFindings, guest_rows


def chunk_findings(cells, results) -> dict[tuple[str, str], CellFindings]:
    """`cell_findings` of one chunk (one guest name): per (guest, target), its findings by role."""
    own = []
    by_pair: dict[tuple, list] = {}
    for r in results:
        s = r.subject
        if "target" in s:
            by_pair.setdefault((s.get("guest"), s["target"]), []).append(r)
        elif "guest" in s:
            own.append(r)
    base = CellFindings()
    for r in own:
        base.add(r)
    base.finish()
    out = {}
    made: dict[tuple, CellFindings] = {}  # what `CellFindings.add` reads of a pair's results -> its findings
    for c in cells:
        mine = by_pair.get((c.guest, c.target))
        if not mine:
            out[(c.guest, c.target)] = base  # shared: the writers only read it
            continue
        key = tuple((r.rule, r.status, r.severity, r.waiver is None) for r in mine)
        f = made.get(key)
        if f is None:
            f = base.copy()
            for r in mine:
                f.add(r)
            f = made[key] = f.finish()
        out[(c.guest, c.target)] = f  # shared as well
    return out


class Tally:
    """The counts of a streamed run: the summary, cell verdicts, the exit code's inputs, the baseline."""

    def __init__(self, fail_on: str, baseline: dict | None = None):
        self.status = {"fail": 0, "error": 0, "pass": 0, "notapplicable": 0}
        self.by_severity = {"info": 0, "warning": 0, "error": 0}
        self.waived = self.total = 0
        self.cells = {"ready": 0, "blocked": 0, "unknown": 0}
        self.threshold = FAIL_ON[fail_on]
        self.failing = self.errors = False  # at or above --fail-on; a rule error not waived
        self.new_failing = self.new_errors = False
        self.previous = baseline
        self.seen: set[str] = set()
        self.new = self.unchanged = 0

    def feed(self, cells, results) -> None:
        previous = self.previous
        for r in results:
            status = r.status
            self.status[status] += 1
            self.total += 1
            if r.waiver is not None:
                self.waived += 1
            if previous is not None and status in ("fail", "error"):
                fp = r.fingerprint
                if fp in previous:
                    r.baseline = "unchanged"
                    self.seen.add(fp)
                    self.unchanged += 1
                else:
                    r.baseline = "new"
                    self.new += 1
            if r.waiver is None:
                if status == "fail":
                    self.by_severity[r.severity] += 1
                    if SEVERITY_RANK[r.severity] >= self.threshold:
                        self.failing = True
                        self.new_failing |= r.baseline == "new"
                elif status == "error":
                    self.errors = True
                    self.new_errors |= r.baseline == "new"
        for c in cells:
            self.cells[c.verdict] += 1

    def state(self) -> dict:
        """The counts, for `merge` in another process (a run without a baseline)."""
        return {"status": self.status, "by_severity": self.by_severity, "waived": self.waived, "total": self.total,
                "cells": self.cells, "failing": self.failing, "errors": self.errors}

    def merge(self, state: dict) -> None:
        """Add the counts of a share of the guests that another process tallied (`state`)."""
        for key in ("status", "by_severity", "cells"):
            for name, n in state[key].items():
                getattr(self, key)[name] += n
        self.waived += state["waived"]
        self.total += state["total"]
        self.failing |= state["failing"]
        self.errors |= state["errors"]

    def summary(self) -> dict:
        out = dict(self.status)
        out["waived"] = self.waived
        out["failed_by_severity"] = dict(self.by_severity)
        out["total"] = self.total
        out["cells"] = dict(self.cells)
        return out

    def verdict(self) -> str:
        return cell_verdict(bool(self.cells["blocked"]), bool(self.cells["unknown"]))

    def baseline(self, path: str) -> dict | None:
        """As `baseline.mark_results` writes it: counts, and the earlier findings that are gone."""
        if self.previous is None:
            return None
        from ..eval.baseline import gone

        return {"path": path, "new": self.new, "unchanged": self.unchanged, "resolved": gone(self.previous, self.seen)}

    def exit_code(self, only_new: bool = False) -> int:
        failing, errors = (self.new_failing, self.new_errors) if only_new else (self.failing, self.errors)
        return 1 if failing else 3 if errors else 0


class Digest:
    """What the documents for people (table, Markdown, HTML) show of a matrix, gathered as it
    streams: bounded by the snapshot (a row per guest, a cell per pair only while the grid is
    narrow enough to draw) and by the caps on findings, never by the number of findings."""

    def __init__(self, first: int = 0):
        self.targets: set[str] = set()  # targets and current hosts: the grid's columns
        self.target_only: set[str] = set()
        self.grid_cells: list | None = []  # None once the grid is too wide to draw
        self.grid_found: dict = {}
        self.guest_rows: list[dict] = []
        self.rule_groups: dict[tuple[str, str], list] = {}  # (severity, rule) -> [first results, total]
        self.first_cap = first
        self.first: list = []  # the first `first` findings, in report order
        self.problems = 0
        self.pairs: dict[tuple[str, str], list] = {}  # (rule, guest) -> [first, findings, targets, last target]

    def feed(self, cells, results, found) -> None:
        for c in cells:
            self.targets.add(c.target)
            self.targets.add(c.source)
            self.target_only.add(c.target)
        if self.grid_cells is not None:
            if len(self.targets) > GRID_LIMIT:
                self.grid_cells = None
                self.grid_found = {}
            else:
                self.grid_cells.extend(cells)
                self.grid_found.update(found)
        self._rows(cells, found)
        for r in results:
            if r.status not in ("fail", "error"):
                continue
            self.problems += 1
            if len(self.first) < self.first_cap:
                self.first.append(r)
            group = self.rule_groups.get((r.severity, r.rule))
            if group is None:
                group = self.rule_groups[(r.severity, r.rule)] = [[], 0]
            if group[1] < ROWS_PER_RULE:
                group[0].append(r)
            group[1] += 1
            key = (r.rule, r.subject.get("guest") or "")
            target = r.subject.get("target")
            pair = self.pairs.get(key)
            if pair is None:
                self.pairs[key] = [r, 1, 0 if target is None else 1, target]
            else:
                pair[1] += 1
                if target is not None and target != pair[3]:  # a guest's results come in target order
                    pair[2] += 1
                    pair[3] = target

    def _rows(self, cells, found) -> None:
        self.guest_rows.extend(guest_rows(cells, found))

    def groups(self) -> list[tuple[str, list[tuple[str, list, int]]]]:
        """Findings by severity, then rule: (severity, [(rule id, first results, how many in all)])."""
        out = []
        for severity in ("error", "warning", "info"):
            rules = sorted((rule, shown, total) for (sev, rule), (shown, total) in self.rule_groups.items()
                           if sev == severity)
            if rules:
                out.append((severity, rules))
        return out


class Progress:
    """Guests done, on stderr, when it is a terminal and the run has taken more than a second."""

    DELAY = 1.0

    def __init__(self, total: int, enabled: bool, what: str = "guests"):
        self.total, self.enabled, self.what = total, enabled, what
        self.start = time.monotonic()
        self.done = 0
        self.bar = None
        self.task = None

    def advance(self, n: int = 1) -> None:
        if not self.enabled:
            return
        self.done += n
        if self.bar is None:
            if time.monotonic() - self.start < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn
            import sys

            self.bar = Bar(TextColumn("matrix"), BarColumn(), MofNCompleteColumn(), TextColumn(self.what),
                           TimeRemainingColumn(), console=Console(file=sys.stderr), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("matrix", total=self.total)
        self.bar.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def writer_for(fmt: str, report, out, *, color: bool = False, spool_dir: str | None = None):
    """A streaming writer of `fmt` for a matrix report: `feed(cells, results, found)`, then `finish()`."""
    if fmt == "json":
        from .json_report import JsonWriter
        return JsonWriter(report, out, spool_dir)
    if fmt == "jsonl":
        from .json_report import JsonLinesWriter
        return JsonLinesWriter(report, out)
    if fmt == "csv":
        from .csv_report import CsvWriter
        return CsvWriter(report, out)
    if fmt == "csv-cells":
        from .csv_report import CsvCellsWriter
        return CsvCellsWriter(report, out)
    if fmt == "junit":
        from .junit import JunitMatrixWriter
        return JunitMatrixWriter(report, out, spool_dir)
    if fmt == "sarif":
        from .sarif import SarifWriter
        return SarifWriter(report, out)
    return DigestWriter(fmt, report, out, color)


class DigestWriter:
    """table, markdown, html: a `Digest` while the run streams, the document at the end."""

    def __init__(self, fmt: str, report, out, color: bool):
        self.fmt, self.report, self.out, self.color = fmt, report, out, color
        self.digest = Digest(first=report.limit if fmt == "table" else 0)

    def feed(self, cells, results, found) -> None:
        self.digest.feed(cells, results, found)

    def finish(self) -> None:
        report = self.report
        report.digest = self.digest
        try:
            if self.fmt == "html":
                from .html import iter_html
                for piece in iter_html(report):
                    self.out.write(piece)
            elif self.fmt == "markdown":
                from .markdown import render_markdown
                self.out.write(render_markdown(report))
            else:
                from .table import render_table
                self.out.write(render_table(report, color=self.color))
        finally:
            report.digest = None


def write_matrix(report, chunks, outputs: list, *, progress: Progress | None = None, baseline: dict | None = None,
                 finish=None, jobs: int = 1, spool_dir: str | None = None) -> Tally:
    """Feed every chunk of `chunks` to a writer per output ((writer) list), then complete them.

    `finish(report, tally)` runs after the last chunk and before the writers complete: it
    sets what only the whole run knows (verdict, waiver notes, baseline). `jobs` > 1: other
    processes write later shares of the guests when every output can take a share written
    apart (`Helper`); the bytes are the same.
    """
    tally = Tally(report.fail_on, baseline)
    heads = [w for w in outputs if getattr(w, "wants_verdict", False)]
    if heads and hasattr(chunks, "verdict"):  # a document that states its verdict first: asked of the cells first
        report.verdict = chunks.verdict()
        for w in heads:
            w.start()
    helpers: list[Helper] = []
    try:
        if jobs > 1 and Helper.can_take(chunks, outputs, baseline):
            chunks, *theirs = chunks.split(jobs)
            for share in theirs:
                helpers.append(Helper(share, outputs, report.fail_on, spool_dir,
                                      progress is not None and progress.enabled))
        def poll() -> None:  # the guests the helpers have done, shown as they go
            for helper in helpers:
                helper.poll(progress)
        _feed(chunks, outputs, tally, progress, poll if helpers and progress is not None and progress.enabled
              else None)
        while helpers:
            helpers[0].join(outputs, tally, progress)
            helpers.pop(0)
    finally:
        for helper in helpers:
            helper.stop()
    if progress is not None:
        progress.close()
    report.__dict__["summary"] = tally.summary()
    report.verdict = tally.verdict()
    if finish is not None:
        finish(report, tally)
    for w in outputs:
        w.finish()
    return tally


def _feed(chunks, outputs: list, tally: Tally, progress: Progress | None, poll=None) -> None:
    # The writers build many small acyclic objects: the cycle collector would scan the snapshot
    # again and again for nothing. It runs on the young generation only, every 64 chunks, for the
    # few cycles there are (json.dumps of a waiver).
    with collector_paused():
        for n, (cells, results) in enumerate(chunks, 1):
            tally.feed(cells, results)  # first: it marks results new or unchanged against the baseline
            found = chunk_findings(cells, results)
            for w in outputs:
                w.feed(cells, results, found)
            if progress is not None:
                progress.advance(len({c.guest for c in cells}) or 1)
            if poll is not None:
                poll()
            if n % 64 == 0:
                gc.collect(0)


class _Reported:
    """A helper's progress: the guests done, sent down its pipe a line at a time, at most a few
    times a second (the first process shows them, `Helper.poll`)."""

    enabled = True

    def __init__(self, pipe: int):
        self.pipe = pipe
        self.done = 0
        self.sent = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.sent >= 0.25:
            _send(self.pipe, b"%d\n" % self.done)
            self.done, self.sent = 0, now


def _ended(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"signal {-code}" if code < 0 else f"exit {code}"


def _send(pipe: int, data: bytes) -> None:
    while data:
        data = data[os.write(pipe, data):]


class Helper:
    """Another process that writes a later share of a matrix's guests (os.fork: it starts with the
    engine as it is, the rules' shared outcomes included), each writer's part to spool files that
    the first process appends to its own output once it has written its share (`join`).

    Taken only where nothing but the writers' text and the counts come back: JSON, JSON Lines, CSV
    and JUnit outputs, no baseline to mark, no waiver to count (`can_take`). If the helper fails, its share
    is written here instead.
    """

    def __init__(self, chunks, outputs: list, fail_on: str, spool_dir: str | None, report_progress: bool = False):
        import tempfile

        self.chunks = chunks
        self.fail_on = fail_on
        self.report_progress = report_progress  # send the guests done as it goes (read only while a bar shows)
        self.pid = self.pipe = None  # no process (it could not start): `join` writes the share here
        self.data = bytearray()  # what the helper sent: a line per guests done, then its state (JSON)
        self.done = 0  # guests it has said it has done
        self.spools = []
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                try:
                    stream.flush()  # nothing buffered twice
                except (OSError, ValueError):
                    pass
        try:
            self.spools = [(tempfile.TemporaryFile("w+b", dir=spool_dir),
                            tempfile.TemporaryFile("w+b", dir=spool_dir)) for _ in outputs]
            read, write = os.pipe()
        except OSError:
            self._close()
            return
        try:
            self.pid = os.fork()
        except OSError:  # no process left to start, no memory: this share is written here
            os.close(read)
            os.close(write)
            self._close()
            return
        if self.pid == 0:  # pragma: no cover - the helper process (its output is checked byte for byte)
            os.close(read)
            self._run(outputs, write)
        os.close(write)
        os.set_blocking(read, False)  # `poll` reads what has come, `join` waits for the rest
        self.pipe = read

    @staticmethod
    def can_take(chunks, outputs: list, baseline) -> bool:
        """Whether shares of `chunks` can be written by other processes for these outputs."""
        if not hasattr(os, "fork") or not hasattr(chunks, "split") or baseline is not None:
            return False
        if chunks.matrix.engine.waivers is not None and chunks.matrix.engine.waivers.items:
            return False  # a waiver counts its uses as results are made: in one process
        return all(hasattr(w, "part") for w in outputs)

    def _run(self, outputs: list, pipe: int) -> None:  # pragma: no cover - in the helper process
        code = 1
        try:
            for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
                if sig is not None:
                    signal.signal(sig, signal.SIG_DFL)  # interrupted, it just ends; the first process cleans up
            parts = [w.part(spools) for w, spools in zip(outputs, self.spools)]
            tally = Tally(self.fail_on)
            _feed(self.chunks, parts, tally, _Reported(pipe) if self.report_progress else None)
            state = {"tally": tally.state(), "parts": [p.part_state() for p in parts],
                     "guests": len({g["name"] for g in self.chunks.guests})}
            _send(pipe, json.dumps(state).encode() + b"\n")
            code = 0
        except BaseException:  # noqa: BLE001 - the first process writes this share itself
            code = 1
        finally:
            os._exit(code)

    def join(self, outputs: list, tally: Tally, progress: Progress | None) -> None:
        """Wait for the helper and append its share; write the share here if it failed."""
        if self.pid is None:
            _feed(self.chunks, outputs, tally, progress)
            return
        os.set_blocking(self.pipe, True)
        while True:
            piece = os.read(self.pipe, 1 << 16)
            if not piece:
                break
            self.data += piece
        os.close(self.pipe)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        lines = [line for line in bytes(self.data).split(b"\n") if line]
        state = json.loads(lines.pop()) if lines and lines[-1].startswith(b"{") \
            and os.waitstatus_to_exitcode(status) == 0 else None
        self._shown(lines, progress)
        if state is None:
            print(f"migcheck: note: a helper process (--jobs) ended without its share ({_ended(status)}); "
                  "the first process wrote it", file=sys.stderr)
            self._close()
            if progress is not None:
                progress.advance(-self.done)  # shown as the helper went: shown again as they are written here
            _feed(self.chunks, outputs, tally, progress)
            return
        tally.merge(state["tally"])
        for w, part, spools in zip(outputs, state["parts"], self.spools):
            w.absorb(part, spools)
        self._close()
        if progress is not None:
            progress.advance(state["guests"] - self.done)

    def poll(self, progress: Progress) -> None:
        """Show the guests the helper has reported done so far (without waiting for it)."""
        if self.pid is None:
            return
        try:
            piece = os.read(self.pipe, 1 << 16)
        except BlockingIOError:
            return
        self.data += piece
        *lines, rest = bytes(self.data).split(b"\n")
        if lines and not lines[-1].startswith(b"{"):
            self._shown(lines, progress)
            self.data = bytearray(rest)

    def _shown(self, lines: list, progress: Progress | None) -> None:
        for line in lines:
            if line.isdigit():
                self.done += int(line)
                if progress is not None:
                    progress.advance(int(line))

    def stop(self) -> None:
        """The first process failed or was interrupted: end the helper, remove its spools."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = None
            os.close(self.pipe)
        self._close()

    def _close(self) -> None:
        for spools in self.spools:
            for spool in spools:
                spool.close()
        self.spools = []
