"""Stage: the texts of a matrix's failures, rendered once per class of pairs that look alike to them.

Input: the matrix's rules, guests and targets. Output: per (rule, guest, target), the rule's
failed results with their items, and messages and fixes rendered on first read.

A failure names its subjects (`hpvmmigrate -P {guest.name} -h {target.name}`), so texts were
rendered pair by pair, rerunning the rule for its bindings: on a large estate most of a JSON
report's time. Yet a rule's outcomes, items and texts depend on a pair only through what its
steps read (`CompiledRule.reads`) and what its texts read besides (`reads.text_paths`: each
`{expr}` of the message and fix, rendered whole, and its `for` variables, which items render
whole), except for parts that are exactly `{guest.name}`, `{source.name}` or `{target.name}`.
Pairs equal on all those paths are one *text class* for the rule (its guest-side views and
its target-side views, typed as the matrix keys them, `keys.view`): the rule runs once
per class, its message and fix are rendered once around those names
(`CompiledRule.message_split`), and each pair's text is filled with its own names
(`compiler.name_text`).

What is not shared: an `error` outcome (its text may name values read on the way), which is
rendered pair by pair as before, and everything with `share=False` (the reference the tests
compare with).

A writer stamps a class's results from one template per class outcome for every guest (`Entry.recipe`,
made by the writer's shape from the text split around every name), filled per guest. Classes are finer
than texts (what the texts read, read whole, can differ where the rendered text does not): classes
whose outcome and texts are the same share the writer's template and a guest's filling of it
(`StampShape.shared_recipe`; at 200 x 2,000, 25,244 class outcomes have 2,191 texts). With no waiver
in play the matrix need not make the results at all: a guest's results are (entry, outcome index)
units (`GuestStamps`), made into `Result`s only where a writer asks (`GuestStamps.result`).
"""

from __future__ import annotations

from json.encoder import encode_basestring as _quoted  # the C encoder of one string, as ensure_ascii=False writes it

from ..core.keys import view
from ..core.results import LazyResult, Result, Subject, Text, fingerprint_head
from ..core.vocabulary import ERROR, NAME_HOLES, PROBLEMS, RUN_CONSTANTS, SCOPES, UNCAPTURED
from ..lang.analysis.reads import name_hole
from ..lang.compiler import FAIL, CompiledRule, Outcome, name_text

_NO_ENV: dict = {}

_ROLES = SCOPES["migration"]  # what each name of a migration rule is
assert tuple(_ROLES[name] for name in NAME_HOLES) == ("guest", "source", "target")  # the order `Names` keeps
_GUEST_NAME, _SOURCE_NAME, _TARGET_NAME = NAME_HOLES
_TARGET = NAME_HOLES.index(_TARGET_NAME)  # the hole a pair fills last (`Entry.texts`)
MAX_ENTRIES = 100_000  # entries kept at once (each keeps its texts); the cache starts again beyond


def text_paths(rule: CompiledRule) -> tuple[tuple, tuple] | None:
    """(guest-side paths as (side, path), target-side paths) that a rule's outcomes and texts read;
    None: its texts cannot be shared (not a migration rule, or a subject rebound)."""
    if rule.subject != "migration" or rule.message_split is None or rule.checked is None:
        return None
    for key, holes in (("message", rule.message_holes), ("fix", rule.fix_holes)):
        template = rule.rule.get(key)
        parts = () if template is None else template.parts
        if sum(1 for p in parts if not isinstance(p, str) and name_hole(p, {}) is not None) != len(holes):
            # the compiler left a name in the text that the read analysis left out (a rule that
            # rebinds a subject, which the checker refuses anyway): do not share
            return None
    guest_side, target_side = set(), set()
    for path in rule.reads | rule.checked.text_reads:
        role = _ROLES.get(path[0])
        if role in ("guest", "source"):
            guest_side.add((role, path[1:]))
        elif role == "target":
            target_side.add(path[1:])
        elif path[0] not in RUN_CONSTANTS:
            return None
    if any(side == "guest" for side, _ in guest_side):
        guest_side.add(("guest", (UNCAPTURED,)))  # its outcomes err on the parts not captured (uncaptured.py)
    return tuple(sorted(guest_side, key=repr)), tuple(sorted(target_side, key=repr))


class ClassText(Text):
    """Outcome `index` of an entry as the `Text` of its pairs' results, bound to a pair's `Names`:
    the same text for every pair of the class but for the names, made once per class and filled
    per pair; JSON escapes character by character, so the escaped pieces filled with the escaped
    names are the escaped text (`json`)."""

    __slots__ = ("entry", "index")

    def __init__(self, entry: "Entry", index: int):
        self.entry, self.index = entry, index

    def plain(self, names: "Names") -> tuple[str, str]:
        return self.entry.texts(self.index, names, False)

    def json(self, names: "Names") -> tuple[str, str]:
        return self.entry.texts(self.index, names, True)

    def stamp(self, names: "Names", shape, result):
        """`Text.stamp`: the writer's template for this outcome's results of the guest being walked (the
        guest's cache keeps it): the class's template for every guest (`Entry.recipe`) with the guest's
        names in place, or for a shape without one, made from the text's pieces between the target's names."""
        cache = names.cache
        key = (self, shape.key)
        found = cache.get(key)
        if found is None:
            found = cache[key] = shape.specialise(self.entry.recipe(self.index, shape, result), names, result)
        return found


class Entry:
    """One rule's problem outcomes for one text class, and their texts, made when first needed."""

    __slots__ = ("engine", "rule", "subject", "outcomes", "pieces", "json_pieces", "status", "splits", "_texts",
                 "recipes", "unit", "_units")

    def __init__(self, engine, rule: CompiledRule, subject: Subject, status: str | None = None):
        self.engine, self.rule, self.subject = engine, rule, subject
        self.status = status  # a rule without `for` whose status the shared row decided: outcomes run on first read
        self.outcomes = None if status is not None else [
            o for o in engine.outcomes(rule, subject) if o.status in PROBLEMS]
        self.splits: list | str | None = None  # per outcome, its texts split around the names (`_split`)
        self.pieces: dict = {}
        self.json_pieces: dict = {}
        self._texts: list = []
        self.recipes: dict = {}  # (outcome index, shape key) -> the writer's template for every guest
        self.unit = (self, 0)  # its first outcome's result for a pair, unmade (`GuestStamps`)
        self._units: tuple | bool | None = None  # `shared_units`, once asked

    def text(self, index: int) -> ClassText:
        """The `Text` of outcome `index`, one per entry and outcome."""
        made = self._texts
        while len(made) <= index:
            made.append(ClassText(self, len(made)))
        return made[index]

    def shareable(self) -> bool:
        """Whether every outcome can serve the class (no `error`: its text is the pair's own)."""
        return all(o.status != ERROR for o in self.outcomes)

    def shared_units(self) -> tuple | bool:
        """Its results for a pair as a writer stamps them (`GuestStamps`), made once and shared by every pair of
        the class (read only): (entry, outcome index) each, in `Result.sort_key` order (by item; stable, as
        `Matrix._by_item` sorts the results), every one a failure; False: the entry is not `shareable`."""
        found = self._units
        if found is None:
            outcomes = self.outcomes
            order = sorted(range(len(outcomes)), key=lambda i: outcomes[i].item) if len(outcomes) > 1 \
                else range(len(outcomes))
            found = self._units = tuple((self, i) for i in order) if self.shareable() else False
        return found

    def texts(self, index: int, names: "Names", json: bool) -> tuple[str, str]:
        """(message, fix) of outcome `index` for the pair whose names are `names` (`json`: as JSON strings)."""
        key = (self, index, json)
        shown = names.json if json else names.texts
        found = names.cache.get(key)
        if found is None:
            found = names.cache[key] = self._partial(index, shown, json)
        if type(found) is str:
            return found, '""' if json else ""
        target = shown[_TARGET]
        return target.join(found[0]), target.join(found[1])

    def recipe(self, index: int, shape, result):
        """A writer's template of outcome `index` for every guest of the class (`shape.recipe`, from the
        message's and fix's pieces between all their names and the names' hole indexes), made once."""
        key = (index, shape.key)
        found = self.recipes.get(key)
        if found is None:
            split = self._split(index)
            if type(split) is str:
                message, fix = ((split,), ()), (("",), ())
            else:
                message, fix = (split[0], self.rule.message_holes), (split[1], self.rule.fix_holes)
            found = self.recipes[key] = shape.shared_recipe(result, message, fix)
        return found

    def _partial(self, index: int, names: tuple, json: bool):
        """The message and fix of outcome `index` with the guest's and its host's names in place,
        as the pieces between the target's names (JSON: escaped, and quoted)."""
        store = self.json_pieces if json else self.pieces
        split = store.get(index)
        if split is None:
            split = self._split(index)
            if type(split) is str:
                split = _quoted(split) if json else split
            elif json:
                split = (tuple(_escaped(p) for p in split[0]), tuple(_escaped(p) for p in split[1]))
            store[index] = split
        if type(split) is str:
            return split
        rule = self.rule
        message = around_target(split[0], rule.message_holes, names)
        fix = around_target(split[1], rule.fix_holes, names)
        if json:
            message, fix = _in_quotes(message), _in_quotes(fix)
        return message, fix

    def _split(self, index: int):
        """Outcome `index`'s message and fix split around the names (`CompiledRule.message_split`).
        All outcomes' are made at once; then the bindings are let go (a class keeps only its texts)."""
        splits = self.splits
        if splits is None:
            rule = self.rule
            if self.outcomes is None:  # the outcome the shared row decided, from the pair's own run
                self.outcomes = [o for o in self.engine.outcomes(rule, self.subject) if o.status == self.status][:1]
            # no such outcome: the sharing was unsound for this pair (tests assert this never shows)
            splits = self.splits = [(rule.message_split(o.env), rule.fix_split(o.env)) for o in self.outcomes] \
                if self.outcomes else f"internal error: `{rule.id}` gave no `{self.status}` outcome here again"
            self.outcomes = [Outcome(o.status, _NO_ENV, o.item, o.error) for o in self.outcomes]
            self.subject = None
        return splits if type(splits) is str else splits[index]


def _escaped(text: str) -> str:
    return _quoted(text)[1:-1]


def around_target(pieces: tuple, holes: tuple, names: tuple) -> tuple:
    """A text split around its names (`CompiledRule.message_split`: `pieces`, and the hole index of each name
    between them), with the guest's and its host's names (`names`, by hole index) in their holes, as the
    pieces between the target's names."""
    out = []
    current = [pieces[0]]
    for hole, piece in zip(holes, pieces[1:]):
        if hole == _TARGET:
            out.append("".join(current))
            current = [piece]
        else:
            current.append(names[hole])
            current.append(piece)
    out.append("".join(current))
    return tuple(out)


def _in_quotes(pieces: tuple) -> tuple:
    return ('"' + pieces[0],) + pieces[1:-1] + (pieces[-1] + '"',) if len(pieces) > 1 else ('"' + pieces[0] + '"',)


class Names:
    """A pair's name texts by hole index (`NAME_HOLES`), as messages write them and as JSON escapes them."""

    __slots__ = ("texts", "json", "cache")

    def __init__(self, texts: tuple, json: tuple, cache: dict):
        self.texts, self.json = texts, json
        self.cache = cache  # of the guest's pairs: (entry, index, json) -> texts with the guest's names in place


class Texts:
    """The text classes of the matrix's pairs per rule, and their entries."""

    def __init__(self, engine, targets: list[dict], views):
        self.engine = engine
        self.targets = targets
        self.views = views
        self.target_names: list = [None] * len(targets)  # (text, escaped) per target position
        self.target_classes: dict = {}  # id(rule) -> [text class per target position, key -> class]
        self.classes: dict = {}  # (id(rule), guest-side key) -> {target class -> entry}
        self.size = 0  # entries made since the cache last started again
        self.names: dict = {}  # target position -> its `Names` with the guest being walked
        self.partials: dict = {}  # `Names.cache` of the guest being walked
        self.guest_obj = self.source_obj = None
        self.guest_text = self.source_text = self.guest_json = self.source_json = ""

    def guest(self, guest: dict, source: dict | None) -> None:
        """A new guest: its names."""
        self.guest_obj, self.source_obj = guest, source
        self.guest_text = name_text(_GUEST_NAME, guest)
        self.source_text = name_text(_SOURCE_NAME, source)
        self.guest_json, self.source_json = _escaped(self.guest_text), _escaped(self.source_text)
        self.names = {}
        self.partials = {}
        if self.size > MAX_ENTRIES:
            self.classes = {}
            self.size = 0

    def _names(self, j: int) -> Names:
        found = self.names.get(j)
        if found is None:
            target = self.target_names[j]
            if target is None:
                text = name_text(_TARGET_NAME, self.targets[j])
                target = self.target_names[j] = (text, _escaped(text))
            found = self.names[j] = Names((self.guest_text, self.source_text, target[0]),
                                          (self.guest_json, self.source_json, target[1]), self.partials)
        return found

    def row(self, rule: CompiledRule, paths: tuple) -> dict:
        """The entries of `rule` for the guest being walked, by target text class."""
        objs = {"guest": self.guest_obj, "source": self.source_obj}
        key = (id(rule), tuple(view(objs[side], rest) for side, rest in paths[0]))
        found = self.classes.get(key)
        if found is None:
            found = self.classes[key] = {}
        return found

    def entry(self, entries: dict, rule: CompiledRule, paths: tuple, j: int, guest: dict, mode: str,
              status: str | None) -> Entry:
        """The entry of `rule` for (the guest, target `j`), made for this pair when its class has none."""
        c = self._positions(rule)[j]
        if c is None:
            c = self._class(rule, paths, j)
        found = entries.get(c)
        if found is None:
            found = self._entry(entries, c, rule, j, guest, mode, status)
        return found

    def units(self, entries: dict, rule: CompiledRule, paths: tuple, row: list, skip: int | None, guest: dict,
              mode: str, by_target: list) -> tuple[list, int]:
        """A rule without `for` (its one outcome's status decided by the shared row), no waiver in play: each
        failing pair of `row` but target position `skip` added to `by_target` as its entry's unit (`entry`,
        `Entry.unit`); the pairs that err (each pair's own run) and how many were added."""
        positions = self._positions(rule)
        erring = []
        added = 0
        for j, statuses in row:
            if j == skip:
                continue
            if ERROR in statuses:
                erring.append((j, statuses))
                continue
            c = positions[j]
            if c is None:
                c = self._class(rule, paths, j)
            found = entries.get(c)
            if found is None:
                found = self._entry(entries, c, rule, j, guest, mode, FAIL)
            bucket = by_target[j]
            if bucket is None:
                by_target[j] = [found.unit]
            else:
                bucket.append(found.unit)
            added += 1
        return erring, added

    def _positions(self, rule: CompiledRule) -> list:
        """The rule's text class per target position (None: not yet known)."""
        classes = self.target_classes.get(id(rule))
        if classes is None:
            classes = self.target_classes[id(rule)] = [[None] * len(self.targets), {}]
        return classes[0]

    def _class(self, rule: CompiledRule, paths: tuple, j: int) -> int:
        positions, keys = self.target_classes[id(rule)]
        of = self.views.of
        key = tuple(of(self.targets[j], rest) for rest in paths[1])
        c = positions[j] = keys.setdefault(key, len(keys))
        return c

    def _entry(self, entries: dict, c: int, rule: CompiledRule, j: int, guest: dict, mode: str,
               status: str | None) -> Entry:
        subject = Subject("migration", guest=guest, target=self.targets[j], mode=mode)
        found = entries[c] = Entry(self.engine, rule, subject, status)
        self.size += 1
        return found

    def results(self, rule: CompiledRule, entry: Entry, j: int, names: dict, location) -> list:
        """The pair's results from a shareable entry (waivers attached as they are made)."""
        lazy = self.engine.lazy_result
        texts = self._names(j)
        text = entry.text
        return [lazy(rule, text(i), texts, o.status, names, location, o.item) for i, o in enumerate(entry.outcomes)]

    def decided(self, rule: CompiledRule, entry: Entry, j: int, names: dict, location) -> Result:
        """The one failed result of a rule without `for` whose status the shared row decided."""
        if self.engine.waivers is None:  # `Engine.lazy_result` without a waiver to attach: it runs per failing pair
            made = entry._texts
            return LazyResult(made[0] if made else entry.text(0), self.names.get(j) or self._names(j), rule.id,
                              rule.severity, FAIL, names, rule.cite, rule.title, "", location, rule.tags)
        return self.engine.lazy_result(rule, entry.text(0), self._names(j), FAIL, names, location)


class GuestStamps:
    """One guest's failed and errored results as `Matrix.walk` makes them with no waiver in play, for
    writers that stamp a text class's results from its template (`template`):
    `by_target`, per target position (of the targets' `names`), its results (None: none), each an (entry,
    outcome index) of a text class, made only when asked, or a `Result`; `own`, the guest rules'."""

    __slots__ = ("texts", "guest", "mode", "by_target", "names", "own", "_location", "made")

    def __init__(self, texts: Texts, guest: dict, mode: str, by_target: list, names: list, own: list):
        self.texts, self.guest, self.mode, self.by_target, self.own = texts, guest, mode, by_target, own
        self.names = names
        self._location = None
        self.made: dict = {}  # shape key -> (its templates for the guest by unit and by id(recipe), the guest's
        # fills) (`templates`); ("head", rule) -> `_head`

    def location(self):
        """The guest's location in the snapshot (`Snapshot.locate`), found once."""
        found = self._location
        if found is None:
            found = self._location = (self.texts.engine.snapshot.locate(self.guest),)
        return found[0]

    def result(self, j: int, entry: Entry, index: int) -> Result:
        """The result of outcome `index` of `entry` for the guest and target `j`, as the walk makes it."""
        texts = self.texts
        guest = self.guest
        names = {"guest": guest["name"], "source": guest["host"], "target": texts.targets[j]["name"], "mode": self.mode}
        location = self.location()
        if entry.status is not None:
            return texts.decided(entry.rule, entry, j, names, location)
        o = entry.outcomes[index]
        return texts.engine.lazy_result(entry.rule, entry.text(index), texts._names(j), o.status, names, location,
                                        o.item)

    def results(self) -> list[Result]:
        """Every result, in order."""
        out = []
        for j, units in enumerate(self.by_target):
            if units:
                out.extend(self.result(j, *u) if type(u) is tuple else u for u in units)
        out.extend(self.own)
        return out

    def templates(self, shape) -> tuple[dict, tuple | bool]:
        """The guest's templates of `shape` made so far (`template`), by unit; and what the guest fills them
        with (`shape.guest_fills`; False: its names are not strings), made once."""
        found = self.made.get(shape.key)
        if found is None:
            guest, texts = self.guest, self.texts
            fills = type(guest["name"]) is str and type(guest["host"]) is str and shape.guest_fills(
                (texts.guest_text, texts.source_text), (texts.guest_json, texts.source_json), guest["name"],
                guest["host"], self.location())
            found = self.made[shape.key] = ({}, fills)
        return found

    def template(self, unit: tuple, j: int, shape, made: dict, fills):
        """The writer's template (`shape`'s, as `Result.stamp` gives it, opened: `StampShape.guest_template`) of the
        results of `unit` (an entry and an outcome index) for the guest, made now and kept in `made`
        (`templates`, with the guest's `fills`: the caller found none there); False: each is written whole
        (`result`). From the class's template for every guest (`Entry.recipe`) when the shape has one, without
        making a result but the first of the class's."""
        entry, index = unit
        recipe = entry.recipes.get((index, shape.key))
        if recipe is None:
            recipe = entry.recipe(index, shape, self.result(j, entry, index))
        if not (recipe and fills):
            made[unit] = False
            return False
        found = made.get(id(recipe))  # classes of the same texts share their recipe (`StampShape.shared_recipe`)
        if found is None:
            found = made[id(recipe)] = shape.guest_template(recipe, fills, self._head(entry.rule.id))
        made[unit] = found
        return found

    def _head(self, rule: str):
        """The hash of the fingerprint key of the guest's results of `rule` up to the target (`fingerprint_head`),
        made once per rule."""
        key = ("head", rule)
        found = self.made.get(key)
        if found is None:
            guest = self.guest
            found = self.made[key] = fingerprint_head(rule, {"guest": guest["name"], "source": guest["host"]})
        return found
