"""`record`: a plain class from its annotated fields, as `@dataclass` would make it, without `dataclasses`.

A dataclass writes its methods as source and compiles them when its module is imported: about a
millisecond a class, which every run of the command line paid for dozens of classes it builds
a handful of objects of (cold start, issue 23). A record's methods are the same few functions for
every class, made without `exec`:

- `__init__(*args, **kwargs)`: the fields in annotation order, positional or by keyword; a field
  with a default may be left out; `Factory(list)` gives each object its own new default (a dataclass's
  `field(default_factory=list)`); `__post_init__` is called when the class has one;
- `__repr__`: `Name(field=value, ...)`, but for the names in the class's `_hidden` (a dataclass's
  `field(repr=False)`); `__eq__`: same class and equal fields;
- not frozen: unhashable (as a dataclass with `eq`); `frozen=True`: the fields cannot be assigned
  after `__init__` (`FrozenRecordError`, an AttributeError) and the hash is the fields' tuple's;
- `order=True`: `<`, `<=`, `>`, `>=` compare the fields' tuples of two objects of the same class
  (NotImplemented for any other), as a dataclass's `order=True`.

`replace(record, **changes)` is `dataclasses.replace` for a record (and for a written-out class with
`_fields`, `core.results.Result`); no `dataclasses` function (`replace`, `fields`, `asdict`) takes a record.
"""

from __future__ import annotations

from operator import attrgetter

__all__ = ["record", "replace", "Factory", "FrozenRecordError"]

_MISSING = object()
_set = object.__setattr__


class Factory:
    """A field's default made new for each object by calling `make` (`Factory(list)`, `Factory(dict)`)."""

    __slots__ = ("make",)

    def __init__(self, make) -> None:
        self.make = make


class FrozenRecordError(AttributeError):
    """An assignment to a field of a frozen record."""


def record(cls=None, /, *, frozen: bool = False, order: bool = False):
    """`@record`, `@record(frozen=True)` or `@record(order=True)` on a class whose fields are its own annotations."""
    if cls is None:
        return lambda cls: _make(cls, frozen, order)
    return _make(cls, frozen, order)


def _make(cls, frozen: bool, order: bool = False):
    names = tuple(cls.__dict__.get("__annotations__", {}))
    defaults = {}
    for name in names:
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
            if type(defaults[name]) is Factory:
                delattr(cls, name)
        elif defaults:
            raise TypeError(f"non-default argument {name!r} follows default argument")
    key = attrgetter(*names) if len(names) > 1 else (lambda obj: tuple(getattr(obj, n) for n in names))
    cls._fields = names
    cls._shown = tuple(name for name in names if name not in cls.__dict__.get("_hidden", ()))
    cls.__init__ = _init(names, defaults, cls.__dict__.get("__post_init__"))
    cls.__repr__ = _repr
    cls.__eq__ = lambda self, other: key(self) == key(other) if other.__class__ is self.__class__ else NotImplemented
    if order:
        cls.__lt__ = lambda self, other: key(self) < key(other) if other.__class__ is self.__class__ else NotImplemented
        cls.__le__ = lambda self, other: key(self) <= key(other) if other.__class__ is self.__class__ else NotImplemented
        cls.__gt__ = lambda self, other: key(self) > key(other) if other.__class__ is self.__class__ else NotImplemented
        cls.__ge__ = lambda self, other: key(self) >= key(other) if other.__class__ is self.__class__ else NotImplemented
    if frozen:
        cls.__hash__ = lambda self: hash(key(self))
        cls.__setattr__ = _refuse_set
        cls.__delattr__ = _refuse_delete
    else:
        cls.__hash__ = None
    return cls


def replace(obj, /, **changes):
    """A new record of `obj`'s class with its fields, but for `changes` (as `dataclasses.replace`)."""
    return obj.__class__(**{name: changes.pop(name) if name in changes else getattr(obj, name)
                            for name in obj._fields}, **changes)


def _init(names: tuple, defaults: dict, post_init):
    count = len(names)

    def __init__(self, *args, **kwargs) -> None:
        if len(args) > count:
            raise TypeError(f"{type(self).__name__}() takes {count} positional arguments but {len(args)} were given")
        for name, value in zip(names, args):
            _set(self, name, value)
        for name in names[len(args):]:
            value = kwargs.pop(name, _MISSING)
            if value is _MISSING:
                value = defaults.get(name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{type(self).__name__}() missing required argument: {name!r}")
                if type(value) is Factory:
                    value = value.make()
            _set(self, name, value)
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}")
        if post_init is not None:
            post_init(self)
    return __init__


def _repr(self) -> str:
    return f"{self.__class__.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._shown)})"


def _refuse_set(self, name: str, value) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r}")


def _refuse_delete(self, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r}")
