"""The effects of a migration: the estate after a guest moves (a public contract, DESIGN.md).

Input: an `Estate` (a loaded snapshot, copied on write) and one migration. Output: the
same estate changed by the migration, and an `Effect` saying what changed. Every other
module that needs "the estate after" (the plan checker, the placement model, the
`--emit-snapshot` writer) uses this module; nothing else moves a guest.

What a migration of guest G from S to T does:

- G's `host` becomes T (its `state` is kept: a wave moves running guests to run them on
  T, so a running guest is counted as running there);
- when G is running or reserves its resources (`resources_reserved`, by default true for
  a vPar, false for a VM), T's free memory drops by G's memory plus T's overhead for it,
  and S's free memory rises by G's memory plus S's overhead for it (capped at the total);
  the amounts are MEMORY-TARGET's, from the same `memory_overhead` data table;
- on T, G is given one pooled function per DIO function it has on S, with the same label:
  free functions first, then functions already in use; like-for-like (FLA/DLA) first
  within each. A function already in use keeps its holder (`assigned_to`); when the holder
  is a guest an earlier migration of the plan gave it to, the effect records the sharing
  (plan rule PLAN-DIO-SHARED reports it). G's functions on S become free (or pass to a
  guest the plan gave one of them while G held it), and G's networks follow its
  functions to their new hardware paths.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

from ..lang.builtins import EvalError, parse_version
from .snapshot import Snapshot, _guest_problems
from .snapshot import _resolve_guest as _snapshot_guest
from .snapshot import _resolve_host as _snapshot_host

GRANULE_MB = 64


def reserves(guest: dict) -> bool:
    """Whether a guest holds its memory, CPUs and DIO functions even while off (V6.1 guide p.68, p.79)."""
    value = guest.get("resources_reserved")
    return value if isinstance(value, bool) else guest.get("kind") == "vpar"


def holds_memory(guest: dict) -> bool:
    return guest.get("state") == "on" or reserves(guest)


# The rows of the `memory_overhead` data table (rules/data/memory_overhead.yaml, read by
# MEMORY-TARGET), for a rule set that does not have the table: the same numbers.
DEFAULT_OVERHEAD = (
    {"target_min": "6.1", "target_below": "6.2", "granule_mb": 64, "per_cpu_fraction": 0.004, "per_cpu_mb": 64,
     "per_guest_mb": 0},
    {"target_min": "6.3", "target_below": "6.4", "granule_mb": 64, "per_cpu_fraction": 0.004, "per_cpu_mb": 0,
     "per_guest_mb": 64},
)


def _overhead_row(release: str, rows) -> dict | None:
    """The first row whose [target_min, target_below) holds the release (as MEMORY-TARGET picks it)."""
    try:
        version = parse_version(release)
        for row in rows:
            below = row.get("target_below")
            if version >= parse_version(row["target_min"]) and (below is None or version < parse_version(below)):
                return row
    except EvalError:
        return None
    return None


def memory_parts_mb(guest: dict, release: str, rows=DEFAULT_OVERHEAD) -> tuple[int, int]:
    """(memory, overhead) a guest takes on a VSP of `release`, in MB, as MEMORY-TARGET counts them.

    The `memory_overhead` row for the release gives the granule the memory is rounded up to
    and the overhead: cpu_count * (memory * per_cpu_fraction + per_cpu_mb) + per_guest_mb,
    rounded up to a whole MB, cpu_count the vCPUs of a VM (1 when absent) and 1 for a vPar.
    V6.1: cpu_count * (memory * 0.4% + 64 MB); V6.3: cpu_count * memory * 0.4% + 64 MB.
    A release no row covers: the memory as it is, no overhead.
    """
    row = _overhead_row(release, rows)
    if row is None:
        return guest["memory_mb"], 0
    granule = row.get("granule_mb") or 1
    memory = math.ceil(guest["memory_mb"] / granule) * granule
    cpus = (guest.get("vcpus") or 1) if guest.get("kind") == "vm" else 1
    # exact, as MEMORY-TARGET counts it: the fraction in whole parts per million (0.4% is 4000), one
    # division at the end (binary floats made 5 * (22400 * 0.4% + 64) = 768 MB come out as 769)
    ppm = math.ceil((row.get("per_cpu_fraction") or 0) * 1_000_000 - 0.5)
    millionths = cpus * (memory * ppm + Fraction(row.get("per_cpu_mb") or 0) * 1_000_000) \
        + Fraction(row.get("per_guest_mb") or 0) * 1_000_000
    return memory, math.ceil(millionths / 1_000_000)


def memory_overhead_mb(guest: dict, release: str, rows=DEFAULT_OVERHEAD) -> int:
    return memory_parts_mb(guest, release, rows)[1]


def memory_need_mb(guest: dict, host: dict, rows=DEFAULT_OVERHEAD) -> int:
    """What the guest takes of the host's free memory when it runs there (memory plus overhead)."""
    return sum(memory_parts_mb(guest, host["version"], rows))


@dataclass
class Given:
    """A DIO function the migration gives the guest on its target."""

    hwpath: str
    label: str
    type: str
    like_for_like: bool
    holder: str | None = None  # the guest already using it, when it had to be shared
    holder_in_plan: bool = False  # the holder was given it by an earlier migration of the plan


@dataclass
class Effect:
    guest: str
    source: str
    target: str
    memory_to_source: int  # MB added to the source's free memory
    memory_from_target: int  # MB taken from the target's free memory
    given: list[Given] = field(default_factory=list)
    freed: list[str] = field(default_factory=list)  # hwpaths freed on the source

    @property
    def shared(self) -> list[Given]:
        return [g for g in self.given if g.holder_in_plan]

    def to_json(self) -> dict:
        return {"guest": self.guest, "source": self.source, "target": self.target,
                "memory_mb": {"source": self.memory_to_source, "target": -self.memory_from_target},
                "dio_given": [{"hwpath": g.hwpath, "label": g.label, "type": g.type,
                               "like_for_like": g.like_for_like, **({"shared_with": g.holder} if g.holder else {})}
                              for g in self.given],
                "dio_freed": list(self.freed)}


class Estate:
    """A snapshot's estate as migrations change it: the contract data and the resolved view.

    Copied on write: the loaded snapshot is never changed, and only the guests and hosts a
    migration touches are copied, so a plan over a large estate costs what it moves.
    """

    def __init__(self, snapshot: Snapshot, overhead=None):
        """`overhead`: the rows of the `memory_overhead` data table (default: the built-in rows)."""
        self.base = snapshot
        self.overhead = overhead if overhead is not None else DEFAULT_OVERHEAD
        data = snapshot.doc.data
        self.data = {**data, "hosts": list(data.get("hosts", [])), "guests": list(data.get("guests", []))}
        self.host_index = {}
        for i, h in enumerate(self.data["hosts"]):
            self.host_index.setdefault(h["name"], i)
        self.guest_index = {}
        for i, g in enumerate(self.data["guests"]):
            self.guest_index.setdefault(g["name"], i)
        self.snapshot = replace(snapshot, hosts=list(snapshot.hosts), guests=list(snapshot.guests),
                                host_by_name=dict(snapshot.host_by_name), guest_by_name=dict(snapshot.guest_by_name),
                                origin=dict(snapshot.origin))
        self.given_by_plan: dict[tuple[str, str], str] = {}  # (host, hwpath) -> guest given it by this plan
        self.sharers: dict[tuple[str, str], list[str]] = {}  # (host, hwpath) -> guests given it while in use
        self._kept: list = []  # replaced view objects stay alive so their ids in `origin` stay unique

    # -- reading ------------------------------------------------------------------------
    def raw_guest(self, name: str) -> dict | None:
        i = self.guest_index.get(name)
        return None if i is None else self.data["guests"][i]

    def raw_host(self, name: str) -> dict | None:
        i = self.host_index.get(name)
        return None if i is None else self.data["hosts"][i]

    def to_data(self) -> dict:
        """The estate in the snapshot format (valid against the snapshot schema)."""
        return self.data

    # -- changing ----------------------------------------------------------------------
    def migrate(self, guest_name: str, target_name: str) -> Effect:
        """Apply the effects of moving `guest_name` to `target_name` (see the module docstring)."""
        guest = copy.deepcopy(self.raw_guest(guest_name))
        source_name = guest["host"]
        source = copy.deepcopy(self.raw_host(source_name)) if source_name in self.host_index else None
        target = copy.deepcopy(self.raw_host(target_name))
        effect = Effect(guest_name, source_name, target_name, 0, 0)
        if holds_memory(guest):
            need = memory_need_mb(guest, target, self.overhead)
            effect.memory_from_target = min(need, target["memory_mb"]["free"])
            target["memory_mb"]["free"] -= effect.memory_from_target
            if source is not None:
                back = memory_need_mb(guest, source, self.overhead)
                room = source["memory_mb"]["total"] - source["memory_mb"]["free"]
                effect.memory_to_source = max(0, min(back, room))
                source["memory_mb"]["free"] += effect.memory_to_source
        renamed = self._move_dio(guest, source, target, effect)
        guest["host"] = target_name
        guest["dio"] = [g.hwpath for g in effect.given]
        networks = []
        for net in guest.get("networks", []):
            if "dio" in net:
                if net["dio"] not in renamed:
                    continue  # its function found no match on the target: the interface does not follow
                net = {**net, "dio": renamed[net["dio"]]}
            networks.append(net)
        if "networks" in guest:
            guest["networks"] = networks
        if not guest["dio"] and "dio" not in self.raw_guest(guest_name):
            del guest["dio"]
        self._store_host(target)
        if source is not None:
            self._store_host(source)
        self._store_guest(guest)
        return effect

    def _move_dio(self, guest: dict, source: dict | None, target: dict, effect: Effect) -> dict[str, str]:
        """Give the guest its functions on the target and free them on the source; old hwpath -> new."""
        name = guest["name"]
        on_source = {f["hwpath"]: f for f in (source or {}).get("dio_functions", [])}
        taken: set[str] = set()
        renamed: dict[str, str] = {}
        for hwpath in dict.fromkeys(guest.get("dio", [])):
            fn = on_source.get(hwpath)
            if fn is None or fn.get("label") is None:
                continue
            best = None
            for cand in target.get("dio_functions", []):
                if not cand.get("pool") or cand.get("label") != fn["label"] or cand["hwpath"] in taken:
                    continue
                holder = cand.get("assigned_to")
                in_plan = holder is not None and self.given_by_plan.get((target["name"], cand["hwpath"])) == holder
                rank = (holder is not None, in_plan, cand["type"] != fn["type"])
                if best is None or rank < best[0]:
                    best = (rank, cand, holder, in_plan)
            if best is None:
                continue
            _, cand, holder, in_plan = best
            taken.add(cand["hwpath"])
            renamed[hwpath] = cand["hwpath"]
            effect.given.append(Given(cand["hwpath"], fn["label"], cand["type"], cand["type"] == fn["type"],
                                      holder, in_plan))
            if holder is None:
                cand["assigned_to"] = name
                self.given_by_plan[(target["name"], cand["hwpath"])] = name
            else:
                self.sharers.setdefault((target["name"], cand["hwpath"]), []).append(name)
        for fn in on_source.values():
            key = (source["name"], fn["hwpath"])
            if name in self.sharers.get(key, ()):
                self.sharers[key].remove(name)  # it was using a function held by another guest
            if fn.get("assigned_to") == name:
                effect.freed.append(fn["hwpath"])
                self.given_by_plan.pop(key, None)
                waiting = self.sharers.get(key)
                if waiting:  # a guest given it while it was in use now holds it
                    fn["assigned_to"] = waiting.pop(0)
                    self.given_by_plan[key] = fn["assigned_to"]
                else:
                    del fn["assigned_to"]
        return renamed

    # -- keeping the resolved view in step -----------------------------------------------
    def _store_host(self, raw: dict) -> None:
        i = self.host_index[raw["name"]]
        self.data["hosts"][i] = raw
        view = self.snapshot
        old = view.host_by_name.get(raw["name"])
        new = _resolve_host(raw)
        new["problems"] = old.get("problems", []) if old is not None else []
        self._replace(view.hosts, view.host_by_name, old, new)

    def _store_guest(self, raw: dict) -> None:
        i = self.guest_index[raw["name"]]
        self.data["guests"][i] = raw
        view = self.snapshot
        old = view.guest_by_name.get(raw["name"])
        new = _resolve_guest(raw, view.host_by_name.get(raw["host"]), ("guests", i), view.host_by_name)
        self._replace(view.guests, view.guest_by_name, old, new)

    def _replace(self, items: list, by_name: dict, old: dict, new: dict) -> None:
        for k, item in enumerate(items):
            if item is old:
                items[k] = new
                break
        by_name[new["name"]] = new
        origin = self.snapshot.origin
        if id(old) in origin:
            origin[id(new)] = origin[id(old)]
        self._kept.append(old)


# -- the snapshot module's resolution, in one place (the loader owns the resolved view) -----
def _resolve_host(raw: dict) -> dict:
    return _snapshot_host(raw)


def _resolve_guest(raw: dict, host: dict | None, path: tuple, host_by_name: dict) -> dict:
    guest = _snapshot_guest(raw, host)
    guest.pop("_dio_paths", None)
    guest["problems"] = [{"kind": p.kind, "message": p.message}
                         for p in _guest_problems(raw, path, host, host_by_name)]
    return guest
