"""Questions of the estate: where can a guest go, and the matrix in counts.

`where_to(engine, guest, mode)` evaluates one guest against every other VSP (the
matrix restricted to that guest: the same evaluation as `check` and `matrix`) and ranks the
targets: ready ones first, fewest warnings first, then the ones a rule could not decide,
then the blocked ones, fewest blocking rules first; ties by name. `summarize_matrix(cells)`
counts, per guest, the targets it is ready for and, per target, the guests ready to come.
`select(items, globs, what)` restricts guests or targets by name patterns.

Both answers render as a table or as one JSON object (`render_where`, `render_summary`).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field

from .. import __version__
from ..core.perf import collector_paused
from ..core.verdicts import VERDICT_RANK
from ..core.verdicts import where_exit as _where_exit
from ..core.vocabulary import BLOCKED, ERROR, ERROR_SEVERITY, FAIL, READY, SEVERITY_RANK, UNKNOWN, WARNING


class NoMatch(Exception):
    """A name pattern matched nothing: a bad invocation."""


def select(items: list[dict], globs: list[str] | None, what: str) -> list[dict] | None:
    """The items whose name matches one of `globs` (shell patterns), in snapshot order; None for all."""
    if not globs:
        return None
    chosen = [item for item in items if any(fnmatch.fnmatchcase(item["name"], g) for g in globs)]
    if not chosen:
        shown = ", ".join(f"`{g}`" for g in globs)
        raise NoMatch(f"no {what} matches {shown}")
    return chosen


@dataclass
class Destination:
    target: str
    verdict: str
    blocking: list[str] = field(default_factory=list)  # error-severity rules that fail (not waived)
    errors: list[str] = field(default_factory=list)  # rules that could not be evaluated
    warnings: int = 0  # counted warning failures
    notes: int = 0  # counted info failures
    findings: list[dict] = field(default_factory=list)  # rule, severity, status, message (for the table)

    def to_json(self) -> dict:
        return {"target": self.target, "verdict": self.verdict, "blocking": self.blocking, "errors": self.errors,
                "warnings": self.warnings, "notes": self.notes, "findings": self.findings}


def where_to(engine, guest: dict, mode: str, targets: list[dict] | None = None) -> list[Destination]:
    """Every VSP but the guest's own, ranked: ready (fewest warnings first), unknown, blocked.
    Waivers are the engine's."""
    matrix = engine.matrix_of(mode, [guest], targets)
    out = []
    for cells, results in matrix.walk(results=True):
        by_target: dict[str, list] = {}
        guest_wide = []
        for r in results:
            if "target" in r.subject:
                by_target.setdefault(r.subject["target"], []).append(r)
            else:
                guest_wide.append(r)
        for cell in cells:
            found = guest_wide + by_target.get(cell.target, [])
            d = Destination(cell.target, cell.verdict)
            for r in found:
                counted = r.waiver is None
                if r.status == ERROR and counted:
                    d.errors.append(r.rule)
                elif r.status == FAIL and counted:
                    if r.severity == ERROR_SEVERITY:
                        d.blocking.append(r.rule)
                    elif r.severity == WARNING:
                        d.warnings += 1
                    else:
                        d.notes += 1
                d.findings.append({"rule": r.rule, "severity": r.severity, "status": r.status,
                                   "message": r.message, "waived": r.waiver is not None})
            d.blocking = sorted(set(d.blocking))
            d.errors = sorted(set(d.errors))
            d.findings.sort(key=lambda f: (-SEVERITY_RANK[f["severity"]], f["rule"], f["message"]))
            out.append(d)
    out.sort(key=lambda d: (VERDICT_RANK[d.verdict], len(d.blocking), len(d.errors), d.warnings, d.notes, d.target))
    return out


def where_exit(destinations: list[Destination]) -> int:
    """0 when some target is ready, 3 when none is but some could not be decided, else 1."""
    return _where_exit(d.verdict for d in destinations)


def _header(snapshot, command: str) -> dict:
    return {"format": 1, "tool": {"name": "migcheck", "version": __version__}, "command": command,
            "snapshot": {"path": snapshot.path, "sha256": snapshot.doc.sha256, "site": snapshot.site}}


def render_where(snapshot, guest: dict, mode: str, destinations: list[Destination], fmt: str) -> str:
    counts = {v: sum(1 for d in destinations if d.verdict == v) for v in VERDICT_RANK}
    if fmt == "json":
        out = _header(snapshot, "where")
        out["request"] = {"guest": guest["name"], "source": guest["host"], "mode": mode}
        out["targets"] = [d.to_json() for d in destinations]
        out["summary"] = counts
        return json.dumps(out, indent=2) + "\n"
    lines = [f"{guest['name']} (on {guest['host']}, {mode} migration): ready for {counts[READY]} of "
             f"{len(destinations)} VSP(s), blocked on {counts[BLOCKED]}, undecided on {counts[UNKNOWN]}", ""]
    width = max([len(d.target) for d in destinations] + [6])
    lines.append(f"{'target':<{width}}  verdict  warnings  notes  blocking rules")
    for d in destinations:
        why = ", ".join(d.blocking + [f"{e} (error)" for e in d.errors]) or "-"
        lines.append(f"{d.target:<{width}}  {d.verdict:<7}  {d.warnings:>8}  {d.notes:>5}  {why}")
    return "\n".join(lines) + "\n"


def summarize_matrix(matrix) -> tuple[list[dict], list[dict]]:
    """Per guest: targets it is ready for, blocked on, undecided; per target: the same for guests coming.

    Without waivers the counts come straight from the shared rows of cells (no cell is built);
    with them, from the cells as waived."""
    per_guest: list[dict] = []
    per_target: dict[str, dict] = {t["name"]: {"target": t["name"], READY: 0, BLOCKED: 0, UNKNOWN: 0}
                                   for t in matrix.targets}
    if matrix.engine.waivers is None:
        rows = ((guest["name"], guest["host"], names, [cell[0] for cell in cells])
                for guest, names, cells in matrix.rows())
    else:
        rows = ((cells[0].guest, cells[0].source, [c.target for c in cells], [c.verdict for c in cells])
                for cells, _ in matrix.walk(results=False) if cells)
    with collector_paused(kept=True):  # the matrix's classes and rows, all kept: nothing for it to find
        for guest, source, names, verdicts in rows:
            row = {"guest": guest, "source": source, READY: 0, BLOCKED: 0, UNKNOWN: 0}
            for name, verdict in zip(names, verdicts):
                row[verdict] += 1
                per_target[name][verdict] += 1
            per_guest.append(row)
    return per_guest, list(per_target.values())


def render_summary(snapshot, mode: str, per_guest: list[dict], per_target: list[dict], fmt: str) -> str:
    if fmt == "json":
        out = _header(snapshot, "matrix")
        out["mode"] = mode
        out["guests"] = per_guest
        out["targets"] = [{"target": t["target"], "candidates": t[READY], BLOCKED: t[BLOCKED],
                           UNKNOWN: t[UNKNOWN]} for t in per_target]
        return json.dumps(out, indent=2) + "\n"
    lines = [f"matrix summary ({mode} migration): {len(per_guest)} guest(s), {len(per_target)} target(s)", ""]
    gw = max([len(g["guest"]) for g in per_guest] + [5])
    sw = max([len(g["source"]) for g in per_guest] + [6])
    lines.append(f"{'guest':<{gw}}  {'source':<{sw}}  ready  blocked  unknown")
    for g in per_guest:
        lines.append(f"{g['guest']:<{gw}}  {g['source']:<{sw}}  {g[READY]:>5}  {g[BLOCKED]:>7}  {g[UNKNOWN]:>7}")
    lines.append("")
    tw = max([len(t["target"]) for t in per_target] + [6])
    lines.append(f"{'target':<{tw}}  candidates  blocked  unknown")
    for t in per_target:
        lines.append(f"{t['target']:<{tw}}  {t[READY]:>10}  {t[BLOCKED]:>7}  {t[UNKNOWN]:>7}")
    return "\n".join(lines) + "\n"
