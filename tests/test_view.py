"""The resolved view rules read is derived from the snapshot schema: the checker and the loader agree."""

from __future__ import annotations

import json

import pytest

from migcheck.files import resources as _resources, schemas as validation
from migcheck.files.document import LoadError
from migcheck.estate import view
from migcheck.eval.engine import Engine
from migcheck.lang import types as lang_types
from migcheck.packs.ruleset import load_rules
from migcheck.estate.snapshot import load_snapshot, snapshot_from_data

from .conftest import FIXTURES


def _missing(t, value, where: str) -> list[str]:
    """Fields the checker's type `t` accepts that the loaded `value` lacks (recursively)."""
    if value is None:
        return [] if t.nullable else [f"{where} is absent but typed as {t}"]
    if t.kind == "object" and t.fields is not None:
        if not isinstance(value, dict):
            return [f"{where} is not a mapping"]
        out = []
        for name in t.field_names():
            if name not in value:
                out.append(f"{where}.{name}")
            else:
                out.extend(_missing(t.field(name), value[name], f"{where}.{name}"))
        return out
    if t.kind == "list" and t.elem is not None and isinstance(value, list):
        return [m for i, item in enumerate(value) for m in _missing(t.elem, item, f"{where}[{i}]")]
    return []


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.yaml") if p.name.startswith(("mixed", "ivm", "estate"))))
def test_every_field_the_checker_accepts_is_in_the_loaded_view(fixture):
    snapshot = load_snapshot(str(FIXTURES / fixture))
    scope = lang_types.snapshot_types()
    missing = _missing(scope["snapshot"], snapshot.as_scope(), "snapshot")
    assert not missing, missing
    # and the converse: the view holds no field the checker would reject
    for kind, items in (("host", snapshot.hosts), ("guest", snapshot.guests)):
        names = set(scope[kind].field_names())
        for item in items:
            assert set(item) == names, (kind, set(item) ^ names)


def test_fields_absent_from_the_file_are_defaults_or_null():
    snapshot = load_snapshot(str(FIXTURES / "ivm4-small.yaml"))
    assert snapshot.hosts[0]["attrs"] == {"rack": "R12", "owner": "unix-north"}  # as written
    assert snapshot.hosts[1]["attrs"] == {}  # absent: the schema's default
    for guest in snapshot.guests:
        for store in guest["storage"]:
            # written true for the SAN disks; absent elsewhere, so the schema default false
            assert store["shared_san"] is (store["backing"] == "disk")
        for net in guest["networks"]:
            assert set(net) == set(_resources.schema("snapshot.schema.json")["$defs"]["network"]["properties"])  # every field, absent ones null


@pytest.fixture
def extended_schema(tmp_path, monkeypatch):
    """A copy of the shipped schemas with `host.room` (a string) and `storage.tier` (default "gold") added."""
    folder = tmp_path / "schemas"
    folder.mkdir()
    for name in ("snapshot.schema.json", "config.schema.json", "waivers.schema.json", "ruletest.schema.json"):
        (folder / name).write_text(_resources.schema_path(name).read_text())
    data = json.loads((folder / "snapshot.schema.json").read_text())
    data["$defs"]["host"]["properties"]["room"] = {"description": "machine room", "type": "string"}
    data["$defs"]["storage"]["properties"]["tier"] = {"description": "tier", "type": "string", "default": "gold"}
    (folder / "snapshot.schema.json").write_text(json.dumps(data))
    original = _resources.schema_path

    def clear():
        _resources.schema.cache_clear()
        view.reset()
        lang_types.snapshot_types.cache_clear()
        validation._fast.cache_clear()
        validation._full.cache_clear()

    monkeypatch.setattr(_resources, "schema_path", lambda name: folder / name)
    clear()
    yield
    monkeypatch.setattr(_resources, "schema_path", original)
    clear()


def _estate(room_a="r1"):
    host = {"version": "6.1", "processor": "Itanium 9300", "memory_mb": {"total": 4096, "free": 4096}}
    return {"snapshot": 1,
            "hosts": [{"name": "a", **host, "room": room_a}, {"name": "b", **host}],
            "guests": [{"name": "g", "kind": "vm", "host": "a", "state": "off", "memory_mb": 1024,
                        "storage": [{"backing": "disk", "path": "/dev/rdisk/disk1"}]}]}


def test_a_field_added_to_the_schema_is_readable_by_rules(tmp_path, extended_schema):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "site.rules").write_text(
        'rule SITE-ROOM {\n  title "t"\n  severity error\n  on host\n  cite "c"\n'
        '  require host.room == "r1"\n  message "{host.name} is in {default(host.room, \\"no room\\")}"\n}\n'
        'rule SITE-TIER {\n  title "t"\n  severity error\n  on guest\n  cite "c"\n'
        '  require all(s in guest.storage: s.tier == "gold")\n  message "m"\n}\n')
    ruleset = load_rules([pack], builtin=False)
    results = Engine(ruleset, snapshot_from_data(_estate())).audit()
    got = sorted((r.rule, r.subject.get("guest") or r.subject.get("host"), r.status, r.message) for r in results)
    assert got == [("SITE-ROOM", "a", "pass", "t"), ("SITE-ROOM", "b", "fail", "b is in no room"),
                   ("SITE-TIER", "g", "pass", "t")]


def test_without_the_field_in_the_schema_the_checker_refuses_it(tmp_path):
    from migcheck.lang.diagnostics import RuleError

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "site.rules").write_text('rule SITE-ROOM {\n  title "t"\n  severity error\n  on host\n  cite "c"\n'
                                     '  require host.room == "r1"\n  message "m"\n}\n')
    with pytest.raises(RuleError) as exc:
        load_rules([pack], builtin=False)
    assert [(d.code, d.line, d.col) for d in exc.value.diagnostics] == [("unknown-field", 6, 16)]


def test_the_checker_imports_neither_the_loader_nor_jsonschema():
    import subprocess
    import sys

    code = ("import sys; import migcheck.lang.checker, migcheck.lang.compiler; "
            "bad = [m for m in ('migcheck.estate.snapshot', 'migcheck.files.document', 'jsonschema', 'jsonschema_rs', "
            "'migcheck.files.schemas') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(FIXTURES.parent / ".dev")})
    assert out.stdout.strip() == "[]", out.stderr


# -- the third reading's additions (issue 19) ------------------------------------------------
def _third(guest: dict, host: dict | None = None):
    host = {"name": "h1", "version": "6.3", "processor": "Itanium 9500",
            "memory_mb": {"total": 65536, "free": 65536}, **(host or {})}
    return snapshot_from_data({"snapshot": 1, "hosts": [host], "guests": [
        {"name": "g", "kind": "vm", "host": "h1", "state": "on", "memory_mb": 1024, **guest}]})


@pytest.mark.parametrize("written", ["0x2A2E5A050ABA", "0x2a2e5a050aba", "2a-2e-5a-05-0a-ba", "2A:2E:5A:05:0A:BA",
                                     "2a2e5a050aba"])
def test_rules_see_a_mac_as_12_lowercase_hex_digits_however_it_was_written(written):
    snapshot = _third({"networks": [{"vswitch": "vs", "mac": written, "adapter": "avio_lan"}, {"vswitch": "vs2"}]})
    first, second = snapshot.guests[0]["networks"]
    assert first["mac"] == "2a2e5a050aba" and first["adapter"] == "avio_lan"
    assert second["mac"] is None and second["adapter"] is None  # absent: unknown


def test_a_mac_not_in_one_of_the_schemas_spellings_does_not_load():
    with pytest.raises(LoadError, match="mac"):
        _third({"networks": [{"vswitch": "vs", "mac": "2a2e5a050ab"}]})


def test_storage_device_defaults_to_disk_and_null_and_attach_backings_load():
    snapshot = _third({"storage": [
        {"backing": "disk", "path": "/dev/rdisk/disk1"},
        {"backing": "null", "path": "/dev/null", "device": "dvd"},
        {"backing": "attach", "path": "/dev/rscsi/c6t0d0", "device": "tape", "adapter": "avio_stor"},
        {"backing": "file", "path": "/hpvm/nfs/g/boot.img", "nfs": True, "adapter": "scsi"}]})
    devices = [(s["device"], s["backing"], s["adapter"], s["nfs"]) for s in snapshot.guests[0]["storage"]]
    assert devices == [("disk", "disk", None, False), ("dvd", "null", None, False),
                       ("tape", "attach", "avio_stor", False), ("disk", "file", "scsi", True)]


def test_the_other_additions_are_as_written_or_null():
    host = {"cpu_cores": 8, "cpu_cores_free": 2, "vswitches": ["vs", "localnet"],
            "vswitch_details": [{"name": "vs", "state": "Up", "pnic": "lan0"}, {"name": "localnet", "state": "Down"}],
            "shared_wwids": ["0x600508B4"], "restricted_wwids": [],
            "nfs_mounts": [{"mount_point": "/hpvm/nfs", "source": "nas:/vm"}]}
    snapshot = _third({"os_type": "HPUX", "guest_kit": "none", "npiv": [{"wwpn": "0x50", "wwnn": "0x51"}],
                       "unknown": ["storage"]}, host)
    h, g = snapshot.hosts[0], snapshot.guests[0]
    assert h["vswitch_details"] == [{"name": "vs", "state": "Up", "pnic": "lan0"},
                                    {"name": "localnet", "state": "Down", "pnic": None}]  # no PPA: local
    assert h["nfs_mounts"] == [{"mount_point": "/hpvm/nfs", "source": "nas:/vm", "options": None}]
    assert (h["cpu_cores"], h["cpu_cores_free"], h["shared_wwids"], h["restricted_wwids"]) == (8, 2, ["0x600508B4"], [])
    assert (g["os_type"], g["guest_kit"], g["virtualbase"], g["npiv"], g["unknown"]) == (
        "HPUX", "none", None, [{"wwpn": "0x50", "wwnn": "0x51"}], ["storage"])
    bare = _third({})
    assert all(bare.hosts[0][k] is None for k in ("cpu_cores", "cpu_cores_free", "vswitch_details", "shared_wwids",
                                                   "restricted_wwids", "nfs_mounts"))
    assert all(bare.guests[0][k] is None for k in ("os_type", "guest_kit", "virtualbase", "npiv", "unknown"))


def test_normalised_fields_are_documented_and_in_the_schema():
    nodes = _resources.schema("snapshot.schema.json")["$defs"]
    for (kind, name), what in view.NORMALISED.items():
        assert name in nodes[kind]["properties"] and what
