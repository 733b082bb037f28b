"""Bad input never wins (issue 11): every file the tool reads or writes, tried as an attacker
and as a careless user would. Each case: the input, the exit code, the located message, and
no traceback; outputs leave devices, symbolic links and inputs as they were.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migcheck
from migcheck.files.document import Limits, LoadError, load_document, parse_text

from .conftest import FIXTURES

MIXED = FIXTURES / "mixed-site.yaml"
PACKAGE_PARENT = str(Path(migcheck.__file__).parent.parent)  # not resolved: in a checkout, .dev/migcheck is a link


def _mixed_data() -> dict:
    return load_document(MIXED).data


def _rule(rule_id: str, body: str, on: str = "guest", message: str = "m") -> str:
    return (f'rule {rule_id} {{\n  title "t"\n  severity error\n  on {on}\n  require {body}\n'
            f'  message "{message}"\n  cite "c"\n}}\n')


def _pack(tmp_path: Path, name: str, *rules: str) -> Path:
    pack = tmp_path / name
    pack.mkdir()
    (pack / "site.rules").write_text("".join(rules))
    return pack


def _subprocess(*args, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "migcheck", *map(str, args)], env=env, stderr=subprocess.PIPE,
                          timeout=120, **kwargs)


def _located(err: str, path, line: int, col: int, fragment: str) -> None:
    """`err` holds `path:line:col: ...fragment...` (the rule-pack renderer adds `error[code]: `)."""
    prefix = f"{path}:{line}:{col}: "
    hits = [x for x in err.splitlines() if x.startswith(prefix)]
    assert hits, f"no problem at {prefix!r} in:\n{err}"
    assert any(fragment in x for x in hits), f"{fragment!r} not in {hits}"


# -- the table: one case per bad input ------------------------------------------------------
# Each builder gets tmp_path and returns (argv, path the problem is located in, line, col).

def _symlink_loop(tmp):
    (tmp / "a.yaml").symlink_to(tmp / "b.yaml")
    (tmp / "b.yaml").symlink_to(tmp / "a.yaml")
    return tmp / "a.yaml"


def _file_as_dir(tmp):
    (tmp / "file").write_text("x")
    return tmp / "file" / "x.yaml"


def _dangling(tmp):
    (tmp / "gone.yaml").symlink_to(tmp / "nowhere.yaml")
    return tmp / "gone.yaml"


def _directory(tmp):
    (tmp / "d.yaml").mkdir()
    return tmp / "d.yaml"


def _big_int_yaml(tmp):
    path = tmp / "s.yaml"
    path.write_text(MIXED.read_text().replace("memory_mb: 16384", "memory_mb: " + "7" * 4401, 1))
    return path


def _big_int_json(tmp):
    path = tmp / "s.json"
    data = _mixed_data()
    data["guests"][0]["memory_mb"] = 12345
    path.write_text(json.dumps(data, indent=1).replace("12345", "7" * 4401))
    return path


def _big_hex_yaml(tmp):
    path = tmp / "s.yaml"  # Python reads any hexadecimal, but could never write it in decimal
    path.write_text(MIXED.read_text().replace("memory_mb: 16384", "memory_mb: 0x" + "f" * 20000, 1))
    return path


def _lone_surrogate_json(tmp):
    path = tmp / "s.json"
    data = _mixed_data()
    data["guests"][1]["name"] = "web\udc80x"  # json.dumps writes `\udc80`: valid JSON, not text
    path.write_text(json.dumps(data, indent=1))
    return path


def _string_aliases(tmp):
    path = tmp / "s.yaml"
    path.write_text("snapshot: 1\nsite: &s " + "x" * 100_000 + "\nhosts: [" + ", ".join(["*s"] * 1000) + "]\n")
    return path


def _baseline_without_rule(tmp):
    path = tmp / "base.json"
    path.write_text('{"tool": {"name": "migcheck"}, "format": 1,\n "results": [\n  {"fingerprint": "abc", "status": "fail"}\n ]\n}\n')
    return path


def _baseline_of_format(value: str):
    def build(tmp):
        path = tmp / "base.json"
        path.write_text('{"tool": {"name": "migcheck"},\n "format": ' + value + ',\n "results": []\n}\n')
        return path
    return build


def _baseline_with_a_number_fingerprint(tmp):
    path = tmp / "base.json"
    path.write_text('{"tool": {"name": "migcheck"}, "format": 1,\n "results": [\n  {"fingerprint": 5, "rule": "R", '
                    '"status": "fail"}\n ]\n}\n')
    return path


def _baseline_without_format(tmp):
    path = tmp / "base.json"
    path.write_text('{"tool": {"name": "migcheck"},\n "results": []\n}\n')
    return path


def _config_row(value: str):
    def build(tmp):
        path = tmp / "migcheck.yaml"
        path.write_text("data:\n  offline_paths:\n"
                        f'    - {{kind: vm, a_min: {value}, a_below: null, b_min: "6.1", b_below: null, row: x}}\n')
        return path
    return build


def _waivers_bad_date(tmp):
    path = tmp / "w.yaml"
    path.write_text("waivers:\n  - rule: STORAGE-LOCAL\n    reason: r\n    owner: o\n    expires: 99999-01-01\n")
    return path


SNAPSHOT_CASES = [
    # name, builder, line, col, message fragment
    ("symlink loop (ELOOP)", _symlink_loop, 1, 1, "symbolic link loop: the path's links never reach a file"),
    ("file used as a directory (ENOTDIR)", _file_as_dir, 1, 1, "is a file, not a directory"),
    ("dangling symlink", _dangling, 1, 1, "it is a symbolic link to"),
    ("a directory (EISDIR)", _directory, 1, 1, "is a directory, not a file"),
    ("4,401-digit integer in YAML", _big_int_yaml, 108, 16,
     "integer of 4,401 digits is over the limit of 4,300 digits (Python's integer-string limit)"),
    ("4,401-digit integer in JSON", _big_int_json, 185, 17,
     "integer of 4,401 digits is over the limit of 4,300 digits (Python's integer-string limit)"),
    ("a 20,000-digit hexadecimal integer", _big_hex_yaml, 108, 16,
     "integer of 24,083 digits is over the limit of 4,300 digits (Python's integer-string limit)"),
    ("lone surrogate escape in JSON", _lone_surrogate_json, 219, 12,
     "string `web\\udc80x` holds half of a UTF-16 surrogate pair without the other half, which is not a character"),
    ("aliases of long strings", _string_aliases, 3, 45,
     "anchors and aliases expand to more than 1,000,000 characters of text (the alias expansion limit"),
]


@pytest.mark.parametrize("name,build,line,col,fragment", SNAPSHOT_CASES, ids=[c[0] for c in SNAPSHOT_CASES])
@pytest.mark.parametrize("command", ["validate", "audit"])
def test_bad_snapshot_file(tmp_path, run_cli, command, name, build, line, col, fragment):
    path = build(tmp_path)
    code, out, err = run_cli(command, path, "--max-bytes", "1000000")
    assert code == 2 and out == ""
    assert "Traceback" not in err
    _located(err, path, line, col, fragment)


INPUT_CASES = [
    # name, option, builder, line, col, message fragment
    ("config: symlink loop", "--config", _symlink_loop, 1, 1, "symbolic link loop"),
    ("config: file used as a directory", "--config", _file_as_dir, 1, 1, "is a file, not a directory"),
    ("config: release that is not a release", "--config", _config_row('"banana"'), 3, 25,
     "row 1 of `offline_paths`: `banana` in column `a_min` is not a release"),
    ("config: release written as a number", "--config", _config_row("4.1"), 3, 25,
     "column `a_min` must be a release string, not the number `4.1`; quote it"),
    ("config: release whose number reads otherwise", "--config", _config_row("6.10"), 3, 25,
     'column `a_min` must be a release string, not the number `6.10`; quote it as written: "6.10"'),
    ("waivers: symlink loop", "--waivers", _symlink_loop, 1, 1, "symbolic link loop"),
    ("waivers: dangling symlink", "--waivers", _dangling, 1, 1, "it is a symbolic link to"),
    ("waivers: a date past year 9999", "--waivers", _waivers_bad_date, 5, 14,
     "`expires` is `99999-01-01`, not in the expected form"),
    ("baseline: file used as a directory", "--baseline", _file_as_dir, 1, 1, "is a file, not a directory"),
    ("baseline: a directory", "--baseline", _directory, 1, 1, "is a directory, not a file"),
    ("baseline: a result without `rule`", "--baseline", _baseline_without_rule, 3, 3,
     "result #1 lacks `rule` (a string each)"),
    ("baseline: format 2", "--baseline", _baseline_of_format("2"), 2, 12,
     "a report of format `2`; this migcheck reads format 1"),
    ("baseline: format as a string", "--baseline", _baseline_of_format('"1"'), 2, 12, 'a report of format `"1"`'),
    ("baseline: format true", "--baseline", _baseline_of_format("true"), 2, 12, "a report of format `true`"),
    ("baseline: no format", "--baseline", _baseline_without_format, 1, 1, "a report without a `format`; this"),
    ("baseline: a fingerprint that is a number", "--baseline", _baseline_with_a_number_fingerprint, 3, 3,
     "result #1 has a `fingerprint` that is not a string"),
]


@pytest.mark.parametrize("name,option,build,line,col,fragment", INPUT_CASES, ids=[c[0] for c in INPUT_CASES])
def test_bad_input_file(tmp_path, run_cli, name, option, build, line, col, fragment):
    path = build(tmp_path)
    code, out, err = run_cli("audit", MIXED, option, path, "--format", "json")
    assert code == 2 and out == ""
    assert "Traceback" not in err
    _located(err, path, line, col, fragment)


def _deny_open(monkeypatch, path) -> None:
    """Opening `path` fails with "permission denied", as for a user without the right (even root)."""
    real_open = os.open

    def denied(p, *args, **kwargs):
        if str(p) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(p))
        return real_open(p, *args, **kwargs)
    monkeypatch.setattr(os, "open", denied)


def test_unreadable_file_is_permission_denied(tmp_path, run_cli, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(MIXED.read_text())
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the open fail as it would for anyone else
        _deny_open(monkeypatch, path)
    code, _, err = run_cli("validate", path)
    assert code == 2 and "Traceback" not in err
    _located(err, path, 1, 1, "permission denied")


def test_unreadable_capture_file_is_located(tmp_path, run_cli, monkeypatch):
    import shutil

    from .test_import import CAPTURE

    root = tmp_path / "capture"
    shutil.copytree(CAPTURE, root)
    bad = root / "ivmcl01" / "guests" / "ivm1.txt"
    _deny_open(monkeypatch, bad)
    code, _, err = run_cli("import", root)
    assert code == 2 and "Traceback" not in err
    _located(err, bad, 1, 1, "permission denied")


def test_dev_zero_is_refused_at_the_limit(run_cli):
    code, _, err = run_cli("validate", "/dev/zero", "--max-bytes", "1000")
    assert code == 2
    _located(err, "/dev/zero", 1, 1, "input is over the size limit of 1,000 bytes (`--max-bytes`)")


def test_dash_is_not_taken_for_standard_input_silently(run_cli):
    code, _, err = run_cli("validate", "-")
    assert code == 2
    _located(err, "-", 1, 1, "file not found: `-` is not read as standard input")
    assert "/dev/stdin" in err


def test_fifo_is_bounded_while_reading(tmp_path, run_cli):
    fifo = tmp_path / "snap.yaml"
    os.mkfifo(fifo)
    written = []

    def feed():
        try:
            with open(fifo, "wb") as out:
                for _ in range(100):
                    out.write(b"#" * 1000 + b"\n")
                    written.append(1)
        except BrokenPipeError:  # the reader stopped at its limit
            pass
    writer = threading.Thread(target=feed)
    writer.start()
    code, _, err = run_cli("validate", fifo, "--max-bytes", "1000")
    writer.join(timeout=10)
    assert code == 2
    _located(err, fifo, 1, 1, "input is over the size limit of 1,000 bytes (`--max-bytes`)")
    assert len(written) < 100  # refused while reading, not after reading it all
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_pipe_is_bounded_while_reading():
    done = _subprocess("validate", "/dev/stdin", "--max-bytes", "1000", input=b"# padding\n" * 200_000)
    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err
    _located(err, "/dev/stdin", 1, 1, "input is over the size limit of 1,000 bytes (`--max-bytes`)")


def test_string_aliases_stay_small_in_memory(tmp_path):
    path = tmp_path / "s.yaml"  # 10 MB of aliases to a 1 MB string: 10 TB expanded
    path.write_text("a: &a " + "x" * 1_000_000 + "\nb: [" + ", ".join(["*a"] * 2_500_000) + "]\n")
    probe = ("import resource, sys\nfrom migcheck.files.document import load_document, LoadError\n"
             "try:\n    load_document(sys.argv[1])\nexcept LoadError as e:\n    print(e.problems[0].message)\n"
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    done = subprocess.run([sys.executable, "-c", probe, str(path)], env=env, capture_output=True, text=True,
                          timeout=120)
    message, rss_kb = done.stdout.splitlines()
    assert "anchors and aliases expand to more than 67,108,864 characters of text" in message
    assert int(rss_kb) < 400_000  # the file is 10 MB; the expansion is never built


def test_a_long_list_without_aliases_is_not_an_alias_expansion():
    text = "x: [" + ", ".join(["1"] * 3000) + "]\n"
    doc = parse_text(text, "s.yaml", Limits(max_nodes=1000))  # the node limit bounds what aliases add
    assert len(doc.data["x"]) == 3000
    with pytest.raises(LoadError, match=r"expand to more than 1,000 nodes \(the alias expansion limit\)"):
        parse_text("a: &a " + text.split(": ", 1)[1] + "b: *a\n", "s.yaml", Limits(max_nodes=1000))


# -- JSON located from the JSON text --------------------------------------------------------
JSON_TEXTS = [
    ("surrogate-pair escape", lambda d: json.dumps(d, indent=1), "\U0001F600 emoji"),
    ("raw U+0080", lambda d: json.dumps(d, indent=1, ensure_ascii=False), "caf\u0080"),
    ("1,100-character key", lambda d: json.dumps(d, indent=1), "k" * 1100),
]


@pytest.mark.parametrize("name,dump,odd", JSON_TEXTS, ids=[c[0] for c in JSON_TEXTS])
def test_valid_json_snapshot_is_checked_and_located(tmp_path, run_cli, name, dump, odd):
    data = _mixed_data()
    data["guests"][0]["attrs"] = {odd: odd} if len(odd) > 100 else {"note": odd}
    path = tmp_path / "s.json"
    path.write_text(dump(data), encoding="utf-8")
    assert run_cli("validate", path)[0] == 0
    for args in (("audit", path), ("check", path, "sapapp01", "vsp-e2")):
        code, out, err = run_cli(*args, "--format", "json")
        assert code == 1 and "Traceback" not in err, err
        report = json.loads(out)
        located = {(r["subject"].get("guest"), r["location"]["line"], r["location"]["col"])
                   for r in report["results"] if r.get("location") and r["subject"].get("guest") == "sapapp01"}
        text_lines = path.read_text(encoding="utf-8").splitlines()
        (guest, line, col), = located
        assert text_lines[line - 1][col - 1] == "{"  # the guest's own object in the JSON text
        assert '"name": "sapapp01"' in text_lines[line]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet='ab c\\"\u00e9', max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='kx"\\ \u00e9', max_size=4), inner,
                                                                max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_json_values, st.sampled_from([None, 0, 1, 2]))
def test_json_positions_agree_with_the_yaml_reader_where_both_read(value, indent):
    """The JSON scanner locates every value and key where the YAML reader would, for JSON YAML can read."""
    from migcheck.files.document import _build, json_positions

    text = json.dumps(value, indent=indent)
    ours, yamls = json_positions(text, "x.json", Limits()), _build(text, "x.json", Limits(), track=True)
    assert {path: ours.positions[path] for path in ours.positions} == yamls.positions
    assert {path: ours.key_positions[path] for path in ours.key_positions} == yamls.key_positions


# -- rule files -------------------------------------------------------------------------------
def test_long_and_chain_parses_and_evaluates(tmp_path, run_cli):
    chain = " and ".join(f"guest.memory_mb > {i}" for i in range(400))
    pack = _pack(tmp_path, "p", _rule("SITE-CHAIN", chain), _rule("SITE-OR", " or ".join(
        f"guest.memory_mb == {i}" for i in range(3000)) + " or guest.name == \"sapapp01\""))
    assert run_cli("lint", pack)[0] == 0
    code, out, err = run_cli("audit", MIXED, "--rules", pack, "--format", "json")
    assert "Traceback" not in err
    results = json.loads(out)["results"]
    chain_results = {r["subject"]["guest"]: r["status"] for r in results if r["rule"] == "SITE-CHAIN"}
    memory = {g["name"]: g["memory_mb"] for g in _mixed_data()["guests"]}
    assert chain_results == {g: "pass" if m > 399 else "fail" for g, m in memory.items()}
    either = {r["subject"]["guest"]: r["status"] for r in results if r["rule"] == "SITE-OR"}
    assert either["sapapp01"] == "pass" and list(either.values()).count("pass") == 1


DEEP_RULES = [
    # the 101st `not` (col 11 + 100 * 5); the 100th list, inside the comparison (col 11 + 99)
    ("parentheses around not", "not (" * 150 + "guest.memory_mb > 0" + ")" * 150, 5, 511),
    ("lists in lists", "[" * 300 + "1" + "]" * 300 + " != []", 5, 110),
    ("a sum of 1,000 terms", "guest.memory_mb" + " + 1" * 1000 + " > 0", 5, 11),
    ("a message hole", "true", 6, 513),  # the hole starts at col 13
]


@pytest.mark.parametrize("name,body,line,col", DEEP_RULES, ids=[c[0] for c in DEEP_RULES])
def test_deep_nesting_is_a_located_diagnostic(tmp_path, run_cli, name, body, line, col):
    message = "{" + "not (" * 101 + "guest.memory_mb > 0" + ")" * 101 + "}" if name == "a message hole" else "m"
    pack = _pack(tmp_path, "p", _rule("SITE-DEEP", body, message=message))
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "Traceback" not in err
    _located(err, pack / "site.rules", line, col, "too-deep")
    assert "expression nested more than 100 levels deep (the nesting limit of the rule language)" in err


def test_number_over_the_digit_limit_in_a_rule(tmp_path, run_cli):
    pack = _pack(tmp_path, "p", _rule("SITE-BIG", "guest.memory_mb < " + "9" * 5000))
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "Traceback" not in err
    _located(err, pack / "site.rules", 5, 29,  # after `  require guest.memory_mb < `
             "number of 5,000 digits is over the limit of 4,300 digits (Python's integer-string limit)")


def test_nesting_just_under_the_bound_runs_in_every_stage(tmp_path, run_cli):
    """96 nested `not`s, the comparison, the path and its name (99 levels) pass every stage, explain too."""
    body = "not (" * 96 + "guest.memory_mb > 16384" + ")" * 96  # an even count: the comparison itself
    pack = _pack(tmp_path, "p", _rule("SITE-NEST", body, message="{" + body + "}"))
    assert run_cli("lint", pack)[0] == 0
    code, out, err = run_cli("audit", MIXED, "--rules", pack, "--format", "json")
    assert "Traceback" not in err
    memory = {g["name"]: g["memory_mb"] for g in _mixed_data()["guests"]}
    got = {r["subject"]["guest"]: r["status"] for r in json.loads(out)["results"] if r["rule"] == "SITE-NEST"}
    assert got == {g: "pass" if m > 16384 else "fail" for g, m in memory.items()}
    code, out, err = run_cli("explain", MIXED, "SITE-NEST", "sapapp01", "--rules", pack)
    assert code == 0 and "Traceback" not in err and "SITE-NEST" in out


def _lets(count: int, require: str) -> str:
    lets = "".join(f"  let v{i} = v{i - 1} + 1\n" for i in range(1, count))
    return ('rule SITE-LETS {\n  title "t"\n  severity error\n  on guest\n  let v0 = guest.memory_mb\n' + lets
            + f'  require {require}\n  message "{{v{count - 1}}}"\n  cite "c"\n}}\n')


def test_too_many_clauses_is_a_located_diagnostic(tmp_path, run_cli):
    pack = _pack(tmp_path, "p", _lets(2000, "v1999 > 0"))
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "Traceback" not in err
    _located(err, pack / "site.rules", 205, 3, "error[too-deep]: rule has more than 200 `when`, `for`, `let` and "
             "`require` clauses (the clause limit of the rule language)")  # `let v200`, the 201st


def test_clauses_and_nesting_at_their_bounds_together(tmp_path, run_cli):
    deep = "not (" * 96 + "v198 > 16384" + ")" * 96
    pack = _pack(tmp_path, "p", _lets(199, deep))  # 199 lets and a require: 200 clauses
    assert run_cli("lint", pack)[0] == 0
    code, out, err = run_cli("audit", MIXED, "--rules", pack, "--format", "json")
    assert "Traceback" not in err
    memory = {g["name"]: g["memory_mb"] for g in _mixed_data()["guests"]}
    got = {r["subject"]["guest"]: (r["status"], r["message"]) for r in json.loads(out)["results"]
           if r["rule"] == "SITE-LETS"}
    assert got == {g: ("pass", "t") if m + 198 > 16384 else ("fail", str(m + 198)) for g, m in memory.items()}
    assert any(status == "fail" for status, _ in got.values())  # a message computed through 199 lets
    code, out, err = run_cli("explain", MIXED, "SITE-LETS", "sapapp01", "--rules", pack)
    assert code == 0 and "Traceback" not in err


def test_redundant_parentheses_are_not_nesting(tmp_path, run_cli):
    pack = _pack(tmp_path, "p", _rule("SITE-PARENS", "(" * 3000 + "guest.memory_mb > 0" + ")" * 3000))
    assert run_cli("lint", pack)[0] == 0


@pytest.mark.parametrize("name,make,fragment", [
    ("a directory named x.rules", lambda p: (p / "x.rules").mkdir(), "is a directory, not a file"),
    ("a dangling symlink", lambda p: (p / "d.rules").symlink_to(p / "nowhere"), "it is a symbolic link to"),
    ("a symlink loop", lambda p: ((p / "l.rules").symlink_to(p / "m.rules"), (p / "m.rules").symlink_to(p / "l.rules")),
     "symbolic link loop"),
    ("a data table that is a directory", lambda p: (p / "data" / "t.yaml").mkdir(parents=True),
     "is a directory, not a file"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_file_in_a_rule_pack(tmp_path, run_cli, name, make, fragment):
    pack = _pack(tmp_path, "p", _rule("SITE-OK", "guest.memory_mb > 0"))
    make(pack)
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "Traceback" not in err
    bad = [x for x in err.splitlines() if fragment in x]
    assert bad and bad[0].startswith(str(pack)) and ":1:1: error[" in bad[0], err
    code, _, err = run_cli("audit", MIXED, "--rules", pack)
    assert code == 2 and fragment in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["lint", "test", "audit"])
def test_rule_pack_path_that_is_a_symlink_loop(tmp_path, run_cli, command):
    loop = _symlink_loop(tmp_path)
    args = (command, loop) if command != "audit" else ("audit", MIXED, "--rules", loop)
    code, out, err = run_cli(*args)
    assert code == 2 and "Traceback" not in err + out
    _located(err + out, loop, 1, 1, "error[no-pack]: not a directory of rules")


def test_bad_files_in_rule_tests(tmp_path, run_cli):
    pack = _pack(tmp_path, "p", _rule("SITE-OK", "guest.memory_mb > 0"))
    (pack / "tests").mkdir()
    (pack / "tests" / "dir.yaml").mkdir()
    (pack / "loop.yaml").symlink_to(pack / "loop2.yaml")
    (pack / "loop2.yaml").symlink_to(pack / "loop.yaml")
    (pack / "tests" / "cases.yaml").write_text(
        "cases:\n  - name: looped\n    snapshot: ../loop.yaml\n    audit: true\n    expect: {SITE-OK: pass}\n")
    code, out, err = run_cli("test", pack)
    assert code == 2 and "Traceback" not in out + err and not out  # problems on stderr, as every command's
    _located(err, pack / "tests" / "dir.yaml", 1, 1, "is a directory, not a file")
    _located(err, os.path.realpath(pack / "loop.yaml"), 1, 1, "symbolic link loop")


# -- regular expressions --------------------------------------------------------------------
def test_catastrophic_pattern_is_linear(tmp_path, run_cli):
    data = _mixed_data()
    data["guests"][0]["name"] = "a" * 5000 + "!"  # Python's re: 2^5000 steps
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(data))
    pack = _pack(tmp_path, "p", _rule("SITE-REDOS", 'guest.name matches "(a+)+$"'))
    code, out, err = run_cli("audit", snap, "--rules", pack, "--format", "json")
    statuses = {r["subject"]["guest"]: r["status"] for r in json.loads(out)["results"] if r["rule"] == "SITE-REDOS"}
    assert statuses == {g["name"]: "fail" for g in data["guests"]}


_COMMON_PATTERNS = ["[A-Za-z0-9_.-]{1,256}", "web[0-9]+", "(a|b)*c", "a.c", "[^x]+", "\\d{2,3}", "(?i)abc",
                    "[A-Za-z][.][0-9]{2}[.][0-9]{2}([.][0-9]{2})?|[Vv]?[0-9]+([.][0-9]+)*", "a+?b", "\\w+-\\w+", ""]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_COMMON_PATTERNS), st.text(alphabet="abcxABCWwe09_.-\n ", max_size=12))
def test_re2_matches_like_python_re_on_common_patterns(pattern, value):
    """What site rules write today keeps its meaning on RE2 (whole-value match, ASCII classes)."""
    import re

    from migcheck.lang.builtins import compile_pattern

    assert compile_pattern(pattern).fullmatch(value) == (re.fullmatch(pattern, value) is not None)


@pytest.mark.parametrize("pattern,col,reason", [
    ("a{100000}", 30, "invalid repetition size: {100000}"),
    ("a{100000000000000000000}", 30, "invalid repetition size"),
    ("(a)\\\\1", 30, "invalid escape sequence: \\1"),
    ("(?<=x)y", 30, "invalid perl operator: (?<="),
    ("web(0-9]+", 30, "missing ): web(0-9]+"),
    ("x{99999999999}", 30, "invalid repetition size: {99999999999}"),  # RE2 alone would read it literally
    ("(a?)" * 5000 + "a" * 5000, 30, "a pattern of 25,000 characters is over the limit of 16,384"),  # RE2: 0.6 s
])
def test_literal_pattern_checked_at_lint(tmp_path, run_cli, pattern, col, reason):
    pack = _pack(tmp_path, "p", _rule("SITE-RX", f'guest.name matches "{pattern}"'))
    code, _, err = run_cli("lint", pack)
    assert code == 2 and "Traceback" not in err
    _located(err, pack / "site.rules", 5, col, "error[invalid-regex]: invalid regular expression")
    assert reason in err and "patterns use RE2 syntax" in err


def test_pattern_from_data_is_a_located_error_result(tmp_path, run_cli):
    data = _mixed_data()
    patterns = {"sapapp01": "a{100000}", "web01": "(?=x)", "vpdb02": 5, "dbprod01": "db.*"}
    for g in data["guests"]:
        if g["name"] in patterns:
            g["attrs"] = {"pattern": patterns[g["name"]]}
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(data))
    pack = _pack(tmp_path, "p", 'rule SITE-DATA-RX {\n  title "t"\n  severity error\n  on guest\n'
                 '  when guest.attrs.pattern != null\n  require guest.name matches guest.attrs.pattern\n'
                 '  message "m"\n  cite "c"\n}\n')
    code, out, err = run_cli("audit", snap, "--rules", pack, "--format", "json", "--fail-on", "never")
    assert code == 3 and "Traceback" not in err
    results = json.loads(out)["results"]
    mine = {r["subject"]["guest"]: r for r in results if r["rule"] == "SITE-DATA-RX"}
    assert mine["dbprod01"]["status"] == "pass"
    where = f"({pack / 'site.rules'}:6:42)"
    assert mine["sapapp01"]["status"] == "error" and mine["sapapp01"]["message"] == (
        f"invalid regular expression `a{{100000}}`: invalid repetition size: {{100000}} {where}")
    assert mine["web01"]["status"] == "error" and "invalid perl operator: (?=" in mine["web01"]["message"]
    assert mine["vpdb02"]["message"] == f"`matches` needs a pattern string, got `5` {where}"
    builtin = [r for r in results if r["rule"] != "SITE-DATA-RX"]
    assert len(builtin) == len(json.loads(run_cli("audit", snap, "--format", "json")[1])["results"])


# -- outputs ----------------------------------------------------------------------------------
def _same_file_state(path: Path) -> tuple:
    info = os.lstat(path)
    return (stat.S_IFMT(info.st_mode), info.st_ino, os.readlink(path) if stat.S_ISLNK(info.st_mode) else
            (path.read_bytes() if stat.S_ISREG(info.st_mode) else None))


@pytest.mark.parametrize("role,option", [("the snapshot", None), ("the configuration", "--config"),
                                         ("the waiver file", "--waivers"), ("the baseline", "--baseline"),
                                         ("a rule file", "--rules")])
def test_report_onto_an_input_is_refused_before_anything_runs(tmp_path, run_cli, role, option):
    snap = tmp_path / "s.yaml"
    snap.write_text(MIXED.read_text())
    extra, target = [], snap
    if option == "--config":
        target = tmp_path / "c.yaml"
        target.write_text("fail_on: warning\n")
    elif option == "--waivers":
        target = tmp_path / "w.yaml"
        target.write_text("waivers: []\n")
    elif option == "--baseline":
        target = tmp_path / "b.json"
        run_cli("audit", snap, "--format", f"json:{target}")
    elif option == "--rules":
        target = _pack(tmp_path, "p", _rule("SITE-OK", "guest.memory_mb > 0")) / "site.rules"
    if option:
        extra = [option, target.parent if option == "--rules" else target]
    (tmp_path / "link.yaml").symlink_to(target)
    before = {p: _same_file_state(p) for p in (snap, target, tmp_path / "link.yaml")}
    for spelling in (target, tmp_path / "link.yaml", Path(os.path.relpath(target))):
        code, out, err = run_cli("audit", snap, *extra, "--format", f"csv:{spelling}")
        assert code == 2 and out == "" and "Traceback" not in err
        assert f"the report `csv:{spelling}` would overwrite `{target}`, {role} this run reads" in err
        code, _, err = run_cli("audit", snap, *extra, "--output", spelling)
        assert code == 2 and role in err
    assert {p: _same_file_state(p) for p in before} == before


def test_two_reports_to_one_file_are_refused(tmp_path, run_cli):
    out = tmp_path / "r.json"
    code, _, err = run_cli("audit", MIXED, "--format", f"json:{out}", "--format", f"csv:{tmp_path}/./r.json")
    assert code == 2 and "two reports would be written to one file" in err
    assert not out.exists()
    for other in ("csv:-", "csv:/dev/stdout"):
        code, _, err = run_cli("audit", MIXED, "--format", "json", "--format", other)
        assert code == 2 and "two reports would go to standard output" in err


def test_dev_stdout_redirected_to_a_file_is_written_not_replaced(tmp_path):
    out = tmp_path / "out.txt"
    with open(out, "wb") as redirected:
        done = _subprocess("audit", MIXED, "--format", "json:/dev/stdout", stdout=redirected)
    assert done.returncode == 1 and done.stderr == b""
    assert json.loads(out.read_text())["tool"]["name"] == "migcheck"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_devices_fifos_and_symlinks_are_written_not_replaced(tmp_path, run_cli):
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    null_before = os.stat("/dev/null")
    code, out, err = run_cli("audit", MIXED, "--format", f"json:{link}", "--format", f"csv:{fifo}",
                             "--format", "sarif:/dev/null", "--format", "table:/dev/null", "--format", "markdown:-")
    reader.join(timeout=30)
    assert code == 1, err
    assert out.startswith("# migcheck audit")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["tool"]["name"] == "migcheck"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and got and got[0].startswith(b"rule,severity")
    null_after = os.stat("/dev/null")
    assert stat.S_ISCHR(null_after.st_mode) and null_after.st_rdev == null_before.st_rdev
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.json", "real.json"]  # no temporary left


def test_dangling_symlink_output_creates_its_target(tmp_path, run_cli):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "later.json")
    code, _, err = run_cli("audit", MIXED, "--output", link, "--format", "json")
    assert code == 1, err
    assert link.is_symlink() and json.loads((tmp_path / "later.json").read_text())["tool"]["name"] == "migcheck"


def test_bad_max_bytes_is_a_usage_error(run_cli):
    for value, words in (("0", "`0` bytes would refuse every file; give 1 or more"),
                         ("1e5", "`1e5` is not a whole number of bytes")):
        code, _, err = run_cli("validate", MIXED, "--max-bytes", value)
        assert code == 2 and words in err


def test_output_onto_a_directory_is_refused(tmp_path, run_cli):
    (tmp_path / "reports").mkdir()
    code, _, err = run_cli("audit", MIXED, "--output", tmp_path / "reports")
    assert code == 2 and f"migcheck: cannot write `{tmp_path / 'reports'}`: it is a directory" in err
    assert list((tmp_path / "reports").iterdir()) == []


def test_full_device_is_a_clean_message_and_stays_a_device():
    before = os.stat("/dev/full")
    done = _subprocess("audit", MIXED, "--format", "json:/dev/full")
    err = done.stderr.decode()
    assert done.returncode == 2 and "Traceback" not in err
    assert "migcheck: cannot write `/dev/full`: no space left on the device" in err
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


def test_stdout_on_a_full_disk_or_closed():
    with open("/dev/full", "wb") as full:
        done = _subprocess("audit", MIXED, stdout=full)
    assert done.returncode == 2 and done.stderr.decode().splitlines() == [
        "migcheck: cannot write the report to standard output: no space left on the device"]
    done = _subprocess("audit", MIXED, stdout=None, preexec_fn=lambda: os.close(1))
    assert done.returncode == 2 and done.stderr.decode().splitlines() == [
        "migcheck: standard output is closed; write the report to a file with `--output FILE`"]


@pytest.mark.parametrize("args", [("rules",), ("validate", MIXED, "--format", "json"),
                                  ("explain", MIXED, "DIO-NO-MATCH", "sapapp01", "vsp-e2"),
                                  ("lint", FIXTURES / "site-rules", "--format", "json"),
                                  ("test", FIXTURES / "site-rules")], ids=lambda a: a[0])
def test_every_command_on_a_full_disk(args):
    with open("/dev/full", "wb") as full:
        done = _subprocess(*args, stdout=full)
    assert done.returncode == 2 and done.stderr.decode().splitlines()[-1:] == [
        "migcheck: cannot write to standard output: no space left on the device"]


def test_stdout_closed_by_the_reader_is_quiet():
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    proc = subprocess.Popen([sys.executable, "-m", "migcheck", "matrix", str(MIXED), "--format", "html"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` finishing first
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 1) and err == ""


def test_temporary_file_removed_on_sigterm(tmp_path):
    """The write is held inside fsync (the temporary file exists); SIGTERM then leaves nothing behind."""
    target = tmp_path / "report.json"
    script = ("import os, sys, time\nfrom migcheck.files import outputs as atomic\n"
              "real = os.fsync\n"
              "def slow(fd):\n    print('writing', flush=True)\n    time.sleep(60)\n"
              "atomic.os.fsync = slow\natomic.write_output(sys.argv[1], 'x' * 100000)\n")
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the temporary file exists
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == -signal.SIGTERM  # still dies of SIGTERM
    assert list(tmp_path.iterdir()) == [] and "Traceback" not in proc.stderr.read()


def test_temporary_file_removed_on_ctrl_c(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    script = ("import os, sys, time\nfrom migcheck.files import outputs as atomic\n"
              "def slow(fd):\n    print('writing', flush=True)\n    time.sleep(60)\n"
              "atomic.os.fsync = slow\n"
              "try:\n    atomic.write_output(sys.argv[1], 'x' * 100000)\nexcept KeyboardInterrupt:\n"
              "    print('interrupted', flush=True)\n")
    env = {**os.environ, "PYTHONPATH": PACKAGE_PARENT}
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGINT)
    assert proc.stdout.readline().strip() == "interrupted" and proc.wait(timeout=30) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"] and target.read_text() == "old"


def test_warn_expiring_beyond_year_9999(run_cli):
    code, out, err = run_cli("audit", MIXED, "--waivers", FIXTURES / "waivers.yaml", "--warn-expiring",
                             "99999999999999999999", "--format", "json")
    assert code == 1 and "Traceback" not in err
    assert {n["status"] for n in json.loads(out)["waivers"]} >= {"expiring"}
    code, _, err = run_cli("audit", MIXED, "--warn-expiring", "-3")
    assert code == 2 and "`-3` days is in the past; give 0 or more days" in err


def test_baseline_has_its_own_larger_limit(tmp_path, run_cli):
    base = tmp_path / "base.json"
    run_cli("matrix", MIXED, "--format", f"json:{base}")
    assert base.stat().st_size > 20_000
    code, out, err = run_cli("matrix", MIXED, "--max-bytes", "20000", "--baseline", base, "--format", "json")
    assert code == 1 and "Traceback" not in err
    assert json.loads(out)["baseline"]["new"] == 0


# -- random rule files against random snapshots ----------------------------------------------
# Mostly well-typed rules (so that they pass the checker and run), built from what breaks
# evaluation: huge numbers, division by zero, patterns from the snapshot, releases that are
# not releases, long chains, and values of any type in `attrs`.
_SAFE = "abcxyz019 .-_*+?()[]{}|^$"


def _string_literal(draw) -> str:
    return '"' + draw(st.text(alphabet=_SAFE, max_size=10)).replace("\\", "") + '"'


@st.composite
def _numbers(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        choice = draw(st.integers(0, 6))
        if choice == 0:
            return str(draw(st.integers(0, 10**40)))
        return ["guest.memory_mb", "host.memory_mb.free", "len(guest.name)", "count(guest.storage)",
                "default(guest.vcpus, 0)", "guest.attrs.x"][choice - 1]
    op = draw(st.sampled_from(["+", "-", "*", "/", "%"]))
    return f"({draw(_numbers(depth + 1))} {op} {draw(_numbers(depth + 1))})"


@st.composite
def _strings(draw):
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return _string_literal(draw)
    return ["guest.name", "guest.kind", "host.version", "lower(guest.name)", "guest.attrs.x"][choice - 1]


@st.composite
def _conditions(draw, depth=0):
    kind = draw(st.integers(0, 9 if depth < 3 else 5))
    if kind == 0:
        return f"{draw(_numbers())} {draw(st.sampled_from(['<', '<=', '>', '>=', '==', '!=']))} {draw(_numbers())}"
    if kind == 1:
        return f"{draw(_strings())} == {draw(_strings())}"
    if kind == 2:
        pattern = "guest.attrs.x" if draw(st.booleans()) else _string_literal(draw)  # from the snapshot, or literal
        return f"{draw(_strings())} matches {pattern}"
    if kind == 3:
        return f"version({draw(_strings())}) >= \"4.1\""
    if kind == 4:
        return draw(st.sampled_from(["any(s in guest.storage: s.shared_san)", "guest.attrs.x == 1",
                                     "\"a\" in guest.name", "guest.kind in [\"vm\", \"vpar\"]"]))
    if kind == 5:
        return " and ".join(["guest.memory_mb >= 0"] * draw(st.integers(1, 500)))
    if kind == 6:
        return f"not ({draw(_conditions(depth + 1))})"
    op = draw(st.sampled_from(["and", "or"]))
    return f"({draw(_conditions(depth + 1))}) {op} ({draw(_conditions(depth + 1))})"


_snapshot_values = st.one_of(st.integers(-10**20, 10**20), st.text(alphabet=_SAFE + "\u00e9\u0080\U0001F600"),
                             st.sampled_from(["(a+)+$", "a{100000}", "(?<=a)", "4.2.5", "B.06.10", "x.y"]),
                             st.none(), st.booleans(), st.floats(), st.lists(st.integers(), max_size=3))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(_conditions(), min_size=1, max_size=4), _snapshot_values, st.text(min_size=1, max_size=20))
def test_random_rules_on_random_snapshots_exit_0_to_3_without_traceback(tmp_path_factory, conditions, attr, name):
    tmp = tmp_path_factory.mktemp("h")
    data = _mixed_data()
    data["guests"][0]["attrs"] = {"x": attr}
    data["guests"][1]["name"] = name
    data["guests"][2]["attrs"] = {"x": "a" * 40 + "!"}
    snap = tmp / "s.json"
    snap.write_text(json.dumps(data))
    pack = tmp / "p"
    pack.mkdir()
    (pack / "r.rules").write_text("".join(_rule(f"SITE-R{i}", c) for i, c in enumerate(conditions)))
    done = _subprocess("audit", snap, "--rules", pack, "--format", "json")  # the time limit: 120 s
    err = done.stderr.decode()
    assert done.returncode in (0, 1, 2, 3), err
    assert "Traceback" not in err, err
    if done.returncode != 2:  # every rule reported, each subject once
        results = json.loads(done.stdout)["results"]
        for i in range(len(conditions)):
            assert len([r for r in results if r["rule"] == f"SITE-R{i}"]) == len(data["guests"])


@pytest.mark.parametrize("written, read", [("6.10", "6.1"), ("0x1F", "31"), ("010", "10"), ("1e3", "1000.0")])
def test_quote_it_help_quotes_the_number_as_written(tmp_path, run_cli, written, read):
    """The help said `quote it: "6.1"` for `version: 6.10`: followed, it turned release 6.10 into 6.1."""
    text = (FIXTURES / "mixed-site.yaml").read_text()
    assert "version: B.06.10  " in text
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text(text.replace("version: B.06.10  ", f"version: {written}  ", 1))
    code, _, err = run_cli("validate", snapshot)
    assert code == 2 and "Traceback" not in err
    assert f'help: quote it as written: "{written}" (YAML reads unquoted {written} as a number)' in err, err
    assert f'"{read}"' not in err or read == written


def test_a_type_problem_shows_the_number_as_written(tmp_path, run_cli):
    """`guest: 010` said `not a number 10` (what YAML read), hiding what the file says."""
    plan = tmp_path / "p.yaml"
    plan.write_text("plan: 1\nname: 0x10\nstages:\n  - migrations:\n      - {guest: 010, to: vsp-e4}\n")
    code, _, err = run_cli("plan", FIXTURES / "mixed-site.yaml", plan)
    assert code == 2 and "Traceback" not in err
    assert f"{plan}:2:7: error[schema]: the plan: `name` must be a string, not a number `0x10`" in err, err
    assert "`guest` must be a string, not a number `010`" in err and "number `10`" not in err


def test_an_empty_tags_list_is_a_located_problem(tmp_path, run_cli):
    """`tags: []` ran every rule, where the schema says only rules with one of these tags run."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("tags: []\n")
    code, _, err = run_cli("audit", FIXTURES / "mixed-site.yaml", "--config", cfg)
    assert code == 2 and f"{cfg}:1:7: error[schema]: the configuration: `tags` must not be an empty list" in err, err


@pytest.mark.parametrize("day", ["2026-W49-7", "20261206", "2026-12-6", "２０２６-12-06"])
def test_as_of_takes_yyyy_mm_dd_only(run_cli, day):
    """`2026-W49-7` (an ISO week date, ten characters) was taken, where the help says YYYY-MM-DD."""
    code, _, err = run_cli("audit", FIXTURES / "mixed-site.yaml", "--as-of", day)
    assert code == 2 and "is not a date: give it as YYYY-MM-DD" in err, err


@pytest.mark.parametrize("written, shown", [("&v 6.10", "6.10"), ("!!float 6.10", "6.10"), ("&a !!float 6.10", "6.10")])
def test_quote_it_as_written_looks_past_an_anchor_or_a_tag(tmp_path, run_cli, written, shown):
    text = (FIXTURES / "mixed-site.yaml").read_text()
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text(text.replace("version: B.06.10  ", f"version: {written}  ", 1))
    code, _, err = run_cli("validate", snapshot)
    assert code == 2 and f'quote it as written: "{shown}"' in err, err


def test_quote_it_as_written_with_carriage_returns_only(tmp_path, run_cli):
    """A file whose lines end with a lone CR (the reader counts them as line ends) gave the value as read."""
    text = (FIXTURES / "mixed-site.yaml").read_text().replace("version: B.06.10  ", "version: 6.10  ", 1)
    snapshot = tmp_path / "s.yaml"
    snapshot.write_bytes(text.replace("\n", "\r").encode())
    code, _, err = run_cli("validate", snapshot)
    assert code == 2 and 'quote it as written: "6.10"' in err, err


def test_a_format_version_written_as_a_string_is_said_so(tmp_path, run_cli):
    """`snapshot: "1"` said "`snapshot` is `1`, expected `1`"."""
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text('snapshot: "1"\nhosts: []\nguests: []\n')
    code, _, err = run_cli("validate", snapshot)
    assert code == 2 and "`snapshot` is the string `1`, expected `1`" in err and "write `snapshot: 1`" in err, err


def test_a_json_file_is_told_what_json_reads(tmp_path, run_cli):
    snapshot = tmp_path / "s.json"
    snapshot.write_text('{"snapshot": 1, "hosts": [{"name": "a", "version": 6.10, "processor": "x", '
                        '"memory_mb": {"total": 1, "free": 1}}], "guests": []}')
    code, _, err = run_cli("validate", snapshot)
    assert code == 2 and 'quote it as written: "6.10" (JSON reads unquoted 6.10 as a number)' in err, err


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
def test_a_line_separator_in_a_value_does_not_shift_later_locations(tmp_path, run_cli, char):
    """libyaml ends a line at LS, PS and NEL (YAML 1.1); YAML 1.2 and the echo do not: every later problem was
    located a line too far, its echo showing another line."""
    text = (FIXTURES / "mixed-site.yaml").read_text()
    assert "attrs: {rack: E-04, support: 24x7}" in text
    text = text.replace("attrs: {rack: E-04, support: 24x7}", f'attrs: {{rack: E-04, support: 24x7, note: "moved{char}from"}}',
                        1)
    text = text.replace("version: B.06.00  ", "version: 6.10  ", 1)  # (after the value holding the character)
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text(text)
    line = text.split("\n").index(next(x for x in text.split("\n") if "version: 6.10" in x)) + 1
    code, _, err = run_cli("validate", snapshot)
    assert code == 2 and f"{snapshot}:{line}:14: error[schema]" in err and "|     version: 6.10" in err, err


def test_quote_it_as_written_reads_a_verbatim_tag_and_an_alias(tmp_path, run_cli):
    """`!<tag:yaml.org,2002:float> 6.30` quoted "!<tag:yaml.org"; an alias `*n` of `&n 0120` quoted "120"."""
    text = (FIXTURES / "mixed-site.yaml").read_text()
    snapshot = tmp_path / "s.yaml"
    snapshot.write_text(text.replace("version: B.06.10  ", "version: !<tag:yaml.org,2002:float> 6.30  ", 1))
    code, _, err = run_cli("validate", snapshot)
    assert code == 2 and 'quote it as written: "6.30"' in err, err
    snapshot.write_text(text.replace("version: B.06.10  ", "version: &v 6.10  ", 1)
                        .replace("version: B.06.00  ", "version: *v  ", 1))
    code, _, err = run_cli("validate", snapshot)
    assert code == 2 and err.count('quote it as written: "6.10"') == 2 and '"6.1"' not in err, err


@pytest.mark.parametrize("fmt", ["json", "sarif", "csv", "gitlab"])
def test_a_file_name_that_is_not_utf8_is_shown_replaced_in_every_report(tmp_path, run_cli, fmt):
    """A snapshot named with bytes that are not UTF-8 (Latin-1 from an old HP-UX host): the reports are written,
    UTF-8, naming it with U+FFFD (a traceback before); so is the exit-2 document of such a name."""
    name = os.fsdecode(b"snap\xff.yaml")
    snap = tmp_path / name
    shutil.copy(MIXED, snap)
    out = tmp_path / f"out.{fmt}"

    def run(*args):  # (a process of its own: its standard error shows the name as Python shows it, escaped)
        return subprocess.run([sys.executable, "-m", "migcheck", *map(os.fsencode, map(str, args))],
                              capture_output=True)
    done = run("check", snap, "sapapp01", "vsp-e2", "-f", f"{fmt}:{out}")
    assert done.returncode == 1 and b"Traceback" not in done.stderr, done.stderr
    assert "snap\ufffd.yaml" in out.read_bytes().decode("utf-8")
    failure = tmp_path / "fail.sarif"
    done = run("check", tmp_path / os.fsdecode(b"nosuch\xff.yaml"), "g", "t", "-f", f"sarif:{failure}")
    assert done.returncode == 2 and b"Traceback" not in done.stderr, done.stderr
    assert "nosuch\ufffd.yaml" in failure.read_bytes().decode("utf-8")
