"""Small pieces the reports share: headlines, subjects, groups; what blocks a migration
(`cell_findings`: error-severity failures only); `code` spans of messages; and the escaping
each output needs against hostile text (terminal, CSV, XML, Markdown)."""

from __future__ import annotations

import json as _json
import re as _re
from binascii import hexlify as _hex
from collections import Counter
from operator import getitem, itemgetter

from ..core.results import fingerprint_head
from ..core.vocabulary import BLOCKED, ERROR, ERROR_SEVERITY, FAIL, PROBLEMS, READY, SEVERITIES, UNKNOWN, WARNING
from .plan_section import headline as plan_headline

SEVERITY_ORDER = SEVERITIES


def plural(n: int, word: str) -> str:
    """`1 warning`, `2 warnings`, `1,000 guests`: a count and its noun (a regular plural)."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def subject_text(result) -> str:
    s = result.subject
    if "stage" in s and "guest" not in s:
        return f"stage {s['stage']}" + (f" [{result.item}]" if result.item else "")
    if "target" in s:
        text = f"{s['guest']}: {s.get('source')} -> {s['target']} ({s.get('mode')})"
    elif "guest" in s:
        text = f"guest {s['guest']}"
    elif "host" in s:
        text = f"host {s['host']}"
    else:
        text = "snapshot"
    if "step" in s:
        text = f"step {s['step']}, {text}"
    return text + (f" [{result.item}]" if result.item else "")


def headline(report) -> str:
    if report.command == "check":
        r = report.request
        return f"{r['guest']}: {r['source']} -> {r['target']} ({r['mode']} migration)"
    if report.command in ("plan", "place", "campaign"):
        return plan_headline(report)
    if report.command == "matrix":
        c = report.summary["cells"]
        return f"{c[READY]} ready, {c[BLOCKED]} blocked, {c[UNKNOWN]} unknown of {sum(c.values())} migrations"
    return f"audit of {report.snapshot_path}"


def findings(report) -> list:
    """Failures and errors, the results a report shows in detail."""
    return [r for r in report.results if r.status in PROBLEMS]


def finding_groups(report) -> list[tuple[str, list[tuple[str, list, int]]]]:
    """Findings by severity, then rule: (severity, [(rule id, its first ROWS_PER_RULE results, how many in all)])."""
    if report.digest is not None:
        return report.digest.groups()
    return [(severity, [(rule_id, results[:ROWS_PER_RULE], len(results)) for rule_id, results in rules])
            for severity, rules in by_severity_and_rule(findings(report))]


def by_severity_and_rule(results) -> list[tuple[str, list[tuple[str, list]]]]:
    groups = []
    for severity in SEVERITY_ORDER:
        rules: dict[str, list] = {}
        for r in results:
            if r.severity == severity:
                rules.setdefault(r.rule, []).append(r)
        if rules:
            groups.append((severity, sorted(rules.items())))
    return groups


ROWS_PER_RULE = 200  # documents for people list this many results of a rule, then say how many more
GRID_LIMIT = 40  # targets; a wider matrix is summarised per guest instead of drawn cell by cell


def per_guest(report) -> list[dict]:
    """For a matrix too wide to draw: per guest, the targets that are ready, how many are
    blocked or unknown, and the rules that block most (error-severity failures only)."""
    if report.digest is not None:
        return report.digest.guest_rows
    return guest_rows(report.cells or [], report.cell_findings)


def guest_rows(cells, found) -> list[dict]:
    """`per_guest`'s rows for these cells; `found`: (guest, target) -> the cell's findings."""

    rows: dict[tuple, dict] = {}
    for c in cells:
        row = rows.get((c.guest, c.source))
        if row is None:
            row = rows[(c.guest, c.source)] = {"guest": c.guest, "source": c.source, READY: 0, BLOCKED: 0,
                                               UNKNOWN: 0, "why": Counter(), "ready_targets": []}
        row[c.verdict] += 1
        if c.verdict == READY:
            row["ready_targets"].append(c.target)
        else:
            f = found[(c.guest, c.target)]
            row["why"].update(f.blocking if c.verdict == BLOCKED else f.errors)
    for row in rows.values():
        most = sorted(row["why"].items(), key=lambda x: (-x[1], x[0]))[:4]
        row["why"] = ", ".join(f"{rule} ({n})" for rule, n in most)
        row["ready_targets"].sort()
    return list(rows.values())


def per_target(report) -> list[dict]:
    """For a wide matrix: per target, how many guests can move to it now, how many are blocked or
    unknown, and the rules that block most (error-severity failures only)."""
    if report.digest is not None:
        return finish_target_rows(report.digest.target_rows)
    rows: dict[str, dict] = {}
    add_target_rows(rows, report.cells or [], report.cell_findings)
    return finish_target_rows(rows)


def add_target_rows(rows: dict, cells, found) -> None:
    """Count these cells into `rows` (target -> its row): bounded by the targets, fed chunk by chunk."""
    for c in cells:
        row = rows.get(c.target)
        if row is None:
            row = rows[c.target] = {"target": c.target, READY: 0, BLOCKED: 0, UNKNOWN: 0, "why": Counter()}
        row[c.verdict] += 1
        if c.verdict != READY:
            f = found[(c.guest, c.target)]
            row["why"].update(f.blocking if c.verdict == BLOCKED else f.errors)


def finish_target_rows(rows: dict) -> list[dict]:
    out = []
    for target in sorted(rows):
        row = dict(rows[target])
        most = sorted(row["why"].items(), key=lambda x: (-x[1], x[0]))[:4]
        row["why"] = ", ".join(f"{rule} ({n})" for rule, n in most)
        out.append(row)
    return out


def target_count(report) -> int:
    """How many targets a matrix has (current hosts not counted)."""
    if report.digest is not None:
        return len(report.digest.target_only)
    return len({c.target for c in report.cells or []})


def grid(report) -> tuple[list[str], list[str], dict]:
    """Guests, targets and cells by (guest, target) of a matrix report (the cells: none when too wide to draw)."""
    if report.digest is not None:
        cells = report.digest.grid_cells or []
        return list(dict.fromkeys(c.guest for c in cells)), sorted(report.digest.targets), \
            {(c.guest, c.target): c for c in cells}
    cells = report.cells or []
    guests = list(dict.fromkeys(c.guest for c in cells))
    targets = sorted({c.target for c in cells} | {c.source for c in cells})
    return guests, targets, {(c.guest, c.target): c for c in cells}


# -- what blocks a migration ------------------------------------------------------------------
class CellFindings:
    """A matrix cell's counted results, by role: what blocks it, and what only informs.

    Blockers are error-severity failures that no waiver covers, and nothing else, in every
    format: warnings, notes and rule errors are listed apart.
    """

    __slots__ = ("blocking", "warnings", "notes", "errors", "waived")

    def __init__(self):
        self.blocking: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.errors: list[str] = []
        self.waived: list[str] = []

    def add(self, result) -> None:
        if result.waiver is not None:
            bucket = self.waived
        elif result.status == ERROR:
            bucket = self.errors
        elif result.status != FAIL:
            return
        else:
            severity = result.severity
            bucket = self.blocking if severity == ERROR_SEVERITY else \
                self.warnings if severity == WARNING else self.notes
        if result.rule not in bucket:
            bucket.append(result.rule)

    def finish(self) -> "CellFindings":
        for found in (self.blocking, self.warnings, self.notes, self.errors, self.waived):
            if len(found) > 1:
                found.sort()
        return self

    def copy(self) -> "CellFindings":
        other = CellFindings.__new__(CellFindings)
        other.blocking, other.warnings, other.notes = self.blocking[:], self.warnings[:], self.notes[:]
        other.errors, other.waived = self.errors[:], self.waived[:]
        return other


class LabelFindings:
    """A shared cell label's findings by role (`Matrix._label`: its failing and erring rules as bit masks),
    as `CellFindings` of its results when no waiver is in play; `rules_of(mask)`: the rules of a mask.
    Made once per label and shared: read only."""

    def __init__(self, rules_of):
        self.rules_of = rules_of
        self.found: dict = {}  # id(label) -> (label, its findings): the label kept alive, so its id stays its own

    def __call__(self, label) -> CellFindings:
        found = self.found.get(id(label))
        if found is None:
            f = CellFindings()
            for rule in self.rules_of(label[2]):
                (f.blocking if rule.severity == ERROR_SEVERITY else
                 f.warnings if rule.severity == WARNING else f.notes).append(rule.id)
            f.errors.extend(rule.id for rule in self.rules_of(label[3]))
            found = self.found[id(label)] = (label, f.finish())
        return found[1]

    def by_pair(self, cells) -> dict:
        """The findings of a guest's `eval.matrix.GuestCells` by (guest, target), as `chunk_findings` gives them."""
        return {(c.guest, c.target): self(label) for c, label in zip(cells.cells(), cells.labels())}


class CellEnds:
    """A matrix's cells' texts from the target on (its name, the mode, what the cell's label says), each made
    once per (target position, label) of the matrix's targets, and kept while cells of the same targets and
    mode come: a guest's cells are its own first part joined to them (`json_report.guest_cells_json`,
    `csv_report.CsvCellsWriter`). A guest's are looked up label by label in C (`map`): per label, its texts
    by target position."""

    LABELS = 4096  # labels are the matrix's (`Matrix._label`): a bound all the same

    def __init__(self):
        self.names: list | None = None  # the targets' names the texts are of (kept: their identity is checked)
        self.mode = None
        self.by_label: dict = {}  # id(label) -> its text per target position (None: not made yet)
        self.kept: list = []  # the labels of `by_label`, kept alive so that their ids stay their own

    def of(self, cells, end) -> list[str] | None:
        """The texts of `cells` (an `eval.matrix.GuestCells`) from the target on, in order, `end(target name,
        label)` making one not made yet; None: a target's name is not a string (written the general way)."""
        names, positions = cells.names, cells.positions
        if names is not self.names or cells.mode != self.mode:
            self.names, self.mode = names, cells.mode
            self.by_label, self.kept = {}, []
        labels = cells.labels()
        try:
            parts = list(map(getitem, map(self.by_label.__getitem__, map(id, labels)), positions))
        except KeyError:  # a label not met yet
            parts = None
        if parts is not None and None not in parts:
            return parts
        return self._made(names, labels, positions, end)

    def _made(self, names: list, labels: list, positions: list, end) -> list[str] | None:
        """`of`, the texts not made yet made."""
        by_label = self.by_label
        parts = []
        for j, label in zip(positions, labels):
            texts = by_label.get(id(label))
            if texts is None:
                if len(by_label) >= self.LABELS:
                    by_label.clear()
                    self.kept = []
                texts = by_label[id(label)] = [None] * len(names)
                self.kept.append(label)
            text = texts[j]
            if text is None:
                if type(names[j]) is not str:
                    return None
                text = texts[j] = end(names[j], label)
            parts.append(text)
        return parts


class StampShape:
    """How a writer stamps a text class's results (`json_report._Shape`, `csv_report._CsvShape`): from the
    class outcome's template for every guest (`recipe(result, message, fix)`, the message's and fix's
    (pieces, name holes)), filled per guest (`guest_fills`, then `for_guest`); `specialise` does both
    steps for a result (`eval.texts.ClassText.stamp`); a result's text from its template and its target's
    name (`target_parts`: first the UTF-8 name that joins the template's pieces, then the fingerprint's key of
    it): `stamp(template, name, result or None)`, the text as UTF-8 pieces to join, the first `sep` (what comes
    before every result: JSON's list puts a comma between its items); a rule outcome's parts (`outcome_parts`,
    kept by `outcome`). Subclasses write those five (and `end`, `baseline_end`); `stamp` is this one's."""

    key = ""
    sep = b""
    end = b""  # after a result's fingerprint (`baseline_end`: with its baseline status)

    def __init__(self):
        self.guest: tuple | None = None  # (names' cache, location, guest, source) of the last `specialise`
        self.fills: tuple = ()  # its `guest_fills`
        self.targets: dict = {}  # a target's name -> `target_parts`
        self.last_names: tuple | None = None  # (a list of names, `targets_of` it)
        self.rules: dict = {}  # (rule, severity, status, cite, item, mode) -> `outcome_parts`
        self.recipes: dict = {}  # those and a class outcome's (message, fix) -> `recipe` (`shared_recipe`)

    def target(self, name):
        """A target's name as `stamp` takes it (`target_parts`), or None: not a string."""
        found = self.targets.get(name)
        if found is None:
            if type(name) is not str:
                return None
            if len(self.targets) > 65536:
                self.targets.clear()
            found = self.targets[name] = self.target_parts(name)
        return found

    def targets_of(self, names: list) -> list:
        """`target` of each of `names` (the matrix's targets' names, one list for a walk), made once for the list."""
        last = self.last_names
        if last is None or last[0] is not names:
            last = self.last_names = (names, [self.target(name) for name in names])
        return last[1]

    def stamp(self, found: tuple, name: tuple, r) -> tuple:
        """A result's text from its class's template for its guest (`for_guest`: the pieces between the target's
        names, the fingerprint's hash up to the target and its key after it) and its target's name (`target`:
        the name that joins the pieces, and as the fingerprint's key holds it), as UTF-8 pieces to join.
        `stamped_guest` does the same inline."""
        end = self.baseline_end(r) if r is not None and r.baseline else self.end
        return self.sep, name[0].join(found[0]), stamped_fingerprint(found, name[1]), end

    def outcome(self, r):
        """The parts of a rule outcome's results (`outcome_parts(r, mode)`), made once per outcome and mode, or
        None: its rule, item or mode is not a string (written whole)."""
        mode = r.subject.get("mode")
        if type(mode) is not str or type(r.rule) is not str or type(r.item) is not str:
            return None
        key = (r.rule, r.severity, r.status, r.cite, r.item, mode)
        found = self.rules.get(key)
        if found is None:
            if len(self.rules) > 65536:  # items are the estate's (disks, functions): a run's at a time
                self.rules.clear()
            found = self.rules[key] = self.outcome_parts(r, mode)
        return found

    def shared_recipe(self, r, message: tuple, fix: tuple):
        """`recipe(r, message, fix)`, one per rule outcome and texts: the text classes of a rule are finer than
        its texts (at 200 x 2,000, 25,244 class outcomes for 2,191 texts), and classes of the same texts
        share their recipe (and a guest's template of it, `eval.texts.GuestStamps.template`)."""
        key = (r.rule, r.severity, r.status, r.cite, r.item, r.subject.get("mode"), message, fix)
        try:
            found = self.recipes.get(key)
        except TypeError:  # an item or mode that is not a string (not hashable): its own
            return self.recipe(r, message, fix)
        if found is None:
            if len(self.recipes) > 65536:  # texts are the estate's: a run's at a time
                self.recipes.clear()
            found = self.recipes[key] = self.recipe(r, message, fix)
        return found

    def guest_template(self, recipe, fills: tuple, head) -> tuple:
        """`for_guest` as `stamped_guest` takes it, opened: `end` (the result's before it) and `sep` before
        its first piece."""
        found = self.for_guest(recipe, fills, head)
        pieces = found[0]
        return ((self.end + self.sep + pieces[0], *pieces[1:]), *found[1:])

    def specialise(self, recipe, names, r):
        """`recipe` for the guest of `names` (an `eval.texts.Names`) and of the result `r` (`for_guest`);
        False: written whole."""
        sub = r.subject
        guest, source = sub.get("guest"), sub.get("source")
        if recipe is False or len(sub) != 4 or type(guest) is not str or type(source) is not str \
                or type(sub.get("target")) is not str:
            return False
        last = self.guest
        loc = r.location
        if last is None or last[0] is not names.cache or last[1] is not loc or last[2] != guest or last[3] != source:
            self.guest = (names.cache, loc, guest, source)
            self.fills = self.guest_fills(names.texts, names.json, guest, source, loc)
        return self.for_guest(recipe, self.fills, fingerprint_head(r.rule, sub))


def stamped_fingerprint(found: tuple, key: bytes) -> bytes:
    """A stamped result's fingerprint (`Result.fingerprint`: 16 hex digits, UTF-8) from its template for its guest
    (`for_guest`: the hash up to the target, then the key after it) and its target's name as the key holds it."""
    digest = found[1].copy()
    digest.update(key)
    digest.update(found[2])
    return _hex(digest.digest()[:8])


CUT = "\0"  # where a `cut_template`'s text is cut for the target's name
CUT_BYTES = CUT.encode()  # the same in a template's UTF-8 text


def cut_template(parts) -> tuple:
    """A template for every guest of a text class, from its `parts` in order, each a text (`CUT` where the
    target's name goes) or the index of a guest's value that goes there: (its texts, the texts next to each
    other joined; the order that takes the parts from (those texts, the guest's values)). Filled, as the pieces
    between the target's names: `"".join(order(texts + values)).split(CUT)`, joined once and cut, faster than
    making each piece (no value may hold `CUT`; a template of one part gives it alone, not in a tuple, and
    joined it is the same text). Written out where it is filled: once per guest and class."""
    texts: list[str] = []
    order = []
    for part in parts:
        if type(part) is not str:
            order.append(~part)  # a guest's value: after the texts, whose count is known at the end
        elif texts and order[-1] == len(texts) - 1:
            texts[-1] += part
        else:
            order.append(len(texts))
            texts.append(part)
    return tuple(texts), itemgetter(*[i if i >= 0 else len(texts) + ~i for i in order])


def stamped(results, shape, written) -> list[bytes]:
    """The text of each result as UTF-8 bytes, in pieces to join (each result's pieces begin with the shape's
    `sep`): stamped from its text class's template (`Result.stamp` with the writer's `shape`: `shape.stamp(template,
    the target's name as `shape.target` gives it, result)`) when it has one, is not waived and its target's name is
    a string; else `written(result)`, encoded. Pieces, not a text per result: a result's text (about a kilobyte) is
    not made, then copied again into its guest's (at 200 x 2,000, 0.6% fewer instructions for JSON). Bytes, not
    text: a streamed matrix's gigabytes are written as they are, not encoded again (at 100 x 1,000, 3% fewer
    instructions for JSON)."""
    out: list[bytes] = []
    extend = out.extend
    sep = shape.sep
    target_of, stamp = shape.target, shape.stamp
    for r in results:
        found = r.stamp(shape) if r.waiver is None else None
        name = target_of(r.subject["target"]) if found else None
        extend((sep, written(r).encode()) if name is None else stamp(found, name, r))
    return out


def stamped_guest(stamps, shape, written, lead: bool = True) -> list[bytes]:
    """`stamped` of a guest's results as `eval.texts.GuestStamps` (no waiver, no baseline in play): a text
    class's results stamped from its template for the guest (`GuestStamps.template`), unmade; any other
    as `stamped` writes it. `lead`: False, the first result without its `sep` (a list's first item).

    A template's result is two pieces, its text up to its fingerprint and the fingerprint: the template's
    first piece begins with the `end` of the result before it and the `sep` (`StampShape.guest_template`),
    and the guest's last result's `end` comes last (`_Pieces`; at 200 x 10,000, 2.89 million results, two
    pieces and two appends each instead of four in a tuple: 0.2 µs less a result)."""
    pieces = _Pieces(shape.end)
    out = pieces.out
    append = out.append
    made, fills = stamps.templates(shape)
    template = stamps.template
    targets = shape.targets_of(stamps.names)
    for j, units in enumerate(stamps.by_target):
        if units is None:
            continue
        name = targets[j]
        joiner = None if name is None else name[0]
        if joiner is None:  # a name that is not a string, or (CSV) not its cell: each result its own way
            for u in units:
                if type(u) is tuple:
                    found = made.get(u)
                    if found is None:
                        found = template(u, j, shape, made, fills)
                    u = stamps.result(j, *u) if not found or name is None else None
                pieces.whole(shape.stamp(found, name, None) if u is None else stamped((u,), shape, written))
            continue
        key = name[1]
        for u in units:
            if type(u) is tuple:
                found = made.get(u)
                if found is None:
                    found = template(u, j, shape, made, fills)
                if found:  # `shape.stamp` and `stamped_fingerprint`, inline: two calls fewer
                    digest = found[1].copy()
                    digest.update(key)
                    digest.update(found[2])
                    append(joiner.join(found[0]))
                    append(_hex(digest.digest()[:8]))
                    continue
                u = stamps.result(j, *u)
            pieces.whole(stamped((u,), shape, written))
    if stamps.own:
        pieces.whole(stamped(stamps.own, shape, written))
    return pieces.closed(0 if lead else len(shape.sep))


class _Pieces:
    """A guest's results as `stamped_guest` makes them (`out`): each template's result opened by the `end` of
    the result before it, and that `end` cut off where no result before needs it (the guest's first, one after
    a result written whole: `loose`)."""

    __slots__ = ("out", "end", "loose")

    def __init__(self, end: bytes):
        self.out: list[bytes] = []
        self.end = end
        self.loose = [0]  # where in `out` a template's result begins with an `end` that closes no result

    def whole(self, items) -> None:
        """A result's pieces made another way (`sep` first, `end` last), after the `end` of the result before."""
        out, loose = self.out, self.loose
        if loose[-1] == len(out):
            loose.pop()
        else:
            out.append(self.end)
        out.extend(items)
        loose.append(len(out))

    def closed(self, lead: int) -> list[bytes]:
        """`out` complete: the last result's `end` after it, every `end` that closes no result cut off, and the first
        `lead` bytes (its `sep`: 0, none)."""
        out, loose = self.out, self.loose
        if loose[-1] == len(out):
            loose.pop()
        else:
            out.append(self.end)
        cut = len(self.end)
        for i in loose:
            out[i] = out[i][cut:]
        if lead and out:
            out[0] = out[0][lead:]
        return out


def cell_findings(report) -> dict[tuple[str, str], CellFindings]:
    """Per (guest, target) of a matrix: its findings by role (from the results, guest-level ones included).

    A matrix built without results (cells only) falls back on the cell's failing rule ids and
    the rules' severities.
    """
    cells = report.cells or []
    out: dict[tuple[str, str], CellFindings] = {}
    if not report.results and any(c.failing for c in cells):
        severity = {r.id: r.severity for r in report.rules}
        for c in cells:
            f = out[(c.guest, c.target)] = CellFindings()
            for rule in c.failing:
                sev = severity.get(rule, ERROR_SEVERITY)
                bucket = f.blocking if sev == ERROR_SEVERITY and c.verdict == BLOCKED else \
                    f.errors if sev == ERROR_SEVERITY else f.warnings if sev == WARNING else f.notes
                bucket.append(rule)
            f.finish()
        return out
    by_guest: dict[str, list] = {}
    by_pair: dict[tuple[str, str], list] = {}
    for r in report.results:
        s = r.subject
        if "target" in s:
            by_pair.setdefault((s.get("guest"), s["target"]), []).append(r)
        elif "guest" in s:
            by_guest.setdefault(s["guest"], []).append(r)
    for c in cells:
        f = CellFindings()
        for r in by_guest.get(c.guest, ()):
            f.add(r)
        for r in by_pair.get((c.guest, c.target), ()):
            f.add(r)
        out[(c.guest, c.target)] = f.finish()
    return out


# -- text from rule messages: `code` spans -------------------------------------------------------
def code_spans(text: str) -> list[tuple[bool, str]]:
    """Split a message or fix into (is_code, text) runs at its backticks; unbalanced ones stay text."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: no spans
        return [(False, str(text))]
    return [(i % 2 == 1, p) for i, p in enumerate(parts) if p or i % 2 == 1]


# -- output safety (terminal, CSV, XML, Markdown) -----------------------------------------------
# C0 and C1 control characters, DEL, and the bidirectional overrides that reorder what a
# reader sees ("Trojan Source"): never sent to a terminal as they are
_CONTROL = _re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_IN_TEXT = _re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text) -> str:
    """Text with every control character shown as an escape (`\\x1b`), for terminals."""
    return _CONTROL.sub(lambda m: _escape_char(m.group()), str(text))


def text_safe(text) -> str:
    """As `terminal_safe`, keeping line feeds and tabs: for the text of a multi-line element (JUnit)."""
    return _CONTROL_IN_TEXT.sub(lambda m: _escape_char(m.group()), str(text))


def manifest_value(value) -> str:
    """A manifest value as people read it: never Python's `None` or `True`."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _json.dumps(value, sort_keys=True)
    return str(value)


def csv_fingerprint(fingerprint: str) -> str:
    """A fingerprint no spreadsheet reads as a number (`1234e567...` is one in scientific notation): `fp:` before it."""
    return f"fp:{fingerprint}"


def _escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")  # OWASP ASVS 1.2.10: the null character too


def csv_safe(value) -> str:
    """A spreadsheet cell that cannot start a formula (OWASP CSV injection): a leading
    `= + - @`, tab, carriage return or null character gets a `'` before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_CSV_TRIGGERS) else text


_CSV_QUOTED = _re.compile('[,"\r\n]')  # what makes `csv.writer` (excel dialect, minimal quoting) quote a field


def csv_field(text: str) -> str:
    """`text` as `csv.writer` writes a field (excel dialect, minimal quoting): quoted, its quotes doubled,
    when it holds a comma, a quote or a line end."""
    return '"' + text.replace('"', '""') + '"' if _CSV_QUOTED.search(text) else text


def csv_cell(value) -> str:
    """`csv_safe(value)` as a field of a CSV row (`csv_field`)."""
    text = "" if value is None else str(value)
    if text.startswith(_CSV_TRIGGERS):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if _CSV_QUOTED.search(text) else text


def csv_needs_quotes(text: str) -> bool:
    return _CSV_QUOTED.search(text) is not None


# what a CSV field shows a terminal escaped: controls and bidirectional marks, but for the line ends a
# quoted field carries (a line feed, a carriage return before one)
_CONTROL_IN_CSV = _re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
                              "|\r(?!\n)")


def csv_terminal_cell(value) -> str:
    """`csv_cell` for a terminal: control and bidirectional characters shown as escapes (`\\x1b`,
    `\\u202e`), as `terminal_safe` shows them; line feeds (and CR LF) kept inside the quoted field."""
    text = csv_safe(value)
    return csv_field(_CONTROL_IN_CSV.sub(lambda m: _escape_char(m.group()), text))


def csv_terminal_text(text: str) -> str:
    """A whole CSV document (rendered for a file) as `csv_terminal_cell` shows its cells on a terminal:
    the same escapes; its row ends and the line ends inside quoted fields kept."""
    return _CONTROL_IN_CSV.sub(lambda m: _escape_char(m.group()), text)


# the complement of XML 1.0's Char (#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]),
# written as what it holds (the negated class of Char's ranges costs 10 ms to compile at every start)
_XML_FORBIDDEN = _re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text) -> str:
    """Text XML 1.0 can carry: control characters shown as escapes (`\x1b`) as in every format, line
    feeds and tabs kept; then what XML still cannot carry (lone surrogates, U+FFFE/F) removed."""
    return _XML_FORBIDDEN.sub("", text_safe(text))


_MD_SPECIAL = _re.compile(r"([\\`*_\[\]#|~!])")


def markdown_text(text) -> str:
    """Plain text for a Markdown table cell or line: markup characters escaped, HTML neutral, one line."""
    text = terminal_safe(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def markdown_code(text) -> str:
    """A code span for a Markdown table cell (its text holds no backtick: `code_spans` split on them)."""
    text = terminal_safe(text).replace("|", "\\|")
    if not text.strip():
        return markdown_text(text)
    pad = " " if text.startswith(" ") or text.endswith(" ") else ""
    return f"`{pad}{text}{pad}`"


def markdown_rich(text) -> str:
    """A message or fix for Markdown: `code` spans kept as code, everything else escaped."""
    return "".join(markdown_code(t) if code else markdown_text(t) for code, t in code_spans(text))


def markdown_anchor(rule_id: str) -> str:
    """The anchor of a rule in docs/rules.md (`rules --format markdown` writes it)."""
    return "rule-" + _re.sub(r"[^a-z0-9-]", "-", rule_id.lower())
