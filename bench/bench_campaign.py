"""Benchmark: `migcheck campaign` over generated estates (every VSP upgraded to 6.3).

For each size, in a child process of its own (so its peak memory is its own): the campaign's CPU
and wall time, peak RSS, the VSPs upgraded / stopped / already at the release, the stages, the
offline moves of running guests against the lower bound `campaign.offline_lower_bound` proves
(guests no VSP is ready to take online at either end of the campaign), and the plan's own verdict
(the proposal checked by `plan`; never `blocked`).

    python -m bench.bench_campaign                 # 20 VSPs x 1,000 guests and 50 x 2,000
    python -m bench.bench_campaign --sizes 8x200   # a quick run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from bench.generate import generate


def site(hosts: int, guests: int, seed: int = 7) -> dict:
    """A generated estate made into a site that can be upgraded (`bench.generate` makes hostile estates:
    most of its guests are blocked everywhere by memory, vswitches or DIO): every VSP has every vswitch
    and one processor family, twice the memory its guests take, and the guests no DIO functions."""
    data = generate(hosts, guests, seed)
    taken: dict[str, int] = {}
    for g in data["guests"]:
        g.pop("dio", None)
        g["networks"] = [n for n in g.get("networks", []) if "dio" not in n] or [{"vswitch": "vs-pub"}]
        taken[g["host"]] = taken.get(g["host"], 0) + g["memory_mb"]
    for h in data["hosts"]:
        h["vswitches"] = ["vs-pub", "vs-bkp", "vs-mgmt", "vs-nfs", "vs-dmz"]
        h["processor"] = "Itanium 9300"
        h["dio_functions"] = []
        used = taken.get(h["name"], 0)
        h["memory_mb"] = {"total": 2 * used + 65536, "free": used + 65536}
    return data


def one(hosts: int, guests: int, time_limit: float) -> dict:
    from migcheck.estate.snapshot import snapshot_from_data
    from migcheck.packs.ruleset import load_rules
    from migcheck.waves.campaign import CampaignOptions, offline_lower_bound, propose_campaign
    ruleset = load_rules([])
    snapshot = snapshot_from_data(site(hosts, guests))
    options = CampaignOptions(upgrade="*", to="6.3", time_limit=time_limit)
    wall, cpu = time.perf_counter(), time.process_time()
    campaign = propose_campaign(ruleset, snapshot, options)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bound = offline_lower_bound(ruleset, snapshot, options, vsps=campaign.upgraded)
    return {"size": f"{hosts}x{guests}", "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "upgraded": len(campaign.upgraded), "stopped": len(campaign.stopped), "at_release": len(campaign.skipped),
            "stages": len(campaign.stages), "offline_running": campaign.offline_running, "lower_bound": bound,
            "verdict": campaign.check.verdict if campaign.check else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["20x1000", "50x2000"])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        hosts, guests = map(int, args.child.split("x"))
        print(json.dumps(one(hosts, guests, args.time_limit)))
        return 0
    print(f"{'size':>9} {'cpu s':>7} {'wall s':>7} {'peak MB':>8} {'upgraded':>9} {'stopped':>8} {'at 6.3':>7} "
          f"{'stages':>7} {'offline':>8} {'bound':>6}  verdict")
    for size in args.sizes:
        out = subprocess.run([sys.executable, "-m", "bench.bench_campaign", "--child", size,
                              "--time-limit", str(args.time_limit)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['size']:>9} {r['cpu_s']:>7} {r['wall_s']:>7} {r['peak_mb']:>8} {r['upgraded']:>9} {r['stopped']:>8} "
              f"{r['at_release']:>7} {r['stages']:>7} {r['offline_running']:>8} {r['lower_bound']:>6}  {r['verdict']}")
        if r["verdict"] == "blocked":
            print("  the proposal failed its own check by `plan`: a bug", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
