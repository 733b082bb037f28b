"""The snapshot contract: bad snapshots exit 2 with every problem located; good ones load."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import generate
from migcheck.files.document import Limits, LoadError, parse_text
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data, snapshot_from_text

from .conftest import FIXTURES, assert_inside

GOOD = """\
snapshot: 1
hosts:
  - name: vsp1
    version: "6.1"
    processor: Itanium 9300
    memory_mb: {total: 1024, free: 512}
guests:
  - name: g1
    kind: vm
    host: vsp1
    state: off
    memory_mb: 256
"""

BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))

# name, file name, content, expected (line, col, message fragment) for each problem in order
CASES = [
    ("missing required field", "s.yaml", GOOD.replace('    version: "6.1"\n', ""),
     [(3, 5, "host `vsp1` is missing `version`")]),
    ("wrong enum value", "s.yaml", GOOD.replace("kind: vm", "kind: container"),
     [(9, 11, "guest `g1`: `kind` is `container`, expected one of `vm`, `vpar`")]),
    ("misspelt field", "s.yaml", GOOD.replace("processor:", "procesor:"),
     [(3, 5, "host `vsp1` is missing `processor`"), (5, 5, "host `vsp1` has unknown field `procesor`")]),
    ("duplicate key", "s.yaml", GOOD.replace("    state: off\n", "    state: off\n    state: on\n"),
     [(12, 5, "duplicate key `state` (first at line 11)")]),
    ("two errors in one file", "s.yaml", GOOD.replace("free: 512", "free: lots").replace("memory_mb: 256", "memory_mb: -1"),
     [(6, 36, "`free` must be an integer, not the string `lots`"), (12, 16, "`memory_mb` must be at least 0")]),
    ("state on/off stays a word, yes is not a boolean", "s.yaml",
     GOOD + "    storage:\n      - {backing: lv, path: /dev/vg/lv1, shared_san: yes}\n",
     [(14, 54, "`shared_san` must be true or false, not the string `yes`")]),
    ("unquoted version number", "s.yaml", GOOD.replace('"6.1"', "6.10"),
     [(4, 14, "`version` must be a string, not a number `6.10`")]),
    ("alias bomb", "s.yaml", BOMB, [(7, 29, "anchors and aliases expand to more than")]),
    ("empty file", "s.yaml", "", [(1, 1, "file is empty")]),
    ("comments only", "s.yaml", "# nothing here\n", [(1, 1, "a snapshot must be a mapping")]),
    ("binary garbage", "s.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
     [(1, 1, "file is not UTF-8 text (byte 0x89 at offset 0)")]),
    ("control characters", "s.yaml", b"snapshot: 1\nhosts: [\x01]\n",
     [(2, 9, "control character 0x01 is not allowed")]),
    ("JSON syntax error", "s.json", '{"snapshot": 1,\n "hosts": [,]}', [(2, 12, "invalid JSON: expecting value")]),
    ("JSON duplicate key", "s.json", '{"snapshot": 1,\n "snapshot": 1, "hosts": []}', [(2, 2, "duplicate key `snapshot`")]),
    ("YAML syntax error", "s.yaml", "snapshot: 1\nhosts: [\n", [(3, 1, "invalid YAML")]),
    ("nesting 5,000 deep", "s.yaml", "snapshot: 1\nhosts: " + "[" * 5000 + "]" * 5000 + "\n",
     [(2, 71, "nesting deeper than 64 levels")]),
    ("nesting 5,000 deep in JSON", "s.json", '{"snapshot": 1, "hosts": ' + "[" * 5000 + "]" * 5000 + "}",
     [(1, 89, "nesting deeper than 64 levels")]),
    ("deep attrs in JSON", "s.json", json.dumps({**json.loads(json.dumps(
        {"snapshot": 1, "hosts": [{"name": "h", "version": "6.1", "processor": "p",
                                   "memory_mb": {"total": 1, "free": 1}, "attrs": {}}]}))}).replace(
        '"attrs": {}', '"attrs": ' + '{"a": ' * 80 + "1" + "}" * 80),
     [(1, 490, "nesting deeper than 64 levels")]),
    ("non-UTF-8", "s.yaml", GOOD.replace("g1", "g\u00e91").encode("latin-1"),
     [(8, 12, "file is not UTF-8 text (byte 0xe9")]),
    ("python tag", "s.yaml", GOOD.replace("site", "x") + "site: !!python/object/apply:os.system [ls]\n",
     [(13, 7, "unsupported tag")]),
    ("two documents", "s.yaml", GOOD + "---\nsnapshot: 1\n", [(13, 1, "more than one YAML document")]),
    ("wrong format version", "s.yaml", GOOD.replace("snapshot: 1", "snapshot: 2"),
     [(1, 11, "`snapshot` is `2`, expected `1`")]),
    ("network with both vswitch and dio", "s.yaml",
     GOOD + "    networks:\n      - {vswitch: vs1, dio: 0/0/1}\n",
     [(14, 9, "network #1 of guest `g1` needs exactly one of `vswitch` or `dio`")]),
]


@pytest.mark.parametrize("name,filename,content,wanted", CASES, ids=[c[0] for c in CASES])
def test_bad_snapshot_exits_2_located(tmp_path, run_cli, name, filename, content, wanted):
    path = tmp_path / filename
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    code, out, err = run_cli("validate", path)
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith(str(path))]
    assert len(lines) == len(wanted), err
    for line, (want_line, want_col, fragment) in zip(lines, wanted):
        _, got_line, got_col, message = line.split(":", 3)
        if want_line is not None:
            assert int(got_line) == want_line, line
        if want_col is not None:
            assert int(got_col) == want_col, line
        assert fragment in message, line


def test_missing_file(tmp_path, run_cli):
    code, _, err = run_cli("validate", tmp_path / "absent.yaml")
    assert code == 2
    assert f"{tmp_path / 'absent.yaml'}:1:1: error[input]: file not found" in err


def test_size_limit_is_configurable(tmp_path, run_cli):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    assert run_cli("validate", path)[0] == 0
    code, _, err = run_cli("validate", path, "--max-bytes", "100")
    assert code == 2
    assert "file is 204 bytes, over the size limit of 100 bytes (`--max-bytes`)" in err


def test_problem_carries_json_path_and_help(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("processor:", "procesor:"))
    with pytest.raises(LoadError) as info:
        load_snapshot(str(path))
    unknown = [p for p in info.value.problems if "unknown field" in p.message][0]
    assert unknown.path == "$.hosts[0].procesor"
    assert unknown.help == "did you mean `processor`?"
    missing = [p for p in info.value.problems if "missing" in p.message][0]
    assert missing.help.startswith("`processor`: Processor family")


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.yaml") if "broken" not in p.name
                                           and not p.name.startswith(("waivers", "plan", "migcheck"))))
def test_fixtures_validate(run_cli, fixture):
    code, _, err = run_cli("validate", FIXTURES / fixture)
    assert code == 0, err


def test_broken_fixture_reports_every_integrity_problem(run_cli):
    code, _, err = run_cli("validate", FIXTURES / "estate-broken.yaml")
    assert code == 2
    located = [line for line in err.splitlines() if line.startswith(str(FIXTURES))]
    kinds = {
        "lists DIO function `0/0/0/3/0/0/0` twice": (15, 18),
        "is assigned to guest `hr01`, which does not list it": (16, 82),
        "is assigned to guest `ghost01`, which is not defined": (17, 85),
        "host `vsp-w2` is defined twice": (23, 11),
        "which host `vsp-w1` assigns to `hr01`": (33, 26),
        "which the guest's `dio` list lacks": (36, 15),
        "which host `vsp-w1` does not have": (42, 11),
        "guest `erp01` is defined twice": (43, 11),
        "guest `crm01` is on host `vsp-w3`, which is not in `hosts`": (50, 11),
    }
    assert len(located) == len(kinds)
    for fragment, (line, col) in kinds.items():
        match = [x for x in located if fragment in x]
        assert match, fragment
        assert match[0].split(":")[1:3] == [str(line), str(col)]
    assert "did you mean `vsp-w2`?" in err


def test_yaml_12_scalars():
    doc = parse_text("a: on\nb: off\nc: yes\nd: no\ne: true\nf: 0o17\ng: 0x1F\nh: 1.5e3\ni: ~\nj: 2026-11-20\nk: 010\n")
    assert doc.data == {"a": "on", "b": "off", "c": "yes", "d": "no", "e": True, "f": 15, "g": 31,
                        "h": 1500.0, "i": None, "j": "2026-11-20", "k": 10}


def test_aliases_within_bounds_are_expanded():
    doc = parse_text("base: &b {x: 1}\ncopy: *b\n")
    assert doc.data["copy"] == {"x": 1}
    with pytest.raises(LoadError, match="expand to more than 5"):
        parse_text("a: &a [1, 2, 3]\nb: [*a, *a]\n", limits=Limits(max_nodes=5))


def test_index_and_resolved_view():
    snap = load_snapshot(str(FIXTURES / "mixed-site.yaml"))
    assert snap.host_by_name["vsp-e2"]["version"] == "B.06.10"
    guest = snap.guest_by_name["dbprod01"]
    assert guest["dio"][0] == {"hwpath": "0/0/0/4/0/0/0", "type": "FLA", "pool": True, "label": "lan_pub",
                               "assigned_to": "dbprod01", "ip_name": "dbprod01"}
    assert snap.locate(guest) == (str(FIXTURES / "mixed-site.yaml"), 53, 5)
    assert snap.locate(snap.host_by_name["vsp-e3"]) == (str(FIXTURES / "mixed-site.yaml"), 31, 5)
    assert snap.host_by_name["vsp-e1"]["dio_functions"][3]["label"] is None
    assert snap.problems == []


def test_json_and_yaml_load_the_same(tmp_path):
    data = generate(3, 12, seed=4)
    (tmp_path / "e.json").write_text(json.dumps(data, indent=1))
    import yaml

    (tmp_path / "e.yaml").write_text(yaml.safe_dump(data))
    a, b = load_snapshot(str(tmp_path / "e.json")), load_snapshot(str(tmp_path / "e.yaml"))
    assert a.hosts == b.hosts and a.guests == b.guests
    assert a.locate(a.guests[2])[1] > 1  # JSON positions are computed on demand


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("third", [False, True])
def test_generated_estates_are_valid_and_consistent(seed, third):
    snap = snapshot_from_data(generate(6, 40, seed=seed, third=third))
    assert snap.problems == []
    assert generate(6, 40, seed=seed, third=third) == generate(6, 40, seed=seed, third=third)


def test_the_third_reading_adds_fields_and_changes_none():
    """`generate(..., third=True)` draws its fields from a stream of its own: what the estate of the same
    seed holds without them is kept (but for the parts of a guest left `unknown`, emptied as an import does)."""
    plain, third = generate(8, 60, seed=2), generate(8, 60, seed=2, third=True)
    for before, after in zip(plain["hosts"], third["hosts"]):
        assert {k: after[k] for k in before} == before
    for before, after in zip(plain["guests"], third["guests"]):
        unknown = set(after.get("unknown", ()))
        for key, value in before.items():
            if key in ("storage", "networks") and key not in unknown:
                assert [{k: a[k] for k in b} for a, b in zip(after[key], value)] == value
            elif key not in unknown | {"storage", "networks"}:
                assert after[key] == value, key


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_load_errors_only(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("b") / "x.yaml"
    path.write_bytes(data)
    try:
        load_snapshot(str(path))
    except LoadError as exc:
        assert exc.problems
        text = data.decode("utf-8", "replace")
        for p in exc.problems:
            assert_inside(text, p.line, p.col)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["on", "off", "6.1", "vm"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["snapshot", "hosts", "guests", "name", "kind", "host", "state", "version", "memory_mb",
                         "dio", "attrs", "x"]), children, max_size=5),
    max_leaves=25)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(yaml_values)
def test_arbitrary_yaml_documents_give_load_errors_only(value):
    import yaml

    for text in (yaml.safe_dump(value), json.dumps(value)):
        try:
            snapshot_from_text(text)
        except LoadError as exc:
            assert exc.problems
            for p in exc.problems:
                assert_inside(text, p.line, p.col)


def test_validate_json_for_ci(run_cli):
    code, out, _ = run_cli("validate", FIXTURES / "estate-broken.yaml", "--format", "json")
    data = json.loads(out)
    assert code == 2 and data["valid"] is False
    first = data["problems"][0]
    assert set(first) == {"file", "line", "col", "code", "severity", "message", "path", "help"}
    assert (first["code"], first["severity"]) == ("integrity", "error")
    assert (first["line"], first["col"]) == (15, 18) and first["path"] == "$.hosts[0].dio_functions[1].hwpath"
    code, out, _ = run_cli("validate", FIXTURES / "mixed-site.yaml", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["valid"] is True and (data["hosts"], data["guests"]) == (4, 6)
