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
