"""`dio.yaml`: the DIO functions of a VSP, which no captured command prints in a known layout.

`hpvmhwmgmt -p dio -l` output was not found in any public source, so the collector copies
it raw into the template's comments and the administrator writes the entries:

    dio_functions:
      - {hwpath: "0/0/0/4/0/0/0", type: FLA, pool: true, label: lan_pub, assigned_to: web01}

Read through migcheck's YAML loader (YAML 1.2, located errors); `dio_functions: []` says the
VSP has none, while an empty `dio_functions:` is a template nobody completed.

The same file carries the guest-side facts no VSP command shows (the guest kit and
VirtualBase are installed inside the guest: `swlist` there), under an optional `guests` key:

    guests:
      web01: {guest_kit: B.06.30, virtualbase: B.06.30}
      lnx01: {guest_kit: none}

A guest not listed keeps both unknown (absent from the snapshot).
"""

from __future__ import annotations

from pathlib import Path

from ..files.document import Document, Limits, LoadError, Problem, load_document
from ..core.words import did_you_mean

_FIELDS = {"hwpath": str, "type": str, "pool": bool, "label": str, "assigned_to": str}
_TYPES = ("FLA", "DLA")
_KEYS = ("dio_functions", "guests")
GUEST_FIELDS = ("guest_kit", "virtualbase")


def parse_supplement(path: Path, limits: Limits = Limits()) -> tuple[list[dict], list[Problem], Document | None]:
    """The DIO functions of `dio.yaml` as snapshot entries, the problems, and the document (for locating)."""
    try:
        doc = load_document(path, limits)
    except LoadError as exc:
        return [], list(exc.problems), None
    problems: list[Problem] = []
    data = doc.data
    if not isinstance(data, dict) or "dio_functions" not in data:
        return [], [doc.problem((), "expected a mapping with `dio_functions`, the VSP's DIO functions",
                                "write `dio_functions: []` when the VSP has none")], doc
    for key in data:
        if key not in _KEYS:
            problems.append(doc.problem((key,), f"unknown key `{key}`", did_you_mean(key, _KEYS), key=True))
    items = data["dio_functions"]
    if items is None:
        problems.append(doc.problem(("dio_functions",), "`dio_functions` is empty: the template was not completed",
                                    "list each function from the `hpvmhwmgmt -p dio -l` output in the comments, "
                                    "or write `dio_functions: []` when the VSP has none", key=True))
        return [], problems, doc
    if not isinstance(items, list):
        problems.append(doc.problem(("dio_functions",), "`dio_functions` must be a list of DIO functions"))
        return [], problems, doc
    out = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        at = ("dio_functions", i)
        if not isinstance(item, dict):
            problems.append(doc.problem(at, "expected a DIO function `{hwpath: ..., type: FLA|DLA, ...}`"))
            continue
        bad = False
        for key, value in item.items():
            if key not in _FIELDS:
                problems.append(doc.problem(at + (key,), f"unknown field `{key}` of a DIO function",
                                            did_you_mean(key, _FIELDS, f"fields: {', '.join(_FIELDS)}"), key=True))
                bad = True
            elif not isinstance(value, _FIELDS[key]) or (value == "" and _FIELDS[key] is str):
                kind = "true or false" if _FIELDS[key] is bool else "a non-empty string"
                problems.append(doc.problem(at + (key,), f"`{key}` must be {kind}, not `{value}`"))
                bad = True
        for key in ("hwpath", "type"):
            if key not in item:
                problems.append(doc.problem(at, f"DIO function #{i + 1} lacks `{key}`"))
                bad = True
        if isinstance(item.get("type"), str) and item["type"] not in _TYPES:
            problems.append(doc.problem(at + ("type",), f"`type` must be FLA or DLA, not `{item['type']}`"))
            bad = True
        hwpath = item.get("hwpath")
        if isinstance(hwpath, str) and hwpath in seen:
            problems.append(doc.problem(at + ("hwpath",), f"DIO function `{hwpath}` is listed twice "
                                        f"(first as #{seen[hwpath] + 1})"))
            bad = True
        if isinstance(hwpath, str):
            seen.setdefault(hwpath, i)
        if not bad:
            out.append({k: item[k] for k in _FIELDS if k in item} | {"_index": i})
    return out, problems, doc


def guest_facts(doc: Document | None, names: set[str]) -> tuple[dict[str, dict], list[Problem]]:
    """The `guests` entries of the supplement (`{name: {guest_kit, virtualbase}}`) for the runnable guests `names`."""
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    items = data.get("guests")
    if items is None:
        return {}, []
    if not isinstance(items, dict):
        return {}, [doc.problem(("guests",), "`guests` must map guest names to `{guest_kit: ..., virtualbase: ...}`")]
    out, problems = {}, []
    for name, facts in items.items():
        at = ("guests", name)
        if name not in names:
            problems.append(doc.problem(at, f"guest `{name}` is not a runnable guest of this VSP's hpvmstatus.txt",
                                        did_you_mean(str(name), sorted(names)), key=True))
        elif not isinstance(facts, dict) or not facts:
            problems.append(doc.problem(at, "expected `{guest_kit: REVISION or none, virtualbase: REVISION}`"))
        else:
            good = _guest_fields(doc, at, facts, problems)
            if good:
                out[name] = good
    return out, problems


def _guest_fields(doc: Document, at: tuple, facts: dict, problems: list[Problem]) -> dict:
    good = {}
    for key, value in facts.items():
        if key not in GUEST_FIELDS:
            problems.append(doc.problem(at + (key,), f"unknown field `{key}` of a guest",
                                        did_you_mean(str(key), GUEST_FIELDS), key=True))
        elif not isinstance(value, str) or not value:
            problems.append(doc.problem(at + (key,), f"`{key}` must be a revision string such as B.06.30"
                                        + (" or `none`" if key == "guest_kit" else "") + f", not `{value}`"))
        else:
            good[key] = value
    return good
