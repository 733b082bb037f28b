"""The parsed rule files and the checked packs, cached by their text's hash (blake2b) and migcheck's
version (cold start).

Parsing the built-in pack with lark (and importing lark) is most of what a small estate's run
pays. A rule file's parse (its AST and its syntax diagnostics) depends only on its text, the
grammar and migcheck's code, so it is kept in the user's cache directory (`files.cache`) under a key
made of the three.

- Safe to delete at any time; `MIGCHECK_CACHE_DIR=off` turns it off.
- Never trusted across versions: the version and the grammar's hash are in the key.
- A corrupt, truncated or foreign entry is ignored (and written again): the unpickler loads only
  the rule language's own AST and diagnostic classes and plain values, never a global of any
  other module, so an entry cannot run code.
- Written whole or not at all (`files.cache.write_entry`); a directory that cannot be written is no error.

Two kinds of entry: a rule file's parse (`load`, `store`: its AST and syntax diagnostics), and a
set of packs checked (`load_checked`, `store_checked`: every pack's rule files parsed and checked,
its data tables read, the checker's types and warnings), keyed by every rule and table file's name
and text in load order and by the sources of the code that checks them (`CHECKER_FILES`). A run
whose packs are unchanged then parses and checks nothing: it loads one entry and compiles.
"""

from __future__ import annotations

import copyreg
import io
import os
from pathlib import Path

try:  # the C unpickler itself: `pickle`'s module (its pure-Python twin, ~2 ms to import) only to write an entry
    from _pickle import Unpickler as _BaseUnpickler
    from _pickle import UnpicklingError
except ImportError:  # pragma: no cover - an interpreter without the C accelerator
    from pickle import Unpickler as _BaseUnpickler
    from pickle import UnpicklingError

from .. import __version__
from ..core import diagnostics as core_diagnostics
from ..files.cache import cache_dir, hash_files, write_entry
from ..files.cache import key_hash as _hash
from ..lang import ast as lang_ast

_ALLOWED_MODULES = ("migcheck.lang.ast", "migcheck.lang.diagnostics", "migcheck.lang.types",
                    "migcheck.core.diagnostics")  # the rule language's nodes, types and diagnostics
_ALLOWED_BUILTINS = {"frozenset", "set", "tuple", "list", "dict", "slice", "complex", "bytes", "bytearray"}
_FRACTIONS = ("fractions", "Fraction")  # exact decimal literals
# what a parse depends on besides its text: the grammar and the code that builds the AST (a source
# checkout changes them without a new version)
_PARSER_FILES = [Path(__file__).resolve().parent.parent / "lang" / name
                 for name in ("grammar.lark", "parser.py", "ast.py", "syntax_errors.py", "diagnostics.py")]


def _parser_digest() -> str:
    digest = _hash()
    hash_files(digest, _PARSER_FILES)
    return digest.hexdigest()[:16]


_KEY_PREFIX = f"{__version__}\0{_parser_digest()}\0".encode()

_ENGINE = Path(__file__).resolve().parent.parent
# what a check depends on besides the packs' text: the rule language's code (the checker, its
# analyses, the types and builtins it knows), the core it shares (words, diagnostics, keys), the packs'
# readers, the data tables' parser and the snapshot schema the subjects' types are read from
CHECKER_FILES = ("lang/*.py", "lang/analysis/*.py", "lang/grammar.lark", "core/*.py", "packs/*.py",
                 "files/resources.py", "files/document.py")
_SCHEMA_FILES = ("snapshot.schema.json",)


def _checker_paths() -> list[str]:
    """The files `CHECKER_FILES` names that are there, sorted: a `*.SUFFIX` pattern is every name of its
    folder that ends so (as `Path.glob` matches it, hidden names too), another name itself when it exists;
    found with `os.listdir`, without `pathlib`'s glob (its patterns compiled on every run's first key)."""
    found = []
    for pattern in CHECKER_FILES:
        folder, _, name = pattern.rpartition("/")
        where = os.path.join(_ENGINE, folder)
        if name.startswith("*"):
            suffix = name[1:]
            assert "*" not in suffix and "?" not in suffix and "[" not in suffix
            try:
                found += [os.path.join(where, n) for n in os.listdir(where) if n.endswith(suffix)]
            except OSError:
                continue
        elif os.path.exists(os.path.join(where, name)):
            found.append(os.path.join(where, name))
    return sorted(found)


def _checker_digest() -> bytes:
    digest = _hash(_KEY_PREFIX)
    schemas = _ENGINE / "schemas" if (_ENGINE / "schemas").is_dir() else _ENGINE.parent / "schemas"
    hash_files(digest, _checker_paths() + [os.path.join(schemas, name) for name in _SCHEMA_FILES])
    return digest.digest()


def _entry(text: str, file: str) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    key = _hash(_KEY_PREFIX + file.encode("utf-8", "surrogatepass") + b"\0"
                         + text.encode("utf-8", "surrogatepass")).hexdigest()
    return folder / f"parse-{key[:40]}.pickle"


class _Unpickler(_BaseUnpickler):
    def find_class(self, module: str, name: str):
        if module in _ALLOWED_MODULES or (module == "builtins" and name in _ALLOWED_BUILTINS) \
                or (module, name) == _FRACTIONS:
            found = super().find_class(module, name)
            if isinstance(found, type):  # a class, never a function an entry could have called
                return found
        raise UnpicklingError(f"{module}.{name} is not a rule-language class")


def _read(entry: Path):
    with open(entry, "rb") as f:
        return _Unpickler(io.BytesIO(f.read())).load()


def _by_constructor(cls: type):
    names = cls._fields

    def reduce(node):
        return cls, tuple(getattr(node, name) for name in names)
    return reduce


def _reducers() -> dict:
    """The diagnostics (records, `core.records`) pickled as their constructor and fields (`cls(*fields)`):
    loaded about twice as fast as by setting their state one field at a time. (The AST's nodes,
    `lang.ast.Node`, reduce themselves so; the types, `lang.types.Type`, pickle by their `__dict__`.)"""
    table = dict(copyreg.dispatch_table)
    table[core_diagnostics.Diagnostic] = _by_constructor(core_diagnostics.Diagnostic)
    return table


def _write(entry: Path, value) -> None:
    """`value` pickled into `entry` (`files.cache.write_entry`); nothing on any failure."""
    import pickle  # only when an entry is written: a warm run writes none (nor reads with more than `_pickle`)

    def dump(f) -> None:
        pickler = pickle.Pickler(f, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = _reducers()
        pickler.dump(value)

    try:
        write_entry(entry, dump)
    except (pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return


def checked_key(files: list[tuple[str, str]]) -> str | None:
    """The key of a set of packs checked: each (file name, text) of their rule and table files in load
    order; None when the cache is off."""
    if cache_dir() is None:
        return None
    digest = _hash(_checker_digest())
    for name, text in files:
        digest.update(name.encode("utf-8", "surrogatepass") + b"\0" + text.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:40]


def load_checked(key: str | None):
    """What `store_checked` kept under `key`, or None (no entry, or one that is corrupt or foreign)."""
    folder = cache_dir()
    if key is None or folder is None:
        return None
    try:
        found_key, value = _read(folder / f"checked-{key}.pickle")
    except Exception:  # absent, corrupt, truncated, foreign: not an answer, never an error
        return None
    return value if found_key == key else None


def store_checked(key: str | None, value) -> None:
    folder = cache_dir()
    if key is not None and folder is not None:
        _write(folder / f"checked-{key}.pickle", (key, value))


def load(text: str, file: str):
    """(parsed, problems) of `text` from the cache, or None. `file` must be the name it was parsed as."""
    entry = _entry(text, file)
    if entry is None:
        return None
    try:
        name, parsed, problems = _read(entry)
    except Exception:  # absent, corrupt, truncated, foreign: not an answer, never an error
        return None
    return (parsed, problems) if name == file else None


def store(text: str, file: str, parsed, problems) -> None:
    """Keep a parse; a cache that cannot be written is silently not written (it is only a cache)."""
    entry = _entry(text, file)
    if entry is not None:
        _write(entry, (file, parsed, problems))
