"""``RedisStorage``: the cookie holds a random identity, the session lives in Redis.

Keys and values are aiohttp_session's: the record of identity ``I`` is the JSON
SessionData under ``<cookie_name>_I``, expiring after the session's ``max_age``.
So several processes (or machines) sharing one Redis share their sessions, and an
aiohttp app can share them too during a move.

SECURITY invariants:

- The identity comes from ``key_factory`` (128 random bits by default) and is the
  only thing the client holds; an identity Redis does not know is a new session
  with a new identity (an attacker cannot choose a victim's identity, and
  ``new_session()`` at login drops the one the client came with).
- ``invalidate()`` deletes the record, so a copied cookie dies with the logout.
- Redis unreachable: the request is answered 503 and the error logged; neither the
  traceback nor Redis's address reaches the client.
"""

from __future__ import annotations

try:
    from redis import asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - the tests run with redis installed
    raise ImportError(
        "RedisStorage needs redis-py: pip install squall[sessions]", name=exc.name
    ) from exc

import json
import uuid
from collections.abc import Callable
from typing import Any, NoReturn

from squall.framework.exceptions import HTTPServiceUnavailable
from squall.framework.request import Request
from squall.framework.response import StreamResponse
from squall.sessions.redis_wire import RedisWire
from squall.sessions.session import Session
from squall.sessions.storage import AbstractStorage, log


def _new_key() -> str:
    return uuid.uuid4().hex


def _unavailable(action: str, error: Exception) -> NoReturn:
    log.error("Session store unavailable (%s): %r", action, error)
    raise HTTPServiceUnavailable(text="503: Session store unavailable") from None


class RedisStorage(AbstractStorage):
    """Sessions in Redis (``redis.asyncio.Redis``), an identity in the cookie."""

    def __init__(
        self,
        redis_pool: aioredis.Redis,
        *,
        cookie_name: str = "AIOHTTP_SESSION",
        domain: str | None = None,
        max_age: int | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool = True,
        samesite: str | None = None,
        key_factory: Callable[[], str] = _new_key,
        encoder: Callable[[object], str] = json.dumps,
        decoder: Callable[[str], Any] = json.loads,
    ) -> None:
        super().__init__(
            cookie_name=cookie_name,
            domain=domain,
            max_age=max_age,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            encoder=encoder,
            decoder=decoder,
        )
        if not isinstance(redis_pool, aioredis.Redis):
            raise TypeError(f"Expected redis.asyncio.Redis got {type(redis_pool)}")
        self._key_factory = key_factory
        self._redis = redis_pool
        # PERF: a plain client's commands go pipelined on one connection of its
        # pool (redis_wire.py: 34-41 -> ~9 µs of CPU per command); others through it
        self._wire = RedisWire(redis_pool) if RedisWire.usable(redis_pool) else None

    async def _get(self, key: str) -> Any:
        wire = self._wire
        if wire is None:
            return await self._redis.get(key)
        return await wire.execute("GET", key)

    async def _set(self, key: str, data: str, ex: int | None, xx: bool = False) -> bool:
        """SET as redis-py sends it; False when ``xx`` and the key did not exist."""
        wire = self._wire
        if wire is None:
            return bool(await self._redis.set(key, data, ex=ex, xx=xx))
        args: tuple[str | int, ...] = ("SET", key, data)
        if ex is not None:
            args += ("EX", ex)
        if xx:
            args += ("XX",)
        return await wire.execute(*args) is not None

    async def _delete(self, key: str) -> None:
        wire = self._wire
        if wire is None:
            await self._redis.delete(key)
        else:
            await wire.execute("DEL", key)

    async def load_session(self, request: Request) -> Session:
        key = self.load_cookie(request)
        if key is None:
            return Session(None, data=None, new=True, max_age=self.max_age)
        if not key.isascii() and not _utf8(key):
            # SECURITY: bytes that are not UTF-8 (kept as surrogates) cannot name a
            # record, and would fail in the Redis command (aiohttp_session: a 500)
            log.warning("Cannot read the session identity, create a new fresh session")
            return Session(None, data=None, new=True, max_age=self.max_age)
        try:
            raw = await self._get(self.cookie_name + "_" + key)
        except (RedisError, OSError) as error:  # down, refused, timed out, a reply error
            _unavailable("load", error)
        if raw is None:  # unknown or expired identity: a new one is made on saving
            return Session(None, data=None, new=True, max_age=self.max_age)
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError:
            text = ""
        # aiohttp_session's rule: a record that does not decode is an empty session
        # that keeps its identity (not new), so saving it overwrites the record.
        data = self._decode(text) if text else None
        return Session(key, data=data, new=False, max_age=self.max_age)

    async def save_session(
        self, request: Request, response: StreamResponse, session: Session
    ) -> None:
        key = session.identity
        try:
            if session.empty:
                # invalidate(): the record goes with the cookie
                if key is not None:
                    await self._delete(self.cookie_name + "_" + str(key))
                self.save_cookie(response, "", max_age=session.max_age)
                return
            data = self._encode(session)
            if key is None or session.new:
                key = self._key_factory() if key is None else str(key)
                await self._set(self.cookie_name + "_" + key, data, session.max_age)
            else:
                # SECURITY: a loaded session is written back only while its record
                # exists (xx): a logout (or expiry) that deleted it during this
                # request must not be undone by the request saving its copy
                key = str(key)
                stored = await self._set(
                    self.cookie_name + "_" + key, data, session.max_age, xx=True
                )
                if not stored:
                    return
        except (RedisError, OSError) as error:  # as in load_session
            _unavailable("save", error)
        self.save_cookie(response, key, max_age=session.max_age)


def _utf8(text: str) -> bool:
    """True when ``text`` encodes to UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
