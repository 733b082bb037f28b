"""`migcheck import` and `migcheck collector`: real HP output in, a snapshot out, every unread line located.

The samples in tests/data/hp-samples are verbatim copies of real output, each naming its
public source; `_outputs` cuts a sample into the outputs of the commands it shows (shell
prompts and the added `# ` headers removed) with line numbers as in the sample file, so
every problem asserted here points at a real line of it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from migcheck.files.document import parse_text
from migcheck.importer import dump_snapshot, import_capture
from migcheck.importer._text import Source, UnitError, memory_mb
from migcheck.importer.capture import FACTS
from migcheck.importer.available import parse_available, vpar_cores
from migcheck.importer.devmgmt import parse_devmgmt
from migcheck.importer.details import parse_details
from migcheck.importer.devices import parse_devices
from migcheck.importer.hpvminfo import parse_hpvminfo
from migcheck.importer.hpvmnet import parse_hpvmnet
from migcheck.importer.machinfo import parse_machinfo, processor_name
from migcheck.importer.mounts import parse_mounts
from migcheck.importer.summary import parse_summary
from migcheck.importer.swlist import parse_swlist, release
from migcheck.estate.snapshot import snapshot_from_data

from .conftest import FIXTURES, ROOT

SAMPLES = ROOT / "tests" / "data" / "hp-samples"
CAPTURE = FIXTURES / "capture" / "two-vsp"
GOLDEN = FIXTURES / "capture" / "two-vsp.snapshot.yaml"  # tests/golden/import-two-vsp.yaml before issue 19
_PROMPT = re.compile(r"^(#(?= |$)|\S*root@\S*.*?# ?|\[root@[^\]]*\] \S+ # ?)(?P<cmd>.*)$")


def _outputs(name: str) -> list[tuple[str | None, Source]]:
    """The command outputs of a sample: (command or None, its lines numbered as in the file)."""
    src = Source.read(SAMPLES / name)
    out: list = []
    command, current = None, None
    for no, text in src.numbered():
        m = _PROMPT.match(text)
        if m:
            current = None
            if re.match(r"(hpvm|machinfo|swlist)", m["cmd"].strip()):
                command = m["cmd"].strip()
            elif text.startswith("# ----"):
                command = None
            continue
        if current is None:
            if not text.strip():
                continue
            current = Source(src.file, [], no)
            out.append((command, current))
        current.lines.append(text)
    return out


def _where(problems) -> list[tuple[int, int, str]]:
    return [(p.line, p.col, p.message) for p in problems]


# -- each sample file, parsed, exact values ------------------------------------------------
def test_summary_ivm35_both_captures():
    (cmd1, first), (cmd2, second) = _outputs("hpvmstatus.summary.ivm35.txt")
    assert cmd1 == cmd2 == "hpvmstatus"
    rows, problems = parse_summary(first)
    assert problems == []
    assert [(r.name, r.line, r.kind, r.state, r.runnable, r.vcpus, r.memory_mb, r.os_type) for r in rows] == [
        ("oratest01", 9, "vm", "on", True, 4, 16384, "HPUX"),
        ("oratest02", 10, "vm", "on", True, 4, 16384, "HPUX"),
        ("sapvm01", 11, "vm", "off", True, 3, 8192, "HPUX"),
        ("sapvm02", 12, "vm", "off", True, 3, 8192, "HPUX"),
        ("sles01", 13, "vm", "on", True, 1, 4096, "LINUX"),
        ("rhel01", 14, "vm", "off", True, 1, 4096, "LINUX"),
        ("hp-vxvm", 15, "vm", "on", True, 2, 6144, "HPUX"),
        ("ws2003", 16, "vm", "off", True, 4, 12288, "WINDOWS"),  # the one row without no-break spaces
        ("hpvm1", 17, "vm", "off", True, 1, 3072, "HPUX"),
    ]
    rows, problems = parse_summary(second)
    assert problems == []
    assert [(r.name, r.state, r.vcpus, r.memory_mb) for r in rows][-1] == ("ivm1", "off", 2, 4096)  # after -c 2, -r 4G
    assert len(rows) == 8 and rows[-1].line == 38


def test_summary_v63_type_column_and_lost_alignment():
    (_, before), (_, after) = _outputs("hpvmstatus.summary.v63.txt")
    rows, problems = parse_summary(before)
    assert [(r.name, r.line, r.kind, r.state, r.vcpus, r.memory_mb) for r in rows] == [
        ("vm1", 12, "vm", "on", 2, 2048), ("vpar1", 13, "vpar", "on", 1, 2048)]
    # the manual's prose follows the table in the copy: read as what it is, a line that is no guest
    assert _where(problems) == [(14, 1, "expected a guest row with 9 columns (Virtual Machine Name, VM #, Type, "
                                 "OS Type, State, #VCPUs, #Devs, #Nets, Memory), found `To transform a VM into a vPar,`")]
    rows, problems = parse_summary(after)
    assert problems == [] and [(r.name, r.kind) for r in rows] == [("vm1", "vpar"), ("vpar1", "vpar")]


def test_details_ivm35_three_states_of_one_guest():
    outputs = _outputs("hpvmstatus-P.details.ivm35.txt")
    assert [cmd for cmd, _ in outputs] == ["hpvmstatus -P ivm1"] * 3
    got = []
    for _, src in outputs:
        d, problems = parse_details(src)
        assert problems == []
        got.append((d.name, d.state, d.runnable, d.vcpus, d.memory_mb, d.storage, d.networks))
    assert got == [
        ("ivm1", "off", True, 1, 2048, [], []),
        ("ivm1", "off", True, 2, 4096, [("disk", "scsi", "lv", "/dev/vg_vmtest/rivm1d1", 72),
                                        ("disk", "scsi", "lv", "/dev/vg_vmtest/rivm1d2", 73),
                                        ("dvd", "scsi", "disk", "/dev/rdsk/c1t4d0", 74)], []),
        ("ivm1", "off", True, 2, 4096, [("disk", "scsi", "lv", "/dev/vg_vmtest/rivm1d1", 115),
                                        ("disk", "scsi", "lv", "/dev/vg_vmtest/rivm1d2", 116),
                                        ("dvd", "scsi", "disk", "/dev/rdsk/c1t4d0", 117)],
         [("vlan02", "lan", "56-e9-e3-09-6a-22", 122), ("localnet", "lan", "ae-d6-f7-fa-4e-3e", 123)]),
    ]


def test_details_avio_storage_fragment():
    [(cmd, src)] = _outputs("hpvmstatus-P.avio-storage.ivm35.txt")
    d, problems = parse_details(src)
    assert cmd == "hpvmstatus -P aviotest"
    assert d.storage == [("disk", "avio_stor", "disk", "/dev/rdsk/c82t15d3", 10)]  # split at the known columns
    assert _where(problems) == [(10, 1, f"section `[{s}]` is missing; the capture looks truncated")
                                for s in ("Virtual Machine Details", "Virtual CPU Details", "Memory Details",
                                          "Network Interface Details", "Misc Interface Details")]


def test_devices_colon_lines():
    (cmd1, full), (cmd2, partial) = _outputs("hpvmstatus-P-d.devices.txt")
    d, problems = parse_devices(full)
    assert cmd1 == "hpvmstatus -P vmnode2 -d" and problems == []
    assert [(x.device, x.adapter, x.backing, x.path, x.line) for x in d.storage] == [
        ("disk", "scsi", "lv", "/dev/vg_vmtest/rvmnode2disk", 9), ("dvd", "scsi", "disk", "/dev/rdsk/c1t4d0", 10)]
    assert [(n.vswitch, n.adapter, n.mac, n.line) for n in d.networks] == [
        ("localnet", "lan", "0xB20EBA14E76C", 13), ("vlan02", "lan", "0x3E9492C9F615", 14)]
    assert d.npiv == [] and d.unread == set()
    d, problems = parse_devices(partial)
    assert cmd2 == "hpvmstatus -P sles10 -d"
    assert [(n.vswitch, n.adapter, n.mac) for n in d.networks] == [  # `:portid:4` read and not needed
        ("localnet", "lan", "0x2A87145CF9ED"), ("vlan1", "avio_lan", "0x66F3F84E37D5"),
        ("vlan2", "avio_lan", "0x0ADCFDCB2C62")]
    # the author's `...` elisions, and the sections they hid: never read as "no storage"
    assert [(p.line, p.col) for p in problems] == [(27, 1), (32, 1), (32, 1)]
    assert all("found `...`" in p.message for p in problems[:2])
    assert problems[2].message == ("section(s) `[Storage Interface Details]`, `[Misc Interface Details]` missing: "
                                   "the capture looks truncated")


def test_verbose_device_layout_is_refused_located():
    """`Key :value` device sections (hpvmstatus -V) are not the -P layout: said, not misread."""
    [(_, src)] = _outputs("hpvmstatus-P-V.devices-verbose.ivm41.txt")
    d, problems = parse_details(src)
    assert d.storage == [] and d.networks == []
    assert _where(problems)[:2] == [
        (8, 1, "expected the columns `Guest Physical Device Adaptor Bus Dev Ftn Tgt Lun Storage Device` under "
               "`[Storage Interface Details]`, found `Guest Device type :disk Guest Adaptor type :avio_stor Bus...` "
               "and no `====` ruler"),
        (18, 1, "expected the columns `Interface Adaptor Name/Num PortNum Bus Dev Ftn Mac Address` under "
                "`[Network Interface Details]`, found `Physical Storage type :vswitch Guest Adaptor type :avio_l...` "
                "and no `====` ruler"),
    ]


def test_verbose_v63_header_is_refused_located():
    [(cmd, src)] = _outputs("hpvmstatus-P-V.partial.v63.txt")
    _, problems = parse_details(src)
    assert cmd == "hpvmstatus -P vm001 -V"
    assert _where(problems)[0] == (7, 1, "section `[Virtual Machines Details]` is not one migcheck reads; "
                                         "its 6 line(s) were not read")


def test_entitlements_are_not_a_summary():
    """`hpvmstatus -r` saved as hpvmstatus.txt gives no guests and says why, per section."""
    (_, one), (_, every) = _outputs("hpvmstatus-r.entitlements.ivm42.txt")
    rows, problems = parse_summary(every)
    assert rows == []
    assert [(p.line, p.col) for p in problems] == [(31, 1), (32, 1), (43, 1)]
    assert problems[0].message == "unexpected section `[Virtual Machine Resource Entitlement]`; expected `[Virtual Machines]`"
    rows, problems = parse_summary(one)
    assert rows == [] and [p.line for p in problems] == [6, 12, 23]


def test_available_memory_v61():
    [(cmd, src)] = _outputs("hpvmstatus-s.partial.v61.txt")
    free, problems = parse_available(src)
    assert cmd == "hpvmstatus –s"  # an en dash in the manual's copy
    assert free == 24320
    wanted = "expected `Available memory for ... = N Mbytes` (or another `Name = value` line of `hpvmstatus -s`), found"
    assert _where(problems) == [(6, 1, f"{wanted} `…`"), (10, 1, f"{wanted} `…`")]


def test_available_memory_reads_past_the_other_lines_of_the_output():
    """The manual's excerpt elides the other lines of `hpvmstatus -s` ("..."): a `[Section]` heading and a
    `Name = value` line of another figure are read past; a line of another shape (a second command's table) is not."""
    text = ("[HPVM Server System Resources]\nvPar/VM types supported by this VSP = Shared\n"
            "Total physical memory = 65434 Mbytes\nAvailable memory for vPars and VMs = 24320 Mbytes\n"
            "Available memory for 7 (max avail.) CPU vPar = 24192 Mbytes\n")
    free, problems = parse_available(Source.of("hpvmstatus-s.txt", text))
    assert free == 24320 and problems == []
    free, problems = parse_available(Source.of("hpvmstatus-s.txt", text + "web01   1 SH  HPUX  On (OS)  1  2  1  2 GB\n"))
    assert _where(problems) == [(6, 1, "expected `Available memory for ... = N Mbytes` (or another `Name = value` "
                                       "line of `hpvmstatus -s`), found `web01   1 SH  HPUX  On (OS)  1  2  1  2 GB`")]


def test_hpvmnet_and_port_tables():
    (cmd, summary), (cmd_s, before), (_, after) = _outputs("hpvmnet.txt")
    net, problems = parse_hpvmnet(summary)
    assert cmd == "hpvmnet" and problems == []
    assert [(v.name, v.line, v.state) for v in net.vswitches] == [("localnet", 8, "Up"), ("vlan02", 9, "Up"),
                                                                   ("vlan03", 10, "Up")]
    for src, first in ((before, 27), (after, 47)):
        net, problems = parse_hpvmnet(src, single=True)
        assert cmd_s == "hpvmnet -S devlan12" and problems == []
        assert [v.name for v in net.vswitches] == ["devlan12"]
        assert [(p.number, p.line, p.active_vm) for p in net.ports] == [
            (n, first + n - 1, vm) for n, vm in enumerate(
                ["oradev01", "oradev02", "oradev03", "oradev04", "nfstest01", "linuxvm1", "linuxvm2"], 1)]


def test_machinfo_processor_groups_and_memory():
    got = []
    for _, src in _outputs("machinfo.processor-family.txt"):
        machine, problems = parse_machinfo(src)
        assert problems == []
        got.append((machine.processor, machine.memory_mb))
    assert got == [("Itanium 2", 4076),        # 11.23 rx2620: processor family 31, model 2
                   ("Itanium 2", 8180),        # 11.31 rx4640: "Intel(R) Itanium 2 processors"
                   ("Itanium 2 9100", 24013),  # 11.31 SD32B: "Itanium 2 9100 series processors"
                   ("Itanium 9300", 98135)]    # 11.31 BL870c i2: "Itanium(R) Processor 9350s"


def test_machinfo_cores_are_physical_cores_not_hyperthreads():
    """cpu_cores: the "Active processor count" cores (V6.3 guide 5.1.5: hyperthreads never count)."""
    got = []
    for _, src in _outputs("machinfo.cores.txt"):
        machine, problems = parse_machinfo(src)
        assert problems == []
        got.append((machine.processor, machine.cores, machine.memory_mb))
    assert got == [("Itanium 9300", 8, 65434),     # 2 sockets, LCPU disabled
                   ("Itanium 2 9100", 4, 8160),    # 8 logical processors with LCPU enabled: 4 cores
                   ("Itanium 9500", 32, 130893)]
    # 11.23's `Number of CPUs = 2` on family 31 (single-core, no hyperthreads) are cores; the 11.31 captures
    # without the block say sockets or logical processors only: unknown
    assert [parse_machinfo(src)[0].cores for _, src in _outputs("machinfo.processor-family.txt")] == [2, None, None, None]


def test_free_vpar_cores_v61():
    [(_, src)] = _outputs("hpvmstatus-s.partial.v61.txt")
    assert vpar_cores(src) == 7  # "Available memory for 7 (max avail.) CPU vPar = 24192 Mbytes"


def test_hpvmnet_state_and_physical_nic():
    (_, summary), _, _ = _outputs("hpvmnet.txt")
    net, _ = parse_hpvmnet(summary)
    assert [(v.name, v.state, v.pnic) for v in net.vswitches] == [("localnet", "Up", None), ("vlan02", "Up", "lan3"),
                                                                  ("vlan03", "Up", "lan4")]


def test_hpvmdevmgmt_restricted_device():
    [(cmd, src)] = _outputs("hpvmdevmgmt.rdev.txt")
    db, problems = parse_devmgmt(src, "rdev")
    assert cmd == "hpvmdevmgmt -l rdev" and problems == []
    assert (db.restricted, db.shared, db.entries) == (["0x600508b4000115d000012000003a0000"], [], 1)
    _, problems = parse_devmgmt(src, "gdev")  # the rdev listing saved as the gdev one: said, not misread
    assert _where(problems) == [(8, 19, "a `CONFIG=rdev` entry in the `hpvmdevmgmt -l gdev` capture")]


def test_npiv_hba_and_null_dvd_device_lines():
    [(_, hba)] = _outputs("hpvm-resources.npiv-null.txt")
    src = Source.read(SAMPLES / "hpvm-resources.npiv-null.txt")
    dvds = [(no, text.split(" -a ")[1]) for no, text in src.numbered() if " -a dvd:" in text]
    lines = ["[Virtual Machine Devices]", "", "[Storage Interface Details]", hba.lines[0], *[t for _, t in dvds], "",
             "[Network Interface Details]", "", "[Misc Interface Details]"]
    devices, problems = parse_devices(Source("guest.d.txt", lines))
    assert [(h.wwpn, h.wwnn) for h in devices.npiv] == [("0x50060b00006499a8", "0x50060b00006499a9")]
    assert [(d.device, d.adapter, d.backing, d.path) for d in devices.storage] == [
        ("dvd", "avio_stor", "null", "/var/opt/hpvm/ISO-images/hpux/")]  # an ejected file DVD, kept
    assert _where(problems) == [(6, 5, "unknown storage adaptor `svio_stor`; expected scsi or avio_stor")]  # the typo


def test_swlist_bundles_of_a_guest_give_no_vsp_release():
    [(_, src)] = _outputs("swlist.hpvm-bundles.excerpt.txt")
    bundles, problems = parse_swlist(src)
    assert problems == []
    assert [(b.name, b.revision, b.line) for b in bundles] == [
        ("GuestAVIOStor", "B.11.23.0712", 7), ("GuestAvioLan", "B.11.23.0712", 8),
        ("HostAVIOStor", "B.11.23.0712", 9), ("HostAvioLan", "B.11.23.0712.01", 10), ("VMGuestLib", "A.03.50", 11)]
    version, problems = release(bundles, src)
    assert version is None
    assert [(p.line, p.col) for p in problems] == [(7, 1)]
    assert "only guest bundles (GuestAVIOStor B.11.23.0712, GuestAvioLan B.11.23.0712, VMGuestLib A.03.50)" \
        in problems[0].message


def test_hpvminfo_host_and_guest():
    (_, guest), (_, host) = _outputs("hpvminfo.txt")
    assert parse_hpvminfo(host) == ("host", [])
    where, problems = parse_hpvminfo(guest)
    assert where == "guest"
    assert _where(problems) == [(9, 1, "`hpvminfo: Running inside an HPVM guest.`: this capture was taken inside "
                                       "a guest, not on a VSP")]


NOT_CAPTURED = {
    "README.txt": "the index of the samples",
    "hpvmmigrate.messages.ivm35.txt": "hpvmmigrate's messages: no command of the capture prints them",
}


def test_every_sample_file_has_its_test():
    """A sample added later must get a test here or a reason in NOT_CAPTURED."""
    source = Path(__file__).read_text()
    for path in sorted(SAMPLES.iterdir()):
        assert path.name in NOT_CAPTURED or source.count(f'"{path.name}"') >= 1, path.name


# -- units and processors ---------------------------------------------------------------
@pytest.mark.parametrize("text, mb", [("16 GB", 16384), ("64 MB", 64), ("1024MB", 1024), ("4GB", 4096),
                                      ("24320 Mbytes", 24320), ("1.5 GB", 1536), ("2 TB", 2097152)])
def test_memory_units_exact(text, mb):
    assert memory_mb(text) == mb


@pytest.mark.parametrize("text, message, offset", [
    ("16 XB", "unknown memory unit `XB` in `16 XB`; expected MB, GB or TB", 3),
    ("0.3 GB", "`0.3 GB` is not a whole number of megabytes", 0),
    ("lots", "expected a memory amount such as `16 GB` or `512 MB`, found `lots`", 0),
])
def test_memory_units_refused(text, message, offset):
    with pytest.raises(UnitError) as exc:
        memory_mb(text)
    assert (str(exc.value), exc.value.offset) == (message, offset)


def test_processor_names_are_the_rule_data_groups():
    from migcheck.files.resources import builtin_rules_dir
    from migcheck.files.document import load_document

    rows = load_document(builtin_rules_dir() / "data" / "processor_groups.yaml").data["rows"]
    known = {r["processor"] for r in rows}
    cases = {(31, 0, None): "Itanium 2", (31, 2, None): "Itanium 2", (32, 0, None): "Itanium 2 9000",
             (32, 1, None): "Itanium 2 9100",
             (None, None, "Intel(R) Itanium 2 9000 series processors"): "Itanium 2 9000",
             (None, None, "Intel(R) Itanium 2 9150M processors"): "Itanium 2 9100",
             (None, None, "Intel(R)  Itanium(R)  Processor 9350s"): "Itanium 9300"}
    for args, name in cases.items():
        assert processor_name(*args) == name and name in known
    # 4.3 guide p.178: otherwise identical family and model; named by its numbers, a group of its own
    assert processor_name(32, 2, None) == "Itanium family 32 model 2"
    assert processor_name(None, None, "Intel(R) Xeon(R) processors") is None


# -- the two-VSP estate -------------------------------------------------------------------
def test_import_of_the_estate_matches_the_golden_snapshot():
    estate = import_capture(CAPTURE, site="ivm-lab")
    assert estate.problems == [] and estate.notes == []
    text = dump_snapshot(estate.snapshot, "migcheck import: 2 VSP(s), 7 guest(s), 1 Not Runnable copies")
    if os.environ.get("MIGCHECK_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    assert parse_text(text, "import.yaml").data == estate.snapshot  # YAML 1.2 reads back the same values


def test_estate_values():
    data = import_capture(CAPTURE).snapshot
    hosts = {h["name"]: h for h in data["hosts"]}
    assert hosts["ivmcl01"] == {
        "name": "ivmcl01", "version": "B.04.20.05", "processor": "Itanium 9300",
        "memory_mb": {"total": 98135, "free": 24320}, "vswitches": ["localnet", "vlan02", "vlan03"],
        "cpu_cores_free": 7,  # "Available memory for 7 (max avail.) CPU vPar"; machinfo 11.31-2 names no cores
        "vswitch_details": [{"name": "localnet", "state": "Up", "pnic": None},  # no NamePPA: a local vswitch
                            {"name": "vlan02", "state": "Up", "pnic": "lan3"},
                            {"name": "vlan03", "state": "Up", "pnic": "lan4"}],
        "dio_functions": [], "shared_wwids": ["0x600508b4000115d00001200000410000"], "restricted_wwids": [],
        "nfs_mounts": [], "not_runnable": ["hpvm1"]}
    assert (hosts["ivmcl02"]["processor"], hosts["ivmcl02"]["memory_mb"]) == ("Itanium 2 9100",
                                                                               {"total": 24013, "free": 2112})
    guests = {g["name"]: g for g in data["guests"]}
    assert list(guests) == ["vmnode2", "ivm1", "oratest01", "sapvm01", "sles01", "ws2003", "hpvm1"]
    assert guests["hpvm1"]["host"] == "ivmcl02"  # the runnable copy; the Off (NR) one is not a guest
    assert guests["ivm1"] == {
        "name": "ivm1", "kind": "vm", "host": "ivmcl01", "state": "off", "memory_mb": 4096, "vcpus": 2,
        "os_type": "HPUX",
        "storage": [{"backing": "lv", "path": "/dev/vg_vmtest/rivm1d1", "device": "disk", "adapter": "scsi"},
                    {"backing": "lv", "path": "/dev/vg_vmtest/rivm1d2", "device": "disk", "adapter": "scsi"},
                    # SHARE=YES and its WWID from hpvmdevmgmt -l gdev, found by the path
                    {"backing": "disk", "path": "/dev/rdsk/c1t4d0", "device": "dvd", "adapter": "scsi", "share": True,
                     "wwid": "0x600508b4000115d00001200000410000"}],
        "networks": [{"vswitch": "vlan02", "mac": "0x56E9E3096A22", "adapter": "lan"},
                     {"vswitch": "localnet", "mac": "0xAED6F7FA4E3E", "adapter": "lan"}],
        "npiv": []}
    # an ejected DVD (`null` backing) is kept: the device kind says what it is
    assert guests["ws2003"]["storage"] == [
        {"backing": "disk", "path": "/dev/rdisk/disk14", "device": "disk", "adapter": "avio_stor",
         "wwid": "0x600508b4000115d00001200000540000"},
        {"backing": "null", "path": "/var/opt/hpvm/ISO/w2003.iso", "device": "dvd", "adapter": "avio_stor"}]
    assert (guests["ws2003"]["os_type"], guests["sles01"]["os_type"]) == ("WINDOWS", "LINUX")
    assert guests["sles01"]["storage"] == [{"backing": "file", "path": "/var/opt/hpvm/guests/sles01/disk0.img",
                                            "device": "disk", "adapter": "scsi"}]
    assert not any("unknown" in g for g in guests.values())


def test_old_capture_without_the_third_reading_files_imports_with_notes(capture):
    """A capture of the first collector (no hpvmdevmgmt or mount -p files): those host fields are unknown."""
    for path in capture.glob("*/*"):
        if path.name in FACTS:
            path.unlink()
    estate = import_capture(capture)
    assert estate.problems == []
    assert estate.notes[:3] == [
        "VSP `ivmcl01`: `hpvmdevmgmt -l gdev` was not captured (hpvmdevmgmt-gdev.txt): its `shared_wwids` is unknown"
        ", and so is its guests' storage (which devices are shared, their WWIDs)",
        "VSP `ivmcl01`: `hpvmdevmgmt -l rdev` was not captured (hpvmdevmgmt-rdev.txt): its `restricted_wwids` is "
        "unknown",
        "VSP `ivmcl01`: `mount -p` was not captured (mount-p.txt): its `nfs_mounts` is unknown"]
    assert not any(k in h for h in estate.snapshot["hosts"] for k in ("shared_wwids", "restricted_wwids", "nfs_mounts"))
    assert all("storage" in g["unknown"] for g in estate.snapshot["guests"] if g.get("storage"))


def test_imported_estate_validates_and_checks(tmp_path, run_cli):
    out = tmp_path / "estate.yaml"
    code, stdout, err = run_cli("import", CAPTURE, "--site", "ivm-lab", "--output", out)
    assert (code, stdout) == (0, "") and "imported 2 VSP(s) and 7 guest(s)" in err
    assert out.read_text() == GOLDEN.read_text()
    code, _, err = run_cli("validate", out)
    assert code == 0 and "valid snapshot: 2 hosts, 7 guests" in err
    code, _, _ = run_cli("audit", out)
    assert code == 0  # no duplicate guest: hpvm1's Off (NR) copy on ivmcl01 is recorded, not counted
    code, report, _ = run_cli("check", out, "sapvm01", "ivmcl01", "--format", "json")
    results = json.loads(report)
    failed = sorted(r["rule"] for r in results["results"] if r["status"] == "fail")
    assert (code, results["verdict"], failed) == (1, "blocked", ["STORAGE-LOCAL", "VSWITCH-MISSING"])
    code, report, _ = run_cli("check", out, "ivm1", "ivmcl02", "--format", "json")
    failed = sorted(r["rule"] for r in json.loads(report)["results"] if r["status"] == "fail")
    # 4096 MB wanted, 2112 MB free; the physical DVD both guests of ivmcl01 use is SHARE=YES: "Device
    # /dev/rdsk/c1t4d0 is shared. Guest with shared storage devices cannot be migrated." (hpvmmigrate.messages.ivm35.txt)
    assert (code, failed) == (1, ["MEMORY-TARGET", "STORAGE-LOCAL", "STORAGE-SHARED"])
    code, report, _ = run_cli("check", out, "hpvm1", "ivmcl01", "--mode", "online", "--format", "json")
    failed = {r["rule"] for r in json.loads(report)["results"] if r["status"] == "fail"}
    assert "ONLINE-PROCESSOR" in failed  # Itanium 2 9100 and Itanium 9300 are different groups


def test_import_json_output(tmp_path, run_cli):
    out = tmp_path / "estate.json"
    code, _, _ = run_cli("import", CAPTURE, "--output", out)
    assert code == 0 and json.loads(out.read_text()) == import_capture(CAPTURE).snapshot


# -- corrupted captures ----------------------------------------------------------------------
@pytest.fixture
def capture(tmp_path):
    root = tmp_path / "capture"
    shutil.copytree(CAPTURE, root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _problems(root) -> list[tuple[str, int, int, str]]:
    estate = import_capture(root)
    return [(str(Path(p.file).relative_to(root)), p.line, p.col, p.message) for p in sorted(estate.problems)]


def test_truncated_summary_row(capture, run_cli):
    summary = capture / "ivmcl02" / "hpvmstatus.txt"
    summary.write_text(summary.read_text()[:summary.read_text().index("hpvm1") + 40])  # cut inside the last row
    assert _problems(capture) == [
        ("ivmcl02/hpvmstatus.txt", 8, 39, "the row of `hpvm1` ends without `#VCPUs`, `Memory`; "
                                          "the capture looks truncated"),
        ("ivmcl02/hpvmstatus.txt", 8, 41, "the last line has no line end: the capture looks cut off"),
    ]
    code, _, err = run_cli("import", capture)
    assert code == 2
    assert f"{capture}/ivmcl02/hpvmstatus.txt:8:39: error[input]: the row of `hpvm1` ends without" in err
    assert "2 problem(s) in the capture; no snapshot written" in err


def test_summary_cut_before_its_ruler(capture):
    summary = capture / "ivmcl01" / "hpvmstatus.txt"
    summary.write_text("[Virtual Machines]\nVirtual Machine Name VM #  OS Type State     #VCPUs #Devs\n")
    problems = _problems(capture)
    assert ("ivmcl01/hpvmstatus.txt", 2, 1,
            "the table has no `====` ruler under its column titles; the capture looks truncated") in problems
    assert sum(1 for p in problems if "is the capture of no guest" in p[3]) == 6  # never a silently lost guest


def test_truncated_details_file(capture):
    details = capture / "ivmcl02" / "guests" / "sapvm01.txt"
    lines = details.read_text().splitlines()
    details.write_text("\n".join(lines[:lines.index("[Memory Details]")]) + "\n")
    assert _problems(capture) == [("ivmcl02/guests/sapvm01.txt", 16, 1,
                                   f"section `[{s}]` is missing; the capture looks truncated")
                                  for s in ("Memory Details", "Misc Interface Details", "Network Interface Details",
                                            "Storage Interface Details")]


def test_unknown_memory_unit(capture):
    _edit(capture / "ivmcl02" / "hpvmstatus.txt", "16 GB", "16 XB")
    assert _problems(capture) == [("ivmcl02/hpvmstatus.txt", 4, 70,
                                   "guest `oratest01`: unknown memory unit `XB` in `16 XB`; expected MB, GB or TB")]


def test_unknown_unit_in_details_memory(capture):
    _edit(capture / "ivmcl01" / "guests" / "ivm1.txt", " 4 GB     64 MB", " 4 GB     64 KB")
    assert _problems(capture) == [("ivmcl01/guests/ivm1.txt", 21, 14,
                                   "unknown memory unit `KB` in `64 KB`; expected MB, GB or TB")]


def test_guest_without_its_details_capture(capture, tmp_path, run_cli):
    (capture / "ivmcl02" / "guests" / "sapvm01.txt").unlink()
    want = ("ivmcl02/hpvmstatus.txt", 5, 1, "guest `sapvm01` is listed here but `hpvmstatus -P sapvm01` was not "
                                            "captured (guests/sapvm01.txt)")
    assert _problems(capture) == [want]
    out = tmp_path / "partial.yaml"
    code, _, err = run_cli("import", capture, "--partial", "--output", out)
    assert code == 0 and "1 problem(s) listed above" in err and "hpvmstatus.txt:5:1: error[input]: guest `sapvm01`" in err
    data = parse_text(out.read_text(), str(out)).data
    assert "sapvm01" in [g["name"] for g in data["guests"]]  # never silently missing
    assert out.read_text().startswith("# migcheck import: 2 VSP(s), 7 guest(s), 1 Not Runnable copies; --partial")
    assert run_cli("validate", out)[0] == 0


def test_guest_without_its_device_capture(capture):
    (capture / "ivmcl01" / "guests" / "ivm1.d.txt").unlink()
    estate = import_capture(capture)
    [p] = estate.problems
    assert (p.line, p.col) == (5, 1) and p.message.startswith(
        "guest `ivm1` is listed here but `hpvmstatus -P ivm1 -d` was not captured (guests/ivm1.d.txt): "
        "its storage and networks are read from `hpvmstatus -P ivm1` where it lists them, else unknown")


@pytest.mark.parametrize("vsp, file, old, new, want", [
    ("ivmcl02", "hpvmstatus.txt", "On (OS)", "Invalid", (4, 36, "unknown state `Invalid` of guest `oratest01`; "
                                                                "expected `On (...)`, `Off` or `Off (NR)`")),
    ("ivmcl02", "guests/sapvm01.d.txt", ":lv:/dev/vg_sap/rsapvm01", ":nfs:/dev/rscsi/c3t0d0",
     (4, 17, "unknown backing type `nfs` of `/dev/rscsi/c3t0d0`; expected disk, lv, file, null, attach")),
    ("ivmcl02", "guests/sapvm01.d.txt", "vswitch:devlan12", "vswitch:devlan12:vlan:5",
     (14, 32, "expected `vswitch:NAME` optionally followed by `:portid:N`, found `vswitch:devlan12:vlan:5`")),
    ("ivmcl02", "guests/sapvm01.d.txt", "0xB20EBA14E770", "0xB20EBA14E7",
     (14, 13, "expected `BUS,DEV,MAC` with a MAC such as `0x2A87145CF9ED`, found `0,1,0xB20EBA14E7`")),
    ("ivmcl02", "guests/sapvm01.d.txt", "disk:scsi:0,0,1", "disk:ide:0,0,1",
     (5, 6, "unknown storage adaptor `ide`; expected scsi or avio_stor")),
    ("ivmcl02", "hpvmstatus.txt", "3     8     3", "3     ²     3",
     (5, 57, "expected a number (ASCII digits) in column `#Devs` of `sapvm01`, found `²`")),
    ("ivmcl02", "hpvmnet.txt", "vlan02        2 Up  ", "vlan02        2 Halt",
     (4, 17, "unknown state `Halt` of vswitch `vlan02`; expected Up or Down")),
    ("ivmcl02", "mount-p.txt", "/dev/vg00/lvol8 /var", "/dev/vg00/lvol8 var",
     (3, 1, "expected a `mount -p` line `SPECIAL DIRECTORY TYPE OPTIONS [BACKUP PASS]`, found `/dev/vg00/lvol8 var "
            "vxfs ioerror=mwdisable,delaylog,dev=40000008 0 2`")),
    ("ivmcl02", "hpvmdevmgmt-gdev.txt", "CONFIG=gdev,EXIST=YES,DEVTYPE=DISK,SHARE=NO:oratest01",
     "CONFIG=rdev,EXIST=YES,DEVTYPE=DISK,SHARE=NO:oratest01",
     (1, 19, "a `CONFIG=rdev` entry in the `hpvmdevmgmt -l gdev` capture")),
    ("ivmcl01", "hpvminfo.txt", "Running on an HPVM host.", "Running inside an HPVM guest.",
     (1, 1, "`hpvminfo: Running inside an HPVM guest.`: this capture was taken inside a guest, not on a VSP")),
    ("ivmcl01", "machinfo.txt", "Processor 9350s", "Processor X", (2, 1, "processor `Intel(R)  Itanium(R)  Processor X` "
                                                                          "is not one migcheck can place in a "
                                                                          "compatibility group")),
    ("ivmcl02", "guests/oratest01.txt", " 4       10.0%", " 3       10.0%",
     (15, 1, "vcpus `3` here, `4` in hpvmstatus.txt:4: the captures disagree")),
    ("ivmcl02", "guests/oratest01.txt", "disk      /dev/rdisk/disk11", "disk      /dev/rdisk/disk99",
     (28, 1, "storage `/dev/rdisk/disk99` is not among the `-d` device lines of `oratest01`")),
    ("ivmcl02", "guests/oratest01.txt", "devlan12   1", "vlan03     1",
     (34, 1, "vswitches vlan02, vlan03 here, devlan12, vlan02 in the `-d` lines of `oratest01`")),
    ("ivmcl02", "hpvmstatus-s.txt", "2112 Mbytes", "2112 Kbytes",
     (1, 43, "unknown memory unit `Kbytes` in `2112 Kbytes`; expected MB, GB or TB")),
])
def test_corrupted_lines_are_located(capture, vsp, file, old, new, want):
    _edit(capture / vsp / file, old, new)
    problems = [p for p in _problems(capture) if p[0] == f"{vsp}/{file}"]
    assert problems[0][1:] == want


def test_bytes_that_are_not_utf8_are_located(capture):
    path = capture / "ivmcl02" / "guests" / "sapvm01.d.txt"
    path.write_bytes(path.read_bytes().replace(b"rsapvm01", b"rsap\xe9vm01"))
    assert _problems(capture) == [
        ("ivmcl02/guests/sapvm01.d.txt", 4, 36, "file is not UTF-8 text (byte 0xe9 at offset 90)"),
        ("ivmcl02/guests/sapvm01.txt", 27, 1, "storage `/dev/vg_sap/rsapvm01` is not among the `-d` device lines "
                                              "of `sapvm01`"),
    ]


def test_off_nr_copy_runnable_twice_is_a_duplicate(capture):
    _edit(capture / "ivmcl01" / "hpvmstatus.txt", "Off (NR) ", "Off      ")
    mismatch, (file, line, col, message) = _problems(capture)
    assert mismatch == ("ivmcl01/guests/hpvm1.txt", 4, 1, "state `Off (NR)` here, `Off` in hpvmstatus.txt:6: "
                                                          "the captures disagree")
    assert (file, line, col) == ("ivmcl02/hpvmstatus.txt", 8, 1)
    assert message.startswith("guest `hpvm1` is runnable on VSP `ivmcl01` (") and message.endswith(
        "and on VSP `ivmcl02`; a guest is runnable on one VSP only (this copy is left out of the snapshot, and the "
        "state of the copy on `ivmcl01` is written unknown)")


def test_partial_import_validates(capture, tmp_path, run_cli):
    """What --partial writes is a snapshot `validate` accepts: a VSP it cannot describe goes with its guests."""
    (capture / "ivmcl02" / "swlist.txt").write_text("")
    _edit(capture / "ivmcl01" / "hpvmstatus.txt", "Off (NR) ", "Off      ")  # hpvm1 runnable twice
    out = tmp_path / "partial.yaml"
    code, _, err = run_cli("import", capture, "--partial", "--output", out)
    assert code == 0
    assert ("VSP `ivmcl02` is left out of the snapshot: its version could not be read; so are its guests "
            "`oratest01`, `sapvm01`, `sles01`, `ws2003`, `hpvm1`") in err
    assert run_cli("validate", out)[0] == 0
    data = parse_text(out.read_text(), str(out)).data
    assert [h["name"] for h in data["hosts"]] == ["ivmcl01"]
    assert [g["name"] for g in data["guests"]] == ["vmnode2", "ivm1", "hpvm1"]


def test_off_nr_only_copy_is_a_note(capture):
    shutil.rmtree(capture / "ivmcl02")
    estate = import_capture(capture)
    assert estate.problems == []
    assert estate.notes == ["guest `hpvm1` is Not Runnable on ivmcl01 and runnable on no captured VSP: it is left "
                            "out of the snapshot's guests"]


def test_missing_files_and_stray_files(capture):
    (capture / "ivmcl01" / "machinfo.txt").unlink()
    (capture / "ivmcl01" / "vswitches" / "vlan03.txt").rename(capture / "ivmcl01" / "vswitches" / "vlan09.txt")
    (capture / "ivmcl01" / "notes.txt").write_text("hello\n")
    problems = _problems(capture)
    assert [p[:3] + (p[3][:60],) for p in problems] == [
        ("ivmcl01", 1, 1, "VSP `ivmcl01` is left out of the snapshot: its processor, to"),
        ("ivmcl01/machinfo.txt", 1, 1, "`machinfo` was not captured for VSP `ivmcl01`"),
        ("ivmcl01/notes.txt", 1, 1, "`notes.txt` is not a file of the capture layout"),
        ("ivmcl01/vswitches/vlan03.txt", 1, 1, "`hpvmnet -S vlan03` was not captured for VSP `ivmcl01`"),
        ("ivmcl01/vswitches/vlan09.txt", 1, 1, "`vlan09.txt` is not the capture of a vswitch that `hpvmnet.t"),
    ]


def test_dio_supplement(capture, run_cli, tmp_path):
    dio = capture / "ivmcl02" / "dio.yaml"
    dio.write_text('dio_functions:\n'
                   '  - {hwpath: "0/0/0/4/0/0/0", type: FLA, pool: true, label: oratest01, assigned_to: oratest01}\n'
                   '  - {hwpath: "0/0/0/5/0/0/0", type: DLA, pool: false}\n')
    estate = import_capture(capture)
    assert estate.problems == []
    host = next(h for h in estate.snapshot["hosts"] if h["name"] == "ivmcl02")
    assert host["dio_functions"] == [
        {"hwpath": "0/0/0/4/0/0/0", "type": "FLA", "pool": True, "label": "oratest01", "assigned_to": "oratest01"},
        {"hwpath": "0/0/0/5/0/0/0", "type": "DLA", "pool": False}]
    guest = next(g for g in estate.snapshot["guests"] if g["name"] == "oratest01")
    assert guest["dio"] == ["0/0/0/4/0/0/0"]
    snapshot = snapshot_from_data(estate.snapshot)
    assert snapshot.problems == [] and snapshot.guest_by_name["oratest01"]["dio"][0]["label"] == "oratest01"


@pytest.mark.parametrize("text, want", [
    ("dio_functions:\n", (1, 1, "`dio_functions` is empty: the template was not completed")),
    ("dio_functions:\n  - {hwpath: 0/1, type: XLA}\n", (2, 25, "`type` must be FLA or DLA, not `XLA`")),
    ("dio_functions:\n  - {hwpath: 0/1, type: FLA, labl: x}\n", (2, 30, "unknown field `labl` of a DIO function")),
    ("dio_functions:\n  - {hwpath: 0/1, type: FLA, assigned_to: nobody}\n",
     (2, 43, "DIO function `0/1` is assigned to guest `nobody`, which is not in hpvmstatus.txt")),
    ("dio_functions:\n  - {hwpath: 0/1, type: FLA, assigned_to: hpvm1}\n",
     (2, 43, "DIO function `0/1` is assigned to guest `hpvm1`, which is Not Runnable here")),
    ("dio_functions:\n  - {hwpath: 0/1, type: FLA}\n  - {hwpath: 0/1, type: DLA}\n",
     (3, 14, "DIO function `0/1` is listed twice (first as #1)")),
    ("dio_functions: [\n", (2, 1, "invalid YAML: did not find expected node content")),
    ("pool: yes\n", (1, 1, "expected a mapping with `dio_functions`, the VSP's DIO functions")),
])
def test_dio_supplement_problems_are_located(capture, text, want):
    (capture / "ivmcl01" / "dio.yaml").write_text(text)
    problems = [p for p in _problems(capture) if p[0] == "ivmcl01/dio.yaml"]
    assert problems[0][1:] == want


def test_no_traceback_and_no_silent_loss_on_any_cut(capture):
    """Every cut of every capture file: problems, never an exception, and every guest accounted for."""
    originals = {p: p.read_bytes() for p in sorted(capture.rglob("*")) if p.is_file()}
    guests = ["vmnode2", "ivm1", "hpvm1", "oratest01", "sapvm01", "sles01", "ws2003"]
    for path, raw in originals.items():
        # an empty `hpvmdevmgmt -l` or `mount -p` listing is a real output (no entries), not a cut one
        cuts = {0, len(raw) // 3, len(raw) // 2, len(raw) - 7} - ({0} if path.name in FACTS else set())
        for cut in sorted(c for c in cuts if c >= 0):
            path.write_bytes(raw[:cut] + (b"\xff\xfe junk" if cut % 2 else b""))
            estate = import_capture(capture)
            assert estate.problems, (path, cut)
            said = " ".join(p.message + " " + p.file for p in estate.problems)
            listed = {g["name"] for g in estate.snapshot["guests"]}
            listed |= {n for h in estate.snapshot["hosts"] for n in h.get("not_runnable", [])}
            for name in guests:
                assert name in listed or name in said, (path, cut, name)
        path.write_bytes(raw)


def test_capture_files_over_the_size_limit(capture, run_cli):
    code, _, err = run_cli("import", capture, "--max-bytes", "1400")
    assert code == 2
    over = [p for p in capture.rglob("*") if p.is_file() and p.stat().st_size > 1400]
    assert err.count("over the size limit of 1,400 bytes") == len(over) >= 1
    assert (f"{capture}/ivmcl01/guests/ivm1.txt:1:1: error[input]: file is 1,414 bytes, over the size limit of 1,400 bytes "
            "(`--max-bytes`)") in err
    assert "guest `ivm1` is listed here but `hpvmstatus -P ivm1` was not captured" not in err  # it was, too big


def test_bad_capture_folder(tmp_path, run_cli):
    code, _, err = run_cli("import", tmp_path / "nowhere")
    assert code == 2 and "nowhere:1:1: error[input]: not a folder" in err
    code, _, err = run_cli("import", CAPTURE / "ivmcl01")
    assert code == 2 and "is one VSP's folder: expected the folder that holds one folder per VSP" in err
    assert f"run `migcheck import {CAPTURE}`" in err


# -- the collector: tests/test_collector.py ------------------------------------------------


def test_summary_row_overflowing_its_columns_is_split_by_the_known_columns():
    """A name longer than its ruler pushes the row right; the known columns still read it."""
    text = ("[Virtual Machines]\n"
            "Virtual Machine Name VM #  OS Type State     #VCPUs #Devs #Nets Memory  Runsysid\n"
            "==================== ===== ======= ========= ====== ===== ===== ======= ========\n"
            "oracle-production-db01    12 HPUX    Off (NR)       8     4     2   64 GB        0\n"
            "web01                   13 HPUX    On (OS)  \n"
            "the end\n")
    rows, problems = parse_summary(Source.of("hpvmstatus.txt", text))
    assert [(r.name, r.state, r.runnable, r.vcpus, r.memory_mb, r.valid) for r in rows] == [
        ("oracle-production-db01", "off", False, 8, 65536, True), ("web01", "off", True, 0, 0, False)]
    assert _where(problems) == [
        (5, 43, "the row of `web01` ends without `#VCPUs`, `Memory`; the capture looks truncated"),
        (6, 1, "expected a guest row with 9 columns (Virtual Machine Name, VM #, OS Type, State, #VCPUs, #Devs, "
               "#Nets, Memory, Runsysid), found `the end`")]


def test_readme_import_example_is_what_migcheck_prints(capture, run_cli, monkeypatch):
    text = (ROOT / "README.md").read_text()
    shown = re.search(r"\$ migcheck import capture/ --output estate.yaml\n(.*?)\n```", text, re.S)[1]
    (capture / "ivmcl02" / "guests" / "sapvm01.txt").unlink()
    monkeypatch.chdir(capture.parent)
    code, out, err = run_cli("import", "capture/", "--output", "estate.yaml")
    assert (code, out, err.rstrip()) == (2, "", shown)
    assert not (capture.parent / "estate.yaml").exists()


def test_rules_can_read_the_not_runnable_copies(tmp_path, run_cli):
    """host.not_runnable is typed from the schema like every field: a site rule may read it."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "nr.rules").write_text('''rule SITE-NR {
  title    "No Not Runnable copies are left behind"
  severity warning
  on       host
  require  count(host.not_runnable) == 0
  message  "{host.name} keeps Not Runnable copies: {host.not_runnable}"
  cite     "site policy"
}
''')
    out = tmp_path / "estate.yaml"
    assert run_cli("import", CAPTURE, "--output", out)[0] == 0
    code, report, _ = run_cli("audit", out, "--rules", pack, "--format", "json")
    got = [(r["subject"]["host"], r["status"], r["message"]) for r in json.loads(report)["results"]
           if r["rule"] == "SITE-NR"]
    assert got == [("ivmcl01", "fail", "ivmcl01 keeps Not Runnable copies: hpvm1"),
                   ("ivmcl02", "pass", "No Not Runnable copies are left behind")]


_PARSERS = [parse_summary, parse_details, parse_devices, parse_available, parse_hpvminfo, parse_machinfo,
            parse_swlist, parse_hpvmnet, lambda src: parse_hpvmnet(src, single=True),
            lambda src: parse_devmgmt(src, "gdev"), lambda src: parse_devmgmt(src, "rdev"), parse_mounts]
_LINE_PARTS = ["[Virtual Machines]", "[Storage Interface Details]", "[Port Configuration Details]", "=====",
               "==== ====", "Virtual Machine Name VM #  OS Type State     #VCPUs #Devs #Nets Memory  Runsysid",
               "oratest01                1 HPUX    On (OS)        4    10     3   16 GB        0",
               "disk:scsi:0,0,0:lv:/dev/x", "network:lan:0,1,0x1:vswitch:", "Memory: 12 QB", "processor family: 32",
               "CPU info:", "  1 Intel(R) Itanium 2 9999 series processors (x)", "Available memory for VMs = 9 GB",
               "  B  A.1", "hpvminfo: Running", ":", "", " ", "CONFIG=gdev,SHARE=YES", "::6005-08b4", "nfs", "/x",
               "hba:avio_stor:1,1,0x1,0x2:npiv:/dev/fcd0", "²", "4 cores (4 per socket)", "\t", "é", "(", ")", "0", "GB", "Off (NR)"]


@pytest.mark.parametrize("parser", _PARSERS)
def test_parsers_never_raise_and_locate_within_the_file(parser):
    from hypothesis import given, settings, strategies as st

    line = st.lists(st.sampled_from(_LINE_PARTS) | st.text(max_size=12), max_size=4).map(" ".join)

    @settings(max_examples=40, deadline=None)
    @given(st.lists(line, max_size=14), st.integers(1, 50))
    def run(lines, start):
        _, problems = parser(Source("capture.txt", lines, start))
        last = start + max(len(lines) - 1, 0)
        assert all(start <= p.line <= last and p.col >= 1 and p.message for p in problems)

    run()


# -- capture files that are there but cannot be read (QA pass) -----------------------------


def _replace(path: Path, kind: str) -> None:
    """Put a directory, a link loop or a dangling link where the capture file `path` was."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    if kind == "directory":
        path.mkdir()
    elif kind == "loop":
        path.symlink_to(path.name)
    else:
        path.symlink_to("nowhere")


_LINK = "a symbolic link (to `{}`): import follows no links, so that nothing outside the capture folder is read"


@pytest.mark.parametrize("relative", ["ivmcl01/machinfo.txt", "ivmcl01/guests/ivm1.txt", "ivmcl01/guests/ivm1.d.txt",
                                      "ivmcl01/dio.yaml", "ivmcl01/vswitches/vlan02.txt"])
@pytest.mark.parametrize("kind, message", [
    ("directory", "is a directory, not a file"),
    ("loop", "loop"),
    ("dangling", "dangling"),
])
def test_capture_file_that_cannot_be_read_says_why(capture, relative, kind, message):
    """A link is never followed (issue 21: links inside a VSP folder were followed out of the capture)."""
    _replace(capture / relative, kind)
    name = Path(relative).name
    if kind != "directory":  # a link is located at its folder: its target's text is never shown as its line
        relative, message = str(Path(relative).parent), f"`{name}`: " + _LINK.format(name if kind == "loop" else "nowhere")
    problems = _problems(capture)
    assert (relative, 1, 1, message) in problems
    assert not any("was not captured" in p[3] or "is missing" in p[3] for p in problems), problems


@pytest.mark.parametrize("kind, message", [
    ("loop", "`ivmcl02`: " + _LINK.format("ivmcl02")),
    ("dangling", "`ivmcl02`: " + _LINK.format("nowhere")),
])
def test_vsp_folder_that_cannot_be_read_is_never_skipped_silently(capture, run_cli, kind, message):
    _replace(capture / "ivmcl02", kind)
    assert _problems(capture) == [(".", 1, 1, message)]
    code, _, err = run_cli("import", capture)
    assert code == 2 and f"{capture}:1:1: error[input]: {message}" in err and "Traceback" not in err


def test_guests_folder_that_is_a_link_loop_is_said(capture):
    _replace(capture / "ivmcl02" / "guests", "loop")
    problems = _problems(capture)
    assert ("ivmcl02", 1, 1, "`guests`: " + _LINK.format("guests")) in problems
    assert not any("not a regular file" in p[3] or "not captured" in p[3] for p in problems), problems


def test_capture_folder_that_is_a_link_loop(tmp_path, run_cli):
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    code, _, err = run_cli("import", loop)
    assert code == 2
    assert f"{loop}:1:1: error[input]: cannot be read as a capture folder: symbolic link loop" in err
    assert "Traceback" not in err


def _unexpand(line: str) -> str:
    """`unexpand -a`: runs of spaces that reach an 8-column tab stop become tabs."""
    out, col, spaces = [], 0, 0
    for ch in line:
        if ch == " ":
            spaces += 1
            col += 1
            if col % 8 == 0:
                out.append("\t" if spaces > 1 else " ")
                spaces = 0
            continue
        out.append(" " * spaces + ch)
        spaces = 0
        col += 1
    out.append(" " * spaces)
    return "".join(out)


@pytest.mark.parametrize("how", ["crlf", "trailing blanks", "tabs", "blank lines at the end"])
def test_line_ends_tabs_and_blanks_read_as_the_pristine_capture(capture, how):
    """A capture copied through Windows, an editor or a mailer gives the same snapshot, with no problem."""
    want = import_capture(CAPTURE).snapshot
    for path in sorted(capture.rglob("*.txt")):
        lines = path.read_text().splitlines()
        if how == "crlf":
            text = "".join(line + "\r\n" for line in lines)
        elif how == "trailing blanks":
            text = "".join(line + " \t  \n" for line in lines)
        elif how == "tabs":
            text = "".join(_unexpand(line) + "\n" for line in lines)
        else:
            text = "".join(line + "\n" for line in lines) + "\n  \n"
        path.write_text(text, newline="")
    if how == "tabs":
        assert "\t" in (capture / "ivmcl02" / "hpvmstatus.txt").read_text()
    estate = import_capture(capture)
    assert estate.problems == []
    assert estate.snapshot == json.loads(json.dumps(want).replace(str(CAPTURE), str(capture)))


@pytest.mark.parametrize("end", ["\x0c", "\x0b", "\x1c", "\x85", "\u2028", "\r"])
def test_a_line_ends_at_a_line_feed_only(tmp_path, run_cli, end):
    """HP's commands and the collector's awk end a line at a line feed; `str.splitlines` also ended one inside a
    hostile name (`x\\fforged`: a row `x`, a guest `forged`, every later line numbered one too far)."""
    capture = tmp_path / "c"
    shutil.copytree(FIXTURES / "capture" / "two-vsp", capture)
    summary = capture / "ivmcl01" / "hpvmstatus.txt"
    text = summary.read_text()
    row = text.splitlines(keepends=True)[-1]
    name = row.split()[0]
    lines = len(text.splitlines())
    summary.write_text(text + row.replace(name, f"x{end}forged", 1) + row.replace(name, "last", 1))
    code, _, err = run_cli("import", capture)
    assert code == 2 and "Traceback" not in err
    assert "forged`" not in err.replace(f"x{end}forged", "") and "guest `forged`" not in err
    assert f"{summary}:{lines + 1}:1: error[input]: expected a guest row" in err
    assert f"{summary}:{lines + 2}:1: error[input]: guest `last` is listed here" in err
    assert [len(s.lines) for s in (Source.of("f", "a\x0cb\nc\r\n\u2028d\n"),)] == [3]


def test_a_device_gdev_does_not_list_leaves_the_guests_storage_unknown(capture, run_cli, tmp_path):
    """`hpvmdevmgmt -l gdev` lists every device a guest is given: a listing without the entry of a guest's device
    (empty, cut between lines) does not make the device "shared by none, no WWID": the guest's storage is unknown,
    and a move of it is not ready (ivm1's shared disk c1t4d0 once read as not shared)."""
    gdev = capture / "ivmcl01" / "hpvmdevmgmt-gdev.txt"
    lines = gdev.read_text().splitlines(True)
    gdev.write_text("".join(line for line in lines if not line.startswith("/dev/rdsk/c1t4d0:")))
    estate = import_capture(capture)
    guests = {g["name"]: g for g in estate.snapshot["guests"]}
    assert "storage" in guests["ivm1"].get("unknown", []) and "storage" in guests["vmnode2"].get("unknown", [])
    assert "storage" not in guests["hpvm1"].get("unknown", [])  # its devices are all listed
    assert any("has no entry for `/dev/rdsk/c1t4d0` of guest `ivm1`" in n for n in estate.notes)
    out = tmp_path / "estate.yaml"
    code, _, err = run_cli("import", capture, "--output", out)
    assert code == 0, err
    code, stdout, _ = run_cli("check", out, "hpvm1", "ivmcl01", "--format", "json")
    assert code == 0 and json.loads(stdout)["verdict"] == "ready"  # before: every device of hpvm1 listed
    other = capture / "ivmcl02" / "hpvmdevmgmt-gdev.txt"
    other.write_text("".join(line for line in other.read_text().splitlines(True)
                             if not line.startswith("/dev/rdisk/disk20:")))  # hpvm1's disk
    code, _, err = run_cli("import", capture, "--output", out)
    assert code == 0, err
    code, stdout, _ = run_cli("check", out, "hpvm1", "ivmcl01", "--format", "json")
    assert code == 3 and json.loads(stdout)["verdict"] == "unknown"
    gdev.write_text("")  # an empty listing: every guest with storage
    estate = import_capture(capture)
    assert all("storage" in g.get("unknown", []) for g in estate.snapshot["guests"] if g.get("storage")
               and g["host"] == "ivmcl01")


def test_a_guest_runnable_twice_is_written_once_with_its_state_unknown(capture, run_cli, tmp_path):
    """--partial writes a guest runnable on two VSPs once; its state is unknown there, so no move of it is ready
    (the copy left out may be running on the target)."""
    _edit(capture / "ivmcl01" / "hpvmstatus.txt", "Off (NR) ", "Off      ")  # hpvm1 runnable on both VSPs
    out = tmp_path / "partial.yaml"
    code, _, err = run_cli("import", capture, "--partial", "--output", out)
    assert code == 0 and "the state of the copy on `ivmcl01` is written unknown" in err
    written = [g for g in yaml.safe_load(out.read_text())["guests"] if g["name"] == "hpvm1"]
    assert len(written) == 1 and written[0]["host"] == "ivmcl01" and "state" in written[0]["unknown"]
    code, stdout, _ = run_cli("check", out, "hpvm1", "ivmcl02", "--stop", "--format", "json")
    report = json.loads(stdout)
    assert report["verdict"] != "ready" and code != 0  # (blocked: ivmcl02 has too little memory for it too)
    assert {r["rule"]: r["status"] for r in report["results"]}["GUEST-RUNNING"] == "error"


def test_one_machine_captured_twice_is_read_from_no_copy(capture):
    """Two VSP folders whose machinfo gives one Machine ID number are one VSP captured twice (a folder copied under
    another name): which is today's capture is not known, so neither is read, each located."""
    shutil.copytree(capture / "ivmcl02", capture / "ivmcl02-copy")
    estate = import_capture(capture)
    assert [h["name"] for h in estate.snapshot["hosts"]] == ["ivmcl01"]
    assert not [g for g in estate.snapshot["guests"] if g["host"].startswith("ivmcl02")]
    found = [p for p in estate.problems if "one VSP captured twice" in p.message]
    assert sorted((str(Path(p.file).relative_to(capture)), p.line) for p in found) == [
        ("ivmcl02-copy/machinfo.txt", 16), ("ivmcl02/machinfo.txt", 16)]
    assert "`ivmcl02` and `ivmcl02-copy` are one machine" in next(p.message for p in found
                                                                 if p.file.endswith("ivmcl02/machinfo.txt"))


def test_a_guest_name_too_long_for_a_file_is_not_captured_where_its_row_is(capture):
    """A guest whose name is longer than a file name may be (its captures cannot exist): each capture not taken
    is located at its row of hpvmstatus.txt, not reported as an odd file at a path that cannot exist."""
    name = "A" * 300
    summary = capture / "ivmcl02" / "hpvmstatus.txt"
    summary.write_text(summary.read_text() + f"{name} 11 HPUX    Off            1     1     1    2 GB        0\n")
    found = [p for p in _problems(capture) if name in p[3]]
    assert found and all(p[:2] == ("ivmcl02/hpvmstatus.txt", 9) for p in found), found
    assert not [p for p in found if "not a regular file" in p[3]]


def test_one_machine_id_with_two_node_names_is_two_vsps(capture):
    """The nPartitions of one complex share the Machine ID number (MACHINE_IDENT): with another node name a folder
    is another VSP, read; HP-UX 11.23's `machine id number = ...` and `nodename = ...` name one as 11.31's do."""
    machinfo = capture / "ivmcl01" / "machinfo.txt"
    other = (capture / "ivmcl02" / "machinfo.txt").read_text()
    own_id = next(line for line in machinfo.read_text().splitlines() if "Machine ID number" in line)
    _edit(machinfo, own_id, next(line for line in other.splitlines() if "Machine ID number" in line))
    estate = import_capture(capture)
    assert sorted(h["name"] for h in estate.snapshot["hosts"]) == ["ivmcl01", "ivmcl02"]
    assert not [p for p in estate.problems if "captured twice" in p.message]
    shutil.copytree(capture / "ivmcl02", capture / "ivmcl02-copy")
    for folder in ("ivmcl02", "ivmcl02-copy"):  # 11.23's spelling
        path = capture / folder / "machinfo.txt"
        path.write_text(re.sub(r"Machine ID number:\s+", "machine id number =     ",
                               re.sub(r"Nodename:\s+", "nodename = ", path.read_text())))
    estate = import_capture(capture)
    assert [h["name"] for h in estate.snapshot["hosts"]] == ["ivmcl01"]
    assert len([p for p in estate.problems if "one VSP captured twice" in p.message]) == 2
