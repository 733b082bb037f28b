"""Capacities: what a guest takes of a VSP and what a VSP has to give (memory, vPar cores, DIO functions).

One set of functions over snapshot data (a file's hosts and guests, or their resolved
view: the fields read are the same), read by the effects of a migration
(`effects.Estate.migrate`), by `place`'s constraint model (through `Estate`), and counting
what the rules count: MEMORY-TARGET's memory plus overhead from the `memory_overhead` data
table, DIO-NO-MATCH's labeled functions of the guest and pooled ones of the target,
DIO-IN-USE's functions of those already assigned.

- memory: a guest holds memory when it runs or reserves its resources (`resources_reserved`,
  by default true for a vPar); a migration takes its memory plus the target's overhead for
  it from the target's free memory (`memory_taken_mb`);
- cores: a vPar has dedicated cores (its `vcpus`; vPars 6.0 guide p.12): when it runs or reserves
  its resources, a migration takes them from the target's cores free for a vPar
  (`cpu_cores_free`, VPAR-CORES-FREE's count) and gives them back to the source (`cores_taken`);
  a VM's vCPUs are not dedicated and take none;
- DIO: a migration gives the guest, on the target, one pooled function per labeled function
  it has on its source (`dio_moved`), with the same label, from the target's pooled
  functions with that label (`dio_pool`); free ones are given first (`dio_room` counts them).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

from ..lang.builtins import EvalError, parse_version
from ..core.vocabulary import UNCAPTURED


def reserves(guest: dict) -> bool:
    """Whether a guest holds its memory, CPUs and DIO functions even while off (V6.1 guide p.68, p.79)."""
    value = guest.get("resources_reserved")
    return value if isinstance(value, bool) else guest.get("kind") == "vpar"


def holds_memory(guest: dict) -> bool:
    return guest.get("state") == "on" or reserves(guest)


# The rows of the `memory_overhead` data table (rules/data/memory_overhead.yaml, read by
# MEMORY-TARGET), for a rule set that does not have the table: the same numbers.
DEFAULT_OVERHEAD = (
    {"target_min": "4.0", "target_below": "6.0", "granule_mb": 1, "per_cpu_fraction": 0, "per_cpu_mb": 0,
     "per_guest_fraction": 0.083, "per_guest_mb": 0},
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
    and the overhead: cpu_count * (memory * per_cpu_fraction + per_cpu_mb) + memory * per_guest_fraction
    + per_guest_mb, rounded up to a whole MB, cpu_count the vCPUs of a VM (1 when absent) and 1 for a vPar.
    V6.1: cpu_count * (memory * 0.4% + 64 MB); V6.3: cpu_count * memory * 0.4% + 64 MB; Integrity VM 4.x:
    memory * 8.3%.
    A release no row covers: the memory as it is, no overhead.
    """
    row = _overhead_row(release, rows)
    if row is None:
        return guest["memory_mb"], 0
    granule = row.get("granule_mb") or 1
    memory = math.ceil(guest["memory_mb"] / granule) * granule
    cpus = (guest.get("vcpus") or 1) if guest.get("kind") == "vm" else 1
    # exact, as MEMORY-TARGET counts it: a table's decimals as written (binary floats made 5 * (22400 * 0.4%
    # + 64) = 768 MB come out as 769)
    overhead = cpus * (memory * _exact(row.get("per_cpu_fraction")) + _exact(row.get("per_cpu_mb"))) \
        + memory * _exact(row.get("per_guest_fraction")) + _exact(row.get("per_guest_mb"))
    return memory, math.ceil(overhead)


@lru_cache(maxsize=256)
def _exact(number) -> Fraction:
    """A number of a data table as the rules read it: a decimal exactly as written (0.4% is 4/1000; a float
    read from YAML is the decimal it prints as), absent 0."""
    if not number:
        return Fraction(0)
    return Fraction(repr(number)) if type(number) is float else Fraction(number)


def memory_overhead_mb(guest: dict, release: str, rows=DEFAULT_OVERHEAD) -> int:
    return memory_parts_mb(guest, release, rows)[1]


def memory_need_mb(guest: dict, host: dict, rows=DEFAULT_OVERHEAD) -> int:
    """What the guest takes of the host's free memory when it runs there (memory plus overhead)."""
    return sum(memory_parts_mb(guest, host["version"], rows))


def memory_taken_mb(guest: dict, host: dict, rows=DEFAULT_OVERHEAD) -> int | None:
    """What moving the guest to `host` takes of its free memory (`memory_need_mb`), or None when the guest
    holds no memory (it is off and does not reserve its resources): it takes none."""
    return memory_need_mb(guest, host, rows) if holds_memory(guest) else None


def cores_taken(guest: dict) -> tuple[bool, int | None]:
    """Whether a migration of the guest takes cores on its target (and gives them back to its source), and
    how many: a vPar that runs or reserves its resources takes its `vcpus`; a VM (its vCPUs are not
    dedicated) or a vPar that neither runs nor reserves takes none, `(False, None)`. `(True, None)`: it
    takes cores but how many was not recorded (`vcpus` absent, or listed in `unknown`), so the counts
    after it are unknown, not unchanged."""
    if guest.get("kind") != "vpar" or not holds_memory(guest):
        return False, None
    if "vcpus" in (guest.get(UNCAPTURED) or ()):
        return True, None
    return True, guest.get("vcpus")


def free_cores(host: dict) -> int | None:
    """The host's cores free for a vPar (`cpu_cores_free`, as VPAR-CORES-FREE reads it); None: unknown."""
    return host.get("cpu_cores_free")


def free_memory_mb(host: dict) -> int:
    """The host's free memory, as MEMORY-TARGET reads it (`target.memory_mb.free`)."""
    return host["memory_mb"]["free"]


def dio_by_hwpath(host: dict | None) -> dict[str, dict]:
    """A host's DIO functions by hwpath; of a hwpath listed twice (an integrity problem), the first, as the
    resolved view (`guest.dio`) and so the DIO rules have it."""
    functions: dict[str, dict] = {}
    for fn in (host or {}).get("dio_functions", []):
        functions.setdefault(fn["hwpath"], fn)
    return functions


def dio_moved(guest: dict, source: dict | None) -> list[dict]:
    """The functions of the guest's source that a migration moves: each hwpath of the guest's `dio` list
    once, in its order, when the source has it (`dio_by_hwpath`) and it carries a label.
    `guest`: snapshot data (its `dio` is hwpaths)."""
    on_source = dio_by_hwpath(source)
    moved = []
    for hwpath in dict.fromkeys(guest.get("dio", [])):
        fn = on_source.get(hwpath)
        if fn is not None and fn.get("label") is not None:
            moved.append(fn)
    return moved


def dio_needs(guest: dict, source: dict | None) -> dict[str, int]:
    """Per label, how many functions with it the guest is given on a target (DIO-NO-MATCH's `need`)."""
    counts: dict[str, int] = {}
    for fn in dio_moved(guest, source):
        counts[fn["label"]] = counts.get(fn["label"], 0) + 1
    return counts


def dio_pool(target: dict, label: str) -> list[dict]:
    """The target's functions a guest's function labeled `label` may be given: pooled, with that label
    (DIO-NO-MATCH's `have` counts them), in the target's order."""
    return [f for f in target.get("dio_functions", []) if f.get("pool") and f.get("label") == label]


def dio_room(target: dict, label: str) -> tuple[int, int]:
    """(free, pooled): how many of `dio_pool` are assigned to no guest, and how many there are
    (DIO-IN-USE's `matching`, less its `busy`, and `matching`)."""
    pool = dio_pool(target, label)
    return sum(1 for f in pool if f.get("assigned_to") is None), len(pool)
