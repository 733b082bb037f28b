"""The documents for people (table, Markdown, HTML) of a matrix, from its shared rows.

When they are a run's only outputs and no waiver or baseline is in play, `write_matrix` takes
their digest and the run's counts from the matrix's shared rows (`report.digest.digest_from_rows`)
and makes results only for the findings they list. Their bytes, the counts and the exit code must
be those of the path that makes every result (`from_rows` off), on estates with several results
per pair (rules with `for`), rule errors (parts not captured), duplicate guest names, a grid drawn
and one too wide to draw, every cap; and the results made must be bounded by what is listed, not
by the number of findings.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bench.generate import generate

from .conftest import FIXTURES, ROOT

DOCUMENTS = ("table", "markdown", "html")


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def _estate(tmp_path, hosts: int, guests: int, seed: int, third: bool = False, dups: bool = False) -> str:
    data = generate(hosts, guests, seed, third=third)
    if dups:  # one name on two VSPs, and one name twice on one VSP (INV-DUPLICATE-GUEST)
        g = data["guests"]
        g[10]["name"] = g[11]["name"]
        g[20]["name"], g[20]["host"] = g[21]["name"], g[21]["host"]
    path = tmp_path / f"estate-{hosts}-{guests}-{seed}-{third}-{dups}.json"
    path.write_text(json.dumps(data))
    return str(path)


def _run(run_cli, monkeypatch, tmp_path, argv: list[str], fast: bool, tag: str, extra: tuple = ("--limit", "7")):
    """The documents of `matrix ARGV` (files, and a second table with `extra`), the run's tally, its exit
    code, and the digest taken from the shared rows (None: the run made every result)."""
    from migcheck.report import digest as digest_module
    from migcheck.report import stream

    taken, tallies = [], []
    with monkeypatch.context() as patched:
        if fast:
            made = stream.digest_from_rows
            patched.setattr(stream, "digest_from_rows", lambda *a, **k: taken.append(made(*a, **k)) or taken[-1])
        else:
            patched.setattr(stream, "from_rows", lambda *args: False)
        init = digest_module.Tally.__init__

        def kept(self, *args, **kwargs):
            init(self, *args, **kwargs)
            tallies.append(self)
        patched.setattr(digest_module.Tally, "__init__", kept)
        paths = {fmt: tmp_path / f"{tag}.{fmt}" for fmt in DOCUMENTS}
        code, out, _ = run_cli("matrix", *argv, *(a for fmt, p in paths.items() for a in ("--format", f"{fmt}:{p}")))
        texts = {fmt: p.read_bytes() for fmt, p in paths.items()}
        tally = tallies[-1]
        counts = (tally.summary(), tally.verdict(), tally.exit_code())
        again, out, _ = run_cli("matrix", *argv, *extra)  # the table on standard output, another --limit
        texts["table " + " ".join(extra)] = out.encode()
    return texts, counts, (code, again), taken[0] if taken else None


def _same(run_cli, monkeypatch, tmp_path, argv: list[str], rows: bool = True, **kwargs):
    fast = _run(run_cli, monkeypatch, tmp_path, argv, True, "fast", **kwargs)
    full = _run(run_cli, monkeypatch, tmp_path, argv, False, "full", **kwargs)
    for name in fast[0]:
        assert fast[0][name] == full[0][name], f"{name} from the shared rows differs from the full path's"
    assert fast[1] == full[1]  # summary (statuses, by severity, waived, total, cells), verdict, exit code
    assert fast[2] == full[2]
    assert (fast[3] is not None) == rows  # the shared rows were used exactly when they may be
    return fast


@pytest.mark.parametrize("shape, argv", [
    ((8, 160, 5, True, False), []),  # rule errors (parts not captured), several results per pair
    ((8, 160, 5, True, False), ["--mode", "online", "--fail-on", "warning"]),
    ((8, 160, 5, True, False), ["--guest", "db*", "--target", "vsp000[1-5]"]),
    ((6, 90, 3, True, True), []),  # duplicate guest names: their chunks made from their results
    ((45, 120, 9, False, False), []),  # wider than the grid: a line per guest and per target
    ((3, 4, 2, False, False), []),  # fewer findings than --limit: each listed
])
def test_documents_from_rows_equal_the_full_path(in_root, run_cli, monkeypatch, tmp_path, shape, argv):
    path = _estate(tmp_path, *shape)
    _same(run_cli, monkeypatch, tmp_path, [path, *argv])
    _same(run_cli, monkeypatch, tmp_path, [path, *argv], extra=("--limit", "0"))


def test_fixtures_from_rows_equal_the_full_path(in_root, run_cli, monkeypatch, tmp_path):
    _same(run_cli, monkeypatch, tmp_path, [str(FIXTURES / "mixed-site.yaml")])
    _same(run_cli, monkeypatch, tmp_path, [str(FIXTURES / "mixed-site.yaml"), "--mode", "online"])
    # two VSPs of one name: the targets are not in strict name order, every result is made
    _same(run_cli, monkeypatch, tmp_path, [str(FIXTURES / "estate-broken.yaml")], rows=False)


def test_waivers_and_baselines_make_every_result(in_root, run_cli, monkeypatch, tmp_path):
    """A waiver decides cells pair by pair from results, a baseline marks each result: every result made."""
    fixture = str(FIXTURES / "mixed-site.yaml")
    _same(run_cli, monkeypatch, tmp_path, [fixture, "--waivers", str(FIXTURES / "waivers.yaml")], rows=False)
    earlier = tmp_path / "earlier.json"
    run_cli("check", fixture, "sapapp01", "vsp-e2", "--format", f"json:{earlier}")
    _same(run_cli, monkeypatch, tmp_path, [fixture, "--baseline", str(earlier)], rows=False)


def _counted_constructions(monkeypatch) -> Counter:
    """(guest, rule) -> results made, counted as they are constructed (`Result` and `LazyResult`)."""
    from migcheck.core import results

    made: Counter = Counter()
    for cls, rule_at, subject_at in ((results.Result, 0, 3), (results.LazyResult, 2, 5)):
        init = cls.__init__

        def counted(self, *args, _init=init, _rule=rule_at, _subject=subject_at, **kwargs):
            _init(self, *args, **kwargs)
            made[(args[_subject].get("guest"), args[_rule])] += 1
        monkeypatch.setattr(cls, "__init__", counted)
    return made


def test_results_made_only_for_what_is_listed(in_root, run_cli, monkeypatch, tmp_path):
    from migcheck.app.pipeline import Request, run
    from migcheck.report import digest as digest_module
    from migcheck.report import stream

    path = _estate(tmp_path, 10, 300, 5, third=True)
    every: Counter = Counter()  # (guest, rule) -> results, from the full path
    per_pair: Counter = Counter()
    state = run(Request(command="matrix", snapshot=path, formats=["json"], mode="offline", jobs=1))
    for _, results in state.evaluation.chunks:
        for r in results:
            every[(r.subject["guest"], r.rule)] += 1
            per_pair[(r.subject["guest"], r.subject.get("target"), r.rule)] += 1
    findings = sum(every.values())
    assert max(per_pair.values()) > 1  # a rule with several results for one pair (one per item)

    rows_per_rule, limit = 5, 4
    taken = []
    real = digest_module.digest_from_rows
    with monkeypatch.context() as patched:
        patched.setattr(digest_module, "ROWS_PER_RULE", rows_per_rule)
        made = _counted_constructions(patched)
        patched.setattr(stream, "digest_from_rows", lambda *a, **k: taken.append(real(*a, **k)) or taken[-1])
        code, _, _ = run_cli("matrix", path, "--limit", str(limit), "--format", f"table:{tmp_path / 'out.txt'}",
                             "--format", f"html:{tmp_path / 'out.html'}")
    assert code == 1 and len(taken) == 1
    digest = taken[0]
    assert digest.problems == findings
    listed = list(digest.first)
    for _, rules in digest.groups():
        for _, shown, _ in rules:
            assert len(shown) <= rows_per_rule
            listed += shown
    pairs, count = digest.listed_pairs(limit)
    assert len(pairs) == limit and count == len(every)
    listed += [entry[0] for _, entry in pairs]
    shown_for = {(r.subject["guest"], r.rule) for r in listed}
    # made only for the (guest, rule) of a listed finding, and never more than their results
    assert set(made) <= shown_for
    assert sum(made.values()) <= sum(every[key] for key in shown_for)
    # bounded by the caps, not by the findings
    rules = len({rule for _, rule in every})
    most = max(every.values())
    assert sum(made.values()) <= (limit + rows_per_rule * rules + limit) * most
    assert sum(made.values()) * 5 < findings
