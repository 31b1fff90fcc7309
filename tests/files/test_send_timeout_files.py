"""send_timeout covers files sent by sendfile(2): a client that stops reading a
large file is dropped, and the handler is told with a ConnectionResetError.

sendfile(2) writes past the transport, whose buffer stays empty, so the server's
send_timeout sweep never saw such a connection: the handler, the open file and
the connection were held for ever. The client here has a 4 KiB receive buffer and
never reads; the tests await what the server does (bounded waits, no timing).
Each test runs on both loops (conftest).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from squall import web
from squall.framework import fileresponse
from squall.framework.fileresponse import FileResponse
from tests.conftest import run_app_on_a_port

TIMEOUT = 30.0  # hang guard only, never a measure
LIMIT = 0.5  # send_timeout under test
SIZE = 16 * 2**20  # far more than loopback's socket buffers take while nobody reads


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * (SIZE // 256))
    return path


serve = run_app_on_a_port


@asynccontextmanager
async def non_reading_client(port: int, target: str) -> AsyncIterator[asyncio.StreamReader]:
    """A client with a 4 KiB receive buffer that asked for ``target`` and reads nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    try:
        yield reader
    finally:
        writer.transport.abort()


async def read_to_the_end(reader: asyncio.StreamReader) -> int:
    """Read what the server sent until it ends the connection; the bytes read."""
    total = 0
    try:
        while chunk := await asyncio.wait_for(reader.read(2**20), TIMEOUT):
            total += len(chunk)
    except ConnectionResetError:
        pass
    return total


async def test_handler_sending_a_file_nobody_reads_is_told(big: Path) -> None:
    """FileResponse to a client that never reads: the handler's prepare() fails with
    ConnectionResetError after send_timeout, the connection is aborted (before the
    fix: RECHECK after RECHECK, for ever)."""
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[BaseException | None] = loop.create_future()

    async def handler(request: web.Request) -> web.StreamResponse:
        response = FileResponse(big)
        try:
            await response.prepare(request)
        except BaseException as exc:
            if not outcome.done():  # (a hang guard that ran out cancelled it)
                outcome.set_result(exc)
            raise
        if not outcome.done():
            outcome.set_result(None)
        return response

    app = web.Application()
    app.router.add_get("/f", handler)
    async with serve(app, send_timeout=LIMIT) as (runner, port):
        async with non_reading_client(port, "/f") as reader:
            exc = await asyncio.wait_for(outcome, TIMEOUT)
            assert isinstance(exc, ConnectionResetError), exc
            assert "Send timed out" in str(exc)
            got = await read_to_the_end(reader)  # ends: the server aborted it
            assert got < SIZE
            assert not runner.server.connections


async def test_static_file_nobody_reads_is_dropped(
    big: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through a static route (the server prepares the response after
    the handler returned: a spy on the zero-copy send sees how it ends); the
    connection ends and its slot is free for the next client."""
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
    real = fileresponse._zero_copy

    async def spy(*args: Any) -> int | None:
        try:
            return await real(*args)
        except BaseException as exc:
            if not outcome.done():  # (a hang guard that ran out cancelled it)
                outcome.set_result(exc)
            raise

    monkeypatch.setattr(fileresponse, "_zero_copy", spy)
    app = web.Application()
    app.router.add_static("/s", big.parent)
    async with serve(app, send_timeout=LIMIT, max_connections=1) as (runner, port):
        async with non_reading_client(port, "/s/big.bin") as reader:
            exc = await asyncio.wait_for(outcome, TIMEOUT)
            assert isinstance(exc, ConnectionResetError), exc
            got = await read_to_the_end(reader)
            assert got < SIZE
            assert not runner.server.connections
        # the one connection slot is free again: a new client is served
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /s/big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert head.startswith(b"HTTP/1.1 206 "), head
        assert await asyncio.wait_for(reader.readexactly(10), TIMEOUT) == bytes(range(10))
        writer.close()


async def test_a_client_that_reads_gets_the_whole_file(big: Path) -> None:
    """A small send_timeout does not cut a client that reads."""
    app = web.Application()
    app.router.add_static("/s", big.parent)
    async with serve(app, send_timeout=LIMIT) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /s/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert await read_to_the_end(reader) == SIZE
        writer.close()
