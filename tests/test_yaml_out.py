"""The one YAML writer (`migcheck.files.yaml_out.dump_yaml`): what it writes, YAML 1.2 readers
(migcheck's own) and YAML 1.1 readers (PyYAML's `safe_load`) read back the same.

It writes `import`'s snapshot, `plan --emit-snapshot`, `place --output` and the text `place`
checks its own proposal from. Under `yaml.safe_dump` (YAML 1.1 quoting) a guest named `1e3`
was written plain and read back by migcheck as the float 1000.0, an attribute "0o17" as 15.
"""

from __future__ import annotations

import json
import math
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migcheck.files.document import parse_text
from migcheck.files.yaml_out import dump_yaml, needs_quotes

from .conftest import FIXTURES

# strings a reader may take for something else: YAML 1.2 core, YAML 1.1 (spec and PyYAML)
WORDS = ["off", "Off", "OFF", "on", "ON", "yes", "Yes", "no", "NO", "y", "Y", "n", "N", "true", "False",
         "~", "null", "Null", "NULL", "1e3", "1E3", "-1e-3", "0o17", "0O17", "017", "0x1F", "0b101", "1_000",
         "12:30:00", "1:30.5", "190:20:30", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "2026-12-05",
         "2026-12-05T10:00:00Z", "2001-12-14 21:59:43.10 -5", "=", "<<", "1", "-0", "+12", "1.5", ".5",
         "5.", "1.", "+.5e+3", "4.2.5", "B.06.10", "0/0/0/4/0/0/0", "---", "...", "- x", "? x", "!x",
         "&a", "*a", "|", ">", "%x", "@x", "`x", "#x", "x #y", "a: b", "a:b", "[x]", "{x}", "x,y", "'",
         '"', "\\", ""]
# the characters that make writing a string hard
ALPHABET = (" \t\n\r:#-?,[]{}&*!|>'\"%@`~=<.0123456789eExXoObB_+/\\yn"
            "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x80\x85\x9f\xa0\xe9\u00ff\u2028\u2029\ufeff\ufffe\u4e2d\U0001f600")

_text = st.text(alphabet=ALPHABET, max_size=12)
_long = st.lists(st.sampled_from(WORDS + [" ", "  ", "x" * 40, "\n"]), min_size=20, max_size=60).map(" ".join)
strings = st.one_of(st.sampled_from(WORDS), _text, _text.map(lambda s: s.join(["", " ", ""])), _long,
                    st.text(max_size=20))
scalars = st.one_of(strings, st.integers(), st.integers(-(10 ** 40), 10 ** 40),
                    st.floats(allow_nan=False), st.booleans(), st.none())
data = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                     st.dictionaries(strings, inner, max_size=5)),
                    max_leaves=30)


def same(a, b) -> bool:
    """Equal values of equal types, all the way down (`1 == 1.0 == True` is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def read_back(text: str):
    """(migcheck's YAML 1.2 reader, PyYAML's YAML 1.1 safe_load)."""
    return parse_text(text, "out.yaml").data, yaml.safe_load(text)


# -- the writer -----------------------------------------------------------------------------
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data)
def test_both_readers_read_back_what_was_written(value):
    text = dump_yaml(value)
    ours, theirs = read_back(text)
    assert same(ours, value), text
    assert same(theirs, value), text
    assert dump_yaml(value) == text  # deterministic


@pytest.mark.parametrize("word", [w for w in WORDS if w])
def test_every_dangerous_word_is_a_string_as_value_key_and_list_item(word):
    value = {word: [word, {"k": word}], "v": word}
    text = dump_yaml(value)
    for read in read_back(text):
        assert same(read, value), text


@pytest.mark.parametrize("word", ["off", "on", "yes", "no", "y", "n", "~", "null", "1e3", "0o17", "0x1F",
                                  "1_000", "12:30:00", ".inf", ".nan", "2026-12-05", "=", "<<", "true"])
def test_words_that_resolve_to_something_else_are_double_quoted(word):
    assert needs_quotes(word)
    assert dump_yaml({"a": word, word: 1}) == f'{{a: "{word}", "{word}": 1}}\n'


@pytest.mark.parametrize("word", ["vsp-e1", "B.06.10", "4.2.5", "0/0/0/4/0/0/0", "web01", "Itanium 9300", "é"])
def test_plain_words_stay_plain(word):
    assert dump_yaml({"a": word}) == f"{{a: {word}}}\n"


def test_special_characters_are_escaped_not_written_raw():
    value = {"s": ["a\nb", "tab\there", "nul\x00", "esc\x1b", "nel\x85", "ls\u2028ps\u2029", "\ufeffbom",
                   "del\x7f", "cr\r"]}
    text = dump_yaml(value)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]", text), repr(text)
    assert text.count("\n") == 1  # each string on the one line of its list
    for read in read_back(text):
        assert same(read, value)


def test_long_strings_and_long_keys_round_trip():
    long = " ".join(["word"] * 60) + "  two  spaces " + "x" * 150 + " trailing "
    value = {"k" * 200: long, "list": [long, "a: b " * 40], "t": {"x": long}}
    text = dump_yaml(value)
    assert text.startswith("? kkk") and len(text.splitlines()) > 10  # an explicit key; values folded
    for read in read_back(text):
        assert same(read, value)


def test_no_tags_no_anchors_no_aliases():
    shared = {"a": 1, "b": [True, False, None]}
    value = {"one": shared, "two": shared, "list": [shared, shared["b"], shared["b"]], "flag": True}
    text = dump_yaml(value)
    assert "!" not in text and "&" not in text and "*" not in text, text
    assert "flag: true" in text  # a boolean, not `!!bool 'true'`
    for read in read_back(text):
        assert same(read, value)


def test_header_comment_lines():
    assert dump_yaml({"plan": 1}, "one\n\ntwo") == "# one\n#\n# two\n{plan: 1}\n"


# -- the commands that write YAML -----------------------------------------------------------
# names and attributes that YAML 1.1 quoting wrote plain and YAML 1.2 reads as numbers (and others)
RENAME = {"web01": "1e3", "sapapp01": "0o17", "dbprod01": "off", "vsp-e1": "yes", "vsp-e3": "12:30:00",
          "vsp-e4": "0x1F"}
ATTRS = {"code": "0o17", "1e3": "1_000", "when": "2026-12-05", "y": "~", "note": "a: b #c", "0x1F": ".inf"}


def _renamed_site() -> dict:
    """fixtures/mixed-site.yaml with guests and VSPs named by dangerous words, and dangerous attributes."""
    site = parse_text((FIXTURES / "mixed-site.yaml").read_text(), "mixed-site.yaml").data
    for host in site["hosts"]:
        host["name"] = RENAME.get(host["name"], host["name"])
        for function in host.get("dio_functions", []):
            if "assigned_to" in function:
                function["assigned_to"] = RENAME.get(function["assigned_to"], function["assigned_to"])
    for guest in site["guests"]:
        guest["name"] = RENAME.get(guest["name"], guest["name"])
        guest["host"] = RENAME.get(guest["host"], guest["host"])
    site["guests"][0]["attrs"] = {**site["guests"][0].get("attrs", {}), **ATTRS}
    return site


@pytest.fixture
def renamed(tmp_path):
    path = tmp_path / "site.json"  # JSON: the input does not depend on the writer under test
    path.write_text(json.dumps(_renamed_site(), indent=1))
    return path


def test_emit_snapshot_of_dangerous_names_validates_and_reads_back_equal(run_cli, renamed, tmp_path):
    wave = tmp_path / "wave.json"
    wave.write_text(json.dumps({"plan": 1, "stages": [{"migrations": [
        {"guest": "0o17", "to": "0x1F"}, {"guest": "1e3", "to": "12:30:00", "stop": True},
        {"guest": "off", "to": "0x1F", "stop": True}]}]}))
    after, after_json = tmp_path / "after.yaml", tmp_path / "after.json"
    code, out, err = run_cli("plan", renamed, wave, "--emit-snapshot", after)
    assert code == 0 and out.startswith("READY"), out + err
    code, out, err = run_cli("validate", after)
    assert code == 0, out + err
    run_cli("plan", renamed, wave, "--emit-snapshot", after_json)
    expected = json.loads(after_json.read_text())  # the JSON output does not go through the writer
    text = after.read_text()
    for read in read_back(text):
        assert same(read, expected)
        guests = {g["name"]: g for g in read["guests"]}
        assert {"1e3", "0o17", "off"} <= set(guests)
        assert guests["1e3"]["host"] == "12:30:00" and guests["0o17"]["host"] == "0x1F"
        assert guests["off"]["attrs"] == {"app": "oracle", "tier": "production", **ATTRS}


def test_place_checks_its_own_proposal_for_dangerous_names(run_cli, renamed, tmp_path):
    proposed = tmp_path / "proposed.yaml"
    code, out, err = run_cli("place", renamed, "--vacate", "yes", "--output", proposed, "--format", "json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["verdict"] == "ready" and report["placement"]["placed"] == 3
    moves = [(m["guest"], m["target"]) for m in report["plan"]["migrations"]]
    assert {g for g, _ in moves} == {"1e3", "0o17", "off"}
    assert dict(moves)["0o17"] == "0x1F"  # the only VSP with a pooled function labeled sapapp01
    text = proposed.read_text()
    assert text.startswith("# proposed by migcheck place")
    for read in read_back(text):
        assert [(m["guest"], m["to"]) for stage in read["stages"] for m in stage["migrations"]] == moves
        assert read["name"] == "vacate yes"
    code, out, err = run_cli("plan", renamed, proposed)
    assert code == 0 and out.startswith("READY"), out + err
