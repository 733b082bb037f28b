"""Stage: compiled rules + an indexed snapshot to results.

`Engine(rules, estate, stop=, waivers=)` is the one evaluation path, made for one estate:
an `EstateView` (`Estate.view()`: the estate after migrations, with its own scope) or a
loaded `Snapshot` as it stands. What it evaluates against (`snapshot`, and `scope`, what
rules read as `snapshot`) is fixed when it is made: an engine for another state of the
estate is another engine. `env_for(rule, subject)` builds every environment a rule sees,
`outcomes(rule, subject, trace)` runs it (with an optional trace hook, which is all
`explain` uses), and `audit`, `check` and `matrix` turn outcomes into `Result`s, attaching
waivers as they are made (the one place waivers are applied). Each rule runs in
isolation: a rule that cannot be evaluated yields an `error` result and the others go on.

The matrix is the heavy job (guests x hosts x rules): `sharing.Matrix` runs each rule once
per (guest class, target class) of what it reads, through `outcomes`, and renders results
through `result` only for the pairs a rule fails or errs on (see engine/sharing.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..core.perf import collector_paused
from ..core.results import Cell, LazyResult, Result, Subject, Text, sort_results  # noqa: F401  (Cell, Subject: re-exported)
from ..core.vocabulary import ERROR, FAIL, NOTAPPLICABLE, PROBLEMS, SCOPES, SUBJECTS, UNCAPTURED
from ..estate.effects import EstateView
from ..estate.snapshot import Snapshot
from ..lang.builtins import EvalError
from ..lang.compiler import CompiledRule, Outcome, Trace
from ..packs.ruleset import RuleSet
from .matrix import Matrix
from .uncaptured import constant_false, elsewhere, met, own_message, parts_read


# `env_for` of the rules `on KIND`: each binds exactly the names of its scope in the scope table
# (`vocabulary.SCOPES`) to what the name's role is: the run's `snapshot` (the engine's scope) and
# `stop`, the `Subject`'s field named as the role, or the guest's current VSP (`source`). One dict
# display each, as fast as the matrix needs (it makes an environment per class of subjects); a test
# (tests/test_differential.py) checks every binder against the table, so the table stays the one place.
def _bind_host(engine, subject):
    return {"snapshot": engine._scope, "host": subject.host}


def _bind_guest(engine, subject):
    return {"snapshot": engine._scope, "guest": subject.guest, "host": engine.source_of(subject.guest),
            "mode": subject.mode}


def _bind_migration(engine, subject):
    return {"snapshot": engine._scope, "guest": subject.guest, "source": engine.source_of(subject.guest),
            "target": subject.target, "mode": subject.mode, "stop": engine.stop}


def _bind_snapshot(engine, subject):
    return {"snapshot": engine._scope}


def _bind_stage(engine, subject):
    return {"snapshot": engine._scope, "stage": subject.stage}


_BINDERS = {"host": _bind_host, "guest": _bind_guest, "migration": _bind_migration, "snapshot": _bind_snapshot,
             "stage": _bind_stage}
assert set(_BINDERS) == set(SCOPES)
# the name of the guest's current VSP in each subject's scope (`host` of a guest rule, `source` of a migration)
_SOURCE = {kind: next((name for name, role in scope.items() if role == "source"), None)
           for kind, scope in SCOPES.items()}


def _near(kind: str, subject: Subject) -> tuple | None:
    """The VSPs whose guests a rule reading `snapshot.guests` is taken to read for `subject` (`uncaptured`):
    the guest's own and the target, the host, or every VSP (None) for a rule on the whole estate."""
    if kind == "migration":
        return subject.guest["host"], subject.target["name"]
    if kind == "guest":
        return (subject.guest["host"],)
    if kind == "host":
        return (subject.host["name"],)
    return None


class Engine:
    def __init__(self, rules: RuleSet, estate: EstateView | Snapshot, stop: bool = False, waivers=None):
        """`estate`: an `EstateView` (`Estate.view()`), or a `Snapshot` as it stands (`EstateView.of`).
        `stop`: migrations stop a running guest first (hpvmmigrate -d); rules read it as `stop`.
        `waivers`: a `Waivers` (or None) attached to each result as it is made."""
        self.ruleset = rules
        self._view = estate if isinstance(estate, EstateView) else EstateView.of(estate)
        self._snapshot = self._view.snapshot
        self._scope = self._view.scope
        self.stop = stop
        self.waivers = waivers
        self.by_subject: dict[str, list[CompiledRule]] = {s: [] for s in SUBJECTS}
        for rule in rules.rules:
            self.by_subject[rule.subject].append(rule)
        self._elsewhere = None  # the estate's guests with unknown parts (`uncaptured.Elsewhere`), found when needed

    # what the engine evaluates against, fixed when it is made (read-only: no setter)
    @property
    def view(self) -> EstateView:
        return self._view

    @property
    def snapshot(self) -> Snapshot:
        """The estate as it stands: the hosts and guests the engine walks, indexed and located."""
        return self._snapshot

    @property
    def scope(self) -> dict:
        """The whole estate as rules read it as `snapshot`."""
        return self._scope

    # -- the one evaluation path -----------------------------------------------------------
    def source_of(self, guest: dict) -> dict | None:
        return self._snapshot.host_by_name.get(guest["host"])

    def env_for(self, rule: CompiledRule, subject: Subject) -> dict:
        """Every name `rule` may read about `subject` (a fresh dict: the rule writes its bindings into it):
        the names of its subject's scope (`vocabulary.SCOPES`), each bound to what its role is."""
        return _BINDERS[rule.subject](self, subject)

    def unreadable(self, rule: CompiledRule, subject: Subject, env: dict) -> str | None:
        """Why `rule` cannot run for `subject` in `env` (`env_for`), or None: the guest's host is not in the
        snapshot, or the rule reads a part of a guest that was not captured (`guest.unknown`, `uncaptured`),
        unless its first step is a `when` on the run's constants that is false (it does not apply)."""
        guest = subject.guest
        source = _SOURCE[rule.subject]
        if source is not None and env[source] is None and any(path[0] == source for path in rule.reads):
            return f"host `{guest['host']}` of guest `{guest['name']}` is not in the snapshot (see INV-UNKNOWN-HOST)"
        parts = parts_read(rule)
        why = None
        if parts[0] and guest is not None and guest.get(UNCAPTURED):
            missing = met(guest, parts[0])
            why = own_message(guest, missing) if missing else None
        if why is None and parts[1]:
            found = self.partial()
            if found.by_host:
                why = found.why(parts[1], _near(rule.subject, subject))
        if why is not None and constant_false(rule, env):
            return None
        return why

    def partial(self):
        """The estate's guests with unknown parts (`uncaptured.Elsewhere`), found once per estate."""
        if self._elsewhere is None:
            self._elsewhere = elsewhere(self._scope["guests"])
        return self._elsewhere

    def outcomes(self, rule: CompiledRule, subject: Subject, trace: Trace | None = None) -> list[Outcome]:
        """Run `rule` for `subject`: one outcome per binding. `trace(event, step, value, env)`, if
        given, sees each step as it is decided (see `lang.compiler`)."""
        env = self.env_for(rule, subject)
        why = self.unreadable(rule, subject, env)
        if why is not None:
            if trace:
                trace("error", None, EvalError(why), env)
            return [Outcome(ERROR, env, "", why)]
        return rule.run(env, trace)

    def result(self, rule: CompiledRule, outcome: Outcome, names: dict, location, lazy: bool = False) -> Result:
        """An outcome as a reported result, with its waiver if one applies. `lazy`: a failure's
        message and fix are made when first read (`core.results.LazyResult`; the matrix)."""
        status = outcome.status
        if lazy and status == FAIL:
            return self.lazy_result(rule, rule.text, outcome.env, status, names, location, outcome.item)
        if status == FAIL:
            message, fix = rule.text.plain(outcome.env)
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

    def lazy_result(self, rule: CompiledRule, text: Text, binding, status: str, names: dict, location,
                    item: str = "") -> Result:
        """A failed result whose `text` is made from `binding` when first read (`core.results.LazyResult`);
        its waiver is attached now, as `result` does."""
        result = LazyResult(text, binding, rule.id, rule.severity, status, names, rule.cite, rule.title, item, location,
                            rule.tags)
        if self.waivers is not None:
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

    def matrix_of(self, mode: str, guests: list[dict] | None = None, targets: list[dict] | None = None,
                  share: bool = True):
        """A `sharing.Matrix` of `guests` x `targets` (default: all), evaluated on demand."""
        return Matrix(self, mode, guests, targets, share)

    def matrix(self, mode: str, *, results: bool = True, share: bool = True, guests: list[dict] | None = None,
               targets: list[dict] | None = None) -> tuple[list[Cell], list[Result]]:
        """Every guest against every host but its own: a cell per pair, plus its failed and errored results.

        With `results=False` only the cells are built. Each rule runs once per (guest class,
        target class) of what it reads (`sharing.Matrix`); `share=False` evaluates every pair
        afresh (for benchmarks and for tests of the sharing itself). `guests`/`targets`
        restrict the pairs evaluated.
        """
        cells: list[Cell] = []
        kept: list[Result] = []
        with collector_paused():
            for row, found in self.matrix_of(mode, guests, targets, share).walk(results):
                cells.extend(row)
                kept.extend(found)
        return cells, kept

    def iter_matrix(self, mode: str, *, share: bool = True, guests: list[dict] | None = None,
                    targets: list[dict] | None = None) -> "MatrixChunks":
        """The matrix with its results, guest by guest, for reports that stream (`MatrixChunks`)."""
        by_name = lambda obj: obj["name"]  # noqa: E731
        guests = sorted(self.snapshot.guests if guests is None else guests, key=by_name)
        targets = sorted(self.snapshot.hosts if targets is None else targets, key=by_name)
        return MatrixChunks(self.matrix_of(mode, guests, targets, share), guests)


class MatrixChunks:
    """The chunks of a streamed matrix: iterated, a chunk per guest name, its cells and sorted results.

    Guests and targets come in name order, so each chunk is one guest name's cells and its
    results in `Result.sort_key` order, and the chunks, joined, are sorted too: no global sort,
    and nothing kept between chunks but the shared outcomes. `verdict()`, asked before, walks
    the cells alone (the rules' shared outcomes, which the chunks then reuse), for a report
    whose head states the verdict before its results (JSON).
    """

    def __init__(self, matrix, guests: list[dict]):
        self.matrix = matrix
        self.guests = guests

    def verdict(self) -> str:
        """The verdict of these chunks' cells (`Matrix.verdict`): of a share's alone (`split`)."""
        return self.matrix.verdict(self.guests)

    def split(self, parts: int, appended: float = 0.0) -> list["MatrixChunks"]:
        """The chunks of `parts` shares of the guests, in order, never between two guests of one name
        (they share a chunk); fewer when there are too few guests. `appended`: what appending a share
        costs the first process, as a part of what writing it cost: the first share is that much lighter,
        so that the first process, which appends the others' shares, ends with them."""
        guests = self.guests
        appended = min(appended, 0.5 / max(parts - 1, 1))  # the first share at least half another's
        other = 1 / (parts - appended * (parts - 1))  # each other share's part of the guests
        first = 1 - other * (parts - 1)
        bounds = [0]
        for i in range(1, parts):
            k = self._between_names(max(round(len(guests) * (first + other * (i - 1))), bounds[-1]))
            if bounds[-1] < k < len(guests):
                bounds.append(k)
        bounds.append(len(guests))
        return [MatrixChunks(self.matrix, guests[a:b]) for a, b in zip(bounds, bounds[1:])]

    def head(self, count: int) -> tuple["MatrixChunks", "MatrixChunks"]:
        """The chunks of the first `count` guests (more, never between two guests of one name) and of the rest."""
        guests = self.guests
        k = self._between_names(min(max(count, 0), len(guests)))
        return MatrixChunks(self.matrix, guests[:k]), MatrixChunks(self.matrix, guests[k:])

    def _between_names(self, k: int) -> int:
        """Guest index `k`, or past it while that guest has the name of the one before (they share a chunk)."""
        guests = self.guests
        while 0 < k < len(guests) and guests[k]["name"] == guests[k - 1]["name"]:
            k += 1
        return k

    def groups(self) -> Iterator[tuple[list[dict], bool]]:
        """The guests of each chunk, in order, and whether their results are sorted together (several
        guests of one name, or a guest without a host), as the chunks group them: for a report that
        counts the results instead of making them (`report.digest.digest_from_rows`)."""
        guests: list[dict] = []
        merged = False
        for guest in self.guests:
            if guests and guest["name"] != guests[0]["name"]:
                yield guests, merged
                guests, merged = [], False
            merged |= bool(guests) or not guest["host"]
            guests.append(guest)
        if guests:
            yield guests, merged

    def can_stamp(self) -> bool:
        """Whether `stamped` can serve: no waiver in play, and each guest its own chunk in report order (names
        unique, every guest on a host, targets in order)."""
        waivers = self.matrix.engine.waivers
        return (waivers is None or not waivers.items) and self.matrix.in_order \
            and not any(merged for _, merged in self.groups())

    def stamped(self) -> Iterator[tuple]:
        """The chunks as writers that stamp a text class's results take them (`can_stamp`): per guest, its
        cells (`GuestCells`), its results (`GuestStamps`) and their counts (`GuestCounts`): `Matrix.stamp_walk`."""
        return self._paused(self.matrix.stamp_walk(self.guests))

    def counted(self) -> Iterator[tuple]:
        """The chunks as writers of cells only take them (`can_stamp`): per guest, its cells (`GuestCells`), no
        results, and their counts (`GuestCounts`) from the shared rows: `Matrix.count_walk`."""
        return self._paused(self.matrix.count_walk(self.guests))

    def _paused(self, walk: Iterator[tuple]) -> Iterator[tuple]:
        """A walk's chunk per guest, the collector paused while the engine works, not while the caller consumes it."""
        for _ in self.guests:
            with collector_paused():
                chunk = next(walk)
            yield chunk

    def __iter__(self) -> Iterator[tuple[list[Cell], list[Result]]]:
        matrix = self.matrix
        walk = matrix.walk(True, self.guests)
        name, cells, kept, merged = None, [], [], False
        for guest in self.guests:
            with collector_paused():  # while the engine works, not while the caller consumes a chunk
                row, found = next(walk)
            if (cells or kept) and guest["name"] != name:
                yield cells, kept if matrix.in_order and not merged else sort_results(kept)
                cells, kept, merged = [], [], False
            if guest["name"] == name or not guest["host"]:
                merged = True  # guests of one name (INV-DUPLICATE-GUEST) share a chunk: results sorted again
            name = guest["name"]
            cells.extend(row)
            kept.extend(found)
        if cells or kept:
            yield cells, kept if matrix.in_order and not merged else sort_results(kept)
