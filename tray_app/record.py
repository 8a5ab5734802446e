"""``@record``: a class body of annotated fields becomes a frozen named tuple.

It is what ``typing.NamedTuple`` does, minus what that costs every ``status`` start:
importing ``typing``, and compiling each field's annotation (a string, under ``from
__future__ import annotations``) into a ``ForwardRef`` - together several milliseconds
for the core's hundred fields, where the bare interpreter starts in about ten. Records
keep what NamedTuple gives: fields by name or position, defaults, immutability, equality
and hashing by value, ``_replace``, methods and properties; annotations stay as written,
for readers and type checkers.
"""

from __future__ import annotations

from collections import namedtuple


def record(cls: type) -> type:
    """The class, rebuilt on a ``collections.namedtuple`` of its annotated fields."""
    namespace = vars(cls)
    fields = tuple(namespace.get("__annotations__", {}))  # this class's own, in order
    defaults = [namespace[name] for name in fields if name in namespace]
    if any(name not in namespace for name in fields[len(fields) - len(defaults):]):
        raise TypeError(f"{cls.__qualname__}: a field without a default follows one with")
    base = namedtuple(cls.__name__, fields, defaults=defaults, module=cls.__module__)
    body = {key: value for key, value in namespace.items()
            if key not in fields and key not in ("__dict__", "__weakref__")}
    return type(cls.__name__, (base,), {**body, "__slots__": ()})
