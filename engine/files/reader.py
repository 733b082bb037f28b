"""The one reader of input files: bytes from a path, bounded while reading, every failure in words.

Input: a path and a byte limit. Output: the file's bytes, or a `LoadError` with one located
problem (`file:1:1: message`). Regular files, pipes, FIFOs and devices are read the same way,
in chunks, and refused as soon as they pass the limit: the size a stream claims is never
trusted (a FIFO or `/dev/zero` has none). Every `OSError` (missing file, dangling symlink,
symlink loop, a file used as a directory, a directory, no permission) becomes a sentence
that says what is wrong and what to do, never a traceback.

Snapshots, rule files, data tables, rule tests, the configuration, waivers and baselines
all come through here (`document.load_document` for YAML and JSON, `read_text` for rule
files).
"""

from __future__ import annotations

import argparse
import errno
import os
import stat

from ..core.diagnostics import LoadError, Problem

_CHUNK = 1 << 20
_OWN_SHA256_BYTES = 512 * 1024  # past this, OpenSSL's sha256 (~5 ms to load) hashes faster than CPython's own
try:  # CPython's own sha256 (3.11: _sha256, 3.12: _sha2): the same digest as OpenSSL's
    from _sha256 import sha256 as _own_sha256
except ImportError:  # pragma: no cover - another CPython
    try:
        from _sha2 import sha256 as _own_sha256
    except ImportError:
        _own_sha256 = None


def sha256_hex(data: bytes) -> str:
    """`hashlib.sha256(data).hexdigest()`: by CPython's own sha256 for data up to 512 KiB (a snapshot of a
    real estate, the rule packs' text), so that a run loads no OpenSSL for it; by `hashlib`'s past that."""
    if len(data) <= _OWN_SHA256_BYTES and _own_sha256 is not None:
        return _own_sha256(data).hexdigest()
    import hashlib  # OpenSSL: only for large data, whose hashing it speeds up more than its load costs

    return hashlib.sha256(data).hexdigest()
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # of any input file; `--max-bytes` changes it


def byte_limit(text: str) -> int:
    """`--max-bytes N`: a positive whole number of bytes."""

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text[:40]}` is not a whole number of bytes") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"`{text}` bytes would refuse every file; give 1 or more")
    return value


# why a file found in a folder's listing is not opened (`regular_file`)
NOT_REGULAR = "not a regular file: not read (a FIFO or a device can hold reading forever)"


def regular_file(path) -> bool:
    """Whether `path` (through links) may be opened from a folder's listing: not a FIFO, a socket or a device, which
    would hold reading forever (found in a pack or a test folder); anything else is opened, and a folder or a
    link that leads nowhere is said in words by `read_bytes`."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return True
    return not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode))


def read_bytes(path: str | os.PathLike, max_bytes: int, limit_name: str = "--max-bytes") -> bytes:
    """The bytes of `path`, at most `max_bytes` of them; raise `LoadError` (located, in words) otherwise."""
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise LoadError([os_problem(name, exc)]) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise LoadError([Problem(name, 1, 1, "is a directory, not a file", help="give the path of a file")])
        if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
            raise LoadError([_too_big(name, max_bytes, limit_name, f"file is {info.st_size:,} bytes, ")])
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # a stream, or a file that grew while read: stop here
                raise LoadError([_too_big(name, max_bytes, limit_name, "input is ")])
        return b"".join(chunks)
    except OSError as exc:
        raise LoadError([os_problem(name, exc)]) from None
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike, max_bytes: int, limit_name: str = "--max-bytes") -> tuple[str, bytes]:
    """UTF-8 text (a byte-order mark is dropped) and the raw bytes it came from."""
    raw = read_bytes(path, max_bytes, limit_name)
    return decode(raw, str(path)), raw


def _too_big(name: str, limit: int, limit_name: str, what: str) -> Problem:
    if limit_name.startswith("--"):
        return Problem(name, 1, 1, f"{what}over the size limit of {limit:,} bytes (`{limit_name}`)",
                       help=f"raise `{limit_name}` if this file is genuine")
    return Problem(name, 1, 1, f"{what}over the {limit_name} of {limit:,} bytes",
                   help="check that this is the file you meant")


def os_problem(name: str, exc: OSError) -> Problem:
    """An operating-system error on `name` as a located problem in words."""
    code = exc.errno
    if code == errno.ENOENT:
        if os.path.islink(name):
            return Problem(name, 1, 1, f"file not found: it is a symbolic link to `{os.readlink(name)}`, "
                                       "which does not exist", help="correct or remove the link")
        if name == "-":
            return Problem(name, 1, 1, "file not found: `-` is not read as standard input",
                           help="give the file's path (or /dev/stdin to read standard input)")
        return Problem(name, 1, 1, "file not found", help="check the path")
    if code == errno.ELOOP:
        return Problem(name, 1, 1, "symbolic link loop: the path's links never reach a file",
                       help="check the links along the path with `ls -l`")
    if code == errno.ENOTDIR:
        blocker = _file_in_path(name)
        what = f"`{blocker}` is a file, not a directory" if blocker else "a part of the path is not a directory"
        return Problem(name, 1, 1, f"file not found: {what}", help="check the path")
    if code == errno.EISDIR:
        return Problem(name, 1, 1, "is a directory, not a file", help="give the path of a file")
    if code in (errno.EACCES, errno.EPERM):
        return Problem(name, 1, 1, "permission denied", help="migcheck needs read access to the file")
    if code == errno.ENAMETOOLONG:
        return Problem(name, 1, 1, "the path is too long", help="check the path")
    if code == errno.ENXIO:
        return Problem(name, 1, 1, "cannot be opened for reading (a socket or a device without a reader)",
                       help="give the path of a file")
    reason = (exc.strerror or type(exc).__name__).lower()
    return Problem(name, 1, 1, f"cannot read the file: {reason}", help="check the file and the disk it is on")


def _file_in_path(name: str) -> str | None:
    """The first component of `name` that exists but is not a directory, if any."""
    parent = os.path.dirname(os.path.normpath(name))
    chain = []
    while parent and parent not in chain:
        chain.append(parent)
        parent = os.path.dirname(parent)
    for part in reversed(chain):
        try:
            if not stat.S_ISDIR(os.stat(part).st_mode):
                return part
        except OSError:
            return None
    return None


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (with or without a byte-order mark) or a located error."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start:exc.start].decode("utf-8", "replace")) + 1  # in characters, as editors count
        raise LoadError([Problem(name, line, col,
                                 f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                                 help="save the file as UTF-8")]) from None
