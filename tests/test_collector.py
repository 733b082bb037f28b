"""`migcheck collector`: the POSIX sh script run as root on each VSP, tested against stub HP commands.

The stubs print the files of a fixture capture (either layout) and log their arguments, so
a run of the collector must give back the fixture, byte for byte, in the folder-per-guest
layout. The script runs under every POSIX shell found (sh, dash, busybox sh). The attack
tests (issue 21) run the attacker's part as the unprivileged user `nobody` (setpriv) in a
sticky world-writable folder like /var/tmp, and the collector as root: a folder or link
pre-created by another user is refused, and nothing is written through a link.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from migcheck.importer import collector_script, import_capture

from .conftest import FIXTURES, ROOT

COLLECTOR = ROOT / "engine" / "importer" / "collector.sh"
TWO_VSP = FIXTURES / "capture" / "two-vsp"
DC_WEST = FIXTURES / "capture" / "dc-west"
SHELLS = [s for s in (["sh"], ["dash"], ["busybox", "sh"]) if shutil.which(s[0])]

_STUB = """#!/bin/sh
printf '%s\\n' "{name} $*" >> "$STUB_LOG"
cap=$STUB_CAPTURE
{body}
"""
_GUEST = """g() {{ if [ -d "$cap/guests/$1" ]; then cat "$cap/guests/$1/{new}"; else cat "$cap/guests/$1{old}"; fi; }}"""
_BODIES = {
    "hpvmstatus": _GUEST.format(new="hpvmstatus-P.txt", old=".txt").replace("g()", "p()") + "\n"
    + _GUEST.format(new="hpvmstatus-P-d.txt", old=".d.txt").replace("g()", "d()") + """
case "$*" in
    "") cat "$cap/hpvmstatus.txt"; [ -z "${STUB_PAD:-}" ] || { echo; head -c "$STUB_PAD" /dev/zero; } ;;
    "-s") cat "$cap/hpvmstatus-s.txt" ;;
    "-P $2") p "$2" 2> /dev/null || exit 1 ;;
    "-P $2 -d") d "$2" 2> /dev/null || exit 1 ;;
    *) exit 2 ;;
esac""",
    "hpvmnet": """case "$*" in
    "") cat "$cap/hpvmnet.txt" ;;
    "-S $2") cat "$cap/vswitches/$2.txt" ;;
    *) exit 2 ;;
esac""",
    "hpvmdevmgmt": """case "$*" in
    "-l gdev") cat "$cap/hpvmdevmgmt-gdev.txt" ;;
    "-l rdev") cat "$cap/hpvmdevmgmt-rdev.txt" ;;
    *) exit 2 ;;
esac""",
    "mount": '[ "$*" = "-p" ] || exit 2\ncat "$cap/mount-p.txt"',
    "machinfo": 'cat "$cap/machinfo.txt"',
    "hpvminfo": 'cat "$cap/hpvminfo.txt"',
    "swlist": """[ "$*" = "-l bundle" ] || exit 2
printf '%s\\n' '# Initializing...' '# Contacting target "vsp"...' '#' '# Target:  vsp:/' '#'
printf '%s\\n' '  HPUX11i-OE-Ent                B.11.31.1103   HP-UX Enterprise Operating Environment'
cat "$cap/swlist.txt\"""",
    "hpvmhwmgmt": '[ "$*" = "-p dio -l" ] || exit 2\neval "${STUB_DIO:-true}"',
}


@pytest.fixture
def stubs(tmp_path):
    """Stub HP commands, first on PATH, that print a captured VSP's files and log their arguments."""
    return _stubs(tmp_path / "stubs")


def _stubs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, body in _BODIES.items():
        path = folder / name
        path.write_text(_STUB.format(name=name, body=body))
        path.chmod(0o755)
    return folder


def _collect(stubs, capture: Path, out: Path, vsp: str, shell=("sh",), log: Path | None = None, **env):
    environ = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "STUB_CAPTURE": str(capture),
               "STUB_LOG": str(log or out.parent / "stub.log"), **env}
    return subprocess.run([*shell, str(COLLECTOR), str(out), vsp], capture_output=True, text=True, env=environ)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _flat_to_folders(files: dict[str, bytes]) -> dict[str, bytes]:
    """The first layout's names (`guests/G.txt`, `guests/G.d.txt`) in the folder-per-guest layout."""
    out = {}
    for name, data in files.items():
        if name.startswith("guests/") and name.endswith(".d.txt"):
            name = f"guests/{name[7:-6]}/hpvmstatus-P-d.txt"
        elif name.startswith("guests/"):
            name = f"guests/{name[7:-4]}/hpvmstatus-P.txt"
        out[name] = data
    return out


def test_collector_command_prints_the_shipped_script(run_cli):
    code, out, _ = run_cli("collector")
    assert code == 0 and out == COLLECTOR.read_text() == collector_script()
    assert out.startswith("#!/bin/sh\n")


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_collector_passes_shellcheck():
    result = subprocess.run(["shellcheck", "-s", "sh", str(COLLECTOR)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("shell", SHELLS, ids=" ".join)
def test_collector_reproduces_the_new_capture(stubs, tmp_path, shell):
    """dc-west/vsp-w1, byte for byte (its completed dio.yaml kept from an earlier run), guests in folders."""
    out = tmp_path / "collected * here"  # the script's quoting keeps a path with a space and a glob whole
    out.mkdir(mode=0o700)
    (out / "vsp-w1").mkdir(mode=0o700)
    shutil.copy(DC_WEST / "vsp-w1" / "dio.yaml", out / "vsp-w1" / "dio.yaml")
    result = _collect(stubs, DC_WEST / "vsp-w1", out, "vsp-w1", shell)
    assert result.returncode == 0, result.stderr
    assert "dio.yaml exists and is kept" in result.stderr
    assert result.stderr.strip().endswith(f"captured 5 guest(s) and 3 vswitch(es) into {out}/vsp-w1")
    assert _files(out / "vsp-w1") == _files(DC_WEST / "vsp-w1")
    assert sorted(p.name for p in out.iterdir()) == ["vsp-w1"]  # the private work folder was renamed, no rest
    assert stat.S_IMODE((out / "vsp-w1").stat().st_mode) == 0o700
    calls = (tmp_path / "stub.log").read_text().splitlines()
    assert calls[:9] == ["hpvmstatus ", "hpvmstatus -s", "hpvmnet ", "machinfo ", "hpvminfo ", "hpvmdevmgmt -l gdev",
                         "hpvmdevmgmt -l rdev", "mount -p", "swlist -l bundle"]


def test_collector_reproduces_the_first_capture_in_the_new_layout(stubs, tmp_path):
    out = tmp_path / "collected"
    result = _collect(stubs, TWO_VSP / "ivmcl02", out, "ivmcl02")
    assert result.returncode == 0, result.stderr
    assert _files(out / "ivmcl02") == _flat_to_folders(_files(TWO_VSP / "ivmcl02"))  # dio.yaml template included
    shutil.copytree(TWO_VSP / "ivmcl01", out / "ivmcl01")  # one VSP in each layout: read alike
    assert import_capture(out).snapshot == import_capture(TWO_VSP).snapshot


def test_collector_names_never_collide_and_are_shown_escaped(stubs, tmp_path):
    """`web` and `web.d` had one file (`-P web -d` and `-P web.d`); a name with ESC was printed raw to root."""
    vsp = tmp_path / "vsp"
    shutil.copytree(TWO_VSP / "ivmcl01", vsp)
    summary = vsp / "hpvmstatus.txt"
    rows = summary.read_text().splitlines()[:3]
    rows += ["web                     11 HPUX    Off            1     1     1    3 GB        0",
             "web.d                   12 HPUX    Off            2     1     1    3 GB        0",
             "evil\x1b[2J\x07".ljust(20) + "    13 HPUX    Off            1     1     1    3 GB        0"]
    summary.write_text("\n".join(rows) + "\n")
    for name, vcpus in (("web", 1), ("web.d", 2)):
        text = (TWO_VSP / "ivmcl01" / "guests" / "hpvm1.txt").read_text().replace("hpvm1   ", name.ljust(8))
        (vsp / "guests" / f"{name}.P").write_text(text.replace("Off (NR)", "Off     ").replace(" 1       10", f" {vcpus}       10"))
        (vsp / "guests" / f"{name}.D").write_text((TWO_VSP / "ivmcl01" / "guests" / "hpvm1.d.txt").read_text())
    for name in ("web", "web.d"):
        (vsp / "guests" / name).mkdir()
        (vsp / "guests" / f"{name}.P").rename(vsp / "guests" / name / "hpvmstatus-P.txt")
        (vsp / "guests" / f"{name}.D").rename(vsp / "guests" / name / "hpvmstatus-P-d.txt")
    out = tmp_path / "out"
    result = _collect(stubs, vsp, out, "ivmcl01")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "guest name 'evil?[2J?' cannot be a file name; capture it by hand" in result.stderr
    got = out / "ivmcl01" / "guests"
    assert (got / "web" / "hpvmstatus-P.txt").read_text() != (got / "web.d" / "hpvmstatus-P.txt").read_text()
    assert (got / "web" / "hpvmstatus-P-d.txt").exists() and (got / "web.d" / "hpvmstatus-P-d.txt").exists()
    guests = {g["name"]: g for g in import_capture(out).snapshot["guests"]}
    assert (guests["web"]["vcpus"], guests["web.d"]["vcpus"]) == (1, 2)


def test_collector_quoting_failures_and_dio_template(stubs, tmp_path):
    vsp = tmp_path / "vsp"
    shutil.copytree(TWO_VSP / "ivmcl01", vsp)
    summary = vsp / "hpvmstatus.txt"
    hostile = "$(touch${IFS}pwned)"
    summary.write_text(summary.read_text() + f"{hostile:<20}    11 HPUX    Off            1     1     1    2 GB        0\n"
                       "-dash                   12 HPUX    Off            1     1     1    2 GB        0\n")
    shutil.copy(vsp / "guests" / "hpvm1.txt", vsp / "guests" / "-dash.txt")  # a name that looks like an option
    (vsp / "guests" / "ivm1.d.txt").unlink()  # hpvmstatus -P ivm1 -d fails on this VSP
    out = tmp_path / "collected"
    result = _collect(stubs, vsp, out, "ivmcl01", STUB_DIO="printf '%s\\n' 'hwpath 0/0/0/4/0/0/0 FLA' '$(rm x) `id`'")
    assert result.returncode == 1
    assert not list(tmp_path.rglob("pwned")) and not list(Path.cwd().glob("pwned"))
    assert "guest name '$(touch${IFS}pwned)' cannot be a file name; capture it by hand" in result.stderr
    assert "'hpvmstatus -P ivm1 -d' failed; guests/ivm1/hpvmstatus-P-d.txt not written" in result.stderr
    got = out / "ivmcl01"
    assert (got / "guests" / "-dash" / "hpvmstatus-P.txt").read_bytes() == (vsp / "guests" / "hpvm1.txt").read_bytes()
    assert not (got / "guests" / "ivm1" / "hpvmstatus-P-d.txt").exists()
    dio = (got / "dio.yaml").read_text()
    assert dio.endswith("# hpvmhwmgmt -p dio -l:\n#   hwpath 0/0/0/4/0/0/0 FLA\n#   $(rm x) `id`\ndio_functions:\n")
    problems = [(str(Path(p.file).relative_to(out)), p.line, p.message) for p in import_capture(out).problems]
    assert ("ivmcl01/dio.yaml", 11, "`dio_functions` is empty: the template was not completed") in problems
    assert any(p[:2] == ("ivmcl01/hpvmstatus.txt", 7) and "cannot name a capture file" in p[2] for p in problems)
    assert any(p[:2] == ("ivmcl01/hpvmstatus.txt", 5) and "ivm1 -d` was not captured" in p[2] for p in problems)
    # a second run keeps the completed supplement, and replaces the rest
    (got / "dio.yaml").write_text("dio_functions: []\n")
    result = _collect(stubs, vsp, out, "ivmcl01")
    assert "dio.yaml exists and is kept" in result.stderr and (got / "dio.yaml").read_text() == "dio_functions: []\n"


def test_collector_without_hpvmstatus_stops(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    environ = {**os.environ, "PATH": f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    result = subprocess.run(["sh", str(COLLECTOR), str(tmp_path / "out"), "vsp"], capture_output=True, text=True,
                            env=environ)
    assert result.returncode == 2 and "is this a VSP? hpvmstatus is needed to list the guests" in result.stderr
    assert list((tmp_path / "out").iterdir()) == []  # no half capture left behind


# -- as root, against a local user (issue 21, item 1) ------------------------------------------
_ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="needs root (the collector's user) and setpriv (to act as `nobody`)")


@pytest.fixture
def shared_tmp():
    """A /var/tmp alike: a sticky, world-writable folder that `nobody` can reach (pytest's tmp_path is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="migcheck-collector-", dir="/tmp"))
    base.chmod(0o755)
    vartmp = base / "vartmp"
    vartmp.mkdir()
    vartmp.chmod(0o1777)
    (base / "victim").write_text("root's file\n")
    (base / "victim").chmod(0o644)
    yield base
    shutil.rmtree(base)


def _as_nobody(script: str, cwd: Path) -> None:
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "sh", "-c", script],
                            cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@_ROOT_ONLY
@pytest.mark.parametrize("attack, refused", [
    # the folder pre-created by the user, with links to root's files where captures will go
    ("mkdir capture && mkdir capture/vsp1 && ln -s ../../victim capture/vsp1/hpvmstatus.txt",
     "capture is not a folder owned by root or by you"),
    # the folder is a link to a folder the user owns
    ("mkdir mine && ln -s mine capture", "capture is not a folder owned by root or by you"),
    # the folder is a link to root's own folder: still a link, never followed
    ("ln -s .. capture", "capture is not a folder owned by root or by you"),
])
def test_collector_refuses_folders_a_user_prepared(shared_tmp, attack, refused):
    vartmp = shared_tmp / "vartmp"
    _as_nobody(attack, vartmp)
    stubs = _stubs(shared_tmp / "stubs")
    result = _collect(stubs, TWO_VSP / "ivmcl02", vartmp / "capture", "vsp1", log=shared_tmp / "stub.log")
    assert result.returncode == 2 and refused in result.stderr, result.stderr
    assert (shared_tmp / "victim").read_text() == "root's file\n"
    assert not (shared_tmp / "stub.log").exists()  # not one command ran
    for folder, subfolders, files in os.walk(vartmp):  # links not followed: nothing of root's in the user's place
        assert all(os.lstat(os.path.join(folder, n)).st_uid != 0 for n in subfolders + files), (folder, files)


@_ROOT_ONLY
def test_collector_as_root_in_a_shared_folder_keeps_its_capture_private(shared_tmp):
    vartmp = shared_tmp / "vartmp"
    stubs = _stubs(shared_tmp / "stubs")
    result = _collect(stubs, TWO_VSP / "ivmcl02", vartmp / "capture", "ivmcl02", log=shared_tmp / "stub.log")
    assert result.returncode == 0, result.stderr
    capture = vartmp / "capture"
    assert (capture.owner(), stat.S_IMODE(capture.stat().st_mode)) == ("root", 0o700)
    assert all(p.owner() == "root" and not p.is_symlink() for p in capture.rglob("*"))
    # the user can neither read nor swap a capture before `import` reads it
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "sh", "-c",
                             "cat capture/ivmcl02/hpvmstatus.txt || mv capture capture.x"], cwd=vartmp,
                            capture_output=True, text=True)
    assert result.returncode != 0 and (capture / "ivmcl02" / "hpvmstatus.txt").is_file()
    # a second run over the first (root's own folder) replaces it in one rename
    result = _collect(stubs, TWO_VSP / "ivmcl02", capture, "ivmcl02", log=shared_tmp / "stub.log")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in capture.iterdir()) == ["ivmcl02"]


@_ROOT_ONLY
def test_collector_refuses_a_folder_others_can_write(shared_tmp):
    capture = shared_tmp / "vartmp" / "capture"
    capture.mkdir()
    capture.chmod(0o777)  # root's, but anyone may add links to it
    stubs = _stubs(shared_tmp / "stubs")
    result = _collect(stubs, TWO_VSP / "ivmcl02", capture, "ivmcl02", log=shared_tmp / "stub.log")
    assert result.returncode == 2 and "writable by no one else" in result.stderr
    assert list(capture.iterdir()) == []


# -- interrupted, names twice, a folder swapped between its check and `cd` ----------------------
@pytest.mark.parametrize("shell", SHELLS, ids=" ".join)
def test_an_interrupted_collector_leaves_the_capture_before_it_as_it_was(stubs, tmp_path, shell):
    """SIGTERM mid-capture: the new capture is removed, DIR/VSP (a completed dio.yaml in it) is as it was, and the
    run ends with exit 2 (the trap removed the work folder and the run went on, hiding the old capture)."""
    out = tmp_path / "out"
    assert _collect(stubs, TWO_VSP / "ivmcl02", out, "ivmcl02", shell).returncode == 0
    (out / "ivmcl02" / "dio.yaml").write_text("dio_functions: []\n")
    before = _files(out / "ivmcl02")
    slow = stubs / "machinfo"
    slow.write_text(slow.read_text().replace('cat "$cap/machinfo.txt"', 'sleep 2; cat "$cap/machinfo.txt"'))
    environ = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "STUB_CAPTURE": str(TWO_VSP / "ivmcl02"),
               "STUB_LOG": str(tmp_path / "second.log")}
    run = subprocess.Popen([*shell, str(COLLECTOR), str(out), "ivmcl02"], env=environ, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "second.log"
    for _ in range(100):  # until it has reached the slow command
        if log.exists() and "machinfo" in log.read_text():
            break
        subprocess.run(["sleep", "0.05"])
    run.terminate()
    _, err = run.communicate(timeout=20)
    assert run.returncode == 2 and "interrupted" in err, err
    assert sorted(p.name for p in out.iterdir()) == ["ivmcl02"]  # no work folder, no .old left
    assert _files(out / "ivmcl02") == before


def test_a_vswitch_listed_twice_keeps_its_first_capture(stubs, tmp_path):
    """`set -C` refused the second file, and the failure path then removed the first one's."""
    vsp = tmp_path / "vsp"
    shutil.copytree(TWO_VSP / "ivmcl02", vsp)
    net = vsp / "hpvmnet.txt"
    lines = net.read_text().splitlines(keepends=True)
    ruler = next(i for i, line in enumerate(lines) if line.startswith("===="))
    net.write_text("".join(lines[:ruler + 2] + [lines[ruler + 1]] + lines[ruler + 2:]))  # its first vswitch twice
    name = lines[ruler + 1].split()[0]
    out = tmp_path / "out"
    result = _collect(stubs, vsp, out, "ivmcl02")
    assert result.returncode == 1
    assert f"vswitches/{name}.txt is written already (a name listed twice?); 'hpvmnet -S {name}' not run" in result.stderr
    assert (out / "ivmcl02" / "vswitches" / f"{name}.txt").read_bytes() == (vsp / "vswitches" / f"{name}.txt").read_bytes()


def test_a_folder_swapped_for_a_link_between_its_check_and_cd_is_refused(stubs, tmp_path):
    """The folder passes its check, then (an attacker who can write its parent) becomes a link to another folder
    that passes it too: `cd` lands there, so the inode before and after must be the same folder's. Here a stub
    `ls`, first on PATH, makes the swap right after the first check."""
    parent, elsewhere = tmp_path / "shared", tmp_path / "roots"
    parent.mkdir()
    elsewhere.mkdir(mode=0o700)
    out = parent / "capture"
    out.mkdir(mode=0o700)
    real_ls = shutil.which("ls")
    (stubs / "ls").write_text(f"""#!/bin/sh
{real_ls} "$@"
code=$?
if [ ! -e "{tmp_path}/swapped" ]; then
    : > "{tmp_path}/swapped"
    mv "{out}" "{parent}/moved" && ln -s "{elsewhere}" "{out}"
fi
exit $code
""")
    (stubs / "ls").chmod(0o755)
    result = _collect(stubs, TWO_VSP / "ivmcl02", out, "ivmcl02")
    assert (tmp_path / "swapped").exists() and out.is_symlink()  # the swap happened
    assert result.returncode == 2 and "refused" in result.stderr, result.stderr
    assert list(elsewhere.iterdir()) == []  # nothing written where the link led


def test_a_guest_listed_twice_is_said_and_captured_once(stubs, tmp_path):
    vsp = tmp_path / "vsp"
    shutil.copytree(TWO_VSP / "ivmcl02", vsp)
    summary = vsp / "hpvmstatus.txt"
    lines = summary.read_text().splitlines(keepends=True)
    summary.write_text("".join(lines) + lines[-1])  # its last guest twice
    name = lines[-1].split()[0]
    out = tmp_path / "out"
    result = _collect(stubs, vsp, out, "ivmcl02")
    assert result.returncode == 1
    assert f"guests/{name} is written already (a name listed twice?); its second row not captured" in result.stderr
    assert (out / "ivmcl02" / "guests" / name / "hpvmstatus-P.txt").is_file()


@pytest.mark.parametrize("spelling", ["{out}/", "{out}//", "./out", "."])
def test_the_folder_may_be_named_with_slashes_or_as_the_working_folder(stubs, tmp_path, spelling):
    """The check after `cd` compares the physical path with DIR's: a trailing slash, `./` or `.` is the same folder."""
    out = tmp_path / "out"
    out.mkdir(mode=0o700)
    environ = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "STUB_CAPTURE": str(TWO_VSP / "ivmcl02"),
               "STUB_LOG": str(tmp_path / "stub.log")}
    result = subprocess.run(["sh", str(COLLECTOR), spelling.format(out=out), "ivmcl02"], capture_output=True, text=True,
                            env=environ, cwd=out if spelling == "." else tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "ivmcl02" / "hpvmstatus.txt").is_file()


# -- a full disk: a tmpfs of its own, in a mount namespace of the test's (root, `unshare`) ------
_DRIVER = """set -u
mount=$1 disk=$2 evidence=$3 room=$4; shift 4
"$mount" -t tmpfs -o size=2m,mode=700 tmpfs "$disk" || exit 99
"$@" "$disk/out" ivmcl02 2> "$evidence/first.err"; echo $? > "$evidence/first.rc"
cp -a "$disk/out" "$evidence/before"
dd if=/dev/zero of="$disk/filler" bs=1k 2> /dev/null  # until the disk is full
[ "$room" -eq 0 ] || truncate -s "-${room}k" "$disk/filler"  # then room for a few files
"$@" "$disk/out" ivmcl02 2> "$evidence/second.err"; echo $? > "$evidence/second.rc"
rm -f "$disk/filler"
cp -a "$disk/out" "$evidence/after"
"""


def _on_a_full_disk(stubs, tmp_path, room_kb: int, shell=("sh",), **env):
    """The collector run twice on a disk of its own: once with room, then with the disk full but `room_kb`."""
    mount = shutil.which("mount")  # (the real one: the stubs' `mount -p` comes first on the collector's PATH)
    if os.geteuid() != 0 or None in (mount, shutil.which("unshare"), shutil.which("truncate")):
        pytest.skip("needs root, mount, unshare and truncate (a tmpfs of the test's own)")
    disk, evidence = tmp_path / "disk", tmp_path / "evidence"
    disk.mkdir()
    evidence.mkdir()
    environ = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
               "STUB_CAPTURE": str(TWO_VSP / "ivmcl02"), "STUB_LOG": str(evidence / "stub.log"), **env}
    run = subprocess.run(["unshare", "-m", "sh", "-c", _DRIVER, "sh", mount, str(disk), str(evidence), str(room_kb),
                          *shell, str(COLLECTOR)], env=environ, capture_output=True, text=True, timeout=120)
    if run.returncode == 99 or not (evidence / "first.rc").exists():
        pytest.skip(f"cannot mount a tmpfs in a mount namespace here: {run.stderr.strip()[:200]}")
    assert (evidence / "first.rc").read_text() == "0\n", (evidence / "first.err").read_text()
    return int((evidence / "second.rc").read_text()), (evidence / "second.err").read_text(), evidence


@pytest.mark.parametrize("shell", SHELLS, ids=" ".join)
@pytest.mark.parametrize("room_kb", [0, 8, 24, 64])
def test_a_full_disk_stops_the_collector_and_keeps_the_capture_before_it(stubs, tmp_path, room_kb, shell):
    """The disk full from the start (0: hpvmstatus's capture fails, which said "is this a VSP?"), or filling up
    after a few files (8, 24 KB free: the kept `dio.yaml` cannot be copied) or among the guests (64 KB: the
    last write check): exit 2, said, DIR/VSP as the run before left it, no work folder left beside it."""
    code, err, evidence = _on_a_full_disk(stubs, tmp_path, room_kb, shell)
    assert code == 2, err
    assert "is the disk full?" in err, err
    assert _files(evidence / "after") == _files(evidence / "before")
    assert sorted(p.name for p in (evidence / "after").iterdir()) == ["ivmcl02"]  # no work folder nor .old


@pytest.mark.parametrize("shell", SHELLS, ids=" ".join)
def test_a_disk_that_fills_during_hpvmstatus_is_said_as_full(stubs, tmp_path, shell):
    """The part written was removed before the disk was probed, which made room: "is this a VSP?" was said."""
    code, err, evidence = _on_a_full_disk(stubs, tmp_path, 24, shell, STUB_PAD="200000")
    assert code == 2 and "is the disk full?" in err and "is this a VSP?" not in err, err
    assert _files(evidence / "after") == _files(evidence / "before")


@pytest.mark.parametrize("shell", SHELLS, ids=lambda s: s[0])
def test_an_empty_or_relative_path_entry_runs_nothing_of_the_starting_folder(stubs, tmp_path, shell):
    """Root's PATH with an empty entry, `.` or a relative one: started from a folder another user wrote, the script
    runs none of the commands planted there (`ls`, `mkdir`, `uname` look up system folders first or only)."""
    start = tmp_path / "start"
    start.mkdir()
    planted = tmp_path / "planted-ran"
    for name in ("ls", "mkdir", "uname", "tr", "rm", "mv", "awk", "id", "sed", "cat"):
        (start / name).write_text(f"#!/bin/sh\necho {name} >> '{planted}'\nexit 1\n")
        (start / name).chmod(0o755)
    out = tmp_path / "collected"
    for path in (f":{stubs}:/usr/bin:/bin", f".:{stubs}:/usr/bin:/bin", f"{stubs}::/usr/bin:/bin", f"start:{stubs}"):
        environ = {**os.environ, "PATH": path, "STUB_CAPTURE": str(DC_WEST / "vsp-w1"), "STUB_LOG": str(tmp_path / "log")}
        run = subprocess.run([shutil.which(shell[0]), *shell[1:], str(COLLECTOR), str(out), "vsp-w1"],
                             capture_output=True, text=True, env=environ,
                             cwd=start if path != f"start:{stubs}" else tmp_path)
        assert not planted.exists(), (path, planted.read_text())
        assert (out / "vsp-w1" / "hpvmstatus.txt").is_file(), (path, run.stderr)


@pytest.mark.parametrize("shell", SHELLS, ids=lambda s: s[0])
def test_hpvmhwmgmt_output_cannot_end_dio_yaml_comments(stubs, tmp_path, shell):
    """What `hpvmhwmgmt -p dio -l` prints goes into dio.yaml's comments with every byte that is not printable ASCII
    as `?`: a carriage return, NEL, a line or paragraph separator would end the comment for a YAML reader and make
    the rest live YAML (facts forged into the supplement); ESC would make the template unreadable; a last line
    without its line feed is ended."""
    forged = "guests: {erp01: {guest_kit: B.06.30}}"
    out = tmp_path / "collected"
    script = ("printf 'hwpath 0/0/0/4/0/0/0 FLA\\r%s\\n' '" + forged + "'; "
              "printf '0/0/0/5 \\342\\200\\250%s\\n' '" + forged + "'; printf '0/0/0/6 \\302\\205x \\033[2J\\n'; "
              "printf 'no line feed'")
    result = _collect(stubs, DC_WEST / "vsp-w1", out, "vsp-w1", shell, STUB_DIO=script)
    assert result.returncode == 0, result.stderr
    text = (out / "vsp-w1" / "dio.yaml").read_bytes()
    assert all(b == 0x0A or 0x20 <= b <= 0x7E for b in text)
    comments = text.decode().split("# hpvmhwmgmt -p dio -l:\n", 1)[1]
    assert comments == ("#   hwpath 0/0/0/4/0/0/0 FLA?" + forged + "\n#   0/0/0/5 ???" + forged + "\n"
                        "#   0/0/0/6 ??x ?[2J\n#   no line feed\ndio_functions:\n")
    data = yaml.safe_load(text)
    assert data == {"dio_functions": None}  # nothing of the output is YAML: only the template's key


@pytest.mark.parametrize("shell", SHELLS, ids=lambda s: s[0])
def test_the_commands_error_messages_reach_the_terminal_without_escapes(stubs, tmp_path, shell):
    """A command's standard error is relayed with every byte that is not printable ASCII as `?`: an escape
    sequence printed by a captured command (a title change, a screen clear) never reaches root's terminal."""
    bad = tmp_path / "stubs2"
    shutil.copytree(stubs, bad)
    body = (bad / "hpvmnet").read_text()
    (bad / "hpvmnet").write_text(body.replace("cap=$STUB_CAPTURE", "cap=$STUB_CAPTURE\nprintf 'warn \\033]0;T\\007 "
                                                                    "\\033[2J end\\n' >&2"))
    result = _collect(bad, DC_WEST / "vsp-w1", tmp_path / "out", "vsp-w1", shell)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "warn ?]0;T? ?[2J end" in result.stderr


@pytest.mark.parametrize("shell", SHELLS, ids=lambda s: s[0])
def test_a_kept_dio_yaml_is_checked_against_what_hpvmhwmgmt_prints_now(stubs, tmp_path, shell):
    """A completed dio.yaml is kept from run to run; when `hpvmhwmgmt -p dio -l` prints otherwise than the copy in
    its comments (a function added or reassigned since), the collector says so, writes a new template to
    dio-changed.txt and exits 1, and import leaves the VSP out until that template is completed as dio.yaml. An
    editor's carriage returns and blanks at line ends, and a tab shown as `?`, are not a change."""
    out = tmp_path / "collected"
    before = "printf 'hwpath 0/0/0/4/0/0/0\\tFLA  pool free  \\n\\n'"
    assert _collect(stubs, DC_WEST / "vsp-w1", out, "vsp-w1", shell, STUB_DIO=before).returncode == 0  # a template
    dio = out / "vsp-w1" / "dio.yaml"
    completed = dio.read_text() + '  - {hwpath: "0/0/0/4/0/0/0", type: FLA, pool: true}\n'
    edited = "".join(line.rstrip() + "\r\n" for line in completed.splitlines())  # trimmed and saved with CRLF
    dio.write_bytes(edited.encode())
    again = _collect(stubs, DC_WEST / "vsp-w1", out, "vsp-w1", shell, STUB_DIO=before)
    assert again.returncode == 0, again.stderr
    assert not (out / "vsp-w1" / "dio-changed.txt").exists() and "otherwise" not in again.stderr
    now = "printf 'hwpath 0/0/0/4/0/0/0\\tFLA  pool erp01\\n'"
    changed = _collect(stubs, DC_WEST / "vsp-w1", out, "vsp-w1", shell, STUB_DIO=now)
    assert changed.returncode == 1 and "prints otherwise than when dio.yaml was written" in changed.stderr
    template = (out / "vsp-w1" / "dio-changed.txt").read_text()
    assert "#   hwpath 0/0/0/4/0/0/0?FLA  pool erp01\ndio_functions:\n" in template
    assert dio.read_bytes() == edited.encode()  # the completed one is kept as it was
    estate = import_capture(out)
    assert [h["name"] for h in estate.snapshot["hosts"]] == []
    found = [p for p in estate.problems if p.file.endswith("dio-changed.txt")]
    assert found and "changed since its dio.yaml was written" in found[0].message
    # completed and renamed as the message says: the next run finds nothing changed
    (out / "vsp-w1" / "dio-changed.txt").rename(dio)
    dio.write_text(dio.read_text() + '  - {hwpath: "0/0/0/4/0/0/0", type: FLA, pool: true, assigned_to: erp01}\n')
    last = _collect(stubs, DC_WEST / "vsp-w1", out, "vsp-w1", shell, STUB_DIO=now)
    assert last.returncode == 0 and not (out / "vsp-w1" / "dio-changed.txt").exists(), last.stderr


def test_a_fact_command_that_failed_is_a_problem_not_an_older_capture(stubs, tmp_path):
    """A VSP-wide fact whose command failed (hpvmdevmgmt -l rdev here) is listed in failed.txt, and import reports
    it as a problem: without it, the missing file read as a capture of the first collector, a note, and a LUN the
    target restricts as not restricted (READY)."""
    vsp = tmp_path / "vsp"
    shutil.copytree(DC_WEST / "vsp-w2", vsp)
    (vsp / "hpvmdevmgmt-rdev.txt").unlink()  # the stub's hpvmdevmgmt -l rdev fails
    out = tmp_path / "collected"
    result = _collect(stubs, vsp, out, "vsp-w2")
    assert result.returncode == 1 and "hpvmdevmgmt-rdev.txt not written" in result.stderr
    assert (out / "vsp-w2" / "failed.txt").read_text() == "hpvmdevmgmt-rdev.txt\n"
    estate = import_capture(out)
    found = [p for p in estate.problems if p.file.endswith("failed.txt")]
    assert [(p.line, p.col) for p in found] == [(1, 1)]
    assert "`hpvmdevmgmt -l rdev` failed when VSP `vsp-w2` was captured" in found[0].message
    assert not [n for n in estate.notes if "rdev" in n]
