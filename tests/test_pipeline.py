"""The pipeline and the one evaluation path: explain agrees with check, sharing agrees with check."""

from __future__ import annotations

import ast as pyast
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migcheck.app import pipeline
from migcheck.eval.engine import Engine, Subject
from migcheck.eval.explain import explain
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data

from .conftest import FIXTURES, ROOT

SNAPSHOTS = ["mixed-site.yaml", "mixed-site-after.yaml", "ivm4-small.yaml", "estate-broken.yaml"]
_RULES = []


def _ruleset():
    if not _RULES:
        _RULES.append(load_rules([FIXTURES / "site-rules"]))
    return _RULES[0]


def _explained(engine, rule, subject) -> list[str]:
    text = explain(engine, rule, subject)
    assert "internal error" not in text, text
    (line,) = [x for x in text.splitlines() if x.startswith("  result: ")]
    return line.split(": ", 1)[1].split(", ")


@pytest.mark.parametrize("fixture", SNAPSHOTS)
def test_explain_gives_the_status_check_gives_for_every_rule_and_pair(fixture):
    ruleset = _ruleset()
    snapshot = load_snapshot(str(FIXTURES / fixture))
    engine = Engine(ruleset, snapshot)
    compared = 0
    for mode in ("offline", "online"):
        for guest in snapshot.guests:
            for target in snapshot.hosts:
                if target["name"] == guest["host"]:
                    continue
                results = engine.check(guest, target, mode)
                for rule in engine.by_subject["guest"]:  # guest rules run in a check with its mode
                    want = sorted({r.status for r in results if r.rule == rule.id})
                    assert _explained(engine, rule, Subject("guest", guest=guest, mode=mode)) == want
                    compared += 1
                for rule in engine.by_subject["migration"]:
                    want = sorted({r.status for r in results if r.rule == rule.id})
                    got = _explained(engine, rule, Subject("migration", guest=guest, target=target, mode=mode))
                    assert got == want, (fixture, rule.id, guest["name"], target["name"], mode)
                    compared += 1
    audit = engine.audit()
    for rule in ruleset.rules:
        if rule.subject == "host":
            subjects = [(Subject("host", host=h), snapshot.locate(h)) for h in snapshot.hosts]
        elif rule.subject == "guest":
            subjects = [(Subject("guest", guest=g), snapshot.locate(g)) for g in snapshot.guests]
        elif rule.subject == "snapshot":
            subjects = [(Subject("snapshot"), (snapshot.path, 1, 1))]
        else:
            continue
        for subject, where in subjects:  # by location: estate-broken has two hosts of one name
            names = subject.names()
            want = sorted({r.status for r in audit if r.rule == rule.id and r.subject == names and r.location == where})
            assert _explained(engine, rule, subject) == want, (fixture, rule.id, names)
            compared += 1
    assert compared > 50


def test_explain_of_a_guest_whose_host_is_missing_says_what_check_says(run_cli):
    code, out, err = run_cli("explain", FIXTURES / "estate-broken.yaml", "PATH-OFFLINE", "crm01", "vsp-w1")
    assert code == 0 and err == ""
    assert "  result: error" in out
    assert "=> error: host `vsp-w3` of guest `crm01` is not in the snapshot (see INV-UNKNOWN-HOST)" in out
    _, check, _ = run_cli("check", FIXTURES / "estate-broken.yaml", "crm01", "vsp-w1", "--format", "json")
    (path,) = [r for r in json.loads(check)["results"] if r["rule"] == "PATH-OFFLINE"]
    assert path["status"] == "error" and "host `vsp-w3` of guest `crm01` is not in the snapshot" in path["message"]


# -- sound sharing -----------------------------------------------------------------------
def _site_estate(target_attrs: list[dict], guest_attrs: list[dict] | None = None) -> dict:
    host = {"version": "6.1", "processor": "Itanium 9300", "memory_mb": {"total": 65536, "free": 65536}}
    hosts = [{"name": "src", **host}] + [{"name": f"t{i}", **host, "attrs": a} for i, a in enumerate(target_attrs)]
    guests = [{"name": f"g{i}", "kind": "vm", "host": "src", "state": "off", "memory_mb": 1024, "attrs": a}
              for i, a in enumerate(guest_attrs or [{}])]
    return {"snapshot": 1, "hosts": hosts, "guests": guests}


def _site_rules(tmp_path: Path, requires: list[str]) -> Path:
    pack = tmp_path / "site"
    pack.mkdir(exist_ok=True)
    text = "".join(f'rule SITE-R{i} {{\n  title "t"\n  severity error\n  on migration\n  cite "c"\n'
                   f'  require {expr}\n  message "m"\n}}\n' for i, expr in enumerate(requires))
    (pack / "site.rules").write_text(text)
    return pack


def _assert_matrix_equals_check(ruleset, snapshot, mode="offline"):
    engine = Engine(ruleset, snapshot)
    for results in (True, False):
        cells, _ = engine.matrix(mode, results=results)
        by_pair = {(c.guest, c.source, c.target): c for c in cells}
        assert len(by_pair) == len(cells)
        for guest in snapshot.guests:
            for target in snapshot.hosts:
                if target["name"] == guest["host"]:
                    continue
                checked = engine.check(guest, target, mode)
                cell = by_pair[(guest["name"], guest["host"], target["name"])]
                failing = sorted({r.rule for r in checked if r.status in ("fail", "error")})
                from migcheck.core.verdicts import check_verdict
                assert (cell.verdict, cell.failing) == (check_verdict(checked), failing), \
                    (guest["name"], target["name"], guest["attrs"], target["attrs"])


@pytest.mark.parametrize("expression,attrs", [
    ("target.attrs.ok", [{"ok": True}, {"ok": 1}]),
    ('target.attrs.x.a == "v"', [{"x": {"a": "v"}}, {"x": "v"}]),
    ("len(target.attrs.caps) == 1", [{"caps": {"a": 1}}, {"caps": {"a": 1, "b": 2}}]),
    ("target.attrs.n > 0", [{"n": 1}, {"n": True}, {"n": "1"}]),
    ("target.attrs.n == 1", [{"n": 1.0}, {"n": True}, {"n": 1}]),
    ("target.attrs.n in [1, 2]", [{"n": True}, {"n": 2}]),
    ('target.attrs.x.a == "v"', [{"x": [{"a": "v"}]}, {"x": {"a": "v"}}]),
    # a selection whose items a function uses whole (sum, max, sorted): the items are read, not only the length
    ("sum(x in target.attrs.l where true) > 3", [{"l": [1, 2]}, {"l": [3, 4]}]),
    ("max(x in target.attrs.l where x > 0) == 4", [{"l": [1, 4]}, {"l": [1, 3]}]),
    ("sorted(x in target.attrs.l where x != 0) == [1, 2]", [{"l": [2, 1]}, {"l": [1, 3]}]),
    ('[v for v in target.attrs.l] == [1, 2]', [{"l": [1, 2]}, {"l": [2, 1]}]),
])
def test_sharing_counterexamples_agree_with_check(tmp_path, expression, attrs):
    _assert_counterexample(tmp_path, expression, attrs)


@pytest.mark.parametrize("body,attrs", [
    # how many items `distinct` leaves, whether `sorted` can order them, what `first` holds: the items, not a length
    ("require count(distinct(target.attrs.l)) == 1", [{"l": [1, 1]}, {"l": [1, 2]}]),
    ("require count(distinct(target.attrs.l).a) == 1", [{"l": [{"a": 1, "b": 1}, {"a": 1, "b": 1}]},
                                                        {"l": [{"a": 1, "b": 1}, {"a": 1, "b": 2}]}]),
    ("require count([v for v in distinct(target.attrs.l)]) == 2", [{"l": [1, 1]}, {"l": [1, 2]}]),
    ("require count(distinct(x in target.attrs.l where true)) == 2", [{"l": [1, 1]}, {"l": [1, 2]}]),
    ("require count(sorted(target.attrs.l)) == 2", [{"l": [1, 2]}, {"l": [1, "a"]}]),
    ("for x in sorted(target.attrs.l)\n  require false", [{"l": [1, 2]}, {"l": [1, "a"]}]),
    ("let s = sorted(target.attrs.l)\n  require count(s) == 2", [{"l": [1, 2]}, {"l": [1, "a"]}]),
    ("require count(x in sorted(target.attrs.l) where true) == 2", [{"l": [1, 2]}, {"l": [1, "a"]}]),
    ("require len(first(target.attrs.l)) == 2", [{"l": ["ab"]}, {"l": ["a"]}]),
    ("require count(first(target.attrs.l)) == 2", [{"l": [[1, 2]]}, {"l": [[1]]}]),
    ("require count(x in first(target.attrs.l) where true) == 2", [{"l": [[1, 2]]}, {"l": [[1]]}]),
    ("for x in first(target.attrs.l)\n  require false", [{"l": [[1]]}, {"l": [[]]}]),
    ("let y = first(target.attrs.l)\n  for z in y\n  require false", [{"l": [[1]]}, {"l": [[]]}]),
])
def test_sharing_counterexamples_of_whole_rules_agree_with_check(tmp_path, body, attrs):
    pack = tmp_path / "site"
    pack.mkdir()
    (pack / "site.rules").write_text(f'rule SITE-R0 {{\n  title "t"\n  severity error\n  on migration\n  cite "c"\n'
                                     f'  {body}\n  message "m"\n}}\n')
    ruleset = load_rules([pack], builtin=False)
    snapshot = snapshot_from_data(_site_estate(attrs))
    statuses = {tuple(o.status for o in Engine(ruleset, snapshot).check(snapshot.guests[0], t, "offline"))
                for t in snapshot.hosts[1:]}
    assert len(statuses) > 1  # the targets really differ for the rule, so wrong sharing would show
    _assert_matrix_equals_check(ruleset, snapshot)
    guests = snapshot_from_data(_site_estate([{}], [{"l": a["l"]} for a in attrs]))  # the same on the guest side
    pack_g = tmp_path / "guest"
    pack_g.mkdir()
    (pack_g / "site.rules").write_text((pack / "site.rules").read_text().replace("target.attrs", "guest.attrs"))
    _assert_matrix_equals_check(load_rules([pack_g], builtin=False), guests)


def _assert_counterexample(tmp_path, expression: str, attrs: list[dict]) -> None:
    ruleset = load_rules([_site_rules(tmp_path, [expression])], builtin=False)
    snapshot = snapshot_from_data(_site_estate(attrs))
    statuses = {Engine(ruleset, snapshot).check(snapshot.guests[0], t, "offline")[0].status
                for t in snapshot.hosts[1:]}
    assert len(statuses) > 1  # the targets really differ for the rule, so wrong sharing would show
    _assert_matrix_equals_check(ruleset, snapshot)


_SCALARS = st.one_of(st.booleans(), st.integers(-2, 2), st.sampled_from([0.0, 1.0, 2.5]),
                     st.sampled_from(["", "a", "v", "1"]), st.none())
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "x", "ok"]), inner, max_size=3)), max_leaves=6)
_ATTRS = st.dictionaries(st.sampled_from(["ok", "x", "caps", "n"]), _VALUES, max_size=4)
_EXPRESSIONS = [
    "target.attrs.ok", "not target.attrs.ok", "target.attrs.ok == true", "target.attrs.n == 1",
    "target.attrs.n == 1.0", 'target.attrs.x == "v"', 'target.attrs.x.a == "v"', "target.attrs.x.a == 1",
    "len(target.attrs.caps) == 1", "len(target.attrs.x) > 1", "count(target.attrs.caps) == 2",
    "target.attrs.n > 0", 'default(target.attrs.x.ok, "none") == "none"', "target.attrs.caps == guest.attrs.caps",
    "target.attrs.x.a == guest.attrs.x.a", 'guest.attrs.ok == true or target.attrs.ok == true',
    "any(c in target.attrs.caps: c == 1)", "target.attrs.x.ok != null", "len(guest.attrs.caps) < 2",
    "sum(c in target.attrs.caps where true) > 1", "[c for c in target.attrs.caps] == [1]",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(_ATTRS, min_size=2, max_size=5), st.lists(_ATTRS, min_size=1, max_size=3),
       st.lists(st.sampled_from(_EXPRESSIONS), min_size=1, max_size=4, unique=True))
def test_sharing_over_free_form_attrs_agrees_with_check(tmp_path_factory, target_attrs, guest_attrs, expressions):
    """Matrix cells equal check verdicts and failing ids for every pair, whatever site data the rules read."""
    ruleset = load_rules([_site_rules(tmp_path_factory.mktemp("p"), expressions)], builtin=False)
    snapshot = snapshot_from_data(_site_estate(target_attrs, guest_attrs))
    _assert_matrix_equals_check(ruleset, snapshot)


# -- the pipeline's shape ----------------------------------------------------------------
def test_stages_are_listed_in_order(capsys):
    assert pipeline.main(["--stages"]) == 0
    names = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert names == ["options", "configuration", "packs", "snapshot", "waivers", "baseline", "evaluation", "report"]


def _imports(path: Path) -> set[str]:
    tree = pyast.parse(path.read_text())
    found = set()
    for node in pyast.walk(tree):
        if isinstance(node, pyast.ImportFrom):
            found.update(f"{'.' * node.level}{node.module or ''}.{a.name}".replace("..", ".") for a in node.names)
            found.add(f"{'.' * node.level}{node.module or ''}")
        elif isinstance(node, pyast.Import):
            found.update(a.name for a in node.names)
    return found


def test_no_module_imports_the_cli_and_the_cli_only_calls_the_pipeline():
    engine = ROOT / "engine"
    for path in engine.rglob("*.py"):
        if path.name in ("cli.py", "__main__.py"):
            continue
        assert not any(i.endswith(".cli") or i.endswith("cli.main") or ".cli." in i for i in _imports(path)), path
    cli = _imports(engine / "cli.py")
    loaders = {"load_rules", "load_snapshot", "load_config", "load_waivers", "load_baseline", "Engine", "evaluate",
               "packs", "snapshot", "config", "baseline", "explain", "load_document", "render"}
    assert not {i.rsplit(".", 1)[-1] for i in cli} & loaders, cli


def test_a_configuration_that_changes_rules_compiles_the_packs_once(monkeypatch):
    import migcheck.packs.ruleset as packs

    calls = []
    original = packs.compile_rule
    monkeypatch.setattr(packs, "compile_rule", lambda *a, **k: calls.append(a[0].rule.id) or original(*a, **k))
    run = pipeline.run(pipeline.Request("audit", snapshot=str(FIXTURES / "mixed-site.yaml"),
                                        config=str(FIXTURES / "migcheck.yaml")))
    assert len(calls) == len(set(calls))  # each rule compiled once
    config = run.config
    assert config.disable or config.severity or config.data  # the fixture really changes the rules
    for rule_id in config.disable:
        assert run.ruleset.by_id(rule_id) is None
    for rule_id, severity in config.severity.items():
        assert run.ruleset.by_id(rule_id).severity == severity
    assert run.report.verdict in ("pass", "fail", "error") and run.report.manifest["rules"] == len(run.ruleset.rules)
