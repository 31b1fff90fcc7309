"""User sessions with aiohttp_session's API: ``from squall import sessions``.

Moving an app from aiohttp_session means changing imports only::

    from squall import sessions as aiohttp_session
    from squall.sessions.cookie_storage import EncryptedCookieStorage
    from squall.sessions.redis_storage import RedisStorage

and the users stay logged in: the cookie's name, attributes and sealed format are
aiohttp_session 2.12's. See docs/sessions.md.

``EncryptedCookieStorage`` needs the cryptography package and ``RedisStorage``
redis-py (``pip install squall[sessions]``); they are imported on first use, so the
rest works without them. Nothing in Squall imports this package: an app without
sessions pays nothing for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from squall.sessions.middleware import (
    SESSION_KEY,
    STORAGE_KEY,
    get_session,
    new_session,
    session_middleware,
    setup,
)
from squall.sessions.session import Session, SessionData
from squall.sessions.storage import AbstractStorage, SimpleCookieStorage

if TYPE_CHECKING:
    from squall.sessions.cookie_storage import EncryptedCookieStorage
    from squall.sessions.redis_storage import RedisStorage

__all__ = (
    "SESSION_KEY",
    "STORAGE_KEY",
    "AbstractStorage",
    "EncryptedCookieStorage",
    "RedisStorage",
    "Session",
    "SessionData",
    "SimpleCookieStorage",
    "get_session",
    "new_session",
    "session_middleware",
    "setup",
)

# the storages that need an extra, and the module each lives in
_LAZY = {
    "EncryptedCookieStorage": "squall.sessions.cookie_storage",
    "RedisStorage": "squall.sessions.redis_storage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
