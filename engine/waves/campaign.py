"""`migcheck campaign`: a rolling upgrade of VSPs to a release, proposed step by step and checked by `plan`.

Input: compiled rules, a snapshot, the VSPs to upgrade (a glob) and the release. Output: a
`Campaign`: the plan (stages of migrations and `{upgrade: VSP, to: RELEASE}` steps), its check
by `plan` (the proposal is never trusted on its own), per VSP what moves where and why
offline, and the VSPs that stop the campaign with what blocks them.

Step by step (HP V6.3 Administrator Guide p.197: a VSP is vacated, the VMs online where they
can, vPars offline, then upgraded):

1. of the VSPs left, the next is the one with the fewest running guests that cannot move
   online anywhere, then the fewest guests (cheap ones first leave the most room to the rest);
2. its guests are placed by the placement model (`place`): every guest on a ready target,
   memory and DIO functions within each target's room, the targets that are not waiting for
   their own upgrade preferred (a guest moved onto one would move again), and, a running guest
   ready online somewhere, online (no downtime); the rest offline, stopped by the migration;
3. the stages: offline moves together (at most `offline_window` per stage), online moves one
   per stage (a VSP takes part in one online migration at a time, 4.2.5 Release Notes 9.2.8),
   then the upgrade alone; with `return_guests`, the guests go back afterwards the same way;
4. the estate after the step is the next step's snapshot (`effects.Estate`, read back).

A VSP with a guest that fits nowhere, or with a kept guest (`keep`), is not upgraded; the
campaign goes on with the others and says which VSP stopped and why. Goals in this order:
every selected VSP upgraded, fewest offline moves of running guests, fewest stages, balance.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from ..core.verdicts import worst
from ..core.vocabulary import OFFLINE, ONLINE, READY
from ..estate.capacity import holds_memory
from ..estate.effects import Estate
from ..estate.snapshot import Snapshot, snapshot_from_data
from ..files.yaml_out import dump_yaml
from ..lang.builtins import as_version
from ..packs.ruleset import RuleSet
from .place import _blocked_in_wave, _candidates, _cells, _model, _order, _solve, why_not_placed
from .plans import PlanOutcome, plan_document, plan_from_text, run_plan

STEP_ROUNDS = 3  # a step solved again at most this often without the moves its own check blocked
OFFLINE_COST = 1000  # the placement's second objective: an offline move of a running guest (downtime)
WAITING_COST = 10  # a target that is still to be upgraded (its guests would move again)


@dataclass(frozen=True)
class CampaignOptions:
    upgrade: str  # a glob of VSP names
    to: str  # the release
    keep: str | None = None  # a glob of guests that must not move
    offline_window: int | None = None  # at most this many offline moves per stage
    max_stages: int | None = None
    time_limit: float = 30.0
    return_guests: bool = False
    name: str | None = None
    output: str | None = None  # the plan file to write


@dataclass
class Step:
    """One VSP of the campaign: its moves (`{guest, to, mode, why}`), or what stops it."""

    vsp: str
    moves: list[dict] = field(default_factory=list)
    stopped: list[dict] = field(default_factory=list)  # {guest, why, blocking: {rule: [targets]}}
    stages: list[list[dict]] = field(default_factory=list)
    check: PlanOutcome | None = None  # the step's own plan, checked on the estate it starts from

    def to_json(self) -> dict:
        out = {"vsp": self.vsp, "upgraded": not self.stopped,
               "moves": [{k: v for k, v in m.items() if k != "holds"} for m in self.moves]}
        if self.stopped:
            out["stopped_by"] = self.stopped
        return out


@dataclass
class Campaign:
    name: str
    release: str
    steps: list[Step]
    skipped: list[dict]  # selected VSPs already at (or past) the release
    stages: list[list[dict]]
    check: PlanOutcome | None
    seconds: float
    limited: list[str] = field(default_factory=list)  # what --max-stages left out

    @property
    def upgraded(self) -> list[str]:
        return [s.vsp for s in self.steps if not s.stopped and s.vsp not in self.limited]

    @property
    def stopped(self) -> list[Step]:
        return [s for s in self.steps if s.stopped]

    @property
    def offline_running(self) -> int:
        return sum(1 for s in self.steps for m in s.moves if m["mode"] == OFFLINE and m.get("running"))

    def plan_data(self) -> dict:
        return plan_document(self.name, self.stages)

    def plan_text(self) -> str:
        return dump_yaml(self.plan_data(), "proposed by migcheck campaign; check it again with "
                                           "`migcheck plan SNAPSHOT THIS-FILE`")

    def to_json(self) -> dict:
        return {"release": self.release, "upgraded": self.upgraded, "stopped": [s.vsp for s in self.stopped],
                "skipped": self.skipped, "limited": self.limited, "stages": len(self.stages),
                "offline_moves_of_running_guests": self.offline_running,
                "vsps": [s.to_json() for s in self.steps]}


def propose_campaign(ruleset: RuleSet, snapshot: Snapshot, options: CampaignOptions, waivers=None) -> Campaign:
    """Every selected VSP vacated and upgraded in turn (see the module docstring), then checked by `plan`."""
    started = time.perf_counter()
    release = as_version(options.to)
    selected = [h["name"] for h in snapshot.hosts if fnmatch.fnmatchcase(h["name"], options.upgrade)
                and snapshot.host_by_name.get(h["name"]) is h]
    skipped = [{"vsp": n, "version": snapshot.host_by_name[n].get("version")} for n in selected
               if _at_release(snapshot.host_by_name[n], release)]
    left = [n for n in selected if n not in {s["vsp"] for s in skipped}]
    steps: list[Step] = []
    now = snapshot
    moved: set[str] = set()  # the guests the campaign has moved so far
    left = _order_vsps(ruleset, snapshot, left, waivers)
    while left:
        budget = max(0.5, (started + options.time_limit - time.perf_counter()) / len(left))
        vsp = left.pop(0)
        step = _vacate(ruleset, now, vsp, left, options, budget, waivers, moved)
        steps.append(step)
        if not step.stopped:
            moved.update(m["guest"] for m in step.moves)
            now = snapshot_from_data(step.check.estate.to_data(), now.doc.file)  # the estate the step leaves
            step.check = None  # its results and estates are not kept: the whole plan is checked at the end
    name = options.name or f"upgrade {options.upgrade} to {options.to}"
    stages, limited = _limit([st for s in steps for st in s.stages], steps, options.max_stages)
    stages, check = _fewest_stages(ruleset, snapshot, name, stages, options, waivers)
    return Campaign(name, options.to, steps, skipped, stages, check, time.perf_counter() - started, limited)


def _fewest_stages(ruleset: RuleSet, snapshot: Snapshot, name: str, stages: list, options: CampaignOptions,
                   waivers) -> tuple[list, PlanOutcome | None]:
    """The steps in fewer stages (`_compact`) when `plan` finds that plan as good as the step-by-step one."""
    compact = _compact(stages, snapshot, options.offline_window)
    if len(compact) >= len(stages):
        return stages, _check(ruleset, snapshot, name, stages, waivers)
    check = _check(ruleset, snapshot, name, compact, waivers)
    if check.verdict == READY:
        return compact, check
    stepwise = _check(ruleset, snapshot, name, stages, waivers)
    if worst((check.verdict, stepwise.verdict)) == stepwise.verdict:
        return compact, check
    return stages, stepwise


def _check(ruleset: RuleSet, snapshot: Snapshot, name: str, stages: list, waivers) -> PlanOutcome | None:
    if not stages:
        return None
    plan = plan_from_text(dump_yaml(plan_document(name, stages)), snapshot, "<proposed campaign>")
    return run_plan(ruleset, snapshot, plan, waivers=waivers)


def _compact(stages: list[list[dict]], snapshot: Snapshot, window: int | None) -> list[list[dict]]:
    """The same steps in fewer stages: each step in the earliest stage after every step it depends on
    (the same guest; an upgrade of a VSP it leaves or reaches; two online moves sharing a VSP; an
    arrival on a VSP another step leaves, whose room a stage does not credit), the offline window kept."""
    where = {g["name"]: g["host"] for g in snapshot.guests}
    placed: list[tuple[int, dict, frozenset, str | None]] = []  # (stage, step, VSPs, guest)
    out: list[list[dict]] = []
    for stage in stages:
        for item in stage:
            guest = item.get("guest")
            vsps = frozenset((item["upgrade"],)) if guest is None else frozenset((where.get(guest), item["to"]))
            after = max((k for k, other, other_vsps, other_guest in placed
                         if _depends(item, vsps, guest, other, other_vsps, other_guest)), default=-1)
            k = after + 1
            while k < len(out) and not _fits(out[k], item, window):
                k += 1
            if k == len(out):
                out.append([])
            out[k].append(item)
            placed.append((k, item, vsps, guest))
            if guest is not None:
                where[guest] = item["to"]
    return out


def _depends(item: dict, vsps: frozenset, guest: str | None, other: dict, other_vsps: frozenset,
             other_guest: str | None) -> bool:
    if guest is not None and guest == other_guest:
        return True
    if (guest is None or other_guest is None) and vsps & other_vsps:
        return True  # an upgrade and a step that leaves or reaches its VSP, or two upgrades of one VSP
    if item.get("mode") == ONLINE and other.get("mode") == ONLINE and vsps & other_vsps:
        return True
    return guest is not None and other_guest is not None and item["to"] in other_vsps and item["to"] != other["to"]


def _fits(stage: list[dict], item: dict, window: int | None) -> bool:
    if window is None or item.get("guest") is None or item.get("mode") == ONLINE:
        return True
    return sum(1 for s in stage if s.get("guest") is not None and s.get("mode") != ONLINE) < window


def _at_release(host: dict, release) -> bool:
    try:
        return host.get("version") is not None and as_version(host["version"]) >= release
    except Exception:  # an unreadable release is not at the release: the plan rules will say why
        return False


def _order_vsps(ruleset: RuleSet, snapshot: Snapshot, vsps: list[str], waivers) -> list[str]:
    """The VSPs in campaign order: the fewest running guests that move online nowhere (in the site as
    it stands: one matrix), then the fewest guests, then as the snapshot lists them."""
    running = [g for g in snapshot.guests if g["host"] in vsps and g["state"] == "on"
               and snapshot.guest_by_name.get(g["name"]) is g]
    ready = {c.guest for c in _cells(ruleset, snapshot, running, snapshot.hosts, ONLINE, waivers)
             if c.verdict == READY} if running else set()
    stuck = {v: 0 for v in vsps}
    count = dict(stuck)
    for g in snapshot.guests:
        if g["host"] in count:
            count[g["host"]] += 1
            stuck[g["host"]] += g["state"] == "on" and g["name"] not in ready
    return sorted(vsps, key=lambda v: (stuck[v], count[v], vsps.index(v)))


def _vacate(ruleset: RuleSet, snapshot: Snapshot, vsp: str, waiting: list[str], options: CampaignOptions,
            budget: float, waivers, moved: set) -> Step:
    """Place every guest of `vsp` elsewhere (online where ready, else offline), then its upgrade; the step's
    own plan is checked by `plan`, and a move it blocks (a rule the model does not count, such as
    PLAN-DIO-SHARED: one held DIO function for two of the wave's guests) is barred and the step solved again."""
    step = Step(vsp)
    guests = [g for g in snapshot.guests if g["host"] == vsp and snapshot.guest_by_name.get(g["name"]) is g]
    kept = [g["name"] for g in guests if options.keep and fnmatch.fnmatchcase(g["name"], options.keep)]
    if kept:
        step.stopped = [{"guest": g, "why": f"it must not move (--keep {options.keep})", "blocking": {}} for g in kept]
        return step
    targets = [h for h in snapshot.hosts if h["name"] != vsp and snapshot.host_by_name.get(h["name"]) is h]
    found = _candidates_of(ruleset, snapshot, guests, targets, waiting, waivers)
    by_name = {g["name"]: g for g in guests}
    barred: dict[str, dict[str, list[str]]] = {}  # guest -> rule -> targets the step's check blocked it on
    for _ in range(STEP_ROUNDS):
        found.pop("timed_out", None)
        placed = _place(snapshot, ruleset, guests, targets, found, barred, budget, moved)
        step.stopped = [{"guest": g["name"], "why": _why_unplaced(g["name"], found, barred),
                         "blocking": _blocking(g["name"], found, barred)} for g in guests if g["name"] not in placed]
        if step.stopped:
            return step
        step.moves = [_move(gn, vsp, target, mode, why, by_name[gn]) for gn, (target, mode, why) in placed.items()]
        step.stages = _stages(step.moves, vsp, options)
        step.check = _check(ruleset, snapshot, f"vacate {vsp}", step.stages, waivers)
        blocked = _blocked_in_wave(step.check)
        if not blocked:
            return step
        for guest, rules in blocked.items():
            for rule, ts in rules.items():
                barred.setdefault(guest, {}).setdefault(rule, []).extend(ts)
    step.stopped = [{"guest": g, "why": "its moves are blocked by the plan's own check", "blocking": rules}
                    for g, rules in sorted(barred.items())]
    return step


def _move(guest: str, vsp: str, target: str, mode: str, why: str, raw: dict) -> dict:
    move = {"guest": guest, "from": vsp, "to": target, "mode": mode, "running": raw["state"] == "on",
            "holds": holds_memory(raw)}
    if why:
        move["why_offline"] = why
    return move


def _candidates_of(ruleset: RuleSet, snapshot: Snapshot, guests: list[dict], targets: list[dict],
                   waiting: list[str], waivers) -> dict:
    """What the model of a step needs from the matrices: online-ready pairs, why the rest is not, ready pairs
    and their weights, and for each guest the rules that block it on each target."""
    severity = {r.id: r.severity for r in ruleset.rules}
    running = [g for g in guests if g["state"] == "on"]
    online_cells = _cells(ruleset, snapshot, running, targets, ONLINE, waivers) if running and targets else []
    online, _, _ = _candidates(online_cells, severity)
    ready, blocking, unknown = _candidates(_cells(ruleset, snapshot, guests, targets, OFFLINE, waivers), severity) \
        if guests and targets else ({}, {}, {})
    is_running = {g["name"] for g in running}
    weights = {}
    for pair, warnings in {**ready, **online}.items():
        offline_cost = OFFLINE_COST if pair[0] in is_running and pair not in online else 0
        weights[pair] = warnings + offline_cost + (WAITING_COST if pair[1] in waiting else 0)
    return {"online_ready": online, "weights": weights, "blocking": blocking, "not_known": unknown,
            "running": is_running,
            "offline_why": {(c.guest, c.target): ", ".join(c.failing) for c in online_cells if c.verdict != READY}}


def _place(snapshot: Snapshot, ruleset: RuleSet, guests: list[dict], targets: list[dict], found: dict,
           barred: dict, budget: float, moved: set) -> dict:
    """guest -> (target, mode, why offline): the placement model over the pairs not barred."""
    weights = {p: w for p, w in found["weights"].items() if not any(p[1] in ts for ts in barred.get(p[0], {}).values())}
    if not weights:
        return {}
    estate = Estate(snapshot, ruleset.tables.get("memory_overhead"))
    order = _order(guests, targets)
    model, x, objectives, complete = _model(sorted(weights, key=order), weights, estate, [t["name"] for t in targets],
                                            frozenset(moved))
    statuses, best, _ = _solve(model, x, objectives, complete, time.perf_counter() + budget)
    if statuses and statuses[0] == cp_model.UNKNOWN:  # out of time before any placement: say so, not "used up"
        found["timed_out"] = True
    out = {}
    online, running = found["online_ready"], found["running"]
    for (gn, tn) in sorted((p for p in best if best[p]), key=order):
        if (gn, tn) in online:
            out[gn] = (tn, ONLINE, "")
        elif gn not in running:
            out[gn] = (tn, OFFLINE, "")
        else:
            why = found["offline_why"].get((gn, tn)) or "the room left on the online-ready targets"
            out[gn] = (tn, OFFLINE, f"online it is blocked by {why}")
    return out


def _blocking(guest: str, found: dict, barred: dict) -> dict:
    rules = {r: sorted(ts) for r, ts in found["blocking"].get(guest, {}).items()}
    for r, ts in barred.get(guest, {}).items():
        rules[r] = sorted(set(rules.get(r, [])) | set(ts))
    return dict(sorted(rules.items()))


def _why_unplaced(guest: str, found: dict, barred: dict) -> str:
    if found.get("timed_out"):
        return "the solver found no placement for the VSP's guests within its share of --time-limit; raise it"
    if any(g == guest for g, _ in found["weights"]):
        if guest in barred:
            return "the step's own check by `plan` blocks it on its ready targets"
        return "its ready targets are used up by the other guests of the VSP (memory or DIO functions)"
    if not found["blocking"].get(guest) and not found["not_known"].get(guest):
        return "no other VSP"
    # (an unknown pair names no blocking rule: with none, it is unknown on every other VSP)
    return why_not_placed("other VSP", found["not_known"].get(guest, []), not found["blocking"].get(guest))


def _stages(moves: list[dict], vsp: str, options: CampaignOptions) -> list[list[dict]]:
    """The step's moves (`_in_stages`), then the upgrade; with `--return`, the guests back the same way."""
    stages = _in_stages(moves, options.offline_window)
    stages.append([{"upgrade": vsp, "to": options.to}])
    if options.return_guests:
        stages += _in_stages([{**m, "to": vsp, "from": m["to"]} for m in moves], options.offline_window)
    return stages


def _in_stages(moves: list[dict], window: int | None) -> list[list[dict]]:
    """Offline moves together (at most `window` per stage), the guests that take no memory first (as `place`
    orders them: MEMORY-TARGET compares a stopped guest with the free memory it finds, which the running
    guests moved before it would have taken); then online moves one per stage."""
    def plan_move(m: dict) -> dict:
        out = {"guest": m["guest"], "to": m["to"]}
        if m["mode"] == ONLINE:
            out["mode"] = ONLINE
        elif m["running"]:
            out["stop"] = True
        return out
    offline = [plan_move(m) for m in sorted((m for m in moves if m["mode"] == OFFLINE), key=lambda m: m["holds"])]
    window = window or len(offline) or 1
    stages = [offline[i:i + window] for i in range(0, len(offline), window)]
    return stages + [[plan_move(m)] for m in moves if m["mode"] == ONLINE]


def _limit(stages: list, steps: list[Step], max_stages: int | None) -> tuple[list, list[str]]:
    """At most `max_stages` stages, whole VSP steps only; the VSPs left out."""
    if max_stages is None or len(stages) <= max_stages:
        return stages, []
    kept, count, limited = [], 0, []
    for s in steps:
        if s.stopped:
            continue
        if not limited and count + len(s.stages) <= max_stages:
            kept += s.stages
            count += len(s.stages)
        else:
            limited.append(s.vsp)
    return kept, limited


def offline_lower_bound(ruleset: RuleSet, snapshot: Snapshot, options: CampaignOptions, waivers=None,
                        vsps: list[str] | None = None) -> int:
    """Running guests of the VSPs to upgrade that no campaign can move online: no other VSP is ready for
    them online in the site as it stands, nor in the site with every selected VSP at the release (the
    two ends of every campaign; a vPar, a DIO guest, a guest whose release has no online path). A bound
    for the benchmark, not a proof over every intermediate estate. `vsps`: count the guests of these VSPs
    only (those a campaign upgraded; the others' guests do not move)."""
    release = as_version(options.to)
    selected = {h["name"] for h in snapshot.hosts if fnmatch.fnmatchcase(h["name"], options.upgrade)
                and not _at_release(h, release)}
    counted = selected if vsps is None else selected & set(vsps)
    running = [g for g in snapshot.guests if g["host"] in counted and g["state"] == "on"
               and snapshot.guest_by_name.get(g["name"]) is g]
    if not running:
        return 0
    data = snapshot.doc.data
    upgraded = snapshot_from_data({**data, "hosts": [dict(h, version=options.to) if h["name"] in selected else h
                                                      for h in data["hosts"]]}, snapshot.doc.file)
    movable = set()
    for site in (snapshot, upgraded):
        names = {g["name"] for g in running}
        guests = [g for g in site.guests if g["name"] in names and site.guest_by_name.get(g["name"]) is g]
        movable |= {c.guest for c in _cells(ruleset, site, guests, site.hosts, ONLINE, waivers) if c.verdict == READY}
    return sum(1 for g in running if g["name"] not in movable)

