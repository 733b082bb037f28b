"""CSV reports for spreadsheets and data tools: one row per result (`csv`), or one row per
migration of a matrix or check (`csv-cells`: guest, source, target, mode, verdict and the
rules that block it).

Every cell is neutralised against formula injection (OWASP's CSV-injection advice): text
starting with `= + - @`, a tab, a carriage return or a null character gets a leading `'`, so a guest named
`=HYPERLINK(...)` stays text in a spreadsheet. A fingerprint is written `fp:` and its 16 hex
digits: bare, LibreOffice read some as numbers (`1234e567...` in scientific notation, all digits).
A CSV written to a terminal shows control and bidirectional characters as escapes (`\\x1b`,
`\\u202e`), as every other format does; a file keeps them as they are.

A matrix's rows are written as `csv.writer` writes them, a text class's results stamped from
their class's row for the guest (`_CsvShape`): the pieces around the target's name, then the
fingerprint.
"""

from __future__ import annotations

import csv
import io
import re

from ..files.outputs import copy_spool, release, spool_writer, take_early, write_bytes
from ..eval.texts import around_target
from .common import (CUT, CUT_BYTES, CellEnds, CellFindings, StampShape, csv_cell, csv_fingerprint, csv_needs_quotes,
                     csv_safe, csv_terminal_cell, cut_template, stamped, stamped_fingerprint, stamped_guest)

COLUMNS = ["rule", "severity", "status", "waived", "guest", "host", "source", "target", "mode", "item",
           "message", "fix", "cite", "file", "line", "fingerprint", "waiver_owner", "waiver_expires",
           "waiver_reason", "waiver_ticket", "baseline"]
CELL_COLUMNS = ["guest", "source", "target", "mode", "verdict", "blocking_rules", "warnings", "notes", "rule_errors",
                "waived"]


def _writer(out) -> csv.writer:
    # RFC 4180 line ends: a field holding a carriage return or a line feed is then quoted
    return csv.writer(out, lineterminator="\r\n")


def _row(values) -> list[str]:
    return [csv_safe(v) for v in values]


def _result_rows(results, plan: bool = False):
    """A row per result. What results share (a rule's id, severity, status and cite; a subject;
    a location) is made safe once while it repeats: results come by guest, then pair."""
    heads: dict = {}
    last_subject = last_location = _UNSET  # (a result without a location still has its two cells)
    subject = location = []
    for r in results:
        key = (r.rule, r.severity, r.status, r.cite)
        head = heads.get(key)
        if head is None:
            head = heads[key] = (_row(key[:3]), csv_safe(r.cite))
        s = r.subject
        if s is not last_subject:
            subject = _row([s.get("guest", ""), s.get("host", ""), s.get("source", ""), s.get("target", ""),
                            s.get("mode", "")])
            last_subject = s
        loc = r.location
        if loc is not last_location:
            loc_row = loc or ("", "", "")
            location = _row([loc_row[0], loc_row[1]])
            last_location = loc
        w = r.waiver
        tail = _NO_WAIVER if w is None else _row(
            [w.get("owner", ""), w.get("expires", ""), w.get("reason", ""), w.get("ticket", "")])
        yield [*head[0], "yes" if w else "no", *subject, csv_safe(r.item), csv_safe(r.message), csv_safe(r.fix),
               head[1], *location, csv_fingerprint(r.fingerprint), *tail, csv_safe(r.baseline or "")] + (
            _row([s.get("stage", ""), s.get("step", "")]) if plan else [])


_NO_WAIVER = ("", "", "", "")
_UNSET = object()


def _cell_rows(cells, found):
    for c in cells:
        f = found[(c.guest, c.target)]
        yield _row([c.guest, c.source, c.target, c.mode, c.verdict, " ".join(f.blocking),
                    " ".join(f.warnings), " ".join(f.notes), " ".join(f.errors), " ".join(f.waived)])


def render_csv(report) -> str:
    out = io.StringIO()
    writer = _writer(out)
    plan = report.plan is not None  # plan and place add the stage and step of each result
    writer.writerow(COLUMNS + (["stage", "step"] if plan else []))
    writer.writerows(_result_rows(report.results, plan))
    return out.getvalue()


def _on_terminal(out) -> bool:
    """Whether `out` (a report's stream, or the stream a named output wraps) is a terminal."""
    for stream in (out, getattr(out, "stream", None)):
        try:
            if stream is not None and hasattr(stream, "isatty"):
                return bool(stream.isatty())
        except (ValueError, OSError):  # closed
            return False
    return False


def _text_row(values, terminal: bool) -> str:
    """A row as `csv.writer` writes it (`csv_cell` each value; for a terminal, `csv_terminal_cell`)."""
    cell = csv_terminal_cell if terminal else csv_cell
    return ",".join([cell(v) for v in values]) + "\r\n"


class CsvWriter:
    """`csv` of a matrix, a row per result as it comes (streamed: a chunk's rows in one write)."""

    columns = COLUMNS

    def __init__(self, report, out):
        self.out = out
        self.terminal = _on_terminal(out)
        self.out.write(_text_row(self.columns, self.terminal))

    def feed(self, cells, results, found) -> None:
        if self.terminal:
            self.out.write("".join(_text_row(row, True) for row in _result_rows(results)))
        else:
            write_bytes(self.out, result_rows_bytes(results))

    def feed_stamps(self, cells, stamps, findings) -> None:
        """`feed` of a guest with no waiver and no baseline in play (`json_report.JsonWriter.feed_stamps`)."""
        if self.terminal:
            self.feed(cells, stamps.results(), None)
        else:
            write_bytes(self.out, b"".join(stamped_guest(stamps, _SHAPE, _whole_row)))

    def finish(self, report) -> None:
        pass

    # -- a share of the guests written by another process (report.stream.Helper) -------------
    def part(self, spools: tuple) -> "CsvWriter":
        """A writer of the rows of a later share of the guests, to the binary spool `spools[0]`."""
        other = type(self).__new__(type(self))
        other.out = spool_writer(spools[0])
        other.terminal = self.terminal  # no header: the first process wrote it
        return other

    def part_state(self) -> dict:
        release(self.out)
        return {}

    def absorb_early(self, spools: tuple, start: int) -> int:
        """A part's rows written so far by the other process, appended from byte `start` (`take_early`)."""
        return take_early(self.out, spools[0], start)

    def absorb(self, state: dict, spools: tuple, start: int = 0) -> None:
        copy_spool(self.out, spools[0], start)


def result_rows_text(results) -> str:
    """The rows of `results` as `csv.writer` writes `_result_rows`: stamped from a text class's row for a
    guest where a result has one (`_CsvShape`), else made cell by cell."""
    return result_rows_bytes(results).decode()


def result_rows_bytes(results) -> bytes:
    """`result_rows_text` as UTF-8 bytes, as `stamped` makes them (a streamed matrix's: written as they are)."""
    return b"".join(stamped(results, _SHAPE, _whole_row))


def _whole_row(r) -> str:
    return _text_row(next(_result_rows([r])), False)


def _filled(field: tuple, name: tuple) -> str:
    """A message or fix field from its pieces around the target's name (`_CsvShape.field`) and the name
    (`_CsvShape.target`)."""
    plain, doubled, quoted, _ = field
    if quoted is None:
        return csv_cell(name[5].join(plain))
    if quoted or name[3]:
        return '"' + name[4].join(doubled) + '"'
    return name[5].join(plain)


class _CsvShape(StampShape):
    """A result's row in parts: a rule outcome's cells made once, a text class outcome's template for every
    guest (`recipe`: its message and fix between the names), a guest's cells (`guest_fills`) and the
    template for a guest (`for_guest`: a field's quoting depends on every name in it), a target's cells
    (`target`)."""

    key = "csv"
    end = b",,,,,\r\n"

    def target_parts(self, name: str) -> tuple:
        """A target's name in UTF-8 when its cell is the name itself, quoted nowhere (`_whole`: the row joined
        by it; else None), as its fingerprint's key holds it; its cell, whether it is quoted in a field, with
        quotes doubled, and itself."""
        cell, quoted = csv_cell(name), csv_needs_quotes(name)
        encoded = name.encode()
        return (encoded if cell == name and not quoted and name != "" else None, encoded,
                cell, quoted, name.replace('"', '""'), name)

    def stamp(self, found: tuple, name: tuple, r) -> tuple:
        """A result's row from its class's template for its guest (`for_guest`) and its target's name, as
        UTF-8 pieces (`StampShape.stamp`; here a target whose cell is not its name, rare)."""
        if name[0] is not None:
            return super().stamp(found, name, r)
        end = self.baseline_end(r) if r is not None and r.baseline else self.end
        pre, mid, message, fix, post = _fields(*found[3:])
        text = (f"{pre}{name[2]}{mid}{message if type(message) is str else _filled(message, name)},"
                f"{fix if type(fix) is str else _filled(fix, name)}{post}")
        return self.sep, text.encode(), stamped_fingerprint(found, name[1]), end

    def baseline_end(self, r) -> bytes:
        return f",,,,,{csv_cell(r.baseline)}\r\n".encode()

    def recipe(self, r, message: tuple, fix: tuple):
        """(message, fix: (pieces, name holes) each, plain), the rule outcome's cells and the mode's, and the
        row's template for a guest whose names are plain (`_plain_row`) as [that template, None: not made,
        False: none; whether a plain guest came]; False: written cell by cell."""
        rule = self.outcome(r)
        return False if rule is None else (message, fix, rule, [None, False])

    def outcome_parts(self, r, mode: str) -> tuple:
        """The outcome's cells before the guest's, between the target's and the message, after the fix; and
        its fingerprint's key after the target."""
        return (f"{csv_cell(r.rule)},{csv_cell(r.severity)},{csv_cell(r.status)},no,",
                f",{csv_cell(mode)},{csv_cell(r.item)},", f",{csv_cell(r.cite)}", f"\0mode={mode}\0{r.item}".encode())

    def guest_fills(self, texts: tuple, escaped: tuple, guest: str, source: str, loc) -> tuple:
        """A guest's message texts of names (`texts`: plain), its cells before the target's and after the
        fix, its names, its fields made so far (`_guest_field`); and what it fills a template of `_plain_row`
        with, when its names are plain (None: they are not)."""
        loc_row = loc or ("", "")
        pre, post = f"{csv_cell(guest)},,{csv_cell(source)},", f",{csv_cell(loc_row[0])},{csv_cell(loc_row[1])},fp:"
        names = texts[:2]  # (a pair's `Names` hold the target's too: `around_target` cuts there)
        plain = all(text and CUT not in text and csv_cell(text) == text for text in names) and CUT not in pre + post
        return texts, pre, post, guest, source, {}, (*names, pre, post) if plain else None

    def for_guest(self, recipe, fills: tuple, head):
        """The row's template for the guest of `fills` (`result_rows_text`): its pieces between the target's
        names (for a target whose cell is its name), its fingerprint's hash up to the target `head`
        (`fingerprint_head`) and key after it, and what `_fields` makes the row of for another target."""
        values, plain = fills[6], recipe[3]
        if values is not None:
            made = plain[0]
            if made is None:  # made for the class's second plain guest (a third of the classes have one guest)
                if plain[1]:
                    made = plain[0] = _plain_row(*recipe[:3]) or False
                plain[1] = True
            if made:  # joined once, cut where the target's name goes
                row = "".join(made[1](made[0] + values)).encode().split(CUT_BYTES)
                return row, head, recipe[2][3], recipe, fills
        return tuple([p.encode() for p in _whole(*_fields(recipe, fills))]), head, recipe[2][3], recipe, fills


def _fields(recipe: tuple, fills: tuple) -> tuple:
    """A row's cells before the target's, between it and the message, the message and the fix (`_field`, with
    the guest's names in place), and the cells after the fix, for the guest of `fills`."""
    message, fix, cells, _ = recipe
    return cells[0] + fills[1], cells[1], _guest_field(message, fills), _guest_field(fix, fills), cells[2] + fills[2]


_STAND_INS = "\1\2\3\4"  # a plain guest's message names (guest, source) and cells (before, after), in `_plain_row`
_STAND_IN = re.compile(f"([{_STAND_INS}])")
_CUT_OR_STAND_IN = re.compile(f"[{CUT}{_STAND_INS}]")


def _plain_row(message: tuple, fix: tuple, cells: tuple):
    """The row's template for a guest whose names are plain (`guest_fills`: not empty, each written as it is
    in a cell, and holding no `CUT`): how `_field` quotes a field, and neutralises its start, is then the
    same for every such guest: found with stand-ins for their names and cells (`_STAND_INS`), as the
    `cut_template` of a guest's values (its message names, cells before and after). None: a text of the row
    holds a stand-in or `CUT`."""
    if _CUT_OR_STAND_IN.search("".join((*message[0], *fix[0], *cells[:3]))):
        return None
    names = (_STAND_INS[0], _STAND_INS[1])
    row = _whole(cells[0] + _STAND_INS[2], cells[1], _field(around_target(*message, names)),
                 _field(around_target(*fix, names)), cells[2] + _STAND_INS[3])
    parts = _STAND_IN.split(CUT.join(row))  # texts (maybe empty) and stand-ins, in turn
    parts[1::2] = [_STAND_INS.index(part) for part in parts[1::2]]
    return cut_template(parts)


def _whole(pre: str, mid: str, message, fix, post: str) -> tuple:
    """The row up to its fingerprint as its pieces between the target's names, for a target whose cell is its
    name (not empty, needing no quotes: `target_parts`). Then `_filled` is the name joining a field's
    pieces, its quotes doubled in a quoted field (the name holds none), and a field the name starts
    cannot start a formula: it is quoted as its own text says."""
    pieces = [pre, mid]
    for field, after in ((message, ","), (fix, post)):
        if type(field) is str:
            pieces[-1] += field + after
            continue
        plain, doubled, _, quoted = field
        parts = ('"' + doubled[0], *doubled[1:-1], doubled[-1] + '"') if quoted else plain
        pieces[-1] += parts[0]
        pieces.extend(parts[1:])
        pieces[-1] += after
    return tuple(pieces)


def _guest_field(text: tuple, fills: tuple):
    """`_field` of a message's or fix's (pieces, holes) with the guest's names of `fills` in place: made once
    per guest and text (the fix of a rule's outcomes often reads alike for every target: `hpvmmigrate -P
    {guest.name} -h {target.name}`)."""
    made = fills[5]
    found = made.get(text)
    if found is None:
        if len(made) > 4096:
            made.clear()
        found = made[text] = _field(around_target(*text, fills[0]))
    return found


def _field(pieces: tuple):
    """A message or fix: its cell when it does not name the target; else its pieces around the target's
    name, plain and with quotes doubled, whether the field is quoted whatever the name (`_filled`; None: a
    field the name starts is made per result, as a name could start a formula), and whether its pieces
    need quotes (`_whole`: with a name that needs none)."""
    if len(pieces) == 1:
        return csv_cell(pieces[0])
    first = pieces[0]
    if first:
        pieces = (csv_safe(first), *pieces[1:])
    text = "".join(pieces)  # (what makes a field quoted is one character: no two pieces make it together)
    doubled = tuple([p.replace('"', '""') for p in pieces]) if '"' in text else pieces
    quotes = csv_needs_quotes(text)
    return (pieces, doubled, quotes if first else None, quotes)


_SHAPE = _CsvShape()


class CsvCellsWriter(CsvWriter):
    """`csv-cells` of a matrix, a row per cell as it comes (streamed). Fed a guest's row of shared labels
    (`feed_stamps`), a row's text from its target on is made once per (target position, label) of the
    matrix's targets (`common.CellEnds`, as JSON's cells): the same text as `_cell_rows` gives."""

    columns = CELL_COLUMNS
    cells_only = True  # fed alone, a guest's results are counted, not made (`report.stream._feed`)

    def __init__(self, report, out):
        super().__init__(report, out)
        self.ends = CellEnds()  # a row's text from its target on, per (target position, label)

    def feed(self, cells, results, found) -> None:
        self.out.write("".join(_text_row(row, self.terminal) for row in _cell_rows(cells, found)))

    def part(self, spools: tuple) -> "CsvCellsWriter":
        other = super().part(spools)
        other.ends = self.ends  # (in the other process: its own copy, as forked)
        return other

    def feed_stamps(self, cells, stamps, findings) -> None:
        guest, source, mode = cells.guest["name"], cells.guest["host"], cells.mode
        parts = None
        if not self.terminal and type(guest) is str and type(source) is str and type(mode) is str:
            parts = self.ends.of(cells, lambda target, label: _cell_end(target, mode, findings(label), label[0]))
        if parts is None:
            self.feed(cells.cells(), (), findings.by_pair(cells))
        elif parts:
            head = _text_row(_row([guest, source]), False)[:-2] + ","  # (a row's first cells, without its end)
            self.out.write(head + head.join(parts))


def _cell_end(target: str, mode: str, f, verdict: str) -> str:
    """A `csv-cells` row from its target on (`_cell_rows`), for a cell of findings `f`."""
    return _text_row(_row([target, mode, verdict, " ".join(f.blocking), " ".join(f.warnings), " ".join(f.notes),
                           " ".join(f.errors), " ".join(f.waived)]), False)


def render_csv_cells(report) -> str:
    """A row per migration: a matrix's cells, a plan's migrations, or the one migration of `check` (`audit` has
    none)."""
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow(CELL_COLUMNS)
    if report.cells is not None:
        writer.writerows(_cell_rows(report.cells, report.cell_findings))
    elif report.plan is not None:  # plan and place: a row per migration of the plan, in order
        by_step: dict[int, CellFindings] = {}
        for r in report.results:
            if "step" in r.subject:
                by_step.setdefault(r.subject["step"], CellFindings()).add(r)
        for m in report.plan["migrations"]:
            f = by_step.get(m["step"], CellFindings()).finish()
            writer.writerow(_row([m["guest"], m["source"], m["target"], m["mode"], m["verdict"], " ".join(f.blocking),
                                  " ".join(f.warnings), " ".join(f.notes), " ".join(f.errors), " ".join(f.waived)]))
    elif report.request is not None:
        q = report.request
        f = CellFindings()
        for r in report.results:
            f.add(r)
        f.finish()
        writer.writerow(_row([q["guest"], q["source"], q["target"], q["mode"], report.verdict, " ".join(f.blocking),
                              " ".join(f.warnings), " ".join(f.notes), " ".join(f.errors), " ".join(f.waived)]))
    return out.getvalue()
