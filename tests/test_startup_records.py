"""Cold start (issue 23, item 4): `core.records.record` makes a class that behaves as the dataclass
it replaced: construction, defaults, repr, equality, hashing, frozenness, pickling."""

from __future__ import annotations

import copy
import pickle
from dataclasses import dataclass, field

import pytest

from migcheck.core.records import Factory, FrozenRecordError, record


@record(frozen=True)
class Frozen:
    name: str
    items: list = Factory(list)
    size: int = 0


@dataclass(frozen=True)
class FrozenDC:
    name: str
    items: list = field(default_factory=list)
    size: int = 0


@record
class Mutable:
    name: str
    size: int = 0

    def __post_init__(self):
        self.seen = True


@dataclass
class MutableDC:
    name: str
    size: int = 0


def _as_dc(text: str) -> str:
    return text.replace("Frozen(", "FrozenDC(").replace("Mutable(", "MutableDC(")


@pytest.mark.parametrize("args, kwargs", [(("a",), {}), (("a", [1]), {}), (("a",), {"size": 3}),
                                          ((), {"name": "b", "items": [2], "size": 1})])
def test_a_frozen_record_is_its_dataclass(args, kwargs):
    mine, theirs = Frozen(*args, **kwargs), FrozenDC(*args, **kwargs)
    assert _as_dc(repr(mine)) == repr(theirs)
    assert mine == Frozen(*args, **kwargs) and mine != Frozen("other")
    assert mine != theirs  # another class
    if not any(isinstance(v, list) and v for v in (*args, *kwargs.values())):
        frozen = Frozen(mine.name, (), mine.size)
        assert hash(frozen) == hash(FrozenDC(mine.name, (), mine.size))
    with pytest.raises(FrozenRecordError):
        mine.name = "x"
    with pytest.raises(AttributeError):
        del mine.size
    assert pickle.loads(pickle.dumps(mine)) == mine and copy.deepcopy(mine) == mine


def test_each_record_has_its_own_default():
    first, second = Frozen("a"), Frozen("a")
    first.items.append(1)
    assert second.items == [] and not hasattr(Frozen, "items") and Frozen.size == 0


def test_a_mutable_record_is_its_dataclass():
    mine, theirs = Mutable("a", size=2), MutableDC("a", size=2)
    assert _as_dc(repr(mine)) == repr(theirs) and mine.seen
    mine.size = 3
    assert mine == Mutable("a", 3) and mine.__dict__ == {"name": "a", "size": 3, "seen": True}
    with pytest.raises(TypeError):
        hash(mine)


@pytest.mark.parametrize("args, kwargs", [((), {}), (("a", 1, 2), {}), (("a",), {"name": "b"}),
                                          (("a",), {"colour": "red"})])
def test_wrong_arguments_are_a_type_error(args, kwargs):
    with pytest.raises(TypeError):
        Mutable(*args, **kwargs)


def test_replace_is_dataclasses_replace():
    from dataclasses import replace as dc_replace

    from migcheck.core.records import replace

    mine, theirs = Frozen("a", [1], 2), FrozenDC("a", [1], 2)
    assert _as_dc(repr(replace(mine, size=5))) == repr(dc_replace(theirs, size=5))
    assert replace(mine).items is mine.items  # fields are carried over, not copied
    with pytest.raises(TypeError):
        replace(mine, colour="red")


@record(frozen=True, order=True)
class Ordered:
    file: str
    line: int = 0


@dataclass(frozen=True, order=True)
class OrderedDC:
    file: str
    line: int = 0


def test_an_ordered_record_sorts_as_its_dataclass():
    pairs = [("b", 1), ("a", 2), ("a", 1), ("b", 0), ("a", 1)]
    assert [(o.file, o.line) for o in sorted(Ordered(*p) for p in pairs)] == [
        (o.file, o.line) for o in sorted(OrderedDC(*p) for p in pairs)]
    first, second = Ordered("a", 1), Ordered("a", 2)
    assert first < second and first <= second and second > first and second >= first and first <= Ordered("a", 1)
    with pytest.raises(TypeError):
        first < OrderedDC("a", 2)  # noqa: B015  (another class: no order)


# -- the written-out classes of the check path behave as the dataclasses they were --------------------------
def _dataclass_of(cls):
    """`cls` as `@dataclass(slots=True)` would have made it, from its fields and defaults."""
    import inspect
    from dataclasses import make_dataclass

    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert tuple(p.name for p in params) == cls._fields
    spec = [p.name if p.default is p.empty else (p.name, object, field(default=p.default)) for p in params]
    return make_dataclass(cls.__name__, spec, slots=True)


@pytest.mark.parametrize("name, args, kwargs", [
    ("Result", ("R-1", "error", "fail", {"guest": "g"}, "m"), {"fix": "f", "tags": ("t",)}),
    ("Result", ("R-1", "error", "pass", {}, ""), {}),
    ("Subject", ("guest",), {"guest": {"name": "g"}, "mode": "online"}),
    ("Cell", ("g", "h", "t", "offline", "blocked", ["R-1"]), {}),
])
def test_results_subjects_and_cells_are_their_dataclasses(name, args, kwargs):
    from migcheck.core import results

    cls = getattr(results, name)
    dc = _dataclass_of(cls)
    mine, theirs = cls(*args, **kwargs), dc(*args, **kwargs)
    assert repr(mine) == repr(theirs) and mine == cls(*args, **kwargs) and not mine != cls(*args, **kwargs)
    assert mine != dc(*args, **kwargs) and mine != cls(*args[:-1], "other", **kwargs)
    assert not hasattr(mine, "__dict__")  # slots, as before
    with pytest.raises(TypeError):
        hash(mine)
    again = pickle.loads(pickle.dumps(mine))
    assert again == mine and copy.copy(mine) == mine
    from migcheck.core.records import replace

    assert replace(mine, **{cls._fields[0]: "x"}) == cls("x", *args[1:], **kwargs)
