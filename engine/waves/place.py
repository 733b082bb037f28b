"""`migcheck place`: propose a wave with a constraint solver (OR-Tools CP-SAT), checked by `plan`.

Input: compiled rules, a snapshot and a selection (`--vacate VSP`, `--guest GLOB`, `--to
GLOB`, `--mode`). Output: a `Proposal`: the plan, the solver's status, the plan's own
check by `plan` (the solver is never trusted on its own), and the guests that fit nowhere
with the rules that block them on every candidate.

The model:

- a boolean per (guest, candidate target) where the migration is ready in the matrix of
  the selected guests against the candidate targets (the ordinary rules, waivers applied);
- each guest at most once;
- every capacity (`_capacities`, one definition for the model and the greedy pass):
  memory per target: the guests that hold memory (running, or reserving their resources)
  take at most the target's free memory, each its memory plus the target's overhead;
  cores per target (when `cpu_cores_free` is captured): the vPars that run or reserve take
  at most its free cores; DIO per target and label: the guests' functions with that label
  take at most the target's free pooled functions plus those held by guests outside the
  wave (the effects share those, DIO-IN-USE warns), or plus only those held by stopped
  guests that reserve nothing when a reserving guest may go there; one guest per target
  and MAC address;
- objective, in order (three solves, each fixing the one before): place every guest; the
  fewest warnings (failing rules of severity warning or info, such as STORAGE-LOCAL or
  DIO-CROSS-TYPE); balanced free memory: the smallest largest share of a target's free
  memory that the wave takes.

Every capacity is read from the estate model (`effects.Estate`: `free_memory`,
`memory_taken`, `free_cores`, `cores_taken`, `dio_needs`, `dio_room`, `dio_idle`), which counts with the functions its migrations
use (`estate.capacity`: MEMORY-TARGET's amounts, the DIO matching of the effects); the
matrix runs on an engine made for the estate's view. The model keeps no count of its own.

Capacity is counted without what departing guests free (a stage's migrations run at the same
time), so any order of the migrations of a target fits. A greedy pass over the same
capacities (`_greedy`: the largest guest first, on its fewest warnings, then where it takes
the smallest share of the free memory) is the solver's start (a complete hint) and its
fallback: when it places every guest that has a ready target, the first objective is optimal
without a solve, and the second too when each has its fewest warnings, so the solver's time
goes to the rest. The time limit is the solver's, net of the set-up (matrix, model, greedy
pass), shared equally by the solves left; a solve out of time keeps the solution before it.
With no solution of the solver's in time, the greedy pass's proposal stands (status
`feasible`, `note` says it is not proven optimal). The plan is checked by `plan`; a migration the
check blocks all the same is left out with its rules and the rest checked again. The plan puts the guests that take no memory first; offline, it is one
stage; online, each VSP takes part in one online migration per stage (4.2.5 Release
Notes 9.2.8), so the migrations are spread over stages greedily.
"""

from __future__ import annotations

import fnmatch
import math
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from ..core.vocabulary import BLOCKED, ERROR_SEVERITY, INFO, OFFLINE, ONLINE, READY, UNKNOWN, WARNING
from ..estate.capacity import dio_pool, holds_memory, reserves
from ..estate.effects import Estate
from ..estate.snapshot import Snapshot
from ..eval.engine import Engine
from ..files.document import Document
from ..files.yaml_out import dump_yaml
from ..packs.ruleset import RuleSet
from .plans import Plan, PlanOutcome, plan_document, plan_from_text, run_plan

_OBJECTIVES = ["every guest placed", "fewest warnings", "balanced memory"]  # in the order they are solved
_SOLVER_UNKNOWN = "unknown"  # CP-SAT's status (no solution found, none proved impossible), not the verdict
GREEDY = "greedy"  # the greedy pass's solution (the solver's start): what stands when the solver finds none
FEASIBLE = "feasible"
_STATUS = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: FEASIBLE, cp_model.INFEASIBLE: "infeasible",
           cp_model.MODEL_INVALID: "invalid", cp_model.UNKNOWN: _SOLVER_UNKNOWN}


@dataclass
class Proposal:
    name: str
    stages: list[list[dict]]  # the plan's migrations, as in the plan file
    check: PlanOutcome  # the proposal checked by `plan`
    status: str  # optimal, feasible, infeasible, unknown
    seconds: float
    selected: int
    candidates: int
    warnings: int
    max_share: int  # per mille of a target's free memory the wave takes, at most
    min_free_mb: int
    unplaced: list[dict] = field(default_factory=list)
    phases: list = field(default_factory=list)  # (objective sense, status, seconds) of each solve
    note: str | None = None  # how it was found when the solver found nothing in time (a greedy pass)

    def plan_data(self) -> dict:
        return plan_document(self.name, self.stages)

    def plan_text(self) -> str:
        """The plan file `--output` writes: the text the proposal was checked from, after a comment."""
        return dump_yaml(self.plan_data(), "proposed by migcheck place" + (f" ({self.note})" if self.note else "")
                         + "; check it again with `migcheck plan SNAPSHOT THIS-FILE`")

    def placement(self) -> dict:
        placed = sum(len(s) for s in self.stages)
        # no times here: a report is the same bytes for the same input (bench/bench_place.py times it)
        return {"status": self.status, "selected": self.selected,
                "placed": placed, "candidates": self.candidates, "warnings": self.warnings,
                "max_share_permille": self.max_share, "min_free_mb": self.min_free_mb, "unplaced": self.unplaced,
                **({"note": self.note} if self.note else {})}


def select_guests(snapshot: Snapshot, vacate: str | None, pattern: str | None) -> list[dict]:
    return [g for g in snapshot.guests
            if (vacate is None or g["host"] == vacate) and (pattern is None or fnmatch.fnmatchcase(g["name"], pattern))
            and snapshot.guest_by_name.get(g["name"]) is g]


def select_targets(snapshot: Snapshot, vacate: str | None, pattern: str | None) -> list[dict]:
    return [h for h in snapshot.hosts
            if h["name"] != vacate and (pattern is None or fnmatch.fnmatchcase(h["name"], pattern))
            and snapshot.host_by_name.get(h["name"]) is h]


def _cells(ruleset: RuleSet, snapshot: Snapshot, guests: list[dict], targets: list[dict], mode: str, waivers):
    """The matrix of the selected guests against the candidate targets (plus their own VSPs as sources)."""
    names = {t["name"] for t in targets} | {g["host"] for g in guests}
    hosts = [h["name"] for h in snapshot.hosts if h["name"] in names and snapshot.host_by_name.get(h["name"]) is h]
    # the engine walks the selection; rules reading `snapshot` see the whole estate (the view's scope)
    view = Estate(snapshot).view(guests=[g["name"] for g in guests], hosts=hosts)
    # offline, a running guest is stopped by its migration (hpvmmigrate -d)
    engine = Engine(ruleset, view, stop=mode == OFFLINE, waivers=waivers)
    cells, _ = engine.matrix(mode, results=waivers is not None)  # waivers are attached to results only
    wanted = {t["name"] for t in targets}
    return [c for c in cells if c.target in wanted]


def propose(ruleset: RuleSet, snapshot: Snapshot, *, vacate: str | None = None, guests: str | None = None,
            targets: str | None = None, mode: str = OFFLINE, time_limit: float = 5.0, name: str | None = None,
            waivers=None) -> Proposal:
    """Select, build the model, solve it, write the plan and check it with `plan` (see the module docstring)."""
    started = time.perf_counter()
    chosen = select_guests(snapshot, vacate, guests)
    hosts = select_targets(snapshot, vacate, targets)
    cells = _cells(ruleset, snapshot, chosen, hosts, mode, waivers) if chosen and hosts else []
    ready, blocking, unknown = _candidates(cells, {r.id: r.severity for r in ruleset.rules})
    by_guest = {g["name"]: g for g in chosen}
    estate = Estate(snapshot, ruleset.tables.get("memory_overhead"))  # the capacities, as `plan` counts them
    order = _order(chosen, hosts)
    pairs = sorted(ready, key=order)
    load = _memory_terms(pairs, estate, [h["name"] for h in hosts])  # each pair's memory, counted once
    capacities = _capacities(pairs, estate, memory=load)
    model, x, objectives, complete = _model(pairs, ready, estate, [h["name"] for h in hosts],
                                            capacities=capacities, load=load)
    start = _greedy(pairs, ready, estate, capacities, load)  # a solution to start from (a complete hint)
    # the solver's time limit: from when it starts, net of the set-up before it (the matrix takes minutes on a
    # large estate, the model seconds; counting them left the solver 50 ms: no solution, whatever the limit)
    fewest: dict[str, int] = {}  # each guest's fewest warnings on a ready target
    for (gn, _), w in ready.items():
        fewest[gn] = min(w, fewest.get(gn, w))
    statuses, best, phases = _solve(model, x, objectives, complete, time.perf_counter() + time_limit,
                                    start=start, bounds=[len(fewest), sum(fewest.values())])
    status = _overall(statuses)
    note = None
    if pairs and status != "optimal" and best == start and not _solver_found(phases):
        status = FEASIBLE  # the greedy pass's: a solution of the model (the same capacities), not proven optimal
        note = _greedy_note(phases, time_limit, len(pairs))
    chosen_pairs = [p for p in sorted(best, key=order) if best[p]]
    name = name or (f"vacate {vacate}" if vacate else f"move {guests}")
    stages, check, dropped = _checked(ruleset, snapshot, name, chosen_pairs, by_guest, mode, waivers)
    chosen_pairs = [p for p in chosen_pairs if p[0] not in dropped]
    loads = _loads(chosen_pairs, estate)
    unplaced = _unplaced(chosen, {g for g, _ in chosen_pairs}, ready, (blocking, unknown), hosts, note or status,
                         dropped)
    return Proposal(name, stages, check, status, time.perf_counter() - started, len(chosen), len(ready),
                    sum(ready[p] for p in chosen_pairs),
                    max((-(-1000 * u // estate.free_memory(t)) for t, u in loads.items() if u), default=0),
                    min((estate.free_memory(t) - u for t, u in loads.items()), default=0), unplaced, phases, note)


def _checked(ruleset: RuleSet, snapshot: Snapshot, name: str, pairs: list, by_guest: dict, mode: str, waivers,
             rounds: int = 3):
    """The plan of `pairs` checked by `plan`; a migration its check blocks all the same (a rule the model
    does not count: a site rule reading the estate, a fact of the estate after) is left out, with the rules
    that blocked it, and the rest checked again. (stages, check, {guest: {rule: [target]}} left out)."""
    dropped: dict[str, dict[str, list[str]]] = {}
    while True:
        stages = _stages([p for p in pairs if p[0] not in dropped], by_guest, mode)
        if stages:
            plan = plan_from_text(dump_yaml(plan_document(name, stages)), snapshot, "<proposed plan>")
        else:  # nothing placed: the empty plan (a plan file needs a stage, so it is not read back)
            data = plan_document(name, [])
            plan = Plan(Document("<proposed plan>", dump_yaml(data), data), name, [], [])
        check = run_plan(ruleset, snapshot, plan, waivers=waivers)
        blocked = _blocked_in_wave(check)
        if not blocked or rounds == 0 or not stages:
            return stages, check, dropped
        dropped.update(blocked)
        rounds -= 1


def _blocked_in_wave(check: PlanOutcome) -> dict[str, dict[str, list[str]]]:
    """The guests whose migration the check blocked, or that a failing stage rule names, with the rules."""
    out: dict[str, dict[str, list[str]]] = {}
    for m in check.migrations:
        if m.verdict == BLOCKED:
            for rule in m.failing or ["?"]:
                out.setdefault(m.migration.guest, {}).setdefault(rule, []).append(m.migration.to)
    targets = {m.migration.guest: m.migration.to for m in check.migrations}
    for stage in check.stages:
        for r in check.results:
            if r.subject.get("stage") == stage.index and r.rule in stage.failing and r.item in targets:
                out.setdefault(r.item, {}).setdefault(r.rule, []).append(targets[r.item])
    return out


def _greedy(pairs: list, ready: dict, estate: Estate, capacities: list | None = None,
            load: dict | None = None) -> dict:
    """A pass over the guests, the largest first (the likeliest to find no room once the others are placed),
    then in the selection's order: of a guest's ready targets where every capacity (`_capacities`, the
    model's) still has room, the one with the fewest warnings, then the smallest share of its free memory
    taken once the guest is there (the model's balance), then the first in the targets' order."""
    load = load if load is not None else _memory_terms(pairs, estate, list(dict.fromkeys(t for _, t in pairs)))
    capacities = capacities if capacities is not None else _capacities(pairs, estate, memory=load)
    left = [bound for bound, _ in capacities]
    uses: dict[tuple, list] = {}
    for k, (_, terms) in enumerate(capacities):
        for p, a in terms.items():
            uses.setdefault(p, []).append((k, a))
    taken = {p: a for terms in load.values() for p, a in terms}
    free = {t: estate.free_memory(t) for t in load}
    used = dict.fromkeys(load, 0)
    by_guest: dict[str, list] = {}
    for p in pairs:
        by_guest.setdefault(p[0], []).append(p)
    best = {p: 0 for p in pairs}
    for gn in sorted(by_guest, key=lambda g: -max(taken.get(p, 0) for p in by_guest[g])):  # stable
        fits = [p for p in by_guest[gn] if all(left[k] >= a for k, a in uses.get(p, ()))]
        if not fits:
            continue
        p = min(fits, key=lambda p: (ready[p], _per_mille(used[p[1]] + taken.get(p, 0), free[p[1]])))
        for k, a in uses.get(p, ()):
            left[k] -= a
        used[p[1]] += taken.get(p, 0)
        best[p] = 1
    return best


def _per_mille(used: int, free: int) -> int:
    """The share (per mille, rounded up) of `free` that `used` takes; more than all when there is none."""
    if free > 0:
        return -(-1000 * used // free)
    return 0 if used <= 0 else 1001


def _candidates(cells, severity: dict) -> tuple[dict, dict, dict]:
    """Ready pairs with their warnings; for the rest the error-severity rules failing or erring on each target;
    and the targets where a guest's verdict is unknown (a rule could not be evaluated: not blocked, not ready)."""
    ready: dict[tuple[str, str], int] = {}  # (guest, target) -> warnings
    blocking: dict[str, dict[str, list[str]]] = {}  # guest -> rule -> targets it blocks
    unknown: dict[str, list[str]] = {}  # guest -> targets where its verdict is unknown
    for c in cells:
        if c.verdict == READY:
            ready[(c.guest, c.target)] = sum(1 for rid in c.failing if severity.get(rid) in (WARNING, INFO))
            continue
        if c.verdict == UNKNOWN:  # (its failing rules erred or fail below blocking: none is said to block)
            unknown.setdefault(c.guest, []).append(c.target)
            continue
        for rid in c.failing:
            if severity.get(rid) == ERROR_SEVERITY:
                blocking.setdefault(c.guest, {}).setdefault(rid, []).append(c.target)
    return ready, blocking, unknown


def why_not_placed(targets: str, unknown: list, every: bool = False) -> str:
    """Why a guest has no ready target: blocked on each, or not known on some (a rule could not be evaluated;
    `every`: on all of them)."""
    if not unknown:
        return f"blocked on every {targets}"
    known = "a rule could not be evaluated: see its check"
    if every:
        return f"not known on any {targets} ({known})"
    return f"not known on {', '.join(sorted(unknown))} ({known}) and blocked on the others"


def _model(pairs: list, ready: dict, estate: Estate, targets: list[str], given: frozenset = frozenset(),
           capacities: list | None = None, load: dict | None = None):
    """The CP-SAT model: its variables by pair, the objectives in order, and a `_Completion` (the values of a
    solution's other variables and objectives). `targets`: the candidates' names; `given`: guests an earlier
    wave of the same plan moved (`_dio_capacities`); `capacities`, `load`: `_capacities` and `_memory_terms`
    of these pairs when the caller has them already."""
    model = cp_model.CpModel()
    x = {pair: model.new_bool_var(f"x[{pair[0]},{pair[1]}]") for pair in pairs}
    per_guest: dict[str, list] = {}
    for (gn, _), v in x.items():
        per_guest.setdefault(gn, []).append(v)
    for vars_ in per_guest.values():
        model.add_at_most_one(vars_)
    load = load if load is not None else _memory_terms(list(x), estate, targets)
    for bound, terms in capacities if capacities is not None else _capacities(list(x), estate, given, load):
        model.add(_weighted(x, terms.items()) <= bound)
    # balance: the largest share (per mille) of a target's free memory that the wave takes
    share = model.new_int_var(0, 1000, "max_share")
    for tn, terms in load.items():
        free = estate.free_memory(tn)
        if terms and free > 0:
            model.add(share * free >= 1000 * _weighted(x, terms))
    objectives = [(cp_model.LinearExpr.sum(list(x.values())), "max"), (_weighted(x, ready.items()), "min"),
                  (share, "min")]
    return model, x, objectives, _Completion(share, load, ready, estate)


def _weighted(x: dict, terms) -> cp_model.LinearExpr:
    """The sum of amount * x[pair] over (pair, amount)."""
    terms = list(terms)
    return cp_model.LinearExpr.weighted_sum([x[p] for p, _ in terms], [a for _, a in terms])


class _Completion:
    """For a solution of the pairs (`{pair: 0 or 1}`): the balance variable's value (calling it: to complete a
    hint) and each objective's value (`values`: what a solve that runs out of time fixes before the next)."""

    def __init__(self, share, load: dict, ready: dict, estate: Estate):
        self.share, self.load, self.ready, self.estate = share, load, ready, estate

    def __call__(self, best: dict) -> list:
        return [(self.share, min(_share(self.load, best, self.estate), 1000))]

    def values(self, best: dict) -> list[int]:
        return [sum(best.values()), sum(w for p, w in self.ready.items() if best.get(p)),
                min(_share(self.load, best, self.estate), 1000)]


def _share(load: dict, best: dict, estate: Estate) -> int:
    """The largest share (per mille, rounded up) of a target's free memory that the chosen pairs take."""
    worst = 0
    for tn, terms in load.items():
        free = estate.free_memory(tn)
        if terms and free > 0:
            used = sum(a for p, a in terms if best.get(p))
            worst = max(worst, -(-1000 * used // free))
    return worst


def _memory_terms(pairs: list, estate: Estate, targets: list[str]) -> dict[str, list]:
    """Per target, (pair, MB) of the pairs whose guest takes memory there."""
    load: dict[str, list] = {t: [] for t in targets}
    for gn, tn in pairs:
        taken = estate.memory_taken(gn, tn)
        if taken is not None:
            load[tn].append(((gn, tn), taken))
    return load


def _capacities(pairs: list, estate: Estate, given: frozenset = frozenset(),
                memory: dict | None = None) -> list[tuple[int, dict]]:
    """Every capacity the wave must fit, as (bound, {pair: amount}): the sum of the amounts of the chosen
    pairs is at most the bound. One definition for the model and the greedy pass (see the module docstring).
    `memory`: `_memory_terms` of these pairs when the caller has them already."""
    out: list[tuple[int, dict]] = []
    targets = list(dict.fromkeys(t for _, t in pairs))
    memory = memory if memory is not None else _memory_terms(pairs, estate, targets)
    for tn, terms in memory.items():
        if terms:
            out.append((estate.free_memory(tn), dict(terms)))
    cores: dict[str, dict] = {}
    for gn, tn in pairs:
        takes, n = estate.cores_taken(gn)
        if takes and n is not None and estate.free_cores(tn) is not None:
            cores.setdefault(tn, {})[(gn, tn)] = n
    out += [(estate.free_cores(tn), terms) for tn, terms in cores.items()]
    out += _dio_capacities(pairs, estate, given)
    out += _mac_capacities(pairs, estate)
    return out


def _solve(model, x: dict, objectives: list, complete, deadline: float, start: dict | None = None,
           bounds: list = ()) -> tuple[list, dict, list]:
    """Solve for each objective in turn, fixing each optimum (or best found) before the next; each solve
    gets an equal share of the time left.

    Each solve starts from the solution before it (a complete hint), so a later solve that
    runs out of time still has that solution: the proposal is then `feasible`. `start`: a
    solution of the model to start from (the greedy pass's): a solve out of time keeps it (or
    the solution before it) and the next solve still runs; `bounds`: bounds of the first
    objectives, each valid once the ones before it reach theirs (the guests that have a ready
    target; the sum of their fewest warnings): while `start` reaches them, they are optimal
    without a solve, and the solver's time goes to the rest.
    """
    entered = time.perf_counter()
    statuses, best, phases = [], dict(start or {}), []
    hinted = _hint(model, x, best, complete) if start else None
    proven = 0  # how many objectives, the first ones, the greedy pass reached the bound of
    known = complete.values(best) if start else []  # the objectives' values for `best`
    deadline += time.perf_counter() - entered  # setting the start is set-up, not the solver's time
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # one worker with a fixed seed: the same proposal every run
    solver.parameters.random_seed = 0
    for k, (objective, sense) in enumerate(objectives):
        if not x:
            break
        if start and proven == k < len(bounds) and not _worse(known[k], bounds[k], sense):
            proven += 1  # the greedy pass reached the bound (and those before): no solution does better
            statuses.append(cp_model.OPTIMAL)
            phases.append((sense, f"{GREEDY} {_STATUS[cp_model.OPTIMAL]}", 0.0))
            value = bounds[k]
        elif start and best and len(x) >= _LARGE and deadline - time.perf_counter() < len(x) / _PRESOLVED_PER_SECOND:
            # CP-SAT's presolve alone would outlast the time left (it looks at the clock only between its steps):
            # not started, the solution before stands (a solution, not proven optimal)
            statuses.append(cp_model.FEASIBLE)
            phases.append((sense, NOT_RUN, 0.0))
            value = known[k]
        else:
            share = (deadline - time.perf_counter()) / (len(objectives) - k)
            solver.parameters.max_time_in_seconds = max(0.05, _WITHIN * share - (_OVERRUN if len(x) >= _LARGE else 0))
            model.maximize(objective) if sense == "max" else model.minimize(objective)
            status = solver.solve(model)
            statuses.append(status)
            phases.append((sense, _STATUS.get(status, _SOLVER_UNKNOWN), round(solver.wall_time, 2)))
            found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            value = round(solver.objective_value) if found else None
            if start and best and (not found or _worse(value, known[k], sense)):
                value = known[k]  # out of time (or no better): the solution before it stands
                if not found:  # a solution, not proven optimal (the phase keeps the solver's own status)
                    statuses[-1] = cp_model.FEASIBLE
            elif found:
                best = {p: solver.value(v) for p, v in x.items()}
            else:
                break
        if k + 1 == len(objectives):
            break
        model.add(objective >= value) if sense == "max" else model.add(objective <= value)
        if best is not hinted:
            hinted = _hint(model, x, best, complete)
            known = complete.values(best) if start else known
    return statuses, best, phases


_WITHIN = 0.95  # of a solve's share of the time left, what CP-SAT is given: it stops past its own limit (a model of
# 1,000 guests x 200 VSPs, 5 s given: 5.17 s of wall; its presolve's steps, a second or more each at that size, look
# at the clock only between them), and the share is a promise to the user
# A model of `_LARGE` pairs or more: `_OVERRUN` s more held back from each solve. Past 50,000 pairs (500 guests), CP-SAT
# spends the whole limit in presolve, whose steps each run a second or more (at 1,000 guests, 108,995 pairs:
# PresolveToFixPoint 2.0 s, DetectDominanceRelations 1.2 s, probing 1.2 s) and stop 0.2 to 0.46 s past their limit.
# Its answer at that size is then the greedy start's anyway (no better balance found in 5 s, presolve or not).
_LARGE = 40_000
_OVERRUN = 0.5
# Nor is a solve started that its presolve would outlast: it takes about a second per 10,000 pairs or more (at
# 108,994 pairs, 4.8 s once, 6.9 s in a slower moment, against 4.2 s given), and found no better balance than the
# greedy start's at 500 or 1,000 guests in any run. A larger --time-limit runs it.
_PRESOLVED_PER_SECOND = 10_000
NOT_RUN = "not run"  # a solve's phase when the solver was not started (`_PRESOLVED_PER_SECOND`)


def _hint(model, x: dict, best: dict, complete) -> dict:
    """`best` (a value for every pair) as the model's complete hint (set at once: `add_hint` per variable
    took seconds for 100,000 pairs)."""
    model.clear_hints()
    extra = complete(best)
    hint = model.proto.solution_hint
    hint.vars.extend([v.index for v in x.values()] + [var.index for var, _ in extra])
    hint.values.extend([int(best[p]) for p in x] + [int(val) for _, val in extra])
    return best


def _worse(value: int, than: int, sense: str) -> bool:
    return value < than if sense == "max" else value > than


def _solver_found(phases: list) -> bool:
    """Whether a solve found a solution (else the proposal is the greedy pass's)."""
    return any(s in (_STATUS[cp_model.OPTIMAL], FEASIBLE) for _, s, _ in phases)


def _greedy_note(phases: list, time_limit: float, pairs: int = 0) -> str:
    """What the plan file says of a greedy proposal the solver did not improve on in time (or was not run on:
    `pairs` candidate pairs, more than its presolve gets through in `time_limit`)."""
    proven = [_OBJECTIVES[k] for k, (_, s, _) in enumerate(phases) if s.startswith(GREEDY)]
    if any(s == NOT_RUN for _, s, _ in phases):
        why = (f"the solver was not run: its presolve of {pairs:,} pairs would outlast {time_limit:g} s (about a "
               f"second per {_PRESOLVED_PER_SECOND:,} pairs; give --time-limit "
               f"{math.ceil(pairs / _PRESOLVED_PER_SECOND)} or more to run it)")
    else:
        why = f"the solver found no better placement in {time_limit:g} s"
    if proven:
        rest = [o for o in _OBJECTIVES if o not in proven]
        return (f"{GREEDY}: a greedy pass placed these, optimal for {' and '.join(proven)}; {why}: "
                f"{' and '.join(rest)} not proven optimal")
    if any(s == NOT_RUN for _, s, _ in phases):
        return f"{GREEDY}: {why}; a greedy pass placed these, not proven optimal"
    return f"{GREEDY}: the solver found no placement in {time_limit:g} s; a greedy pass placed these, not proven optimal"


def _unplaced(chosen: list, placed: set, ready: dict, found: tuple, hosts: list, how: str,
              dropped: dict) -> list[dict]:
    """Each selected guest not placed, with why: blocked in the wave by the check, its ready targets used up
    (by the solver's placement or the greedy pass's, `how`), or blocked (or not known) on every candidate
    (`found`: `_candidates`' blocking rules and unknown targets)."""
    blocking, unknown = found
    out = []
    for g in chosen:
        if g["name"] in placed:
            continue
        candidates = sorted(t for (gn, t) in ready if gn == g["name"])
        if g["name"] in dropped:
            rules = dropped[g["name"]]
            out.append({"guest": g["name"], "blocking": {r: sorted(ts) for r, ts in sorted(rules.items())},
                        "why": "blocked in the wave by its check by `plan` (" + ", ".join(sorted(rules)) + ")"})
        elif candidates:
            greedy = " by the greedy pass" if how.startswith(GREEDY) else ""
            out.append({"guest": g["name"], "blocking": {},
                        "why": "its ready targets (" + ", ".join(candidates) + ") are used up by the guests "
                               "placed there" + greedy + " (memory, cores, DIO functions or MAC addresses)"})
        else:
            rules = blocking.get(g["name"], {})
            others = sum(h["name"] != g["host"] for h in hosts)  # (its own VSP is no candidate)
            out.append({"guest": g["name"], "blocking": {r: sorted(ts) for r, ts in sorted(rules.items())},
                        "why": "no candidate target" + ("" if not hosts else ": its own VSP is the only one asked")
                        if not others else why_not_placed("candidate target", unknown.get(g["name"], []),
                                                          len(unknown.get(g["name"], [])) == others)})
    return out


def _order(guests: list[dict], hosts: list[dict]):
    g_index = {g["name"]: i for i, g in enumerate(guests)}
    h_index = {h["name"]: i for i, h in enumerate(hosts)}
    return lambda pair: (g_index[pair[0]], h_index[pair[1]])


def _dio_capacities(pairs: list, estate: Estate, given: frozenset = frozenset()) -> list[tuple[int, dict]]:
    """Per target and label, the wave's functions fit in the ones the effects may give without giving one
    to two of its guests: the free pooled functions, plus those held by guests outside the wave (which the
    effects share, DIO-IN-USE warning), or, when a guest that reserves its resources may go there, plus
    only those held by stopped guests that reserve nothing (the rest are not available to it, N26).
    Bounding the sum is enough in any order: a guest takes free functions first, then held ones.
    `given`: guests an earlier wave of the same plan moved (a campaign's steps): the functions they hold
    were given by the plan, and a plan gives no function to two of its guests (PLAN-DIO-SHARED), so they
    are not counted; never fewer than the free ones."""
    needs: dict[tuple[str, str], dict] = {}
    reserving: set[tuple[str, str]] = set()
    counts: dict[str, dict[str, int]] = {}  # guest -> label -> functions the effects give it on a target
    for gn, tn in pairs:
        if gn not in counts:
            counts[gn] = estate.dio_needs(gn)
        for label, n in counts[gn].items():
            needs.setdefault((tn, label), {})[(gn, tn)] = n
            if reserves(estate.raw_guest(gn)):
                reserving.add((tn, label))
    out = []
    for (tn, label), terms in needs.items():
        free, pooled = estate.dio_room(tn, label)
        idle = estate.dio_idle(tn, label)
        room = free + (idle if (tn, label) in reserving else pooled - free)
        if given:
            room = max(free, room - sum(1 for fn in dio_pool(estate.raw_host(tn), label)
                                        if fn.get("assigned_to") in given))
        out.append((room, terms))
    return out


def _mac_capacities(pairs: list, estate: Estate) -> list[tuple[int, dict]]:
    """Two guests of the wave with one MAC address do not go to one target (the second cannot boot there)."""
    view = estate.snapshot.guest_by_name
    by_mac: dict[tuple[str, str], dict] = {}
    for gn, tn in pairs:
        for net in view[gn].get("networks") or []:
            if net.get("mac"):
                by_mac.setdefault((tn, net["mac"]), {})[(gn, tn)] = 1
    return [(1, terms) for terms in by_mac.values() if len(terms) > 1]


def _stages(pairs: list[tuple[str, str]], by_guest: dict, mode: str) -> list[list[dict]]:
    """Migrations in stages: guests that take no memory first; online, one online migration per VSP and stage."""
    ordered = sorted(pairs, key=lambda p: holds_memory(by_guest[p[0]]))  # stable: keeps the solver's order otherwise
    moves = []
    for gn, tn in ordered:
        move = {"guest": gn, "to": tn}
        if mode == ONLINE:
            move["mode"] = ONLINE
        elif by_guest[gn]["state"] == "on":
            move["stop"] = True
        moves.append((move, by_guest[gn]["host"], tn))
    if mode != ONLINE:
        return [[m for m, _, _ in moves]] if moves else []
    stages: list[list[dict]] = []
    for holds in (False, True):  # the stages of guests that take no memory come first
        group: list[list[dict]] = []
        busy: list[set] = []
        for move, source, target in moves:
            if holds_memory(by_guest[move["guest"]]) != holds:
                continue
            for i, vsps in enumerate(busy):
                if source not in vsps and target not in vsps:
                    group[i].append(move)
                    vsps.update((source, target))
                    break
            else:
                group.append([move])
                busy.append({source, target})
        stages += group
    return stages


def _overall(statuses: list[int]) -> str:
    """optimal when every solve proved its optimum; feasible when a solution was found; else the first solve's status."""
    if not statuses:
        return "optimal"  # nothing to place: the empty plan is the only one
    if statuses[0] not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _STATUS.get(statuses[0], _SOLVER_UNKNOWN)
    return "optimal" if all(s == cp_model.OPTIMAL for s in statuses) else "feasible"


def _loads(pairs, estate: Estate) -> dict[str, int]:
    """Memory the wave takes on each target it uses."""
    used: dict[str, int] = {}
    for gn, tn in pairs:
        used[tn] = used.get(tn, 0) + (estate.memory_taken(gn, tn) or 0)
    return used

