"""Messages that say what went wrong in the user's words rather than the schema's: a plan given
where a snapshot is wanted (and the reverse) named as such instead of its schema errors, a guest
given where a VSP is wanted (and the reverse), and a missing file's likely intended name."""

from __future__ import annotations

import os

from ..core.diagnostics import LoadError, Problem, UsageError
from ..core.records import replace
from ..core.words import closest
from ..estate.snapshot import bare_name, escaped
from ..files.document import Limits, load_document
from .requests import unknown

# the top-level keys that tell each kind of input apart (its schema requires the first)
_KINDS = {"snapshot": ("snapshot", "hosts", "guests"), "plan": ("plan", "stages"), "waivers": ("waivers",)}


def document_kind(data) -> tuple[str, str] | None:
    """(kind, the key that tells it) of an input's data: `snapshot`, `plan` or `waivers`; None when unclear."""
    if not isinstance(data, dict):
        return None
    for kind, keys in _KINDS.items():
        for key in keys:
            if key in data:
                return kind, key
    return None


def wrong_kind(exc: LoadError, path: str, expected: str, max_bytes: int, hint: str) -> LoadError:
    """`exc` again, or one problem "`PATH` looks like a plan file, not a snapshot" when the file that
    failed to load as `expected` is another kind of input."""
    if not any(p.file == path for p in exc.problems):
        return exc
    try:
        doc = load_document(path, Limits(max_bytes=max_bytes))
    except (LoadError, OSError):
        return exc
    found = document_kind(doc.data)
    if found is None or found[0] == expected:
        return exc
    kind, key = found
    line, col = doc.position((key,))
    return LoadError([Problem(path, line, col, f"this looks like a {kind} file (it has `{key}:`), not a {expected}",
                              help=hint, code="schema")])


def _close_file(name: str) -> str | None:
    """The name in `name`'s folder closest to it, as the path to write."""
    folder, base = os.path.split(name)
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return None
    close = closest(base, entries)
    return None if close is None else os.path.join(folder, close)


def with_file_suggestions(problems: list[Problem]) -> list[Problem]:
    """Each "file not found" with the closest name in its folder as its help."""
    out = []
    for p in problems:
        if p.message == "file not found" and p.line == 1:
            close = _close_file(p.file)
            if close is not None:
                p = replace(p, help=f"did you mean `{close}`?")
        out.append(p)
    return out


def guest_named(snapshot, name: str, hint: str = "") -> dict:
    """The guest `name` (in any Unicode spelling of it); a VSP's name given instead says so (`hint`: what
    to give instead)."""
    guest = snapshot.guest_named(name)
    if guest is not None:
        return guest
    if snapshot.host_named(name) is not None:
        raise UsageError(f"`{escaped(name)}` is a VSP, not a guest" + (f"; {hint}" if hint else ""))
    raise _unknown(name, list(snapshot.guest_by_name), "guest")


def host_named(snapshot, name: str, hint: str = "") -> dict:
    """The VSP `name` (in any Unicode spelling of it); a guest's name given instead says so (`hint`: what
    to give instead)."""
    host = snapshot.host_named(name)
    if host is not None:
        return host
    if snapshot.guest_named(name) is not None:
        raise UsageError(f"`{escaped(name)}` is a guest, not a VSP" + (f"; {hint}" if hint else ""))
    raise _unknown(name, list(snapshot.host_by_name), "host")


def _unknown(name: str, known: list[str], what: str) -> UsageError:
    """An unknown name; one that differs from a known name only by invisible characters names it, escaped
    (a "did you mean" would show two names that look the same)."""
    bare = bare_name(name)
    alike = [k for k in known if bare_name(k) == bare]
    if not alike:
        return unknown(escaped(name), known, what)
    return UsageError(f"unknown {what} `{escaped(name)}`; the snapshot has `{escaped(alike[0])}`, which differs from "
                      f"it only by invisible characters")
