"""Names in two Unicode spellings (NFC and NFD) and look-alikes with invisible characters (issue 21, item 9):
compared in NFC wherever names meet, and reported by INV-LOOKALIKE-NAME with each spelling escaped."""

from __future__ import annotations

import json

import yaml

from migcheck.estate.snapshot import load_snapshot, snapshot_from_data

NFC, NFD = "caf\u00e9", "cafe\u0301"  # one name, two spellings
ALIKE = "sap\u200bapp01"  # `sapapp01` with a zero-width space


def _host(name: str, **extra) -> dict:
    return {"name": name, "version": "6.1", "processor": "Itanium 9300",
            "memory_mb": {"total": 65536, "free": 32768}, **extra}


def _guest(name: str, host: str, **extra) -> dict:
    return {"name": name, "kind": "vm", "host": host, "state": "off", "memory_mb": 1024, **extra}


def _estate(guests: list[dict], **vsp1) -> dict:
    return {"snapshot": 1, "hosts": [_host("vsp1", **vsp1), _host("vsp2", **vsp1)], "guests": guests}


def _write(tmp_path, data: dict, name: str = "s.yaml"):
    """The estate as a YAML file that holds the characters themselves (not escapes)."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _audit(run_cli, path) -> dict:
    code, out, err = run_cli("audit", path, "--format", "json")
    assert code in (0, 1), err
    return {r["rule"]: r for r in json.loads(out)["results"] if r["rule"].startswith("INV-")
            and (r["rule"] != "INV-DUPLICATE-GUEST" or r["status"] == "fail")}


def test_nfc_and_nfd_spellings_of_a_guest_name_are_one_name_and_reported(run_cli, tmp_path):
    path = _write(tmp_path, _estate([_guest(NFC, "vsp1"), _guest(NFD, "vsp2")]))
    found = _audit(run_cli, path)
    lookalike = found["INV-LOOKALIKE-NAME"]
    assert lookalike["status"] == "fail"
    # both raw spellings, escaped, so a reader tells them apart
    assert "`cafe\\u0301` (guest #2) is `caf\\u00e9` (guest #1)" in lookalike["message"]
    assert NFD not in lookalike["message"] and NFC not in lookalike["message"]
    assert found["INV-DUPLICATE-GUEST"]["status"] == "fail"  # one name, runnable on two VSPs
    snapshot = load_snapshot(str(path))
    assert list(snapshot.guest_by_name) == [NFC] and [g["name"] for g in snapshot.guests] == [NFC, NFC]


def test_a_zero_width_look_alike_is_reported_and_stays_another_guest(run_cli, tmp_path):
    path = _write(tmp_path, _estate([_guest("sapapp01", "vsp1"), _guest(ALIKE, "vsp1")]))
    found = _audit(run_cli, path)
    message = found["INV-LOOKALIKE-NAME"]["message"]
    assert found["INV-LOOKALIKE-NAME"]["status"] == "fail"
    assert ("guest name `sap\\u200bapp01` (guest #2) differs from `sapapp01` (guest #1) only by invisible "
            "characters (U+200B ZERO WIDTH SPACE)") in message
    assert "INV-DUPLICATE-GUEST" not in found  # two names, as on the VSP
    assert set(load_snapshot(str(path)).guest_by_name) == {"sap\u200bapp01", "sapapp01"}


def test_a_single_name_with_a_bidi_control_is_reported_where_it_stands():
    snapshot = snapshot_from_data(_estate([_guest("web01", "vsp1", networks=[{"vswitch": "lan\u202epub"}])]))
    (problem,) = [p for p in snapshot.problems if p.kind == "lookalike-name"]
    assert problem.path == ("guests", 0, "networks", 0, "vswitch")
    assert problem.message == ("vswitch name `lan\\u202epub` (`vswitch` of network #1 of guest #1) holds invisible "
                               "characters (U+202E RIGHT-TO-LEFT OVERRIDE)")
    assert snapshot.guests[0]["problems"] == [{"kind": "lookalike-name", "message": problem.message}]


def test_escapes_in_a_json_snapshot_are_read_as_the_characters(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_estate([_guest(NFC, "vsp1"), _guest(NFD, "vsp2")])))  # ASCII, with \u escapes
    assert path.read_text().isascii()
    snapshot = load_snapshot(str(path))
    assert [p.kind for p in snapshot.problems] == ["lookalike-name", "duplicate-guest"]


def test_check_finds_the_nfc_guest_from_its_nfd_spelling(run_cli, tmp_path):
    path = _write(tmp_path, _estate([_guest(NFC, "vsp1")]))
    code, out, err = run_cli("check", path, NFD, "vsp2", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["verdict"] == "ready"
    code, out, err = run_cli("check", path, "vsp1\u200b", "vsp2")
    assert code == 2 and "is a VSP" not in err  # a look-alike VSP name is not the VSP


def test_a_look_alike_given_on_the_command_line_is_named_escaped(run_cli, tmp_path):
    path = _write(tmp_path, _estate([_guest("sapapp01", "vsp1")]))
    code, _, err = run_cli("check", path, ALIKE, "vsp2")
    assert code == 2
    assert ("unknown guest `sap\\u200bapp01`; the snapshot has `sapapp01`, which differs from it only by invisible "
            "characters") in err


def test_a_network_on_a_vswitch_spelt_nfd_matches_the_targets_nfc_vswitch(run_cli, tmp_path):
    data = _estate([_guest("web01", "vsp1", networks=[{"vswitch": "lane\u0301"}])], vswitches=["lan\u00e9"])
    path = _write(tmp_path, data)
    code, out, err = run_cli("check", path, "web01", "vsp2", "--format", "json")
    assert code == 0, err
    statuses = {r["rule"]: r["status"] for r in json.loads(out)["results"]}
    assert statuses["VSWITCH-MISSING"] == "pass"


def test_a_plain_ascii_estate_has_no_finding(run_cli, tmp_path):
    data = _estate([_guest("sapapp01", "vsp1", networks=[{"vswitch": "vs-pub"}]), _guest("web01", "vsp2")],
                   vswitches=["vs-pub"])
    path = _write(tmp_path, data)
    assert _audit(run_cli, path)["INV-LOOKALIKE-NAME"]["status"] == "pass"
    assert load_snapshot(str(path)).problems == []


def test_a_dio_label_spelt_nfd_on_the_source_matches_the_targets_nfc_label(run_cli, tmp_path):
    def function(hwpath: str, label: str, **extra) -> dict:
        return {"hwpath": hwpath, "type": "FLA", "pool": True, "label": label, **extra}

    data = {"snapshot": 1,
            "hosts": [_host("vsp1", dio_functions=[function("0/0/1", "lane\u0301", assigned_to="db01")]),
                      _host("vsp2", dio_functions=[function("0/0/9", "lan\u00e9")])],
            "guests": [_guest("db01", "vsp1", dio=["0/0/1"])]}
    code, out, err = run_cli("check", _write(tmp_path, data), "db01", "vsp2", "--format", "json")
    statuses = {r["rule"]: r["status"] for r in json.loads(out)["results"]}
    assert statuses["DIO-NO-MATCH"] == "pass", err


def test_a_rule_test_case_names_its_guest_in_any_spelling(run_cli, tmp_path):
    pack = tmp_path / "p"
    (pack / "tests").mkdir(parents=True)
    (pack / "site.rules").write_text('rule SITE-MEM {\n  title "t"\n  severity error\n  on migration\n'
                                     '  require guest.memory_mb <= target.memory_mb.free\n  message "m"\n  cite "c"\n}\n')
    (pack / "snapshots").mkdir()
    _write(pack / "snapshots", _estate([_guest(NFC, "vsp1")]), "estate.yaml")
    (pack / "tests" / "cases.yaml").write_text(yaml.safe_dump({"cases": [
        {"name": "nfd", "snapshot": "../snapshots/estate.yaml", "check": {"guest": NFD, "target": "vsp2"},
         "expect": {"SITE-MEM": "pass"}}]}, allow_unicode=True), encoding="utf-8")
    code, out, err = run_cli("test", pack)
    assert code == 1 and "1 passed, 0 failed" in out, out + err  # 1: the rule has no failing case


def test_campaign_globs_are_compared_in_nfc():
    from argparse import Namespace

    from migcheck.app.campaign import campaign_options

    args = Namespace(upgrade="vsp-" + NFD + "*", to="6.3", keep=NFD, offline_window=None, max_stages=None,
                     time_limit=5.0, return_guests=False, name=None, plan_output=None)
    options = campaign_options(args)
    assert options["upgrade"] == "vsp-" + NFC + "*" and options["keep"] == NFC
    args.keep = None
    assert campaign_options(args)["keep"] is None


def test_place_names_and_globs_are_compared_in_nfc():
    from argparse import Namespace

    from migcheck.app.waves import place_options

    args = Namespace(vacate=NFD, guest=NFD + "*", to=None, time_limit=5.0, plan_output=None, name=None)
    options = place_options(args)
    assert (options.vacate, options.guests, options.targets) == (NFC, NFC + "*", None)


def test_a_waiver_naming_a_guest_in_nfd_waives_its_nfc_findings(run_cli, tmp_path):
    path = _write(tmp_path, _estate([_guest(NFC, "vsp1", memory_mb=999999)]))
    waivers = tmp_path / "w.yaml"
    waivers.write_text(yaml.safe_dump({"waivers": [
        {"rule": "MEMORY-TARGET", "guest": NFD, "target": "vsp2", "reason": "r", "owner": "o",
         "expires": "2099-01-01"}]}, allow_unicode=True), encoding="utf-8")
    code, out, err = run_cli("check", path, NFC, "vsp2", "--waivers", waivers, "--format", "json")
    report = json.loads(out)
    waived = [r for r in report["results"] if r["rule"] == "MEMORY-TARGET"]
    assert waived and all(r.get("waiver") for r in waived), out


def test_check_onto_the_guests_own_vsp_in_another_spelling_is_refused(run_cli, tmp_path):
    data = _estate([_guest("g1", "vsp1")])
    data["hosts"][0]["name"] = NFC
    data["guests"][0]["host"] = NFC
    path = _write(tmp_path, data)
    code, _, err = run_cli("check", path, "g1", NFD)
    assert code == 2 and "is already on" in err, err
    code, _, err = run_cli("check", path, NFD, "g1")  # a VSP and a guest, given the other way round
    assert code == 2 and "write the guest first" in err, err


def test_matrix_guest_globs_and_plan_files_name_guests_in_any_spelling(run_cli, tmp_path):
    path = _write(tmp_path, _estate([_guest(NFC, "vsp1"), _guest("other", "vsp1")]))
    code, out, err = run_cli("matrix", path, "--guest", NFD, "--format", "json")
    assert code == 0, err
    assert {c["guest"] for c in json.loads(out)["cells"]} == {NFC}
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"plan": 1, "stages": [{"migrations": [{"guest": NFD, "to": "vsp2"}]}]},
                                   allow_unicode=True), encoding="utf-8")
    code, out, err = run_cli("plan", path, plan, "--format", "json")
    assert code == 0 and json.loads(out)["verdict"] == "ready", out + err
