"""Stage: compiled rules + an indexed snapshot to results.

`Engine(rules, snapshot)` runs host, guest and snapshot rules for `audit`, and guest and
migration rules for `check` and `matrix`. Each rule runs in isolation: a rule that cannot
be evaluated yields an `error` result and the others go on.

The matrix is the heavy job (guests x hosts x rules). A rule reads only some fields of
its subjects (`CompiledRule.reads`, found statically), so two targets that agree on every
field a rule reads get the same outcome from it, and so do two guests: each rule is run
once per (guest class, target class) and its outcome is shared. Messages, which name the
actual guest and target, are rendered per pair, and only for results that are reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ._perf import collector_paused
from .findings import Result, sort_results
from .lang.compiler import ERROR, FAIL, NOTAPPLICABLE, CompiledRule, Outcome
from .packs import RuleSet
from .snapshot import Snapshot


@dataclass(slots=True)
class Cell:
    guest: str
    source: str
    target: str
    mode: str
    verdict: str  # ready, blocked, unknown
    failing: list  # rule ids of counted failures (all severities) and errors

    def to_json(self) -> dict:
        return {"guest": self.guest, "source": self.source, "target": self.target, "mode": self.mode,
                "verdict": self.verdict, "failing": self.failing}


def _freeze(value):
    if type(value) is dict:
        return tuple((k, _freeze(v)) for k, v in value.items())
    if type(value) is list:
        return tuple(_freeze(v) for v in value)
    return value


def _project(value, rest: tuple):
    """The part of `value` a read path covers: a path over a list covers that field of every item."""
    if not rest:
        return _freeze(value)
    if type(value) is list:
        if rest == ("#",):
            return len(value)
        return tuple(_project(v, rest) for v in value)
    if type(value) is dict:
        return _project(value.get(rest[0]), rest[1:])
    return value


class _Classes:
    """Class ids of subjects by the paths a rule reads: subjects with equal views share outcomes."""

    def __init__(self):
        self.views: dict = {}
        self.ids: dict = {}

    def view(self, obj: dict | None, rest: tuple):
        key = (id(obj), rest)
        value = self.views.get(key)
        if value is None:
            value = ("#id", id(obj)) if not rest or obj is None else _project(obj, rest)
            self.views[key] = value
        return value

    def of(self, parts: tuple) -> int:
        found = self.ids.get(parts)
        if found is None:
            found = self.ids[parts] = len(self.ids)
        return found


class Engine:
    def __init__(self, rules: RuleSet, snapshot: Snapshot, stop: bool = False):
        """`stop`: migrations stop a running guest first (hpvmmigrate -d); rules read it as `stop`."""
        self.ruleset = rules
        self.snapshot = snapshot
        self.stop = stop
        self.scope = snapshot.as_scope()
        self.by_subject: dict[str, list[CompiledRule]] = {s: [] for s in ("host", "guest", "migration", "snapshot")}
        for rule in rules.rules:
            self.by_subject[rule.subject].append(rule)

    # -- turning outcomes into results ------------------------------------------------
    def _result(self, rule: CompiledRule, outcome: Outcome, subject: dict, location) -> Result:
        status = outcome.status
        if status == FAIL:
            message, fix = rule.message(outcome.env), rule.fix(outcome.env)
        elif status == ERROR:
            message, fix = outcome.error, ""
        elif status == NOTAPPLICABLE:
            message, fix = f"not applicable: {rule.title}", ""
        else:
            message, fix = rule.title, ""
        return Result(rule.id, rule.severity, status, subject, message, fix, rule.cite, rule.title,
                      outcome.item, location, tags=rule.tags)

    def _run(self, rule: CompiledRule, env: dict, missing: dict) -> list[Outcome]:
        """Run a rule, or say why it cannot run when a subject it reads is not in the snapshot."""
        for name, why in missing.items():
            if any(path[0] == name for path in rule.reads):
                return [Outcome(ERROR, env, "", why)]
        return rule.run(env)

    def _guest_env(self, guest: dict, mode: str | None) -> tuple[dict, dict]:
        host = self.snapshot.host_by_name.get(guest["host"])
        missing = {} if host is not None else {
            "host": f"host `{guest['host']}` of guest `{guest['name']}` is not in the snapshot (see INV-UNKNOWN-HOST)",
            "source": f"host `{guest['host']}` of guest `{guest['name']}` is not in the snapshot (see INV-UNKNOWN-HOST)"}
        return {"guest": guest, "host": host, "snapshot": self.scope, "mode": mode}, missing

    def _pair_env(self, guest: dict, source: dict | None, target: dict, mode: str) -> dict:
        return {"guest": guest, "source": source, "target": target, "mode": mode, "stop": self.stop,
                "snapshot": self.scope}

    def guest_results(self, guest: dict, mode: str | None, locate: bool = True) -> list[Result]:
        env, missing = self._guest_env(guest, mode)
        subject = {"guest": guest["name"], "host": guest["host"]}
        location = self.snapshot.locate(guest) if locate else None
        return [self._result(rule, o, subject, location)
                for rule in self.by_subject["guest"] for o in self._run(rule, env, missing)]

    # -- commands ---------------------------------------------------------------------
    def audit(self) -> list[Result]:
        """Host, guest and snapshot rules over the whole snapshot."""
        results = []
        for host in self.snapshot.hosts:
            env = {"host": host, "snapshot": self.scope}
            subject = {"host": host["name"]}
            location = self.snapshot.locate(host)
            for rule in self.by_subject["host"]:
                results.extend(self._result(rule, o, subject, location) for o in rule.run(env))
        for guest in self.snapshot.guests:
            results.extend(self.guest_results(guest, None))
        location = (self.snapshot.path, 1, 1)
        for rule in self.by_subject["snapshot"]:
            results.extend(self._result(rule, o, {}, location) for o in rule.run({"snapshot": self.scope}))
        return results

    def check(self, guest: dict, target: dict, mode: str) -> list[Result]:
        """Guest rules for the guest, then migration rules for moving it to `target`."""
        results = self.guest_results(guest, mode)
        env, missing = self._guest_env(guest, mode)
        env = self._pair_env(guest, env["host"], target, mode)
        subject = {"guest": guest["name"], "source": guest["host"], "target": target["name"], "mode": mode}
        location = self.snapshot.locate(guest)
        for rule in self.by_subject["migration"]:
            results.extend(self._result(rule, o, subject, location) for o in self._run(rule, env, missing))
        return results

    def matrix(self, mode: str, *, results: bool = True, waive=None,
               share: bool = True) -> tuple[list[Cell], list[Result]]:
        """Every guest against every host but its own: a cell per pair, plus its results.

        Failures and errors become `Result`s (with `results=False` only the cells are
        built); `waive(result)` may attach a waiver before the cell's verdict is taken.
        Each rule is evaluated once per (guest class, target class) of its read paths and,
        for a guest, gives the list of targets it fails on; a guest whose class was seen
        before reuses that list. `share=False` evaluates every pair afresh (for benchmarks
        and for tests of the sharing itself).
        """
        with collector_paused():
            return self._matrix(mode, results, waive, share)

    def _matrix(self, mode: str, results: bool, waive, share: bool) -> tuple[list[Cell], list[Result]]:
        cells: list[Cell] = []
        kept: list[Result] = []
        for _, guest_cells, guest_results in self._rows(mode, results, waive, share, self.snapshot.guests,
                                                        self.snapshot.hosts):
            cells.extend(guest_cells)
            kept.extend(guest_results)
        return cells, kept

    def iter_matrix(self, mode: str, *, waive=None, share: bool = True) -> Iterator[tuple[list[Cell], list[Result]]]:
        """The matrix with its results, guest by guest, for reports that stream.

        Guests and targets come in name order, so each yielded chunk is one guest name's
        cells and its sorted results (`Result.sort_key`), and the chunks, joined, are sorted
        too: no global sort, and nothing kept between chunks but the shared outcomes.
        """
        by_name = lambda obj: obj["name"]  # noqa: E731
        guests = sorted(self.snapshot.guests, key=by_name)
        hosts = sorted(self.snapshot.hosts, key=by_name)
        pending: tuple[str, list, list] | None = None
        rows = self._rows(mode, True, waive, share, guests, hosts)
        while True:
            with collector_paused():  # while the engine works, not while the caller consumes a chunk
                row = next(rows, None)
            if row is None:
                break
            name, guest_cells, guest_results = row
            if pending is not None and pending[0] != name:
                yield pending[1], sort_results(pending[2])
                pending = None
            if pending is None:
                pending = (name, list(guest_cells), list(guest_results))
            else:  # guests of one name (INV-DUPLICATE-GUEST): one chunk, so the results still sort
                pending[1].extend(guest_cells)
                pending[2].extend(guest_results)
        if pending is not None:
            yield pending[1], sort_results(pending[2])

    def _rows(self, mode: str, results: bool, waive, share: bool, guests: list, hosts: list):
        """Per guest, in the order of `guests`: its name, cells (targets in the order of `hosts`) and results."""
        snapshot = self.snapshot
        classes = _Classes()
        plans = []  # (rule, guest-side paths, target-side paths)
        for rule in self.by_subject["migration"]:
            guest_side = sorted((p for p in rule.reads if p[0] in ("guest", "source")), key=repr)
            target_side = sorted((p[1:] for p in rule.reads if p[0] == "target"), key=repr)
            plans.append((rule, guest_side, target_side))
        target_class = [tuple(classes.of((i, "t") + tuple(classes.view(host, p) for p in plan[2]))
                              for i, plan in enumerate(plans)) for host in hosts]
        outcome_cache: list[dict] = [{} for _ in plans]  # per rule: (guest class, target class) -> statuses
        rows: dict = {}  # (rule index, guest class) -> (targets failed, targets errored)
        for guest in guests:
            cells: list[Cell] = []
            kept: list[Result] = []
            guest_results = self.guest_results(guest, mode, locate=results)
            if waive:
                for r in guest_results:
                    waive(r)
            if results:
                kept.extend(r for r in guest_results if r.status in (FAIL, ERROR))
            guest_failing = {r.rule for r in guest_results if r.waiver is None and r.status in (FAIL, ERROR)}
            guest_blocked = any(_blocks(r) for r in guest_results)
            guest_unknown = any(r.status == ERROR and r.waiver is None for r in guest_results)
            base_env, missing = self._guest_env(guest, mode)
            source = base_env["host"]
            location = snapshot.locate(guest) if results else None
            own = guest["host"]
            failing_at: dict[int, list] = {}
            blocked_at: set[int] = set()
            unknown_at: set[int] = set()
            for i, (rule, guest_side, _) in enumerate(plans):
                guest_class = classes.of((i, "g") + tuple(classes.view(guest if p[0] == "guest" else source, p[1:])
                                                          for p in guest_side))
                row = rows.get((i, guest_class)) if share else None
                if row is None:
                    row = self._rule_row(rule, i, guest, source, missing, mode, guest_class, target_class,
                                         outcome_cache[i], share, hosts)
                    if share:
                        rows[(i, guest_class)] = row
                for statuses, t_index in row:
                    target = hosts[t_index]
                    if target["name"] == own:
                        continue
                    if results:
                        env = self._pair_env(guest, source, target, mode)
                        subject = {"guest": guest["name"], "source": own, "target": target["name"], "mode": mode}
                        counted = set()
                        for o in self._run(rule, env, missing):  # again, for this pair's own bindings
                            if o.status in (FAIL, ERROR):
                                result = self._result(rule, o, subject, location)
                                if waive:
                                    waive(result)
                                kept.append(result)
                                if result.waiver is None:
                                    counted.add(o.status)
                        statuses = counted
                    if not statuses:
                        continue
                    failing_at.setdefault(t_index, []).append(rule.id)
                    if FAIL in statuses and rule.severity == "error":
                        blocked_at.add(t_index)
                    if ERROR in statuses:
                        unknown_at.add(t_index)
            for t_index, target in enumerate(hosts):
                if target["name"] == own:
                    continue
                failing = failing_at.get(t_index)
                verdict = ("blocked" if guest_blocked or t_index in blocked_at else
                           "unknown" if guest_unknown or t_index in unknown_at else "ready")
                cells.append(Cell(guest["name"], own, target["name"], mode, verdict,
                                  sorted(guest_failing.union(failing)) if failing else sorted(guest_failing)))
            yield guest["name"], cells, kept

    def _rule_row(self, rule, i, guest, source, missing, mode, guest_class, target_class, cache, share,
                  hosts) -> list:
        """The targets on which `rule` fails or errs for this guest: [(statuses, target index)]."""
        row = []
        for t_index, target in enumerate(hosts):
            key = (guest_class, target_class[t_index][i])
            statuses = cache.get(key) if share else None
            if statuses is None:
                env = self._pair_env(guest, source, target, mode)
                statuses = frozenset(o.status for o in self._run(rule, env, missing)) & _PROBLEMS
                cache[key] = statuses
            if statuses:
                row.append((statuses, t_index))
        return row


_PROBLEMS = frozenset((FAIL, ERROR))


def _blocks(result: Result) -> bool:
    return result.counts and result.severity == "error"
