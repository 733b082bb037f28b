"""Stage 1: an inventory snapshot file to a validated, indexed, resolved `Snapshot`.

Input: a path. Output: a `Snapshot` (hosts and guests by name in O(1), the resolved view
the rules read, the integrity problems found, and where every object came from), or a
`LoadError` with every schema problem located.

Names (of guests, VSPs, vswitches and DIO labels) are written in Unicode NFC before indexing
(`view.name`), so two canonically equivalent spellings are one name; a name spelt two ways, or
holding invisible characters, is a `lookalike-name` problem whose message shows each spelling
escaped (`_name_problems`).

Integrity problems (duplicate names, dangling references, inconsistent DIO assignments)
do not stop loading: they are kept as data, `IntegrityProblem`, so that `validate`
reports them and the built-in `INV-*` rules report them as findings during `audit`.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from ..core.records import Factory, record
from ..core.perf import collector_paused
from ..core.words import did_you_mean, path_text
from ..files.document import Document, Limits, Problem, depth_exceeds, load_document, parse_text
from ..files.jsonlocate import JsonLocator, is_json
from ..files.schemas import Input, validated
from . import view

SCHEMA = "snapshot.schema.json"


@record(frozen=True)
class IntegrityProblem:
    """A referential problem of a snapshot: which kind, about which host or guest, where."""

    kind: str
    subject_type: str  # "host" or "guest"
    subject: str
    message: str
    path: tuple
    help: str = ""


@record
class Snapshot:
    """A loaded snapshot: raw document, resolved hosts and guests, indexes and problems."""

    doc: Document
    hosts: list[dict]
    guests: list[dict]
    host_by_name: dict[str, dict]
    guest_by_name: dict[str, dict]
    problems: list[IntegrityProblem]
    origin: dict[int, tuple] = Factory(dict)
    _json: Any = None  # a JsonLocator for JSON text, False for YAML
    _hidden = ("origin", "_json")  # from repr

    @property
    def site(self) -> str | None:
        return self.doc.data.get("site")

    @property
    def path(self) -> str:
        """The snapshot's file as reports name it (`path_text`)."""
        return path_text(self.doc.file)

    def locate(self, obj: Any) -> tuple[str, int, int]:
        """File, line and column a resolved host or guest came from."""
        path = self.origin.get(id(obj), ())
        if self.doc._positions is None:  # not read yet: a JSON file's hosts and guests are found directly
            if self._json is None:
                self._json = JsonLocator(self.doc.text) if is_json(self.doc.text) else False
            found = self._json.locate(path) if self._json else None
            if found is not None:
                return self.path, found[0], found[1]
        line, col = self.doc.position(path)
        return self.path, line, col

    def guest_named(self, name: str) -> dict | None:
        """The guest `name` names, in any Unicode spelling of it (None: no such guest)."""
        return self.guest_by_name.get(view.name(name))

    def host_named(self, name: str) -> dict | None:
        """The VSP `name` names, in any Unicode spelling of it (None: no such VSP)."""
        return self.host_by_name.get(view.name(name))

    def integrity_report(self) -> list[Problem]:
        return sorted(self.doc.problem(p.path, p.message, p.help, code="integrity") for p in self.problems)

    def as_scope(self) -> dict:
        """The whole-snapshot subject rules see with `on snapshot`."""
        return view.snapshot_scope(self.doc.data, self.hosts, self.guests)


def load_snapshot(path: str, limits: Limits = Limits()) -> Snapshot:
    """Load, validate and index a snapshot file; raise `LoadError` on schema problems."""
    with collector_paused():  # about a third of the load time otherwise
        return _from_document(load_document(path, limits))


def snapshot_from_text(text: str, name: str = "<snapshot>") -> Snapshot:
    return _from_document(parse_text(text, name))


def snapshot_from_data(data: dict, name: str = "<snapshot>") -> Snapshot:
    """Index already-parsed data (tests and generated estates); still schema-checked."""

    return _from_document(Document(name, json.dumps(data, indent=1), data))


def _from_document(doc: Document) -> Snapshot:
    validated(doc, SNAPSHOT)
    for section in ("hosts", "guests"):
        if any(depth_exceeds(item.get("attrs", {}), doc.limits.max_depth - 3) for item in doc.data.get(section, [])):
            doc.position(())  # locates the excess nesting, raising LoadError
    return _index(doc)


def describe(path: tuple, data: Any) -> str:
    """Name the object at `path` the way an administrator would ("guest `web01`")."""
    if not path:
        return "the snapshot"
    top = path[0]
    if top in ("hosts", "guests") and len(path) >= 2 and isinstance(path[1], int):
        items = data.get(top) if isinstance(data, dict) else None
        item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        noun = top[:-1]
        name = item.get("name") if isinstance(item, dict) else None
        whom = f"{noun} `{name}`" if isinstance(name, str) else f"{noun} #{path[1] + 1}"
        rest = path[2:]
        if len(rest) >= 2 and isinstance(rest[1], int) and isinstance(item, dict):
            entries = item.get(rest[0])
            entry = entries[rest[1]] if isinstance(entries, list) and rest[1] < len(entries) else None
            if rest[0] == "dio_functions":
                hw = entry.get("hwpath") if isinstance(entry, dict) else None
                return f"DIO function `{hw}` of {whom}" if isinstance(hw, str) else f"DIO function #{rest[1] + 1} of {whom}"
            if rest[0] == "storage":
                sp = entry.get("path") if isinstance(entry, dict) else None
                return f"storage `{sp}` of {whom}" if isinstance(sp, str) else f"storage #{rest[1] + 1} of {whom}"
            if rest[0] == "networks":
                return f"network #{rest[1] + 1} of {whom}"
            return f"`{rest[0]}` #{rest[1] + 1} of {whom}"
        if len(rest) >= 1 and rest[0] in ("memory_mb", "online_migration") and len(rest) >= 1:
            return f"`{rest[0]}` of {whom}" if len(rest) > 1 else whom
        return whom
    return f"`{top}`"


SNAPSHOT = Input(SCHEMA, describe, "a snapshot must be a mapping with `snapshot`, `hosts` and `guests`",
                 "start the file with `snapshot: 1`")


def _index(doc: Document) -> Snapshot:
    data = doc.data
    problems: list[IntegrityProblem] = []
    origin: dict[int, tuple] = {}  # id of a resolved host or guest -> its path in the file
    problems.extend(_name_problems(doc))
    hosts, host_by_name = _index_hosts(data.get("hosts", []), origin, problems)
    guests, guest_by_name = _index_guests(data.get("guests", []), host_by_name, origin, problems)
    problems.extend(_assignment_problems(hosts, guest_by_name))
    _attach_problems(hosts, guests, origin, problems)
    return Snapshot(doc, hosts, guests, host_by_name, guest_by_name, problems, origin)


def _index_hosts(raws: list, origin: dict, problems: list) -> tuple[list[dict], dict[str, dict]]:
    """Resolved hosts, and by name (the first of a duplicate name); their problems go to `problems`."""
    hosts: list[dict] = []
    host_by_name: dict[str, dict] = {}
    for i, raw in enumerate(raws):
        host = _resolve_host(raw)
        path = ("hosts", i)
        origin[id(host)] = path
        hosts.append(host)
        _register("host", host, host_by_name, path, problems)
        problems.extend(_hwpath_problems(host, path))
    return hosts, host_by_name


def _register(kind: str, item: dict, by_name: dict, path: tuple, problems: list) -> None:
    """Index a host or guest by name; a second one of the same name is a `duplicate-KIND` problem."""
    name = item["name"]
    if name in by_name:
        problems.append(IntegrityProblem(f"duplicate-{kind}", kind, name, f"{kind} `{name}` is defined twice",
                                         path + ("name",), f"{kind} names must be unique; remove or rename one"))
    else:
        by_name[name] = item


def _hwpath_problems(host: dict, path: tuple) -> list[IntegrityProblem]:
    found: list[IntegrityProblem] = []
    seen: dict[str, int] = {}
    for j, fn in enumerate(host["dio_functions"]):
        if fn["hwpath"] in seen:
            found.append(IntegrityProblem(
                "duplicate-hwpath", "host", host["name"],
                f"host `{host['name']}` lists DIO function `{fn['hwpath']}` twice",
                path + ("dio_functions", j, "hwpath"), "each hardware path appears once per host"))
        seen.setdefault(fn["hwpath"], j)
    return found


def _index_guests(raws: list, host_by_name: dict, origin: dict,
                  problems: list) -> tuple[list[dict], dict[str, dict]]:
    """Resolved guests, and by name (the first of a duplicate name); their problems go to `problems`."""
    guests: list[dict] = []
    guest_by_name: dict[str, dict] = {}
    for i, raw in enumerate(raws):
        path = ("guests", i)
        host = host_by_name.get(raw["host"])
        guest = _resolve_guest(raw, host)
        origin[id(guest)] = path
        guests.append(guest)
        _register("guest", guest, guest_by_name, path, problems)
        problems.extend(_guest_problems(raw, path, host, host_by_name))
    return guests, guest_by_name


def _assignment_problems(hosts: list[dict], guest_by_name: dict) -> list[IntegrityProblem]:
    """A host's DIO function assigned to a guest that is missing, elsewhere, or does not list it."""
    found: list[IntegrityProblem] = []
    for i, host in enumerate(hosts):
        for j, fn in enumerate(host["dio_functions"]):
            owner = fn.get("assigned_to")
            if owner is None:
                continue
            guest = guest_by_name.get(owner)
            if guest is None or guest["host"] != host["name"] or fn["hwpath"] not in guest["_dio_paths"]:
                where = "is not defined" if guest is None else (
                    f"is on host `{guest['host']}`" if guest["host"] != host["name"] else "does not list it")
                found.append(IntegrityProblem(
                    "dio-not-listed", "host", host["name"],
                    f"DIO function `{fn['hwpath']}` of host `{host['name']}` is assigned to guest `{owner}`, which {where}",
                    ("hosts", i, "dio_functions", j, "assigned_to"),
                    "correct `assigned_to` or add the hwpath to the guest's `dio` list"))
    return found


def _attach_problems(hosts: list[dict], guests: list[dict], origin: dict, problems: list) -> None:
    """Each host and guest gets its own problems, as rules see them; guests lose the index-only `_dio_paths`."""
    by_entry: dict[tuple, list] = {}  # ("hosts", i) or ("guests", i) -> its problems
    for p in problems:
        by_entry.setdefault(p.path[:2], []).append({"kind": p.kind, "message": p.message})
    for obj in hosts:
        obj["problems"] = by_entry.get(origin[id(obj)], [])
    for obj in guests:
        obj["problems"] = by_entry.get(origin[id(obj)], [])
        del obj["_dio_paths"]


def _resolve_host(raw: dict) -> dict:
    return view.resolver("host")(raw)


def _resolve_guest(raw: dict, host: dict | None) -> dict:
    """The guest as rules see it: each `dio` entry is its host's function plus the interface's IP name;
    MACs normalised (`view.NORMALISED`)."""
    guest = view.resolver("guest")(raw)
    for net in guest["networks"]:
        if net["mac"] is not None:
            net["mac"] = view.mac(net["mac"])  # compared normalised (view.NORMALISED)
    ip_names = {n["dio"]: n["ip_name"] for n in guest["networks"] if n.get("dio") is not None}
    functions: dict[str, dict] = {}
    if host is not None:
        for fn in host["dio_functions"]:
            functions.setdefault(fn["hwpath"], fn)
    dio_paths = guest["dio"]
    dio = []
    for hwpath in dict.fromkeys(dio_paths):
        fn = functions.get(hwpath)
        if fn is not None:
            dio.append({**fn, "ip_name": ip_names.get(hwpath)})
    guest["dio"] = dio
    guest["_dio_paths"] = set(dio_paths)
    return guest


def _guest_problems(raw: dict, path: tuple, host: dict | None, host_by_name: dict) -> list[IntegrityProblem]:
    name = raw["name"]
    found: list[IntegrityProblem] = []
    if host is None:
        found.append(IntegrityProblem(
            "unknown-host", "guest", name, f"guest `{name}` is on host `{raw['host']}`, which is not in `hosts`",
            path + ("host",), did_you_mean(raw["host"], host_by_name, "add the host or correct `host`")))
        return found
    functions = {f["hwpath"]: f for f in host["dio_functions"]}
    listed: set[str] = set()
    for k, hwpath in enumerate(raw.get("dio", [])):
        at = path + ("dio", k)
        fn = functions.get(hwpath)
        if hwpath in listed:
            found.append(IntegrityProblem("dio-duplicate", "guest", name,
                                          f"guest `{name}` lists DIO function `{hwpath}` twice", at))
            continue
        listed.add(hwpath)
        if fn is None:
            found.append(IntegrityProblem(
                "dio-missing", "guest", name,
                f"guest `{name}` uses DIO function `{hwpath}`, which host `{host['name']}` does not have", at,
                "correct the hwpath or add the function to the host's `dio_functions`"))
        elif fn["assigned_to"] is not None and fn["assigned_to"] != name:
            found.append(IntegrityProblem(
                "dio-assigned-elsewhere", "guest", name,
                f"guest `{name}` uses DIO function `{hwpath}`, which host `{host['name']}` assigns to `{fn['assigned_to']}`",
                at, "a DIO function belongs to one guest: correct `assigned_to` or the guest's `dio` list"))
    for k, net in enumerate(raw.get("networks", [])):
        if "dio" in net and net["dio"] not in listed:
            found.append(IntegrityProblem(
                "network-dio-unlisted", "guest", name,
                f"a network of guest `{name}` uses DIO function `{net['dio']}`, which the guest's `dio` list lacks",
                path + ("networks", k, "dio"), "add the hwpath to `dio` or correct the network"))
    return found


# -- names: one spelling each (NFC); look-alikes reported -------------------------------------
#: Characters that show as nothing besides the format characters (category Cf: zero-width space
#: and joiners, word joiner, BOM, soft hyphen, bidi controls): the other default-ignorable ones.
_IGNORABLE = frozenset((0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x1810),
                        *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)))
_NOUNS = {"host": "VSP name", "guest": "guest name", "vswitch": "vswitch name", "label": "DIO label"}


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or ord(ch) in _IGNORABLE


def bare_name(text: str) -> str:
    """`text` as it reads: in NFC, without its invisible characters (two names alike have one)."""
    return text if text.isascii() else view.name("".join(c for c in text if not _invisible(c)))


def escaped(text: str) -> str:
    """`text` with each character but printable ASCII written `\\uXXXX` (and `\\` as `\\\\`), so that
    spellings that look alike read apart in any report."""
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text
    return "".join(c if " " <= c <= "~" and c != "\\" else "\\\\" if c == "\\" else
                   f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}" for c in text)


def _name_slots(data: dict):
    """Every name the snapshot spells, as (kind, name, container, key, path), `container[key]` being the
    name: definitions first, then the references to them (a guest's VSP, a network's vswitch,
    `assigned_to`, `not_runnable`). Fields absent or null give none."""
    hosts, guests = data.get("hosts", []), data.get("guests", [])
    for i, h in enumerate(hosts):
        yield "host", h["name"], h, "name", ("hosts", i, "name")
        for j, v in enumerate(h.get("vswitches", ())):
            yield "vswitch", v, h["vswitches"], j, ("hosts", i, "vswitches", j)
        for j, v in enumerate(h.get("vswitch_details") or ()):
            yield "vswitch", v["name"], v, "name", ("hosts", i, "vswitch_details", j, "name")
        for j, fn in enumerate(h.get("dio_functions", ())):
            if isinstance(fn.get("label"), str):
                yield "label", fn["label"], fn, "label", ("hosts", i, "dio_functions", j, "label")
    for i, g in enumerate(guests):
        yield "guest", g["name"], g, "name", ("guests", i, "name")
    for i, h in enumerate(hosts):
        for j, fn in enumerate(h.get("dio_functions", ())):
            if isinstance(fn.get("assigned_to"), str):
                yield "guest", fn["assigned_to"], fn, "assigned_to", ("hosts", i, "dio_functions", j, "assigned_to")
        for j, v in enumerate(h.get("not_runnable", ())):
            yield "guest", v, h["not_runnable"], j, ("hosts", i, "not_runnable", j)
    for i, g in enumerate(guests):
        yield "host", g["host"], g, "host", ("guests", i, "host")
        for k, net in enumerate(g.get("networks", ())):
            if isinstance(net.get("vswitch"), str):
                yield "vswitch", net["vswitch"], net, "vswitch", ("guests", i, "networks", k, "vswitch")


def _name_problems(doc: Document) -> list[IntegrityProblem]:
    """Write every name of `doc.data` in NFC (in place), and return a `lookalike-name` problem for each
    spelling of a name that differs from an earlier one only by normalisation or invisible characters,
    or that holds invisible characters. Without a character outside ASCII there is nothing to do, and
    text that is ASCII without a backslash (an escape) cannot hold one."""
    if (doc.text.isascii() and "\\" not in doc.text) or all(
            slot[1].isascii() for slot in _name_slots(doc.data)):
        return []
    found: list[IntegrityProblem] = []
    first: dict[tuple, tuple] = {}  # (kind, the name without invisible characters) -> its first spelling, path
    reported: set[tuple] = set()  # (kind, spelling): each spelling reported once, where it first appears
    for kind, raw, box, key, path in _name_slots(doc.data):
        plain = raw.isascii()
        prev, prev_path = first.setdefault((kind, raw if plain else bare_name(raw)), (raw, path))
        if (prev != raw or not plain and bare_name(raw) != view.name(raw)) and (kind, raw) not in reported:
            reported.add((kind, raw))
            holder = doc.data[path[0]][path[1]].get("name")
            found.append(_lookalike(kind, raw, path, holder, None if prev == raw else (prev, prev_path)))
        if not plain:
            box[key] = view.name(raw)
    return found


def _lookalike(kind: str, raw: str, path: tuple, holder, other: tuple | None) -> IntegrityProblem:
    """The problem of the spelling `raw` at `path` (of the host or guest named `holder`): alike to
    `other` (an earlier spelling and its path), or alone."""
    noun, where = _NOUNS[kind], _where(path)
    hidden = dict.fromkeys(c for c in raw + (other[0] if other else "") if _invisible(c))
    chars = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in hidden)
    if other is None:
        text = f"{noun} `{escaped(raw)}` ({where}) holds invisible characters ({chars})"
    elif view.name(raw) == view.name(other[0]):
        text = (f"{noun} `{escaped(raw)}` ({where}) is `{escaped(other[0])}` ({_where(other[1])}) in another "
                f"Unicode spelling (normalisation): compared as one name")
    else:
        text = (f"{noun} `{escaped(raw)}` ({where}) differs from `{escaped(other[0])}` ({_where(other[1])}) only "
                f"by invisible characters ({chars}): they look alike but are two names")
    return IntegrityProblem("lookalike-name", path[0][:-1], str(holder), text, path,
                            "write the name as its VSP prints it (`hpvmstatus`, `hpvmnet`, `hpvmhwmgmt -p dio -l`), "
                            "without invisible characters")


def _where(path: tuple) -> str:
    """Where a name stands, by position (a name itself may hold what cannot be shown)."""
    whom = ("VSP" if path[0] == "hosts" else "guest") + f" #{path[1] + 1}"
    rest = path[2:]
    if rest == ("name",):
        return whom
    if rest == ("host",):
        return f"the VSP of {whom}"
    if len(rest) == 2:  # vswitches, not_runnable
        return f"`{rest[0]}` #{rest[1] + 1} of {whom}"
    item = {"vswitch_details": "vswitch detail", "dio_functions": "DIO function", "networks": "network"}[rest[0]]
    return f"`{rest[2]}` of {item} #{rest[1] + 1} of {whom}"
