"""A wire-level oracle: run one app on Squall and on aiohttp, compare the bytes.

Apps are functions of the ``web`` module (``factory(web) -> Application``), so the
same code runs on ``squall.web`` and ``aiohttp.web``. ``same(factory, request_bytes)``
serves the app on both, sends identical bytes over a plain socket to each, and asserts
the status line, the headers (but ``Date`` and ``Server``, in any order), the body and
what became of the connection are identical.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import test_utils as aiohttp_testing
from aiohttp import web as aiohttp_web

from squall import testing as squall_testing
from squall import web as squall_web

AppFactory = Callable[[Any], Any]
IGNORED = {"date", "server"}
PROBE = b"GET /__probe__ HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
TIMEOUT = 5.0


@dataclass(frozen=True)
class Reply:
    """One response as it crossed the wire, minus what may legitimately vary."""

    status_line: bytes
    headers: tuple[tuple[str, str], ...]  # sorted (name, value); Date and Server dropped
    body: bytes  # de-chunked when chunked
    after: str  # "closed", or the status line of a second request on the connection

    @property
    def status(self) -> int:
        return int(self.status_line.split(b" ")[1])

    def header(self, name: str) -> str | None:
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError(f"not JSON: {self.status_line!r} {self.body!r}") from None


def build(
    method: str,
    target: str,
    *,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    version: str = "1.1",
    host: str | None = "example.com",
) -> bytes:
    """Serialise one request; Host and Content-Length are added unless given."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in items}
    if host is not None and "host" not in names:
        items.insert(0, ("Host", host))
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        items.append(("Content-Length", str(len(body))))
    head = f"{method} {target} HTTP/{version}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in items)
    return head.encode("latin-1") + b"\r\n" + (body or b"")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            # trailers, up to the empty line
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return body
        body += (await reader.readexactly(size + 2))[:-2]


async def _read_one(
    reader: asyncio.StreamReader, method: str
) -> tuple[bytes, list[tuple[str, str]], bytes, bool]:
    """Read one response: (status line, header pairs, body, connection persists)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    status_line = lines[0]
    pairs: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        pairs.append((name, value.strip()))
    fields = {k.lower(): v for k, v in pairs}
    status = int(status_line.split(b" ")[1])
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    elif "content-length" in fields:
        body = await reader.readexactly(int(fields["content-length"]))
    else:
        body = await reader.read()  # delimited by the close
    connection = fields.get("connection", "").lower()
    if status_line.startswith(b"HTTP/1.0"):
        persistent = connection == "keep-alive"
    else:
        persistent = connection != "close"
    return status_line, pairs, body, persistent


async def _read_after(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, persistent: bool
) -> str:
    """What the connection does next: close, or answer one more request."""
    if not persistent:
        rest = await reader.read()
        return "closed" if rest == b"" else f"closed after extra bytes {rest!r}"
    try:
        writer.write(PROBE)
        await writer.drain()
        probe = await reader.read()
    except ConnectionError:
        probe = b""
    return probe.split(b"\r\n", 1)[0].decode("latin-1") if probe else "closed"


def _reply(status_line: bytes, pairs: list[tuple[str, str]], body: bytes, after: str) -> Reply:
    headers = tuple(sorted((k, v) for k, v in pairs if k.lower() not in IGNORED))
    return Reply(status_line, headers, body, after)


async def _read_replies(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, methods: list[str]
) -> list[Reply]:
    replies = []
    for i, method in enumerate(methods):
        status_line, pairs, body, persistent = await _read_one(reader, method)
        if i == len(methods) - 1 or not persistent:
            after = await _read_after(reader, writer, persistent)
        else:
            after = "next"
        replies.append(_reply(status_line, pairs, body, after))
        if not persistent:
            break
    return replies


async def exchange_all(port: int, requests: list[bytes]) -> list[Reply]:
    """Send ``requests`` pipelined in one write; read every response there is.

    The last reply's ``after`` says what the connection did next; the others say
    "next" (or "closed" when the server ended the connection early).
    """
    methods = [data.split(b" ", 1)[0].decode() for data in requests]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"".join(requests))
        await writer.drain()
        return await asyncio.wait_for(_read_replies(reader, writer, methods), TIMEOUT)
    finally:
        writer.close()


async def exchange(port: int, data: bytes) -> Reply:
    """Send ``data`` on a fresh connection and read the first response."""
    return (await exchange_all(port, [data]))[0]


@asynccontextmanager
async def serve(web: Any, factory: AppFactory) -> AsyncIterator[int]:
    """Serve ``factory(web)`` on 127.0.0.1 with the matching test server; yield the port."""
    app = factory(web)
    server: Any
    if web is squall_web:
        server = squall_testing.TestServer(app)
    else:
        server = aiohttp_testing.TestServer(app)
    await server.start_server()
    try:
        yield server.port
    finally:
        await server.close()


async def run_on(web: Any, factory: AppFactory, data: bytes) -> Reply:
    async with serve(web, factory) as port:
        return await exchange(port, data)


async def same_pipelined(factory: AppFactory, requests: list[bytes]) -> list[Reply]:
    """Squall's replies to pipelined requests, after asserting they equal aiohttp's."""
    async with serve(aiohttp_web, factory) as port:
        theirs = await exchange_all(port, requests)
    async with serve(squall_web, factory) as port:
        ours = await exchange_all(port, requests)
    assert ours == theirs, (
        "\n".join(
            f"#{i}\nsquall:  {render(a)}\naiohttp: {render(b)}"
            for i, (a, b) in enumerate(zip(ours, theirs, strict=False))
        )
        + f"\n(squall {len(ours)} replies, aiohttp {len(theirs)})"
    )
    return ours


async def same(factory: AppFactory, data: bytes) -> Reply:
    """Squall's reply, after asserting it equals aiohttp's."""
    theirs = await run_on(aiohttp_web, factory, data)
    ours = await run_on(squall_web, factory, data)
    assert ours == theirs, f"\nsquall:  {render(ours)}\naiohttp: {render(theirs)}"
    return ours


def render(reply: Reply) -> str:
    lines = [repr(reply.status_line)]
    lines += [f"  {k}: {v}" for k, v in reply.headers]
    lines += [f"  body: {reply.body!r}", f"  then: {reply.after}"]
    return "\n".join(lines)
