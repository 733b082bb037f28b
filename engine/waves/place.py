"""`migcheck place`: propose a wave with a constraint solver (OR-Tools CP-SAT), checked by `plan`.

Input: compiled rules, a snapshot and a selection (`--vacate VSP`, `--guest GLOB`, `--to
GLOB`, `--mode`). Output: a `Proposal`: the plan, the solver's status, the plan's own
check by `plan` (the solver is never trusted on its own), and the guests that fit nowhere
with the rules that block them on every candidate.

The model:

- a boolean per (guest, candidate target) where the migration is ready in the matrix of
  the selected guests against the candidate targets (the ordinary rules, waivers applied);
- each guest at most once;
- memory per target: the guests that hold memory (running, or reserving their resources)
  take at most the target's free memory, each its memory plus the target's overhead;
- DIO per target and label: the guests' functions with that label take at most the
  target's free pooled functions with it (when some are held by guests outside the wave,
  sharing those is allowed: the effects prefer them, and DIO-IN-USE warns);
- objective, in order (three solves, each fixing the one before): place every guest; the
  fewest warnings (failing rules of severity warning or info, such as STORAGE-LOCAL or
  DIO-CROSS-TYPE); balanced free memory: the smallest largest share of a target's free
  memory that the wave takes.

Every capacity is read from the estate model (`effects.Estate`: `free_memory`,
`memory_taken`, `dio_needs`, `dio_room`), which counts with the functions its migrations
use (`estate.capacity`: MEMORY-TARGET's amounts, the DIO matching of the effects); the
matrix runs on an engine made for the estate's view. The model keeps no count of its own.

Capacity is counted without what departing guests free, so any order of the migrations
of a target fits. The plan puts the guests that take no memory first; offline, it is one
stage; online, each VSP takes part in one online migration per stage (4.2.5 Release
Notes 9.2.8), so the migrations are spread over stages greedily.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from ..core.vocabulary import ERROR_SEVERITY, INFO, OFFLINE, ONLINE, READY, UNKNOWN, WARNING
from ..estate.capacity import holds_memory
from ..estate.effects import Estate
from ..estate.snapshot import Snapshot
from ..eval.engine import Engine
from ..files.document import Document
from ..files.yaml_out import dump_yaml
from ..packs.ruleset import RuleSet
from .plans import Plan, PlanOutcome, plan_document, plan_from_text, run_plan

_SOLVER_UNKNOWN = "unknown"  # CP-SAT's status (no solution found, none proved impossible), not the verdict
_STATUS = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible", cp_model.INFEASIBLE: "infeasible",
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

    def plan_data(self) -> dict:
        return plan_document(self.name, self.stages)

    def plan_text(self) -> str:
        """The plan file `--output` writes: the text the proposal was checked from, after a comment."""
        return dump_yaml(self.plan_data(), "proposed by migcheck place; check it again with "
                                           "`migcheck plan SNAPSHOT THIS-FILE`")

    def placement(self) -> dict:
        placed = sum(len(s) for s in self.stages)
        # no times here: a report is the same bytes for the same input (bench/bench_place.py times it)
        return {"status": self.status, "selected": self.selected,
                "placed": placed, "candidates": self.candidates, "warnings": self.warnings,
                "max_share_permille": self.max_share, "min_free_mb": self.min_free_mb, "unplaced": self.unplaced}


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
    ready, blocking = _candidates(cells, {r.id: r.severity for r in ruleset.rules})
    by_guest = {g["name"]: g for g in chosen}
    estate = Estate(snapshot, ruleset.tables.get("memory_overhead"))  # the capacities, as `plan` counts them
    order = _order(chosen, hosts)
    model, x, objectives, complete = _model(sorted(ready, key=order), ready, estate, [h["name"] for h in hosts])
    statuses, best, phases = _solve(model, x, objectives, complete, started + time_limit)
    chosen_pairs = [p for p in sorted(best, key=order) if best[p]]

    stages = _stages(chosen_pairs, by_guest, mode)
    name = name or (f"vacate {vacate}" if vacate else f"move {guests}")
    if stages:
        plan = plan_from_text(dump_yaml(plan_document(name, stages)), snapshot, "<proposed plan>")
    else:  # nothing placed: the empty plan (a plan file needs a stage, so it is not read back)
        data = plan_document(name, [])
        plan = Plan(Document("<proposed plan>", dump_yaml(data), data), name, [], [])
    check = run_plan(ruleset, snapshot, plan, waivers=waivers)
    loads = _loads(chosen_pairs, estate)
    return Proposal(name, stages, check, _overall(statuses), time.perf_counter() - started, len(chosen), len(ready),
                    sum(ready[p] for p in chosen_pairs),
                    max((-(-1000 * u // estate.free_memory(t)) for t, u in loads.items() if u), default=0),
                    min((estate.free_memory(t) - u for t, u in loads.items()), default=0),
                    _unplaced(chosen, {g for g, _ in chosen_pairs}, ready, blocking, hosts), phases)


def _candidates(cells, severity: dict) -> tuple[dict, dict]:
    """Ready pairs with their warnings, and for the rest the error rules (or errors) blocking each target."""
    ready: dict[tuple[str, str], int] = {}  # (guest, target) -> warnings
    blocking: dict[str, dict[str, list[str]]] = {}  # guest -> rule -> targets it blocks
    for c in cells:
        if c.verdict == READY:
            ready[(c.guest, c.target)] = sum(1 for rid in c.failing if severity.get(rid) in (WARNING, INFO))
        else:
            for rid in c.failing:
                if severity.get(rid) == ERROR_SEVERITY or c.verdict == UNKNOWN:
                    blocking.setdefault(c.guest, {}).setdefault(rid, []).append(c.target)
    return ready, blocking


def _model(pairs: list, ready: dict, estate: Estate, targets: list[str]):
    """The CP-SAT model: its variables by pair, and the objectives in order. `targets`: the candidates' names."""
    model = cp_model.CpModel()
    x = {pair: model.new_bool_var(f"x[{pair[0]},{pair[1]}]") for pair in pairs}
    per_guest: dict[str, list] = {}
    for (gn, _), v in x.items():
        per_guest.setdefault(gn, []).append(v)
    for vars_ in per_guest.values():
        model.add_at_most_one(vars_)
    load: dict[str, list] = {t: [] for t in targets}
    for (gn, tn), v in x.items():
        taken = estate.memory_taken(gn, tn)
        if taken is not None:
            load[tn].append((taken, v))
    for tn, terms in load.items():
        if terms:
            model.add(sum(a * v for a, v in terms) <= estate.free_memory(tn))
    _dio_constraints(model, x, estate)
    # balance: the largest share (per mille) of a target's free memory that the wave takes
    share = model.new_int_var(0, 1000, "max_share")
    for tn, terms in load.items():
        free = estate.free_memory(tn)
        if terms and free > 0:
            model.add(share * free >= 1000 * sum(a * v for a, v in terms))
    objectives = [(sum(x.values()), "max"), (sum(w * x[p] for p, w in ready.items()), "min"), (share, "min")]

    def share_of(best: dict) -> list:  # the balance variable's value for a solution, to complete a hint
        worst = 0
        for tn, terms in load.items():
            free = estate.free_memory(tn)
            if terms and free > 0:
                used = sum(a for a, v in terms if best[_pair_of[v.index]])
                worst = max(worst, -(-1000 * used // free))
        return [(share, min(worst, 1000))]

    _pair_of = {v.index: p for p, v in x.items()}
    return model, x, objectives, share_of


def _solve(model, x: dict, objectives: list, complete, deadline: float) -> tuple[list, dict, list]:
    """Solve for each objective in turn, fixing each optimum (or best found) before the next.

    Each solve starts from the solution before it (a complete hint), so a later solve that
    runs out of time still has that solution: the proposal is then `feasible`.
    """
    statuses, best, phases = [], {}, []
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # one worker with a fixed seed: the same proposal every run
    solver.parameters.random_seed = 0
    for objective, sense in objectives:
        if not x:
            break
        left = len(objectives) - len(statuses)
        solver.parameters.max_time_in_seconds = max(0.05, (deadline - time.perf_counter()) / left)
        model.maximize(objective) if sense == "max" else model.minimize(objective)
        status = solver.solve(model)
        statuses.append(status)
        phases.append((sense, _STATUS.get(status, _SOLVER_UNKNOWN), round(solver.wall_time, 2)))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        best = {p: solver.value(v) for p, v in x.items()}
        value = round(solver.objective_value)
        model.add(objective >= value) if sense == "max" else model.add(objective <= value)
        model.clear_hints()
        for p, v in x.items():
            model.add_hint(v, best[p])
        for var, val in complete(best):
            model.add_hint(var, val)
    return statuses, best, phases


def _unplaced(chosen: list, placed: set, ready: dict, blocking: dict, hosts: list) -> list[dict]:
    out = []
    for g in chosen:
        if g["name"] in placed:
            continue
        candidates = sorted(t for (gn, t) in ready if gn == g["name"])
        if candidates:
            out.append({"guest": g["name"], "blocking": {},
                        "why": "its ready targets (" + ", ".join(candidates) + ") are used up by the guests "
                               "placed there (memory or DIO functions)"})
        else:
            rules = blocking.get(g["name"], {})
            out.append({"guest": g["name"], "blocking": {r: sorted(ts) for r, ts in sorted(rules.items())},
                        "why": "no candidate target" if not hosts else "blocked on every candidate target"})
    return out


def _order(guests: list[dict], hosts: list[dict]):
    g_index = {g["name"]: i for i, g in enumerate(guests)}
    h_index = {h["name"]: i for i, h in enumerate(hosts)}
    return lambda pair: (g_index[pair[0]], h_index[pair[1]])


def _dio_constraints(model, x: dict, estate: Estate) -> None:
    """Per target and label: the wave's functions fit in the free pooled functions with that label."""
    needs: dict[tuple[str, str], list] = {}
    counts: dict[str, dict[str, int]] = {}  # guest -> label -> functions the effects give it on a target
    for (gn, tn), v in x.items():
        if gn not in counts:
            counts[gn] = estate.dio_needs(gn)
        for label, n in counts[gn].items():
            needs.setdefault((tn, label), []).append((n, v))
    for (tn, label), terms in needs.items():
        free, pooled = estate.dio_room(tn, label)
        if pooled > free:
            continue  # sharing a function held by a guest outside the wave is a warning (DIO-IN-USE), not a block
        model.add(sum(n * v for n, v in terms) <= free)


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

