"""The estate after migrations, the one model of it (a public contract, DESIGN.md).

`Estate(snapshot)` is a snapshot's estate as migrations change it: `migrate(guest, target)`
applies one migration and returns its `Effect`; `view()` is what an engine evaluates
against (`Engine(ruleset, estate.view(), ...)`): the estate as it stands, with its own
scope (what rules read as `snapshot`), which later migrations do not change; `free_memory`,
`memory_taken`, `free_cores`, `cores_taken`, `dio_needs` and `dio_room` are the capacities `place` reads, counted by the
functions the effects use (`capacity`); `to_data()` is the estate as a snapshot file
(`plan --emit-snapshot`). Every module that needs "the estate after" (the plan checker, the
placement model, `explain --plan`, the `--emit-snapshot` writer) uses this module; nothing
else moves a guest.

What a migration of guest G from S to T does:

- G's `host` becomes T (its `state` is kept: a wave moves running guests to run them on
  T, so a running guest is counted as running there);
- when G is running or reserves its resources (`resources_reserved`, by default true for
  a vPar, false for a VM), T's free memory drops by G's memory plus T's overhead for it,
  and S's free memory rises by G's memory plus S's overhead for it (capped at the total);
  the amounts are MEMORY-TARGET's, from the same `memory_overhead` data table;
- when G is a vPar that runs or reserves its resources, T's cores free for a vPar
  (`cpu_cores_free`) drop by its cores (`vcpus`) and S's rise by them (capped at S's
  `cpu_cores`); a VSP whose count is not captured stays without one, and when G's cores are
  not recorded the counts of T and S become unknown (the field is dropped: absent is unknown);
- on T, G is given one pooled function per DIO function it has on S, with the same label:
  free functions first, then functions already in use; like-for-like (FLA/DLA) first
  within each. A function already in use keeps its holder (`assigned_to`); when the holder
  is a guest an earlier migration of the plan gave it to, the effect records the sharing
  (plan rule PLAN-DIO-SHARED reports it). G's functions on S become free (or pass to a
  guest the plan gave one of them while G held it), and G's networks follow its
  functions to their new hardware paths;
- G's networks keep their MAC addresses (hpvmmigrate keeps them): they are on T after the
  step and gone from S, because they are G's;
- restricted devices (`restricted_wwids`) do not change: hpvmmigrate does not restrict
  anything, and HP's advice to restrict a guest's LUNs on the VSP it left is for a guest
  removed there and never meant to come back (IVM 4.2 guide p.169, N45), which a wave that
  may move it back does not do; an administrator who restricts them records it in the
  snapshot.

A stage's migrations run at the same time (`begin_stage`, `end_stage`): within a stage what
a departure gives back to its source (memory, cores, DIO functions) is held until the stage
ends, so no arrival of the same stage is credited with it, whatever the order the stage
lists them in; what arrivals take is taken at once. Outside a stage (`migrate` alone) a
migration gives back at once.
"""

from __future__ import annotations

import copy
import sys

from ..core import lineage
from ..core.records import Factory, record, replace
from .capacity import (DEFAULT_OVERHEAD, cores_taken, dio_by_hwpath, dio_moved, dio_needs, dio_pool, dio_room,
                       free_cores, free_memory_mb, memory_taken_mb)
from .capacity import holds_memory, memory_need_mb, memory_overhead_mb, memory_parts_mb  # noqa: F401  (re-exported)
from .snapshot import Snapshot, _guest_problems
from .snapshot import _resolve_guest as _snapshot_guest
from .snapshot import _resolve_host as _snapshot_host


@record(frozen=True)
class EstateView:
    """What an engine evaluates against: `snapshot`, the estate as it stands (the hosts and guests an
    engine walks, perhaps a selection of them, indexed and located), and `scope`, the whole estate as
    rules read it as `snapshot` (`Snapshot.as_scope`). A view is never changed: migrations after it
    make new views."""

    snapshot: Snapshot
    scope: dict

    @classmethod
    def of(cls, snapshot: Snapshot) -> "EstateView":
        """A snapshot as it stands, no migration: its own scope."""
        return cls(snapshot, snapshot.as_scope())


@record
class Given:
    """A DIO function the migration gives the guest on its target."""

    hwpath: str
    label: str
    type: str
    like_for_like: bool
    holder: str | None = None  # the guest already using it, when it had to be shared
    holder_in_plan: bool = False  # the holder was given it by an earlier migration of the plan


@record
class Effect:
    guest: str
    source: str
    target: str
    memory_to_source: int  # MB added to the source's free memory
    memory_from_target: int  # MB taken from the target's free memory
    given: list[Given] = Factory(list)
    freed: list[str] = Factory(list)  # hwpaths freed on the source
    cores_from_target: int | None = None  # a vPar's cores taken from the target's free cores (None: none, or unknown)
    cores_to_source: int | None = None  # and given back to the source's

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
        # a vPar's cores (cores_from_target, cores_to_source) are not in it yet: the report schema's effect is
        # closed, and a key it lacks would make every JSON report of such a plan invalid


class Estate:
    """A snapshot's estate as migrations change it: the contract data and the resolved view.

    Copied on write: the loaded snapshot is never changed, and a migration copies the guests
    and hosts it touches and the lists and indexes that hold them, so a view taken before it
    (and an engine made for that view) keeps the estate as it stood.
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
        self.snapshot = snapshot  # the estate as it stands: never changed, replaced by each migration
        self.given_by_plan: dict[tuple[str, str], str] = {}  # (host, hwpath) -> guest given it by this plan
        self.sharers: dict[tuple[str, str], list[str]] = {}  # (host, hwpath) -> guests given it while in use
        self._held: list | None = None  # in a stage: what its departures give back when it ends
        self._kept: list = []  # replaced view objects a view may still hold: alive, their ids in `origin` stay unique
        self._prune_at = _PRUNE_AT  # the size of `_kept` that has it pruned
        self._position: dict[int, int] = {}  # id of a resolved host or guest -> its place in its list

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

    def view(self, guests: list[str] | None = None, hosts: list[str] | None = None) -> EstateView:
        """What an engine evaluates against: the estate as it stands now, with a scope of its own (the
        whole estate, whatever it walks). `guests`, `hosts`: the names of the guests and hosts the
        engine walks (a matrix of a selection), in that order; by default every one."""
        now = self.snapshot
        walked = now
        if guests is not None or hosts is not None:
            walked = replace(now, guests=now.guests if guests is None else [now.guest_by_name[n] for n in guests],
                             hosts=now.hosts if hosts is None else [now.host_by_name[n] for n in hosts])
        return EstateView(walked, now.as_scope())

    # -- capacities, as the effects count them (see `capacity`) -------------------------------
    def free_memory(self, host: str) -> int:
        return free_memory_mb(self.raw_host(host))

    def memory_taken(self, guest: str, target: str) -> int | None:
        """What moving `guest` to `target` takes of its free memory; None when the guest holds none."""
        return memory_taken_mb(self.raw_guest(guest), self.raw_host(target), self.overhead)

    def dio_needs(self, guest: str) -> dict[str, int]:
        """Per label, how many pooled functions `migrate` gives the guest on a target."""
        raw = self.raw_guest(guest)
        return dio_needs(raw, self.raw_host(raw["host"]))

    def dio_room(self, host: str, label: str) -> tuple[int, int]:
        """(free, pooled) functions with `label` that `migrate` may give on `host`."""
        return dio_room(self.raw_host(host), label)

    def dio_idle(self, host: str, label: str) -> int:
        """How many of `dio_pool` on `host` are held by a guest there that is stopped and reserves nothing:
        available even to a guest that reserves its resources (V6.1 guide p.79)."""
        idle = 0
        for fn in dio_pool(self.raw_host(host), label):
            holder = self.raw_guest(fn["assigned_to"]) if fn.get("assigned_to") is not None else None
            idle += holder is not None and holder["host"] == host and not holds_memory(holder)
        return idle

    def free_cores(self, host: str) -> int | None:
        """The host's cores free for a vPar; None: not captured."""
        return free_cores(self.raw_host(host))

    def cores_taken(self, guest: str) -> tuple[bool, int | None]:
        """Whether moving `guest` takes cores on a target, and how many (None: not recorded)."""
        return cores_taken(self.raw_guest(guest))

    # -- changing ----------------------------------------------------------------------
    def begin_stage(self) -> None:
        """From now until `end_stage`, what departures give back to their sources is held (see the docstring)."""
        self._held = []

    def end_stage(self) -> None:
        """The stage's migrations have finished: their sources get back what they gave (memory, cores, DIO)."""
        held, self._held = self._held or [], None
        if held:
            self._copy_view()
            for release in held:
                release()

    def migrate(self, guest_name: str, target_name: str) -> Effect:
        """Apply the effects of moving `guest_name` to `target_name` (see the module docstring)."""
        before = self.raw_guest(guest_name)
        guest = copy.deepcopy(before)
        source_name = guest["host"]
        target = copy.deepcopy(self.raw_host(target_name))
        effect = Effect(guest_name, source_name, target_name, 0, 0)
        self._take(guest, target, effect)
        renamed = self._give_dio(guest, target, effect)
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
        if not guest["dio"] and "dio" not in before:
            del guest["dio"]
        self._copy_view()
        self._store_host(target)
        self._store_guest(guest)
        if source_name in self.host_index:
            def release() -> None:
                self._give_back(before, source_name, effect)

            if self._held is None:
                release()
            else:
                self._held.append(release)
        return effect

    def _take(self, guest: dict, target: dict, effect: Effect) -> None:
        """Take the guest's memory and (a vPar's) cores from the target's free counts."""
        need = memory_taken_mb(guest, target, self.overhead)
        if need is not None:
            effect.memory_from_target = min(need, free_memory_mb(target))
            target["memory_mb"]["free"] -= effect.memory_from_target
        takes, cores = cores_taken(guest)
        if takes and free_cores(target) is not None:
            if cores is None:
                del target["cpu_cores_free"]  # what is left is not known
            else:
                effect.cores_from_target = min(cores, free_cores(target))
                target["cpu_cores_free"] -= effect.cores_from_target

    def _give_back(self, guest: dict, source_name: str, effect: Effect) -> None:
        """The source gets back the guest's memory and cores (capped at its totals) and its DIO functions.
        `guest`: the guest as it was on the source."""
        source = copy.deepcopy(self.raw_host(source_name))
        back = memory_taken_mb(guest, source, self.overhead)
        if back is not None:
            room = source["memory_mb"]["total"] - free_memory_mb(source)
            effect.memory_to_source = max(0, min(back, room))
            source["memory_mb"]["free"] += effect.memory_to_source
        takes, cores = cores_taken(guest)
        if takes and free_cores(source) is not None:
            if cores is None:
                del source["cpu_cores_free"]
            else:
                room = source["cpu_cores"] - free_cores(source) if source.get("cpu_cores") is not None else cores
                effect.cores_to_source = max(0, min(cores, room))
                source["cpu_cores_free"] += effect.cores_to_source
        self._free_dio(guest["name"], source, effect)
        self._store_host(source)

    def upgrade(self, host_name: str, release: str) -> None:
        """Upgrade a VSP: its `version` becomes `release` (a campaign's step; the VSP holds no runnable guest)."""
        host = copy.deepcopy(self.raw_host(host_name))
        host["version"] = release
        self._copy_view()
        self._store_host(host)

    def _give_dio(self, guest: dict, target: dict, effect: Effect) -> dict[str, str]:
        """Give the guest its functions on the target (see the module docstring); old hwpath -> new."""
        name = guest["name"]
        source = self.raw_host(guest["host"]) if guest["host"] in self.host_index else None
        taken: set[str] = set()
        renamed: dict[str, str] = {}
        for fn in dio_moved(guest, source):
            best = None
            for cand in dio_pool(target, fn["label"]):
                if cand["hwpath"] in taken:
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
            renamed[fn["hwpath"]] = cand["hwpath"]
            effect.given.append(Given(cand["hwpath"], fn["label"], cand["type"], cand["type"] == fn["type"],
                                      holder, in_plan))
            if holder is None:
                cand["assigned_to"] = name
                self.given_by_plan[(target["name"], cand["hwpath"])] = name
            else:
                self.sharers.setdefault((target["name"], cand["hwpath"]), []).append(name)
        return renamed

    def _free_dio(self, name: str, source: dict, effect: Effect) -> None:
        """The guest's functions on its source become free, or pass to a guest the plan gave one of them."""
        for fn in dio_by_hwpath(source).values():
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

    # -- keeping the resolved view in step -----------------------------------------------
    def _copy_view(self) -> None:
        """Copy on write: the lists and indexes of the estate as it stood stay as they were (views hold them)."""
        now = self.snapshot
        if now is self.base:  # the first migration
            self._position = {id(obj): k for items in (now.hosts, now.guests) for k, obj in enumerate(items)}
        origin = dict(now.origin) if now.origin is self.base.origin else now.origin  # only grows: shared after
        self.snapshot = replace(now, hosts=list(now.hosts), guests=list(now.guests),
                                host_by_name=dict(now.host_by_name), guest_by_name=dict(now.guest_by_name),
                                origin=origin)
        lineage.copied(self.snapshot.hosts, now.hosts)  # (the rules' indexes of them updated, not built again)
        lineage.copied(self.snapshot.guests, now.guests)

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
        k = self._position.pop(id(old), None)
        if k is not None:
            items[k] = new
            lineage.replaced(items, k)
            self._position[id(new)] = k
        by_name[new["name"]] = new
        origin = self.snapshot.origin
        if id(old) in origin:
            origin[id(new)] = origin[id(old)]
        self._kept.append(old)
        if len(self._kept) >= self._prune_at:
            self._prune()

    def _prune(self) -> None:
        """Let go of the replaced objects that no view holds any more (only `_kept` refers to them), with their
        entries in `origin`: no object made later can be located as one of them, and a plan does not keep a
        copy of every guest and host it moved. Runs when `_kept` has doubled since: amortised, not per move."""
        origin = self.snapshot.origin
        alive = []
        for obj in self._kept:
            if sys.getrefcount(obj) > _ONLY_KEPT:
                alive.append(obj)
            else:
                origin.pop(id(obj), None)
        self._kept = alive
        self._prune_at = max(_PRUNE_AT, 2 * len(alive))


def _refs_of_listed() -> int:
    """`sys.getrefcount` of an object only a list holds, read in a loop over that list (as `_prune` reads it)."""
    for obj in [object()]:
        return sys.getrefcount(obj)
    return 0


_PRUNE_AT = 256
_ONLY_KEPT = _refs_of_listed()


# -- the snapshot module's resolution, in one place (the loader owns the resolved view) -----
def _resolve_host(raw: dict) -> dict:
    return _snapshot_host(raw)


def _resolve_guest(raw: dict, host: dict | None, path: tuple, host_by_name: dict) -> dict:
    guest = _snapshot_guest(raw, host)
    guest.pop("_dio_paths", None)
    guest["problems"] = [{"kind": p.kind, "message": p.message}
                         for p in _guest_problems(raw, path, host, host_by_name)]
    return guest
