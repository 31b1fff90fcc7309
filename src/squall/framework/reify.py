"""``reify``: a property computed on first access, then stored on the instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

_T = TypeVar("_T")


class reify(Generic[_T]):
    """Compute once, then serve from the instance ``__dict__``.

    PERF: a non-data descriptor, so after the first access the instance
    attribute shadows it and reading costs a plain dict lookup. Unlike
    ``functools.cached_property`` on 3.11 it takes no lock.
    """

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    @overload
    def __get__(self, inst: None, owner: type[Any]) -> reify[_T]: ...
    @overload
    def __get__(self, inst: object, owner: type[Any]) -> _T: ...
    def __get__(self, inst: object | None, owner: type[Any]) -> _T | reify[_T]:
        if inst is None:
            return self
        value = self.func(inst)
        inst.__dict__[self.name] = value
        return value
