"""``ResourceOptions``: what one origin may do with a resource (aiohttp-cors's tuple)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral
from typing import Any, NamedTuple

__all__ = ["ResourceOptions"]

HeaderSet = str | frozenset[str]  # "*" or a set of names


def _is_proper_sequence(value: object) -> bool:
    """A sequence of names, not a string (a string is a sequence of letters)."""
    return isinstance(value, Sequence) and not isinstance(value, str)


class _Options(NamedTuple):
    allow_credentials: bool
    expose_headers: HeaderSet
    allow_headers: HeaderSet
    max_age: int | None
    allow_methods: HeaderSet | None


class ResourceOptions(_Options):
    """CORS options for one origin, normalised and checked when built.

    ``allow_credentials``: the origin may send cookies and auth (the response says
    ``Access-Control-Allow-Credentials: true``). ``expose_headers``: response
    headers the page may read, or ``"*"`` for all the response carries.
    ``allow_headers``: request headers a preflight may ask for, or ``"*"``.
    ``max_age``: seconds a browser may cache a preflight answer.
    ``allow_methods``: methods allowed beyond the routes added with CORS, or ``"*"``.
    """

    __slots__ = ()

    def __new__(
        cls,
        *,
        allow_credentials: bool = False,
        expose_headers: str | Iterable[str] = (),
        allow_headers: str | Iterable[str] = (),
        max_age: int | None = None,
        allow_methods: str | Iterable[str] | None = None,
    ) -> ResourceOptions:
        if not isinstance(allow_credentials, bool):
            raise ValueError(f"'allow_credentials' must be boolean, got '{allow_credentials!r}'")
        return super().__new__(
            cls,
            allow_credentials,
            _names("expose_headers", expose_headers, upper=False),
            _names("allow_headers", allow_headers, upper=True),
            _max_age(max_age),
            None if allow_methods is None else _names("allow_methods", allow_methods, upper=True),
        )

    def is_method_allowed(self, method: str) -> bool:
        """True when ``allow_methods`` names ``method`` (or is ``"*"``)."""
        allowed = self.allow_methods
        if allowed is None:
            return False
        if allowed == "*":
            return True
        return method.upper() in allowed


def _names(option: str, value: Any, *, upper: bool) -> HeaderSet:
    """``"*"``, or the names of a sequence as a frozenset (upper-cased if asked)."""
    if value == "*":
        return "*"
    if not _is_proper_sequence(value):
        raise ValueError(f"'{option}' must be either '*', or sequence of strings, got '{value!r}'")
    return frozenset(str(name).upper() if upper else str(name) for name in value)


def _max_age(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"'max_age' must be non-negative integer, got '{value!r}'")
    return int(value)
