"""Stage: compiled rules + an indexed snapshot to results.

`Engine(rules, snapshot, stop=, waivers=)` is the one evaluation path: `env_for(rule,
subject)` builds every environment a rule sees, `outcomes(rule, subject, trace)` runs it
(with an optional trace hook, which is all `explain` uses), and `audit`, `check` and
`matrix` turn outcomes into `Result`s, attaching waivers as they are made (the one place
waivers are applied). Each rule runs in isolation: a rule that cannot be evaluated
yields an `error` result and the others go on.

The matrix is the heavy job (guests x hosts x rules). A rule reads only some fields of
its subjects (`CompiledRule.reads`, found statically), so two targets that agree on every
field a rule reads get the same outcome from it, and so do two guests: each rule is run
once per (guest class, target class) and its outcome is shared. Classes are keyed by
typed projections of the values read (`True`, `1` and `1.0` differ; a map and a string
differ; `len` of a map is its size), so sharing never merges subjects a rule could tell
apart. Messages, which name the actual guest and target, are rendered per pair, and only
for results that are reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ._perf import collector_paused
from .findings import Result, blocks, cell_verdict, leaves_unknown, sort_results, statuses_block
from .lang.compiler import CompiledRule, Outcome, Trace
from .lang.builtins import EvalError
from .packs import RuleSet
from .snapshot import Snapshot
from .vocabulary import ERROR, FAIL, NOTAPPLICABLE, PROBLEMS, SUBJECTS


@dataclass(slots=True)
class Subject:
    """What one run of a rule is about: a host, a guest (in a mode, or none for audit), a
    migration of a guest to a target, or the whole snapshot."""

    kind: str  # one of SUBJECTS
    host: dict | None = None  # on host
    guest: dict | None = None  # on guest, on migration
    target: dict | None = None  # on migration
    mode: str | None = None  # on guest (None in audit), on migration
    stage: dict | None = None  # on stage: a stage of a plan as plan rules see it (`plan._stage_view`)

    def names(self) -> dict:
        """The result's `subject`: names, never objects."""
        if self.kind == "host":
            return {"host": self.host["name"]}
        if self.kind == "guest":
            return {"guest": self.guest["name"], "host": self.guest["host"]}
        if self.kind == "migration":
            return {"guest": self.guest["name"], "source": self.guest["host"], "target": self.target["name"],
                    "mode": self.mode}
        if self.kind == "stage":
            return {"stage": self.stage["index"]}
        return {}


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


# -- typed class keys ----------------------------------------------------------------------
def _freeze(value):
    """A hashable key equal only for values no rule can tell apart (`True`, `1`, `1.0` differ)."""
    kind = type(value)
    if kind is dict:
        return ("map", tuple((k, _freeze(v)) for k, v in value.items()))
    if kind is list:
        return ("list", tuple(_freeze(v) for v in value))
    return (kind, value)


def _project(value, rest: tuple):
    """The part of `value` a read path covers, typed: a path over a list covers that field of
    every item; a final `#` covers the length (of a list, or the size of a map)."""
    if not rest:
        return _freeze(value)
    kind = type(value)
    if kind is list:
        if rest == ("#",):
            return ("len", len(value))
        return ("list", tuple(_project(v, rest) for v in value))
    if kind is dict:
        if rest == ("#",):
            return ("size", len(value))
        return ("map", _project(value.get(rest[0]), rest[1:]))
    return ("leaf", _freeze(value))  # a value the path cannot enter: all of it counts


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
    def __init__(self, rules: RuleSet, snapshot: Snapshot, stop: bool = False, waivers=None):
        """`stop`: migrations stop a running guest first (hpvmmigrate -d); rules read it as `stop`.
        `waivers`: a `Waivers` (or None) attached to each result as it is made."""
        self.ruleset = rules
        self.snapshot = snapshot
        self.stop = stop
        self.waivers = waivers
        self.scope = snapshot.as_scope()
        self.by_subject: dict[str, list[CompiledRule]] = {s: [] for s in SUBJECTS}
        for rule in rules.rules:
            self.by_subject[rule.subject].append(rule)

    # -- the one evaluation path -----------------------------------------------------------
    def source_of(self, guest: dict) -> dict | None:
        return self.snapshot.host_by_name.get(guest["host"])

    def env_for(self, rule: CompiledRule, subject: Subject) -> dict:
        """Every name `rule` may read about `subject` (a fresh dict: the rule writes its bindings into it)."""
        kind = rule.subject
        if kind == "host":
            return {"host": subject.host, "snapshot": self.scope}
        if kind == "guest":
            return {"guest": subject.guest, "host": self.source_of(subject.guest), "snapshot": self.scope,
                    "mode": subject.mode}
        if kind == "migration":
            return {"guest": subject.guest, "source": self.source_of(subject.guest), "target": subject.target,
                    "mode": subject.mode, "stop": self.stop, "snapshot": self.scope}
        if kind == "stage":
            return {"stage": subject.stage, "snapshot": self.scope}
        return {"snapshot": self.scope}

    def unreadable(self, rule: CompiledRule, subject: Subject) -> str | None:
        """Why `rule` cannot run for `subject` (the guest's host is not in the snapshot), or None."""
        if subject.guest is None or self.source_of(subject.guest) is not None:
            return None
        names = ("host",) if rule.subject == "guest" else ("source",)
        if any(path[0] in names for path in rule.reads):
            guest = subject.guest
            return f"host `{guest['host']}` of guest `{guest['name']}` is not in the snapshot (see INV-UNKNOWN-HOST)"
        return None

    def outcomes(self, rule: CompiledRule, subject: Subject, trace: Trace | None = None) -> list[Outcome]:
        """Run `rule` for `subject`: one outcome per binding. `trace(event, step, value, env)`, if
        given, sees each step as it is decided (see `lang.compiler`)."""
        env = self.env_for(rule, subject)
        why = self.unreadable(rule, subject) if subject.guest is not None and env.get(
            "host" if rule.subject == "guest" else "source") is None else None
        if why is not None:
            if trace:
                trace("error", None, EvalError(why), env)
            return [Outcome(ERROR, env, "", why)]
        return rule.run(env, trace)

    def result(self, rule: CompiledRule, outcome: Outcome, names: dict, location) -> Result:
        """An outcome as a reported result, with its waiver if one applies."""
        status = outcome.status
        if status == FAIL:
            message, fix = rule.message(outcome.env), rule.fix(outcome.env)
        elif status == ERROR:
            message, fix = outcome.error, ""
        elif status == NOTAPPLICABLE:
            message, fix = f"not applicable: {rule.title}", ""
        else:
            message, fix = rule.title, ""
        result = Result(rule.id, rule.severity, status, names, message, fix, rule.cite, rule.title,
                        outcome.item, location, tags=rule.tags)
        if self.waivers is not None and status in PROBLEMS:
            self.waivers.waive(result)
        return result

    def results(self, subject: Subject, location=None) -> list[Result]:
        """Every rule `on subject.kind` for `subject`."""
        names = subject.names()
        return [self.result(rule, o, names, location)
                for rule in self.by_subject[subject.kind] for o in self.outcomes(rule, subject)]

    def guest_results(self, guest: dict, mode: str | None, locate: bool = True) -> list[Result]:
        return self.results(Subject("guest", guest=guest, mode=mode), self.snapshot.locate(guest) if locate else None)

    # -- commands ---------------------------------------------------------------------------
    def audit(self) -> list[Result]:
        """Host, guest and snapshot rules over the whole snapshot."""
        results = []
        for host in self.snapshot.hosts:
            results.extend(self.results(Subject("host", host=host), self.snapshot.locate(host)))
        for guest in self.snapshot.guests:
            results.extend(self.guest_results(guest, None))
        results.extend(self.results(Subject("snapshot"), (self.snapshot.path, 1, 1)))
        return results

    def check(self, guest: dict, target: dict, mode: str) -> list[Result]:
        """Guest rules for the guest, then migration rules for moving it to `target`."""
        location = self.snapshot.locate(guest)
        return (self.results(Subject("guest", guest=guest, mode=mode), location)
                + self.results(Subject("migration", guest=guest, target=target, mode=mode), location))

    def matrix(self, mode: str, *, results: bool = True, share: bool = True) -> tuple[list[Cell], list[Result]]:
        """Every guest against every host but its own: a cell per pair, plus its results.

        Failures and errors become `Result`s (with `results=False` only the cells are
        built). Each rule is evaluated once per (guest class, target class) of its read
        paths and, for a guest, gives the list of targets it fails on; a guest whose class
        was seen before reuses that list. `share=False` evaluates every pair afresh (for
        benchmarks and for tests of the sharing itself).
        """
        with collector_paused():
            return _Matrix(self, mode, results, share).run()

    def iter_matrix(self, mode: str, *, share: bool = True) -> Iterator[tuple[list[Cell], list[Result]]]:
        """The matrix with its results, guest by guest, for reports that stream.

        Guests and targets come in name order, so each yielded chunk is one guest name's
        cells and its sorted results (`Result.sort_key`), and the chunks, joined, are sorted
        too: no global sort, and nothing kept between chunks but the shared outcomes.
        """
        by_name = lambda obj: obj["name"]  # noqa: E731
        matrix = _Matrix(self, mode, True, share, hosts=sorted(self.snapshot.hosts, key=by_name))
        name = None
        for guest in sorted(self.snapshot.guests, key=by_name):
            if (matrix.cells or matrix.kept) and guest["name"] != name:
                yield matrix.take()
            name = guest["name"]  # guests of one name (INV-DUPLICATE-GUEST) share a chunk: results still sort
            with collector_paused():  # while the engine works, not while the caller consumes a chunk
                matrix.guest(guest)
        if matrix.cells or matrix.kept:
            yield matrix.take()


class _Matrix:
    """One matrix run: the sharing state and the cells and results it builds."""

    def __init__(self, engine: Engine, mode: str, results: bool, share: bool, hosts: list | None = None):
        """`hosts`: the targets in the order cells are made (default: the snapshot's order)."""
        self.engine, self.mode, self.want_results, self.share = engine, mode, results, share
        self.hosts = engine.snapshot.hosts if hosts is None else hosts
        self.classes = _Classes()
        self.plans = []  # (rule, guest-side paths, target-side paths)
        for rule in engine.by_subject["migration"]:
            guest_side = sorted((p for p in rule.reads if p[0] in ("guest", "source")), key=repr)
            target_side = sorted((p[1:] for p in rule.reads if p[0] == "target"), key=repr)
            self.plans.append((rule, guest_side, target_side))
        self.target_class = [tuple(self.classes.of((i, "t") + tuple(self.classes.view(host, p) for p in plan[2]))
                                   for i, plan in enumerate(self.plans)) for host in self.hosts]
        self.outcome_cache: list[dict] = [{} for _ in self.plans]  # per rule: (guest class, target class) -> statuses
        self.rows: dict = {}  # (rule index, guest class) -> [(statuses, target index)]
        self.cells: list[Cell] = []
        self.kept: list[Result] = []

    def run(self) -> tuple[list[Cell], list[Result]]:
        for guest in self.engine.snapshot.guests:
            self.guest(guest)
        return self.cells, self.kept

    def take(self) -> tuple[list[Cell], list[Result]]:
        """The cells and (sorted) results made since the last `take`, forgotten here."""
        cells, kept = self.cells, sort_results(self.kept)
        self.cells, self.kept = [], []
        return cells, kept

    def guest(self, guest: dict) -> None:
        engine, mode = self.engine, self.mode
        location = engine.snapshot.locate(guest) if self.want_results else None
        guest_results = engine.results(Subject("guest", guest=guest, mode=mode), location)
        if self.want_results:
            self.kept.extend(r for r in guest_results if r.status in PROBLEMS)
        guest_failing = {r.rule for r in guest_results if r.waiver is None and r.status in PROBLEMS}
        guest_blocked = any(blocks(r) for r in guest_results)
        guest_unknown = any(leaves_unknown(r) for r in guest_results)
        source = engine.source_of(guest)
        own = guest["host"]
        subjects: list[Subject] = []  # per target, made when first needed
        failing_at: dict[int, list] = {}
        blocked_at: set[int] = set()
        unknown_at: set[int] = set()
        for i, (rule, guest_side, _) in enumerate(self.plans):
            guest_class = self.classes.of((i, "g") + tuple(
                self.classes.view(guest if p[0] == "guest" else source, p[1:]) for p in guest_side))
            row = self.rows.get((i, guest_class)) if self.share else None
            if row is None or self.want_results:
                if not subjects:
                    subjects = [Subject("migration", guest=guest, target=target, mode=mode) for target in self.hosts]
            if row is None:
                row = self.rule_row(rule, i, subjects, guest_class)
                if self.share:
                    self.rows[(i, guest_class)] = row
            for statuses, t_index in row:
                if self.hosts[t_index]["name"] == own:
                    continue
                if self.want_results:
                    statuses = self.pair_results(rule, subjects[t_index], location)
                if not statuses:
                    continue
                failing_at.setdefault(t_index, []).append(rule.id)
                if statuses_block(statuses, rule.severity):
                    blocked_at.add(t_index)
                if ERROR in statuses:
                    unknown_at.add(t_index)
        for t_index, target in enumerate(self.hosts):
            if target["name"] == own:
                continue
            failing = failing_at.get(t_index)
            verdict = cell_verdict(guest_blocked or t_index in blocked_at, guest_unknown or t_index in unknown_at)
            self.cells.append(Cell(guest["name"], own, target["name"], mode, verdict,
                                   sorted(guest_failing.union(failing)) if failing else sorted(guest_failing)))

    def pair_results(self, rule: CompiledRule, subject: Subject, location) -> set:
        """Run `rule` again for this pair's own bindings and messages; keep its failures and errors.
        Returns the statuses that count (not waived)."""
        engine = self.engine
        names = subject.names()
        counted = set()
        for o in engine.outcomes(rule, subject):
            if o.status in PROBLEMS:
                result = engine.result(rule, o, names, location)
                self.kept.append(result)
                if result.waiver is None:
                    counted.add(o.status)
        return counted

    def rule_row(self, rule: CompiledRule, i: int, subjects: list[Subject], guest_class: int) -> list:
        """The targets on which `rule` fails or errs for this guest: [(statuses, target index)]."""
        row = []
        cache = self.outcome_cache[i]
        outcomes = self.engine.outcomes
        for t_index, subject in enumerate(subjects):
            key = (guest_class, self.target_class[t_index][i])
            statuses = cache.get(key) if self.share else None
            if statuses is None:
                statuses = frozenset(o.status for o in outcomes(rule, subject)) & PROBLEMS
                cache[key] = statuses
            if statuses:
                row.append((statuses, t_index))
        return row
