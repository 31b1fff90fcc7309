"""A handler that prepares a FileResponse itself after its client went away is
told so with a ConnectionResetError ("Connection lost"), as on aiohttp, whatever
the file's size (aiohttp's test_sendfile_after_client_disconnect)."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web

from .conftest import names

HEAD = b"POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"


async def prepare_after_reset(web: Any, path: Path) -> BaseException | None:
    """What ``prepare()`` raised in a handler whose client reset the connection."""
    loop = asyncio.get_running_loop()
    started: asyncio.Future[None] = loop.create_future()
    outcome: asyncio.Future[BaseException | None] = loop.create_future()

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            started.set_result(None)
            try:
                await request.read()  # ends with the connection: the client reset it
            except Exception:  # each server names this error its own way
                pass
            response = names(web).FileResponse(path)
            try:
                await response.prepare(request)
            except BaseException as exc:  # what the test looks at
                outcome.set_result(exc)
                raise
            outcome.set_result(None)
            return response

        app = web.Application()
        app.router.add_post("/f", handler)
        return app

    # run_app's settings (aiohttp's TestServer cancels a handler whose client left)
    runner = web.AppRunner(factory(web))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEAD)
        await writer.drain()
        await asyncio.wait_for(started, 5)  # the handler runs: the reset reaches it
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()  # SO_LINGER 0: a reset, not a polite close
        return await asyncio.wait_for(outcome, 5)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("name", ["hello.txt", "big.bin"])
async def test_prepare_after_the_client_reset(root: Path, name: str) -> None:
    theirs = await prepare_after_reset(aiohttp_web, root / name)
    assert isinstance(theirs, ConnectionResetError)
    ours = await prepare_after_reset(squall_web, root / name)
    assert isinstance(ours, ConnectionResetError), ours
    assert "Connection lost" in str(ours)
