"""JSON report: the contract of DESIGN.md, one object, keys in a fixed order; and JSON Lines.

`render_json` builds the document at once (audit, check, plan) from the pieces `JsonWriter`
writes: the same bytes as `json.dumps(report.to_json(), indent=2)`. `JsonWriter` writes them
for a matrix as its results arrive: results go to the output as they come, the cells
to a spool file (they follow the summary, which is known only at the end), and the rest is
written once the run is over. `JsonLinesWriter` (`--format jsonl`) writes one result per
line, as it comes, for pipelines (`jq -c`, `grep`); each line is a `result` of
schemas/report.schema.json.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from json.encoder import encode_basestring as _s  # the C encoder of one string, as ensure_ascii=False writes it

from ..core.vocabulary import NAME_HOLES, PLAN_KEYS, SUBJECT_KEYS
from ..files.outputs import copy_spool, release, spool_writer, take_early, write_bytes
from .common import CUT, CUT_BYTES, CellEnds, StampShape, cut_template, stamped, stamped_guest


def render_json(report) -> str:
    """`json.dumps(report.to_json(), indent=2)`, byte for byte, built as `JsonWriter` writes it: the
    keys but results and cells with `_dump`, the results with `results_json` (no dict per result, and
    not the pure-Python encoder that `indent` selects), the cells with `cells_json`."""
    out = []
    keys = report.to_json(results=False)
    for i, (key, value) in enumerate(keys.items()):
        if key == "cells" and report.cells is None:
            continue  # a matrix's cells, unknown here: `to_json` leaves them out
        out.append(("{\n" if i == 0 else ",\n") + f"  {_s(key)}: ")
        if key == "results":
            _extend_list(out, report.results, results_json)
        elif key == "cells":
            found = report.cell_findings
            _extend_list(out, report.cells, lambda cells: cells_json(cells, found))
        else:
            out.append(_dump(value, 2))
    out.append("\n}\n")
    return "".join(out)


_CHUNK = 1024  # results written together: their pieces are joined a chunk at a time


def _extend_list(out: list, items: list, write) -> None:
    """`items` as a list of the document (`write(chunk)`: a chunk's items joined), a chunk at a time."""
    if not items:
        out.append("[]")
        return
    out.append("[\n")
    for start in range(0, len(items), _CHUNK):
        if start:
            out.append(",\n")
        out.append(write(items[start:start + _CHUNK]))
    out.append("\n  ]")


def _dump(value, level: int) -> str:
    """`value` as json.dumps(indent=2) writes it nested `level` spaces deep."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * level)


_NULL = "null"


_HEADS: dict[tuple, str] = {}  # (level, rule, severity, status) -> the result's first lines
_CITES: dict[str, str] = {}


def result_json(r, level: int = 4) -> str:
    """`r.to_json()` as json.dumps(indent=2) writes it `level` spaces deep, key for key (much faster)."""
    return results_json([r], level)


def results_json(results: list, level: int = 4) -> str:
    """`result_json` of each result, joined as a list's items. A result of a text class (`Result.stamp`)
    is stamped from its class's template (`_JsonShape`); any other is written key by key (`_Written`)."""
    return results_bytes(results, level).decode()


def results_bytes(results: list, level: int = 4) -> bytes:
    """`results_json` as UTF-8 bytes, as `stamped` makes them."""
    return b"".join(stamped(results, _json_shape(level), _Written(level).text)[1:])  # (but the first result's `sep`)


def _json_shape(level: int) -> "_JsonShape":
    return _SHAPES.get(level) or _SHAPES.setdefault(level, _JsonShape(level))


_TARGET = NAME_HOLES.index("target")  # a recipe's hole where the text splits: the target's name
_SUB_GUEST, _SUB_SOURCE, _LOC = -1, -2, -3  # a recipe's holes besides the message's names (0 guest, 1 source)
_FILLS = (0, 1, _SUB_GUEST, _SUB_SOURCE, _LOC)  # the holes a guest fills, in `_Shape.guest_fills` order


class _Shape(StampShape):
    """How a JSON format writes a stamped result (`stamped`), in parts made once: a rule outcome's (`head`,
    `tail`: the text before the subject, and after the fix around the location), and a text class outcome's
    template for every guest (`recipe`), which `for_guest` fills with a guest's names and location.
    Subclasses write the parts (`head`, `subject_segments`, `location`, `tail`)."""

    def outcome_parts(self, r, mode: str) -> tuple:
        """The text before the subject, the text after the fix around the location, the fingerprint's key
        after the target."""
        return self.head(r), self.tail(r), f"\0mode={mode}\0{r.item}".encode()

    def recipe(self, r, message: tuple, fix: tuple):
        """The template of a text class's outcome for every guest of the class, from its message's and fix's
        (pieces, name holes) as `CompiledRule.message_split` splits them: its segments, each a text or a
        hole (a name of the text: 0 guest, 1 source, `_TARGET`; the subject's guest or source; the
        location), then as a `cut_template` of the guest's texts of `_FILLS`; the fingerprint's key after the
        target; and the template's texts opened (`guest_template`). False: written key by key."""
        rule = self.outcome(r)
        if rule is None:
            return False
        segments = [rule[0], *self.subject_segments(r.subject["mode"])]
        _text_segments(segments, message)
        segments.append(self.between)
        _text_segments(segments, fix)
        segments += (rule[1][0], _LOC, rule[1][1])
        texts, order = cut_template([segment if type(segment) is str else CUT if segment == _TARGET
                                     else _FILLS.index(segment) for segment in segments])
        return (texts, order), rule[2], ((self.end + self.sep).decode() + texts[0], *texts[1:])

    def target_parts(self, name: str) -> tuple[bytes, bytes]:
        """A target's name as JSON escapes it (without quotes), and as its fingerprint's key holds it."""
        return _s(name)[1:-1].encode(), name.encode()

    def guest_fills(self, texts: tuple, escaped: tuple, guest: str, source: str, loc) -> tuple:
        """What a guest named `guest` on `source` (strings) fills a recipe's holes with (`_FILLS`): its message
        texts of names (`escaped`: as JSON escapes them, `eval.texts.Names.json`), its subject's names, its
        location `loc`; then the names themselves."""
        return (escaped[0], escaped[1], _escaped(guest), _escaped(source), self.location(loc), guest, source)

    def for_guest(self, recipe, fills: tuple, head):
        """`recipe` for the guest of `fills` (`guest_fills`) and its results' fingerprint hash up to the target
        (`head`, `fingerprint_head`): the pieces between the target's names (UTF-8), that hash and the
        fingerprint's key after the target (`StampShape.stamp`). Escaped JSON text holds no raw control
        character: no `CUT`."""
        return _filled(recipe[0][0], recipe, fills, head)

    def guest_template(self, recipe, fills: tuple, head) -> tuple:
        """`StampShape.guest_template`: from the recipe's texts opened once (`recipe`), not a copy per guest."""
        return _filled(recipe[2], recipe, fills, head)


def _filled(texts: tuple, recipe, fills: tuple, head) -> tuple:
    """`recipe`'s template (its `texts`, as written or opened) filled with a guest's `fills`: `_Shape.for_guest`."""
    return "".join(recipe[0][1](texts + fills)).encode().split(CUT_BYTES), head, recipe[1]


def _text_segments(segments: list, text: tuple) -> None:
    """A message's or fix's (pieces, holes) as a recipe's segments, its pieces escaped (as JSON escapes
    character by character, the escaped pieces with the escaped names are the escaped text); holes past
    the pieces (a text cut at its cap) are left out, as the renderer leaves them."""
    pieces, holes = text
    segments.append(_escaped(pieces[0]))
    for hole, piece in zip(holes, pieces[1:]):
        segments.append(hole)
        segments.append(_escaped(piece))


class _JsonShape(_Shape):
    """`result_json`'s parts, `level` spaces deep."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level
        self.key = f"json{level}"  # (a string: hashed once, where a tuple is hashed at every look-up)
        self.sep = b",\n"  # between a list's items
        self.q = " " * (level + 2)
        self.between = f'",\n{self.q}"fix": "'
        self.end = f'"\n{" " * level}}}'.encode()

    def head(self, r) -> str:
        q = self.q
        return (f'{" " * self.level}{{\n{q}"rule": {_s(r.rule)},\n{q}"severity": {_s(r.severity)},\n'
                f'{q}"status": {_s(r.status)},\n{q}"subject": ')

    def subject_segments(self, mode: str) -> tuple:
        q = self.q
        q2 = q + "  "
        return (f'{{\n{q2}"guest": "', _SUB_GUEST, f'",\n{q2}"source": "', _SUB_SOURCE, f'",\n{q2}"target": "',
                _TARGET, f'",\n{q2}"mode": {_s(mode)}\n{q}}},\n{q}"message": "')

    def location(self, loc) -> str:
        return _location(loc, self.level)

    def tail(self, r) -> tuple[str, str]:
        q = self.q
        item = f'{q}"item": {_s(r.item)},\n' if r.item else ""
        return f'",\n{q}"cite": {_s(r.cite)},\n{q}"waiver": null,\n{item}', f'{q}"fingerprint": "'

    def baseline_end(self, r) -> bytes:
        return f'",\n{self.q}"baseline": {_s(r.baseline)}\n{" " * self.level}}}'.encode()


_SHAPES: dict[int, _JsonShape] = {}


def _escaped(text: str) -> str:
    return _s(text)[1:-1]


def _location(loc, level: int) -> str:
    if not loc:
        return ""
    q = " " * (level + 2)
    q2 = q + "  "
    return (f'{q}"location": {{\n{q2}"file": {_value(loc[0], level + 4)},\n'
            f'{q2}"line": {_value(loc[1], 0)},\n{q2}"col": {_value(loc[2], 0)}\n{q}}},\n')


class _Written:
    """`result_json` written key by key. Results of one pair come together, and a guest's share its
    location: each subject and location is written once and reused while it is the same (by
    identity, or by value when its names and numbers are strings and ints: a string equals only a
    string, where 1 == True == 1.0)."""

    def __init__(self, level: int):
        self.level = level
        self.last_sub = self.last_copy = None
        self.subject = ""
        self.last_loc = self.last_loc_copy = None
        self.location = ""

    def text(self, r) -> str:
        level = self.level
        q = " " * (level + 2)
        key = (level, r.rule, r.severity, r.status)
        head = _HEADS.get(key)
        if head is None:
            head = _HEADS[key] = (
                f'{" " * level}{{\n{q}"rule": {_s(r.rule)},\n{q}"severity": {_s(r.severity)},\n'
                f'{q}"status": {_s(r.status)},\n{q}"subject": ')
        cite = _CITES.get(r.cite)
        if cite is None:
            cite = _CITES[r.cite] = _s(r.cite)
        waiver = _NULL if r.waiver is None else _dump(r.waiver, level + 2)
        message, fix = r.json_texts()
        item = f'{q}"item": {_s(r.item)},\n' if r.item else ""
        baseline = f',\n{q}"baseline": {_s(r.baseline)}' if r.baseline else ""
        return (f'{head}{self._subject(r.subject)},\n{q}"message": {message},\n{q}"fix": {fix},\n{q}"cite": {cite},\n'
                f'{q}"waiver": {waiver},\n{item}{self._location(r.location)}{q}"fingerprint": "{r.fingerprint}"'
                f'{baseline}\n{" " * level}}}')

    def _subject(self, sub: dict) -> str:
        if sub is not self.last_sub and (self.last_copy is None or self.last_copy != sub):
            text = _migration_subject(sub, self.level) if len(sub) == 4 else None
            if text is not None:  # four names, strings all
                self.last_copy = dict(sub)
            else:
                text = _subject(sub, self.level)
                self.last_copy = dict(sub) if all(type(v) is str for v in sub.values()) else None
            self.subject = text
        self.last_sub = sub
        return self.subject

    def _location(self, loc) -> str:
        if not loc:
            return ""
        if not (loc is self.last_loc or (self.last_loc_copy is not None and type(loc[1]) is int
                                          and type(loc[2]) is int and self.last_loc_copy == loc)):
            self.location = _location(loc, self.level)
            self.last_loc_copy = tuple(loc) if type(loc[1]) is int and type(loc[2]) is int else None
        self.last_loc = loc
        return self.location


_AROUND_TARGET: dict[tuple, tuple[str, str]] = {}  # (level, guest, source, mode) -> the text before and after the target
_TARGETS: dict[str, str] = {}  # a target's name, escaped


def _migration_subject(sub: dict, level: int) -> str | None:
    """`_subject` of a migration's subject whose names are strings (None for any other)."""
    guest, source, target, mode = sub.get("guest"), sub.get("source"), sub.get("target"), sub.get("mode")
    if type(guest) is not str or type(source) is not str or type(target) is not str or type(mode) is not str:
        return None
    key = (level, guest, source, mode)
    around = _AROUND_TARGET.get(key)
    if around is None:
        if len(_AROUND_TARGET) > 4096:  # a streamed matrix needs one guest's at a time
            _AROUND_TARGET.clear()
        q = " " * (level + 2)
        q2 = q + "  "
        around = _AROUND_TARGET[key] = (f'{{\n{q2}"guest": {_s(guest)},\n{q2}"source": {_s(source)},\n{q2}"target": ',
                                        f',\n{q2}"mode": {_s(mode)}\n{q}}}')
    name = _TARGETS.get(target)
    if name is None:
        if len(_TARGETS) > 65536:
            _TARGETS.clear()
        name = _TARGETS[target] = _s(target)
    return around[0] + name + around[1]


def _subject(sub: dict, level: int) -> str:
    q = " " * (level + 2)
    q2 = q + "  "
    items = []
    for k in SUBJECT_KEYS + PLAN_KEYS:  # as `Result.to_json` (a plan's results name their stage and step)
        v = sub.get(k)
        if v is not None:
            items.append(f'{q2}"{k}": {_s(v) if type(v) is str else _value(v, level + 4)}')
    return "{\n" + ",\n".join(items) + f"\n{q}}}" if items else "{}"


def _value(value, level: int) -> str:
    kind = type(value)
    if kind is str:
        return _s(value)
    if kind is int:
        return int.__repr__(value)
    return _dump(value, level)


_NAMES: dict[tuple, str] = {}  # (level, names) -> its text: a matrix has few distinct lists of rule ids


def _names(names: list, level: int) -> str:
    if not names:
        return "[]"
    key = (level, *names)
    found = _NAMES.get(key)
    if found is None:
        p = " " * level
        found = "[\n" + ",\n".join(f"{p}  {_value(n, level + 2)}" for n in names) + f"\n{p}]"
        if len(_NAMES) < 4096 and all(type(n) is str for n in names):
            _NAMES[key] = found
    return found


def cell_json(cell, blocking: list, level: int = 4) -> str:
    """A matrix cell with its blocking rules, as `Report.to_json` writes it `level` spaces deep."""
    p = " " * level
    q = p + "  "
    return (f'{p}{{\n{q}"guest": {_value(cell.guest, level + 2)},\n{q}"source": {_value(cell.source, level + 2)},\n'
            f'{q}"target": {_value(cell.target, level + 2)},\n{q}"mode": {_value(cell.mode, level + 2)},\n'
            f'{q}"verdict": {_s(cell.verdict)},\n{q}"failing": {_names(cell.failing, level + 2)},\n'
            f'{q}"blocking": {_names(blocking, level + 2)}\n{p}}}')


def cells_json(cells, found: dict, level: int = 4) -> str:
    """`cell_json` of each cell (blocking rules from `found`), joined as a list's items: the same
    text, with what a guest's cells share (guest, source, mode) written once."""
    p = " " * level
    q = p + "  "
    inner = level + 2
    out = []
    last = None
    head = mid = ""
    tails: dict = {}  # (verdict, id(failing), id(blocking)) -> the cell's text from its verdict on
    alive = []  # the lists whose ids key `tails`, kept alive while it is used
    for c in cells:
        guest, source, mode = c.guest, c.source, c.mode
        if type(guest) is not str or type(source) is not str or type(mode) is not str \
                or type(c.target) is not str:
            out.append(cell_json(c, found[(c.guest, c.target)].blocking, level))
            last = None
            continue
        if last is None or last[0] != guest or last[1] != source or last[2] != mode:
            last = (guest, source, mode)
            head = f'{p}{{\n{q}"guest": {_s(guest)},\n{q}"source": {_s(source)},\n{q}"target": '
            mid = f',\n{q}"mode": {_s(mode)},\n{q}"verdict": '
        failing, blocking = c.failing, found[(guest, c.target)].blocking
        # cells share their lists (a matrix's labels, a chunk's findings): their text made once while alive
        key = (c.verdict, id(failing), id(blocking))
        tail = tails.get(key)
        if tail is None:
            tail = tails[key] = (f'{_s(c.verdict)},\n{q}"failing": {_names(failing, inner)},\n'
                                 f'{q}"blocking": {_names(blocking, inner)}\n{p}}}')
            alive.append((failing, blocking))
        out.append(f'{head}{_s(c.target)}{mid}{tail}')
    return ",\n".join(out)


_CELL_ENDS: dict[tuple, CellEnds] = {}  # (level, as bytes) -> a matrix's cells' texts from the target on


def guest_cells_json(cells, findings, level: int = 4, encoded: bool = False, after: bool = False) -> str | bytes:
    """`cells_json` of a guest's `eval.matrix.GuestCells` (findings from each label: `common.LabelFindings`),
    each cell's text from its target on made once per (target position, label) of the matrix's targets
    (`common.CellEnds`). `encoded`: as UTF-8 bytes, made so once per (target position, label), not for each
    guest (a fifth of a matrix's JSON report: 0.6 GB at 200 x 10,000). `after`: after another guest's cells,
    the list's comma first (in the same join: one write a guest)."""
    guest, source, mode = cells.guest["name"], cells.guest["host"], cells.mode
    p = " " * level
    q = p + "  "
    parts = None
    if type(guest) is str and type(source) is str and type(mode) is str:
        ends = _CELL_ENDS.get((level, encoded)) or _CELL_ENDS.setdefault((level, encoded), CellEnds())
        parts = ends.of(cells, lambda target, label: _cell_end(
            f'{_s(target)},\n{q}"mode": {_s(mode)},\n{q}"verdict": {_s(label[0])},\n'
            f'{q}"failing": {_names(label[1], level + 2)},\n'
            f'{q}"blocking": {_names(findings(label).blocking, level + 2)}\n{p}}}', encoded))
    if parts is None:
        return _cell_end((",\n" if after else "") + cells_json(cells.cells(), findings.by_pair(cells), level), encoded)
    head = _cell_end(f'{p}{{\n{q}"guest": {_s(guest)},\n{q}"source": {_s(source)},\n{q}"target": ', encoded)
    between = _cell_end(",\n", encoded) + head
    return between.join([head[:0], *parts]) if after else head + between.join(parts)


def _cell_end(text: str, encoded: bool) -> str | bytes:
    return text.encode() if encoded else text


_PART: list = []  # `JsonWriter.head` of a part written by another process


class _KeptCells:
    """A process's cells of guests fed by `JsonWriter.feed_stamps`, kept as each guest's `GuestCells` (its row
    of the matrix's shared labels) and written at the end (`write_to`): spooling their text (a fifth of
    the document) would write it twice and copy it back."""

    def __init__(self):
        self.guests: list = []

    def keep(self, cells, findings) -> None:
        # (a copy without the cells another writer may have made: a row of labels per guest is kept)
        self.guests.append((type(cells)(cells.guest, cells.mode, cells.names, cells.row, cells.positions), findings))

    def write_to(self, out) -> None:
        """The cells' texts, as `JsonWriter._cells` spools them."""
        for i, (cells, findings) in enumerate(self.guests):
            write_bytes(out, guest_cells_json(cells, findings, encoded=True, after=i > 0))

    def close(self) -> None:
        self.guests = []


class JsonWriter:
    """The JSON report of a matrix, written as its results arrive (`feed`), completed by `finish`.

    The head of the document states the verdict, which only the cells decide. When the matrix
    can say it before its results (`start`, called with `report.verdict` set), the results go
    straight to the output; else they go to a spool file and the head is written at the end.
    The cells follow the summary, known only at the end: they are spooled, or for guests fed
    by `feed_stamps` in one process kept as their rows of labels and written at the end
    (`_KeptCells`). Either way the bytes are exactly those of `render_json` on the whole report.
    """

    wants_verdict = True  # `report.stream.write_matrix` calls `start` once the verdict is known

    def __init__(self, report, out, spool_dir: str | None = None):
        self.report = report
        self.out = out
        self.head: list | None = None  # the head's keys and texts, once written (`start`)
        # binary: the text is encoded once, and copied to the output by the kernel (`copy_spool`)
        self.results = None
        self.spool_dir = spool_dir
        self.cells = _KeptCells()  # this process's cells (a spool once `_cells` writes text)
        self.earlier_cells: list = []  # cells before `cells` in the document, each spool not empty: this process's
        # up to a share another process wrote, then that share's (`absorb`), and so on
        self.any_result = self.any_cell = False

    def start(self, report) -> None:
        """Write the document up to its results (`report` states the verdict): results are written as they come."""
        self.report = report
        head = self._head()
        self.out.write("".join(text for _, text in head) + (",\n" if head else "{\n") + '  "results": [')
        self.head = head
        assert self.results is None, "the head is started before any result (`report.stream.write_matrix`)"

    def _head(self) -> list[tuple[str, str]]:
        """The keys before `results` and their texts, as `finish` writes them."""
        out = []
        for i, (key, value) in enumerate(self.report.to_json(results=False).items()):
            if key == "results":
                return out
            out.append((key, ("{\n" if i == 0 else ",\n") + f"  {_s(key)}: " + _dump(value, 2)))
        raise AssertionError("a report has results")

    def feed(self, cells, results, found) -> None:
        self._write(results_bytes(results) if results else b"", cells, found)

    def feed_stamps(self, cells, stamps, findings) -> None:
        """`feed` of a guest with no waiver and no baseline in play: its cells (`eval.matrix.GuestCells`), its
        results (`eval.texts.GuestStamps`), its cells' findings from their labels (`common.LabelFindings`)."""
        self._results(b"".join(stamped_guest(stamps, _json_shape(4), _Written(4).text, lead=False)))
        if cells.positions:
            if type(self.cells) is _KeptCells:
                self.cells.keep(cells, findings)
                self.any_cell = True
            else:
                self._cells(guest_cells_json(cells, findings, encoded=True))

    def _write(self, data: bytes, cells, found) -> None:
        self._results(data)
        if cells:
            self._cells(cells_json(cells, found))

    def _results(self, data: bytes) -> None:
        """Results' text as UTF-8 bytes (`stamped`), after those written so far."""
        if data:
            if self.head is not None:  # (a part's first result has no line before it: `absorb` writes it)
                self.out.write(",\n" if self.any_result else "" if self.head is _PART else "\n")
                write_bytes(self.out, data)  # (not copied behind the line above: a guest's text is ~300 KB)
            else:
                if self.results is None:
                    self.results = tempfile.TemporaryFile("w+b", dir=self.spool_dir)
                if self.any_result:
                    self.results.write(b",\n")
                self.results.write(data)
            self.any_result = True

    def _cells(self, text: str | bytes) -> None:
        if type(self.cells) is _KeptCells:
            self._spool_cells()
        if self.any_cell:
            self.cells.write(b",\n")
        self.cells.write(text if type(text) is bytes else text.encode("utf-8"))
        self.any_cell = True

    def finish(self, report) -> None:
        self.report = report
        out = self.out
        head = report.to_json(results=False)
        keys = list(head)
        if self.head is not None and self._head() != self.head:
            raise RuntimeError("internal error: the head of the JSON report changed after it was written "
                               f"(verdict `{report.verdict}`)")
        # the document's keys in Report.to_json's order; results and cells come from the spools
        for i, key in enumerate(keys):
            if self.head is not None and i < len(self.head):
                continue  # written by `start`
            if key == "results":
                if self.head is not None:
                    out.write("\n  ]" if self.any_result else "]")
                    continue
                out.write(("{\n" if i == 0 else ",\n") + f"  {_s(key)}: ")
                self._copy([self.results] if self.any_result else [])
                continue
            out.write("{\n" if i == 0 else ",\n")
            out.write(f"  {_s(key)}: ")
            if key == "cells":
                self._copy(self.earlier_cells + ([self.cells] if self.any_cell else []))  # in the shares' order
            else:
                out.write(_dump(head[key], 2))
        out.write("\n}\n")
        self.close()

    # -- a share of the guests written by another process (report.stream.Helper) -------------
    def part(self, spools: tuple) -> "JsonWriter":
        """A writer of the same report for a later share of the guests: its results (as `feed`
        writes them after the head) and its cells go to the two binary spools of `spools`."""
        other = JsonWriter.__new__(JsonWriter)
        other.report, other.spool_dir, other.results = self.report, self.spool_dir, None
        other.out = spool_writer(spools[0])
        other.head = _PART  # results written as they come, without the head
        other.cells = spools[1]
        other.any_result = other.any_cell = False
        return other

    def _spool_cells(self) -> None:
        """This process's cells as text in a spool from now on, after any kept (`_KeptCells`) so far."""
        if type(self.cells) is _KeptCells:
            if self.any_cell:
                self.earlier_cells.append(self.cells)
                self.any_cell = False
            self.cells = tempfile.TemporaryFile("w+b", dir=self.spool_dir)

    def sharing(self) -> None:
        """Other processes write later shares (`report.stream.write_matrix`): this process's cells are spooled as
        they come, while the others work, not kept for its end, which the run waits for."""
        self._spool_cells()

    def part_state(self) -> dict:
        release(self.out)
        self.cells.flush()
        return {"results": self.any_result, "cells": self.any_cell}

    def absorb_early(self, spools: tuple, start: int) -> int:
        """A part's results written so far by the other process, appended from byte `start` (`take_early`);
        where they end. `absorb` then appends the rest and the cells."""
        return take_early(self.out, spools[0], start, ",\n" if self.any_result else "\n")

    def absorb(self, state: dict, spools: tuple, start: int = 0) -> None:
        """Append a part's results and cells (`part`), written by another process, to this writer's (its
        results from byte `start`: `absorb_early` took those before)."""
        assert self.head is not None, "parts are taken after the head is written (write_matrix)"
        if state["results"]:
            if start == 0:
                self.out.write(",\n" if self.any_result else "\n")
            copy_spool(self.out, spools[0], start)
            self.any_result = True
        if state["cells"]:  # kept open (the helper's spool is closed after this), copied once, at the end
            if self.any_cell:  # this process's cells so far come first; any it writes later, after the share's
                self.earlier_cells.append(self.cells)
                self.cells = _KeptCells()
                self.any_cell = False
            try:
                self.earlier_cells.append(os.fdopen(os.dup(spools[1].fileno()), "rb"))
            except OSError:  # no file descriptor left: the share's cells copied now instead
                spools[1].seek(0)
                self._spool_cells()
                shutil.copyfileobj(spools[1], self.cells, 1 << 20)
                self.any_cell = True

    def _copy(self, spools: list) -> None:
        """A list of the document from spools of its items (each not empty), in order."""
        if not spools:
            self.out.write("[]")
            return
        self.out.write("[\n")
        for i, spool in enumerate(spools):
            if i:
                self.out.write(",\n")
            if type(spool) is _KeptCells:
                spool.write_to(self.out)
            else:
                copy_spool(self.out, spool)
        self.out.write("\n  ]")

    def close(self) -> None:
        if self.results is not None:
            self.results.close()
        self.cells.close()
        for spool in self.earlier_cells:
            spool.close()
        self.earlier_cells = []


class JsonLinesWriter:
    """`--format jsonl`: one result per line, compact, in report order, written as it comes."""

    def __init__(self, report, out):
        self.out = out

    def feed(self, cells, results, found=None) -> None:
        write_bytes(self.out, jsonl_bytes(results))

    def feed_stamps(self, cells, stamps, findings) -> None:
        """`feed` of a guest with no waiver and no baseline in play (`JsonWriter.feed_stamps`)."""
        write_bytes(self.out, b"".join(stamped_guest(stamps, _JSONL, _jsonl_line)))

    def part(self, spools: tuple) -> "JsonLinesWriter":
        """A writer for a later share of the guests, to the binary spool `spools[0]` (`JsonWriter.part`)."""
        return JsonLinesWriter(None, spool_writer(spools[0]))

    def part_state(self) -> dict:
        release(self.out)
        return {}

    def absorb_early(self, spools: tuple, start: int) -> int:
        return take_early(self.out, spools[0], start)

    def absorb(self, state: dict, spools: tuple, start: int = 0) -> None:
        copy_spool(self.out, spools[0], start)

    def finish(self, report) -> None:
        pass


def render_jsonl(report) -> str:
    return jsonl_lines(report.results)


_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def jsonl_lines(results: list) -> str:
    """A line per result: `Result.to_json` compact, stamped from its text class's template where it has one."""
    return jsonl_bytes(results).decode()


def jsonl_bytes(results: list) -> bytes:
    """`jsonl_lines` as UTF-8 bytes, as `stamped` makes them (a streamed matrix's: written as they are)."""
    return b"".join(stamped(results, _JSONL, _jsonl_line))


def _jsonl_line(r) -> str:
    return _compact(r.to_json()) + "\n"


class _JsonlShape(_Shape):
    """A line of JSON Lines' parts (`Result.to_json`, compact)."""

    key = "jsonl"
    between = '","fix":"'
    end = b'"}\n'

    def head(self, r) -> str:
        c = _compact
        return f'{{"rule":{c(r.rule)},"severity":{c(r.severity)},"status":{c(r.status)},"subject":'

    def subject_segments(self, mode: str) -> tuple:
        return ('{"guest":"', _SUB_GUEST, '","source":"', _SUB_SOURCE, '","target":"', _TARGET,
                f'","mode":{_compact(mode)}}},"message":"')

    def location(self, loc) -> str:
        return f',"location":{_compact({"file": loc[0], "line": loc[1], "col": loc[2]})}' if loc else ""

    def tail(self, r) -> tuple[str, str]:
        item = f',"item":{_compact(r.item)}' if r.item else ""
        return f'","cite":{_compact(r.cite)},"waiver":null{item}', ',"fingerprint":"'

    def baseline_end(self, r) -> bytes:
        return f'","baseline":{_compact(r.baseline)}}}\n'.encode()


_JSONL = _JsonlShape()

