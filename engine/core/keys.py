"""Typed keys of subjects: what makes two subjects one class for a rule (`sharing`, `texts`).

A key is equal only for values no rule can tell apart: `true`, `1` and `1.0` differ, so do a
map and a string, `0.0` and `-0.0`, and a list's projection keeps its order.
"""

from __future__ import annotations


def freeze(value):
    """A hashable key equal only for values no rule can tell apart (`true`, `1`, `1.0` differ)."""
    kind = type(value)
    if kind is dict:
        return ("map", tuple((k, freeze(v)) for k, v in value.items()))
    if kind is list:
        return ("list", tuple(freeze(v) for v in value))
    if kind is float:  # by its text: -0.0 == 0.0, yet a message shows them apart
        return (kind, repr(value))
    return (kind, value)


def project(value, rest: tuple):
    """The part of `value` a read path covers, typed: a path over a list covers that field of
    every item; a final `#` covers the length (of a list, or the size of a map); a value the
    path cannot enter counts whole (a rule reading a field of a string errs, of a map does not)."""
    if not rest:
        return freeze(value)
    kind = type(value)
    if kind is list:
        if rest == ("#",):
            return ("len", len(value))
        return ("list", tuple(project(v, rest) for v in value))
    if kind is dict:
        if rest == ("#",):
            return ("size", len(value))
        return ("map", project(value.get(rest[0]), rest[1:]))
    return ("leaf", freeze(value))


def view(obj, rest: tuple):
    """A subject's view on a read path for a class key: `project` of it, or the subject itself (by
    identity) when the path is the whole subject or there is none (a guest whose host is missing)."""
    return ("#id", id(obj)) if not rest or obj is None else project(obj, rest)
