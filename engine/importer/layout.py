"""The capture layout: which file holds which command's output, and what import may open.

Two guest layouts are read. The collector writes one folder per guest (`guests/GUEST/
hpvmstatus-P.txt`, `guests/GUEST/hpvmstatus-P-d.txt`), in which no two commands or guests
share a file; the first collector wrote `guests/GUEST.txt` and `guests/GUEST.d.txt`, where
`-P web -d` and `-P web.d` are both `guests/web.d.txt` (such a clash is a problem, never a
guess). A name that could leave its folder (`/`, `..`, a leading `.`) names no file.

Import opens only regular files and folders inside the capture folder: a symbolic link, a
FIFO (reading it waits for a writer that never comes), a socket or a device is a located
problem and is not opened.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from ..core.diagnostics import LoadError
from ..core.records import replace
from ..files.document import Problem
from ..files.reader import os_problem, read_bytes

NEW_DETAILS, NEW_DEVICES = "hpvmstatus-P.txt", "hpvmstatus-P-d.txt"
# hpvmcreate's names are letters, digits, `.`, `_` and `-`; a file name here must also not start with `.`
# (hidden, `.` and `..`) nor hold `/`
_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_KINDS = [(stat.S_ISLNK, "link"), (stat.S_ISDIR, "folder"), (stat.S_ISREG, "file"), (stat.S_ISFIFO, "FIFO"),
          (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device")]


def safe_name(name: str) -> bool:
    """Whether `name` can name a capture file or folder without leaving its folder."""
    return bool(_SAFE.fullmatch(name)) and name.isascii()


def kind(path: Path) -> str:
    """What is at `path`, links not followed: missing, link, folder, file, FIFO, socket, device or other."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError as exc:  # a name longer than a file name may be (a guest's): no such file can have been written
        return "missing" if exc.errno == errno.ENAMETOOLONG else "other"
    return next((name for test, name in _KINDS if test(mode)), "other")


def refused(path: Path, found: str, want: str = "file") -> Problem:
    """Why the entry at `path` (of kind `found`) is not read as a `want` (file or folder)."""
    if found == "link":
        return entry(path, f"a symbolic link (to `{_target(path)}`): import follows no links, so that nothing "
                     "outside the capture folder is read", f"put the captured {want} itself here")
    if found == "folder":
        return Problem(str(path), 1, 1, "is a directory, not a file", help="put the captured file here")
    if found == "file":
        return Problem(str(path), 1, 1, "is a file, not a folder", help="put the folder `migcheck collector` "
                       "wrote here")
    return Problem(str(path), 1, 1, f"a {found}, not a regular {want}: not opened (a FIFO or a device can hold "
                   "reading forever)", help=f"put the captured {want} here")


_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_FD_FOLDERS = [d for d in ("/proc/self/fd", "/dev/fd") if os.path.isdir(d)]


def read_regular(path: Path, max_bytes: int, limit_name: str) -> bytes:
    """The bytes of the regular file `path` through the one bounded reader; `LoadError` otherwise.

    The file is opened without following a link and without waiting (a FIFO put in its place after
    `kind` looked is refused, not waited on), checked to be a regular file, and read as that open
    file (/proc/self/fd or /dev/fd), so what is read is what was checked."""
    try:
        fd = os.open(path, _NO_FOLLOW)
    except OSError as exc:  # ELOOP: a link put in its place after `kind` looked
        raise LoadError([refused(path, "link") if exc.errno == errno.ELOOP else os_problem(str(path), exc)]) from None
    try:
        found = next((name for test, name in _KINDS if test(os.fstat(fd).st_mode)), "other")
        if found != "file":
            raise LoadError([refused(path, found)])
        opened = f"{_FD_FOLDERS[0]}/{fd}" if _FD_FOLDERS else str(path)
        try:
            return read_bytes(opened, max_bytes, limit_name)
        except LoadError as exc:  # named as the capture file, not as the descriptor it was read through
            raise LoadError([replace(p, file=str(path)) if p.file == opened else p for p in exc.problems]) from None
    finally:
        os.close(fd)


def _target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def entry(path: Path, message: str, help: str = "") -> Problem:
    """A problem with the folder entry `path`. A link is located at its folder, the entry named in the
    message: a problem's file is read to show its line, and a link's target must never be shown."""
    if kind(path) == "link":
        return Problem(str(path.parent), 1, 1, f"`{path.name}`: {message}", help=help)
    return Problem(str(path), 1, 1, message, help=help)


def guest_files(guests: Path, name: str) -> tuple[str, str, str]:
    """The relative paths of a guest's `-P` and `-d` captures, and the layout they follow (`folder` or `flat`)."""
    if kind(guests / name) == "folder":
        return f"guests/{name}/{NEW_DETAILS}", f"guests/{name}/{NEW_DEVICES}", "folder"
    return f"guests/{name}.txt", f"guests/{name}.d.txt", "flat"


def flat_owners(filename: str, names: set[str]) -> list[str]:
    """The guests whose flat-layout capture `filename` can be (`web.d.txt`: `web`'s -d and `web.d`'s -P)."""
    owners = []
    if filename.endswith(".d.txt") and filename[:-len(".d.txt")] in names:
        owners.append(filename[:-len(".d.txt")])
    if filename.endswith(".txt") and filename[:-len(".txt")] in names:
        owners.append(filename[:-len(".txt")])
    return owners
