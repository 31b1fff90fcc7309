"""RedisStorage's pipelined connection (squall/sessions/redis_wire.py), against the
real redis-server: concurrent requests on one connection, error replies, a closed
or killed connection, a stalled Redis, ``aclose()``, and the RESP reader itself."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from squall import web
from squall.sessions import get_session, setup
from squall.sessions.redis_storage import RedisStorage
from squall.sessions.redis_wire import _INCOMPLETE, RedisWire, _Pipe, pack, parse


def count_app(storage: RedisStorage, before: Any = None) -> web.Application:
    """``/count`` counts the session's visits; ``before(request)`` is awaited first."""

    async def count(request: web.Request) -> web.Response:
        if before is not None:
            await before(request)
        session = await get_session(request)
        session["n"] = session.get("n", 0) + 1
        return web.Response(text=str(session["n"]))

    app = web.Application()
    setup(app, storage)
    app.router.add_get("/count", count)
    return app


async def own_connections(redis: aioredis.Redis, name: str) -> int:
    """How many connections the app's client holds (by CLIENT SETNAME)."""
    clients = await redis.client_list()
    return sum(1 for c in clients if c.get("name") == name)


async def test_concurrent_sessions_share_one_connection(
    aiohttp_client: Any, redis_url: str, redis: aioredis.Redis
) -> None:
    app_redis = aioredis.Redis.from_url(redis_url, client_name="wire-test")
    storage = RedisStorage(app_redis)
    assert storage._wire is not None
    client = await aiohttp_client(count_app(storage))
    url = client.make_url("/count")

    async def visitor(http: aiohttp.ClientSession, times: int) -> list[str]:
        cookie: dict[str, str] = {}  # each visitor's own, nothing in a shared jar
        seen = []
        for _ in range(times):
            async with http.get(url, cookies=cookie) as resp:
                seen.append(await resp.text())
                morsel = resp.cookies.get("AIOHTTP_SESSION")
            if morsel is not None:
                cookie = {"AIOHTTP_SESSION": morsel.value}
        return seen

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        results = await asyncio.gather(*(visitor(http, 5) for _ in range(20)))
    assert results == [["1", "2", "3", "4", "5"]] * 20
    assert await own_connections(redis, "wire-test") == 1  # pipelined on one
    await app_redis.aclose()


async def test_an_error_reply_is_a_503_and_the_connection_goes_on(
    aiohttp_client: Any, redis_url: str, redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    app_redis = aioredis.Redis.from_url(redis_url)
    client = await aiohttp_client(count_app(RedisStorage(app_redis)))
    await redis.rpush("AIOHTTP_SESSION_listkey", "x")  # GET on a list: WRONGTYPE
    caplog.set_level(logging.ERROR, logger="squall.sessions")
    resp = await client.get("/count", cookies={"AIOHTTP_SESSION": "listkey"})
    assert resp.status == 503
    assert await resp.text() == "503: Session store unavailable"
    assert "ResponseError" in caplog.text
    resp = await client.get("/count")  # the same connection, still in step
    assert (resp.status, await resp.text()) == (200, "1")
    await app_redis.aclose()


async def test_a_killed_connection_is_replaced(
    aiohttp_client: Any, redis_url: str, redis: aioredis.Redis
) -> None:
    """Redis closes the connection (a restart, an idle timeout): the next command
    finds out only when it reads, and is sent again on a new connection."""
    app_redis = aioredis.Redis.from_url(redis_url, client_name="wire-killed")
    client = await aiohttp_client(count_app(RedisStorage(app_redis)))
    resp = await client.get("/count")
    cookie = {"AIOHTTP_SESSION": resp.cookies["AIOHTTP_SESSION"].value}
    for n in range(2, 5):
        killed = await redis.client_kill_filter(_type="normal", skipme=True)
        assert killed >= 1
        resp = await client.get("/count", cookies=cookie)
        assert (resp.status, await resp.text()) == (200, str(n))
    await app_redis.aclose()


async def test_aclose_closes_the_borrowed_connection(
    aiohttp_client: Any, redis_url: str, redis: aioredis.Redis
) -> None:
    """The pipe's connection is the pool's: aclose() closes it (and returns, rather
    than waiting for a close redis-py's own protocol never hears of)."""
    app_redis = aioredis.Redis.from_url(redis_url, client_name="wire-aclose")
    client = await aiohttp_client(count_app(RedisStorage(app_redis)))
    assert (await client.get("/count")).status == 200
    assert await own_connections(redis, "wire-aclose") == 1
    await asyncio.wait_for(app_redis.aclose(), 10)
    for _ in range(100):  # Redis notices the close on its next event loop turn
        if await own_connections(redis, "wire-aclose") == 0:
            break
        await asyncio.sleep(0.01)
    assert await own_connections(redis, "wire-aclose") == 0
    resp = await client.get("/count")  # the pool connects again, as redis-py does
    assert (resp.status, await resp.text()) == (200, "2")
    await app_redis.aclose()


async def test_a_stalled_redis_times_out_with_socket_timeout(
    aiohttp_client: Any, redis_url: str, redis: aioredis.Redis
) -> None:
    """CLIENT PAUSE WRITE holds the SET's reply: with the client's socket_timeout
    the request gets its 503 instead of waiting as long as Redis does; then a new
    connection serves the next one."""
    app_redis = aioredis.Redis.from_url(redis_url, socket_timeout=0.2)
    client = await aiohttp_client(count_app(RedisStorage(app_redis)))
    assert (await client.get("/count")).status == 200
    await redis.execute_command("CLIENT", "PAUSE", "30000", "WRITE")
    try:
        resp = await asyncio.wait_for(client.get("/count"), 20)
        assert resp.status == 503
    finally:
        await redis.execute_command("CLIENT", "UNPAUSE")
    client.session.cookie_jar.clear()  # (the held SET may or may not have run)
    resp = await client.get("/count")
    assert (resp.status, await resp.text()) == (200, "1")
    await app_redis.aclose()


async def test_a_redis_subclass_keeps_redis_py_s_path(aiohttp_client: Any, redis_url: str) -> None:
    calls: list[str] = []

    class Counting(aioredis.Redis):
        async def get(self, name: Any) -> Any:  # type: ignore[override]
            calls.append("get")
            return await super().get(name)

    app_redis = Counting.from_url(redis_url)
    storage = RedisStorage(app_redis)
    assert storage._wire is None
    client = await aiohttp_client(count_app(storage))
    resp = await client.get("/count")
    cookie = {"AIOHTTP_SESSION": resp.cookies["AIOHTTP_SESSION"].value}
    resp = await client.get("/count", cookies=cookie)
    assert (resp.status, await resp.text(), calls) == (200, "2", ["get"])
    await app_redis.aclose()


@pytest.mark.parametrize(
    "pool",
    [
        lambda url: aioredis.BlockingConnectionPool.from_url(url, max_connections=1),
        lambda url: aioredis.ConnectionPool.from_url(url, max_connections=1),
    ],
    ids=["blocking", "bounded"],
)
async def test_a_bounded_pool_keeps_redis_py_s_path(
    aiohttp_client: Any, redis_url: str, pool: Any
) -> None:
    """The pipe keeps its connection: in a bounded pool that would be one fewer for
    the app's own commands (with max_connections=1, none)."""
    app_redis = aioredis.Redis(connection_pool=pool(redis_url))
    storage = RedisStorage(app_redis)
    assert storage._wire is None

    async def also_uses_redis(request: web.Request) -> None:
        await app_redis.incr("hits")

    client = await aiohttp_client(count_app(storage, before=also_uses_redis))
    for n in ("1", "2"):
        resp = await client.get("/count")
        assert (resp.status, await resp.text()) == (200, n)
    await app_redis.aclose()


async def test_a_cancelled_first_command_does_not_fail_the_others(
    redis_url: str, redis: aioredis.Redis
) -> None:
    """The first command on a fresh wire opens its connection for everyone waiting:
    its request going away (a client gone, a timeout) must not fail theirs."""
    await redis.set("ck", "v")
    app_redis = aioredis.Redis.from_url(redis_url)
    wire = RedisWire(app_redis)
    first = asyncio.ensure_future(wire.execute("GET", "ck"))
    others = [asyncio.ensure_future(wire.execute("GET", "ck")) for _ in range(5)]
    await asyncio.sleep(0)  # all of them waiting on the opening
    first.cancel()
    assert await asyncio.gather(*others) == [b"v"] * 5
    assert first.cancelled()
    await app_redis.aclose()


async def test_the_wire_s_replies_are_redis_py_s(redis_url: str, redis: aioredis.Redis) -> None:
    wire = RedisWire(redis)
    assert await wire.execute("SET", "wk", "v", "EX", 100) == b"OK"
    assert await wire.execute("GET", "wk") == await redis.get("wk") == b"v"
    assert await wire.execute("SET", "missing", "v", "XX") is None
    assert 0 < await redis.ttl("wk") <= 100
    assert await wire.execute("DEL", "wk") == 1
    assert await wire.execute("GET", "wk") is None
    with pytest.raises(ResponseError, match="wrong number of arguments"):
        await wire.execute("GET")
    assert await wire.execute("GET", "wk") is None  # in step after the error


# -- the RESP reader, on its own ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reply"),
    [
        (b"+OK\r\n", b"OK"),
        (b":42\r\n", 42),
        (b"$3\r\nabc\r\n", b"abc"),
        (b"$0\r\n\r\n", b""),
        (b"$-1\r\n", None),
        (b"_\r\n", None),
        (b"*2\r\n$1\r\na\r\n:1\r\n", [b"a", 1]),
        (b"*-1\r\n", None),
        (b"$4\r\na\r\nb\r\n", b"a\r\nb"),  # CRLF inside a bulk string
    ],
)
def test_parse_whole_replies(data: bytes, reply: Any) -> None:
    buf = bytearray(data + b"+next\r\n")
    assert parse(buf, 0) == (reply, len(data))
    for cut in range(len(data)):  # any prefix is incomplete, never misread
        assert parse(bytearray(data[:cut]), 0)[0] is _INCOMPLETE


def test_parse_error_reply() -> None:
    reply, end = parse(bytearray(b"-ERR no\r\n"), 0)
    assert isinstance(reply, ResponseError) and str(reply) == "ERR no" and end == 9


@pytest.mark.parametrize(
    "data", [b"?x\r\n", b"$abc\r\n", b":1.5\r\n", b"$1\r\nab\r\n", b"*1\r\n" * 20 + b":1\r\n"]
)
def test_parse_refuses_what_is_not_resp(data: bytes) -> None:
    with pytest.raises(Exception, match=r"reply|bulk|deep"):
        parse(bytearray(data), 0)


def test_pack() -> None:
    assert pack(("SET", "k", "é", "EX", 5), "utf-8") == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n$2\r\nEX\r\n$1\r\n5\r\n"
    )


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def abort(self) -> None:
        self.aborted = True

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        pass


class _Original(asyncio.Protocol):
    def __init__(self) -> None:
        self.lost = False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


async def test_the_pipe_matches_replies_in_order_across_reads() -> None:
    loop = asyncio.get_running_loop()
    pipe = _Pipe(None, _Original())
    transport = _Transport()
    pipe.take(transport)
    futures = [loop.create_future() for _ in range(3)]
    for future in futures:
        pipe.send(b"x", future)
    futures[1].cancel()  # its request went away: its reply is dropped, not shifted
    pipe.data_received(b"$1\r\na\r\n$1\r")
    assert futures[0].result() == b"a" and not futures[2].done()
    pipe.data_received(b"\nb\r\n-ERR c\r\n")
    assert isinstance(futures[2].exception(), ResponseError)
    assert not transport.aborted


async def test_garbage_or_an_unasked_reply_closes_the_pipe() -> None:
    loop = asyncio.get_running_loop()
    for data in (b"!bad\r\n", b"+OK\r\n+OK\r\n"):
        pipe = _Pipe(None, _Original())
        transport = _Transport()
        pipe.take(transport)
        future = loop.create_future()
        pipe.send(b"x", future)
        pipe.data_received(data)
        assert transport.aborted and pipe.closed
        if not future.done() or future.exception() is not None:
            with pytest.raises(RedisConnectionError):
                future.result()


async def test_a_lost_connection_fails_the_waiting_and_tells_redis_py() -> None:
    loop = asyncio.get_running_loop()
    original = _Original()
    pipe = _Pipe(None, original)
    pipe.take(_Transport())
    future = loop.create_future()
    pipe.send(b"x", future)
    pipe.connection_lost(None)
    with pytest.raises(RedisConnectionError, match="closed"):
        future.result()
    assert pipe.closed and original.lost
