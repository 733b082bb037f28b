"""The user's cache directory: where it is (`cache_dir`), an entry written whole or not at all
(`write_entry`), and marks (`marked`, `mark`): an empty entry whose name is the key of an answer
that can only be yes (a document that a schema found valid, `files.schemas`).

`$MIGCHECK_CACHE_DIR`, else `$XDG_CACHE_HOME/migcheck`, else `~/.cache/migcheck`;
`MIGCHECK_CACHE_DIR=off` turns it off. Safe to delete at any time. A directory that cannot be
written is no error: nothing is kept. Entries are written to a new private file (mode 0600, in a
folder made 0700) and renamed into place, so a concurrent run reads the old entry or the new one,
never half of one; a mark is created new (never through a link) and read only when it is a
regular file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

try:  # the keys' hash: CPython's own blake2b (hashlib's would load OpenSSL, ~5 ms, for nothing it needs)
    from _blake2 import blake2b as key_hash
except ImportError:  # pragma: no cover - an interpreter without it
    from hashlib import blake2b as key_hash

_OFF = "off"


def cache_dir() -> Path | None:
    """The cache directory, or None when it is turned off."""
    chosen = os.environ.get("MIGCHECK_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in (_OFF, "") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migcheck"


def hash_files(digest, paths) -> None:
    """Add to `digest` each file of `paths` by its name and bytes (`absent` for one that cannot be read): what a
    cache key depends on besides its text, the code that made the entry (a source checkout changes it without
    a new version)."""
    for path in paths:
        name = os.path.basename(path).encode()
        try:
            with open(path, "rb") as f:
                digest.update(name + b"\0" + f.read() + b"\0")
        except OSError:
            digest.update(name + b"\0absent\0")


def write_entry(entry: Path, write: Callable[[BinaryIO], None]) -> None:
    """`write(file)` into a new private file renamed over `entry`; nothing when the file system refuses
    (any other exception `write` raises goes to the caller, the new file removed)."""
    import tempfile  # only when an entry is written: a warm run writes none

    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=entry.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, entry)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return


def _mark_path(key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"mark-{key}"


def marked(key: str) -> bool:
    """Whether `mark(key)` was done (and the cache is on)."""
    path = _mark_path(key)
    if path is None:
        return False
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def mark(key: str) -> None:
    """Keep the mark `key` (an empty file named for it); nothing when it cannot be kept."""
    path = _mark_path(key)
    if path is None:
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
    except OSError:  # there already, or a folder that cannot be written
        return
