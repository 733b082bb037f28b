"""Nasty snapshots against validate, audit and check (QA pass): exit 2, every problem located, no traceback.

Each case is raw bytes, the line and column of its first problem, and words of its message;
the same file is given to `validate`, `audit` and `check`, which must agree. Problems that
quote the input show its control characters as escapes, never as bytes a terminal obeys.
"""

from __future__ import annotations

import pytest

BASE = ('snapshot: 1\n'
        'hosts:\n'
        '  - {name: a, version: "6.1", processor: Itanium 9300, memory_mb: {total: 1024, free: 512}}\n'
        '  - {name: b, version: "6.1", processor: Itanium 9300, memory_mb: {total: 1024, free: 512}}\n'
        'guests:\n'
        '  - {name: g, kind: vm, host: a, state: off, memory_mb: 256}\n')


def _with(old: str, new: str) -> bytes:
    assert old in BASE
    return BASE.replace(old, new, 1).encode()


# (id, suffix, bytes, line, col, words of the first problem)
CASES = [
    ("utf-16", ".yaml", BASE.encode("utf-16"), 1, 1, "not UTF-8 text"),
    ("nul byte", ".yaml", _with("name: g", "name: g\0x"), 6, 13, "control character 0x00"),
    ("python tag", ".yaml", _with("memory_mb: 256", "memory_mb: !!python/object:os.system 256"), 6, 57,
     "unsupported tag"),
    ("local tag", ".yaml", _with("memory_mb: 256", "memory_mb: !custom 256"), 6, 57, "unsupported tag `!custom`"),
    ("merge key", ".yaml", _with("  - {name: b, version", "  - &h {name: b, version") + b"  - {<<: *h, name: c}\n",
     7, 5, "guest `c` is missing"),
    ("float overflow", ".yaml", _with("memory_mb: 256", "memory_mb: 1e999"), 6, 57, "must be an integer"),
    (".inf", ".yaml", _with("memory_mb: 256", "memory_mb: .inf"), 6, 57, "not a number `.inf`"),
    (".nan", ".yaml", _with("memory_mb: 256", "memory_mb: .nan"), 6, 57, "not a number `.nan`"),
    ("4,301 digits", ".yaml", _with("memory_mb: 256", "memory_mb: " + "9" * 4301), 6, 57, "4,301 digits"),
    ("anchored key", ".yaml", _with("snapshot: 1\n", "snapshot: 1\n&k site: x\n*k : y\n"), 3, 1,
     "duplicate key `site`"),
    ("complex key", ".yaml", _with("snapshot: 1\n", "snapshot: 1\n? [a, b]\n: 1\n"), 2, 3,
     "a mapping key must be a plain value"),
    ("two documents", ".yaml", BASE.encode() + b"---\n" + BASE.encode(), 7, 1, "more than one YAML document"),
    ("json duplicate key", ".json", b'{"snapshot": 1,\n "hosts": [], "guests": [],\n "snapshot": 1}', 3, 2,
     "duplicate key `snapshot`"),
    ("json nesting", ".json", b'{"snapshot": 1, "hosts": [], "guests": [], "site": ' + b"[" * 50000 + b"]" * 50000
     + b"}", 1, 115, "nesting deeper than"),
    ("json NaN", ".json", b'{"snapshot": 1, "hosts": [{"name": "a", "version": "6.1", "processor": "x",\n'
     b'  "memory_mb": {"total": NaN, "free": 1}}], "guests": []}', 2, 26, "not a number `NaN`"),
    ("json 1e999", ".json", b'{"snapshot": 1, "hosts": [{"name": "a", "version": "6.1", "processor": "x",\n'
     b'  "memory_mb": {"total": 1e999, "free": 1}}], "guests": []}', 2, 26, "not a number `1e999`"),
    ("json lone surrogate", ".json", b'{"snapshot": 1, "site": "\\ud800", "hosts": [], "guests": []}', 1, 25,
     "surrogate"),
    ("escape sequence", ".yaml", _with("state: off", 'state: "\\e[2J\\e]0;pwned\\a"'), 6, 41,
     "`state` is `\\x1b[2J\\x1b]0;pwned\\x07`"),
    ("line end", ".yaml", _with("state: off", 'state: "off\\n/etc/passwd:1:1: error[input]: forged"'), 6, 41,
     "`state` is `off\\x0a/etc/passwd:1:1: error[input]: forged`"),
    ("bidi override", ".yaml", _with("state: off", 'state: "\\u202eno"'), 6, 41, "`state` is `\\u202eno`"),
    ("long value", ".yaml", _with("state: off", "state: " + "x" * 5000), 6, 41,
     "`state` is `" + "x" * 60 + "...` (5,000 characters), expected one of"),
    ("list for a string", ".yaml", _with("name: g,", "name: [1, 2],"), 6, 12,
     "`name` must be a string, not a list (at $.guests[0].name)"),
]


@pytest.mark.parametrize("command", ["validate", "audit", "check"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_nasty_snapshot_is_located_never_a_traceback(run_cli, tmp_path, command, case):
    _, suffix, raw, line, col, words = case
    path = tmp_path / f"nasty{suffix}"
    path.write_bytes(raw)
    extra = ["g", "b"] if command == "check" else []
    code, out, err = run_cli(command, path, *extra)
    assert code == 2, (out, err)
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:{line}:{col}: "), err
    assert words in err, err
    assert not any(c in err for c in "\x1b\x07\x00\u202e"), repr(err)
    assert not any(line.startswith("/etc/passwd") for line in err.splitlines())  # no forged diagnostic line


def test_a_byte_order_mark_is_read_as_utf8(run_cli, tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    code, out, err = run_cli("validate", path)
    assert code == 0 and "valid snapshot: 2 hosts, 1 guests" in out + err


def test_a_suggested_name_reaches_the_terminal_escaped(run_cli, tmp_path):
    """`did you mean` quotes names from the snapshot: an ESC sequence or an override in one is shown, not obeyed."""
    path = tmp_path / "names.yaml"
    path.write_text(BASE.replace("name: b,", 'name: "b\\e[2J\\u202ex",').replace("name: g,", 'name: "g\\x85",'))
    code, out, err = run_cli("check", path, "g", "bx")
    assert code == 2
    assert err.startswith("migcheck: unknown guest `g`; did you mean `g\\x85`?"), err
    code, out, err = run_cli("check", path, "g\x85", "b[2Jx")
    assert code == 2
    assert "did you mean `b\\x1b[2J\\u202ex`?" in err and not any(c in err for c in "\x1b\x85\u202e"), repr(err)
