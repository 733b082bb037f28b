"""Writers that stamp a guest's results unmade (`GuestStamps`), with cells and counts from the shared rows.

With no waiver and no baseline in play, JSON, JSON Lines, CSV, csv-cells and JUnit take each guest's
results as (text class entry, outcome index) units stamped from the class's template, its cells'
findings from their labels and its counts from `eval.tally` (`report.stream._feed`). Their bytes,
summary and exit code must be those of the path that makes every `Result` (the whole report's
renderers, and the streamed path with stamping switched off), in one process and in several; a run
that cannot stamp (a guest named twice, a guest without a host, a waiver, a baseline) takes the old path.
"""

from __future__ import annotations

import json
import re

import pytest

from bench.generate import generate

from .conftest import ROOT
from .conftest import whole_report as _whole_report

STAMPED = ["json", "jsonl", "csv", "csv-cells", "junit"]


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


@pytest.fixture
def walks(monkeypatch):
    """How many guests each path walked: `stamp_walk` (stamped) and `walk` (results made)."""
    from migcheck.eval.matrix import Matrix

    counted = {"stamped": 0, "made": 0}
    stamp_walk, walk = Matrix.stamp_walk, Matrix.walk

    def counting(method, key):
        def wrapped(self, *args, **kwargs):
            for item in method(self, *args, **kwargs):
                counted[key] += 1
                yield item
        return wrapped
    monkeypatch.setattr(Matrix, "stamp_walk", counting(stamp_walk, "stamped"))
    monkeypatch.setattr(Matrix, "walk", counting(walk, "made"))
    return counted


def _run(run_cli, tmp_path, base: list[str], tag: str, jobs: int = 1) -> tuple[int, str, dict[str, str]]:
    paths = {fmt: tmp_path / f"{tag}.{fmt}" for fmt in STAMPED}
    argv = base + ["--jobs", str(jobs)] + [a for fmt, p in paths.items() for a in ("--format", f"{fmt}:{p}")]
    code, out, err = run_cli(*argv)
    assert code in (0, 1, 3) and not out, err
    err = re.sub(rf"{tag}\.", "OUT.", err)
    return code, err, {fmt: p.read_bytes().decode("utf-8") for fmt, p in paths.items()}


def _estate(tmp_path, hosts: int, guests: int, seed: int) -> str:
    path = tmp_path / f"estate-{hosts}-{guests}-{seed}.json"
    path.write_text(json.dumps(generate(hosts, guests, seed=seed)))
    return str(path)


@pytest.mark.parametrize("estate", ["fixtures/mixed-site.yaml", "fixtures/ivm4-small.yaml",
                                    "fixtures/rolling-site.yaml", "gen:12x90:5", "gen:30x240:11"])
def test_stamped_outputs_equal_the_whole_report_and_the_made_path(in_root, run_cli, tmp_path, walks, monkeypatch,
                                                                  estate):
    if estate.startswith("gen:"):
        size, seed = estate[4:].split(":")
        hosts, guests = map(int, size.split("x"))
        estate = _estate(tmp_path, hosts, guests, int(seed))
    base = ["matrix", estate]
    code, err, stamped = _run(run_cli, tmp_path, base, "stamped")
    assert walks["stamped"] > 0 and walks["made"] == 0  # every guest stamped, none made
    from migcheck.report import render

    report = _whole_report(base)
    for fmt in STAMPED:
        assert stamped[fmt] == render(report, fmt), f"stamped {fmt} differs from the whole report's"

    from migcheck.eval.engine import MatrixChunks

    monkeypatch.setattr(MatrixChunks, "can_stamp", lambda self: False)
    made_code, made_err, made = _run(run_cli, tmp_path, base, "made")
    assert walks["made"] > 0
    assert (made_code, made_err) == (code, err)  # the summary line and the exit code too
    assert made == stamped


@pytest.mark.parametrize("jobs", [2, 3])
def test_stamped_shares_written_by_other_processes_give_the_same_bytes(in_root, run_cli, tmp_path, jobs):
    estate = _estate(tmp_path, 20, 160, 4)
    alone = _run(run_cli, tmp_path, ["matrix", estate], "alone")
    shared = _run(run_cli, tmp_path, ["matrix", estate], "shared", jobs)
    assert shared[:2] == alone[:2]
    for fmt in STAMPED:
        theirs, ours = shared[2][fmt], alone[2][fmt]
        if fmt == "junit":
            theirs, ours = (re.sub(r'timestamp="[^"]*"', "", t) for t in (theirs, ours))
        assert theirs == ours, fmt


@pytest.mark.parametrize("extra", [["--waivers", "fixtures/waivers.yaml"], "baseline"])
def test_a_waiver_or_a_baseline_takes_the_path_that_makes_every_result(in_root, run_cli, tmp_path, walks, extra):
    if extra == "baseline":
        earlier = tmp_path / "earlier.json"
        run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{earlier}")
        extra = ["--baseline", str(earlier)]
    _run(run_cli, tmp_path, ["matrix", "fixtures/mixed-site.yaml", *extra], "x")
    assert walks["stamped"] == 0 and walks["made"] > 0


def test_a_guest_named_twice_takes_the_path_that_makes_every_result(in_root, run_cli, tmp_path, walks):
    """estate-broken names a guest twice: its chunk holds both guests, their results sorted together."""
    base = ["matrix", "fixtures/estate-broken.yaml"]
    _, _, texts = _run(run_cli, tmp_path, base, "broken")
    assert walks["stamped"] == 0 and walks["made"] > 0
    from migcheck.report import render

    report = _whole_report(base)
    assert all(texts[fmt] == render(report, fmt) for fmt in STAMPED)


def test_cells_findings_from_labels_equal_those_from_results(tmp_path):
    """A cell's findings from its label (`LabelFindings`) are those `chunk_findings` finds in its results,
    for every cell of an estate whose rules fail at every severity."""
    from migcheck.app.pipeline import Request, run
    from migcheck.report.common import LabelFindings
    from migcheck.report.digest import chunk_findings

    estate = _estate(tmp_path, 15, 120, 8)
    chunks = run(Request(command="matrix", snapshot=estate, formats=["json:-"], quiet=True)).evaluation.chunks
    findings = LabelFindings(chunks.matrix.rules_of)
    made = {}
    for cells, results in chunks:
        made.update(chunk_findings(cells, results))
    chunks = run(Request(command="matrix", snapshot=estate, formats=["json:-"], quiet=True)).evaluation.chunks
    labelled = {}
    for cells, _, _ in chunks.stamped():
        labelled.update(findings.by_pair(cells))
    assert labelled.keys() == made.keys()
    roles = ("blocking", "warnings", "notes", "errors", "waived")
    assert {k: tuple(tuple(getattr(f, r)) for r in roles) for k, f in labelled.items()} == \
        {k: tuple(tuple(getattr(f, r)) for r in roles) for k, f in made.items()}
    assert any(f.blocking for f in made.values()) and any(f.warnings for f in made.values())


def test_stamped_rows_equal_the_made_path_for_targets_a_spreadsheet_could_misread(in_root, run_cli, tmp_path,
                                                                                 monkeypatch):
    """VSP names a CSV row must quote or neutralise (a comma, a quote, a line end, a leading `=` or `-`) are
    written through the general path (`_filled`), plain ones joined into the row (`_whole`): the same bytes
    as the path that makes every result, and as the whole report."""
    text = json.dumps(generate(7, 70, seed=6))
    for old, new in (("vsp0000", "vsp,comma"), ("vsp0001", 'vsp"quote'), ("vsp0002", "=cmd"), ("vsp0003", "-dash"),
                     ("vsp0004", "vsp\nline")):
        text = text.replace(json.dumps(old), json.dumps(new))
    estate = tmp_path / "odd-names.json"
    estate.write_text(text)
    base = ["matrix", str(estate)]
    _, _, stamped = _run(run_cli, tmp_path, base, "stamped")
    assert '"vsp,comma"' in stamped["csv"] and "'=cmd" in stamped["csv"]
    from migcheck.report import render

    report = _whole_report(base)
    assert all(stamped[fmt] == render(report, fmt) for fmt in STAMPED)
    from migcheck.eval.engine import MatrixChunks

    monkeypatch.setattr(MatrixChunks, "can_stamp", lambda self: False)
    assert _run(run_cli, tmp_path, base, "made")[2] == stamped


@pytest.mark.parametrize("estate", ["fixtures/ivm4-small.yaml", "fixtures/rolling-site.yaml", "gen:30x240:11"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_cells_alone_count_the_results_without_making_them(in_root, run_cli, tmp_path, walks, monkeypatch, estate,
                                                           jobs):
    """`csv-cells` alone walks the guests counting their results from the shared rows (`Matrix.count_walk`):
    no result nor text class made, yet the same bytes as the whole report's, and the same counts (the
    headline) and exit code as a run that makes them; with `--jobs 2`, shares written by another process."""
    if estate.startswith("gen:"):
        estate = _estate(tmp_path, 30, 240, 11)
    from migcheck.eval import texts
    from migcheck.eval.matrix import Matrix
    from migcheck.report import render

    whole = render(_whole_report(["matrix", estate]), "csv-cells")
    base = ["matrix", estate, "--jobs", str(jobs)]
    made_code, _, made_err = run_cli(*base, "--format", f"csv:{tmp_path / 'made.csv'}")
    assert walks["stamped"] > 0  # an estate the stamp path serves (names unique)
    walked = {"count": 0}
    count_walk = Matrix.count_walk

    def counting(self, guests):
        for item in count_walk(self, guests):
            walked["count"] += 1
            yield item

    def refuse(*args, **kwargs):
        raise AssertionError("a result or a text class made for a report of cells only")

    monkeypatch.setattr(Matrix, "count_walk", counting)
    monkeypatch.setattr(Matrix, "stamp_walk", refuse)
    monkeypatch.setattr(texts.Texts, "_entry", refuse)
    code, out, err = run_cli(*base, "--format", f"csv-cells:{tmp_path / 'cells.csv'}")
    assert not out and code == made_code and "helper process" not in err
    headline = [line for line in err.splitlines() if not line.startswith("wrote ")]
    assert headline == [line for line in made_err.splitlines() if not line.startswith("wrote ")] and headline
    assert walked["count"] > 0  # (with --jobs 2, the first process's share)
    assert (tmp_path / "cells.csv").read_bytes().decode("utf-8") == whole


def test_classes_of_the_same_texts_share_a_recipe_and_a_guests_template(in_root, run_cli, tmp_path, monkeypatch):
    """A rule's text classes are finer than its texts: classes whose outcome and texts are the same share one
    recipe per writer (`StampShape.shared_recipe`) and a guest's template of it (`GuestStamps.template`). Shared
    or each class its own, every format's bytes are the same; shared, fewer recipes and templates are made."""
    from migcheck.report.common import StampShape
    from migcheck.report.csv_report import _CsvShape
    from migcheck.report.json_report import _Shape

    estate = _estate(tmp_path, 12, 120, 3)
    made = {"recipe": 0, "for_guest": 0}
    for shape in (_Shape, _CsvShape):
        for name in made:
            def counting(self, *args, _method=getattr(shape, name), _name=name):
                made[_name] += 1
                return _method(self, *args)
            monkeypatch.setattr(shape, name, counting)
    shared = _run(run_cli, tmp_path, ["matrix", estate], "shared")
    shared_made = dict(made)
    monkeypatch.setattr(StampShape, "shared_recipe", lambda self, r, message, fix: self.recipe(r, message, fix))
    made.update(recipe=0, for_guest=0)
    own = _run(run_cli, tmp_path, ["matrix", estate], "own")
    assert shared == own
    assert 0 < shared_made["recipe"] < made["recipe"] / 2
    assert 0 < shared_made["for_guest"] < made["for_guest"]


def test_cells_texts_past_the_label_bound_are_made_again_the_same(in_root, run_cli, tmp_path, monkeypatch):
    """`CellEnds` keeps its texts for at most `LABELS` labels, then starts again: with a bound of one label (every
    new label clears what was kept, in the middle of a guest's cells too), JSON's cells and csv-cells are the
    same bytes as with every label kept."""
    from migcheck.report.common import CellEnds

    estate = _estate(tmp_path, 10, 80, 6)
    kept = _run(run_cli, tmp_path, ["matrix", estate], "kept")
    cleared = []
    clear = dict.clear

    class Counting(dict):
        def clear(self):
            cleared.append(len(self))
            clear(self)

    real_of = CellEnds.of

    def of(self, cells, end):
        if type(self.by_label) is not Counting:
            self.by_label = Counting(self.by_label)
        return real_of(self, cells, end)
    monkeypatch.setattr(CellEnds, "of", of)
    monkeypatch.setattr(CellEnds, "LABELS", 1)
    bounded = _run(run_cli, tmp_path, ["matrix", estate], "bounded")
    assert cleared  # the bound was reached
    assert bounded == kept


def test_a_stamping_walk_runs_no_young_collections_and_a_waivers_walk_does(in_root, run_cli, tmp_path, monkeypatch):
    """`_feed` collects the young generation every 64 chunks for the cycles a waiver's json.dumps makes; a stamping
    walk makes none, and collecting would only scan what the walk keeps (its text classes): it runs without. A
    walk with a waiver in play still collects."""
    import gc as real_gc

    from migcheck.report import stream

    collected: list[int] = []

    class Counting:
        def __getattr__(self, name):
            return getattr(real_gc, name)

        def collect(self, generation=2):
            collected.append(generation)
            return real_gc.collect(generation)
    monkeypatch.setattr(stream, "gc", Counting())
    estate = _estate(tmp_path, 8, 200, 2)
    _run(run_cli, tmp_path, ["matrix", estate], "stamped")
    assert collected == []
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - rule: GUEST-RUNNING\n    guest: \"*\"\n    reason: moved offline in the window\n"
                       "    owner: unix-team@example.com\n    expires: 2099-12-31\n")
    _run(run_cli, tmp_path, ["matrix", estate, "--waivers", str(waivers)], "waived")
    assert collected and set(collected) == {0}


def test_a_guest_without_cells_keeps_its_guest_rules_results_and_other_rules_are_passed_over(in_root, run_cli,
                                                                                          tmp_path, monkeypatch):
    """The stamping walk looks only at the rules failing or erring in a guest's cells, and at every guest rule
    (`Matrix._plans_of`): on one VSP a guest has no cell (its own host is no target), yet its guest rules'
    results are written, as the path that makes every result writes them."""
    doc = generate(3, 24, seed=9)
    doc["hosts"] = doc["hosts"][:1]
    doc["guests"] = [g for g in doc["guests"] if g["host"] == doc["hosts"][0]["name"]]
    estate = tmp_path / "one-vsp.json"
    estate.write_text(json.dumps(doc))
    base = ["matrix", str(estate)]
    _, _, stamped = _run(run_cli, tmp_path, base, "stamped")
    results = json.loads(stamped["json"])["results"]
    assert results and all("target" not in r["subject"] for r in results)  # guest rules' only
    from migcheck.eval.engine import MatrixChunks
    from migcheck.eval.matrix import Matrix

    looked = []
    plans_of = Matrix._plans_of
    monkeypatch.setattr(Matrix, "_plans_of",
                        lambda self, bits: looked.append((plans_of(self, bits), len(self.plans))) or looked[-1][0])
    _run(run_cli, tmp_path, ["matrix", "fixtures/mixed-site.yaml"], "mixed")
    assert looked and all(len(found) < every for found, every in looked)  # rules without a failing cell passed over
    monkeypatch.setattr(MatrixChunks, "can_stamp", lambda self: False)
    assert _run(run_cli, tmp_path, base, "made")[2] == stamped
