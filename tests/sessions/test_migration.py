"""Migration keeps users logged in: one browser (one cookie jar) moves between an
aiohttp + aiohttp_session 2.12.1 server and a Squall server that share the key (or
the Redis), both ways, through a whole login / visit / logout.

The two servers listen on 127.0.0.1 at different ports; cookies do not isolate by
port (RFC 6265 8.5), so the jar sends the same session cookie to both, as a browser
does when the app behind a domain is swapped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet

from framework._wire import serve

from ._apps import AIOHTTP, KEY, RAW_KEY, SQUALL, make_app


@asynccontextmanager
async def both(storage: Any) -> AsyncIterator[dict[str, str]]:
    """Serve the login app on both stacks; yield their base URLs by name."""
    async with (
        serve(SQUALL.web, lambda web: make_app(SQUALL, storage(SQUALL))) as ours,
        serve(AIOHTTP.web, lambda web: make_app(AIOHTTP, storage(AIOHTTP))) as theirs,
    ):
        yield {"squall": f"http://127.0.0.1:{ours}", "aiohttp": f"http://127.0.0.1:{theirs}"}


async def walk(urls: dict[str, str], first: str, then: str) -> None:
    """Log in on ``first``, then keep the session going on ``then`` and back."""
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies set by an IP address
    async with aiohttp.ClientSession(cookie_jar=jar) as client:
        form = {"login": "alice", "password": "secret"}
        async with client.post(urls[first] + "/login", data=form) as resp:
            assert resp.status == 200  # the redirect to /show, followed on `first`
            assert (await resp.json())["data"] == {"user": "alice", "visits": 0}
        async with client.get(urls[then] + "/visit") as resp:
            assert (resp.status, await resp.text()) == (200, "alice visit 1")
        async with client.get(urls[first] + "/visit") as resp:
            assert (resp.status, await resp.text()) == (200, "alice visit 2")
        async with client.get(urls[then] + "/show") as resp:
            assert (await resp.json())["data"] == {"user": "alice", "visits": 2}
        async with client.get(urls[then] + "/logout") as resp:
            assert await resp.text() == "bye"
        async with client.get(urls[first] + "/visit") as resp:
            assert (resp.status, await resp.text()) == (401, "log in first")


STORAGES = {
    "encrypted, raw key vs base64 key": lambda s: s.Encrypted(
        RAW_KEY if s is SQUALL else KEY.decode()
    ),
    "encrypted, Fernet object, max_age": lambda s: s.Encrypted(Fernet(KEY), max_age=600),
    "simple": lambda s: s.sessions.SimpleCookieStorage(),
}


@pytest.mark.parametrize("storage", list(STORAGES))
@pytest.mark.parametrize(("first", "then"), [("aiohttp", "squall"), ("squall", "aiohttp")])
async def test_cookie_crosses(storage: str, first: str, then: str) -> None:
    async with both(STORAGES[storage]) as urls:
        await walk(urls, first, then)


@pytest.mark.parametrize(("first", "then"), [("aiohttp", "squall"), ("squall", "aiohttp")])
async def test_redis_sessions_cross(first: str, then: str, redis: Any) -> None:
    async with both(lambda s: s.Redis(redis, max_age=600)) as urls:
        await walk(urls, first, then)


async def test_rotated_key_reads_aiohttp_cookie() -> None:
    """Squall with [new key, the aiohttp app's key] reads aiohttp's cookie and seals
    it again with the new key; aiohttp (old key only) then no longer opens it."""
    new_key = Fernet.generate_key()
    rotating = SQUALL.Encrypted([new_key.decode(), KEY.decode()])
    async with (
        serve(SQUALL.web, lambda web: make_app(SQUALL, rotating)) as ours,
        serve(
            AIOHTTP.web, lambda web: make_app(AIOHTTP, AIOHTTP.Encrypted(KEY.decode()))
        ) as theirs,
    ):
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            form = {"login": "alice", "password": "secret"}
            async with client.post(f"http://127.0.0.1:{theirs}/login", data=form) as resp:
                assert resp.status == 200
            async with client.get(f"http://127.0.0.1:{ours}/show") as resp:
                assert (await resp.json())["data"] == {"user": "alice", "visits": 0}
                sealed = resp.cookies["AIOHTTP_SESSION"].value  # re-sealed, unchanged
            assert Fernet(new_key).decrypt(sealed.encode())
            async with client.get(f"http://127.0.0.1:{theirs}/show") as resp:
                assert (await resp.json())["new"] is True
