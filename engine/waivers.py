"""Waivers: accepted findings with an owner, a reason and an end date.

`load_waivers(path, known_rules)` reads and checks a waiver file (every problem located;
exit 2). `Waivers.apply(results)` attaches the first active matching waiver to each failed
or errored result, which keeps its status. `notes(days)` lists the waivers that expired,
that matched nothing (stale) and, with `days`, those that lapse within that many days.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import date, timedelta

from .document import LoadError, load_document
from .findings import Result
from .manifest import now
from .suggest import did_you_mean
from .validation import check_schema
from .vocabulary import PROBLEMS


def today() -> date:
    return now().date()


@dataclass
class Waiver:
    rule: str
    reason: str
    owner: str
    expires: date
    guest: str | None = None
    host: str | None = None
    target: str | None = None
    ticket: str | None = None
    line: int = 0
    used: int = 0

    def matches(self, result: Result) -> bool:
        if not fnmatch.fnmatchcase(result.rule, self.rule):
            return False
        subject = result.subject
        if self.guest is not None and not fnmatch.fnmatchcase(subject.get("guest") or "", self.guest):
            return False
        if self.host is not None and not fnmatch.fnmatchcase(subject.get("host") or subject.get("source") or "",
                                                             self.host):
            return False
        if self.target is not None and not fnmatch.fnmatchcase(subject.get("target") or "", self.target):
            return False
        return True

    def to_json(self) -> dict:
        out = {"rule": self.rule}
        for key in ("guest", "host", "target"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(reason=self.reason, owner=self.owner)
        if self.ticket:
            out["ticket"] = self.ticket
        out["expires"] = self.expires.isoformat()
        return out


@dataclass
class Waivers:
    path: str
    items: list[Waiver] = field(default_factory=list)
    today: date = field(default_factory=today)

    def active(self, waiver: Waiver) -> bool:
        return waiver.expires >= self.today

    def waive(self, result: Result) -> None:
        if result.status not in PROBLEMS or result.waiver is not None:
            return
        for waiver in self.items:
            if waiver.matches(result):
                if self.active(waiver):
                    waiver.used += 1
                    result.waiver = waiver.to_json()
                    return

    def apply(self, results: list[Result]) -> None:
        for result in results:
            self.waive(result)

    def notes(self, warn_days: int | None = None) -> list[dict]:
        out = []
        for w in self.items:
            where = f"{self.path}:{w.line}"
            if not self.active(w):
                out.append({"status": "expired", "rule": w.rule, "expires": w.expires.isoformat(), "location": where,
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) expired on {w.expires.isoformat()} "
                                       "and no longer applies"})
            elif w.used == 0:
                out.append({"status": "stale", "rule": w.rule, "expires": w.expires.isoformat(), "location": where,
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) matched no finding; "
                                       "remove it if the finding is gone"})
            elif warn_days is not None and w.expires <= self.today + timedelta(days=warn_days):
                days = (w.expires - self.today).days
                out.append({"status": "expiring", "rule": w.rule, "expires": w.expires.isoformat(), "location": where,
                            "message": f"{where}: waiver of {w.rule} ({w.owner}) lapses in {days} day(s), on "
                                       f"{w.expires.isoformat()}"})
        return out


def _describe(path: tuple, data) -> str:
    if len(path) >= 2 and path[0] == "waivers" and isinstance(path[1], int):
        items = data.get("waivers") if isinstance(data, dict) else None
        item = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        rule = item.get("rule") if isinstance(item, dict) else None
        return f"waiver #{path[1] + 1}" + (f" (`{rule}`)" if isinstance(rule, str) else "")
    return "the waiver file"


def load_waivers(path: str, known_rules: set[str]) -> Waivers:
    """Read a waiver file; raise `LoadError` with every problem located."""
    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise LoadError([doc.problem((), "a waiver file is a mapping with `waivers:` (a list)")])
    problems = check_schema(doc, "waivers.schema.json", _describe)
    if problems:
        raise LoadError(problems)
    waivers = Waivers(path)
    for i, item in enumerate(doc.data["waivers"]):
        at = ("waivers", i)
        rule = item["rule"]
        if any(c in rule for c in "*?["):
            if not any(fnmatch.fnmatchcase(r, rule) for r in known_rules):
                problems.append(doc.problem(at + ("rule",), f"`{rule}` matches no loaded rule",
                                            code="unknown-rule"))
        elif rule not in known_rules:
            problems.append(doc.problem(at + ("rule",), f"unknown rule `{rule}`",
                                        did_you_mean(rule, sorted(known_rules), "see `migcheck rules`"), code="unknown-rule"))
        try:
            expires = date.fromisoformat(item["expires"])
        except ValueError:
            problems.append(doc.problem(at + ("expires",), f"`{item['expires']}` is not a date",
                                        "write the last valid day as YYYY-MM-DD", code="bad-date"))
            continue
        waivers.items.append(Waiver(rule, item["reason"], item["owner"], expires, item.get("guest"),
                                    item.get("host"), item.get("target"), item.get("ticket"),
                                    line=doc.position(at)[0]))
    if problems:
        raise LoadError(problems)
    return waivers
