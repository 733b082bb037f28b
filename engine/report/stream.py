"""Reports that stream: a matrix written guest by guest, in one pass, to every format asked for.

`Engine.iter_matrix` yields a chunk per guest (its cells and sorted results); `write_matrix`
feeds each chunk to one writer per output and forgets it, so memory grows with the snapshot
(per guest and per target), never with the number of findings. What each format does:

- json: streamed (results straight out once the matrix has told the verdict, which heads
  the document; cells through a spool file; the same bytes as a whole-report render).
- jsonl, csv, csv-cells: streamed, a line or row per result or cell. These and json can be
  written by several processes, each a share of the guests (`Helper`, `--jobs`): a helper's share is
  appended to the report file as the helper writes it. The first process makes every guest's row of
  cells first (which also tells a JSON head its verdict), then writes the first guests (`WARM`) before
  the helpers start: they inherit the rows, and the outcomes and text classes those guests fill.
- junit: streamed, a suite and a case per guest (suites spooled: the totals head the
  document); it too can be written by several processes.
- sarif: per level the first 5,001 results kept, plus their folds per rule and guest, rule and
  target, and rule (bounded by the snapshot); it writes what fits in 5,000.
- github: the first 50 annotations of each kind kept, the rest counted; gitlab: streamed.
- table, markdown, html: summarised as they stream (`Digest`): the grid or a line per guest,
  and the findings by rule, the first of each rule only, with how many more. When they are all
  the outputs (and no baseline or waiver is in play), the digest comes from the matrix's shared
  rows instead, and only the results they list are made (`digest.digest_from_rows`).

When every output stamps (json, jsonl, csv, csv-cells, junit) and no baseline or waiver is in play,
a guest comes unmade (`Matrix.stamp_walk`): its cells as its row of shared labels (`GuestCells`),
its results as (text class entry, outcome index) units (`GuestStamps`), each stamped from its
class's template for the guest (`common.StampShape`, `common.stamped_guest`), and their counts
(`GuestCounts`); a cell's findings come from its label (`common.LabelFindings`). The bytes are
those of the results made one by one (tests/test_stamp_path.py). When every output takes cells only
(csv-cells), a guest's results are counted from the shared rows, none made (`Matrix.count_walk`).
"""

from __future__ import annotations

import gc
import json
import math
import os
import signal
import sys
import tempfile
import time

from ..core.perf import collector_paused
from ..files.outputs import can_take_early, spool_size
from .common import LabelFindings
from .digest import Digest, Tally, chunk_findings, digest_from_rows, from_rows  # noqa: F401  (re-exported)
from .model import Tail
from .formats import FORMATS


EARLY = 16 << 20  # a helper's share is taken as it is written (`Helper.join`) this many bytes at a time
# Appending a helper's share (the kernel copying its spool, `Helper.join`) takes about this part of the time
# writing it took: 2 to 3 s for the 1.5 GB of JSON written in 19 s, at 200 x 10,000 (`bench_reports`).
APPENDED = 0.12
# With other processes, the first process writes this part of the guests (the start of its share) before they start:
# they inherit the outcomes, text classes and templates those guests fill (a class's first guest pays for it),
# instead of each filling them again (the classes most guests meet come first). At 200 x 10,000, the first 2%
# (200 guests) fill 29% of the text classes (10,341 of 35,251) and 34% of the rules' class outcomes.
WARM = 0.02


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
            from rich.progress import BarColumn, MofNCompleteColumn
            from rich.progress import Progress as Bar
            from rich.progress import TextColumn, TimeRemainingColumn

            self.bar = Bar(TextColumn("matrix"), BarColumn(), MofNCompleteColumn(), TextColumn(self.what),
                           TimeRemainingColumn(), console=Console(file=sys.stderr), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("matrix", total=self.total)
        self.bar.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def writer_for(fmt: str, report, out, *, color: bool = False, width: int | None = None,
               spool_dir: str | None = None):
    """A streaming writer of `fmt` for a matrix report: `feed(cells, results, found)`, then `finish()`."""
    writer = FORMATS[fmt].matrix_writer()
    if writer is None:
        return DigestWriter(fmt, report, out, color, width)
    return writer(report, out, spool_dir) if FORMATS[fmt].spools else writer(report, out)


class DigestWriter:
    """table, markdown, html: a `Digest` while the run streams, the document at the end."""

    def __init__(self, fmt: str, report, out, color: bool, width: int | None = None):
        self.fmt, self.report, self.out, self.color, self.width = fmt, report, out, color, width
        self.digest = Digest(first=report.limit if fmt == "table" else 0)

    def feed(self, cells, results, found) -> None:
        self.digest.feed(cells, results, found)

    def take(self, digest) -> None:
        """The run's digest, made from the matrix's shared rows (`digest_from_rows`) instead of fed."""
        self.digest = digest

    def finish(self, report) -> None:
        for piece in FORMATS[self.fmt].pieces(report.with_digest(self.digest), color=self.color, width=self.width):
            self.out.write(piece)


def write_matrix(report, chunks, outputs: list, *, progress: Progress | None = None, baseline: dict | None = None,
                 finish=None, jobs: int = 1, spool_dir: str | None = None) -> Tally:
    """Feed every chunk of `chunks` to a writer per output ((writer) list), then complete them.

    `finish(tally)` runs after the last chunk and before the writers complete: it gives what
    only the whole run knows besides the counts (waiver notes, baseline marks), and the writers
    finish with the report completed by them (`Report.completed`). `jobs` > 1: other
    processes write later shares of the guests when every output can take a share written
    apart (`Helper`); the bytes are the same.
    """
    tally = Tally(report.fail_on, baseline)
    heads = [w for w in outputs if getattr(w, "wants_verdict", False)] if hasattr(chunks, "verdict") else []
    if from_rows(chunks, outputs, baseline):  # documents for people only: their digest from the shared rows
        digest = digest_from_rows(chunks, tally, max(w.digest.first_cap for w in outputs),
                                  report.limit if any(w.fmt == "table" for w in outputs) else 0, progress)
        for w in outputs:
            w.take(digest)
        return _finished(report, outputs, tally, progress, finish)
    helpers: list[Helper] = []
    known = None  # the verdict of every guest's cells, when asked before the guests are shared out
    try:
        if jobs > 1 and Helper.can_take(chunks, outputs, baseline):
            # every guest's row made here first (`Matrix.verdict` keeps them for the walks), which the other
            # processes inherit: a class of guests met in two shares was evaluated in both (at 200 x 2,000, CSV
            # in two processes ran 1.32x the instructions of one); then the first guests written here before the
            # other processes start, which inherit the classes they fill; the rest shared out
            whole = chunks
            known = whole.verdict()
            warm, rest = chunks.head(math.ceil(WARM * len(chunks.guests)))
            chunks, *theirs = rest.split(jobs, APPENDED)
            if not theirs:  # too few guests to share
                chunks = whole
            else:
                for w in outputs:
                    if hasattr(w, "sharing"):
                        w.sharing()  # what it would keep for its end, done as it goes: the end is what the run waits for
                if heads:
                    _started(heads, report, known)
                _feed(warm, outputs, tally, progress)
            for share in theirs:
                helpers.append(Helper(share, outputs, report.fail_on, spool_dir,
                                      progress is not None and progress.enabled))
        if heads and not helpers:  # a document that states its verdict first: asked of the cells first
            _started(heads, report, known if known is not None else chunks.verdict())
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
    return _finished(report, outputs, tally, progress, finish)


def _started(heads: list, report, verdict: str) -> None:
    """Writers whose document states the verdict first, started with it."""
    headed = report.with_verdict(verdict)
    for w in heads:
        w.start(headed)


def _finished(report, outputs: list, tally: Tally, progress: Progress | None, finish) -> Tally:
    """Every output completed with the report as the whole run knows it."""
    if progress is not None:
        progress.close()
    notes, marks = finish(tally) if finish is not None else ([], None)
    final = report.completed(Tail(tally.verdict(), tally.summary(), notes, marks))
    for w in outputs:
        w.finish(final)
    return tally


def _feed(chunks, outputs: list, tally: Tally, progress: Progress | None, poll=None) -> None:
    # The writers build many small acyclic objects: the cycle collector would scan the snapshot
    # again and again for nothing. It runs on the young generation only, every 64 chunks, for the
    # few cycles there are (json.dumps of a waiver); what the walk keeps (its text classes) is then
    # moved out of the young generations (`collector_paused(kept=True)`). A stamping walk (no waiver,
    # no baseline) makes no such cycles (247 objects collected in all at 200 x 2,000): it runs without,
    # for each young collection scans what the walk kept since the last (the classes, 0.67 s at
    # 200 x 10,000 in 156 collections, and nothing found).
    # With no baseline and no waiver in play, writers that can stamp a text class's results from its
    # template take a guest's results unmade (`GuestStamps`), counted as they are, and each cell's
    # findings from its label: the same bytes, without a `Result` per finding.
    # Writers of cells only (`cells_only`) take a guest's results counted from the shared rows, none made
    # (`MatrixChunks.counted`).
    stamping = tally.previous is None and all(hasattr(w, "feed_stamps") for w in outputs) \
        and hasattr(chunks, "can_stamp") and chunks.can_stamp()
    findings = LabelFindings(chunks.matrix.rules_of) if stamping else None
    walk = (chunks.counted() if all(getattr(w, "cells_only", False) for w in outputs) else chunks.stamped()) \
        if stamping else chunks
    with collector_paused(kept=True):
        for n, (cells, results, *counts) in enumerate(walk, 1):
            if stamping:  # a guest: `GuestCells`, `GuestStamps` (None: cells only), `GuestCounts`
                tally.feed_counted(counts[0], cells.verdicts())
                for w in outputs:
                    w.feed_stamps(cells, results, findings)
            else:
                tally.feed(cells, results)  # first: it marks results new or unchanged against the baseline
                found = chunk_findings(cells, results)
                for w in outputs:
                    w.feed(cells, results, found)
            if progress is not None:
                progress.advance(1 if stamping else len({c.guest for c in cells}) or 1)
            if poll is not None:
                poll()
            if n % 64 == 0 and not stamping:
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
    is written here instead. Every guest's row of cells was made before the fork (`write_matrix`): the
    helper walks its share from them.
    """

    def __init__(self, chunks, outputs: list, fail_on: str, spool_dir: str | None, report_progress: bool = False):
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
        # a report file takes the share's bytes as the helper writes them (`absorb_early`), so that little is
        # left to append once it ends; if it then fails, the file is cut back to where its share began
        early = [w if hasattr(w, "absorb_early") and can_take_early(w.out) else None for w in outputs]
        marks = [w.out.mark() if w is not None else None for w in early]
        taken = [0] * len(outputs)
        os.set_blocking(self.pipe, not any(early))
        while True:
            try:
                piece = os.read(self.pipe, 1 << 16)
            except BlockingIOError:  # the helper is still writing: take what it has written, then look again
                if not self._take_early(early, taken):
                    time.sleep(0.05)
                continue
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
            for w, mark in zip(early, marks):
                if mark is not None:
                    w.out.rewind(mark)
            self._close()
            if progress is not None:
                progress.advance(-self.done)  # shown as the helper went: shown again as they are written here
            _feed(self.chunks, outputs, tally, progress)
            return
        tally.merge(state["tally"])
        for w, part, spools, start in zip(outputs, state["parts"], self.spools, taken):
            w.absorb(part, spools, start)
        self._close()
        if progress is not None:
            progress.advance(state["guests"] - self.done)

    def _take_early(self, early: list, taken: list) -> bool:
        """Append to each output of `early` (None: not this one) what the helper has written to its spool
        past `taken[i]`, when that is `EARLY` bytes or more; whether anything was."""
        took = False
        for i, (w, spools) in enumerate(zip(early, self.spools)):
            if w is not None and spool_size(spools[0]) - taken[i] >= EARLY:
                taken[i] = w.absorb_early(spools, taken[i])
                took = True
        return took

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
