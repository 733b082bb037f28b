"""The resolved view rules read, derived from `schemas/snapshot.schema.json`.

A leaf module (it reads the schema as JSON and nothing else), shared by the loader, which
builds the view, and the checker, which types it. Every object of the view has every
field its schema defines: the value when the file gives one, else the schema's `default`,
else `null` (absent). Free maps (`attrs`) are copied as they are. Over that the view adds
the documented resolved extras, `RESOLVED_EXTRAS`: each `guest.dio` entry is its host's
DIO function plus the `ip_name` of the interface that uses it, and every host and guest
carries its integrity `problems`. A field added to the schema is therefore readable by
rules with no other change. Some values are written more than one way and compared as one
(`NORMALISED`): rules see them in one spelling whatever the file wrote. Names (of guests, VSPs,
vswitches, DIO labels) are compared in Unicode NFC, `name()`: the loader writes them so, and a
name given on the command line or in another file is looked up by `name()` of it.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Any

from ..core.vocabulary import INTEGRITY_KINDS  # noqa: F401  (named in RESOLVED_EXTRAS)
from ..files.resources import schema

SCHEMA = "snapshot.schema.json"


#: Fields of the view that the schema does not define: (object, field) -> what it holds.
RESOLVED_EXTRAS = {
    ("host", "problems"): "the integrity problems of the host: `kind` (one of INTEGRITY_KINDS), `message`",
    ("guest", "problems"): "the integrity problems of the guest: `kind`, `message`",
    ("guest", "dio"): "the host's DIO function objects (not hwpaths), each with the `ip_name` of its interface",
    ("dio_function", "ip_name"): "in `guest.dio` only: the IP name of the network that uses the function",
}

#: Fields the view writes in one spelling: (object, field) -> the spelling rules see.
NORMALISED = {
    ("network", "mac"): "12 lowercase hex digits (`2a2e5a050aba`), from `0x2A2E5A050ABA`, `2a-2e-5a-05-0a-ba` "
                        "or `2a:2e:5a:05:0a:ba` alike",
    ("host", "name"): "Unicode NFC (`name()`): `caf\\u00e9` whether the file wrote it so or as `cafe\\u0301`",
    ("host", "vswitches"): "each in Unicode NFC (`name()`)",
    ("host", "not_runnable"): "each in Unicode NFC (`name()`)",
    ("vswitch_detail", "name"): "Unicode NFC (`name()`)",
    ("dio_function", "label"): "Unicode NFC (`name()`)",
    ("dio_function", "assigned_to"): "Unicode NFC (`name()`)",
    ("guest", "name"): "Unicode NFC (`name()`)",
    ("guest", "host"): "Unicode NFC (`name()`)",
    ("network", "vswitch"): "Unicode NFC (`name()`)",
}

Resolve = Callable[[Any], Any]


def mac(text: str) -> str:
    """A MAC address as rules see it: 12 lowercase hex digits (the schema's spellings, normalised)."""
    text = text.lower()
    if text.startswith("0x"):
        text = text[2:]
    return text.replace("-", "").replace(":", "")


def name(text: str) -> str:
    """A name as rules and lookups compare it: Unicode NFC (canonically equivalent spellings are one
    name; invisible characters are kept, so a look-alike stays another name). ASCII is returned as it is."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _identity(value):
    return value


def _compile(node: dict, root: dict) -> Resolve:
    """A function from a valid instance of `node` to its resolved form."""
    if "$ref" in node:
        return _definition(node["$ref"].rsplit("/", 1)[1])
    kind = node.get("type")
    if kind == "array":
        item = _compile(node.get("items", {}), root)
        if item is _identity:
            return list
        return lambda value: [item(v) for v in value]
    if kind != "object":
        return _identity
    props = node.get("properties")
    if props is None:  # a free map: site data, read as it is
        return dict
    fields = []
    for key, sub in props.items():
        if "$ref" in sub:
            sub_node = root["$defs"][sub["$ref"].rsplit("/", 1)[1]]
            default = sub.get("default", sub_node.get("default"))
            has_default = "default" in sub or "default" in sub_node
        else:
            default, has_default = sub.get("default"), "default" in sub
        fields.append((key, _compile(sub, root), has_default, default))
    fields = tuple(fields)

    def resolve(value: dict) -> dict:
        out = {}
        for key, fn, has_default, default in fields:
            if key in value:
                out[key] = fn(value[key])
            elif has_default:
                out[key] = copy.deepcopy(default) if isinstance(default, (list, dict)) else default
            else:
                out[key] = None
        return out
    return resolve


@cache
def _definition(name: str) -> Resolve:
    root = schema(SCHEMA)
    node = root["$defs"][name]
    # a reference may be compiled before its definition is finished (recursive schemas): defer to it
    return _compile(node, root)


@cache
def _top() -> tuple:
    root = schema(SCHEMA)
    return tuple((key, sub.get("default")) for key, sub in root["properties"].items()
                 if key not in ("snapshot", "hosts", "guests"))


def snapshot_scope(data: dict, hosts: list, guests: list) -> dict:
    """The whole-snapshot subject (`on snapshot`): the schema's top-level fields, resolved hosts and guests."""
    scope = {key: data.get(key, default) for key, default in _top()}
    scope["hosts"], scope["guests"] = hosts, guests
    return scope


def resolver(name: str) -> Resolve:
    """The resolver of a schema definition (`host`, `guest`, `dio_function`, `storage`, ...)."""
    return _definition(name)


def reset() -> None:
    """Forget compiled resolvers (after the schema file changed: tests only)."""
    _definition.cache_clear()
    _top.cache_clear()
