"""RedisStorage's commands pipelined on one connection borrowed from redis-py's pool.

PERF: through redis-py's asyncio client a command costs 34-41 µs of CPU on the
machine of docs/performance.md (``Redis.get``/``set``: the pool's lock and
observability hooks, the retry wrapper, the command and reply layers, a StreamReader);
a session request makes two (GET to load, SET or DEL to save). Here the same bytes go
out and come back for about a quarter of that: redis-py still makes the connection
(address, TLS, AUTH, SELECT, its connect timeout and retries, whatever the client was
built with), then this module takes that connection's transport over with its own
protocol. Commands of concurrent requests are written back to back without waiting
(RESP is pipelined: Redis answers in order) and each reply resolves the oldest
waiting future.

The connection stays borrowed from the pool while it lives (so only a pool of 16
connections or more is used this way, see ``RedisWire.usable``); ``Redis.aclose()``
(or the pool's ``disconnect()``) closes it as any of the pool's connections, and the
next command borrows a new one. The opening runs in a task of its own, so a request
that goes away while it waits does not fail the others waiting with it. The commands
waiting on a connection that closes are sent once more on a new one (the three are
idempotent); a second failure, or a failure to connect, is the storage's 503.

SECURITY: a reply that is not RESP, or a reply nobody waits for, closes the connection
(the order of replies can no longer be trusted); with ``socket_timeout`` set on the
client, a command not answered within it fails and closes the connection too.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Reply = bytes | int | None | list[Any]

_INCOMPLETE = object()
_MIN_POOL = 16  # a pool this big or bigger can spare the connection kept here
_MAX_DEPTH = 8  # arrays in arrays: none of the three commands' replies has one


class _ProtocolError(Exception):
    """Bytes from Redis that are not a RESP reply."""


class _Closed(RedisConnectionError):
    """The connection closed with the command's reply still to come."""


def pack(args: tuple[str | bytes | int, ...], encoding: str) -> bytes:
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode(encoding)
        out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(out)


def parse(buf: bytearray, pos: int, depth: int = 0) -> tuple[Any, int]:
    """The reply at ``buf[pos:]`` and where it ends; ``(_INCOMPLETE, pos)`` when its
    bytes are not all there yet. An error reply is returned as a ResponseError."""
    if depth > _MAX_DEPTH:
        raise _ProtocolError("arrays nested too deep")
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return _INCOMPLETE, pos
    kind = buf[pos]
    line = bytes(buf[pos + 1 : end])
    after = end + 2
    try:
        if kind == 0x24:  # "$" bulk string, "$-1" nil
            size = int(line)
            if size < 0:
                return None, after
            if len(buf) < after + size + 2:
                return _INCOMPLETE, pos
            if buf[after + size : after + size + 2] != b"\r\n":
                raise _ProtocolError("bulk string without its CRLF")
            return bytes(buf[after : after + size]), after + size + 2
        if kind == 0x2B:  # "+" simple string
            return line, after
        if kind == 0x3A:  # ":" integer
            return int(line), after
        if kind == 0x2D:  # "-" error
            return ResponseError(line.decode("utf-8", "replace")), after
        if kind == 0x5F:  # "_" RESP3 null
            return None, after
        if kind == 0x2A:  # "*" array (of replies), "*-1" nil
            count = int(line)
            if count < 0:
                return None, after
            items = []
            for _ in range(count):
                item, after = parse(buf, after, depth + 1)
                if item is _INCOMPLETE:
                    return _INCOMPLETE, pos
                items.append(item)
            return items, after
    except ValueError:  # int() of something that is not a number
        raise _ProtocolError(f"bad reply header {line[:32]!r}") from None
    raise _ProtocolError(f"unknown reply type {bytes([kind])!r}")


class _Pipe(asyncio.Protocol):
    """The protocol put on the borrowed connection's transport."""

    def __init__(self, conn: Any, original: asyncio.BaseProtocol) -> None:
        self.conn = conn  # redis-py's Connection, given back to the pool when done
        self._original = original  # redis-py's StreamReaderProtocol: told when it closes
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self.closed = False

    def take(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        transport.set_protocol(self)

    def send(self, data: bytes, future: asyncio.Future[Any]) -> None:
        assert self._transport is not None
        self._waiting.append(future)
        self._transport.write(data)

    def data_received(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        pos = 0
        waiting = self._waiting
        try:
            while pos < len(buf):
                reply, end = parse(buf, pos)
                if reply is _INCOMPLETE:
                    break
                if not waiting:
                    raise _ProtocolError("a reply nobody asked for")
                pos = end
                future = waiting.popleft()
                if future.done():  # its request was cancelled: the reply is dropped
                    continue
                if isinstance(reply, ResponseError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except _ProtocolError as exc:
            self.abort(_Closed(f"Protocol error from Redis: {exc}"))
            return
        del buf[:pos]

    def abort(self, exc: Exception) -> None:
        """Close the connection and fail what waits on it."""
        self._fail(exc)
        if self._transport is not None:
            self._transport.abort()

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        waiting = self._waiting
        while waiting:
            future = waiting.popleft()
            if not future.done():
                future.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(_Closed("Connection closed by Redis" if exc is None else str(exc)))
        self._buffer.clear()
        # redis-py's wait_closed() returns; it is told of an OSError, nothing else
        self._original.connection_lost(exc if isinstance(exc, OSError) else None)

    def eof_received(self) -> bool | None:
        return None  # close: Redis is gone

    def pause_writing(self) -> None:
        pass  # bounded by the requests waiting on replies

    def resume_writing(self) -> None:
        pass


class RedisWire:
    """GET/SET/DEL for one ``redis.asyncio.Redis``, pipelined on a connection of its pool."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._pool = client.connection_pool
        kwargs = self._pool.connection_kwargs
        self._encoding = str(kwargs.get("encoding") or "utf-8")
        self._timeout: float | None = kwargs.get("socket_timeout")
        self._pipe: _Pipe | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Task[_Pipe] | None = None

    @staticmethod
    def usable(client: object) -> bool:
        """True for a plain ``redis.asyncio.Redis`` over one of redis-py's pools of at
        least ``_MIN_POOL`` connections (``Redis.from_url()`` makes 100): a subclass
        (or a wrapped client) may change what its commands do, and in a small pool
        the connection kept here would be a large share of what the app's own
        commands can have (with ``max_connections=1``, all of it); those keep
        redis-py's path."""
        if type(client) is not aioredis.Redis:
            return False
        pool = client.connection_pool
        return (
            type(pool) in (aioredis.ConnectionPool, aioredis.BlockingConnectionPool)
            and pool.max_connections >= _MIN_POOL
        )

    async def execute(self, *args: str | bytes | int) -> Any:
        """Send one command; its reply (a ResponseError reply raised).

        A command whose connection closes before its reply is sent once more on a
        new one (a restarted Redis, an idle connection Redis dropped: closes this
        side learns of only when it next reads); the three commands are idempotent,
        as redis-py's retry assumes of every command."""
        data = pack(args, self._encoding)
        try:
            return await self._send(data)
        except _Closed:  # not a failure to connect: that is redis-py's to retry
            return await self._send(data)

    async def _send(self, data: bytes) -> Any:
        loop = asyncio.get_running_loop()
        pipe = self._pipe
        if pipe is None or pipe.closed or self._loop is not loop:
            pipe = await self._open(loop)
        future: asyncio.Future[Any] = loop.create_future()
        pipe.send(data, future)
        timeout = self._timeout
        if not timeout:
            return await future
        timer = loop.call_later(timeout, _expire, pipe, future)
        try:
            return await future
        finally:
            timer.cancel()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Pipe:
        """A pipe on a newly borrowed connection, opened by a task of its own that
        every caller waits on: one caller's cancellation cannot fail the others."""
        opening = self._opening
        if opening is None or self._loop is not loop:
            old = self._pipe if self._loop is loop else None  # another loop's: dropped
            self._loop = loop
            self._pipe = None
            opening = self._opening = loop.create_task(self._replace(old))
            opening.add_done_callback(self._opened)
        return await asyncio.shield(opening)

    async def _replace(self, old: _Pipe | None) -> _Pipe:
        if old is not None:  # closed: back to the pool, which may reconnect it
            await old.conn.disconnect(nowait=True)
            await self._pool.release(old.conn)
        return await self._borrow()

    def _opened(self, task: asyncio.Task[_Pipe]) -> None:
        if self._opening is task:
            self._opening = None
            if not task.cancelled() and task.exception() is None:
                self._pipe = task.result()
        elif not task.cancelled():
            task.exception()  # retrieved: nobody may be waiting any more

    async def _borrow(self) -> _Pipe:
        pool: Any = self._pool  # get_connection() is untyped
        try:
            conn = await pool.get_connection()
        except TypeError:  # pragma: no cover - redis-py before 5.3 names the command
            conn = await pool.get_connection("GET")
        try:
            await conn.connect()  # already connected by the pool on redis-py >= 5.3
            writer = getattr(conn, "_writer", None)
            reader = getattr(conn, "_reader", None)
            transport = None if writer is None else writer.transport
            if transport is None or transport.is_closing():
                raise RedisConnectionError("Connection closed while opening")
            if reader is not None and getattr(reader, "_buffer", None):
                raise RedisConnectionError("Unread bytes on a new connection")
        except BaseException:
            await pool.release(conn)
            raise
        pipe = _Pipe(conn, transport.get_protocol())
        pipe.take(transport)
        return pipe


def _expire(pipe: _Pipe, future: asyncio.Future[Any]) -> None:
    """A command not answered within ``socket_timeout``: the replies after it cannot
    be matched any more, so the connection goes with it."""
    if not future.done():
        pipe.abort(RedisTimeoutError("Timeout reading from Redis"))


__all__ = ["RedisWire", "pack", "parse"]
