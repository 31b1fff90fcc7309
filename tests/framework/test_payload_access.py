"""A request body read after the response was sent raises web.PayloadAccessError,
as on aiohttp: what had not arrived by then was dropped, never silently cut short."""

from __future__ import annotations

import asyncio

import pytest

import squall
from squall import web
from squall.testing import TestServer


@pytest.mark.parametrize("waiting", [False, True], ids=["reads-after", "waits-across"])
async def test_reading_after_the_response_raises(waiting: bool) -> None:
    outcome: asyncio.Future[BaseException | bytes] = asyncio.get_running_loop().create_future()

    async def read_later(request: web.Request) -> None:
        try:
            outcome.set_result(await request.read())
        except BaseException as exc:  # the outcome is the assertion
            outcome.set_result(exc)

    async def handler(request: web.Request) -> web.Response:
        task = asyncio.create_task(read_later(request))
        request.app[tasks].append(task)
        if waiting:  # the reader is waiting for the rest when the handler answers
            for _ in range(3):
                await asyncio.sleep(0)
        return web.Response(text="answered before the body")

    tasks = web.AppKey("tasks", list)
    app = web.Application()
    app[tasks] = []
    app.router.add_post("/", handler)
    server = TestServer(app)
    await server.start_server()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf.")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200 OK")
        result = await asyncio.wait_for(outcome, 5)
        writer.close()
    finally:
        await server.close()
    assert isinstance(result, web.PayloadAccessError)


@pytest.mark.parametrize("name", sorted(squall._LAZY))
def test_top_level_names_as_aiohttp(name: str) -> None:
    import aiohttp

    assert hasattr(aiohttp, name)
    ours, theirs = getattr(squall, name), getattr(aiohttp, name)
    assert isinstance(ours, type) == isinstance(theirs, type)
    with pytest.raises(AttributeError):
        squall.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
