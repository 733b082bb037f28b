"""The one registry of built-in functions: their arity, static typing and implementation.

The checker reads `check` (argument types to a result type, or a message saying what is
wrong); the compiler calls `impl`. Every function that takes a list also takes a
selection (`x in xs where cond`); its `selection` field says what the selection means to
it: the selected items (`items`), their number (`count`), or whether some (`any`) or
every (`all`) item meets the condition.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache
from typing import Any

import re2

from ..core.records import record
from .types import ANY, BOOL, FLOAT, INT, STRING, VERSION, Type, unify


class EvalError(Exception):
    """A rule could not be evaluated for one subject; becomes an `error` result."""

    def __init__(self, message: str, span=None):
        super().__init__(message)
        self.message = message
        self.span = span


class Version:
    """A release: "4.2.5", "6.1", or an HP revision string ("B.04.20.05" is 4.2.5).

    Ordering is numeric per component; trailing zeros do not count ("6.1" == "6.1.0").
    """

    __slots__ = ("key", "text")

    def __init__(self, key: tuple[int, ...], text: str):
        self.key, self.text = key, text

    def __eq__(self, other):
        return isinstance(other, Version) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __lt__(self, other):
        return self.key < other.key

    def __le__(self, other):
        return self.key <= other.key

    def __gt__(self, other):
        return self.key > other.key

    def __ge__(self, other):
        return self.key >= other.key

    def __repr__(self):
        return f"Version({self.text!r})"

    def __str__(self):
        return self.text


_HP_REVISION = re.compile(r"[A-Za-z]\.(\d{2})\.(\d)(\d)(?:\.(\d{2}))?\Z")
_PLAIN = re.compile(r"[Vv]?(\d+(?:\.\d+)*)\Z")


MAX_DIGITS = 4300  # the largest number a rule may compute, in decimal digits (CPython's int-string limit)
MAX_BITS = MAX_DIGITS * 3322 // 1000  # MAX_DIGITS in bits: what operands are measured against (`analysis.constants`)
_RELEASE_DIGITS = MAX_DIGITS  # a release's part: past it `int` refuses


def bits(x) -> int:
    """The size of an exact number: the bits of an integer, of a fraction's numerator and denominator."""
    if type(x) is int:
        return x.bit_length()
    if type(x) is Fraction:
        return x.numerator.bit_length() + x.denominator.bit_length()
    return 0  # a float: bounded by its own range (OverflowError past it)


@lru_cache(maxsize=4096)
def parse_version(text: str) -> Version:
    """Parse a release string or raise `EvalError` saying why it is not one."""
    stripped = text.strip()
    m = _HP_REVISION.match(stripped)
    if m:
        major, minor, sub, patch = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
        parts = [major, minor, sub] if not (sub == 0 and patch) else [major, minor]
        if patch:
            parts.append(int(patch))
    else:
        m = _PLAIN.match(stripped)
        if not m:
            raise EvalError(f"`{brief(text)}` is not a release (expected e.g. 4.2.5 or B.04.20.05)")
        parts = m.group(1).split(".")
        if max(map(len, parts)) > _RELEASE_DIGITS:
            raise EvalError(f"`{text[:20]}…` is not a release: a part of it has more than {_RELEASE_DIGITS:,} digits")
        parts = [int(p) for p in parts]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return Version(tuple(parts), stripped)


_RELEASE_LIKE = (Version, str)


def as_version(value: Any) -> Version:
    if isinstance(value, Version):
        return value
    if isinstance(value, str):
        return parse_version(value)
    raise EvalError(f"`{brief(value)}` is not a release")


# -- exact numbers ---------------------------------------------------------------------------
# A decimal a rule pack writes (`0.004`, `0.4%`, a data table's `0.004`) is exact: a `Fraction`, so
# `22400 * 0.4%` is 89.6 and not 89.60000000000001, and a division of integers or exact numbers is
# exact too (`7 / 2` is 7/2). A number read from a snapshot stays a binary float and compares with an
# integer as it always did; where a float meets an exact number it is read as the number it stands
# for (`exact`), so `0.1` in a rule equals a snapshot's `0.1` and `2.0 == 2` holds whichever is which.
def is_number(value) -> bool:
    kind = type(value)
    return kind is int or kind is float or kind is Fraction


def exact(value: float):
    """A float as a rule reads it beside an exact number: an integral one its integer (as Python compares
    it with an integer), another the decimal it prints as (`0.1` is 1/10); infinities and NaN unchanged."""
    if value.is_integer():
        return int(value)
    return Fraction(repr(value)) if math.isfinite(value) else value


def written(value):
    """A value of a data table with its decimals exact (`0.004` as written): tables belong to the rule pack."""
    kind = type(value)
    if kind is float:
        return Fraction(repr(value)) if math.isfinite(value) else value
    if kind is list:
        return [written(v) for v in value]
    if kind is dict:
        return {k: written(v) for k, v in value.items()}
    return value


def exact_pair(a, b) -> tuple:
    """Two numbers as a rule computes with and compares them: a float beside an exact number read exactly
    (`exact`); any other pair as it is (Python's own arithmetic and order are the language's there)."""
    ta, tb = type(a), type(b)
    if ta is Fraction and tb is float:
        return a, exact(b)
    if tb is Fraction and ta is float:
        return exact(a), b
    return a, b


def divide(a, b):
    """`a / b` in a rule: exact for integers and exact numbers, a float where a float is involved."""
    if type(a) is int and type(b) is int:
        return Fraction(a, b)
    a, b = exact_pair(a, b)
    return a / b


# -- the language's equality and order (docs/language.md, "Types") ----------------------------
# One definition for `==`, `!=`, `in`, `distinct`, key lookups (lang/analysis/joins.py) and for
# `<`, `min`, `max`, `sorted`: a boolean equals only a boolean and has no order; numbers compare
# by value (`1 == 1.0`, `0.5 == 1/2`); lists and maps are equal item by item and have no order; a
# release orders with a release, or with a string read as a release.
_BOOL, _LIST, _MAP = "#bool", "#list", "#map"  # tags of keys (in tuples: never equal to a string's key)


def equal(a, b) -> bool:
    """`a == b` in a rule: a boolean equals only a boolean, and lists and maps compare item by item
    the same way (numbers compare by value: `1 == 1.0`, a float beside an exact number as `exact` reads it)."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta is list and tb is list:
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if ta is float or tb is float:
        a, b = exact_pair(a, b)
    return a == b


def equality_key(value):
    """A hashable key of `value`, equal to another value's exactly when `equal` holds between them."""
    kind = type(value)
    if kind is str or kind is int or kind is Fraction or value is None:
        return value  # an integral Fraction hashes and compares as its integer
    if kind is bool:
        return (_BOOL, value)
    if kind is float:
        return exact(value) if value == value else object()  # NaN equals nothing, not even itself
    if kind is list:
        return (_LIST, tuple(equality_key(v) for v in value))
    if kind is dict:
        return (_MAP, frozenset((k, equality_key(v)) for k, v in value.items()))
    return (kind.__name__, value)  # a release: equal by value


def order_pair(a, b) -> tuple:
    """`a` and `b` as Python orders them in a rule (`<`), or TypeError when the language has no order
    for them: numbers with numbers, strings with strings, releases with releases or strings."""
    ta, tb = type(a), type(b)
    if is_number(a) and is_number(b):
        return exact_pair(a, b)
    if ta is str and tb is str:
        return a, b
    if (ta is Version or tb is Version) and ta in _RELEASE_LIKE and tb in _RELEASE_LIKE:
        return as_version(a), as_version(b)
    raise TypeError


def _exact_key(value):
    return exact(value) if type(value) is float else value


def order_key(values: list) -> Callable | None:
    """The sort key that puts `values` in the language's order (None: as they are), or an `EvalError`
    saying why they have none (`min`, `max`, `sorted`)."""
    kinds, numbers = set(), set()
    for v in values:
        kind = type(v)
        if kind is int or kind is float or kind is Fraction:
            kinds.add("number")
            numbers.add(kind)
        elif kind is str or kind is Version:
            kinds.add(kind)
        elif kind is bool:
            raise EvalError(f"`{brief(v)}` cannot be ordered: booleans have no order")
        elif v is None:
            raise EvalError("an absent value (null) cannot be ordered")
        else:
            raise EvalError(f"`{brief(v)}` cannot be ordered: lists and maps have no order")
    if "number" in kinds and len(kinds) > 1:
        raise EvalError("the list mixes values that cannot be ordered")
    if {float, Fraction} <= numbers:
        return _exact_key  # floats beside exact numbers, as `<` compares them
    return as_version if len(kinds) > 1 else None  # strings beside releases are read as releases


def render(value: Any) -> str:
    """How a value reads in a message."""
    kind = type(value)
    if kind is str:  # the common cases first (names, counts): as `str(value)` below reads them
        return value
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "(none)"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if kind is Fraction:
        return _decimal_text(value)
    if isinstance(value, list):
        return ", ".join(render(v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        for key in ("name", "hwpath", "path", "vswitch", "label"):
            if isinstance(value.get(key), str):
                return value[key]
        return "{" + ", ".join(f"{k}: {render(v)}" for k, v in value.items()) + "}"
    return str(value)


_DECIMAL_DIGITS = 15  # past this many digits after the point an exact number reads as a float would


def _decimal_text(value: Fraction) -> str:
    """An exact number in a message: an integer without `.0`, a decimal as written (`0.004`, `1.5`),
    and one with no short decimal form (`1/3`) as its nearest float reads (`0.3333333333333333`)."""
    if value.denominator == 1:
        return str(value.numerator)
    for digits in range(1, _DECIMAL_DIGITS + 1):
        scaled = value * 10 ** digits
        if scaled.denominator == 1:
            sign, whole = ("-" if scaled < 0 else ""), str(abs(scaled.numerator)).rjust(digits + 1, "0")
            return f"{sign}{whole[:-digits]}.{whole[-digits:]}"
    try:
        return render(float(value))
    except OverflowError:
        return f"{value.numerator}/{value.denominator}"


# -- regular expressions (`matches`) ------------------------------------------------------
# RE2 (google-re2) runs in time linear in the text, whatever the pattern: a rule or a
# snapshot cannot make `matches` backtrack for minutes, as Python's `re` does on `(a+)+$`.
# It has no backreferences or lookaround, and repetition counts stop at 1,000, so such
# patterns are refused when compiled (by the checker for literal patterns, at evaluation
# for patterns read from data) instead of being slow.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr
_RE2_OPTIONS.never_capture = True  # `matches` only asks whether the whole value matches
_BOTH = getattr(getattr(re2, "_Anchor", None), "ANCHOR_BOTH", None)
_NO_MATCH = (-1, -1)
REGEX_HELP = ("patterns use RE2 syntax, matched against the whole value: no backreferences or lookaround, "
              "repetition counts up to 1,000 (see docs/language.md)")


class Pattern:
    """A compiled `matches` pattern; `fullmatch(value)` is true when the whole value matches."""

    __slots__ = ("text", "_compiled", "_match", "_seen")

    def __init__(self, text: str, compiled):
        self.text, self._compiled = text, compiled
        raw = getattr(compiled, "_regexp", None)
        self._match = raw.Match if raw is not None and _BOTH is not None else None
        self._seen: dict[str, bool] = {}  # values repeat across subjects (labels, names)

    def fullmatch(self, value: str) -> bool:
        hit = self._seen.get(value)
        if hit is None:
            try:
                data = value.encode("utf-8")
            except UnicodeEncodeError:
                raise EvalError(f"`{value.encode('utf-8', 'backslashreplace').decode()}` is not valid Unicode "
                                "text (it holds a lone surrogate), so no pattern can match it") from None
            if self._match is not None:  # the binding's own matcher, without its str-offset bookkeeping
                hit = self._match(_BOTH, data, 0, len(data))[0] != _NO_MATCH
            else:  # pragma: no cover - another google-re2 layout
                hit = self._compiled.fullmatch(data) is not None
            if len(data) <= 256:  # remember names and labels, not long computed text
                if len(self._seen) >= 4096:
                    self._seen.clear()
                self._seen[value] = hit
        return hit


_REPEAT = re.compile(r"\{([0-9]+)(?:,([0-9]*))?\}")


def _huge_repetition(text: str) -> str | None:
    """A repetition count too large for RE2 to parse as a number (RE2 would read `{...}` literally)."""
    i, in_class = 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 1
            if text[i:i + 1] == "^":
                i += 1
            if text[i:i + 1] == "]":  # `[]...]` and `[^]...]`: a first `]` is a member, not the end
                i += 1
            continue
        elif ch == "{" and i > 0:
            m = _REPEAT.match(text, i)
            if m and any(g and len(g) > 4 for g in m.groups()):
                return m.group()
        i += 1
    return None


MAX_PATTERN = 16_384  # characters of a regular expression (`compile_pattern`): some 50 ms to compile at worst


@lru_cache(maxsize=1024)
def compile_pattern(text: str) -> Pattern:
    """Compile a `matches` pattern with RE2, or raise `EvalError` saying why it cannot be used."""
    if len(text) > MAX_PATTERN:  # RE2 compiles in time linear in the pattern for most, but not all: nested
        # optional groups, `(a?)` 25,000 times then `a` as often, took 2.1 s (7.4 s at twice that)
        raise EvalError(f"invalid regular expression `{text[:40]}...`: a pattern of {len(text):,} characters is "
                        f"over the limit of {MAX_PATTERN:,}")
    huge = _huge_repetition(text)
    if huge:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise EvalError(f"invalid regular expression `{shown}`: invalid repetition size: {huge[:40]}")
    try:
        return Pattern(text, re2.compile(text.encode("utf-8"), options=_RE2_OPTIONS))
    except UnicodeEncodeError:
        raise EvalError("invalid regular expression: the pattern is not valid Unicode text "
                        "(it holds a lone surrogate)") from None
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "not a valid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise EvalError(f"invalid regular expression `{shown}`: {reason}") from None


@record(frozen=True)
class Builtin:
    """A built-in function (a record, `core.records`: `records.replace` makes a changed copy)."""

    name: str
    min_args: int
    max_args: int
    signature: str
    doc: str
    check: Callable[[list[Type]], Type | str]
    impl: Callable[..., Any]
    nullable_args: tuple = ()  # positions that may be absent (null)
    # given a selection `x in xs where cond`: `items` passes the selected items to `impl`;
    # `count`, `any` and `all` are evaluated by the selection loop itself (any/all stop early)
    selection: str = "items"


def _list_arg(types: list[Type], what: str = "a list") -> Type | str:
    t = types[0]
    if t.kind == "any":
        return ANY
    if t.kind != "list":
        return f"takes {what}, not {t}"
    return t


def _count(types):
    t = _list_arg(types)
    return t if isinstance(t, str) else INT


def _len(types):
    t = types[0]
    return INT if t.kind in ("list", "string", "any") else f"takes a list or a string, not {t}"


def _sum_type(types):
    t = _list_arg(types, "a list of numbers")
    if isinstance(t, str):
        return t
    if t.kind == "list" and t.elem.kind not in ("int", "float", "any"):
        return f"takes a list of numbers, not {t}"
    return t.elem.with_null(False) if t.kind == "list" else ANY


def _orderable(types):
    t = _list_arg(types)
    if isinstance(t, str):
        return t
    if t.kind == "list" and t.elem.kind not in ("int", "float", "string", "version", "any"):
        return f"takes a list of numbers, strings or versions, not {t}"
    return t


def _minmax(types):
    t = _orderable(types)
    return t if isinstance(t, str) else (t.elem.with_null(True) if t.kind == "list" else ANY)


def _same_list(types):
    return _list_arg(types)


def _bools(types):
    t = _list_arg(types, "a list of booleans or a selection")
    if isinstance(t, str):
        return t
    if t.kind == "list" and t.elem.kind not in ("bool", "any"):
        return f"takes booleans or a selection (`x in xs: cond`), not {t}"
    return BOOL


def _version(types):
    t = types[0]
    return VERSION if t.kind in ("string", "version", "any") else f"takes a string, not {t}"


def _default(types):
    a, b = types
    return unify([a.with_null(False), b])


def _within(types):
    for t in types:
        if t.kind not in ("string", "version", "any", "null"):
            return f"takes releases (strings or versions), not {t}"
    return BOOL


def _within_impl(value, low, below):
    v = as_version(value)
    return v >= as_version(low) and (below is None or v < as_version(below))


def _string_fn(types):
    t = types[0]
    return STRING if t.kind in ("string", "any") else f"takes a string, not {t}"


def _starts_with(types):
    for t in types:
        if t.kind not in ("string", "any"):
            return f"takes strings, not {t}"
    return BOOL


def _starts_with_impl(value, prefix):
    """Whether `value` begins with `prefix` (a path under a mount point: `starts_with(s.path, m + "/")`)."""
    return _need_str(value, "starts_with").startswith(_need_str(prefix, "starts_with"))


def _join(types):
    t = _list_arg(types)
    if isinstance(t, str):
        return t
    if types[1].kind not in ("string", "any"):
        return f"takes a separator string, not {types[1]}"
    return STRING


def _first(types):
    t = _list_arg(types)
    return t if isinstance(t, str) else (t.elem.with_null(True) if t.kind == "list" else ANY)


def _numbers(values):
    for v in values:
        if not is_number(v):
            raise EvalError(f"`{brief(v)}` is not a number")
    return values


_SHOWN = 80  # characters of a value a message shows (a snapshot's string may be megabytes)
_KINDS = {bool: "the boolean", int: "the number", float: "the number", Fraction: "the number", str: "the string",
          list: "the list", dict: "the map", Version: "the release"}


def brief(value) -> str:
    """A value in a message about what is wrong with it: rendered, cut short (a string or a list of a
    snapshot may be megabytes), a list and a map with their brackets."""
    kind = type(value)
    if kind is list or kind is dict:
        parts, size = [], 0
        for part in (map(brief, value) if kind is list else (f"{k}: {brief(v)}" for k, v in value.items())):
            parts.append(part)
            size += len(part) + 2
            if size > _SHOWN:  # enough to show: the rest would be cut anyway
                break
        text = ("[{}]" if kind is list else "{{{}}}").format(", ".join(parts))
    else:
        text = render(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def described(value) -> str:
    """A value in a message about its type: its kind and the value (`the string "64"` and `the number
    64` read alike in `render`)."""
    if value is None:
        return "an absent value (null)"
    return f"{_KINDS.get(type(value), 'the value')} `{brief(value)}`"


def _computable(value, fn: str):
    """`value` if a rule may go on with it: an exact number past the size arithmetic refuses
    (`analysis.constants.too_big`) could not even be shown in a message (Python will not write an
    integer of more than 4,300 digits), so a function that grows numbers refuses it as `+` does."""
    if bits(value) > MAX_BITS:
        raise EvalError(f"the result of {fn}() is too large a number: a rule computes numbers of up to "
                        f"{MAX_DIGITS:,} digits")
    return value


def _sum(values):
    """The sum as `+` adds: Python's, but for floats beside exact numbers, read exactly."""
    kinds = {type(v) for v in _numbers(values)}
    if not {float, Fraction} <= kinds:
        return _computable(sum(values), "sum")
    total = 0
    for v in values:
        total, v = exact_pair(total, v)
        total += v
    return _computable(total, "sum")


def _min(values):
    return min(values, key=order_key(values)) if values else None


def _max(values):
    return max(values, key=order_key(values)) if values else None


def _distinct(values):
    """Without repeats as `==` tells them (`1` and `true` differ, `1` and `1.0` do not), first seen first."""
    out, seen = [], set()
    for v in values:
        kind = type(v)
        key = v if kind is str or kind is int else equality_key(v)  # (names and counts: their own keys)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _sorted(values):
    """In the language's order (`order_key`); absent values last."""
    present = [v for v in values if v is not None]
    return sorted(present, key=order_key(present)) + [None] * (len(values) - len(present))


def _round_up(types):
    for t in types:
        if t.kind not in ("int", "float", "any"):
            return f"takes numbers, not {t}"
    return INT if types[1].kind == "int" else (ANY if types[1].kind == "any" else FLOAT)


def _round_up_impl(value, step):
    """The smallest multiple of `step` at or above `value` (64 MB granules: `round_up(m, 64)`)."""
    if not is_number(value):
        raise EvalError(f"round_up() needs a number to round as its first argument, got {described(value)}")
    if not is_number(step):
        raise EvalError(f"round_up() needs a finite step above 0 as its second argument, got {described(step)}")
    # NaN and the infinities (a snapshot's `.nan`, `.inf`) have no multiple; NaN is not <= 0 either
    if type(value) is float and not math.isfinite(value):
        raise EvalError(f"round_up() needs a finite number to round as its first argument, got {described(value)}")
    if not step > 0 or type(step) is float and math.isinf(step):
        raise EvalError(f"round_up() needs a finite step above 0 as its second argument, got {described(step)}")
    try:
        multiple = math.ceil(divide(value, step)) * step
    except OverflowError:  # a float quotient past the float range (`round_up(1, 5e-324)`), or an integer past it
        raise EvalError(f"round_up() cannot round `{brief(value)}` to a multiple of `{brief(step)}`: "
                        "the number of steps is too large a number") from None
    if operator.lt(*order_pair(multiple, value)):  # a float value / step underflowed or rounded down
        multiple += step
    return _computable(int(multiple) if isinstance(step, int) else multiple, "round_up")


def _need_str(value, fn):
    if not isinstance(value, str):
        raise EvalError(f"{fn}() needs a string, got `{brief(value)}`")
    return value


def _first_impl(values):
    """The first item, null for none. A value of unknown type (`attrs`) is checked here: a map would
    be indexed by the key 0, and a string or a false value would pass for a list."""
    if type(values) is not list:
        raise EvalError(f"first() needs a list, got {described(values)}")
    return values[0] if values else None


def _join_impl(xs, sep):
    """The items as text, separated by `sep`; arguments of unknown type (`attrs`) checked here, each
    named (a string would be joined character by character, a map by its keys)."""
    if type(xs) is not list:
        raise EvalError(f"join() needs a list of items as its first argument, got {described(xs)}")
    if type(sep) is not str:
        raise EvalError(f"join() needs a separator string as its second argument, got {described(sep)}")
    return sep.join(render(x) for x in xs)


BUILTINS: dict[str, Builtin] = {b.name: b for b in [
    Builtin("count", 1, 1, "count(xs) | count(x in xs where cond)", "number of items, or of items meeting cond",
            _count, len, selection="count"),
    Builtin("len", 1, 1, "len(xs | s)", "length of a list or a string", _len, len),
    Builtin("sum", 1, 1, "sum(xs)", "sum of numbers (0 for none)", _sum_type, _sum),
    Builtin("min", 1, 1, "min(xs)", "smallest item, null for none", _minmax, _min),
    Builtin("max", 1, 1, "max(xs)", "largest item, null for none", _minmax, _max),
    Builtin("distinct", 1, 1, "distinct(xs)", "items without repeats, in first-seen order", _same_list, _distinct),
    Builtin("sorted", 1, 1, "sorted(xs)", "items in ascending order", _orderable, _sorted),
    Builtin("first", 1, 1, "first(xs)", "first item, null for none", _first, _first_impl),
    Builtin("any", 1, 1, "any(x in xs: cond) | any(bools)", "true when cond holds for some item", _bools, any,
            selection="any"),
    Builtin("all", 1, 1, "all(x in xs: cond) | all(bools)", "true when cond holds for every item", _bools, all,
            selection="all"),
    Builtin("version", 1, 1, "version(s)", "a release, compared numerically (B.04.20.05 = 4.2.5)",
            _version, as_version),
    Builtin("within", 3, 3, "within(release, min, below)",
            "min <= release < below, compared as releases; an absent `below` means no upper bound",
            _within, _within_impl, nullable_args=(2,)),
    Builtin("default", 2, 2, "default(x, fallback)", "x, or fallback when x is absent", _default,
            lambda a, b: b if a is None else a, nullable_args=(0,)),
    Builtin("round_up", 2, 2, "round_up(x, step)", "the smallest multiple of step at or above x (round_up(100, 64) "
            "is 128)", _round_up, _round_up_impl),
    Builtin("lower", 1, 1, "lower(s)", "lower-case copy", _string_fn, lambda s: _need_str(s, "lower").lower()),
    Builtin("upper", 1, 1, "upper(s)", "upper-case copy", _string_fn, lambda s: _need_str(s, "upper").upper()),
    Builtin("starts_with", 2, 2, "starts_with(s, prefix)", "true when s begins with prefix", _starts_with,
            _starts_with_impl),
    Builtin("join", 2, 2, "join(xs, sep)", "items as text, separated by sep", _join, _join_impl),
]}

