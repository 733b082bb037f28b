"""Waivers: accepted findings with an owner, a reason and an end date.

`load_waivers(path, known_rules)` reads and checks a waiver file (every problem located;
exit 2). `Waivers.apply(results)` attaches the first active matching waiver to each failed
result, which keeps its status (an errored one is never waived: `WAIVABLE`). `notes(days)` lists the waivers that expired,
those this run did not use and, with `days`, those that lapse within that many days.

Matching is indexed by rule id first (then by guest name), so a result meets only the
waivers that name its rule and guest or use a pattern for them: 20,000 waivers cost about
what 20 do (`Waivers.candidates`).

Unused waivers, judged from what the run evaluated (`notes_for_run`, the default): a waiver
when the run evaluated every rule, guest and host of the snapshot it names, on a target it
names (`RunScope`), and that matched nothing there is stale ("matches nothing in this run");
one naming rules or subjects the run did not evaluate (a waiver of every guest in a check of
one pair) is out of scope of this run, unless it names no guest, host or target of the
snapshot at all (`snapshot_scope`): nothing can match it, so it is stale anyway. With `stale_check` (costly: it evaluates the other
commands and modes), a waiver this run did not use is stale only if it matches nothing in
the snapshot for any command: `classify_unused(findings_across_modes(engine, skip))` looks
at the findings of the other commands and modes (audit, matrix offline, matrix online) and
marks the others "out-of-scope" (not in scope of this run: keep it) with where they match.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ..core.results import Result
from ..core.vocabulary import ERROR, FAIL, MODES, PROBLEMS, SCOPES, WAIVABLE
from ..core.words import did_you_mean
from ..estate import view
from ..files.document import Limits, LoadError
from ..files.schemas import Input, load_validated
from .uncaptured import constant_false, run_constants


def today() -> date:
    """The day waivers are judged on: the real date (never SOURCE_DATE_EPOCH, which CI sets to the last
    commit's time and which would make an expired waiver apply again); `--as-of` gives another."""
    return datetime.now(UTC).date()


@dataclass
class Waiver:
    rule: str
    reason: str
    owner: str
    expires: date
    guest: str | None = None
    host: str | None = None
    target: str | None = None
    ticket: str | None = None
    line: int = 0
    used: int = 0
    scope: list = field(default_factory=list)  # for an unused waiver: where else it matches (audit, matrix ...)
    in_run: bool | None = None  # for an unused waiver: whether the run evaluated its rule and subjects (`RunScope`)
    nowhere: bool = False  # for an unused waiver: it names no guest, host or target of the snapshot
    on_errors: int = 0  # results it matches that their rule could not evaluate (no waiver covers one: `WAIVABLE`)
    not_run: bool = False  # its rule(s) are the packs' but the configuration does not run them (`disable`, `tags`)

    def matches(self, result: Result) -> bool:
        """Whether the waiver covers `result`: its rule, and each selector it gives (`guest`, `host` (a migration's
        source), `target`) matching the result's name there. A selector the result has no name for does not
        match it, not even `"*"`: `target: "*"` waives a rule's failures towards any target, not also the
        guest's own failures (no target), which it would hide without naming them."""
        if not fnmatch.fnmatchcase(result.rule, self.rule):
            return False
        subject = result.subject
        return (_selects(self.guest, subject.get("guest"))
                and _selects(self.host, subject.get("host") or subject.get("source"))
                and _selects(self.target, subject.get("target")))

    def to_json(self) -> dict:
        out = {"rule": self.rule}
        for key in ("guest", "host", "target"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(reason=self.reason, owner=self.owner)
        if self.ticket:
            out["ticket"] = self.ticket
        out["expires"] = self.expires.isoformat()
        return out


def _selects(pattern: str | None, name) -> bool:
    """A waiver's selector `pattern` (None: not given, any) against a result's name there (None: it has none)."""
    return pattern is None or (type(name) is str and fnmatch.fnmatchcase(name, pattern))


def horizon(start: date, days: int) -> date:
    """`start` plus `days`, or the last representable day (9999-12-31) when that is later."""
    try:
        return start + timedelta(days=days)
    except OverflowError:
        return date.max


_PATTERN = frozenset("*?[")


def _exact(value: str | None) -> str | None:
    """`value` when it names one thing (no pattern), else None."""
    return value if value is not None and not _PATTERN.intersection(value) else None


class _Index:
    """Waivers by rule id, then guest name: the lists a result with that rule and guest has to look at,
    each in file order (`Waivers.candidates`)."""

    def __init__(self, items: list[Waiver]):
        self.exact: dict = {}  # (rule, guest) -> waivers naming both
        self.by_rule: dict = {}  # rule -> waivers naming it, and no one guest
        self.by_guest: dict = {}  # guest -> waivers with a rule pattern naming that guest
        self.general: list = []  # waivers with a rule pattern and no one guest
        self.general_for: dict = {}  # rule -> the general waivers whose pattern matches it
        for w in items:
            rule, guest = _exact(w.rule), _exact(w.guest)
            if rule is not None and guest is not None:
                self.exact.setdefault((rule, guest), []).append(w)
            elif rule is not None:
                self.by_rule.setdefault(rule, []).append(w)
            elif guest is not None:
                self.by_guest.setdefault(guest, []).append(w)
            else:
                self.general.append(w)

    def lists(self, rule: str, guest: str) -> list[list[Waiver]]:
        found = [lst for lst in (self.exact.get((rule, guest)), self.by_rule.get(rule)) if lst]
        patterned = self.by_guest.get(guest)
        if patterned:
            found.append([w for w in patterned if fnmatch.fnmatchcase(rule, w.rule)])
        general = self.general_for.get(rule)
        if general is None:
            general = self.general_for[rule] = [w for w in self.general if fnmatch.fnmatchcase(rule, w.rule)]
        if general:
            found.append(general)
        return found

    def rules(self, rule_ids: Iterable[str]) -> set[str]:
        """The rule ids among `rule_ids` that some waiver names (by id or pattern)."""
        named = set(self.by_rule) | {rule for rule, _ in self.exact}
        patterns = {w.rule for w in self.general} | {w.rule for lst in self.by_guest.values() for w in lst}
        return {r for r in rule_ids if r in named or any(fnmatch.fnmatchcase(r, p) for p in patterns)}


@dataclass
class Waivers:
    path: str
    items: list[Waiver] = field(default_factory=list)
    today: date = field(default_factory=today)
    sha256: str = ""  # of the bytes read, for the report's manifest
    classified: bool = False  # whether unused waivers were looked for across commands and modes
    _index: _Index | None = field(default=None, repr=False, compare=False)
    _order: dict = field(default_factory=dict, repr=False, compare=False)  # id(waiver) -> its place in the file
    examined: int = 0  # waivers a result was matched against (the cost the index keeps down; tests, benchmarks)

    def index(self) -> _Index:
        """The waivers indexed by rule id and guest (made on first use, again if `items` changed)."""
        if self._index is None or len(self._order) != len(self.items):
            self._index = _Index(self.items)
            self._order = {id(w): i for i, w in enumerate(self.items)}
        return self._index

    def candidates(self, result: Result) -> list[list[Waiver]]:
        """The waivers that may match `result`, as lists in file order (the first match of each is a candidate)."""
        return self.index().lists(result.rule, result.subject.get("guest") or "")

    def first(self, result: Result, active_only: bool = True) -> Waiver | None:
        """The first waiver in file order that matches `result` (and is active, with `active_only`)."""
        lists = self.candidates(result)
        best, place = None, len(self.items)
        order = self._order
        for lst in lists:
            for w in lst:
                if order[id(w)] >= place:
                    break
                self.examined += 1
                if w.matches(result) and (not active_only or self.active(w)):
                    best, place = w, order[id(w)]
                    break
        return best

    def waived_rules(self, rule_ids: Iterable[str]) -> set[str]:
        """The rule ids among `rule_ids` that some waiver names (by id or pattern)."""
        return self.index().rules(rule_ids) if self.items else set()

    def unused(self) -> list[Waiver]:
        return [w for w in self.items if self.active(w) and w.used == 0]

    def classify_unused(self, elsewhere: Callable[[], Iterable[tuple[str, Result]]]) -> None:
        """Record, for each active waiver this run did not use, where else in the snapshot it matches.

        `elsewhere()` yields (command label, result) for the findings of the commands and modes
        this run did not cover; it is only called when some waiver went unused.
        """
        pending = self.unused()
        self.classified = True
        if not pending:
            return
        index = _Index(pending)
        for where, result in elsewhere():
            if result.status not in PROBLEMS:
                continue
            for lst in index.lists(result.rule, result.subject.get("guest") or ""):
                for w in lst:
                    self.examined += 1
                    if result.status not in WAIVABLE:  # a rule error there: said, never covered
                        w.on_errors += w.matches(result)
                    elif where not in w.scope and w.matches(result):
                        w.scope.append(where)

    def judge_in_run(self, scope: "RunScope", every: "RunScope | None" = None) -> None:
        """Mark each active waiver this run did not use by whether the run evaluated its rules and subjects:
        with `every` (every rule and subject of the snapshot), all the snapshot's rules, guests and hosts it names
        (a waiver of every guest is not judged by a check of one), and whether it names none of them."""
        outside = scope.outside(every) if every is not None else None
        for w in self.unused():
            w.in_run = scope.covers(w) and (outside is None or not outside.named_by(w))
            w.nowhere = every is not None and not every.names(w)  # (a rule the configuration does not run: not here)

    def active(self, waiver: Waiver) -> bool:
        return waiver.expires >= self.today

    def waive(self, result: Result) -> None:
        if result.status not in WAIVABLE or result.waiver is not None:
            if result.status == ERROR:  # said of the waiver (`notes`), never applied
                waiver = self.first(result)
                if waiver is not None:
                    waiver.on_errors += 1
            return
        waiver = self.first(result)
        if waiver is not None:
            waiver.used += 1
            result.waiver = waiver.to_json()

    def apply(self, results: list[Result]) -> None:
        for result in results:
            self.waive(result)

    def notes(self, warn_days: int | None = None) -> list[dict]:
        out = []
        for w in self.items:
            extra = {"owner": w.owner} | ({"ticket": w.ticket} if w.ticket else {})
            where = f"{self.path}:{w.line}"
            if not self.active(w):
                out.append({"status": "expired", "rule": w.rule, "expires": w.expires.isoformat(), "location": where,
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) expired on {w.expires.isoformat()} "
                                       "and no longer applies"} | extra)
            elif w.used == 0 and w.not_run:
                out.append({"status": "out-of-scope", "rule": w.rule, "expires": w.expires.isoformat(),
                            "location": where, "scope": [],
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) is not in scope of this run: the "
                                       "configuration does not run its rule (`disable` or `tags`)"} | extra)
            elif w.used == 0 and w.scope:
                out.append({"status": "out-of-scope", "rule": w.rule, "expires": w.expires.isoformat(),
                            "location": where, "scope": list(w.scope),
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) is not in scope of this run; it "
                                       f"matches findings of {', '.join(w.scope)} on this snapshot"} | extra)
            elif w.used == 0 and w.on_errors:
                out.append({"status": "errors-only", "rule": w.rule, "expires": w.expires.isoformat(),
                            "location": where,
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) matches only {w.on_errors} result(s) "
                                       "its rule could not evaluate, which no waiver covers (unknown is never "
                                       "ready): capture what was not captured, or mend the rule"} | extra)
            elif w.used == 0 and not self.classified and w.nowhere:
                out.append({"status": "stale", "rule": w.rule, "expires": w.expires.isoformat(), "location": where,
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) matches nothing in this snapshot for "
                                       "any command: it names no guest, host or target of it; remove it if the "
                                       "finding is gone"} | extra)
            elif w.used == 0 and not self.classified and w.in_run is False:
                out.append({"status": "out-of-scope", "rule": w.rule, "expires": w.expires.isoformat(),
                            "location": where, "scope": [],
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) is not in scope of this run: it "
                                       "names rules or subjects the run did not evaluate (`--stale-check` looks for it "
                                       "in every command and mode, at the cost of evaluating them)"} | extra)
            elif w.used == 0:
                anywhere = "in this snapshot for any command" if self.classified else "in this run"
                out.append({"status": "stale", "rule": w.rule, "expires": w.expires.isoformat(), "location": where,
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) matches nothing {anywhere}; "
                                       "remove it if the finding is gone"} | extra)
            elif warn_days is not None and w.expires <= horizon(self.today, warn_days):
                days = (w.expires - self.today).days
                out.append({"status": "expiring", "rule": w.rule, "expires": w.expires.isoformat(), "location": where,
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) lapses in {days} day(s), on "
                                       f"{w.expires.isoformat()}"} | extra)
        return out


@dataclass
class RunScope:
    """What a run evaluated, as a waiver names it: the rules run and the names of their subjects
    (guests, their VSPs, targets). A matrix covers every guest with every target named."""

    rules: frozenset
    guests: frozenset
    hosts: frozenset
    targets: frozenset

    def covers(self, waiver: Waiver) -> bool:
        """Whether the run evaluated a rule and a subject this waiver names."""
        return _any_match(self.rules, waiver.rule) and self.names(waiver)

    def names(self, waiver: Waiver) -> bool:
        """Whether the waiver's guest, host and target name some of these (none named: any)."""
        return all(_any_match(names, pattern) for names, pattern in (
            (self.guests, waiver.guest), (self.hosts, waiver.host), (self.targets, waiver.target)))

    def outside(self, every: "RunScope") -> "RunScope":
        """The rules, guests and hosts of `every` (the snapshot's) this run did not evaluate."""
        return RunScope(every.rules - self.rules, every.guests - self.guests, every.hosts - self.hosts, frozenset())

    def named_by(self, waiver: Waiver) -> bool:
        """Whether the waiver names one of these rules or guests (no guest: every guest), or of these hosts
        when it names hosts (without, its guests decide where it applies)."""
        return (_any_match(self.rules, waiver.rule)
                or (bool(self.guests) if waiver.guest is None else _any_match(self.guests, waiver.guest))
                or (waiver.host is not None and _any_match(self.hosts, waiver.host)))


def _any_match(names: frozenset, pattern: str | None) -> bool:
    if pattern is None:
        return True
    if _exact(pattern) is not None:
        return pattern in names
    match = re.compile(fnmatch.translate(pattern)).match
    return any(match(n) for n in names)


def run_scope(engine, command: str, mode: str | None = None, guests: list[dict] | None = None,
              targets: list[dict] | None = None) -> RunScope:
    """What `command` evaluated on the engine's snapshot: `audit` its host, guest and snapshot rules on
    every host and guest; `matrix` and `check` (`guests`, `targets`: the pairs asked, default all) the
    guest and migration rules that apply in `mode` (the waiver of a rule of the other mode is out of
    scope); any other command (`plan`, `place`...) the same, on every guest and VSP."""
    snapshot = engine.snapshot
    if command == "audit":
        kinds, guests, targets = ("host", "guest", "snapshot"), snapshot.guests, []
        hosts = {h["name"] for h in snapshot.hosts}
    else:
        kinds = ("guest", "migration")
        guests = snapshot.guests if guests is None else guests
        targets = snapshot.hosts if targets is None else targets
        hosts = {g["host"] for g in guests}
    constants = run_constants(engine, mode) if mode is not None and command != "audit" else None
    rules = frozenset(r.id for kind in kinds if kind in SCOPES for r in engine.by_subject.get(kind, ())
                      if constants is None or not constant_false(r, constants))  # not a rule of the other mode
    return RunScope(rules, frozenset(g["name"] for g in guests), frozenset(hosts),
                    frozenset(t["name"] for t in targets))


def snapshot_scope(engine) -> RunScope:
    """Every rule and subject of the engine's snapshot: a waiver it does not cover can match nothing there."""
    snapshot = engine.snapshot
    hosts = frozenset(h["name"] for h in snapshot.hosts)
    return RunScope(frozenset(r.id for rules in engine.by_subject.values() for r in rules),
                    frozenset(g["name"] for g in snapshot.guests), hosts, hosts)


TARGETED_SHARE = 4  # check pair by pair when the waivers' guests are at most a quarter of the estate


def findings_across_modes(engine, skip: Iterable[str] = (), waivers: "Waivers | None" = None
                          ) -> Callable[[], Iterator[tuple[str, Result]]]:
    """The findings of every command and mode on the engine's snapshot, labelled, for `classify_unused`.

    Labels: `audit`, `matrix offline`, `matrix online`; `skip` leaves out the ones the run
    itself covered. With `waivers`, only what their unused waivers could match is evaluated:
    no audit when none names a host, guest or snapshot rule; when each names guests, only
    the migrations of those guests (a check per pair); otherwise the whole matrix, as cells
    without results (shared evaluation), each failing rule of a cell one finding.
    """
    skip = set(skip)

    def run() -> Iterator[tuple[str, Result]]:
        pending = waivers.unused() if waivers is not None else None

        def named(subjects: tuple) -> bool:
            ids = [r.id for s in subjects for r in engine.by_subject.get(s, ())]
            return pending is None or any(fnmatch.fnmatchcase(i, w.rule) for w in pending for i in ids)

        snapshot = engine.snapshot
        if "audit" not in skip and named(("host", "guest", "snapshot")):
            for r in engine.audit():
                yield "audit", r
        if not named(("guest", "migration")):
            return
        guests = None
        if pending is not None and all(w.guest is not None for w in pending):
            guests = [g for g in snapshot.guests if any(fnmatch.fnmatchcase(g["name"], w.guest) for w in pending)]
        for mode in MODES:
            label = f"matrix {mode}"
            if label in skip:
                continue
            if guests is not None and len(guests) * TARGETED_SHARE <= len(snapshot.guests):
                for g in guests:
                    for t in snapshot.hosts:
                        if t["name"] != g["host"]:
                            for r in engine.check(g, t, mode):
                                yield label, r
                continue
            cells, _ = engine.matrix(mode, results=False)
            guest_rules = {r.id for r in engine.by_subject.get("guest", ())}
            for c in cells:
                pair = {"guest": c.guest, "source": c.source, "target": c.target, "mode": mode}
                own = {"guest": c.guest, "host": c.source, "mode": mode}  # a guest rule's finding: no target
                for rule in c.failing:
                    yield label, Result(rule, "", FAIL, own if rule in guest_rules else pair, "")

    return run


def notes_for_run(waivers: Waivers, engine, command: str, mode: str | None = None,
                  warn_days: int | None = None, stale_check: bool = True, guests: list[dict] | None = None,
                  targets: list[dict] | None = None) -> list[dict]:
    """The waiver notes of a report, once `waivers.apply` (or `waive`) has seen this run's results.

    Without `stale_check` (cheap: nothing evaluated again), unused waivers are judged from what
    the run evaluated (`run_scope`; `guests`, `targets`: the pairs a `check` or a restricted
    matrix asked): stale when the run evaluated their rule and subjects, else out of scope of
    this run. With `stale_check` (costly: it evaluates the other commands and modes), they are
    looked for in the commands and modes the run did not cover (an `audit` covers audit, a
    `matrix` its mode, anything else, such as `check`, `plan`, neither), so they are called
    stale only when nothing in the snapshot matches them.
    """
    if not stale_check:
        waivers.judge_in_run(run_scope(engine, command, mode, guests, targets), snapshot_scope(engine))
        return waivers.notes(warn_days)
    covered = {"audit": ["audit"], "matrix": [f"matrix {mode}"]}.get(command, [])
    waivers.classify_unused(findings_across_modes(engine, skip=covered, waivers=waivers))
    return waivers.notes(warn_days)


def _describe(path: tuple, data) -> str:
    if len(path) >= 2 and path[0] == "waivers" and isinstance(path[1], int):
        items = data.get("waivers") if isinstance(data, dict) else None
        item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        rule = item.get("rule") if isinstance(item, dict) else None
        return f"waiver #{path[1] + 1}" + (f" (`{rule}`)" if isinstance(rule, str) else "")
    return "the waiver file"


WAIVERS = Input("waivers.schema.json", _describe, "a waiver file is a mapping with `waivers:` (a list)")


WAIVER_LIMITS = Limits(bytes_option="waivers size limit")  # (--max-bytes is the snapshot's: not this one's)


def load_waivers(path: str, known_rules: set[str], limits: Limits = WAIVER_LIMITS, as_of: date | None = None,
                 not_run: frozenset = frozenset()) -> Waivers:
    """Read a waiver file; raise `LoadError` with every problem located. `as_of`: the day they are judged on
    (default: today's real date); `not_run`: the known rules the configuration does not run."""
    doc = load_validated(path, WAIVERS, limits)
    problems = []
    waivers = Waivers(path, sha256=doc.sha256, today=as_of or today())
    run_rules = set(known_rules) - not_run
    for i, item in enumerate(doc.data["waivers"]):
        at = ("waivers", i)
        rule = item["rule"]
        if any(c in rule for c in "*?["):
            if not any(fnmatch.fnmatchcase(r, rule) for r in known_rules):
                problems.append(doc.problem(at + ("rule",), f"`{rule}` matches no loaded rule",
                                            code="unknown-rule"))
        elif rule not in known_rules:
            problems.append(doc.problem(at + ("rule",), f"unknown rule `{rule}`",
                                        did_you_mean(rule, sorted(known_rules), "see `migcheck rules`"), code="unknown-rule"))
        try:
            expires = date.fromisoformat(item["expires"])
        except ValueError:
            problems.append(doc.problem(at + ("expires",), f"`{item['expires']}` is not a date",
                                        "write the last valid day as YYYY-MM-DD", code="bad-date"))
            continue
        guest, host, target = (item.get(key) and view.name(item[key]) for key in ("guest", "host", "target"))
        waivers.items.append(Waiver(rule, item["reason"], item["owner"], expires, guest, host, target,
                                    item.get("ticket"), line=doc.position(at)[0]))  # names in NFC, as the snapshot's
        waivers.items[-1].not_run = any(fnmatch.fnmatchcase(r, rule) for r in not_run) and not any(
            fnmatch.fnmatchcase(r, rule) for r in run_rules)
    if problems:
        raise LoadError(problems)
    return waivers
