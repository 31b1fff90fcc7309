"""``TypedKey``: what ``AppKey``, ``RequestKey`` and ``ResponseKey`` share.

A typed key for a mapping (``app[key]``, ``request[key]``, ``resp[key]``), as
aiohttp's: its name is prefixed with the module that made it (two libraries' ``db``
keys read apart in a repr), keys sort by that name and before string keys, and the
repr shows the value type: ``<AppKey(myapp.db, type=myapp.Database)>``.
"""

from __future__ import annotations

import sys
from typing import Any, Generic, TypeVar, get_args

_T = TypeVar("_T")


class TypedKey(Generic[_T]):
    __slots__ = ("__orig_class__", "_given", "_name", "_t")

    def __init__(self, name: str, t: type[_T] | None = None) -> None:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "<module>":
            frame = frame.f_back  # type: ignore[assignment]
        module = frame.f_globals.get("__name__") if frame is not None else None
        self._given = name
        self._name = f"{module}.{name}" if module else name
        self._t = t

    @property
    def name(self) -> str:
        """The name as given (Squall's own; the repr shows it with its module)."""
        return self._given

    def __lt__(self, other: object) -> bool:
        if isinstance(other, TypedKey):
            return self._name < other._name
        return True  # keys before other types

    def __repr__(self) -> str:
        t: Any = self._t
        if t is None:
            orig = getattr(self, "__orig_class__", None)  # AppKey[int]("n")
            t = get_args(orig)[0] if orig is not None else None
        if t is None:
            tname = "<<Unknown>>"
        elif isinstance(t, type):
            tname = (
                t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
            )
        else:
            tname = repr(t)  # a generic alias: collections.abc.Iterator[int]
        return f"<{type(self).__name__}({self._name}, type={tname})>"
