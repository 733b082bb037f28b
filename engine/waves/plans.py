"""Plans: a wave of migrations in stages, checked in order (`migcheck plan SNAPSHOT PLAN`).

Input: compiled rules, a loaded snapshot and a plan file. Output: a `PlanOutcome`: a
verdict per migration and per stage, the plan's verdict, every result, and the estate
after the plan.

Each migration is checked by the ordinary guest and migration rules against the estate
as it will be when it runs: after every earlier stage and after the migrations listed
before it in its own stage (`effects.Estate` computes that estate, and each check runs on an
engine made for its view as it then stands; no rule knows about plans). The migrations of a
stage run at the same time: what a departure frees (memory, a vPar's cores, DIO functions)
is free from the next stage on, never for an arrival of its own stage, so the order a stage
lists its migrations in does not decide their verdicts (`Estate.begin_stage`).
A blocked migration does not happen: its guest stays where it was, and a later migration
of that guest is `unknown` (it is not checked: where it starts is not known). After each
stage, the plan rules (`on stage`, `rules/plan.rules`) check what only a wave has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..core.results import Result
from ..core.verdicts import blocks, check_verdict, worst
from ..core.vocabulary import BLOCKED, ERROR, FAIL, OFFLINE, READY, UNCAPTURED, UNKNOWN
from ..core.words import did_you_mean
from ..estate import view
from ..estate.effects import Effect, Estate
from ..estate.snapshot import Snapshot
from ..eval.engine import Engine, Subject
from ..files.document import Document, Limits, LoadError, load_document, parse_text
from ..files.schemas import Input, validated
from ..files.yaml_out import dump_yaml
from ..packs.ruleset import RuleSet

SCHEMA = "plan.schema.json"


# -- the plan file ------------------------------------------------------------------------
@dataclass(frozen=True)
class Migration:
    step: int  # from 1, across the whole plan
    stage: int  # from 1
    guest: str
    to: str
    mode: str
    stop: bool
    path: tuple  # JSON path in the plan file


@dataclass(frozen=True)
class Upgrade:
    """A VSP upgraded to a release when its stage's migrations have finished (a campaign's step)."""

    stage: int  # from 1
    vsp: str
    to: str
    path: tuple  # JSON path in the plan file


@dataclass
class Plan:
    doc: Document
    name: str
    stages: list[list[Migration]]
    stage_names: list[str | None]
    upgrades: list[list[Upgrade]] = field(default_factory=list)  # per stage

    @property
    def path(self) -> str:
        return self.doc.file

    @property
    def migrations(self) -> list[Migration]:
        return [m for stage in self.stages for m in stage]

    def locate(self, path: tuple) -> tuple[str, int, int]:
        line, col = self.doc.position(path)
        return self.doc.file, line, col


def describe(path: tuple, data) -> str:
    """Name the part of a plan at `path` ("migration 2 of stage 1")."""
    if len(path) >= 2 and path[0] == "stages" and isinstance(path[1], int):
        where = f"stage {path[1] + 1}"
        if len(path) >= 4 and path[2] == "migrations" and isinstance(path[3], int):
            return f"migration {path[3] + 1} of {where}"
        return where
    return "the plan"


PLAN = Input(SCHEMA, describe, "a plan must be a mapping with `plan` and `stages`", "start the file with `plan: 1`")


def load_plan(path: str, snapshot: Snapshot, limits: Limits = Limits()) -> Plan:
    """Read and check a plan file against a snapshot; raise `LoadError` with every problem located."""
    return _from_document(load_document(path, limits), snapshot)


def plan_from_text(text: str, snapshot: Snapshot, name: str = "<plan>") -> Plan:
    return _from_document(parse_text(text, name), snapshot)


def plan_from_data(data: dict, snapshot: Snapshot, name: str = "<plan>") -> Plan:
    """A plan from already-parsed data (rule tests, generated plans); still checked."""

    return _from_document(Document(name, json.dumps(data, indent=1), data), snapshot)


def _from_document(doc: Document, snapshot: Snapshot) -> Plan:
    problems = []
    try:
        validated(doc, PLAN)
    except LoadError as exc:  # every problem at once: the names of the items that are well formed are checked too
        problems += exc.problems
    where = {name: g["host"] for name, g in snapshot.guest_by_name.items()}  # where each guest is, as the plan goes
    stages, names, upgrades, step, moved = [], [], [], 0, set()
    for i, stage in enumerate(_list(doc.data, "stages")):
        names.append(stage.get("name") if isinstance(stage, dict) else None)
        moves = []
        items = _list(stage, "migrations")
        upgrades.append(_upgrades(doc, snapshot, i, items, problems))
        for j, m in enumerate(items):
            at = ("stages", i, "migrations", j)
            if not isinstance(m, dict) or "upgrade" in m:
                continue
            step += 1
            if not isinstance(m.get("guest"), str) or not isinstance(m.get("to"), str):
                continue  # (its schema problem is said)
            guest, to = view.name(m["guest"]), view.name(m["to"])  # in NFC, as the snapshot's names
            known = True
            if guest not in snapshot.guest_by_name:
                problems.append(doc.problem(at + ("guest",), f"guest `{guest}` is not in the snapshot",
                                            _suggest(guest, snapshot.guest_by_name, "name a guest of the snapshot",
                                                     problems), code="unknown-guest"))
                known = False
            if to not in snapshot.host_by_name:
                problems.append(doc.problem(at + ("to",), f"VSP `{to}` is not in the snapshot",
                                            _suggest(to, snapshot.host_by_name, "name a VSP of the snapshot", problems),
                                            code="unknown-vsp"))
                known = False
            if known:
                if where.get(guest) == to:
                    problems.append(doc.problem(
                        at + ("to",), f"guest `{guest}` is already on `{to}`"
                        + (" at this point of the plan" if guest in moved else ""),
                        "choose another target or remove this migration", code="already-there"))
                where[guest] = to
                moved.add(guest)
            moves.append(Migration(step, i + 1, guest, to, m.get("mode", OFFLINE), m.get("stop", False), at))
        stages.append(moves)
    if problems:
        raise LoadError(problems)
    return Plan(doc, doc.data.get("name", ""), stages, names, upgrades)


SUGGESTED = 50  # unknown names given a "did you mean" (each compares with every name of the snapshot)


def _suggest(name: str, known, otherwise: str, problems: list) -> str:
    """`did_you_mean` for the first `SUGGESTED` problems of a plan; past them, what to do only (a plan of thousands
    of names the snapshot lacks against an estate of thousands took minutes)."""
    return did_you_mean(name, known, otherwise) if len(problems) < SUGGESTED else otherwise


def _list(data, key: str) -> list:
    """`data[key]` when `data` is a mapping holding a list there, else none (a schema problem, said)."""
    found = data.get(key) if isinstance(data, dict) else None
    return found if isinstance(found, list) else []


def _upgrades(doc: Document, snapshot: Snapshot, i: int, items: list, problems: list) -> list[Upgrade]:
    """The VSP upgrades of stage `i`; an unknown VSP is a located problem (what it holds is for the plan rules)."""
    out = []
    for j, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("upgrade"), str) or "to" not in item:
            continue
        at = ("stages", i, "migrations", j)
        vsp = view.name(item["upgrade"])
        if vsp not in snapshot.host_by_name:
            problems.append(doc.problem(at + ("upgrade",), f"VSP `{vsp}` is not in the snapshot",
                                        _suggest(vsp, snapshot.host_by_name, "name a VSP of the snapshot", problems),
                                        code="unknown-vsp"))
            continue
        first = next((u for u in out if u.vsp == vsp), None)
        if first is not None:  # which release would it end at: the stage's upgrades happen at once
            problems.append(doc.problem(at + ("upgrade",), f"stage {i + 1} upgrades VSP `{vsp}` twice (first at "
                                        f"line {doc.position(first.path + ('upgrade',))[0]})",
                                        "upgrade a VSP once per stage: keep the release it should end at",
                                        code="upgraded-twice"))
            continue
        out.append(Upgrade(i + 1, vsp, item["to"], at))
    return out


def plan_document(name: str, stages: list[list[dict]]) -> dict:
    """A plan file's data from stages of migrations (`{guest, to, mode?, stop?}`)."""
    out: dict = {"plan": 1}
    if name:
        out["name"] = name
    out["stages"] = [{"migrations": moves} for moves in stages]  # a move may be an upgrade, `{upgrade, to}`
    return out


# -- outcomes -------------------------------------------------------------------------------
@dataclass
class MigrationOutcome:
    migration: Migration
    source: str
    verdict: str
    failing: list[str]  # rule ids of counted failures (all severities) and errors
    effect: Effect | None = None  # None when the migration does not happen
    follows_blocked: int | None = None
    follows_uncertain: int | None = None  # an earlier step moved a guest of unknown size on or off its VSPs

    def to_json(self) -> dict:
        m = self.migration
        out = {"step": m.step, "stage": m.stage, "guest": m.guest, "source": self.source, "target": m.to,
               "mode": m.mode, "stop": m.stop, "verdict": self.verdict, "failing": self.failing}
        if self.follows_blocked is not None:
            out["follows_blocked"] = self.follows_blocked
        if self.follows_uncertain is not None:
            out["follows_uncertain"] = self.follows_uncertain
        if self.effect is not None:
            out["effect"] = self.effect.to_json()
        return out


@dataclass
class StageOutcome:
    index: int
    name: str | None
    verdict: str
    failing: list[str]  # plan rules that failed or erred for this stage
    migrations: list[MigrationOutcome] = field(default_factory=list)
    upgrades: list[dict] = field(default_factory=list)  # the stage's upgrades as plan rules saw them (`upgrade_view`)
    held: list[str] = field(default_factory=list)  # VSPs whose upgrade a plan rule blocked: not upgraded

    def to_json(self) -> dict:
        out = {"stage": self.index, "verdict": self.verdict, "failing": self.failing,
               "steps": [m.migration.step for m in self.migrations]}
        if self.upgrades:
            out["upgrades"] = [u["vsp"] for u in self.upgrades]
        if self.held:
            out["held"] = list(self.held)
        if self.name:
            out["name"] = self.name
        return out


@dataclass
class PlanOutcome:
    plan: Plan
    verdict: str
    stages: list[StageOutcome]
    results: list[Result]
    estate: Estate

    @property
    def migrations(self) -> list[MigrationOutcome]:
        return [m for s in self.stages for m in s.migrations]

    def to_json(self) -> dict:
        out = {"path": self.plan.path, "name": self.plan.name, "verdict": self.verdict,
               "stages": [s.to_json() for s in self.stages],
               "migrations": [m.to_json() for m in self.migrations]}
        upgrades = [{"stage": s.index, **u} for s in self.stages for u in s.upgrades]
        if upgrades:
            out["upgrades"] = upgrades
        return out


# -- running a plan ---------------------------------------------------------------------------
def estate_before(snapshot: Snapshot, plan: Plan, ruleset: RuleSet, step: int) -> tuple[Estate, Migration]:
    """The estate just before migration `step` runs (as `run_plan` would check it), and that migration."""
    outcome = run_plan(ruleset, snapshot, plan, until=step)
    return outcome.estate, plan.migrations[step - 1]


def run_plan(ruleset: RuleSet, snapshot: Snapshot, plan: Plan, waivers=None, until: int | None = None) -> PlanOutcome:
    """Check every migration of `plan` in order, then the plan rules of each stage.

    `waivers` (a `Waivers`) are attached by the engine as results are made. `until`: stop
    just before that step, leaving the estate as that migration would find it.
    """
    estate = Estate(snapshot, ruleset.tables.get("memory_overhead"))
    results: list[Result] = []
    stages: list[StageOutcome] = []
    left_blocked: dict[str, int] = {}  # guest -> step of its blocked migration
    uncertain: dict[str, int] = {}  # VSP -> step that moved a guest of unknown memory, vCPUs or state on or off it
    for index, moves in enumerate(plan.stages, start=1):
        outcome = StageOutcome(index, plan.stage_names[index - 1], READY, [])
        upgrades = plan.upgrades[index - 1] if plan.upgrades else []
        outcome.upgrades = _upgrade_views(upgrades, moves, estate)  # the VSPs as the stage finds them
        estate.begin_stage()  # its migrations run at the same time: no arrival gets what a departure frees
        for m in moves:
            if until is not None and m.step >= until:
                return PlanOutcome(plan, UNKNOWN, stages + [outcome], results, estate)
            outcome.migrations.append(_migrate(m, estate, ruleset, waivers, left_blocked, results, uncertain))
        estate.end_stage()
        engine = Engine(ruleset, estate.view(), waivers=waivers)  # the estate as the stage leaves it
        subject = Subject("stage", stage=_stage_view(outcome))
        location = plan.locate(("stages", index - 1))
        decided = [(o, engine.result(rule, o, subject.names(), location))
                   for rule in engine.by_subject["stage"] for o in engine.outcomes(rule, subject)]
        stage_results = [r for _, r in decided]
        results.extend(stage_results)
        # an upgrade a plan rule blocks does not happen, as a blocked migration does not; a blocking result of a
        # rule that binds no upgrade (it judges the stage as a whole) holds them all
        bound = [{id(v) for v in o.env.values()} for o, r in decided if blocks(r)]
        ids = {id(u) for u in outcome.upgrades}
        held = set().union(*bound) & ids if all(b & ids for b in bound) else ids
        outcome.failing = sorted({r.rule for r in stage_results if r.waiver is None and r.status in (FAIL, ERROR)})
        outcome.verdict = worst([m.verdict for m in outcome.migrations] + [check_verdict(stage_results)])
        stages.append(outcome)
        for u, seen in zip(upgrades, outcome.upgrades):  # done when the stage's migrations have finished
            if id(seen) in held:
                outcome.held.append(u.vsp)
            else:
                estate.upgrade(u.vsp, u.to)
    return PlanOutcome(plan, worst(s.verdict for s in stages), stages, results, estate)


_SIZE = ("memory_mb", "vcpus", "state")  # what a guest's move takes from its target and gives back to its source


def _migrate(m: Migration, estate: Estate, ruleset: RuleSet, waivers, left_blocked: dict,
             results: list, uncertain: dict) -> MigrationOutcome:
    view = estate.view()  # the estate as this migration finds it
    guest = view.snapshot.guest_by_name[m.guest]
    source = guest["host"]
    if m.guest in left_blocked:
        # where the guest starts from is not known: an earlier migration of it did not happen
        return MigrationOutcome(m, source, UNKNOWN, [], follows_blocked=left_blocked[m.guest])
    target = view.snapshot.host_by_name[m.to]
    found = Engine(ruleset, view, stop=m.stop, waivers=waivers).check(guest, target, m.mode)
    stamped: dict[int, tuple] = {}  # the engine shares a subject among its results (`Engine.results`): so here
    for r in found:
        old, subject = stamped.get(id(r.subject), (None, None))
        if old is not r.subject:
            old, subject = stamped[id(r.subject)] = (r.subject, {**r.subject, "stage": m.stage, "step": m.step})
        r.subject = subject
    results.extend(found)
    verdict = check_verdict(found)
    failing = sorted({r.rule for r in found if r.waiver is None and r.status in (FAIL, ERROR)})
    if verdict == BLOCKED:
        left_blocked[m.guest] = m.step
        return MigrationOutcome(m, source, verdict, failing)
    after = uncertain.get(m.to) or uncertain.get(source)
    if verdict == READY and after is not None:  # the free memory and cores it was checked against are not known
        verdict = UNKNOWN
    if any(part in (guest.get(UNCAPTURED) or ()) for part in _SIZE):  # this move makes its VSPs' counts unknown
        uncertain.setdefault(m.to, m.step)
        uncertain.setdefault(source, m.step)
    return MigrationOutcome(m, source, verdict, failing, estate.migrate(m.guest, m.to), follows_uncertain=after)


def _stage_view(stage: StageOutcome) -> dict:
    """What plan rules see of a stage (`$defs/stage_view` of the plan schema)."""
    migrations, vsps = [], set()
    for mo in stage.migrations:
        m = mo.migration
        vsps.update((mo.source, m.to))
        shared = [{"guest": m.guest, "target": m.to, "hwpath": g.hwpath, "label": g.label, "holder": g.holder}
                  for g in (mo.effect.shared if mo.effect else [])]
        migrations.append({"step": m.step, "guest": m.guest, "source": mo.source, "target": m.to, "mode": m.mode,
                           "stop": m.stop, "verdict": mo.verdict, "follows_blocked": mo.follows_blocked,
                           "dio_shared": shared})
    return {"index": stage.index, "name": stage.name, "vsps": sorted(vsps), "migrations": migrations,
            "upgrades": stage.upgrades}


def _upgrade_views(upgrades: list[Upgrade], moves: list[Migration], estate: Estate) -> list[dict]:
    """What plan rules see of each upgrade: the VSP's runnable guests when the stage starts, and the
    stage's migrations that leave or reach it (`$defs/upgrade_view` of the plan schema)."""
    if not upgrades:
        return []
    now = estate.snapshot
    out = []
    for u in upgrades:
        host = now.host_by_name[u.vsp]
        moving = [m.guest for m in moves
                  if m.to == u.vsp or (m.guest in now.guest_by_name and now.guest_by_name[m.guest]["host"] == u.vsp)]
        view = {"vsp": u.vsp, "to": u.to, "runnable": sorted(g["name"] for g in now.guests if g["host"] == u.vsp),
                "moving": moving}
        if host.get("version") is not None:
            view["from"] = host["version"]
        out.append(view)
    return out


# -- the estate after, as a snapshot file ---------------------------------------------------
def snapshot_text(estate: Estate, path: str) -> str:
    """The estate in the snapshot format: JSON for a `.json` path, else YAML (the one writer)."""
    data = estate.to_data()
    if path.endswith(".json"):
        return json.dumps(data, indent=2) + "\n"
    return dump_yaml(data)
