"""Static types of the rule language, derived from the snapshot schema and from data tables.

`subject_scope(subject)` gives the names a rule `on host|guest|migration|snapshot|stage` sees
(the one scope table, `vocabulary.SCOPES`) and their types; `Schema types` come from
`schemas/snapshot.schema.json` (not written here), with the resolved view laid over them:
each `guest.dio` entry is a DIO function plus the `ip_name` of its interface, and hosts and
guests carry their integrity `problems`. Optional fields without a schema `default` are
nullable: absent is `null`.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from typing import Any

from ..core.records import record
from ..files.resources import schema
from ..core.vocabulary import INTEGRITY_KINDS, MAY_BE_ABSENT, MODES, SCOPES


@record(frozen=True)
class Type:
    kind: str  # string int float bool null version list object any
    nullable: bool = False
    enum: frozenset | None = None  # allowed values of a string
    elem: Type | None = None  # of a list
    name: str = ""  # of an object: host, guest, dio_function, ...
    fields: tuple | None = None  # ((name, Type), ...); None for an open map such as attrs

    def field(self, name: str) -> Type | None:
        if self.fields is None:
            return ANY
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def field_names(self) -> list[str]:
        return [k for k, _ in self.fields or ()]

    def with_null(self, nullable: bool = True) -> Type:
        return self if self.nullable == nullable else Type(self.kind, nullable, self.enum, self.elem, self.name,
                                                           self.fields)

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float")

    def __str__(self) -> str:
        if self.kind == "string" and self.enum:
            text = "one of " + ", ".join(f"`{v}`" for v in sorted(self.enum))
        elif self.kind == "list":
            text = f"list of {self.elem}" if self.elem and self.elem.kind != "any" else "list"
        elif self.kind == "object":
            text = self.name or "mapping"
        else:
            text = {"string": "string", "int": "integer", "float": "number", "bool": "boolean",
                    "null": "null", "version": "version", "any": "value"}[self.kind]
        return f"{text} or absent" if self.nullable and self.kind not in ("null", "any") else text


ANY = Type("any", nullable=True)
STRING = Type("string")
INT = Type("int")
FLOAT = Type("float")
BOOL = Type("bool")
NULL = Type("null", nullable=True)
VERSION = Type("version")


def list_of(elem: Type) -> Type:
    return Type("list", elem=elem)


def obj(name: str, fields: dict[str, Type]) -> Type:
    return Type("object", name=name, fields=tuple(fields.items()))


def _convert(node: dict, root: dict, name: str) -> Type:
    if "$ref" in node:
        ref = node["$ref"].rsplit("/", 1)[1]
        return _convert(root["$defs"][ref], root, ref)
    if "enum" in node:
        return Type("string", enum=frozenset(node["enum"]))
    if "const" in node:
        return INT if isinstance(node["const"], int) else STRING
    kind = node.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the one type, which may be null
        kinds = [k for k in kind if k != "null"]
        if len(kinds) == 1:
            return _convert({**node, "type": kinds[0]}, root, name).with_null(len(kinds) < len(kind))
        return ANY
    if kind == "object":
        props = node.get("properties")
        if props is None:
            return Type("object", name=name)  # an open map: any field, any value
        required = set(node.get("required", []))
        fields = {key: _convert(sub, root, key).with_null(key not in required and "default" not in sub)
                  for key, sub in props.items()}
        return obj(name, fields)
    if kind == "array":
        return list_of(_convert(node.get("items", {}), root, name))
    return {"string": STRING, "integer": INT, "number": FLOAT, "boolean": BOOL}.get(kind, ANY)


PROBLEM = obj("problem", {"kind": Type("string", enum=frozenset(INTEGRITY_KINDS)), "message": STRING})


@cache
def snapshot_types() -> dict[str, Type]:
    """host, guest, snapshot and the other object types rules can reach, from the schema."""
    root = schema("snapshot.schema.json")
    host = _convert(root["$defs"]["host"], root, "host")
    host = obj("host", {**dict(host.fields), "problems": list_of(PROBLEM)})
    function = _convert(root["$defs"]["dio_function"], root, "dio_function")
    resolved = obj("dio_function", {**dict(function.fields), "ip_name": STRING.with_null()})
    guest = _convert(root["$defs"]["guest"], root, "guest")
    guest = obj("guest", {**dict(guest.fields), "dio": list_of(resolved), "problems": list_of(PROBLEM)})
    top = _convert(root, root, "snapshot")
    fields = dict(top.fields)
    fields["hosts"], fields["guests"] = list_of(host), list_of(guest)
    fields.pop("snapshot", None)
    return {"host": host, "guest": guest, "snapshot": obj("snapshot", fields)}


@cache
def plan_types() -> dict[str, Type]:
    """The stage of a plan as plan rules see it (`$defs/stage_view` of the plan schema)."""
    root = schema("plan.schema.json")
    return {"stage": _convert(root["$defs"]["stage_view"], root, "stage")}


MODE = Type("string", enum=frozenset(MODES))


def _role_type(role: str) -> Type:
    """The type of a name of `role` in the scope table (`vocabulary.SCOPES`)."""
    if role == "mode":
        return MODE
    if role == "stop":  # the migration stops a running guest first (hpvmmigrate -d, `--stop`)
        return BOOL
    if role == "stage":  # a stage of a plan, after its migrations; `snapshot` is the estate as it leaves it
        return plan_types()["stage"]
    return snapshot_types()["host" if role in ("source", "target") else role]


def subject_scope(subject: str) -> dict[str, Type]:
    """The names a rule `on subject` sees (`vocabulary.SCOPES`) and their types."""
    absent = MAY_BE_ABSENT.get(subject, ())
    return {name: _role_type(role).with_null(name in absent) for name, role in SCOPES[subject].items()}


def type_of_value(value: Any) -> Type:
    """The type of a data-table value, inferred from the YAML."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, (float, Fraction)):
        return FLOAT
    if isinstance(value, str):
        return STRING
    if isinstance(value, list):
        return list_of(unify([type_of_value(v) for v in value]) if value else ANY)
    if isinstance(value, dict):
        return obj("row", {k: type_of_value(v) for k, v in value.items()})
    return ANY


def unify(types: list[Type]) -> Type:
    """One type for the values of a table column or list: nullable where any is null or missing."""
    present = [t for t in types if t.kind != "null"]
    nullable = len(present) != len(types) or any(t.nullable for t in present)
    if not present:
        return NULL
    first = present[0]
    if all(t.kind == first.kind for t in present):
        if first.kind == "object":
            names = list(dict.fromkeys(k for t in present for k in t.field_names()))
            fields = {}
            for key in names:
                column = [t.field(key) for t in present]
                fields[key] = unify([c if c is not None else NULL for c in column])
            return obj(first.name, fields).with_null(nullable)
        if first.kind == "list":
            return list_of(unify([t.elem for t in present])).with_null(nullable)
        return Type(first.kind, first.nullable, None, first.elem, first.name, first.fields).with_null(nullable)
    if all(t.numeric for t in present):
        return FLOAT.with_null(nullable)
    return ANY


def join(a: Type, b: Type) -> Type | None:
    """The type of a value that is an `a` or a `b` (the branches of `if`), or None when none holds both:
    a `null` side makes the other optional, numbers mix (an integer only with an integer), strings keep
    both enums, lists join their items, objects of one name their fields; any other two kinds differ."""
    nullable = a.nullable or b.nullable
    if a.kind == "null" or b.kind == "null":
        return (b if a.kind == "null" else a).with_null(True)
    if "any" in (a.kind, b.kind):
        return ANY
    if a.numeric and b.numeric:
        return (INT if a.kind == b.kind == "int" else FLOAT).with_null(nullable)
    if a.kind != b.kind:
        return None
    if a.kind == "string":
        return Type("string", nullable, a.enum | b.enum if a.enum and b.enum else None)
    if a.kind == "list":
        elem = join(a.elem or ANY, b.elem or ANY)
        return None if elem is None else list_of(elem).with_null(nullable)
    if a.kind == "object":
        if a.with_null(False) == b.with_null(False):
            return a.with_null(nullable)
        return unify([a, b]) if a.name == b.name and a.fields is not None and b.fields is not None else None
    return a.with_null(nullable)


def table_type(rows: list) -> Type:
    return list_of(unify([type_of_value(r) for r in rows]) if rows else ANY)
