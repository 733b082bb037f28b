"""What every report format shows of a plan (`plan`, `place`): its migrations and stages.

Pure functions from `report.plan` (the JSON of a `PlanOutcome`) and `report.placement`
(what `place` proposed and why) to rows; each format lays the rows out its own way.
"""

from __future__ import annotations

from ..core.vocabulary import BLOCKED, READY, UNKNOWN, VERDICTS

MIGRATION_COLUMNS = ["stage", "step", "guest", "source", "target", "mode", "verdict", "failing rules"]
STAGE_COLUMNS = ["stage", "steps", "verdict", "failing plan rules"]


def migration_rows(report) -> list[list]:
    rows = []
    for m in (report.plan or {}).get("migrations", []):
        mode = m["mode"] + (", stop" if m.get("stop") else "")
        why = ", ".join(m["failing"])
        if m.get("follows_blocked"):
            why = (why + "; " if why else "") + f"follows blocked step {m['follows_blocked']}"
        if m.get("follows_uncertain"):
            why = (why + "; " if why else "") + (f"step {m['follows_uncertain']} moved a guest of unknown size on "
                                                 "or off these VSPs")
        rows.append([m["stage"], m["step"], m["guest"], m["source"], m["target"], mode, m["verdict"], why])
    return rows


def stage_rows(report) -> list[list]:
    plan = report.plan or {}
    to = {(u["stage"], u["vsp"]): u["to"] for u in plan.get("upgrades", [])}
    return [[s["stage"], "; ".join([", ".join(str(n) for n in s["steps"])] * bool(s["steps"])
                                   + [f"upgrade {v} to {to.get((s['stage'], v), '?')}"
                                      + (" (held: blocked, not done)" if v in s.get("held", ()) else "")
                                      for v in s.get("upgrades", [])]),
             s["verdict"], ", ".join(s["failing"])]
            for s in plan.get("stages", [])]


def headline(report) -> str:
    plan = report.plan or {}
    migrations = plan.get("migrations", [])
    counts = {v: sum(1 for m in migrations if m["verdict"] == v) for v in VERDICTS}
    name = f"plan `{plan['name']}`" if plan.get("name") else "plan"
    stages = len(plan.get("stages", []))
    text = (f"{name}: {_count(len(migrations), 'migration')} in {_count(stages, 'stage')}: {counts[READY]} ready, "
            f"{counts[BLOCKED]} blocked, {counts[UNKNOWN]} unknown")
    if report.command == "campaign" and report.campaign:
        c = report.campaign
        text = f"campaign to {c['release']}: {_count(len(c['upgraded']), 'VSP')} upgraded; " + text
    elif report.command == "place":
        p = report.placement or {}
        text = (f"proposal to move {p.get('placed', 0)} of {p.get('selected', 0)} guests (solver {p.get('status')}); "
                + text)
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def placement_lines(report) -> list[str]:
    """What `place` proposed and why, and the guests that fit nowhere with the rules that block them
    (for `campaign`: `campaign_lines`)."""
    if report.campaign:
        return campaign_lines(report.campaign)
    p = report.placement
    if not p:
        return []
    out = [f"solver: {p['status']} ({p['candidates']} ready (guest, target) pairs of "
           f"{p['selected']} selected guests); objective: every guest placed, then fewest warnings "
           f"({p['warnings']}), then balanced memory (the wave takes at most {p['max_share_permille'] / 10:g}% of a "
           f"target's free memory; {p['min_free_mb']} MB left on the fullest target it uses)"]
    if p.get("note"):  # a greedy proposal: which objectives are proven, which are not
        out.append(p["note"])
    if p.get("plan_file"):
        out.append(f"plan written to {p['plan_file']}")
    for u in p.get("unplaced", []):
        if u["blocking"] and not u["why"].startswith("not known"):
            why = "; ".join(f"{rule} on {', '.join(targets)}" for rule, targets in u["blocking"].items())
            out.append(f"{u['guest']} fits nowhere: {why}")
        elif u["blocking"]:  # some targets not known: said first, then the blocking rules
            why = "; ".join(f"{rule} on {', '.join(targets)}" for rule, targets in u["blocking"].items())
            out.append(f"{u['guest']} fits nowhere: {u['why']}: {why}")
        else:
            out.append(f"{u['guest']} fits nowhere: {u['why']}")
    return out


def campaign_lines(c: dict) -> list[str]:
    """What `campaign` proposed: per VSP, its guests' moves (and why offline), or what stops it."""
    out = [f"campaign to {c['release']}: {_count(len(c['upgraded']), 'VSP')} upgraded in {_count(c['stages'], 'stage')}, "
           f"{_count(c['offline_moves_of_running_guests'], 'offline move')} of running guests (downtime)"
           + (f"; {len(c['stopped'])} stopped: {', '.join(c['stopped'])}" if c["stopped"] else "")]
    if c.get("plan_file"):
        out.append(f"plan written to {c['plan_file']}")
    for s in c["skipped"]:
        out.append(f"{s['vsp']} is at {s['version']} already")
    for v in c["vsps"]:
        if v.get("stopped_by"):
            for x in v["stopped_by"]:
                rules = "; ".join(f"{rule} on {', '.join(ts)}" for rule, ts in x["blocking"].items())
                why = f"{x['why']}: {rules}" if rules and x["why"].startswith("not known") else rules or x["why"]
                free = (f" (what would free it: make one of those VSPs ready for it: `migcheck where SNAPSHOT "
                        f"{x['guest']}`)") if x["blocking"] else ""
                out.append(f"{v['vsp']} cannot be vacated: {x['guest']}: {why}{free}")
            continue
        moves = ", ".join(f"{m['guest']} -> {m['to']} {m['mode']}" + (f" ({m['why_offline']})" if m.get("why_offline")
                                                                      else "") for m in v["moves"])
        out.append(f"{v['vsp']}: " + (moves if moves else "no guest to move") + ", then upgraded")
    for vsp in c.get("limited", []):
        out.append(f"{vsp} left for a later campaign (--max-stages)")
    return out

