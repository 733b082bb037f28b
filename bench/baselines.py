"""Baselines in other policy engines, measured in the run: the anchor's four checks in Rego (OPA's
rego-cpp through `regopy`) and in CEL (`cel-python`), against migcheck's engine on the same pairs.

The policy is bench/anchor's (an offline path of the anchor's release table, every DIO function
labelled, enough free functions per label on the target, the guest stopped): in migcheck's
language bench/anchor/rules/anchor.rules, in Rego bench/anchor/policy.rego, in CEL
bench/anchor/policy.cel (both copied from ../shared/reference/anchor-policy/). Each engine gives the
same thing, a dict "guest|target" -> sorted failing checks for every pair of the anchor's
generated inventory, and the dicts are compared before any figure is printed.

- engine: `Engine.matrix_of("offline").rows()` made into that dict (the per-pair dict figure
  bench_matrix prints as `engine s`), the snapshot loaded before timing.
- OPA: the fastest way regopy offers, one query per chunk of guests (`data.mig.matrix`, about
  10,000 pairs a query: rego-cpp stops a longer query), the bundle built and each chunk's input
  text made before timing.
- CEL: the expression compiled once (`Environment.program`), evaluated per pair, the inventory
  converted to CEL values before timing; cel-python's compiled runner when it gives the same
  answers, else its interpreter.

Both are slow (OPA ~2.8k pairs/s, CEL ~100 pairs/s here), so they run at one small size (the
smallest of bench_matrix's run). A missing package is a printed reason, not a failure:

    pip install regopy cel-python
    python -m bench.baselines [--size 20x200] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from bench.anchor.convert import NAMES, to_snapshot
from bench.anchor.gen import generate as anchor_inventory
from bench.timing import interleaved

ANCHOR = Path(__file__).resolve().parent / "anchor"
CHUNK_PAIRS = 10_000  # rego-cpp 1.5.2 ends a query with "Maximum statement count reached" after ~30k pairs


def anchor_rules():
    """The anchor's pack alone, without the built-in pack (bench/anchor/migcheck.yaml does the same for the
    command line, by disabling every built-in rule by name)."""
    from migcheck.packs.ruleset import load_rules

    ruleset = load_rules([ANCHOR / "rules"], builtin=False)
    assert sorted(r.id for r in ruleset.rules) == sorted(NAMES), "the anchor pack is its four rules"
    return ruleset


def engine_dict(ruleset, snapshot) -> dict:
    """What the engine gives for every pair: "guest|target" -> failing rule ids (bench_matrix's `engine s`)."""
    from migcheck.eval.engine import Engine

    out = {}
    failing = itemgetter(1)
    for guest, names, cells in Engine(ruleset, snapshot).matrix_of("offline").rows():
        out.update(zip(map((guest["name"] + "|").__add__, names), map(failing, cells)))
    return out


def anchor_names(engine: dict) -> dict:
    """The engine's dict in the anchor's check names (as Rego, CEL and plain Python give them)."""
    return {k: sorted(NAMES[r] for r in v) for k, v in engine.items()}


def pairs(inv):
    """Every guest x every host but its own, in the inventory's order (the anchor's `pairs`)."""
    hosts = {h["name"]: h for h in inv["hosts"]}
    for g in inv["guests"]:
        s = hosts[g["host"]]
        for t in inv["hosts"]:
            if t["name"] != g["host"]:
                yield g, s, t


class Rego:
    """The policy's fleet entry point (`data.mig.matrix`) built into a bundle once, queried per chunk."""

    name = "OPA (regopy)"

    def __init__(self, inv: dict):
        import regopy

        self.regopy = regopy
        builder = regopy.Interpreter()
        builder.add_module("policy.rego", (ANCHOR / "policy.rego").read_text())
        self.bundle = builder.build("x := data.mig.matrix", ["mig/matrix"])
        if not self.bundle.ok():
            raise RuntimeError("regopy could not build the anchor policy")
        self.builder = builder  # the bundle lives as long as its builder
        per = max(1, CHUNK_PAIRS // max(1, len(inv["hosts"]) - 1))
        self.inputs = [json.dumps({"hosts": inv["hosts"], "guests": inv["guests"][i:i + per]}, separators=(",", ":"))
                       for i in range(0, len(inv["guests"]), per)]

    def matrix(self) -> dict:
        out = {}
        for text in self.inputs:
            interpreter = self.regopy.Interpreter()
            interpreter.set_input_term(text)
            result = interpreter.query_bundle(self.bundle)
            if not result.ok() or len(result) == 0:
                raise RuntimeError(str(result)[:2000])
            for guest, row in result[0]["x"].items():
                prefix = guest + "|"
                out.update((prefix + target, list(fails)) for target, fails in row.items())
        return out


class Cel:
    """The policy's expression compiled once, evaluated per pair on values converted once."""

    name = "CEL (cel-python)"

    def __init__(self, inv: dict, runner: str = "compiled"):
        import celpy

        source = (ANCHOR / "policy.cel").read_text()
        runner_class = celpy.CompiledRunner if runner == "compiled" else celpy.InterpretedRunner
        env = celpy.Environment(runner_class=runner_class)
        self.program = env.program(env.compile(source))
        self.runner = runner
        to_cel = celpy.json_to_cel
        hosts = {h["name"]: to_cel(h) for h in inv["hosts"]}
        self.activations = [(g["name"] + "|" + t["name"], {"g": guest, "s": hosts[s["name"]], "t": hosts[t["name"]]})
                            for g, s, t in pairs(inv) for guest in (to_cel(g),)]

    def matrix(self) -> dict:
        evaluate = self.program.evaluate
        return {key: sorted(map(str, evaluate(activation))) for key, activation in self.activations}


@dataclass
class Peer:
    """One other engine at the size measured: its seconds, or why it did not run."""

    name: str
    seconds: float | None = None
    reason: str = ""


def _cel(inv: dict, wanted: dict):
    """cel-python's compiled runner when it gives the wanted answers, else its interpreter (checked by the caller)."""
    try:
        cel = Cel(inv, "compiled")
        if cel.matrix() == wanted:
            cel.checked = True
            return cel
    except Exception:  # noqa: BLE001 - a runner that cannot run this expression: the interpreter instead
        pass
    return Cel(inv, "interpreted")


def measure(hosts: int, guests: int, repeat: int = 1, seed: int = 42) -> tuple[int, float, list[Peer]]:
    """The engine's per-pair dict and each other engine on the anchor inventory of that size, interleaved:
    (pairs, engine seconds, peers). Raises AssertionError when an engine gives another matrix."""
    from migcheck.estate.snapshot import snapshot_from_data

    inv = anchor_inventory(hosts, guests, seed)
    snapshot = snapshot_from_data(to_snapshot(inv))
    ruleset = anchor_rules()
    wanted = anchor_names(engine_dict(ruleset, snapshot))
    contenders = {"engine": lambda: engine_dict(ruleset, snapshot)}
    peers = []
    for name, make, package in ((Rego.name, lambda: Rego(inv), "regopy"),
                                (Cel.name, lambda: _cel(inv, wanted), "cel-python")):
        peer = Peer(name)
        peers.append(peer)
        try:
            runner = make()
        except ImportError:
            peer.reason = f"not installed (pip install {package})"
            continue
        except Exception as exc:  # noqa: BLE001 - a peer that cannot run here is reported, not fatal
            peer.reason = f"could not run: {exc}"[:200]
            continue
        if not getattr(runner, "checked", False) and runner.matrix() != wanted:
            raise AssertionError(f"{name} and the engine give different matrices")
        if isinstance(runner, Cel) and runner.runner != "compiled":
            peer.name += " interpreted"
        contenders[peer.name] = runner.matrix
    values, best = interleaved(contenders, repeat)
    assert anchor_names(values["engine"]) == wanted
    for peer in peers:
        if peer.name in best:
            peer.seconds = best[peer.name]
    return len(wanted), best["engine"], peers


def describe(pairs_: int, engine: float, peers: list[Peer]) -> list[str]:
    """The lines bench_matrix and this module print: each peer's seconds and engine/peer."""
    lines = []
    for peer in peers:
        if peer.seconds is None:
            lines.append(f"  engine/{peer.name}: skipped, {peer.reason}")
        else:
            lines.append(f"  engine/{peer.name}: {engine / peer.seconds:.3g}x (engine {engine:.3f} s, "
                         f"{peer.name} {peer.seconds:.3f} s, {pairs_ / peer.seconds:,.0f} pairs/s; "
                         f"{peer.name} is {peer.seconds / engine:,.0f}x the engine's time)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="20x200", help="VSPs x guests of the anchor inventory")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds; the fastest run of each counts")
    args = parser.parse_args(argv)
    hosts, guests = (int(x) for x in args.size.split("x"))
    pairs_, engine, peers = measure(hosts, guests, args.repeat)
    print(f"anchor policy, {hosts}x{guests} ({pairs_:,} pairs), the same dict from each engine (checked); "
          f"CPU s, fastest of {args.repeat} interleaved")
    print("\n".join(describe(pairs_, engine, peers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
