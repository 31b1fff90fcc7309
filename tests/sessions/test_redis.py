"""RedisStorage against a real redis-server: identities, expiry, deletion, and
Redis going away under a running app (503 and a log line, never a traceback)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from framework._wire import build, exchange, serve
from squall import web
from squall.sessions import get_session, new_session, setup
from squall.sessions.redis_storage import RedisStorage

from .conftest import start_redis, stop_redis


def make_app(redis: aioredis.Redis, **kwargs: Any) -> web.Application:
    async def show(request: web.Request) -> web.Response:
        session = await get_session(request)
        return web.json_response({"new": session.new, "data": dict(session)})

    async def login(request: web.Request) -> web.Response:
        session = await new_session(request)
        session["user"] = request.query["user"]
        return web.Response(text="in")

    async def count(request: web.Request) -> web.Response:
        session = await get_session(request)
        session["n"] = session.get("n", 0) + 1
        return web.Response(text=str(session["n"]))

    async def logout(request: web.Request) -> web.Response:
        (await get_session(request)).invalidate()
        return web.Response(text="out")

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="no session here")

    app = web.Application()
    setup(app, RedisStorage(redis, **kwargs))
    for path, handler in [
        ("/", show), ("/login", login), ("/count", count), ("/logout", logout), ("/plain", plain)
    ]:  # fmt: skip
        app.router.add_get(path, handler)
    return app


def identity(client: Any) -> str:
    return str(
        client.session.cookie_jar.filter_cookies(client.make_url("/"))["AIOHTTP_SESSION"].value
    )


async def test_cookie_holds_only_the_identity(aiohttp_client: Any, redis: aioredis.Redis) -> None:
    client = await aiohttp_client(make_app(redis, max_age=120))
    await client.get("/login?user=alice")
    key = identity(client)
    assert len(key) == 32 and int(key, 16) >= 0  # uuid4().hex: 128 bits, no data
    record = json.loads(await redis.get("AIOHTTP_SESSION_" + key))
    assert record["session"] == {"user": "alice"}
    assert 0 < await redis.ttl("AIOHTTP_SESSION_" + key) <= 120


async def test_no_max_age_no_expiry(aiohttp_client: Any, redis: aioredis.Redis) -> None:
    client = await aiohttp_client(make_app(redis))
    await client.get("/count")
    assert await redis.ttl("AIOHTTP_SESSION_" + identity(client)) == -1  # persistent


async def test_new_session_issues_a_new_identity(
    aiohttp_client: Any, redis: aioredis.Redis
) -> None:
    client = await aiohttp_client(make_app(redis))
    await client.get("/count")
    planted = identity(client)
    await client.get("/login?user=alice")
    assert identity(client) != planted  # login never adopts the identity it came with
    resp = await client.get("/")
    assert await resp.json() == {"new": False, "data": {"user": "alice"}}


async def test_invalidate_deletes_the_record(aiohttp_client: Any, redis: aioredis.Redis) -> None:
    client = await aiohttp_client(make_app(redis))
    await client.get("/login?user=alice")
    key = identity(client)
    resp = await client.get("/logout")
    assert resp.cookies["AIOHTTP_SESSION"].value == ""
    assert await redis.exists("AIOHTTP_SESSION_" + key) == 0
    # a copy of the old cookie is worth nothing now
    client.session.cookie_jar.update_cookies({"AIOHTTP_SESSION": key})
    assert await (await client.get("/")).json() == {"new": True, "data": {}}


async def test_unknown_identity_is_not_adopted(aiohttp_client: Any, redis: aioredis.Redis) -> None:
    client = await aiohttp_client(make_app(redis))
    client.session.cookie_jar.update_cookies({"AIOHTTP_SESSION": "chosen-by-attacker"})
    resp = await client.get("/count")
    assert await resp.text() == "1"
    assert resp.cookies["AIOHTTP_SESSION"].value != "chosen-by-attacker"
    assert await redis.exists("AIOHTTP_SESSION_chosen-by-attacker") == 0


@pytest.mark.parametrize(
    "value", [b"\xff\xfe", b"ok\x80id", "\u00e9t\u00e9".encode(), b"a b*2$3 +OK"]
)
async def test_an_identity_of_any_bytes_is_a_new_session(
    redis: aioredis.Redis, value: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """Raw bytes a browser would not send: not UTF-8 (a new session and a warning,
    never a 500: aiohttp_session's Redis command fails there), UTF-8, RESP's own
    characters (length-prefixed, so no command is injected): no record, a new
    session; and Redis keeps serving."""
    caplog.set_level(logging.WARNING, logger="squall.sessions")
    head = build("GET", "/count", headers={"Cookie": "X"})
    async with serve(web, lambda _: make_app(redis)) as port:
        reply = await exchange(
            port, head.replace(b"Cookie: X", b"Cookie: AIOHTTP_SESSION=" + value)
        )
        assert reply.status == 200 and reply.body == b"1", reply
        assert reply.header("Set-Cookie") is not None  # a new identity, saved
        again = await exchange(port, build("GET", "/count"))
        assert again.status == 200 and again.body == b"1"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors
    if b"\xff" in value or b"\x80" in value:
        assert any("new fresh session" in r.getMessage() for r in caplog.records)
    assert await redis.dbsize() >= 2


@pytest.fixture
def own_redis(tmp_path: Path) -> Any:
    """A redis-server of this test's own, to stop while the app runs."""
    proc, port = start_redis(tmp_path)
    yield proc, port
    stop_redis(proc)


async def test_redis_down_is_a_503(
    aiohttp_client: Any, own_redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    proc, port = own_redis
    # no retries: redis-py 8 retries a refused connection with backoff (seconds)
    redis = aioredis.Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
    caplog.set_level(logging.ERROR, logger="squall.sessions")
    try:
        client = await aiohttp_client(make_app(redis))
        assert await (await client.get("/count")).text() == "1"
        stop_redis(proc)  # the pid this test started

        loading = await client.get("/")  # the cookie names a session: load fails
        assert loading.status == 503
        assert await loading.text() == "503: Session store unavailable"
        client.session.cookie_jar.clear()
        saving = await client.get("/count")  # no cookie: load is free, save fails
        assert saving.status == 503
        assert "Traceback" not in await saving.text()
        plain = await client.get("/plain")  # the server goes on serving
        assert (plain.status, await plain.text()) == (200, "no session here")
    finally:
        await redis.aclose()
    errors = [r for r in caplog.records if r.name == "squall.sessions"]
    assert [r.getMessage().split(" (")[1].split(")")[0] for r in errors] == ["load", "save"]
    assert all(r.levelno == logging.ERROR and r.exc_info is None for r in errors)


def test_only_a_redis_asyncio_client_is_taken() -> None:
    import redis as sync_redis

    with pytest.raises(TypeError):
        RedisStorage(sync_redis.Redis())  # type: ignore[arg-type]


async def test_a_logout_is_not_undone_by_a_request_in_flight(
    aiohttp_client: Any, redis: aioredis.Redis
) -> None:
    """SECURITY: a request that loaded the session before a logout deleted its
    record does not write it back: the copied cookie stays dead."""
    import asyncio

    loaded = asyncio.Event()
    proceed = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        session = await get_session(request)
        loaded.set()
        await proceed.wait()
        session["last"] = "slow"
        return web.Response(text="slow")

    app = make_app(redis)
    app.router.add_get("/slow", slow)
    client = await aiohttp_client(app)
    await client.get("/login?user=bob")
    key = identity(client)
    cookies = {"AIOHTTP_SESSION": key}

    async def get_slow() -> Any:
        return await client.get("/slow", cookies=cookies)

    slow_request = asyncio.create_task(get_slow())
    await asyncio.wait_for(loaded.wait(), 10)
    await client.get("/logout")
    assert await redis.get("AIOHTTP_SESSION_" + key) is None
    proceed.set()
    assert (await slow_request).status == 200
    assert await redis.get("AIOHTTP_SESSION_" + key) is None  # not brought back
    replay = await client.get("/", cookies=cookies)
    assert (await replay.json())["data"] == {}


async def test_a_failed_handler_saves_nothing(aiohttp_client: Any, redis: aioredis.Redis) -> None:
    async def half_login(request: web.Request) -> web.Response:
        session = await new_session(request)
        session["user"] = "admin"
        raise RuntimeError("second factor check failed")

    app = make_app(redis)
    app.router.add_get("/half", half_login)
    client = await aiohttp_client(app)
    before = set(await redis.keys("*"))
    resp = await client.get("/half")
    assert resp.status == 500
    assert "Set-Cookie" not in resp.headers
    assert set(await redis.keys("*")) == before
