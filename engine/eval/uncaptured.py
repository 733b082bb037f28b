"""Evaluator helper: the parts of guests a capture did not give (`guest.unknown`), met by what a rule reads.

Input: a compiled rule (`CompiledRule.reads`) and the guest it is run for, or the estate's
guests. Output: why the rule cannot be evaluated, a located, actionable sentence, or None.
`Engine.unreadable` asks it on every run of a rule (the one place), so a rule that reads a
part of a guest that was not captured (`import --partial`) reports `error` and the verdict
is `unknown`, never `ready`: the snapshot's `storage: []` of such a guest is not "no storage".
Rules that read no unknown part pass and fail as usual.

What a rule reads of a guest is the second step of its read paths (`("guest", "storage",
"path")` reads `storage`; `("guest",)` reads every part). The matrix keys guests by the same
meet (`met`), so two guests that differ only in `unknown` never share an outcome.

Other guests: a rule reading a part of `snapshot.guests` (a MAC used on the target, the
guests sharing a device there, the reserving guests of a DIO function) cannot say which
guests matter to it. It errs when a guest with that part unknown is on a VSP of its subject
(the guest's own or the target, for a migration; the host, for a host rule; any, for a rule
`on snapshot`): coarse, but it never says `ready` on what was not captured, and a guest not
captured on one VSP leaves moves between the others decided. The estate is a constant of a
run; the matrix classes such a rule's pairs by the guest's VSP and the target's name when
the estate holds such a guest (`Engine.partial`), and it is found once per estate (`Elsewhere`).

Exception: a rule whose first step is a `when` on the run's constants that is false (the
online rules of an offline check) does not apply, whatever it reads; the matrix gives such a
rule one class (`CompiledRule.sharing.constant_when`), and so does this.
"""

from __future__ import annotations

from ..core.lineage import ancestors
from ..core.vocabulary import CONSTANT_ROLES, SCOPES, UNCAPTURED
from ..lang.analysis.sharing import EVERY
from ..lang.compiler import CompiledRule

_DETAIL = "`hpvmstatus -P {g} -d`"
_SUMMARY = "`hpvmstatus -P {g}`"
_SUPPLEMENT = "its entry in the import supplement"
#: where each part of a guest comes from (`import`); a part not named here from both hpvmstatus captures
CAPTURE = {"storage": _DETAIL, "networks": _DETAIL, "dio": _DETAIL, "npiv": _DETAIL,
           "vcpus": _SUMMARY, "memory_mb": _SUMMARY, "os_type": _SUMMARY, "state": _SUMMARY, "kind": _SUMMARY,
           "online_migration": _SUMMARY, "resources_reserved": _SUMMARY,
           "guest_kit": _SUPPLEMENT, "virtualbase": _SUPPLEMENT}
_BOTH = f"{_SUMMARY} and {_DETAIL}"


def parts_read(rule: CompiledRule) -> tuple[frozenset, frozenset]:
    """(parts of its own guest, parts of `snapshot.guests`) the rule reads (`sharing.guest_parts`, found when
    the rule was compiled)."""
    return rule.sharing.guest_parts if rule.sharing is not None else (frozenset(), frozenset())


def met(guest: dict | None, parts: frozenset) -> tuple:
    """The unknown parts of `guest` among `parts`, in the guest's order (a class key: `()` when none)."""
    unknown = guest.get(UNCAPTURED) if guest is not None else None
    if not unknown or not parts:
        return ()
    if EVERY in parts:
        return tuple(unknown)
    return tuple(u for u in unknown if u in parts)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _capture(guest: dict, parts: tuple) -> str:
    """What to capture again, and where, for `parts` of `guest`."""
    name = guest.get("name", "?")
    sources = list(dict.fromkeys(CAPTURE.get(p, _BOTH) for p in parts))
    commands = [s.format(g=name) for s in sources if s != _SUPPLEMENT]
    steps = []
    if commands:
        steps.append(f"capture {_and(commands)} on `{guest.get('host', '?')}`")
    if _SUPPLEMENT in sources:
        steps.append(f"give {_and([p for p in parts if CAPTURE.get(p) == _SUPPLEMENT])} in {_SUPPLEMENT}")
    return " and ".join(steps) + " and import again"


def own_message(guest: dict, parts: tuple) -> str:
    """Why a rule reading `parts` of its guest, which were not captured, cannot be evaluated."""
    verb = "was" if len(parts) == 1 else "were"
    return (f"{_and(list(parts))} of guest `{guest.get('name', '?')}` {verb} not captured (import --partial): "
            f"{_capture(guest, parts)}")


def others_message(found: list[tuple[dict, tuple]]) -> str:
    """Why a rule reading parts of other guests cannot be evaluated: `found` (guest, its unknown parts read)."""
    guest, parts = found[0]
    verb = "was" if len(parts) == 1 else "were"
    more = f" (and of {len(found) - 1} other guest{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
    return (f"{_and(list(parts))} of guest `{guest.get('name', '?')}` on `{guest.get('host', '?')}`{more} {verb} not "
            f"captured (import --partial), and this rule reads the guests there: {_capture(guest, parts)}")


def run_constants(engine, mode: str | None) -> dict:
    """The names a migration rule reads that are the same for every subject of a run in `mode` (its
    constant roles, `vocabulary.CONSTANT_ROLES`): what `constant_false` evaluates a first `when` in."""
    values = {"mode": mode, "stop": engine.stop, "snapshot": engine.scope}
    return {name: values[role] for name, role in SCOPES["migration"].items() if role in CONSTANT_ROLES}


def constant_false(rule: CompiledRule, env: dict) -> bool:
    """Whether the rule's first step is a `when` that reads only constants of the run (`env` holds them)
    and is false: the rule does not apply to the run, whatever its subjects hold."""
    expr = rule.sharing.constant_when if rule.sharing is not None else None
    fn = None if expr is None else rule.compiled.get(id(expr))
    if fn is None:
        return False
    try:
        return fn(dict(env)) is False
    except Exception:  # noqa: BLE001 - the rule runs as usual and reports it
        return False


class Elsewhere:
    """The guests of an estate with unknown parts, by VSP, found once: what a rule reading `snapshot.guests` meets."""

    __slots__ = ("guests", "places", "by_host", "_found")

    def __init__(self, guests: list[dict], places: list[int] | None = None):
        """`places`: those of the guests with unknown parts, in order, when known (`elsewhere`)."""
        self.guests = guests
        self.places = [k for k, g in enumerate(guests) if g.get(UNCAPTURED)] if places is None else places
        self.by_host: dict = {}  # host name -> its guests with unknown parts
        for k in self.places:
            g = guests[k]
            self.by_host.setdefault(g.get("host"), []).append(g)
        self._found: dict = {}  # (parts read, hosts) -> message or None

    def meets(self, parts: frozenset) -> bool:
        """Whether some guest of the estate has one of `parts` unknown."""
        return any(met(g, parts) for guests in self.by_host.values() for g in guests)

    def why(self, parts: frozenset, hosts: tuple | None) -> str | None:
        """Why a rule reading `parts` of the guests on `hosts` (None: every VSP) cannot be evaluated, or None."""
        if not self.by_host:
            return None
        key = (parts, hosts)
        found = self._found.get(key, False)
        if found is False:
            names = self.by_host if hosts is None else hosts
            meet = [(g, m) for h in dict.fromkeys(names) for g in self.by_host.get(h, ()) for m in (met(g, parts),) if m]
            found = self._found[key] = others_message(meet) if meet else None
        return found


_ESTATES: dict = {}  # id(list of guests) -> Elsewhere (keeping the list alive, so its id stays its own)
_KEPT = 8  # estates remembered (a plan makes an engine per step, of a few states of the estate)


def elsewhere(guests: list[dict]) -> Elsewhere:
    """The `Elsewhere` of an estate's list of guests, found once per list however many engines read it."""
    found = _ESTATES.get(id(guests))
    if found is not None and found.guests is guests:
        return found
    places = None
    for older, changed in ancestors(guests):  # a plan's copy of the list (`core.lineage`): from the places replaced
        prior = _ESTATES.get(id(older))
        if prior is not None and prior.guests is older:
            places = sorted({k for k in prior.places if k not in changed}
                            | {k for k in changed if guests[k].get(UNCAPTURED)})
            break
    if len(_ESTATES) >= _KEPT:
        _ESTATES.clear()
    found = _ESTATES[id(guests)] = Elsewhere(guests, places)
    return found
