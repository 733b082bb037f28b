"""The result model: one `Result` per rule, subject and `for` binding; the counts of a run.

Results sort by subject, then rule id, then binding, so every report is deterministic.
A waived result keeps its status and carries its waiver; it no longer counts toward the
verdict or the exit code (`Result.counts`). Every verdict and exit code of every command is
decided in `core.verdicts`.
"""

from __future__ import annotations

from json.encoder import encode_basestring as _quoted  # the C encoder of one string, as ensure_ascii=False writes it
from operator import attrgetter

from .vocabulary import FAIL, PLAN_KEYS, SEVERITY_RANK, STATUSES, SUBJECT_KEYS


def _same(fields: tuple):
    """`==` of the written-out slots classes below: same class and equal fields' tuples (as a dataclass's `eq`);
    for a class whose objects are compared by the million, written out (`Result.__eq__`: attributes read by
    the interpreter's own slot access, twice as fast)."""
    key = attrgetter(*fields)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented
    return __eq__


def _shown(self) -> str:
    """`Name(field=value, ...)`, as a dataclass's repr."""
    return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields)})"


class Result:
    """One outcome of a rule for a subject and binding. Written out, not a dataclass (importing
    `dataclasses` costs every run's start, issue 23): it behaves as `@dataclass(slots=True)` did (init
    by position or keyword, repr, eq of the same class's fields, unhashable); `core.records.replace`
    makes a changed copy."""

    __slots__ = ("rule", "severity", "status", "subject", "message", "fix", "cite", "title", "item", "location",
                 "waiver", "baseline", "tags")
    _fields = __match_args__ = __slots__

    def __init__(self, rule: str, severity: str, status: str, subject: dict, message: str, fix: str = "",
                 cite: str = "", title: str = "", item: str = "", location: tuple | None = None,
                 waiver: dict | None = None, baseline: str | None = None, tags: tuple = ()) -> None:
        # location: (file, line, col) of the subject in the snapshot; baseline: new, unchanged (set when
        # compared with a baseline)
        self.rule = rule
        self.severity = severity
        self.status = status
        self.subject = subject
        self.message = message
        self.fix = fix
        self.cite = cite
        self.title = title
        self.item = item
        self.location = location
        self.waiver = waiver
        self.baseline = baseline
        self.tags = tags

    __repr__ = _shown
    __hash__ = None

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return ((self.rule, self.severity, self.status, self.subject, self.message, self.fix, self.cite,
                     self.title, self.item, self.location, self.waiver, self.baseline, self.tags)
                    == (other.rule, other.severity, other.status, other.subject, other.message, other.fix, other.cite,
                        other.title, other.item, other.location, other.waiver, other.baseline, other.tags))
        return NotImplemented

    def sort_key(self) -> tuple:
        get = self.subject.get  # spelled out (PLAN_KEYS, then guest, host, source, target, mode): it runs per result
        return ((get("stage") or 0, get("step") or 0),
                (get("guest") or "", get("host") or "", get("source") or "", get("target") or "", get("mode") or ""),
                self.rule, self.item)

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs: rule id, subject and binding; never a line number.

        The first 16 hex digits of the sha256 of `{rule}\\0host={host}\\0guest={guest}\\0source={source}
        \\0target={target}\\0mode={mode}\\0{item}` (a missing name empty), then `\\0stage=..`, `\\0step=..`
        for a plan's results; hashed on from the key's first part up to the target, hashed once per
        rule and guest (`fingerprint_head`)."""
        subject = self.subject
        if "stage" in subject or "step" in subject:
            get = subject.get
            key = (f"{self.rule}\0host={get('host', '')}\0guest={get('guest', '')}\0source={get('source', '')}"
                   f"\0target={get('target', '')}\0mode={get('mode', '')}\0{self.item}")
            key = "\0".join([key, *(f"{k}={subject[k]}" for k in PLAN_KEYS if k in subject)])
            return _sha256(key.encode()).hexdigest()[:16]
        digest = fingerprint_head(self.rule, subject).copy()
        get = subject.get
        digest.update(f"{get('target', '')}\0mode={get('mode', '')}\0{self.item}".encode())
        return digest.hexdigest()[:16]

    def stamp(self, shape):
        """A writer's template for this result (`LazyResult.stamp`): a result made whole has none."""
        return None

    @property
    def counts(self) -> bool:
        """Whether the result counts toward the verdict (a failure not waived)."""
        return self.status == FAIL and self.waiver is None

    def json_texts(self) -> tuple[str, str]:
        """(message, fix) as JSON strings (`json.dumps(..., ensure_ascii=False)`)."""
        return _quoted(self.message), _quoted(self.fix)

    def to_json(self) -> dict:
        out = {"rule": self.rule, "severity": self.severity, "status": self.status,
               "subject": {k: self.subject[k] for k in SUBJECT_KEYS + PLAN_KEYS if self.subject.get(k) is not None},
               "message": self.message, "fix": self.fix, "cite": self.cite, "waiver": self.waiver}
        if self.item:
            out["item"] = self.item
        if self.location:
            out["location"] = {"file": self.location[0], "line": self.location[1], "col": self.location[2]}
        out["fingerprint"] = self.fingerprint
        if self.baseline:
            out["baseline"] = self.baseline
        return out


try:  # CPython's own sha256: no OpenSSL loaded for a run's first fingerprints (a check's cold start); the same digest
    from _sha2 import sha256 as _sha256
except ImportError:
    try:
        from _sha256 import sha256 as _sha256
    except ImportError:
        from hashlib import sha256 as _sha256

_HEADS: dict = {}  # (rule, host, guest, source) -> the sha256 of a fingerprint's key up to its target
# Past this many heads (a matrix's: one per rule and guest), they are OpenSSL's (hashlib's): its context copies
# at twice the cost of CPython's small struct, but it hashes on the CPU's SHA instructions where it has them, and
# a fingerprint (a head copied, two updates, a digest) measures 400 ns against 600 ns on this project's AMD EPYC
# (OpenSSL 3.0, SHA-NI): 0.6 s less at 200 x 10,000 (2.89 million results). The digest is the same either way.
BULK_HEADS = 256
_bulk_sha256 = None


def fingerprint_head(rule: str, subject: dict):
    """The sha256 of a result's fingerprint key (`Result.fingerprint`) up to its target's name: one
    per rule and guest, continued per result with `.copy()`. Kept for names that are strings (a
    key 1 would find True's)."""
    get = subject.get
    key = (rule, get("host", ""), get("guest", ""), get("source", ""))
    found = _HEADS.get(key)  # (only names that are strings are kept: a string equals no other type)
    if found is None:
        found = (_bulk_sha256 or _head_sha256())(f"{rule}\0host={key[1]}\0guest={key[2]}\0source={key[3]}\0target="
                                                 .encode())
        if all(type(k) is str for k in key):
            if len(_HEADS) > 65536:  # a matrix needs a guest's at a time
                _HEADS.clear()
            _HEADS[key] = found
    return found


def _head_sha256():
    """The sha256 a new head is made with: CPython's for the first `BULK_HEADS`, then OpenSSL's for good."""
    global _bulk_sha256
    if len(_HEADS) < BULK_HEADS:
        return _sha256
    import hashlib
    _bulk_sha256 = hashlib.sha256
    return _bulk_sha256


class Text:
    """How a failure's message and fix are made from what its result is bound to.

    The one model of a result's text. `plain(binding)` is (message, fix); `json(binding)` is the
    same as JSON strings, quotes included (`json.dumps(..., ensure_ascii=False)`). A text is shared
    (one per rule, `lang.compiler.RuleText`, bound to an outcome's environment; or one per outcome of
    a class of pairs that look alike to a rule, `eval.texts.ClassText`, bound to a pair's names) and
    a result holds it with its binding (`LazyResult`), so nothing is rendered for a result no
    writer shows. A text class that can escape once per class overrides `json`.
    """

    __slots__ = ()

    def plain(self, binding) -> tuple[str, str]:
        raise NotImplementedError

    def json(self, binding) -> tuple[str, str]:
        message, fix = self.plain(binding)
        return _quoted(message), _quoted(fix)

    def stamp(self, binding, shape, result):
        """A writer's template for the results of this text bound alike but for the target's name, or
        None (a text made whole per result). The writer's `shape` (`report.common.StampShape`) makes it
        (`eval.texts.ClassText.stamp`) from a template of the class's text shared by every guest
        (`shape.recipe`), filled with the guest's names (`shape.specialise`); kept under `shape.key` while
        the binding's guest is walked."""
        return None


_MESSAGE = Result.__dict__["message"]  # the slots that hold a result's text
_FIX = Result.__dict__["fix"]


class LazyResult(Result):
    """A failed result whose message and fix its `Text` makes from its binding when first read.

    The matrix makes millions of results that the documents for people only count; the text is
    the same whenever it is made (a text reads only its binding: the result's own copy of an
    outcome's environment, or a pair's names), so it is made only for the results a writer shows,
    and a JSON writer takes it escaped from the text (`json_texts`) without making it plain first.
    """

    __slots__ = ("_text", "_binding")

    def __init__(self, text: Text, binding, rule_id: str, severity: str, status: str, subject: dict, cite: str,
                 title: str, item: str, location: tuple | None, tags: tuple):
        # the fields of `Result` set directly (this runs per failing pair of a matrix); message and fix pending:
        # their slots are set when the text is made (`_render`), read only after
        self.rule, self.severity, self.status, self.subject = rule_id, severity, status, subject
        self.cite, self.title, self.item, self.location = cite, title, item, location
        self.waiver = self.baseline = None
        self.tags = tags
        self._text, self._binding = text, binding

    def _render(self) -> None:
        message, fix = self._text.plain(self._binding)
        self._text = self._binding = None
        _MESSAGE.__set__(self, message)
        _FIX.__set__(self, fix)

    def stamp(self, shape):
        """`Text.stamp` of this result's text (None once its text is made, or when it has none)."""
        text = self._text
        return None if text is None else text.stamp(self._binding, shape, self)

    def json_texts(self) -> tuple[str, str]:
        text = self._text
        if text is not None:
            return text.json(self._binding)
        return _quoted(_MESSAGE.__get__(self)), _quoted(_FIX.__get__(self))

    @property
    def message(self) -> str:
        if self._text is not None:
            self._render()
        return _MESSAGE.__get__(self)

    @message.setter
    def message(self, value: str) -> None:
        if self._text is not None:
            self._render()
        _MESSAGE.__set__(self, value)

    @property
    def fix(self) -> str:
        if self._text is not None:
            self._render()
        return _FIX.__get__(self)

    @fix.setter
    def fix(self, value: str) -> None:
        if self._text is not None:
            self._render()
        _FIX.__set__(self, value)


assert SUBJECT_KEYS == ("host", "guest", "source", "target", "mode") and PLAN_KEYS == ("stage", "step")


def sort_results(results: list[Result]) -> list[Result]:
    return sorted(results, key=Result.sort_key)


def summarize(results: list[Result]) -> dict:
    summary = {status: 0 for status in STATUSES}
    by_severity = {s: 0 for s in SEVERITY_RANK}
    waived = 0
    for r in results:
        summary[r.status] += 1
        if r.counts:
            by_severity[r.severity] += 1
        if r.waiver is not None:
            waived += 1
    summary["waived"] = waived
    summary["failed_by_severity"] = by_severity
    summary["total"] = len(results)
    return summary


class Subject:
    """What one run of a rule is about: a host, a guest (in a mode, or none for audit), a
    migration of a guest to a target, or the whole snapshot. Written out as `Result` is (behaves as
    `@dataclass(slots=True)`)."""

    __slots__ = ("kind", "host", "guest", "target", "mode", "stage")
    _fields = __match_args__ = __slots__

    def __init__(self, kind: str, host: dict | None = None, guest: dict | None = None, target: dict | None = None,
                 mode: str | None = None, stage: dict | None = None) -> None:
        self.kind = kind  # one of SUBJECTS
        self.host = host  # on host
        self.guest = guest  # on guest, on migration
        self.target = target  # on migration
        self.mode = mode  # on guest (None in audit), on migration
        self.stage = stage  # on stage: a stage of a plan as plan rules see it (`plan._stage_view`)

    __repr__ = _shown
    __eq__ = _same(__slots__)
    __hash__ = None

    def names(self) -> dict:
        """The result's `subject`: names, never objects."""
        if self.kind == "host":
            return {"host": self.host["name"]}
        if self.kind == "guest":
            return {"guest": self.guest["name"], "host": self.guest["host"]}
        if self.kind == "migration":
            return {"guest": self.guest["name"], "source": self.guest["host"], "target": self.target["name"],
                    "mode": self.mode}
        if self.kind == "stage":
            return {"stage": self.stage["index"]}
        return {}


class Cell:
    """One (guest, target) of a matrix. Written out as `Result` is (behaves as `@dataclass(slots=True)`)."""

    __slots__ = ("guest", "source", "target", "mode", "verdict", "failing")
    _fields = __match_args__ = __slots__

    def __init__(self, guest: str, source: str, target: str, mode: str, verdict: str, failing: list) -> None:
        self.guest = guest
        self.source = source
        self.target = target
        self.mode = mode
        self.verdict = verdict  # ready, blocked, unknown
        self.failing = failing  # rule ids of counted failures (all severities) and errors

    __repr__ = _shown
    __eq__ = _same(__slots__)

    __hash__ = None

    def to_json(self) -> dict:
        return {"guest": self.guest, "source": self.source, "target": self.target, "mode": self.mode,
                "verdict": self.verdict, "failing": self.failing}
