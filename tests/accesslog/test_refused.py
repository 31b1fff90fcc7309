"""Requests the server refuses by itself (no handler ran) reach the access log too,
as on aiohttp: ``"UNKNOWN / HTTP/1.0" <status>``, so probing and smuggling attempts
do not vanish from it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web

from .test_accesslog import Capture, new_logger

FORMAT = '"%r" %s "%{User-Agent}i" %{Content-Length}o'
REFUSED = [
    b"GET /x HTTP/1.1\r\n\r\n",  # no Host
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # target too long
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",  # field too long
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x1bb\r\n\r\n",  # a control byte
]


async def send(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def lines_of(web_mod: Any, logger: logging.Logger, capture: Capture) -> list[str]:
    async def hello(request: Any) -> Any:
        return web_mod.Response(text="hello")

    app = web_mod.Application()
    app.router.add_get("/", hello)
    runner = web_mod.AppRunner(app, access_log=logger, access_log_format=FORMAT)
    await runner.setup()
    site = web_mod.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        answers = [await send(port, data) for data in REFUSED]
        assert all(a.split(b" ")[1].startswith(b"4") for a in answers), answers
        ok = await send(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert ok.endswith(b"hello")  # the server goes on serving
        records = await capture.wait(len(REFUSED) + 1)
    finally:
        await runner.cleanup()
    return [r.getMessage() for r in records]


async def test_refused_requests_are_logged_as_on_aiohttp() -> None:
    ours_logger, ours_capture = new_logger()
    ours = await lines_of(web, ours_logger, ours_capture)
    theirs_logger, theirs_capture = new_logger()
    theirs = await lines_of(aiohttp_web, theirs_logger, theirs_capture)
    # the same lines, but the status where Squall is stricter (414/431 vs 400)
    # and the length of the error text
    shape = [line.split('" ', 1)[0] for line in ours]
    assert shape == [line.split('" ', 1)[0] for line in theirs]
    assert shape[: len(REFUSED)] == ['"UNKNOWN / HTTP/1.0'] * len(REFUSED)
    statuses = [int(line.split('" ', 1)[1].split(" ")[0]) for line in ours]
    assert statuses == [400, 414, 431, 400, 400, 200]
    assert ours[-1].startswith('"GET / HTTP/1.1" 200')


async def test_refused_lines_follow_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    logger, capture = new_logger(level=logging.WARNING)
    app = web.Application()
    runner = web.AppRunner(app, access_log=logger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        assert runner.server.on_error_response is None  # type: ignore[union-attr]
        await send(runner.addresses[0][1], REFUSED[0])
    finally:
        await runner.cleanup()
    assert capture.records == []
