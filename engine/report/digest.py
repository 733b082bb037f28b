"""One aggregation of a matrix's results, for batch and streamed runs alike.

Input: a matrix's cells and results, chunk by chunk (a streamed run) or all at once (a report
made in memory). Output: `chunk_findings` (what each pair fails on), `Tally` (the counts, cell
verdicts and the exit code's inputs) and `Digest` (what the documents for people show: bounded by
the snapshot and the caps on findings, never by the number of findings).
"""

from __future__ import annotations

from ..core.verdicts import counted_verdict, exit_code
from ..core.vocabulary import (BLOCKED, ERROR, ERROR_SEVERITY, FAIL, FAIL_ON, INFO, PROBLEMS, READY, SEVERITIES,
                               SEVERITY_RANK, STATUSES, UNKNOWN, WARNING)
from ..eval.baseline import gone
from .common import GRID_LIMIT, ROWS_PER_RULE, CellFindings, add_target_rows, guest_rows


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
        self.status = dict.fromkeys(STATUSES, 0)
        self.by_severity = {INFO: 0, WARNING: 0, ERROR_SEVERITY: 0}
        self.waived = self.total = 0
        self.cells = {READY: 0, BLOCKED: 0, UNKNOWN: 0}
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
            if previous is not None and status in PROBLEMS:
                fp = r.fingerprint
                if fp in previous:
                    r.baseline = "unchanged"
                    self.seen.add(fp)
                    self.unchanged += 1
                else:
                    r.baseline = "new"
                    self.new += 1
            if r.waiver is None:
                if status == FAIL:
                    self.by_severity[r.severity] += 1
                    if SEVERITY_RANK[r.severity] >= self.threshold:
                        self.failing = True
                        self.new_failing |= r.baseline == "new"
                elif status == ERROR:
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
        return counted_verdict(self.cells)

    def baseline(self, path: str) -> dict | None:
        """As `baseline.mark_results` writes it: counts, and the earlier findings that are gone."""
        if self.previous is None:
            return None
        return {"path": path, "new": self.new, "unchanged": self.unchanged, "resolved": gone(self.previous, self.seen)}

    def exit_code(self, only_new: bool = False) -> int:
        return exit_code(*((self.new_failing, self.new_errors) if only_new else (self.failing, self.errors)))


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
        self.target_rows: dict[str, dict] = {}  # target -> its counts (common.add_target_rows)
        self.rule_groups: dict[tuple[str, str], list] = {}  # (severity, rule) -> [first results, total]
        self.first_cap = first
        self.first: list = []  # the first `first` findings, in report order
        self.problems = 0
        # (rule, guest) -> [first, findings, targets, last target, findings new since the baseline]
        self.pairs: dict[tuple[str, str], list] = {}

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
            if r.status not in PROBLEMS:
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
                pair = self.pairs[key] = [r, 1, 0 if target is None else 1, target, 0]
            else:
                pair[1] += 1
                if target is not None and target != pair[3]:  # a guest's results come in target order
                    pair[2] += 1
                    pair[3] = target
            if r.baseline == "new":
                pair[4] += 1

    def _rows(self, cells, found) -> None:
        self.guest_rows.extend(guest_rows(cells, found))
        add_target_rows(self.target_rows, cells, found)

    def groups(self) -> list[tuple[str, list[tuple[str, list, int]]]]:
        """Findings by severity, then rule: (severity, [(rule id, first results, how many in all)])."""
        out = []
        for severity in SEVERITIES:
            rules = sorted((rule, shown, total) for (sev, rule), (shown, total) in self.rule_groups.items()
                           if sev == severity)
            if rules:
                out.append((severity, rules))
        return out
