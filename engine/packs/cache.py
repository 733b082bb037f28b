"""The parsed rule files, cached by their text's sha256 and migcheck's version (cold start).

Parsing the built-in pack with lark (and importing lark) is most of what a small estate's run
pays. A rule file's parse (its AST and its syntax diagnostics) depends only on its text, the
grammar and migcheck's code, so it is kept in the user's cache directory under a key made of the
three: `$MIGCHECK_CACHE_DIR`, else `$XDG_CACHE_HOME/migcheck`, else `~/.cache/migcheck`.

- Safe to delete at any time; `MIGCHECK_CACHE_DIR=off` turns it off.
- Never trusted across versions: the version and the grammar's sha256 are in the key.
- A corrupt, truncated or foreign entry is ignored (and written again): the unpickler loads only
  the rule language's own AST and diagnostic classes and plain values, never a global of any
  other module, so an entry cannot run code.
- Written to a new private file and renamed into place: a concurrent run reads the old entry or
  the new one, never half of one; a directory that cannot be written is no error.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import tempfile
from pathlib import Path

from .. import __version__

_OFF = "off"
_ALLOWED_MODULES = ("migcheck.lang.ast", "migcheck.lang.diagnostics")
_ALLOWED_BUILTINS = {"frozenset", "set", "tuple", "list", "dict", "slice", "complex", "bytes", "bytearray"}
_FRACTIONS = ("fractions", "Fraction")  # exact decimal literals
# what a parse depends on besides its text: the grammar and the code that builds the AST (a source
# checkout changes them without a new version)
_PARSER_FILES = [Path(__file__).resolve().parent.parent / "lang" / name
                 for name in ("grammar.lark", "parser.py", "ast.py", "syntax_errors.py", "diagnostics.py")]


def cache_dir() -> Path | None:
    """The cache directory, or None when it is turned off."""
    chosen = os.environ.get("MIGCHECK_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in (_OFF, "") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migcheck"


def _parser_digest() -> str:
    digest = hashlib.sha256()
    for path in _PARSER_FILES:
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"absent")
    return digest.hexdigest()[:16]


_KEY_PREFIX = f"{__version__}\0{_parser_digest()}\0".encode()


def _entry(text: str, file: str) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    key = hashlib.sha256(_KEY_PREFIX + file.encode("utf-8", "surrogatepass") + b"\0"
                         + text.encode("utf-8", "surrogatepass")).hexdigest()
    return folder / f"parse-{key[:40]}.pickle"


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module in _ALLOWED_MODULES or (module == "builtins" and name in _ALLOWED_BUILTINS) \
                or (module, name) == _FRACTIONS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a rule-language class")


def load(text: str, file: str):
    """(parsed, problems) of `text` from the cache, or None. `file` must be the name it was parsed as."""
    entry = _entry(text, file)
    if entry is None:
        return None
    try:
        with open(entry, "rb") as f:
            name, parsed, problems = _Unpickler(io.BytesIO(f.read())).load()
    except Exception:  # absent, corrupt, truncated, foreign: not an answer, never an error
        return None
    return (parsed, problems) if name == file else None


def store(text: str, file: str, parsed, problems) -> None:
    """Keep a parse; a cache that cannot be written is silently not written (it is only a cache)."""
    entry = _entry(text, file)
    if entry is None:
        return
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".parse-", dir=entry.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump((file, parsed, problems), f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return
