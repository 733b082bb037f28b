"""Benchmark: `place --vacate` of a VSP holding 100 guests in a generated 200 x 10,000 estate.

Prints the time of each phase of `place` (the matrix of the selected guests against every
other VSP, the CP-SAT model and its three solves, the check of the proposal by `plan`),
the solver's status and what it placed, and, in the same process, an honest baseline: a
greedy first-fit over the same ready pairs and the same capacities (no solver), with the
ratio of times and the number of guests and warnings each placed. Usage:

    python -m bench.bench_place [--hosts 200] [--guests 10000] [--vacating 100] [--mode offline|online]
                                [--time-limit 8]
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    raise SystemExit(main())
