"""The stamped writers (json, jsonl, csv of a matrix; junit's suites) against the per-result path, byte for byte.

A text class's results are written from their class's template for a guest (`Result.stamp`:
the pieces between the target's names, then the fingerprint, hashed on from a per-(rule, guest)
prefix). Each case evaluates a generated estate whose names need escaping (quotes, `<&>`, CSV
formula leaders, non-ASCII, U+202E, commas and line ends), with waivers, rule errors (guests with
unknown parts) and results marked against a baseline, and compares every chunk's stamped text
with the reference made from `Result.to_json` (json.dumps, csv.writer), written after it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

import xml.etree.ElementTree as ET

import pytest
import yaml

from bench.generate import generate
from migcheck.app.pipeline import Request, run, write_outputs
from migcheck.core import results as model
from migcheck.core.results import Result
from migcheck.report.csv_report import _result_rows, result_rows_text
from migcheck.report.digest import chunk_findings
from migcheck.report.json_report import _JSONL, jsonl_lines, results_json
from migcheck.report.junit import _suite_texts, _suites

# names that need escaping in one format or another
ODD = ['a"quote', "<&amp;>", "=SUM(A1)", "+plus", "-minus", "@at", "é-ünï", "rtl\u202eevil", "comma,name",
       "tab\tname", "esc\x1b[31m", "nul\x00name",
       "del\x7f\x01"]  # (13 names: guests take every one, as i % 3 == 0 walks them all)


def _estate(hosts: int, guests: int, seed: int) -> dict:
    """A generated estate (with guests whose parts are unknown: rule errors) whose names need escaping."""
    data = generate(hosts, guests, seed, third=True)
    renamed = {}
    for i, host in enumerate(data["hosts"]):
        if i < len(ODD):
            renamed[host["name"]] = host["name"] = f"{ODD[i]}-{host['name']}"
    for i, guest in enumerate(data["guests"]):
        guest["host"] = renamed.get(guest["host"], guest["host"])
        if i % 3 == 0:
            guest["name"] = f"{ODD[i % len(ODD)]}{guest['name']}"
    return data


def _chunks(tmp_path, data: dict, waivers: dict | None = None):
    snapshot = tmp_path / "estate.json"
    snapshot.write_text(json.dumps(data))
    path = None
    if waivers is not None:
        path = tmp_path / "waivers.yaml"
        path.write_text(yaml.safe_dump(waivers))
    state = run(Request(command="matrix", snapshot=str(snapshot), formats=["json"], mode="offline", jobs=1,
                        waivers=str(path) if path else None))
    return list(state.evaluation.chunks)


def _reference_json(results) -> str:
    """`results_json` as json.dumps(indent=2) writes each `Result.to_json`, four spaces deep."""
    return ",\n".join("    " + json.dumps(r.to_json(), indent=2, ensure_ascii=False).replace("\n", "\n    ")
                      for r in results)


def _reference_csv(results) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(_result_rows(results))
    return out.getvalue()


def _reference_jsonl(results) -> str:
    return "".join(json.dumps(r.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n" for r in results)


WAIVERS = {"waivers": [
    {"rule": "MEMORY-*", "guest": "*1*", "reason": "a \"quoted\" <reason> =1", "owner": "ops@example.com",
     "expires": "2099-01-01", "ticket": "CHG-\u202e1"},
    {"rule": "VSWITCH-*", "guest": "=*", "target": "*vsp0001", "reason": "r", "owner": "o", "expires": "2099-01-01"}]}


@pytest.mark.parametrize("hosts,guests,seed,waivers", [(14, 60, 1, None), (14, 60, 2, WAIVERS), (8, 60, 3, WAIVERS)])
def test_stamped_equals_the_per_result_writers(tmp_path, hosts, guests, seed, waivers):
    chunks = _chunks(tmp_path, _estate(hosts, guests, seed), waivers)
    stamped = 0
    statuses, waived, several = set(), 0, 0
    for n, (_, results) in enumerate(chunks):
        if not results:
            continue
        for i, r in enumerate(results):  # some marked against a baseline, as `Tally` marks them
            if (i + n) % 5 == 0:
                r.baseline = "new" if i % 2 else "unchanged"
        stamped += sum(1 for r in results if r.waiver is None and r.stamp(_JSONL))
        ours = (results_json(results), jsonl_lines(results), result_rows_text(results))
        assert ours == (_reference_json(results), _reference_jsonl(results), _reference_csv(results))
        statuses |= {r.status for r in results}
        waived += sum(1 for r in results if r.waiver is not None)
        pairs = [(r.subject.get("target"), r.rule) for r in results]
        several += len(pairs) - len(set(pairs))
    assert stamped > 100  # the stamped path was taken, beside the per-result one
    assert "error" in statuses
    assert several > 0  # a rule with several results for one pair (its `for` items)
    assert (waived > 0) == (waivers is not None)


def test_the_writers_escape_what_the_names_hold(tmp_path):
    """The stamped text parses back to the names, and a CSV cell that starts a formula is neutralised."""
    chunks = _chunks(tmp_path, _estate(14, 60, 1))
    targets = set()
    for _, results in chunks:
        for line in jsonl_lines(results).split("\n")[:-1]:
            targets.add(json.loads(line)["subject"].get("target"))
        for row in csv.reader(io.StringIO(result_rows_text(results))):
            assert not row[7].startswith(("=", "+", "-", "@"))
            if row[7].startswith("'"):
                targets.add(row[7][1:])
    assert {"rtl\u202eevil-vsp0007", 'a"quote-vsp0000', "comma,name-vsp0008", "nul\x00name-vsp0011"} <= targets
    assert "=SUM(A1)-vsp0002" in targets  # read back from JSON; the CSV cell was `'=SUM(A1)-vsp0002`


def test_fingerprints_equal_the_whole_key_hashed(tmp_path):
    chunks = _chunks(tmp_path, _estate(8, 60, 3), WAIVERS)
    seen = 0
    for _, results in chunks:
        for r in results:
            s = r.subject
            key = (f"{r.rule}\0host={s.get('host', '')}\0guest={s.get('guest', '')}\0source={s.get('source', '')}"
                   f"\0target={s.get('target', '')}\0mode={s.get('mode', '')}\0{r.item}")
            assert r.fingerprint == hashlib.sha256(key.encode()).hexdigest()[:16]
            seen += 1
    assert seen > 100


@pytest.mark.parametrize("subject", [
    {"guest": "g", "source": "s", "target": "t", "mode": "offline"},
    {"guest": "g", "host": "h"},
    {"host": 1},
    {"host": True},
    {"guest": "g\u202e", "host": None},
    {"stage": 2, "step": 3, "guest": "g", "source": "s", "target": "t", "mode": "online"},
])
def test_a_fingerprint_is_the_sha256_of_its_key(subject):
    r = Result("RULE-1", "error", "fail", subject, "m", item="i1")
    get = subject.get
    key = (f"RULE-1\0host={get('host', '')}\0guest={get('guest', '')}\0source={get('source', '')}"
           f"\0target={get('target', '')}\0mode={get('mode', '')}\0i1")
    if "stage" in subject:
        key += f"\0stage={subject['stage']}\0step={subject['step']}"
    assert r.fingerprint == hashlib.sha256(key.encode()).hexdigest()[:16]


def test_fingerprints_past_the_bulk_heads_are_openssl_s_and_the_same(monkeypatch):
    """A run's first heads are CPython's own sha256 (no OpenSSL loaded: a check's cold start); past
    `BULK_HEADS` a matrix's are hashlib's (faster on the SHA instructions): the same fingerprints either way."""
    monkeypatch.setattr(model, "_HEADS", {})
    monkeypatch.setattr(model, "_bulk_sha256", None)
    kinds = set()
    for i in range(model.BULK_HEADS + 50):
        subject = {"guest": f"g{i}", "source": "s", "target": "t", "mode": "offline"}
        r = Result("RULE-1", "error", "fail", subject, "m", item="i1")
        key = f"RULE-1\0host=\0guest=g{i}\0source=s\0target=t\0mode=offline\0i1"
        assert r.fingerprint == hashlib.sha256(key.encode()).hexdigest()[:16]
        kinds.add((i < model.BULK_HEADS, type(model.fingerprint_head("RULE-1", subject))))
    assert kinds == {(True, type(model._sha256())), (False, type(hashlib.sha256()))}


def test_a_stamped_matrix_report_equals_the_per_result_one_through_the_command(tmp_path, monkeypatch):
    """The command's json, jsonl and csv with the stamps, and with every result written key by key."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    snapshot = tmp_path / "estate.json"
    snapshot.write_text(json.dumps(_estate(8, 30, 5)))

    def outputs(tag: str) -> list[bytes]:
        paths = [tmp_path / f"{tag}.{fmt}" for fmt in ("json", "jsonl", "csv")]
        state = run(Request(command="matrix", snapshot=str(snapshot), mode="offline", jobs=1, quiet=True,
                            formats=[f"{p.suffix[1:]}:{p}" for p in paths]))
        write_outputs(state)
        return [p.read_bytes() for p in paths]

    stamped = outputs("stamped")
    monkeypatch.setattr(model.LazyResult, "stamp", model.Result.stamp)  # no templates: written key by key
    plain = outputs("plain")
    assert [len(x) for x in stamped] == [len(x) for x in plain]
    assert stamped == plain


def test_junit_suites_from_templates_equal_elementtree(tmp_path):
    """The matrix writer's suites (templates) against ElementTree's serialisation of the same suites."""
    chunks = _chunks(tmp_path, _estate(14, 60, 3), WAIVERS)  # (an estate with failed and unknown cells)
    outcomes = set()
    for cells, results in chunks:
        found = chunk_findings(cells, results)
        for fail_on in ("error", "warning", "info"):
            totals, reference_totals = dict.fromkeys(("tests", "failures", "errors"), 0), \
                dict.fromkeys(("tests", "failures", "errors"), 0)
            texts = _suite_texts(cells, results, found, fail_on, "2023-11-14T22:13:20", totals)
            suites = _suites(cells, results, found, fail_on, "2023-11-14T22:13:20", reference_totals)
            for suite in suites:
                ET.indent(suite, level=1)
                outcomes |= {child.tag for case in suite.iter("testcase") for child in case}
            assert texts == [ET.tostring(suite, encoding="unicode") for suite in suites]
            assert totals == reference_totals
    assert {"failure", "error"} <= outcomes


@pytest.mark.parametrize("message,fix", [
    ((("guest ", " on ", " cannot go to ", ""), (0, 1, 2)), (("hpvmmigrate -P ", " -h ", ""), (0, 2))),
    ((("", " needs 4 cores, \"", "\" has 2"), (2, 0)), (("=add cores to ", ""), (2,))),  # the target starts it
    ((("", ": no, not here"), (0,)), (("-", " or \r\n", ""), (0, 1))),  # a name starts it, after a trigger
    ((("a stand-in \x01 and a cut \x00 in ", "'s text"), (0,)), (("", " to ", ""), (0, 2))),
    ((("plain text",), ()), (("",), ())),
])
@pytest.mark.parametrize("guest,source", [("vm1", "vsp2"), ("vm,1", "vsp2"), ("=vm", "vsp2"), ("", "vsp2"),
                                          ("vm\x001", "vsp2"), ("vm\x011", "vsp\x04")])
def test_a_plain_guests_row_template_equals_the_row_made_field_by_field(message, fix, guest, source):
    """`_CsvShape.for_guest`: a class's row template for guests whose names are plain (made for its second
    one, `_plain_row`) gives the row `_whole` makes field by field, for every guest; names that are not
    plain (quoted, neutralised, empty, holding a cut or a stand-in) and texts holding one take that way."""
    from migcheck.report import csv_report

    shape = csv_report._SHAPE
    cells = ("MIG-X,error,fail,no,", ",offline,,", ",\"cite, here\"", b"\0mode=offline\0")
    recipe = (message, fix, cells, [None, False])
    for other in ("vm0", guest, guest):  # another plain guest first: the template is made for `guest`
        fills = shape.guest_fills((other, source, "vsp9"), None, other, source, ("estate.json", 3, 1))
        row = shape.for_guest(recipe, fills, None)[0]
        assert list(row) == [p.encode() for p in csv_report._whole(*csv_report._fields(recipe, fills))]
    plain = bool(guest) and "\0" not in guest and guest == csv_report.csv_cell(guest)
    if plain:  # made for the second plain guest; none from a text holding a stand-in
        assert recipe[3][0] is not None and bool(recipe[3][0]) == ("\x01" not in message[0][0])
    else:
        assert recipe[3][0] is None
    assert (type(row) is list) == bool(plain and recipe[3][0])  # (the template's row: cut from one text)


@pytest.mark.parametrize("parts,values,pieces", [
    (["a ", 0, " b ", "\0", " c ", 1, ""], ("X", "Y"), ["a X b ", " c Y"]),
    (["only text"], (), ["only text"]),
    ([0], ("alone",), ["alone"]),
    ([1, "\0", 0, "\0"], ("g", "s"), ["s", "g", ""]),
])
def test_a_cut_template_filled_gives_the_pieces_between_the_targets_names(parts, values, pieces):
    from migcheck.report.common import CUT, cut_template

    texts, order = cut_template(parts)
    assert "".join(order(texts + values)).split(CUT) == pieces


def test_a_csv_cell_starting_with_a_null_character_is_neutralised(tmp_path, run_cli):
    """OWASP ASVS 1.2.10 names the null character among the formula triggers: a guest named `\\0=1+2` was
    written as it is in the stamped matrix."""
    from migcheck.files.document import load_document

    from .conftest import ROOT

    name = "\x00=1+2"
    text = json.dumps(load_document(ROOT / "fixtures" / "mixed-site.yaml").data)
    snapshot = tmp_path / "s.json"
    snapshot.write_text(text.replace('"web01"', json.dumps(name)))
    code, out, err = run_cli("matrix", snapshot, "--format", "csv", "--fail-on", "never")
    assert code == 0, err
    rows = [row for row in csv.reader(io.StringIO(out)) if name[1:] in ",".join(row)]
    assert rows and all(cell.startswith("'\x00") for row in rows for cell in row if cell.startswith(("\x00", "'\x00")))
    assert not any(cell.startswith("\x00") for row in rows for cell in row)
