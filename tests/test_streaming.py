"""Reports that stream: `matrix` writes every output guest by guest, in one pass.

The streamed bytes must equal the whole-report renderers' on the same run (small and
large matrices: SARIF summarised, HTML and Markdown per guest, the table grouped), the
engine's chunks must join into the sorted results, JSON Lines must carry every result,
and progress must never reach a file or a pipe.
"""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

from bench.generate import generate

from .conftest import FIXTURES, ROOT, assert_valid_result_line
from .conftest import whole_report as _whole_report

FORMATS = ["table", "json", "jsonl", "csv", "csv-cells", "markdown", "html", "sarif", "junit", "github", "gitlab"]


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")


def _streamed_equals_whole(run_cli, tmp_path, base: list[str]) -> dict[str, str]:
    outputs = {fmt: tmp_path / f"out.{fmt}" for fmt in FORMATS}
    argv = base + [a for fmt, path in outputs.items() for a in ("--format", f"{fmt}:{path}")]
    code, out, err = run_cli(*argv)
    assert code in (0, 1, 3) and not out  # (stderr: the verdict line and the files written)
    from migcheck.report import render

    report = _whole_report(base)
    texts = {}
    for fmt, path in outputs.items():
        texts[fmt] = path.read_bytes().decode("utf-8")
        assert texts[fmt] == render(report, fmt), f"streamed {fmt} differs from the whole report's"
    return texts


def test_streamed_outputs_equal_whole_reports_on_the_fixture(in_root, run_cli, tmp_path):
    texts = _streamed_equals_whole(run_cli, tmp_path, ["matrix", "fixtures/mixed-site.yaml", "--waivers",
                                                       "fixtures/waivers.yaml", "--warn-expiring", "30"])
    golden = ROOT / "tests" / "golden"
    assert texts["json"] == (golden / "matrix.json").read_text()  # streamed in one pass: still the golden bytes
    assert texts["junit"] == (golden / "matrix.xml").read_text()


def test_streamed_outputs_equal_whole_reports_with_a_baseline(in_root, run_cli, tmp_path):
    earlier = tmp_path / "earlier.json"
    run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--format", f"json:{earlier}")
    texts = _streamed_equals_whole(run_cli, tmp_path, ["matrix", "fixtures/mixed-site.yaml", "--baseline",
                                                       str(earlier)])
    doc = json.loads(texts["json"])
    assert doc["baseline"]["unchanged"] > 0 and doc["baseline"]["new"] > 0


def test_streamed_outputs_equal_whole_reports_on_a_large_matrix(in_root, run_cli, tmp_path):
    """50 VSPs x 500 guests: SARIF folds (over 5,000 findings), HTML and Markdown go per guest, the
    table groups its findings by rule and guest and caps them."""
    snapshot = tmp_path / "estate.json"
    snapshot.write_text(json.dumps(generate(50, 500, seed=3)))
    texts = _streamed_equals_whole(run_cli, tmp_path, ["matrix", str(snapshot), "--limit", "40"])
    sarif = json.loads(texts["sarif"])["runs"][0]
    assert any("folded per rule and" in n["message"]["text"]
               for n in sarif["invocations"][0]["toolExecutionNotifications"])
    assert len(sarif["results"]) <= 5_000
    findings = len(texts["jsonl"].splitlines())
    assert findings > 25_000
    table = texts["table"].splitlines()
    assert f"{findings:,} findings, more than --limit 40: by rule and guest, with the first message of each" in table
    assert any(line.startswith("and ") and line.endswith("more guests: every one is in the HTML, Markdown and CSV "
                                                         "(csv-cells) reports") for line in table)
    assert any(line.startswith("and ") and "more rule and guest pairs" in line for line in table)
    assert len(table) < 400  # 40 guests, 40 groups (messages wrapped), their fixes: never a line per finding
    assert "too many to draw as a grid" in texts["html"]


def test_engine_chunks_join_into_the_sorted_results(tmp_path):
    from migcheck.eval.engine import Engine
    from migcheck.core.results import sort_results
    from migcheck.packs.ruleset import load_rules
    from migcheck.estate.snapshot import load_snapshot

    for path in (FIXTURES / "mixed-site.yaml", FIXTURES / "estate-broken.yaml"):
        snapshot = load_snapshot(str(path))
        engine = Engine(load_rules([]), snapshot)
        cells, results = engine.matrix("offline")
        chunks = list(Engine(load_rules([]), snapshot).iter_matrix("offline"))
        joined = [r for _, rs in chunks for r in rs]
        key = lambda r: (r.rule, r.subject, r.item, r.message)  # noqa: E731
        assert [key(r) for r in joined] == [key(r) for r in sort_results(results)]
        streamed_cells = [c for cs, _ in chunks for c in cs]
        assert sorted(streamed_cells, key=lambda c: (c.guest, c.target, c.source)) == \
            sorted(cells, key=lambda c: (c.guest, c.target, c.source))
        names = [{c.guest for c in cs} | {r.subject["guest"] for r in rs} for cs, rs in chunks]
        assert all(len(n) == 1 for n in names)  # a chunk per guest name
        order = [n.pop() for n in names]
        assert order == sorted(order) and len(order) == len(set(order))
    # estate-broken names `erp01` twice: both guests come in one chunk, their cells both there
    erp = [cs for cs, _ in chunks if cs and cs[0].guest == "erp01"][0]
    assert len({c.source for c in erp}) == 2


def test_jsonl_has_every_result_one_per_line(in_root, run_cli):
    code, out, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--format", "jsonl")
    lines = out.splitlines()
    _, whole, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--format", "json")
    results = json.loads(whole)["results"]
    assert code == 1 and [json.loads(line) for line in lines] == results and len(lines) > 20
    for line in lines:
        assert line.startswith('{"rule":') and line.endswith("}")
        assert_valid_result_line(line)
    with pytest.raises(AssertionError):  # the check can fail: a line without its status is not a result
        assert_valid_result_line(lines[0].replace('"status":"fail",', ""))
    code, out, _ = run_cli("check", "fixtures/mixed-site.yaml", "sapapp01", "vsp-e2", "--format", "jsonl")
    assert {json.loads(line)["subject"].get("target") for line in out.splitlines()} == {"vsp-e2", None}


def test_table_limit_groups_findings_by_rule_and_guest(in_root, run_cli):
    _, whole, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--format", "json")
    findings = [r for r in json.loads(whole)["results"] if r["status"] in ("fail", "error")]
    pairs: dict = {}
    for r in findings:
        pairs.setdefault((r["rule"], r["subject"].get("guest", "")), []).append(r)
    code, out, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--limit", "5")
    assert code == 1
    assert f"{len(findings)} findings, more than --limit 5: by rule and guest, with the first message of each" in out
    assert (f"and {len(pairs) - 5} more rule and guest pairs: every finding is in the JSON, JSON Lines and CSV "
            "reports") in out
    rows = [line.split()[:6] for line in out.splitlines() if line.startswith(("FAIL", "WARN", "INFO", "ERROR"))]
    wanted = [[rule, guest, str(len(rs)), "on" if "target" in rs[0]["subject"] else rs[0]["message"].split()[0]]
              for (rule, guest), rs in sorted(pairs.items())[:5]]  # a guest finding: no targets
    assert [row[2:6] for row in rows] == wanted
    _, default, _ = run_cli("matrix", "fixtures/mixed-site.yaml")
    assert "more than --limit" not in default  # under the default limit: listed one by one
    code, _, err = run_cli("matrix", "fixtures/mixed-site.yaml", "--limit", "0")
    assert code == 2 and "`0` is not a positive whole number" in err


def test_several_outputs_take_one_pass(in_root, run_cli, tmp_path, monkeypatch):
    from migcheck.eval.engine import Engine

    calls = []
    original = Engine.iter_matrix

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)
    monkeypatch.setattr(Engine, "iter_matrix", counted)
    paths = [tmp_path / f"m.{ext}" for ext in ("json", "html", "csv")]
    run_cli("matrix", "fixtures/mixed-site.yaml", *[a for p in paths for a in ("--format", f"{p.suffix[1:]}:{p}")])
    assert len(calls) == 1
    for p in paths:
        alone = tmp_path / ("alone" + p.suffix)
        run_cli("matrix", "fixtures/mixed-site.yaml", "--format", f"{p.suffix[1:]}:{alone}")
        assert alone.read_bytes() == p.read_bytes()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty, quiet, shown", [(True, False, True), (True, True, False), (False, False, False)])
def test_progress_only_on_a_terminal_and_not_when_quiet(in_root, monkeypatch, tmp_path, tty, quiet, shown):
    from migcheck.cli import main
    from migcheck.report.stream import Progress

    monkeypatch.setattr(Progress, "DELAY", 0.0)  # as if the run took longer than a second
    err = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    out = tmp_path / "m.json"
    main(["matrix", "fixtures/mixed-site.yaml", "--format", f"json:{out}"] + (["--quiet"] if quiet else []))
    assert ("matrix" in err.getvalue()) is shown
    assert ("guests" in err.getvalue()) is shown
    assert json.loads(out.read_text())["command"] == "matrix"  # the file never holds progress


def test_progress_waits_a_second_before_showing(monkeypatch):
    from migcheck.report.stream import Progress

    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    progress = Progress(10, enabled=True)
    for _ in range(10):
        progress.advance()
    progress.close()
    assert err.getvalue() == ""  # a quick run shows nothing


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_fails_the_run_and_leaves_no_partial_report(in_root, run_cli, tmp_path):
    report = tmp_path / "m.json"
    code, out, err = run_cli("matrix", "fixtures/mixed-site.yaml", "--format", f"json:{report}",
                             "--format", "csv:/dev/full")
    assert code == 2 and "cannot write `/dev/full`: no space left on the device" in err
    assert list(tmp_path.iterdir()) == []  # the JSON written beside it was not renamed into place, nor left behind


def test_json_streams_to_standard_output_as_the_whole_report(in_root, run_cli, tmp_path):
    code, out, _ = run_cli("matrix", "fixtures/mixed-site.yaml", "--format", "json")
    assert code == 1 and len(json.loads(out)["cells"]) == 18
    report = tmp_path / "m.json"
    run_cli("matrix", "fixtures/mixed-site.yaml", "--format", f"json:{report}")
    assert report.read_text() == out  # the spool sits beside a file, in the temporary directory for stdout


# -- shares written by other processes (--jobs) -------------------------------------------------
@pytest.mark.parametrize("fixture", ["mixed-site.yaml", "estate-broken.yaml", "ivm4-small.yaml"])
def test_shares_written_by_other_processes_give_the_same_bytes(in_root, run_cli, tmp_path, fixture):
    """`--jobs N` (helpers forked for later shares of the guests): JSON, JSON Lines, both CSVs and
    JUnit, to files and to standard output, are byte for byte those of one process, and so are the exit code and
    the summary.
    estate-broken names a guest twice: a share never splits them."""
    outputs = {}
    for jobs in (1, 2, 3, 5):
        json_path, jsonl_path = tmp_path / f"m{jobs}.json", tmp_path / f"m{jobs}.jsonl"
        csv_path, cells_path = tmp_path / f"m{jobs}.csv", tmp_path / f"c{jobs}.csv"
        junit_path = tmp_path / f"m{jobs}.xml"
        code, _, err = run_cli("matrix", f"fixtures/{fixture}", "--jobs", jobs, "--format", f"json:{json_path}",
                               "--format", f"jsonl:{jsonl_path}", "--format", f"csv:{csv_path}",
                               "--format", f"csv-cells:{cells_path}", "--format", f"junit:{junit_path}")
        stdout = run_cli("matrix", f"fixtures/{fixture}", "--jobs", jobs, "--format", "json")
        err = re.sub(r"([mc])[0-9]\.", r"\1N.", err)  # the files written, named for their run
        outputs[jobs] = (code, err, _without_time(json_path.read_text()), jsonl_path.read_text(),
                         csv_path.read_bytes(), cells_path.read_bytes(),
                         re.sub(r'timestamp="[^"]*"', "", junit_path.read_text()),
                         stdout[0], _without_time(stdout[1]))
    assert all(found == outputs[1] for found in outputs.values())
    assert json.loads((tmp_path / "m1.json").read_text())["results"]  # something to share


def _without_time(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if '"generated"' not in line)


def test_the_first_guests_are_taken_apart_never_between_two_of_one_name():
    """`MatrixChunks.head(n)`: the first n guests and the rest, every guest once, in order; one more when the
    n-th guest's name goes on (estate-broken names a guest twice); bounded by the guests there are."""
    from migcheck.eval.engine import MatrixChunks

    guests = [{"name": f"g{i // 2:03d}"} for i in range(21)]  # each name twice (but the last)
    for n, expected in ((0, 0), (1, 2), (2, 2), (3, 4), (20, 20), (21, 21), (99, 21), (-3, 0)):
        first, rest = MatrixChunks(None, guests).head(n)
        assert len(first.guests) == expected and first.guests + rest.guests == guests, n


def test_shares_cover_the_guests_in_order_and_the_first_is_lighter_by_what_it_appends():
    """`MatrixChunks.split(parts, appended)`: every guest once, in order, two guests of one name in one share;
    the first process, which appends the others' shares, takes fewer guests: with appended a, the first
    share is (1 - a (parts - 1)) of each other share, and never less than half of one."""
    from migcheck.eval.engine import MatrixChunks

    guests = [{"name": f"g{i // 2:05d}"} for i in range(10_001)]  # each name twice (but the last)
    for parts in (2, 3, 5):
        for appended in (0.0, 0.12, 0.2):
            shares = [c.guests for c in MatrixChunks(None, guests).split(parts, appended)]
            assert len(shares) == parts and [g for share in shares for g in share] == guests
            assert all(a[-1]["name"] != b[0]["name"] for a, b in zip(shares, shares[1:]))
            sizes = [len(share) for share in shares]
            expected = (1 - min(appended, 0.5 / (parts - 1)) * (parts - 1)) * sizes[1]  # at least half
            assert abs(sizes[0] - expected) <= 20, (parts, appended, sizes)
            assert max(sizes[1:]) - min(sizes[1:]) <= 20
    # many processes: as many shares as asked, the first never below half another's
    for parts in (9, 10, 16, 32, 64):
        sizes = [len(c.guests) for c in MatrixChunks(None, guests).split(parts, 0.12)]
        assert len(sizes) == parts and sum(sizes) == len(guests)
        assert sizes[0] >= min(sizes[1:]) // 2 - 2, (parts, sizes)


def test_a_share_whose_process_fails_is_written_by_the_first(in_root, run_cli, tmp_path, monkeypatch):
    from migcheck.report import json_report

    alone = tmp_path / "alone.json"
    run_cli("matrix", "fixtures/mixed-site.yaml", "--format", f"json:{alone}")

    def broken(self, spools):
        raise OSError("no space left on the device")
    monkeypatch.setattr(json_report.JsonWriter, "part", broken)  # in the helper too: it is forked from here
    shared = tmp_path / "shared.json"
    code, _, err = run_cli("matrix", "fixtures/mixed-site.yaml", "--jobs", "2", "--format", f"json:{shared}")
    notes = [line for line in err.splitlines() if line.startswith("migcheck:")]  # (then the headline)
    assert code == 1 and notes == ["migcheck: note: a helper process (--jobs) ended without its share (exit 1); "
                                   "the first process wrote it"]
    assert _without_time(shared.read_text()) == _without_time(alone.read_text())
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left beside the report


def test_with_helpers_the_first_process_makes_every_row_and_the_head_states_the_worst(in_root, run_cli, tmp_path,
                                                                                       monkeypatch):
    """The head of the JSON report states the verdict of every cell: with helpers, the first process makes every
    guest's row of cells before the guests are shared out (`write_matrix`: the helpers inherit the rows), which
    tells the verdict. Against vsp-e1 alone, the first share's guests (apptest03, build04) are ready and vpdb02,
    in the last share, is blocked: a head that read the first share alone says `ready`."""
    import os

    from migcheck.eval.engine import MatrixChunks

    first = os.getpid()
    told = []
    real = MatrixChunks.verdict

    def verdict(self):
        found = real(self)
        told.append((os.getpid() == first, [g["name"] for g in self.guests], found))
        return found
    monkeypatch.setattr(MatrixChunks, "verdict", verdict)
    alone, shared = tmp_path / "alone.json", tmp_path / "shared.json"
    args = ("matrix", "fixtures/mixed-site.yaml", "--target", "vsp-e1")
    code1, _, _ = run_cli(*args, "--jobs", "1", "--format", f"json:{alone}")
    every = told[0][1]
    told.clear()
    code3, _, _ = run_cli(*args, "--jobs", "3", "--format", f"json:{shared}")
    assert code1 == code3 == 1 and json.loads(shared.read_text())["verdict"] == "blocked"
    assert _without_time(shared.read_text()) == _without_time(alone.read_text())
    assert told == [(True, every, "blocked")] and "vpdb02" in every  # once, of every guest, in the first process


def test_the_guests_written_before_the_helpers_start_have_their_verdict_in_the_head(in_root, run_cli, tmp_path):
    """The first process writes its first guests before the helpers start (`stream.WARM`), after the head, which
    states the verdict of every guest's cells, made before (`write_matrix`): theirs counts. vpdb02, renamed so that it
    comes first, is the only guest blocked against vsp-e1: a head without its verdict says `ready` (and the
    report fails at its end, the head no longer its own)."""
    snap = tmp_path / "first-blocked.yaml"
    snap.write_text((FIXTURES / "mixed-site.yaml").read_text().replace("vpdb02", "aa-vpdb02"))
    alone, shared = tmp_path / "alone.json", tmp_path / "shared.json"
    args = ("matrix", str(snap), "--target", "vsp-e1")
    code1, _, _ = run_cli(*args, "--jobs", "1", "--format", f"json:{alone}")
    code3, _, err = run_cli(*args, "--jobs", "3", "--format", f"json:{shared}")
    report = json.loads(shared.read_text())
    assert code1 == code3 == 1, err
    assert report["verdict"] == "blocked" and [c["verdict"] for c in report["cells"]] == ["blocked", "ready", "ready"]
    assert report["cells"][0]["guest"] == "aa-vpdb02"
    assert _without_time(shared.read_text()) == _without_time(alone.read_text())


def test_a_later_walk_finds_the_text_classes_and_outcomes_an_earlier_walk_made(tmp_path):
    """Helpers are forked once the first guests are written (`stream.WARM`): they inherit the rules' outcomes
    (`Matrix` rows) and the text classes (`Matrix.stamp_walk` keeps its `texts.Texts` between walks) that
    those guests filled, and make only the ones they meet first. Walked in two parts, the matrix makes as many
    classes and runs its rules as often as walked whole; the second part alone, walked first, makes more."""
    from migcheck.eval.engine import Engine
    from migcheck.estate.snapshot import load_snapshot
    from migcheck.packs.ruleset import load_rules

    path = tmp_path / "estate.json"
    path.write_text(json.dumps(generate(6, 60, 3)))
    snapshot = load_snapshot(str(path))
    rules = load_rules([])

    def walked(*parts) -> list[tuple[int, int]]:
        chunks = Engine(rules, snapshot).iter_matrix("offline")
        made = []
        for part in parts:
            part = chunks.head(part)[0] if part > 0 else chunks.head(-part)[1]
            for _ in part.stamped():
                pass
            made.append((chunks.matrix._stamp_texts.size, chunks.matrix.evaluations))
        return made

    whole = walked(60)[-1]
    first, then = walked(10, -10)
    assert 0 < first[0] < then[0] == whole[0] and 0 < first[1] < then[1] == whole[1]
    alone = walked(-10)[-1]  # the last 50 guests without the first 10 walked before
    assert alone[0] > then[0] - first[0] and alone[1] > then[1] - first[1]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_helper_walks_its_share_from_the_rows_it_inherits(in_root, run_cli, tmp_path, monkeypatch, fmt):
    """A helper makes no row of cells again: every guest's was made before the fork (`write_matrix`), and a
    class of guests met in two shares was evaluated in both. A helper that asked for a verdict, or made a
    guest's row, would end (exit 7) and its share be written by the first process, with a note."""
    import os

    from migcheck.eval.engine import MatrixChunks
    from migcheck.eval.matrix import Matrix

    first = os.getpid()
    real_verdict, real_row = MatrixChunks.verdict, Matrix._guest_row

    def verdict(self):
        if os.getpid() != first:
            os._exit(7)
        return real_verdict(self)

    def guest_row(self, guest, host):
        if os.getpid() != first:
            os._exit(7)
        return real_row(self, guest, host)
    monkeypatch.setattr(MatrixChunks, "verdict", verdict)
    monkeypatch.setattr(Matrix, "_guest_row", guest_row)
    alone, shared = tmp_path / f"alone.{fmt}", tmp_path / f"shared.{fmt}"
    args = ("matrix", "fixtures/mixed-site.yaml", "--target", "vsp-e1")
    run_cli(*args, "--format", f"{fmt}:{alone}")
    code, _, err = run_cli(*args, "--jobs", "3", "--format", f"{fmt}:{shared}")
    assert code == 1 and "ended without its share" not in err
    assert _without_time(shared.read_text()) == _without_time(alone.read_text())


def _slow_helper(monkeypatch, fail_at_end: bool = False):
    """Helpers (not the first process) that write each guest slowly, so that the first process waits for them
    and takes their shares as they come (`Helper.join`, `absorb_early`, from the first byte: `EARLY` = 1);
    `fail_at_end`: a helper that fails once it has written its whole share. Returns the early takes seen."""
    import os
    import time

    from migcheck.report import csv_report, json_report, stream

    first = os.getpid()
    monkeypatch.setattr(stream, "EARLY", 1)
    taken = []
    for cls in (json_report.JsonWriter, json_report.JsonLinesWriter, csv_report.CsvWriter):
        real_feed, real_early = cls.feed_stamps, cls.absorb_early

        def feed(self, *a, _real=real_feed):
            if os.getpid() != first:
                time.sleep(0.02)
            return _real(self, *a)

        def early(self, spools, start, _real=real_early, _name=cls.__name__):
            end = _real(self, spools, start)
            taken.append((_name, start, end))
            return end
        monkeypatch.setattr(cls, "feed_stamps", feed)
        monkeypatch.setattr(cls, "absorb_early", early)
    if fail_at_end:
        real_state = json_report.JsonWriter.part_state

        def state(self):
            real_state(self)
            raise OSError("the helper fails after its last byte")
        monkeypatch.setattr(json_report.JsonWriter, "part_state", state)
    return taken


@pytest.mark.parametrize("fail_at_end", [False, True])
def test_a_share_taken_as_its_helper_writes_it_gives_the_same_bytes(in_root, run_cli, tmp_path, monkeypatch,
                                                                   fail_at_end):
    """The first process appends a helper's share while the helper still writes it (`Helper.join`): the bytes
    are those of one process. A helper that fails after its share was partly taken: the report file is cut
    back where the share began, and the first process writes the share itself."""
    snap = tmp_path / "estate.json"
    snap.write_text(json.dumps(generate(12, 60, 5)))
    formats = lambda tag: ["--format", f"json:{tmp_path / f'{tag}.json'}", "--format",  # noqa: E731
                           f"jsonl:{tmp_path / f'{tag}.jsonl'}", "--format", f"csv:{tmp_path / f'{tag}.csv'}"]
    code1, _, _ = run_cli("matrix", str(snap), "--jobs", "1", *formats("one"))
    taken = _slow_helper(monkeypatch, fail_at_end)
    code2, _, err = run_cli("matrix", str(snap), "--jobs", "2", *formats("two"))
    assert code1 == code2
    assert ("ended without its share" in err) == fail_at_end
    assert _without_time((tmp_path / "two.json").read_text()) == _without_time((tmp_path / "one.json").read_text())
    for ext in ("jsonl", "csv"):
        assert (tmp_path / f"two.{ext}").read_bytes() == (tmp_path / f"one.{ext}").read_bytes()
    # each format took bytes before the helper ended, in pieces that follow each other
    for name in ("JsonWriter", "JsonLinesWriter", "CsvWriter"):
        mine = [(start, end) for n, start, end in taken if n == name and end > start]
        assert len(mine) >= 2 and mine[0][0] == 0, (name, mine)
        assert all(b[0] == a[1] for a, b in zip(mine, mine[1:]))


def test_a_later_share_written_by_the_first_process_keeps_its_place(in_root, run_cli, tmp_path, monkeypatch):
    """`--jobs 3`: the second helper (the last share) fails and the first process writes that share itself,
    after the first helper's share was appended: the JSON report's results and cells are in the order of one
    process (the first process's cells, then the first helper's, then the share it wrote)."""
    import os

    from migcheck.eval.engine import MatrixChunks
    from migcheck.report import stream

    snap = tmp_path / "estate.json"
    snap.write_text(json.dumps(generate(6, 40, 3)))
    alone, shared = tmp_path / "alone.json", tmp_path / "shared.json"
    run_cli("matrix", str(snap), "--format", f"json:{alone}")
    first = os.getpid()
    real = stream._feed

    def feed(chunks, *a, **k):
        if os.getpid() != first and chunks.guests[-1]["name"] == last:
            os._exit(5)  # the last share's helper
        return real(chunks, *a, **k)
    monkeypatch.setattr(stream, "_feed", feed)
    guests = sorted(g["name"] for g in json.loads(snap.read_text())["guests"])
    last = guests[-1]
    shares = MatrixChunks(None, [{"name": g} for g in guests]).split(3, stream.APPENDED)
    assert len(shares) == 3
    code, _, err = run_cli("matrix", str(snap), "--jobs", "3", "--format", f"json:{shared}")
    assert code in (0, 1) and err.count("ended without its share (exit 5)") == 1
    found, expected = json.loads(shared.read_text()), json.loads(alone.read_text())
    assert [(c["guest"], c["target"]) for c in found["cells"]] == [(c["guest"], c["target"]) for c in expected["cells"]]
    assert _without_time(shared.read_text()) == _without_time(alone.read_text())


def test_a_share_whose_cells_cannot_be_kept_open_is_copied_at_once_in_its_place(in_root, run_cli, tmp_path,
                                                                                monkeypatch):
    """`--jobs 3` with no file descriptor left to keep a helper's cell spool open (`os.dup` fails): each
    share's cells are copied at once, between the first process's kept cells and any it writes later; the
    report is the one process's, byte for byte but the time."""
    from migcheck.report import json_report

    snap = tmp_path / "estate.json"
    snap.write_text(json.dumps(generate(6, 40, 3)))
    alone, shared = tmp_path / "alone.json", tmp_path / "shared.json"
    run_cli("matrix", str(snap), "--format", f"json:{alone}")
    refused = []

    def dup(fd):
        refused.append(fd)
        raise OSError(24, "Too many open files")
    monkeypatch.setattr(json_report.os, "dup", dup)
    code, _, err = run_cli("matrix", str(snap), "--jobs", "3", "--format", f"json:{shared}")
    assert code in (0, 1) and len(refused) == 2, err  # both helpers' cells
    assert _without_time(shared.read_text()) == _without_time(alone.read_text())


def test_json_cells_are_kept_for_the_end_alone_and_spooled_as_they_come_beside_other_processes(
        in_root, run_cli, tmp_path, monkeypatch):
    """One process keeps its guests' cells as their rows and writes them at the end (`_KeptCells`); with other
    processes writing shares, the first spools its cells as they come (`JsonWriter.sharing`): the end is
    what the run waits for. The same bytes either way."""
    from migcheck.report import json_report

    snap = tmp_path / "estate.json"
    snap.write_text(json.dumps(generate(6, 40, 3)))
    written = []
    real = json_report._KeptCells.write_to
    monkeypatch.setattr(json_report._KeptCells, "write_to", lambda self, out: (written.append(len(self.guests)),
                                                                              real(self, out)))
    alone, shared = tmp_path / "alone.json", tmp_path / "shared.json"
    run_cli("matrix", str(snap), "--jobs", "1", "--format", f"json:{alone}")
    assert written == [40]  # every guest's cells, kept
    run_cli("matrix", str(snap), "--jobs", "2", "--format", f"json:{shared}")
    assert written == [40]  # none kept by the first process beside a helper
    assert _without_time(shared.read_text()) == _without_time(alone.read_text())


def test_shares_are_not_split_where_a_process_of_its_own_could_lose_counts(in_root, run_cli, tmp_path,
                                                                           monkeypatch):
    """Waivers count their uses and a baseline marks results as they are made, in one process; table,
    HTML and the other documents for people digest the whole run: those runs stay in one process."""
    from migcheck.report import stream

    forks = []
    monkeypatch.setattr(stream.Helper, "__init__", lambda self, *a: forks.append(a) or (_ for _ in ()).throw(
        AssertionError("no helper expected")))
    first = tmp_path / "first.json"
    run_cli("matrix", "fixtures/mixed-site.yaml", "--format", f"json:{first}")
    for extra in (["--waivers", "fixtures/waivers.yaml"], ["--baseline", str(first)], ["--format", "table"]):
        code, _, err = run_cli("matrix", "fixtures/mixed-site.yaml", "--jobs", "2", "--format",
                               f"json:{tmp_path / 'x.json'}", *extra)
        assert code in (0, 1) and "Traceback" not in err
    assert forks == []


def test_jobs_by_default_two_for_a_large_matrix_on_two_cores_unless_a_report_is_json(monkeypatch):
    from migcheck.app import pipeline

    class Chunks:
        def __init__(self, guests, targets):
            self.guests = [{}] * guests
            self.matrix = type("M", (), {"targets": [{}] * targets})()

    def jobs(guests, targets, cores, asked=None, formats=("csv",)):
        monkeypatch.setattr(pipeline.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
        run = pipeline.Run(pipeline.Request("matrix", jobs=asked))
        run.evaluation = pipeline.Evaluation([], chunks=Chunks(guests, targets))
        run.targets = [(fmt, f"out.{fmt}") for fmt in formats]
        return pipeline.jobs(run)
    assert jobs(10_000, 200, 2) == 2 and jobs(10_000, 200, 1) == 1 and jobs(2_000, 50, 8) == 1
    assert jobs(10_000, 200, 2, formats=("json",)) == 1 and jobs(10_000, 200, 2, formats=("jsonl", "json")) == 1
    assert jobs(2_000, 50, 8, asked=3) == 3 and jobs(10_000, 200, 2, asked=2, formats=("json",)) == 2


def test_jobs_takes_one_to_sixty_four(in_root, run_cli):
    for bad in ("0", "65", "two"):
        code, _, err = run_cli("matrix", "fixtures/mixed-site.yaml", "--jobs", bad)
        assert code == 2 and "--jobs" in err and "Traceback" not in err


def test_a_share_whose_process_cannot_start_is_written_by_the_first(in_root, run_cli, tmp_path, monkeypatch):
    import os

    alone = tmp_path / "alone.json"
    run_cli("matrix", "fixtures/mixed-site.yaml", "--format", f"json:{alone}")

    def no_fork():
        raise OSError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(os, "fork", no_fork)
    shared = tmp_path / "shared.json"
    code, _, err = run_cli("matrix", "fixtures/mixed-site.yaml", "--jobs", "3", "--format", f"json:{shared}")
    assert code == 1 and not [line for line in err.splitlines() if line.startswith("migcheck:")]  # no note
    assert _without_time(shared.read_text()) == _without_time(alone.read_text())


@pytest.mark.parametrize("helper_fails", [False, True])
def test_progress_counts_every_guest_once_whoever_writes_it(in_root, monkeypatch, tmp_path, helper_fails):
    """With helpers (`--jobs`), the bar counts the guests they report as they go; all in all each
    guest once, also when a helper fails and its share is written again by the first process."""
    from migcheck.cli import main
    from migcheck.report import json_report
    from migcheck.report.stream import Progress
    from migcheck.estate.snapshot import load_snapshot

    advanced = []
    original = Progress.advance

    def counted(self, n=1):
        advanced.append(n)
        original(self, n)
    monkeypatch.setattr(Progress, "advance", counted)
    monkeypatch.setattr(Progress, "DELAY", 0.0)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    if helper_fails:
        monkeypatch.setattr(json_report.JsonWriter, "part", lambda self, spools: 1 / 0)
    main(["matrix", "fixtures/estate-broken.yaml", "--jobs", "3", "--format", f"json:{tmp_path / 'm.json'}"])
    guests = {g["name"] for g in load_snapshot("fixtures/estate-broken.yaml").guests}
    assert sum(advanced) == len(guests) and len(advanced) > 1


def test_a_head_written_first_is_checked_against_the_verdict_at_the_end(in_root, monkeypatch):
    """JSON states the verdict before its results (asked of the shared rows first): if the cells
    written later gave another one, the run says so rather than leave a report that contradicts itself."""
    from migcheck.eval.engine import MatrixChunks
    from migcheck.app.pipeline import Request, run
    from migcheck.report.json_report import JsonWriter
    from migcheck.report.stream import write_matrix

    state = run(Request(command="matrix", snapshot="fixtures/mixed-site.yaml", formats=["json"], mode="offline"))
    assert state.evaluation.chunks.verdict() == "blocked"
    monkeypatch.setattr(MatrixChunks, "verdict", lambda self: "ready")
    with pytest.raises(RuntimeError, match="head of the JSON report changed"):
        write_matrix(state.report, state.evaluation.chunks, [JsonWriter(state.report, io.StringIO())])


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1:backslashreplace"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_shares_written_to_a_stream_of_another_encoding_are_encoded_by_it(tmp_path, encoding, fmt):
    """A share another process wrote is UTF-8 in its spool: appended to an output that writes another encoding
    (standard output under `PYTHONIOENCODING`), it is text encoded by that stream, as the first process's own
    results are, not its UTF-8 bytes (`_Named.write_spool`): the same bytes as one process."""
    import os
    import subprocess

    doc = generate(6, 40, 3)
    doc["guests"][-1]["name"] = "gäst-ü"  # in a helper's share: a character latin-1 writes in one byte
    snap = tmp_path / "estate.json"
    snap.write_text(json.dumps(doc))
    env = dict(os.environ, PYTHONIOENCODING=encoding, SOURCE_DATE_EPOCH="1764000000")
    out = {}
    for jobs in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "migcheck", "matrix", str(snap), "-q", "--fail-on", "never",
                               "--jobs", jobs, "--format", fmt], cwd=ROOT, env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        out[jobs] = done.stdout
    codec = encoding.split(":")[0]
    assert "gäst-ü".encode("utf-16-le" if codec == "utf-16" else codec) in out["2"]  # (the stream's BOM first only)
    assert out["2"] == out["1"]
