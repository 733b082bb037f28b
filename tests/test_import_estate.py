"""Importing an estate that looks like a real one (issue 19), and captures that disagree or try to leave (issue 21).

fixtures/capture/dc-west is two V6 VSPs in the folder-per-guest layout (fixtures/capture/
README.md says what each file is built from): AVIO and legacy adaptors, an NPIV guest, an
attached tape, an ejected DVD, an NFS-backed VM, a Linux VM, a vPar, guests `app` and
`app.d`, and a Not Runnable copy. Every device line is kept; what a capture does not give
is `unknown`, never an empty list; a capture that disagrees with itself is a located problem.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from migcheck.files.document import parse_text
from migcheck.importer import dump_snapshot, import_capture

from .conftest import FIXTURES, ROOT

ESTATE = FIXTURES / "capture" / "dc-west"
GOLDEN = FIXTURES / "capture" / "dc-west.snapshot.yaml"
_RULES = ROOT / "rules"


@pytest.fixture
def capture(tmp_path):
    root = tmp_path / "capture"
    shutil.copytree(ESTATE, root)
    return root


def _problems(root) -> list[tuple[str, int, int, str]]:
    estate = import_capture(root)
    return [(str(Path(p.file).relative_to(root)), p.line, p.col, p.message) for p in sorted(estate.problems)]


def _guests(snapshot) -> dict:
    return {g["name"]: g for g in snapshot["guests"]}


def _device_lines(root: Path) -> dict[str, list[str]]:
    """Every device line of every `-d` capture, by guest (the Not Runnable copies' included)."""
    out = {}
    for path in sorted(root.glob("*/guests/*/hpvmstatus-P-d.txt")):
        lines = [t for t in path.read_text().splitlines() if t and not t.startswith(("[", "serial:"))]
        out[f"{path.parts[-4]}/{path.parts[-2]}"] = lines
    return out


# -- the estate, imported whole ------------------------------------------------------------
def test_import_keeps_every_device_line_and_refuses_nothing():
    estate = import_capture(ESTATE, site="dc-west")
    assert estate.problems == [] and estate.notes == []
    text = dump_snapshot(estate.snapshot, "migcheck import: 2 VSP(s), 7 guest(s), 1 Not Runnable copies")
    if os.environ.get("MIGCHECK_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
    assert parse_text(text, "import.yaml").data == estate.snapshot
    guests = _guests(estate.snapshot)
    for key, lines in _device_lines(ESTATE).items():
        vsp, name = key.split("/")
        if name not in guests or guests[name]["host"] != vsp:
            continue  # erp01's Off (NR) copy on vsp-w2: a note on the host, not a guest
        g = guests[name]
        kept = len(g.get("storage", [])) + len(g["npiv"]) + len(g.get("networks", []))
        assert kept == len(lines), (key, lines)
        assert "unknown" not in g


def test_estate_values_real_hp_would_show():
    guests = _guests(import_capture(ESTATE).snapshot)
    assert guests["erp01"]["npiv"] == [{"wwpn": "0x50060b00006499a8", "wwnn": "0x50060b00006499a9"}]
    assert [(s["device"], s["backing"], s["adapter"]) for s in guests["bkp01"]["storage"]] == [
        ("disk", "lv", "scsi"), ("tape", "attach", "avio_stor")]  # a legacy disk and an attached tape
    assert guests["bkp01"]["networks"] == [{"vswitch": "vsw-bkp", "mac": "0x6A114E203101", "adapter": "lan"}]
    assert guests["web01"]["storage"] == [
        {"backing": "file", "path": "/hpvm/nfs/web01/root.img", "device": "disk", "adapter": "avio_stor", "nfs": True},
        # the V6.3 guide's shared ISO folder (hpvmdevmgmt -m gdev:/var/opt/hpvm/ISO-images/hpux/:attr:SHARE=YES)
        {"backing": "null", "path": "/var/opt/hpvm/ISO-images/hpux/", "device": "dvd", "adapter": "avio_stor",
         "share": True}]
    assert guests["erp01"]["storage"][1]["wwid"] == "0x600508b4000115d00001200000410000"
    assert (guests["lnx01"]["os_type"], guests["lnx01"]["guest_kit"]) == ("LINUX", "none")
    assert (guests["erp01"]["guest_kit"], guests["erp01"]["virtualbase"]) == ("B.06.30", "B.06.30")
    assert "guest_kit" not in guests["vpar1"]  # not in the supplement: unknown
    assert (guests["vpar1"]["kind"], guests["app.d"]["vcpus"], guests["app"]["vcpus"]) == ("vpar", 1, 4)
    hosts = {h["name"]: h for h in import_capture(ESTATE).snapshot["hosts"]}
    assert (hosts["vsp-w1"]["cpu_cores"], hosts["vsp-w2"]["cpu_cores"]) == (8, 4)  # w2: 8 logical, LCPU enabled
    assert hosts["vsp-w2"]["vswitch_details"][2:] == [{"name": "vsw-bkp", "state": "Up", "pnic": None},
                                                       {"name": "vsw-dmz", "state": "Down", "pnic": "lan2"}]
    assert hosts["vsp-w2"]["restricted_wwids"][1] == "0x600508b4000115d00001200000400000"  # erp01's LUN disk40
    assert hosts["vsp-w1"]["shared_wwids"] == ["0x600508b4000115d00001200000410000"]


def test_imported_estate_validates_and_checks(tmp_path, run_cli):
    out = tmp_path / "estate.yaml"
    code, _, err = run_cli("import", ESTATE, "--site", "dc-west", "--output", out)
    assert code == 0, err
    code, _, err = run_cli("validate", out)
    assert code == 0 and "valid snapshot: 2 hosts, 7 guests" in err
    for guest, target in (("erp01", "vsp-w2"), ("bkp01", "vsp-w2"), ("lnx01", "vsp-w2"), ("app", "vsp-w1")):
        for mode in ("offline", "online"):
            code, report, err = run_cli("check", out, guest, target, "--mode", mode, "--format", "json")
            assert code in (0, 1, 3) and "Traceback" not in err, (guest, mode, err)
            assert json.loads(report)["verdict"] in ("ready", "blocked", "unknown")


# -- --partial and unknown (issue 19 item 5, issue 21 item 2) -----------------------------
def _rules_read_unknown() -> bool:
    """Whether the built-in pack has rules reading `guest.unknown` yet (issue 19 item 1, another engineer's)."""
    return any("unknown" in p.read_text() for p in _RULES.glob("*.rules"))


def _verdict(run_cli, snapshot, guest, target, mode="offline"):
    code, report, _ = run_cli("check", snapshot, guest, target, "--mode", mode, "--format", "json")
    return code, json.loads(report)["verdict"]


def _never_ready(run_cli, snapshot, guest, target, tmp_path):
    """The whole capture says READY; what was not read makes it unknown (exit 3), never ready."""
    whole = tmp_path / "whole.yaml"
    assert run_cli("import", ESTATE, "--output", whole)[0] == 0
    assert _verdict(run_cli, whole, guest, target) == (0, "ready")
    code, verdict = _verdict(run_cli, snapshot, guest, target)
    if verdict == "ready" and not _rules_read_unknown():
        pytest.xfail("no built-in rule reads guest.unknown yet (issue 19 item 1): the snapshot says unknown")
    assert (code, verdict) == (3, "unknown")


def test_partial_without_the_d_capture_falls_back_to_P_and_says_unknown(capture, tmp_path, run_cli):
    (capture / "vsp-w1" / "guests" / "erp01" / "hpvmstatus-P-d.txt").unlink()
    (capture / "vsp-w1" / "guests" / "bkp01" / "hpvmstatus-P-d.txt").unlink()
    code, _, err = run_cli("import", capture)
    assert code == 2 and ("vsp-w1/hpvmstatus.txt:4:1: error[input]: guest `erp01` is listed here but "
                          "`hpvmstatus -P erp01 -d` was not captured") in err
    out = tmp_path / "partial.yaml"
    assert run_cli("import", capture, "--partial", "--output", out)[0] == 0
    assert run_cli("validate", out)[0] == 0
    guests = _guests(parse_text(out.read_text(), str(out)).data)
    # storage and networks as `hpvmstatus -P` lists them; NPIV HBAs only the -d lines show: unknown, not []
    erp01 = guests["erp01"]
    assert [s["path"] for s in erp01["storage"]] == ["/dev/rdisk/disk40", "/dev/rdisk/disk41"]
    assert erp01["networks"][0] == {"vswitch": "vsw-pub", "mac": "2a-2e-5a-05-0a-ba", "adapter": "avio_lan"}
    assert erp01["unknown"] == ["npiv"] and "npiv" not in erp01
    assert [s["device"] for s in guests["bkp01"]["storage"]] == ["disk", "tape"] and guests["bkp01"]["unknown"] == ["npiv"]
    _never_ready(run_cli, out, "bkp01", "vsp-w2", tmp_path)


def test_partial_without_either_capture_lists_everything_unknown(capture, tmp_path, run_cli):
    shutil.rmtree(capture / "vsp-w2" / "guests" / "app.d")
    out = tmp_path / "partial.yaml"
    code, _, err = run_cli("import", capture, "--partial", "--output", out)
    assert code == 0 and "`hpvmstatus -P app.d` was not captured" in err
    app = _guests(parse_text(out.read_text(), str(out)).data)["app.d"]
    assert app["unknown"] == ["storage", "networks", "npiv"]
    assert not {"storage", "networks", "npiv"} & set(app)  # never an empty list that reads as "nothing there"
    _never_ready(run_cli, out, "app.d", "vsp-w1", tmp_path)


def test_truncated_capture_is_no_guest_without_networks(capture, tmp_path, run_cli):
    """Both -P and -d cut at a section boundary: located problems, and networks unknown, never []."""
    folder = capture / "vsp-w1" / "guests" / "bkp01"
    for name in ("hpvmstatus-P.txt", "hpvmstatus-P-d.txt"):
        text = (folder / name).read_text()
        (folder / name).write_text(text[:text.index("[Network Interface Details]")])
    problems = [p for p in _problems(capture) if "bkp01" in p[0]]
    assert problems == [
        ("vsp-w1/guests/bkp01/hpvmstatus-P-d.txt", 6, 1, "section(s) `[Network Interface Details]`, "
         "`[Misc Interface Details]` missing: the capture looks truncated"),
        ("vsp-w1/guests/bkp01/hpvmstatus-P.txt", 29, 1, "section `[Misc Interface Details]` is missing; the capture "
         "looks truncated"),
        ("vsp-w1/guests/bkp01/hpvmstatus-P.txt", 29, 1, "section `[Network Interface Details]` is missing; the "
         "capture looks truncated")]
    assert run_cli("import", capture)[0] == 2
    out = tmp_path / "partial.yaml"
    assert run_cli("import", capture, "--partial", "--output", out)[0] == 0
    bkp01 = _guests(parse_text(out.read_text(), str(out)).data)["bkp01"]
    assert bkp01["unknown"] == ["networks"] and "networks" not in bkp01 and bkp01["storage"]
    _never_ready(run_cli, out, "bkp01", "vsp-w2", tmp_path)


@pytest.mark.parametrize("counts, want", [
    ("8     1     2", "`#Devs` of guest `erp01` is 1, but {d} lists 3: the captures disagree (`storage` and `npiv` "
                     "of the guest are unknown)"),
    ("8     3     5", "`#Nets` of guest `erp01` is 5, but {d} lists 2: the captures disagree (`networks` of the guest "
                     "is unknown)"),
])
def test_summary_counts_are_checked_against_the_captures(capture, counts, want):
    """#Devs counts storage lines with the NPIV HBA (erp01: two disks and an HBA), #Nets the vNICs."""
    summary = capture / "vsp-w1" / "hpvmstatus.txt"
    summary.write_text(summary.read_text().replace("8     3     2", counts, 1))
    estate = import_capture(capture)
    d = capture / "vsp-w1" / "guests" / "erp01" / "hpvmstatus-P-d.txt"
    assert [(p.line, p.col, p.message) for p in estate.problems] == [(4, 1, want.format(d=d))]
    (problem,) = estate.problems  # what to do is its help, not its JSON path (it was passed as the path)
    assert problem.help == "capture `hpvmstatus` and the guest's `-P` and `-P -d` again, one after the other"
    assert problem.path == "" and "= help: capture `hpvmstatus`" in problem.render()
    erp01 = _guests(estate.snapshot)["erp01"]
    assert erp01["unknown"] == (["storage", "npiv"] if "#Devs" in want else ["networks"])
    assert ("npiv" in erp01) == ("#Devs" not in want)  # an HBA list that may have lost a line is not written


def test_a_vcpu_cell_that_is_not_ascii_digits_is_located(capture, run_cli):
    summary = capture / "vsp-w1" / "hpvmstatus.txt"
    summary.write_text(summary.read_text().replace("On (OS)        8", "On (OS)        ²", 1))
    code, _, err = run_cli("import", capture)
    assert code == 2 and "Traceback" not in err
    assert re.search(re.escape(f"{summary}:4:") + r"[0-9]+" + re.escape(": error[input]: expected a number (ASCII "
                     "digits) in column `#VCPUs` of `erp01`, found `²`"), err), err


# -- import never leaves the capture folder (issue 21 item 2) -------------------------------
def test_a_fifo_is_not_opened(capture):
    path = capture / "vsp-w1" / "guests" / "bkp01" / "hpvmstatus-P.txt"
    path.unlink()
    os.mkfifo(path)

    def hang(*_):
        raise AssertionError("import opened the FIFO and waits for a writer")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(20)
    try:
        problems = _problems(capture)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert ("vsp-w1/guests/bkp01/hpvmstatus-P.txt", 1, 1, "a FIFO, not a regular file: not opened (a FIFO or a "
            "device can hold reading forever)") in problems


def test_links_out_of_the_capture_are_not_followed(capture, tmp_path, run_cli):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    (capture / "vsp-w1" / "machinfo.txt").unlink()
    (capture / "vsp-w1" / "machinfo.txt").symlink_to(secret)
    shutil.rmtree(capture / "vsp-w2" / "guests" / "app")
    (capture / "vsp-w2" / "guests" / "app").symlink_to(tmp_path)
    code, _, err = run_cli("import", capture, "--partial")
    assert code == 0 and "secret-hash" not in err
    assert (f"{capture}/vsp-w1:1:1: error[input]: `machinfo.txt`: a symbolic link (to `{secret}`): import follows "
            "no links") in err
    assert f"{capture}/vsp-w2/guests:1:1: error[input]: `app`: a symbolic link (to `{tmp_path}`)" in err


@pytest.mark.parametrize("name", ["../../etc", "..", ".hidden", "a/b"])
def test_guest_names_that_could_leave_the_folder_are_refused(capture, name):
    summary = capture / "vsp-w2" / "hpvmstatus.txt"
    lines = summary.read_text().splitlines()
    lines[3] = name.ljust(20) + lines[3][20:]
    summary.write_text("\n".join(lines) + "\n")
    problems = _problems(capture)
    assert ("vsp-w2/hpvmstatus.txt", 4, 1, f"guest name `{name}` cannot name a capture file (it holds `/`, a leading "
            "`.` or a character hpvmcreate does not allow): its captures are not read and it is left out of the "
            "snapshot") in problems
    assert "app" not in _guests(import_capture(capture).snapshot)


def test_first_layout_clash_of_web_and_web_d_is_a_problem_not_a_guess(capture):
    """In the first collector's layout `-P app -d` and `-P app.d` were both guests/app.d.txt."""
    guests = capture / "vsp-w2" / "guests"
    for name in ("app", "app.d"):
        (guests / name / "hpvmstatus-P.txt").rename(guests / f"{name}.txt")
        (guests / name / "hpvmstatus-P-d.txt").rename(guests / f"{name}.dd")
        (guests / name).rmdir()
    (guests / "app.dd").rename(guests / "app.d.txt")  # the clash: app.d's -P is lost, as it was
    (guests / "app.d.dd").unlink()
    problems = _problems(capture)
    assert ("vsp-w2/guests/app.d.txt", 1, 1, "in the first capture layout `app.d.txt` is both `hpvmstatus -P app -d` "
            "and `hpvmstatus -P app.d`: it is read as neither") in problems
    guests = _guests(import_capture(capture).snapshot)
    assert guests["app"]["unknown"] == ["npiv"]  # its -P read; its -d is the clash
    assert guests["app.d"]["unknown"] == ["storage", "networks", "npiv"]


def test_a_guest_folder_holds_only_its_two_captures(capture):
    (capture / "vsp-w1" / "guests" / "web01" / "notes.txt").write_text("x\n")
    (capture / "vsp-w1" / "guests" / "ghost").mkdir()
    assert _problems(capture) == [
        ("vsp-w1/guests/ghost", 1, 1, "`ghost` is the capture of no guest that `hpvmstatus.txt` lists"),
        ("vsp-w1/guests/web01/notes.txt", 1, 1, "`notes.txt` is not a file of a guest's capture folder (expected "
         "hpvmstatus-P.txt and hpvmstatus-P-d.txt)")]


# -- the supplement's guest-side facts ------------------------------------------------------
@pytest.mark.parametrize("text, want", [
    ("dio_functions: []\nguests:\n  erp02: {guest_kit: B.06.30}\n",
     (3, 3, "guest `erp02` is not a runnable guest of this VSP's hpvmstatus.txt")),
    ("dio_functions: []\nguests:\n  erp01: {guest_kti: B.06.30}\n", (3, 11, "unknown field `guest_kti` of a guest")),
    ("dio_functions: []\nguests:\n  erp01: {guest_kit: 6}\n",
     (3, 22, "`guest_kit` must be a revision string such as B.06.30 or `none`, not `6`")),
    ("dio_functions: []\nguests: [erp01]\n",
     (2, 9, "`guests` must map guest names to `{guest_kit: ..., virtualbase: ...}`")),
])
def test_guest_supplement_problems_are_located(capture, text, want):
    (capture / "vsp-w1" / "dio.yaml").write_text(text)
    problems = [p[1:] for p in _problems(capture) if p[0] == "vsp-w1/dio.yaml"]
    assert problems[0][:2] == want[:2] and problems[0][2].startswith(want[2]), problems


def test_docs_name_every_capture_file():
    """docs/import.md documents each file the collector writes and import reads."""
    from migcheck.importer.capture import FACTS, FILES, OPTIONAL

    text = (ROOT / "docs" / "import.md").read_text()
    for name in [*FILES, *OPTIONAL, *FACTS, "guests/GUEST/hpvmstatus-P.txt", "guests/GUEST/hpvmstatus-P-d.txt",
                 "vswitches/VSWITCH.txt", "guests/GUEST.d.txt"]:
        assert re.search(re.escape(name), text), name


_LINE_LISTS = {"swlist.txt", "mount-p.txt", "hpvmdevmgmt-gdev.txt", "hpvmdevmgmt-rdev.txt", "hpvmstatus-s.txt",
               "machinfo.txt", "hpvminfo.txt", "dio.yaml"}


def test_every_cut_of_every_capture_is_said_and_loses_nothing_silently(capture):
    """A capture cut anywhere: problems, never an exception; a guest it keeps has its storage and networks, or
    lists them in `unknown` (every dc-west guest has both), and every guest is kept or named in a problem."""
    from migcheck.importer.capture import FACTS

    names = {g["name"] for g in import_capture(ESTATE).snapshot["guests"]}
    originals = {p: p.read_bytes() for p in sorted(capture.rglob("*")) if p.is_file()}
    for path, raw in originals.items():
        cuts = {len(raw) // 3, len(raw) // 2, len(raw) - 7} | (set() if path.name in FACTS else {0})
        for cut in sorted(c for c in cuts if c >= 0):
            path.write_bytes(raw[:cut])
            estate = import_capture(capture)
            # a list of lines cut between two lines is a shorter list: nothing in the text can tell (docs/import.md)
            assert estate.problems or (raw[cut - 1:cut] == b"\n" and path.name in _LINE_LISTS), (path, cut)
            said = " ".join(p.message + " " + p.file for p in estate.problems)
            kept = _guests(estate.snapshot)
            for name in names:
                assert name in kept or f"`{name}`" in said or f"/{name}/" in said, (path, cut, name)
            for guest in kept.values():
                for part in ("storage", "networks"):
                    assert part in guest or part in guest.get("unknown", []), (path, cut, guest)
        path.write_bytes(raw)


def test_a_fifo_swapped_in_after_the_look_is_not_waited_on(capture, monkeypatch):
    """The file is opened without waiting and without following a link, then checked: what was checked is read."""
    import migcheck.importer.capture as capture_module

    path = capture / "vsp-w1" / "guests" / "bkp01" / "hpvmstatus-P-d.txt"
    path.unlink()
    os.mkfifo(path)
    looked = capture_module.kind
    monkeypatch.setattr(capture_module, "kind", lambda p: "file" if p == path else looked(p))  # the race, won
    old = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(AssertionError("import waits on a FIFO")))
    signal.alarm(20)
    try:
        problems = _problems(capture)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert ("vsp-w1/guests/bkp01/hpvmstatus-P-d.txt", 1, 1, "a FIFO, not a regular file: not opened (a FIFO or a "
            "device can hold reading forever)") in problems


# -- one file holding two outputs: a value said twice, otherwise (each was resolved without a word) -----------
@pytest.mark.parametrize("name, line, added, want", [
    ("machinfo.txt", 12, "Memory: 999999 MB (976.5 GB)\n",
     "`Memory` is 999999 here and 65434 at line 11: the capture holds two outputs"),
    ("hpvmstatus-s.txt", 2, "Available memory for vPars and VMs = 999999 Mbytes\n",
     "`Available memory for vPars and VMs` is 999999 MB here and 4096 MB at line 1: the capture holds two outputs"),
    ("hpvmstatus-s.txt", 4, "Available memory for 1 (max avail.) CPU vPar = 3968 Mbytes\n",
     "the cores free for a vPar are 1 here and 6 at line 3: the capture holds two outputs"),
    ("hpvmnet.txt", 6, "vsw-pub       2 Down    Shared    lan0     0x001a4b0c1d20 10.20.1.11\n",
     "vswitch `vsw-pub` is listed again (first at line 4); hpvmnet lists each vswitch once"),
    ("hpvmdevmgmt-gdev.txt", 2,
     "/dev/rdisk/disk40:CONFIG=gdev,EXIST=YES,DEVTYPE=DISK,SHARE=YES:erp01:6005-08b4-0001-15d0-0001-2000-0099-0000\n",
     "device `/dev/rdisk/disk40` is listed again with another share or WWID; `hpvmdevmgmt -l gdev` lists each "
     "device once"),
])
def test_a_value_a_capture_gives_once_said_twice_otherwise_is_located(capture, name, line, added, want):
    path = capture / "vsp-w1" / name
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(line - 1, added)
    path.write_text("".join(lines))
    assert (f"vsp-w1/{name}", line, 1, want) in _problems(capture), _problems(capture)
    if "memory" in want.lower():  # with --partial neither value is taken: the VSP's memory is not known
        assert "vsp-w1" not in {h["name"] for h in import_capture(capture).snapshot["hosts"]}


def test_a_mount_over_another_hides_it(capture):
    """`mount -p` lists a directory mounted over as often as it was: the last mount is the one in effect (both were
    kept, and a rule could pass on the hidden one)."""
    path = capture / "vsp-w1" / "mount-p.txt"
    path.write_text(path.read_text() + "otherserver:/export/other /hpvm/nfs nfs rw 0 0\n")
    vsp = next(h for h in import_capture(capture).snapshot["hosts"] if h["name"] == "vsp-w1")
    assert vsp["nfs_mounts"] == [{"mount_point": "/hpvm/nfs", "source": "otherserver:/export/other", "options": "rw"}]
    path.write_text(path.read_text() + "/dev/vg01/lvol9 /hpvm/nfs vxfs log 0 2\n")
    vsp = next(h for h in import_capture(capture).snapshot["hosts"] if h["name"] == "vsp-w1")
    assert vsp.get("nfs_mounts", []) == []


@pytest.mark.parametrize("name", ["vsp\nw2", "vsp w2", "vsp-w2\x1b[31m", "vsp:w2"])
def test_a_vsp_folder_whose_name_cannot_name_a_vsp_is_a_problem(capture, name):
    """The folder's name becomes the VSP's in every report: a line feed in it was imported (and validated) as is."""
    (capture / "vsp-w2").rename(capture / name)
    estate = import_capture(capture)
    assert any(p.file == str(capture / name) and "cannot name a VSP" in p.message for p in estate.problems)
    assert name not in {h["name"] for h in estate.snapshot["hosts"]}


@pytest.mark.parametrize("added, on_nfs", [
    ("", True),  # /hpvm/nfs (NFS) holds web01's root.img
    ("/dev/vg01/lvol9 /hpvm/nfs/web01 vxfs delaylog 0 2\n", False),  # a local file system below it holds it
    ("/dev/vg01/lvol9 /hpvm vxfs delaylog 0 2\n", False),  # a later mount over its parent hides the NFS mount
    ("/dev/vg01/lvol9 /hpvm/nfs/other vxfs delaylog 0 2\n", True),  # a local mount beside the file: still NFS
])
def test_a_file_is_on_the_file_system_of_the_deepest_mount_above_it(capture, added, on_nfs):
    """A local file system mounted below an NFS mount made its files `nfs: true` (the importer asked whether any
    NFS mount point was a prefix of the path, and kept no other mount): STORAGE-LOCAL then did not apply."""
    path = capture / "vsp-w1" / "mount-p.txt"
    path.write_text(path.read_text() + added)
    snapshot = import_capture(capture).snapshot
    web01 = _guests(snapshot)["web01"]
    (root,) = [s for s in web01["storage"] if s["path"] == "/hpvm/nfs/web01/root.img"]
    assert root.get("nfs", False) is on_nfs
    vsp = next(h for h in snapshot["hosts"] if h["name"] == "vsp-w1")
    assert [m["mount_point"] for m in vsp.get("nfs_mounts", [])] == ([] if "/hpvm " in added else ["/hpvm/nfs"])


def test_a_vswitch_table_with_a_row_not_read_is_not_written_from_the_rest(capture):
    """With --partial, a row not understood (a state `Dgrd`) left the vswitch out of `vswitches`, which reads as "not
    there": VSWITCH-MISSING then blocked a move onto a VSP that has it. The VSP is left out, as for its memory."""
    path = capture / "vsp-w2" / "hpvmnet.txt"
    text = path.read_text()
    assert " Down " in text.splitlines()[-1]
    lines = text.splitlines(keepends=True)
    lines[-1] = lines[-1].replace(" Down ", " Dgrd ", 1)
    path.write_text("".join(lines))
    estate = import_capture(capture)
    assert any("unknown state `Dgrd`" in p.message for p in estate.problems)
    assert any("VSP `vsp-w2` is left out of the snapshot: its vswitches could not be read" in p.message
               for p in estate.problems)
    assert "vsp-w2" not in {h["name"] for h in estate.snapshot["hosts"]}


@pytest.mark.parametrize("how", ["missing", "a line not read"])
def test_a_gdev_listing_not_read_whole_leaves_the_guests_storage_unknown(capture, how):
    """Without `hpvmdevmgmt -l gdev`, every storage line lacked `share` (absent: not shared) and `wwid`: a SHARE=YES
    disk read as not shared, and the move said READY."""
    path = capture / "vsp-w1" / "hpvmdevmgmt-gdev.txt"
    if how == "missing":
        path.unlink()
    else:
        path.write_text(path.read_text() + "a line hpvmdevmgmt never prints\n")
    estate = import_capture(capture)
    web01 = _guests(estate.snapshot)["web01"]
    assert "storage" in web01["unknown"]
    assert all("share" not in s for s in web01["storage"])


@pytest.mark.parametrize("old, new, part", [(" 8 GB     64 MB", " 64 GB     64 MB", "memory_mb"),
                                            ("bkp01                    2 HPUX    Off ",
                                             "bkp01                    2 HPUX    On  ", "state")])
def test_a_guest_whose_captures_disagree_has_that_part_unknown(capture, old, new, part):
    """-P said 64 GB (or On) and hpvmstatus 8 GB (or Off): the problem was said, and --partial wrote the summary's
    value as known (a move said READY on memory it may not have)."""
    path = capture / "vsp-w1" / "guests" / "bkp01" / "hpvmstatus-P.txt"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    estate = import_capture(capture)
    assert any("the captures disagree" in p.message for p in estate.problems)
    assert part in _guests(estate.snapshot)["bkp01"]["unknown"]


def test_a_device_line_given_twice_lists_its_wwid_once(capture):
    path = capture / "vsp-w1" / "hpvmdevmgmt-gdev.txt"
    shared = next(line for line in path.read_text().splitlines() if "SHARE=YES" in line and line.split(":")[-1])
    path.write_text(path.read_text() + shared + "\n")
    estate = import_capture(capture)
    vsp = next(h for h in estate.snapshot["hosts"] if h["name"] == "vsp-w1")
    assert len(vsp["shared_wwids"]) == len(set(vsp["shared_wwids"])) > 0


def test_a_hidden_folder_in_the_capture_folder_is_said(capture):
    """`.vsp-w2` (a VSP folder hidden by a rename), a hidden entry in a VSP folder and the collector's unfinished
    work were skipped without a word; its capture left between the two renames of a swap too."""
    (capture / "vsp-w2").rename(capture / ".vsp-w2")
    (capture / ".migcheck-work.abc123").mkdir()
    (capture / "vsp-w1" / ".old").mkdir()
    (capture / ".notes").mkdir()
    estate = import_capture(capture)
    assert "`.notes` in the capture folder is hidden: not read" in estate.notes
    assert "`.migcheck-work.abc123` is the work folder of a collector run that did not finish: not read" in estate.notes
    assert "`vsp-w1/.old` is hidden: not read" in estate.notes
    # a VSP's capture hidden by a rename: a problem (its VSP and guests were dropped with only a note, exit 0)
    assert [(Path(p.file).name, p.line) for p in estate.problems] == [(".vsp-w2", 1)]
    assert "is a VSP's capture (it holds hpvmstatus.txt) hidden by its name" in estate.problems[0].message
    (capture / ".vsp-w2").rename(capture / "vsp-w2")
    estate = import_capture(capture)
    assert estate.problems == []
    # a capture the collector was replacing when it stopped holds the VSP's capture: a problem
    (capture / "vsp-w2").rename(capture / ".migcheck-work.abc123.old")
    estate = import_capture(capture)
    assert any("a capture the collector was replacing when it stopped" in p.message for p in estate.problems)


@pytest.mark.parametrize("how", ["two vPar core counts", "a vswitch capture the table does not list"])
def test_a_vsp_whose_cores_or_vswitches_are_not_known_whole_is_left_out(capture, how):
    """With --partial, a VSP was written without `cpu_cores_free` (absent: no constraint, a vPar's move READY) or
    without a vswitch whose table row was lost (absent: not there, a false VSWITCH-MISSING)."""
    if how == "two vPar core counts":
        path = capture / "vsp-w2" / "hpvmstatus-s.txt"
        path.write_text(path.read_text() + "Available memory for 1 (max avail.) CPU vPar = 3968 Mbytes\n")
    else:
        path = capture / "vsp-w2" / "hpvmnet.txt"
        path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                                if not line.startswith("vsw-bkp")))
    estate = import_capture(capture)
    assert any("VSP `vsp-w2` is left out of the snapshot" in p.message for p in estate.problems), \
        [p.message for p in estate.problems]
    assert "vsp-w2" not in {h["name"] for h in estate.snapshot["hosts"]}


def test_an_os_type_the_summary_says_otherwise_is_unknown(capture):
    """web01's -P said LINUX and hpvmstatus HPUX: nothing was said, and HPUX was written as known (ONLINE-GUEST-OS
    passed)."""
    path = capture / "vsp-w1" / "guests" / "web01" / "hpvmstatus-P.txt"
    path.write_text(path.read_text().replace("web01                    3 HPUX ", "web01                    3 LINUX", 1))
    estate = import_capture(capture)
    assert any("os_type `LINUX` here, `HPUX` in hpvmstatus.txt" in p.message for p in estate.problems), \
        [p.message for p in estate.problems]
    assert "os_type" in _guests(estate.snapshot)["web01"]["unknown"]


def test_another_guests_capture_gives_this_guest_no_devices(capture):
    """bkp01's folder held erp01's -P: the name's disagreement was said, and erp01's disks (a SHARE=YES one, its
    WWIDs) became bkp01's known storage."""
    guests = capture / "vsp-w1" / "guests"
    (guests / "bkp01" / "hpvmstatus-P.txt").write_text((guests / "erp01" / "hpvmstatus-P.txt").read_text())
    (guests / "bkp01" / "hpvmstatus-P-d.txt").unlink()
    estate = import_capture(capture)
    assert any("name `erp01` here, `bkp01` in hpvmstatus.txt" in p.message for p in estate.problems)
    assert {"storage", "networks", "npiv"} <= set(_guests(estate.snapshot)["bkp01"]["unknown"])


def test_import_notes_show_control_characters_as_escapes(capture, run_cli, tmp_path):
    """A note names what the capture holds (a hidden folder here, with an escape sequence in its name): shown with
    its control characters as escapes, as the problems are, never raw on the terminal."""
    (capture / ".x\x1b]0;pwned\x07\x1b[31m").mkdir()
    code, _, err = run_cli("import", capture, "--output", tmp_path / "estate.yaml")
    assert code == 0 and "\x1b" not in err and "\x07" not in err
    assert "`.x\\x1b]0;pwned\\x07\\x1b[31m` in the capture folder is hidden: not read" in err
