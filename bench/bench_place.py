"""Benchmark: `place --vacate` of a VSP holding 100 guests in a generated 200 x 10,000 estate.

Prints the time of each phase of `place` (the matrix of the selected guests against every
other VSP, the CP-SAT model and its three solves, the check of the proposal by `plan`),
the solver's status and what it placed, and, in the same process, an honest baseline: a
greedy first-fit over the same ready pairs and the same capacities (no solver), with the
ratio of times and the number of guests and warnings each placed. Usage:

    python -m bench.bench_place [--hosts 200] [--guests 10000] [--vacating 100] [--mode offline|online]
                                [--time-limit 5]

With `--commands 500,1000` (issue 23: slow, minutes a case on two busy cores) it runs instead,
for each size, the commands a user runs: `migcheck place SNAPSHOT --vacate VSP -o PLAN` on an
estate whose busiest VSP holds that many guests, then `migcheck plan SNAPSHOT PLAN`, each in
a child process (wall, CPU and peak RSS of that child), and prints the guests asked, those
placed and those no proposal can place (blocked on every candidate), how the proposal was
found (the solver's status, or the greedy pass's and what is not proven optimal, from the plan
file's first line), the solver's seconds against the time limit (net of the set-up before it),
and whether `plan` accepted the plan file (its exit code and verdict). `--workdir DIR` keeps
the estates, plans and reports (default: a temporary directory, removed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from bench.generate import generate
from migcheck.estate.capacity import holds_memory, memory_need_mb
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import snapshot_from_data


def estate(hosts: int, guests: int, vacating: int, seed: int = 11) -> dict:
    """A generated estate whose busiest VSP is given guests (without DIO) until it holds `vacating`."""
    data = generate(hosts, guests, seed=seed)
    count: dict[str, int] = {}
    for g in data["guests"]:
        count[g["host"]] = count.get(g["host"], 0) + 1
    busiest = max(count, key=lambda h: (count[h], h))
    for g in data["guests"]:
        if count[busiest] >= vacating:
            break
        if g["host"] != busiest and not g.get("dio"):
            count[g["host"]] -= 1
            g["host"] = busiest
            count[busiest] += 1
    return data, busiest


def greedy(cells, chosen, hosts, severity) -> tuple[int, int, int]:
    """First fit: each guest to the first ready target with room; (placed, warnings, largest share per mille)."""
    by_host = {h["name"]: h for h in hosts}
    free = {h["name"]: h["memory_mb"]["free"] for h in hosts}
    ready: dict[str, list] = {}
    for c in cells:
        if c.verdict == "ready":
            ready.setdefault(c.guest, []).append(c)
    placed = warnings = 0
    for g in chosen:
        for c in ready.get(g["name"], []):
            need = memory_need_mb(g, by_host[c.target]) if holds_memory(g) else 0
            if need <= free[c.target]:
                free[c.target] -= need
                placed += 1
                warnings += sum(1 for rid in c.failing if severity.get(rid) in ("warning", "info"))
                break
    share = max((-(-1000 * (h["memory_mb"]["free"] - free[h["name"]]) // h["memory_mb"]["free"])
                 for h in hosts if h["memory_mb"]["free"]), default=0)
    return placed, warnings, share


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--guests", type=int, default=10_000)
    parser.add_argument("--vacating", type=int, default=100)
    parser.add_argument("--mode", choices=["offline", "online"], default="offline")
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--commands", metavar="N,N", help="the CLI cases: vacate VSPs holding N guests (500,1000)")
    parser.add_argument("--workdir", help="keep the estates, plans and reports of --commands here")
    args = parser.parse_args(argv)
    if args.commands:
        return commands(args)
    from migcheck.waves import place

    rules = load_rules()
    data, vsp = estate(args.hosts, args.guests, args.vacating)
    started = time.perf_counter()
    snapshot = snapshot_from_data(data)
    snapshot.doc.position(())  # source positions, as loading a YAML file computes them (reports locate results)
    t_load = time.perf_counter() - started
    chosen = place.select_guests(snapshot, vsp, None)
    hosts = place.select_targets(snapshot, vsp, None)
    started = time.perf_counter()
    cells = place._cells(rules, snapshot, chosen, hosts, args.mode, None)
    t_cells = time.perf_counter() - started
    severity = {r.id: r.severity for r in rules.rules}
    started = time.perf_counter()
    g_placed, g_warnings, g_share = greedy(cells, chosen, hosts, severity)
    t_greedy = time.perf_counter() - started + t_cells

    started = time.perf_counter()
    proposal = place.propose(rules, snapshot, vacate=vsp, mode=args.mode, time_limit=args.time_limit)
    t_place = time.perf_counter() - started
    placed = sum(len(s) for s in proposal.stages)
    print(f"estate: {args.hosts} VSPs x {args.guests} guests (loaded in {t_load:.2f} s); vacate {vsp} "
          f"holding {len(chosen)} guests, {args.mode}, time limit {args.time_limit:g} s")
    print(f"ready (guest, target) pairs: {proposal.candidates} of {len(chosen) * len(hosts)} "
          f"(matrix of the selection: {t_cells:.2f} s)")
    print(f"place: {t_place:.2f} s in all; solver status {proposal.status}; placed {placed} of {len(chosen)} in "
          f"{len(proposal.stages)} stage(s), {proposal.warnings} warnings, at most {proposal.max_share / 10:g}% of a "
          f"target's free memory taken; the check by plan says "
          f"{proposal.check.verdict}")
    print("solves (objective, status, seconds): " + "; ".join(f"{o} {s} {t:.2f}" for o, s, t in proposal.phases))
    print(f"greedy first fit (same ready pairs and capacities, no solver): {t_greedy:.2f} s; placed {g_placed}, "
          f"{g_warnings} warnings, at most {g_share / 10:g}% of a target's free memory taken")
    print(f"ratio place/greedy time: {t_place / t_greedy:.1f}x; placed {placed - g_placed:+d} guests, "
          f"{proposal.warnings - g_warnings:+d} warnings against greedy")
    return 0 if proposal.check.verdict != "blocked" else 1


# the place command as `migcheck` runs it, with the solver's seconds written beside (a report has no times)
_PLACE = """
import json, sys, time
from migcheck.waves import place
solve = place._solve
def timed(*args, **kw):
    started = time.perf_counter()
    out = solve(*args, **kw)
    with open(sys.argv[1], "w") as f:
        json.dump({"seconds": time.perf_counter() - started, "phases": out[2]}, f)
    return out
place._solve = timed
from migcheck.cli import main
sys.exit(main(sys.argv[2:]))
"""


def child(cmd: list[str]) -> dict:
    """Run `cmd`; its exit code, wall and CPU seconds and peak RSS (MB), from its own rusage."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    return {"code": proc.returncode, "wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024, "stderr": stderr.strip()}


def commands(args) -> int:
    """`place --vacate` then `plan` on its plan file, in child processes, for each size of `--commands`."""
    sizes = [int(n) for n in args.commands.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-place-") as tmp:
        work = args.workdir or tmp
        os.makedirs(work, exist_ok=True)
        worst = 0
        for n in sizes:
            worst = max(worst, command_case(args, n, work))
    return worst


def command_case(args, n: int, work: str) -> int:
    data, vsp = estate(args.hosts, args.guests, n)
    snap, plan, report, times = (os.path.join(work, f"{stem}-{n}{ext}") for stem, ext in
                                 (("estate", ".json"), ("plan", ".yaml"), ("place", ".json"), ("solver", ".json")))
    with open(snap, "w") as f:
        json.dump(data, f)
    for stale in (plan, report, times):
        if os.path.exists(stale):
            os.remove(stale)
    placed_run = child([sys.executable, "-c", _PLACE, times, "place", snap, "--vacate", vsp, "--mode", args.mode,
                        "--time-limit", f"{args.time_limit:g}", "-o", plan, "-f", f"json:{report}"])
    print(f"{args.hosts} VSPs x {args.guests} guests, a VSP holding {n} or more; place --vacate {vsp} "
          f"({args.mode}, --time-limit {args.time_limit:g}): exit {placed_run['code']}, {_usage(placed_run)}")
    if not os.path.exists(report):
        print(f"  no report: {placed_run['stderr'][-500:]}")
        return 2
    with open(report) as f:
        p = json.load(f)["placement"]
    nowhere = sum(1 for u in p["unplaced"] if u["why"] in ("blocked on every candidate target", "no candidate target"))
    solver = {"seconds": 0.0, "phases": []}  # no solve: nothing to place
    if os.path.exists(times):
        with open(times) as f:
            solver = json.load(f)
    first = open(plan).readline().strip() if os.path.exists(plan) else "(no plan file)"
    print(f"  guests asked {p['selected']}, placed {p['placed']}, fit nowhere (blocked on every candidate) "
          f"{nowhere}, left out otherwise {p['selected'] - p['placed'] - nowhere}; "
          f"{p['warnings']} warnings, at most {p['max_share_permille'] / 10:g}% of a target's free memory")
    print(f"  how: solver status {p['status']}; plan file: {first}")
    solves = sum(t for _, _, t in solver["phases"])
    print(f"  solves {solves:.2f} s (CP-SAT's wall) against the limit {args.time_limit:g} s, net of the set-up "
          f"({solver['seconds']:.2f} s with setting the greedy start as the hint): "
          + "; ".join(f"{o} {s} {t:.2f} s" for o, s, t in solver["phases"]))
    if not os.path.exists(plan):
        return 1
    checked = child([sys.executable, "-m", "migcheck", "plan", snap, plan, "-f", f"json:{report}.plan"])
    with open(f"{report}.plan") as f:
        verdict = json.load(f)["verdict"]
    print(f"  plan SNAPSHOT PLAN: exit {checked['code']}, verdict {verdict}, {_usage(checked)}; "
          f"accepted: {'yes' if checked['code'] == 0 and verdict == 'ready' else 'NO'}")
    full = p["placed"] + nowhere == p["selected"]
    print(f"  a full proposal (every guest that fits somewhere placed): {'yes' if full else 'NO'}")
    return 0 if full and checked["code"] == 0 else 1


def _usage(run: dict) -> str:
    return f"wall {run['wall']:.1f} s, CPU {run['cpu']:.1f} s, peak RSS {run['peak_mb']:.0f} MB"


if __name__ == "__main__":
    raise SystemExit(main())
