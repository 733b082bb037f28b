"""One aggregation of a matrix's results, for batch and streamed runs alike.

Input: a matrix's cells and results, chunk by chunk (a streamed run) or all at once (a report
made in memory). Output: `chunk_findings` (what each pair fails on), `Tally` (the counts, cell
verdicts and the exit code's inputs) and `Digest` (what the documents for people show: bounded by
the snapshot and the caps on findings, never by the number of findings).

When every output is such a document, no baseline is marked and no waiver is in play (`from_rows`),
the digest and the counts come from the matrix's shared rows instead (`digest_from_rows`, a
`RowDigest`): cells counted per shared row, results counted per rule (`eval.tally`) and made only for
the findings the documents list; the same bytes, without making every finding. With a baseline or
waivers every result is made, as before.
"""

from __future__ import annotations

from collections import Counter

from ..core.perf import collector_paused
from ..core.results import Cell, sort_results
from ..core.verdicts import counted_verdict, exit_code
from ..core.vocabulary import (BLOCKED, ERROR, ERROR_SEVERITY, FAIL, FAIL_ON, INFO, PROBLEMS, READY, SEVERITIES,
                               SEVERITY_RANK, STATUSES, UNKNOWN, WARNING)
from ..eval.baseline import gone, unchanged
from ..eval.tally import Tallies
from .common import GRID_LIMIT, ROWS_PER_RULE, CellFindings, LabelFindings, add_target_rows, guest_rows


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
        self.new_failing = False
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
                if unchanged(previous, r):
                    r.baseline = "unchanged"
                    self.seen.add(r.fingerprint)
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
        for c in cells:
            self.cells[c.verdict] += 1

    def feed_counted(self, counts, verdicts: dict) -> None:
        """`feed` of one guest's results counted (`eval.tally.GuestCounts`) and how many of its cells have each
        verdict, with no waiver and no baseline in play."""
        failed = 0
        for severity, n in counts.failed.items():
            self.by_severity[severity] += n
            failed += n
            if n and SEVERITY_RANK[severity] >= self.threshold:
                self.failing = True
        self.status[FAIL] += failed
        self.status[ERROR] += counts.errors
        self.total += failed + counts.errors
        self.errors |= counts.errors > 0
        for verdict, n in verdicts.items():
            self.cells[verdict] += n

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
        # (--fail-on-new counts new failures only; a rule that could not be evaluated is unknown whatever the
        # baseline says: a baseline does not make unknown ready, as a waiver does not)
        return exit_code(self.new_failing if only_new else self.failing, self.errors)


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

    def listed_pairs(self, limit: int) -> tuple[list, int]:
        """The first `limit` (rule, guest) pairs in order, each with its [first result, findings, targets,
        last target, findings new since the baseline]; and how many pairs there are in all."""
        keys = sorted(self.pairs)
        return [(key, self.pairs[key]) for key in keys[:limit]], len(keys)

    def groups(self) -> list[tuple[str, list[tuple[str, list, int]]]]:
        """Findings by severity, then rule: (severity, [(rule id, first results, how many in all)])."""
        out = []
        for severity in SEVERITIES:
            rules = sorted((rule, shown, total) for (sev, rule), (shown, total) in self.rule_groups.items()
                           if sev == severity)
            if rules:
                out.append((severity, rules))
        return out


# -- the digest from a matrix's shared rows ------------------------------------------------------
class RowDigest(Digest):
    """The `Digest` of a streamed matrix taken from its shared rows (`digest_from_rows`): the same
    counts, rows and listings, its results made only for what the documents list (the first `first`
    findings, the first ROWS_PER_RULE of each rule, the first result of the first `pairs` (rule, guest)
    pairs) instead of for every finding. `pairs` holds only the listed pairs (`listed_pairs`)."""

    def __init__(self, first: int = 0, pairs: int = 0):
        super().__init__(first)
        self.pairs_cap = pairs
        self.pair_count = 0  # (rule, guest) pairs with findings, listed or not
        self.listed: list = []  # ((rule, guest), [first result, findings, targets, None, 0]) in order

    def listed_pairs(self, limit: int) -> tuple[list, int]:
        return self.listed[:limit], self.pair_count


def from_rows(chunks, outputs: list, baseline) -> bool:
    """Whether every output is a document for people drawn from a digest and the digest can come from
    the matrix's shared rows: no baseline to mark results against and no waiver that decides results
    pair by pair (both need every result: those runs make them all, as before), and a matrix whose
    results come in order (distinct rule ids and target names)."""
    matrix = getattr(chunks, "matrix", None)
    return (bool(outputs) and baseline is None and matrix is not None and hasattr(chunks, "groups")
            and matrix.engine.waivers is None and matrix.in_order
            and all(callable(getattr(w, "take", None)) for w in outputs))


def digest_from_rows(chunks, tally: Tally, first: int = 0, pairs: int = 0, progress=None) -> RowDigest:
    """The digest of `chunks` (an `Engine.iter_matrix`) with `first` and `pairs` as the table's caps,
    counted into `tally` as `write_matrix` counts results: from the shared rows of cells and the
    results' counts per rule (`eval.tally`), guest by guest; a chunk of several guests of one name, or
    of a guest without a host (its results sorted together), from its results, made as before."""
    feed = _RowFeed(chunks.matrix, Tallies(chunks.matrix), RowDigest(first, pairs), tally)
    feed.start(chunks.guests)
    groups = list(chunks.groups())
    with collector_paused(kept=True):  # the matrix's classes and rows, the counts: kept, nothing for it to find
        for index, (guests, merged) in enumerate(groups):
            if merged:
                feed.made(index, guests)
            else:
                feed.counted(index, guests[0])
            if progress is not None:
                progress.advance(1)
    return feed.finish(groups)


class _RowFeed:
    """What `digest_from_rows` gathers as it goes: the digest, and the counts it takes in at the end."""

    def __init__(self, matrix, tallies, digest: RowDigest, tally: Tally):
        self.matrix, self.tallies, self.digest, self.tally = matrix, tallies, digest, tally
        self.names = tallies.names
        self.position = {name: j for j, name in enumerate(self.names)}
        self.failed: dict = {}  # severity -> failed results of the counted chunks
        self.errors = 0
        self.cells = {READY: 0, BLOCKED: 0, UNKNOWN: 0}
        self._cell_findings = LabelFindings(tallies.rules_of)  # a shared cell's CellFindings
        self.rows: dict = {}  # id(row) -> (row, [guests], its cells counted) over every target position
        self.mine: dict = {}  # (id(row), host) -> (the guest's cells counted: verdicts, why, ready targets)
        self.off: dict = {}  # (id(row), host position) -> guests on that host with that row (no cell there)
        self.totals: dict = {}  # (severity, rule) -> findings
        self.by_rule: dict = {}  # rule -> [(rule, guest) pairs, its first `pairs` as [guest, chunk, n, targets]]
        self.wanted: dict = {}  # chunk -> rules whose results it lists (None: every rule)

    def start(self, guests: list[dict]) -> None:
        """The grid's columns (targets, and current hosts), known before: drawn only while narrow enough."""
        names, d = self.names, self.digest
        with_cells = [g["host"] for g in guests if len(names) > 1 or (names and names[0] != g["host"])]
        on = Counter(with_cells)
        d.target_only = {t for t in names if len(with_cells) > on.get(t, 0)}
        d.targets = d.target_only | set(with_cells)
        if len(d.targets) > GRID_LIMIT:
            d.grid_cells = None

    # -- a chunk of one guest, counted ------------------------------------------------------------
    def counted(self, index: int, guest: dict) -> None:
        row, counts = self.tallies.guest(guest)
        own, name = guest["host"], guest["name"]
        mine = self._mine(row, own)
        if mine[3]:
            verdicts, why, ready, _ = mine
            for verdict, n in verdicts.items():
                self.cells[verdict] += n
            self.digest.guest_rows.append({"guest": name, "source": own, READY: verdicts[READY],
                                           BLOCKED: verdicts[BLOCKED], UNKNOWN: verdicts[UNKNOWN], "why": why,
                                           "ready_targets": ready})
            self.rows[id(row)][1][0] += 1
            j = self.position.get(own)
            if j is not None:
                self.off[(id(row), j)] = self.off.get((id(row), j), 0) + 1
            if self.digest.grid_cells is not None:
                self._grid(name, own, row)
        for severity, n in counts.failed.items():
            self.failed[severity] = self.failed.get(severity, 0) + n
        self.errors += counts.errors
        self._findings(index, name, counts.rules)

    def _mine(self, row: list, own: str) -> tuple:
        """(verdict counts, why, ready targets, cells) of a guest with this row on host `own`."""
        key = (id(row), own)
        found = self.mine.get(key)
        if found is None:
            verdicts, why, ready = self._row(row)
            j = self.position.get(own)
            if j is not None:  # no cell for the guest's own host
                cell = row[j]
                verdicts = dict(verdicts)
                verdicts[cell[0]] -= 1
                if cell[0] == READY:
                    ready = [t for t in ready if t != own]
                else:
                    why = why.copy()
                    for rule in self._why(cell):
                        why[rule] -= 1
                        if not why[rule]:
                            del why[rule]
            found = self.mine[key] = (verdicts, _most(why), ready, sum(verdicts.values()))
        return found

    def _row(self, row: list) -> tuple:
        """(verdict counts, why, ready targets) of a row's cells at every target position."""
        found = self.rows.get(id(row))
        if found is None:
            verdicts, why, ready = {READY: 0, BLOCKED: 0, UNKNOWN: 0}, Counter(), []
            for name, cell in zip(self.names, row):
                verdicts[cell[0]] += 1
                if cell[0] == READY:
                    ready.append(name)
                else:
                    why.update(self._why(cell))
            found = self.rows[id(row)] = (row, [0], (verdicts, why, ready))
        return found[2]

    def _why(self, cell) -> list:
        f = self._cell_findings(cell)
        return f.blocking if cell[0] == BLOCKED else f.errors

    def _grid(self, name: str, own: str, row: list) -> None:
        mode = self.matrix.mode
        d = self.digest
        for target, cell in zip(self.names, row):
            if target != own:
                d.grid_cells.append(Cell(name, own, target, mode, cell[0], cell[1]))
                d.grid_found[(name, target)] = self._cell_findings(cell)

    def _findings(self, index: int, name: str, rules) -> None:
        """A chunk's findings counted ((rule, severity, findings, targets) per rule): what the digest
        lists of them is made at the end (`finish`), for the chunks `wanted` names."""
        d = self.digest
        total = sum(r[2] for r in rules)
        if total and d.problems < d.first_cap:
            self.wanted[index] = None
        d.problems += total
        for rule, severity, n, targets in rules:
            before = self.totals.get((severity, rule), 0)
            if before < ROWS_PER_RULE:
                self._want(index, rule)
            self.totals[(severity, rule)] = before + n
            if d.pairs_cap:
                pairs = self.by_rule.get(rule)
                if pairs is None:
                    pairs = self.by_rule[rule] = [0, []]
                pairs[0] += 1
                if len(pairs[1]) < d.pairs_cap:
                    pairs[1].append([name, index, n, targets])

    def _want(self, index: int, rule: str) -> None:
        if index not in self.wanted:
            self.wanted[index] = {rule}
        elif self.wanted[index] is not None:
            self.wanted[index].add(rule)

    # -- a chunk of several guests of one name (or of one without a host): from its results --------
    def made(self, index: int, guests: list[dict]) -> None:
        cells, results = [], []
        for row, found in self.matrix.walk(True, guests):
            cells.extend(row)
            results.extend(found)
        results = sort_results(results)
        self.tally.feed(cells, results)
        found = chunk_findings(cells, results)
        d = self.digest
        if d.grid_cells is not None:
            d.grid_cells.extend(cells)
            d.grid_found.update(found)
        d.guest_rows.extend(guest_rows(cells, found))
        add_target_rows(d.target_rows, cells, found)
        self._findings(index, guests[0]["name"], _per_rule(results))

    # -- the end: target rows, counts, and the listed results made -----------------------------------
    def finish(self, groups: list) -> RowDigest:
        self._target_rows()
        d = self.digest
        d.rule_groups = {key: [[], total] for key, total in self.totals.items()}
        listed = {}  # (chunk, rule) -> its pair's entry, whose first result is made below
        for rule in sorted(self.by_rule):
            count, entries = self.by_rule[rule]
            d.pair_count += count
            for name, index, n, targets in entries:
                if len(d.listed) < d.pairs_cap:
                    entry = [None, n, targets, None, 0]
                    d.listed.append(((rule, name), entry))
                    listed[(index, rule)] = entry
                    self._want(index, rule)
        for index in sorted(self.wanted):
            self._listed(index, groups[index], listed)
        self._count()
        return d

    def _listed(self, index: int, group: tuple, listed: dict) -> None:
        """Chunk `index`'s wanted results made, in order, and placed: the first findings, each rule's
        first ROWS_PER_RULE, the first of each listed (rule, guest) pair."""
        guests, merged = group
        results = self.tallies.listed(guests, self.wanted[index])
        if merged:
            results = sort_results(results)
        d = self.digest
        for r in results:
            if self.wanted[index] is None and len(d.first) < d.first_cap:
                d.first.append(r)
            shown = d.rule_groups[(r.severity, r.rule)][0]
            if len(shown) < ROWS_PER_RULE:
                shown.append(r)
            entry = listed.get((index, r.rule))
            if entry is not None and entry[0] is None:
                entry[0] = r

    def _target_rows(self) -> None:
        """Per target, its cells counted: each row's cells once per guest with it, less the guests on
        that target (they have no cell there)."""
        per_target: list[dict] = [{} for _ in self.names]  # id(cell) -> [cell, guests]
        for row, (guests,), _ in self.rows.values():
            if guests:
                for j, cell in enumerate(row):
                    found = per_target[j].get(id(cell))
                    if found is None:
                        per_target[j][id(cell)] = [cell, guests]
                    else:
                        found[1] += guests
        for (key, j), guests in self.off.items():
            per_target[j][id(self.rows[key][0][j])][1] -= guests
        rows = self.digest.target_rows
        for name, cells in zip(self.names, per_target):
            for cell, n in cells.values():
                if n:
                    row = rows.get(name)
                    if row is None:
                        row = rows[name] = {"target": name, READY: 0, BLOCKED: 0, UNKNOWN: 0, "why": Counter()}
                    row[cell[0]] += n
                    if cell[0] != READY:
                        for rule in self._why(cell):
                            row["why"][rule] += n

    def _count(self) -> None:
        """The counted chunks' results and cells into the tally, as `Tally.feed` counts them."""
        status = dict.fromkeys(STATUSES, 0)
        status[FAIL] = sum(self.failed.values())
        status[ERROR] = self.errors
        threshold = self.tally.threshold
        self.tally.merge({"status": status, "by_severity": self.failed, "waived": 0,
                          "total": status[FAIL] + status[ERROR], "cells": self.cells,
                          "failing": any(n and SEVERITY_RANK[s] >= threshold for s, n in self.failed.items()),
                          "errors": self.errors > 0})


def _per_rule(results: list) -> list:
    """(rule, severity, findings, targets) per rule of one chunk's sorted results, as `Digest.feed`
    counts a (rule, guest) pair: targets, each change of target in order."""
    rules: dict = {}
    for r in results:
        if r.status not in PROBLEMS:
            continue
        target = r.subject.get("target")
        found = rules.get(r.rule)
        if found is None:
            rules[r.rule] = [r.severity, 1, 0 if target is None else 1, target]
        else:
            found[1] += 1
            if target is not None and target != found[3]:
                found[2] += 1
                found[3] = target
    return [(rule, severity, n, targets) for rule, (severity, n, targets, _) in rules.items()]


def _most(why: Counter) -> str:
    """The rules that block most, as `common.guest_rows` writes them."""
    most = sorted(why.items(), key=lambda x: (-x[1], x[0]))[:4]
    return ", ".join(f"{rule} ({n})" for rule, n in most)
