"""``@record``: a class body of annotated fields becomes a small frozen value class.

It gives what ``typing.NamedTuple`` gave the core, minus what that costs every ``status``
start: importing ``typing``, and compiling each field's annotation (a string, under ``from
__future__ import annotations``) into a ``ForwardRef`` - together several milliseconds for
the core's hundred fields, where the bare interpreter starts in about ten. No code is
generated either (``namedtuple`` and ``dataclasses`` compile a ``__new__``/``__init__`` per
class): every record shares the methods below.

Records keep fields by name or position (unpacking, ``record[0]``), defaults, immutability,
equality, ordering and hashing by value, ``_replace``, ``_asdict``, methods and
properties; annotations stay as written, for readers and type checkers.

Unlike a named tuple a record is no tuple: it equals (and orders against) only a record of
its own class, never a plain tuple or another record with the same values, and
``json.dumps`` refuses it (TypeError) instead of silently writing a list: documents are
built field by field (``render.py``, ``statefile.py``).
"""

from __future__ import annotations

from operator import attrgetter

_set = object.__setattr__  # records block their own __setattr__


class _Record:
    """The methods every record shares; ``_fields`` and ``_values`` are set per class."""

    __slots__ = ()
    _fields: tuple[str, ...]  # set by @record on each class, as the next two
    _field_defaults: dict[str, object]

    def __init__(self, *args: object, **kwargs: object) -> None:
        fields = self._fields
        if kwargs or len(args) != len(fields):
            args = self._bind(args, kwargs)
        for name, value in zip(fields, args, strict=True):
            _set(self, name, value)

    @classmethod
    def _bind(cls, args: tuple, kwargs: dict) -> tuple:
        """Positional, then named arguments, then defaults: one value per field."""
        fields = cls._fields
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments,"
                            f" {len(args)} were given")
        values = list(args)
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in cls._field_defaults:
                values.append(cls._field_defaults[name])
            else:
                raise TypeError(f"{cls.__name__}() is missing the argument {name!r}")
        if kwargs:  # unknown names, or a field given by position and by name
            raise TypeError(f"{cls.__name__}() got unexpected or repeated arguments:"
                            f" {', '.join(kwargs)}")
        return tuple(values)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: use _replace()")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        pairs = ", ".join(f"{name}={value!r}" for name, value in self._asdict().items())
        return f"{type(self).__name__}({pairs})"

    # by position, as a tuple
    def __iter__(self):
        return iter(self._values(self))

    def __len__(self) -> int:
        return len(self._fields)

    def __getitem__(self, index):
        return self._values(self)[index]

    # by value, within one class only
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values(self) == self._values(other)

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values(self) < self._values(other)

    def __le__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values(self) <= self._values(other)

    def __gt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values(self) > self._values(other)

    def __ge__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values(self) >= self._values(other)

    def __reduce__(self):
        return type(self), self._values(self)

    def _replace(self, **changes: object):
        return type(self)(**{**self._asdict(), **changes})

    def _asdict(self) -> dict[str, object]:
        return dict(zip(self._fields, self._values(self), strict=True))


def _values_getter(fields: tuple[str, ...]):
    """All fields' values as a tuple (attrgetter of one name returns the bare value)."""
    if len(fields) > 1:
        return staticmethod(attrgetter(*fields))
    if fields:
        one = attrgetter(fields[0])
        return staticmethod(lambda record: (one(record),))
    return staticmethod(lambda record: ())


def record(cls: type) -> type:
    """The class, rebuilt as a record of its own annotated fields."""
    namespace = vars(cls)
    fields = tuple(namespace.get("__annotations__", {}))  # this class's own, in order
    defaults = {name: namespace[name] for name in fields if name in namespace}
    if any(name not in namespace for name in fields[len(fields) - len(defaults):]):
        raise TypeError(f"{cls.__qualname__}: a field without a default follows one with")
    body = {key: value for key, value in namespace.items()
            if key not in fields and key not in ("__dict__", "__weakref__")}
    return type(cls.__name__, (_Record,), {
        **body, "__slots__": fields, "__qualname__": cls.__qualname__,
        "__match_args__": fields, "_fields": fields, "_field_defaults": defaults,
        "_values": _values_getter(fields)})
