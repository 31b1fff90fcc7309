"""``Session``: the mutable mapping a handler gets from ``get_session()``.

Behaves as aiohttp_session 2.12's ``Session`` to the attribute: code and tests
written for it read ``_changed`` and ``_mapping`` and build sessions by hand
(``Session(identity, data=..., new=...)``), so those stay as they are there.

What a storage saves is ``SessionData``: ``{"created": <unix seconds>, "session":
{...}}``, or ``{}`` for an empty session; a session whose ``created`` is more than
``max_age`` seconds ago is loaded empty.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from typing import Any, TypedDict


class SessionData(TypedDict, total=False):
    """What a storage keeps of a session."""

    created: int
    session: dict[str, Any]


def is_session_data(data: object) -> bool:
    """True when ``data`` (decoded from a cookie or a store) has SessionData's shape.

    SECURITY: a storage checks what it decoded before ``Session`` reads it, so a
    well-formed cookie with the wrong shape (signed by a leaked old key, or written
    by another app under the same name) is a fresh session, not a 500.
    """
    if not isinstance(data, dict):
        return False
    created = data.get("created")
    if created is not None and (type(created) is not int):
        return False
    session = data.get("session")
    return session is None or isinstance(session, dict)


class Session(MutableMapping[str, Any]):
    """A dict-like session: changes mark it for saving on the way out."""

    def __init__(
        self,
        identity: Any | None,
        *,
        data: SessionData | None,
        new: bool,
        max_age: int | None = None,
    ) -> None:
        self._changed: bool = False
        self._mapping: dict[str, Any] = {}
        # an empty record ({}) is a session that was invalidated: it starts again
        self._identity = identity if data != {} else None
        self._new = new if data != {} else True
        self._max_age = max_age
        created = data.get("created") if data else None
        session_data = data.get("session") if data else None
        now = int(time.time())
        age = now - created if created else now
        if max_age is not None and age > max_age:
            session_data = None
        self._created = now if self._new or created is None else created
        if session_data is not None:
            self._mapping.update(session_data)

    def __repr__(self) -> str:
        return (
            f"<{self.__class__.__name__} [new:{self.new}, changed:{self._changed}, "
            f"created:{self.created}] {self._mapping!r}>"
        )

    @property
    def new(self) -> bool:
        """True when the request brought no (valid) session."""
        return self._new

    @property
    def identity(self) -> Any | None:
        """The storage's key for this session (None for cookie storages)."""
        return self._identity

    @property
    def created(self) -> int:
        """When the session was created or last written to (unix seconds)."""
        return self._created

    @property
    def empty(self) -> bool:
        return not self._mapping

    @property
    def max_age(self) -> int | None:
        """Seconds the session lives; set it to change this session's lifetime."""
        return self._max_age

    @max_age.setter
    def max_age(self, value: int | None) -> None:
        self._max_age = value

    def changed(self) -> None:
        """Mark the session for saving (after changing a value in place)."""
        self._changed = True

    def invalidate(self) -> None:
        """Empty the session: its cookie (and stored record) is deleted on the way out."""
        self._changed = True
        self._mapping = {}

    def set_new_identity(self, identity: Any | None) -> None:
        """Give a new session its storage key."""
        if not self._new:
            raise RuntimeError("Can't change identity for a session which is not new")
        self._identity = identity

    def __len__(self) -> int:
        return len(self._mapping)

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping)

    # PERF: concrete, not MutableMapping's mixins (a try/except over __getitem__ each)

    def __contains__(self, key: object) -> bool:
        return key in self._mapping

    def get(self, key: str, default: Any = None) -> Any:
        return self._mapping.get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        mapping = self._mapping
        if key in mapping:
            return mapping[key]
        self[key] = default  # a change, as the mixin's
        return default

    def __getitem__(self, key: str) -> Any:
        return self._mapping[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._mapping[key] = value
        self._changed = True
        self._created = int(time.time())

    def __delitem__(self, key: str) -> None:
        del self._mapping[key]
        self._changed = True
        self._created = int(time.time())
