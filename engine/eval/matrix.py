"""Stage: the matrix of guests x targets, evaluated once per class of subjects.

Input: an `Engine` (compiled rules, indexed snapshot), a mode, optionally a subset of the
guests and of the targets. Output: a `Matrix` whose cells and results are produced on
demand, guest by guest (`Matrix.rows()`, `Matrix.walk()`, `Matrix.pairs()`), so that a
caller can stream them; `check` is the matrix of one pair, `where` of one guest.

A rule reads only some fields of its subjects (`CompiledRule.reads`). Its class key for a
guest is the value of every guest- or source-side field it reads, for a target every
target-side field; keys are typed (`true`, `1` and `1.0` differ, so do a map and a string),
so two subjects with equal keys give the rule equal outcomes. Keys are made coarser where
the rule cannot tell the difference, and finer again the moment that could be wrong:

- a guest-side list the rule reads in no order (`for x in distinct(LIST)`, `count(...)`) is
  keyed as a multiset; an `error` outcome makes that rule's guest keys ordered again (an
  error stops a loop at a place the order decides);
- a target the rule sees only through counted key lookups (`count(f in target.dio_functions
  where f.label == label)`, `lang/joins.py`) is keyed by those counts; a lookup that has to
  scan makes that rule's target keys the fields read;
- a rule whose first step is a `when` on constants that is false (the online rules of an
  offline matrix) has one class.

What each rule allows of these is worked out from its AST at compile time
(`CompiledRule.sharing`, lang/analysis/sharing.py); the matrix itself never walks the AST.

Class ids are computed once per guest (from one vector of views) and once per target; the
rule runs once per (guest class, target class) and its outcome is a row: the target
positions where it fails or errs. Equal rows share an id, a guest's row of cells is the
combination of its rules' row ids, and guests with the same combination share it: the
per-pair work is a table lookup.

Results are made only for pairs a rule fails or errs on, through the one evaluation path
(`Engine.outcomes`; waivers attached as each result is made). Their texts name the actual
guest and target, yet are rendered once per class of pairs that look alike to them and
filled with each pair's names (engine/texts.py). A guest's results come in report order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import attrgetter, itemgetter

from ..core.keys import project, view
from ..core.perf import collector_paused
from ..core.results import Cell, Result, Subject
from ..core.verdicts import cell_verdict, exit_code, fails_at
from ..core.vocabulary import BLOCKED, ERROR_SEVERITY, UNCAPTURED, UNKNOWN
from ..core.vocabulary import PROBLEMS as _PROBLEMS
from ..lang.analysis.sharing import GUEST_SIDE as _GUEST_SIDE, TARGET_NAMES as _TARGET_NAMES
from ..lang.compiler import ERROR, FAIL, CompiledRule
from .tally import GuestCounts, Tallies
from .texts import GuestStamps, Texts, text_paths
from .uncaptured import constant_false, met, parts_read, run_constants

(_TARGET,) = _TARGET_NAMES


class _Plan:
    """One rule in the matrix: its read paths split by side, and its outcome rows by class."""

    __slots__ = ("rule", "guest_paths", "target_paths", "target_class", "classes", "outcomes", "rows", "bit",
                 "reads_target", "counted", "unordered", "row_ids", "constant", "getter",
                 "single", "text_paths", "unknown_parts")

    def __init__(self, rule: CompiledRule, bit: int):
        self.rule = rule
        self.bit = bit
        guest_paths, target_paths = [], []
        for path in sorted(rule.reads, key=repr):
            if path[0] in _GUEST_SIDE:
                guest_paths.append((_GUEST_SIDE[path[0]], path[1:]))
            elif path[0] in _TARGET_NAMES:
                target_paths.append(path[1:])
        self.guest_paths = tuple(guest_paths)
        # guest-side lists the rule reads in no order: (side, field) -> the paths below it
        self.unordered: dict = {}
        free = rule.sharing.order_free
        for side, rest in guest_paths:
            if len(rest) >= 1 and (side, rest[0]) in free:
                self.unordered.setdefault((side, rest[0]), []).append(rest[1:])
        self.target_paths = tuple(target_paths)
        self.reads_target = rule.subject == "migration" and bool(target_paths)
        self.target_class: list[int] = []
        self.classes: dict = {}  # key -> class id (guests)
        self.outcomes: dict = {}  # (guest class, target class) -> statuses that are problems
        self.rows: dict = {}  # guest class -> ((target position, statuses), ...)
        self.row_ids: dict = {}  # guest class -> id of its row (equal rows, one id)
        self.counted = rule.sharing.counted if self.reads_target else None
        self.constant = False  # its first step is a `when` on constants that is false: not applicable anywhere
        self.getter = None
        self.single: bool = rule.sharing.single
        self.text_paths: tuple | None = None  # what its texts read of a target (texts.py); None: pair by pair
        # the parts of its guest it reads: a guest's unknown parts among them are part of its class (uncaptured.py)
        self.unknown_parts: frozenset = parts_read(rule)[0]

    def by_vsp(self) -> None:
        """Class its pairs by the guest's VSP and the target too: the rule reads parts of other guests that
        some guest of the estate lacks, and errs on the VSPs where such a guest is (uncaptured.py)."""
        self.guest_paths += (("guest", ("host",)),)
        if self.rule.subject == "migration":
            self.target_paths += (("name",),)
            self.reads_target = True
            self.counted = None

    def key_specs(self) -> tuple:
        """The views of a guest (and its host) that make up this rule's guest class key."""
        if self.constant:
            # only whether the guest's host is known matters (a rule reading it errs without it)
            return (("missing",),) if any(side == "host" for side, _ in self.guest_paths) else ()
        unordered = self.unordered
        specs = [("path", side, rest) for side, rest in self.guest_paths
                 if not rest or (side, rest[0]) not in unordered]
        specs += [("multiset", side, field, tuple(rests)) for (side, field), rests in unordered.items()]
        if self.unknown_parts:
            specs.append((UNCAPTURED, "guest", self.unknown_parts))
        return tuple(specs)


def _multiset(value, rests: list):
    """A list's items projected on `rests`, in sorted order: equal for equal multisets."""
    if type(value) is not list:
        return ("#ordered",) + tuple(project(value, r) for r in rests)
    items = [tuple(project(item, r) for r in rests if r != ("#",)) for item in value]
    return ("#multiset",) + tuple(sorted(items, key=repr))


def _in_target_order(by_target: list, own_results: list) -> list:
    """The pairs' results by target position (`Matrix._results`), then the guest rules' own."""
    found = []
    for results in by_target:
        if results:
            found.extend(results)
    if not found:
        return own_results
    found.extend(own_results)
    return found


class _Views:
    """Projections of subjects, computed once per (subject, path)."""

    def __init__(self):
        self.cache: dict = {}

    def of(self, obj, rest: tuple):
        key = (id(obj), rest)
        found = self.cache.get(key)
        if found is None:
            found = view(obj, rest)
            self.cache[key] = (found, obj)  # keep obj alive: its id stays unique
            return found
        return found[0]


def _view(spec: tuple, obj):
    """A guest's or host's view for a class key: a projection on a path, or a list as a multiset."""
    if spec[0] == "path":
        return view(obj, spec[2])
    if spec[0] == UNCAPTURED:
        return met(obj, spec[2])
    return ("#id", id(obj)) if obj is None else _multiset(obj.get(spec[2]), list(spec[3]))


class _Reclass(Exception):
    """A rule's guest classes were made finer: compute the guest's row again."""


class Matrix:
    """Guests x targets for one mode. `guests`/`targets`: subsets (default every guest, every host)."""

    def __init__(self, engine, mode: str, guests: list[dict] | None = None, targets: list[dict] | None = None,
                 share: bool = True):
        self.engine = engine
        self.mode = mode
        self.share = share
        snapshot = engine.snapshot
        self.guests = list(snapshot.guests if guests is None else guests)
        self.targets = list(snapshot.hosts if targets is None else targets)
        self._views = _Views()
        rules = engine.by_subject["guest"] + engine.by_subject["migration"]
        self.plans = [_Plan(rule, 1 << i) for i, rule in enumerate(rules)]
        self._rule_of_bit = {p.bit: p.rule for p in self.plans}
        constants = run_constants(engine, mode)
        self._specs: dict = {}  # view spec -> its position in a guest's vector of views
        self._host_views: dict = {}  # (spec position, id(host)) -> view: a host's views serve all its guests
        for plan in self.plans:
            plan.constant = share and constant_false(plan.rule, constants)
            if plan.constant:
                plan.reads_target = False
                plan.counted = None
                plan.unordered = {}
            elif share:
                others = parts_read(plan.rule)[1]
                if others and engine.partial().meets(others):
                    plan.by_vsp()
            self._class_targets(plan)
            self._set_specs(plan)
            if share:
                plan.text_paths = text_paths(plan.rule)
        # the plans by rule id, the order of a pair's results (`walk`)
        self._by_id = sorted(range(len(self.plans)), key=lambda i: self.plans[i].rule.id)
        names = [t["name"] for t in self.targets]
        self._position = {name: j for j, name in enumerate(names)}  # (with names repeated, the last's: `units` only
        # runs with names in order, each once)
        ids = [p.rule.id for p in self.plans]
        # a guest's results come sorted (`walk`): targets in name order, rule ids unique
        self.in_order = all(a < b for a, b in zip(names, names[1:])) and len(set(ids)) == len(ids)
        self._signatures: dict = {}  # tuple of row ids -> row of cells (verdict, failing, ...) per target position
        self._row_ids: dict = {}  # (rule bit, row) -> row id
        self._labels: dict = {}  # bit mask -> (verdict, failing)
        self._plans_by_bits: dict = {}  # rule bits -> `_plans_of` them
        self.evaluations = 0  # rule runs for classes (a measure of the sharing, for tests and benchmarks)
        self.fails_seen = 0  # rule bits that failed (not waived) in some cell walked so far
        self.errors_seen = 0  # rule bits that erred in some cell walked so far
        self._last: tuple = (None, ())  # the guest whose row was made last, and its classes
        self._ready: dict = {}  # id(guest) -> (guest, row, classes) that `verdict` made for the walk
        self._stamp_texts: Texts | None = None  # the text classes of `stamp_walk`, kept between its walks
        self._tallies: Tallies | None = None  # the counts of `count_walk`, kept between its walks

    # -- classes and rows ---------------------------------------------------------------------
    def _class_targets(self, plan: _Plan) -> None:
        classes: dict = {}
        plan.target_class = []
        for j, target in enumerate(self.targets):
            if not self.share:
                key = (j,)
            elif not plan.reads_target:
                key = ()
            else:
                key = self._counted_key(plan, target) if plan.counted else None
                if key is None:
                    key = ("#read",) + tuple(self._views.of(target, rest) for rest in plan.target_paths)
            plan.target_class.append(classes.setdefault(key, len(classes)))

    @staticmethod
    def _counted_key(plan: _Plan, target: dict) -> tuple | None:
        env = {_TARGET: target}
        key = ["#counted"]
        for lookup in plan.counted:
            try:
                counts = lookup.counts(lookup.source(env))
            except Exception:  # noqa: BLE001 - classed by what it reads instead
                return None
            if counts is None:
                return None
            key.append(counts)
        return tuple(key)

    def _set_specs(self, plan: _Plan) -> None:
        specs = self._specs
        positions = [specs.setdefault(spec, len(specs)) for spec in plan.key_specs()]
        if not positions:
            plan.getter = lambda vector: ()
        elif len(positions) == 1:
            only = positions[0]
            plan.getter = lambda vector: (vector[only],)
        else:
            plan.getter = itemgetter(*positions)

    def _vector(self, guest: dict, host: dict | None) -> list:
        """Every view any rule's guest class key needs, for this guest."""
        out = []
        host_views = self._host_views
        for spec, position in self._specs.items():
            if spec[0] == "missing":
                out.append(host is None)
                continue
            if spec[1] == "host":
                key = (position, id(host))
                found = host_views.get(key)
                if found is None:
                    found = host_views[key] = _view(spec, host)
                out.append(found)
            else:
                out.append(_view(spec, guest))
        return out

    def _guest_class(self, plan: _Plan, guest: dict, host: dict | None, vector: list | None = None) -> int:
        if not self.share:
            key = (id(guest),)
        else:
            key = plan.getter(self._vector(guest, host) if vector is None else vector)
        found = plan.classes.get(key)
        if found is None:
            found = plan.classes[key] = len(plan.classes)
        return found

    def _row(self, plan: _Plan, guest_class: int, guest: dict, host: dict | None) -> tuple:
        """The (target position, statuses) where `plan`'s rule fails or errs for this guest class."""
        row = plan.rows.get(guest_class)
        if row is not None:
            return row
        out = []
        if not plan.reads_target:
            statuses = plan.outcomes.get((guest_class, 0))
            if statuses is None and self.targets:
                statuses = self._statuses(plan, (guest_class, 0), guest, host, self.targets[0])
            if statuses:
                out = [(j, statuses) for j in range(len(self.targets))]
        else:
            outcomes = plan.outcomes
            for j, target in enumerate(self.targets):
                key = (guest_class, plan.target_class[j])
                statuses = outcomes.get(key)
                if statuses is None:
                    statuses = self._statuses(plan, key, guest, host, target, j)
                if statuses:
                    out.append((j, statuses))
        row = tuple(out)
        # equal rows get one id: a guest's row of cells depends on its rules' rows, not on its classes
        row_id = self._row_ids.setdefault((plan.bit, row), len(self._row_ids))
        plan.row_ids[guest_class] = row_id
        plan.rows[guest_class] = row
        return row

    def _statuses(self, plan: _Plan, key: tuple, guest: dict, host: dict | None, target: dict | None,
                  position: int = 0) -> frozenset:
        self.evaluations += 1
        counted = plan.counted
        before = sum(lk.fallbacks for lk in counted) if counted else 0
        rule = plan.rule
        subject = (Subject("migration", guest=guest, target=target, mode=self.mode) if rule.subject == "migration"
                   else Subject("guest", guest=guest, mode=self.mode))
        outcomes = self.engine.outcomes(rule, subject)
        statuses = frozenset(o.status for o in outcomes) & _PROBLEMS
        if plan.unordered and ERROR in statuses:
            # an error may stop a loop where the order of a list decides: class guests by ordered lists
            plan.unordered = {}
            plan.classes = {("#ordered", k): v for k, v in plan.classes.items()}
            self._set_specs(plan)
            raise _Reclass
        if counted and sum(lk.fallbacks for lk in counted) != before:
            # a lookup scanned: this outcome may depend on more than counts; class targets by their reads
            # from now on (outcomes shared so far came from lookups, and stand)
            plan.counted = None
            self._class_targets(plan)
            plan.outcomes.clear()
            key = (key[0], plan.target_class[position])
        plan.outcomes[key] = statuses
        return statuses

    def _label(self, fails: int, errors: int) -> tuple:
        """(verdict, failing rule ids, fails, errors) for a cell whose rules fail and err as the bit masks say."""
        key = (fails, errors)
        found = self._labels.get(key)
        if found is None:
            rule_of = self._rule_of_bit
            blocked = any(rule_of[b].severity == ERROR_SEVERITY for b in _bits(fails))
            verdict = cell_verdict(blocked, bool(errors))
            failing = sorted({rule_of[b].id for b in _bits(fails | errors)})
            found = self._labels[key] = (verdict, failing, fails, errors)
        return found

    def guest_row(self, guest: dict) -> list:
        """(verdict, failing rule ids, fails, errors) per target position for `guest`, before waivers."""
        host = self.engine.snapshot.host_by_name.get(guest["host"])
        while True:
            try:
                return self._guest_row(guest, host)
            except _Reclass:
                continue

    def _guest_row(self, guest: dict, host: dict | None) -> list:
        vector = self._vector(guest, host) if self.share else None
        classes = tuple(self._guest_class(plan, guest, host, vector) for plan in self.plans)
        self._last = (guest, classes)
        rows = [self._row(plan, c, guest, host) for plan, c in zip(self.plans, classes)]
        signature = tuple(plan.row_ids[c] for plan, c in zip(self.plans, classes))
        row = self._signatures.get(signature) if self.share else None
        if row is not None:
            return row
        n = len(self.targets)
        fails = [0] * n
        errors = [0] * n
        for plan, plan_row in zip(self.plans, rows):
            bit = plan.bit
            for j, statuses in plan_row:
                if FAIL in statuses:
                    fails[j] |= bit
                if ERROR in statuses:
                    errors[j] |= bit
        label = self._label
        row = [label(f, e) for f, e in zip(fails, errors)]
        if self.share:
            self._signatures[signature] = row
        return row

    # -- what callers read --------------------------------------------------------------------
    def rows(self) -> Iterator[tuple[dict, list, tuple]]:
        """(guest, target names, cells) per guest, its own host left out, before waivers.

        `cells[i]` is `(verdict, failing rule ids, ...)` for target `names[i]`; cells are
        shared between pairs and guests, read them only.
        """
        names = [t["name"] for t in self.targets]
        but: dict = {}  # own host -> (names of the other targets, their positions as a getter)
        counted: dict = {}
        for guest in self.guests:
            own = guest["host"]
            found = but.get(own)
            if found is None:
                positions = [j for j, n in enumerate(names) if n != own]
                if len(positions) == 1:
                    only = positions[0]
                    getter = lambda row, only=only: (row[only],)  # noqa: E731
                else:
                    getter = itemgetter(*positions) if positions else (lambda row: ())
                found = but[own] = ([names[j] for j in positions], getter)
            row = self.guest_row(guest)
            cells = found[1](row)
            if (id(row), own) not in counted:  # rows are shared: count each (row, own host) once
                counted[(id(row), own)] = row  # (kept alive, so its id stays its own)
                for cell in cells:
                    self.fails_seen |= cell[2]
                    self.errors_seen |= cell[3]
            yield guest, found[0], cells

    def pairs(self) -> Iterator[tuple[str, str, str, list]]:
        """(guest name, target name, verdict, failing) for every pair, before waivers."""
        for guest, names, cells in self.rows():
            gname = guest["name"]
            for name, cell in zip(names, cells):
                yield gname, name, cell[0], cell[1]

    def walk(self, results: bool = True, guests: list[dict] | None = None) -> Iterator[tuple[list[Cell], list[Result]]]:
        """Per guest (of `guests`, default the matrix's): its cells and, with `results`, its failed and
        errored results, waivers attached.

        The engine attaches waivers as results are made; a rule some waiver names is decided
        pair by pair from its results (a waived failure does not count), every other rule's
        row is taken as shared. With the targets in name order (`in_order`), a guest's results
        come in `Result.sort_key` order: by target, then rule id, then item, and its guest
        rules' after its migrations' (their subject names a host where a migration's has none).
        """
        mode = self.mode
        snapshot = self.engine.snapshot
        waivers = self.engine.waivers
        # rules some waiver names (by id or pattern): decided pair by pair from their results
        waived_rules = waivers.waived_rules(p.rule.id for p in self.plans) if waivers is not None else set()
        texts = Texts(self.engine, self.targets, self._views)
        for guest in self.guests if guests is None else guests:
            own = guest["host"]
            gname = guest["name"]
            host = snapshot.host_by_name.get(own)
            ready = self._ready.pop(id(guest), None)
            if ready is not None:  # `verdict` made its row: the same cells, and no second look-up
                row = ready[1]
                self._last = (guest, ready[2])
            else:
                row = self.guest_row(guest)
            decided: dict[int, list] = {}  # target position -> [(bit, counted statuses)]
            found = _in_target_order(*self._results(guest, host, results, waived_rules, texts, decided)) \
                if results or waived_rules else []
            cells = []
            for j, target in enumerate(self.targets):
                name = target["name"]
                if name == own:
                    continue
                cell = row[j]
                if j in decided:
                    fails, errors = cell[2], cell[3]
                    for bit, counted in decided[j]:
                        fails = fails | bit if FAIL in counted else fails & ~bit
                        errors = errors | bit if ERROR in counted else errors & ~bit
                    cell = self._label(fails, errors)
                self.fails_seen |= cell[2]
                self.errors_seen |= cell[3]
                cells.append(Cell(gname, own, name, mode, cell[0], cell[1]))  # the label's list: read only
            yield cells, found

    def _results(self, guest: dict, host: dict | None, results: bool, waived_rules: set, texts: Texts,
                 decided: dict, units: GuestCounts | None = None, bits: int | None = None) -> tuple[list, list]:
        """The guest's failed and errored results (with `results`; else only those of waivable rules,
        for `decided`): per target position, its results in `walk`'s order (None: none), and the guest rules'.
        `units` (no waiver in play): a text class's results not made, each an (entry, outcome index),
        and every result counted into `units`. `bits`: the rules failing or erring in the guest's cells (no
        waiver in play): only those and the guest rules are looked at (`_plans_of`)."""
        engine, mode, own = self.engine, self.mode, guest["host"]
        location = engine.snapshot.locate(guest) if results else None
        assert self._last[0] is guest
        classes = self._last[1]  # of this guest: guest_row has just computed them
        texts.guest(guest, host)
        by_target: list = [None] * len(self.targets)  # per target position, its results, rules in id order
        own_results: list[Result] = []  # the guest rules'
        pair_names: dict[int, dict] = {}  # target position -> the results' subject (shared: read only)
        for index in self._by_id if bits is None else self._plans_of(bits):
            plan = self.plans[index]
            rule = plan.rule
            waivable = rule.id in waived_rules
            if not (results or waivable):
                continue
            problem_row = self._row(plan, classes[index], guest, host)
            if not problem_row:
                continue
            if rule.subject == "guest":
                rendered = self._guest_results(plan, guest, location, problem_row, waivable, decided)
                if results:
                    own_results.extend(rendered)
                if units is not None:
                    units.add(rule.severity, rendered)
                continue
            single, paths = plan.single, plan.text_paths
            entries = texts.row(rule, paths) if paths is not None else None
            if units is not None and single and entries is not None:  # the pairs but those that err, at once
                problem_row, added = texts.units(entries, rule, paths, problem_row, self._position.get(own), guest,
                                                 mode, by_target)
                units.failed[rule.severity] = units.failed.get(rule.severity, 0) + added
            for j, statuses in problem_row:
                target = self.targets[j]
                if target["name"] == own:
                    continue
                names = pair_names.get(j)
                if names is None:
                    names = pair_names[j] = {"guest": guest["name"], "source": own, "target": target["name"],
                                             "mode": mode}
                rendered = self._pair_results(plan, entries, texts, j, statuses, guest, names, location,
                                              units is not None)
                if units is not None:
                    units.add(rule.severity, rendered)
                if waivable:
                    decided.setdefault(j, []).append(
                        (plan.bit, frozenset(r.status for r in rendered if r.waiver is None)))
                if results and rendered:
                    bucket = by_target[j]
                    if bucket is None:
                        by_target[j] = rendered if type(rendered) is list else list(rendered)
                    else:
                        bucket.extend(rendered)
        return by_target, own_results

    def _pair_results(self, plan: _Plan, entries: dict | None, texts: Texts, j: int, statuses: frozenset,
                      guest: dict, names: dict, location, units: bool) -> list:
        """A migration rule's results for the guest and target `j` (`_results`)."""
        rule, mode = plan.rule, self.mode
        entry = None
        if entries is not None and ERROR not in statuses:
            # outcomes and texts once per text class of pairs (texts.py)
            entry = texts.entry(entries, rule, plan.text_paths, j, guest, mode, FAIL if plan.single else None)
        if entry is not None and plan.single:
            return [texts.decided(rule, entry, j, names, location)]
        if entry is not None:
            if units:  # the class's units, shared by its pairs (a tuple: every one a failure)
                shared = entry.shared_units()
                if shared is not False:
                    return shared
            elif entry.shareable():
                return _by_item(texts.results(rule, entry, j, names, location))
        # an error, or `share=False` (the reference): the pair's own run
        return _by_item(self._problems(rule, Subject("migration", guest=guest, target=self.targets[j], mode=mode),
                                       location))

    def stamp_walk(self, guests: list[dict]) -> Iterator[tuple["GuestCells", GuestStamps, GuestCounts]]:
        """Per guest of `guests`, with no waiver in play: its cells (`GuestCells`, made only if asked), its
        failed and errored results as `walk` makes them but a text class's results not made
        (`texts.GuestStamps`), and those results counted (`tally.GuestCounts`)."""
        assert self.engine.waivers is None or not self.engine.waivers.items, "a waiver decides results one by one"
        mode = self.mode
        snapshot = self.engine.snapshot
        if self._stamp_texts is None:  # kept between walks: a later walk (another process's share) finds the classes
            self._stamp_texts = self.new_texts()
        texts = self._stamp_texts
        names = [t["name"] for t in self.targets]
        but: dict = {}  # own host -> the other target positions
        for guest in guests:
            own = guest["host"]
            ready = self._ready.pop(id(guest), None)
            if ready is not None:  # `verdict` made its row
                row = ready[1]
                self._last = (guest, ready[2])
            else:
                row = self.guest_row(guest)
            counts = GuestCounts((), {}, 0)
            cells = self._guest_cells(guest, row, names, but)
            by_target, own_results = self._results(guest, snapshot.host_by_name.get(own), True, set(), texts, {},
                                                   units=counts, bits=cells.bits)
            yield cells, GuestStamps(texts, guest, mode, by_target, names, own_results), counts

    def count_walk(self, guests: list[dict]) -> Iterator[tuple["GuestCells", None, GuestCounts]]:
        """Per guest of `guests`, with no waiver in play: its cells (`GuestCells`) and its failed and errored
        results counted from the shared rows (`tally.Tallies`, as the table's digest counts them), none made
        nor its text class: for writers of cells only (`csv-cells`)."""
        assert self.engine.waivers is None or not self.engine.waivers.items, "a waiver decides results one by one"
        if self._tallies is None:  # kept between walks, as `_stamp_texts`
            self._tallies = Tallies(self)
        tallies = self._tallies
        names = [t["name"] for t in self.targets]
        but: dict = {}  # own host -> the other target positions
        for guest in guests:
            self._ready.pop(id(guest), None)  # (a verdict's row, asked again below: a look-up)
            row, counts = tallies.guest(guest)
            yield self._guest_cells(guest, row, names, but), None, counts

    def _guest_cells(self, guest: dict, row: list, names: list, but: dict) -> "GuestCells":
        """The guest's `GuestCells` (its row but its own host, `but` keeping the other target positions per
        host), its cells' failing and erring rules added to those walked (`exit_code`)."""
        own = guest["host"]
        positions = but.get(own)
        if positions is None:
            positions = but[own] = [j for j, name in enumerate(names) if name != own]
        fails = errors = 0
        for j in positions:
            fails |= row[j][2]
            errors |= row[j][3]
        self.fails_seen |= fails
        self.errors_seen |= errors
        return GuestCells(guest, self.mode, names, row, positions, fails | errors)

    def _plans_of(self, bits: int) -> tuple:
        """The indexes of the plans of the rules of `bits` and of every guest rule, in rule id order (`_by_id`):
        a migration rule whose bit no cell of a guest has has no result for it (every failed or erred pair sets
        its bit in its cell), and a guest rule has its results even where the guest has no cell. At
        200 x 10,000 (offline), a guest's walk looks at 12.8 of the 46 rules on average."""
        found = self._plans_by_bits.get(bits)
        if found is None:
            if len(self._plans_by_bits) > 4096:
                self._plans_by_bits.clear()
            plans = self.plans
            found = self._plans_by_bits[bits] = tuple(i for i in self._by_id if plans[i].bit & bits
                                                      or plans[i].rule.subject == "guest")
        return found

    def rules_of(self, mask: int) -> list[CompiledRule]:
        """The rules whose bits are set in `mask` (a label's failing or erring rules), in bit order."""
        rule_of = self._rule_of_bit
        return [rule_of[b] for b in _bits(mask)]

    def _guest_results(self, plan: _Plan, guest: dict, location, problem_row, waivable: bool,
                       decided: dict) -> list[Result]:
        """A guest rule's results for the guest; when the rule is waivable, what they count, in `decided`
        for every target of its row."""
        rendered = _by_item(self._problems(plan.rule, Subject("guest", guest=guest, mode=self.mode), location))
        if waivable:
            counted = frozenset(r.status for r in rendered if r.waiver is None)
            for j, _ in problem_row:
                decided.setdefault(j, []).append((plan.bit, counted))
        return rendered

    def _problems(self, rule: CompiledRule, subject: Subject, location) -> list[Result]:
        """The rule's failed and errored results for this subject, pair by pair (messages, waivers)."""
        engine = self.engine
        names = subject.names()
        return [engine.result(rule, o, names, location, True) for o in engine.outcomes(rule, subject)
                if o.status in _PROBLEMS]

    def exit_code(self, fail_on: str) -> int:
        """`verdicts.exit_code` of the cells walked: 1 for counted failures at or above `fail_on`,
        else 3 when a rule could not be evaluated, else 0."""
        rule_of = self._rule_of_bit
        return exit_code(any(fails_at(rule_of[b].severity, fail_on) for b in _bits(self.fails_seen)),
                         bool(self.errors_seen))

    def verdict(self, guests: list[dict] | None = None) -> str:
        """The verdict of the cells (`verdicts.cell_verdict` over them all; of `guests`' only, a share of the
        matrix's), waivers applied, without making results: from the shared rows, or by a walk without
        results when a waiver could decide."""
        blocked = unknown = False
        waivers = self.engine.waivers
        if waivers is not None and waivers.items:
            with collector_paused():
                for cells, _ in self.walk(results=False, guests=guests):
                    for cell in cells:
                        blocked |= cell.verdict == BLOCKED
                        unknown |= cell.verdict == UNKNOWN
            return cell_verdict(blocked, unknown)
        names = [t["name"] for t in self.targets]
        seen: dict = {}
        with collector_paused(kept=True):  # the rows, kept for the walk that follows
            for guest in self.guests if guests is None else guests:
                row = self.guest_row(guest)
                self._ready[id(guest)] = (guest, row, self._last[1])  # for the walk that follows
                own = guest["host"]
                if (id(row), own) in seen:
                    continue
                seen[(id(row), own)] = row  # (kept alive, so its id stays its own)
                for name, cell in zip(names, row):
                    if name != own:
                        self.fails_seen |= cell[2]
                        self.errors_seen |= cell[3]
                        blocked |= cell[0] == BLOCKED
                        unknown |= cell[0] == UNKNOWN
        return cell_verdict(blocked, unknown)

    def cells(self) -> Iterator[Cell]:
        for cells, _ in self.walk(results=False):
            yield from cells

    # -- for reports that count results instead of making them (eval/tally.py) -----------------
    def classes_of(self, guest: dict) -> tuple[list, tuple]:
        """`guest_row(guest)` and the guest's class per plan (in `plans` order): with a plan's `rows`
        and `target_class`, which outcomes its rule has for each of the guest's pairs, before waivers."""
        row = self.guest_row(guest)
        assert self._last[0] is guest
        return row, self._last[1]

    def problem_outcomes(self, index: int, guest: dict, position: int) -> list:
        """The failed and errored outcomes of plan `index`'s rule for `guest` and the target at
        `position` (a guest rule: for the guest), through the one evaluation path."""
        rule = self.plans[index].rule
        subject = (Subject("migration", guest=guest, target=self.targets[position], mode=self.mode)
                   if rule.subject == "migration" else Subject("guest", guest=guest, mode=self.mode))
        return [o for o in self.engine.outcomes(rule, subject) if o.status in _PROBLEMS]

    def results_of(self, guest: dict, rule_ids, texts: Texts | None = None) -> list[Result]:
        """The guest's failed and errored results of the rules `rule_ids` only (None: every rule), in
        `walk`'s order, as `walk` makes them but deciding no cell (no waiver may be in play: the caller
        counts the rest, `eval.tally`). `texts`: a `new_texts()` kept between calls."""
        snapshot = self.engine.snapshot
        host = snapshot.host_by_name.get(guest["host"])
        self.guest_row(guest)  # the guest's classes, which `_results` reads
        every = self._by_id
        if rule_ids is not None:  # `_results` walks the plans of `_by_id`: only these, this once
            self._by_id = [i for i in every if self.plans[i].rule.id in rule_ids]
        try:
            found = _in_target_order(*self._results(guest, host, True, set(), texts or self.new_texts(), {}))
        finally:
            self._by_id = every
        return found if rule_ids is None else [r for r in found if r.rule in rule_ids]

    def new_texts(self) -> Texts:
        """The text classes of this matrix's pairs (`texts.Texts`), for `results_of`."""
        return Texts(self.engine, self.targets, self._views)


class GuestCells:
    """One guest's cells as `Matrix.walk` makes them with no waiver in play, made only when asked (`cells`):
    its row of shared labels (`Matrix._label`: verdict, failing rule ids, fails and errors as rule bits)
    at the target positions but its host's (`positions`)."""

    __slots__ = ("guest", "mode", "names", "row", "positions", "_cells", "bits")

    def __init__(self, guest: dict, mode: str, names: list, row: list, positions: list, bits: int | None = None):
        self.guest, self.mode, self.names, self.row, self.positions = guest, mode, names, row, positions
        self._cells = None
        self.bits = bits  # the rules that fail or err in its cells (`Matrix._guest_cells`)

    def cells(self) -> list[Cell]:
        if self._cells is None:
            guest, own, mode, names, row = self.guest["name"], self.guest["host"], self.mode, self.names, self.row
            self._cells = [Cell(guest, own, names[j], mode, row[j][0], row[j][1]) for j in self.positions]
        return self._cells

    def labels(self) -> list:
        """The cells' labels, in `cells` order (shared: read only)."""
        row = self.row
        return [row[j] for j in self.positions]

    def verdicts(self) -> dict:
        """How many cells have each verdict."""
        counted: dict = {}
        row = self.row
        for j in self.positions:
            verdict = row[j][0]
            counted[verdict] = counted.get(verdict, 0) + 1
        return counted


def _by_item(results: list[Result]) -> list[Result]:
    """One rule's results for one subject in `Result.sort_key` order (by item; stable)."""
    if len(results) > 1:
        results.sort(key=_item)
    return results


_item = attrgetter("item")


def _bits(mask: int) -> Iterable[int]:
    while mask:
        low = mask & -mask
        yield low
        mask ^= low
