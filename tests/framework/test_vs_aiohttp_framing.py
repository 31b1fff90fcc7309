"""Response framing against aiohttp 3.14, where aiohttp's bytes are the right ones.

The cases of issue 17's "Wire format and framing" on which aiohttp behaves well:
the same app runs on both servers, the same pipelined bytes go to each, and the
replies (and what the connection does after them) must be equal. Each app runs with
handlers that never suspend (answered in place) and with handlers that await first
(run in a Task). Where Squall does better than aiohttp on purpose, the case lives in
``tests/server/test_framing_regressions.py`` instead.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web

from ._wire import build, same, same_pipelined, serve

OK = build("GET", "/ok")


async def _stay() -> None:
    """Awaited, but never suspends."""


def app_framing(web: Any, *, suspend: bool) -> Any:
    pause = (lambda: asyncio.sleep(0)) if suspend else _stay

    async def ok(request: Any) -> Any:
        await pause()
        return web.Response(text="ok")

    async def chunked(request: Any) -> Any:
        await pause()
        resp = web.Response(text="hello")
        resp.enable_chunked_encoding()
        if "close" in request.query:
            resp.force_close()
        return resp

    async def stream_bodiless(request: Any) -> Any:
        await pause()
        resp = web.StreamResponse(status=int(request.query["status"]))
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        return resp

    async def stream_te(request: Any) -> Any:
        await pause()
        resp = web.StreamResponse(headers={request.query["name"]: "chunked"})
        await resp.prepare(request)
        await resp.write(b"abc")
        await resp.write(b"def")
        return resp

    async def stream(request: Any) -> Any:
        await pause()
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"abc")
        return resp

    async def bodiless_lower(request: Any) -> Any:
        await pause()
        headers = {"content-length": "5", "transfer-encoding": "chunked", "x-kept": "1"}
        return web.Response(status=int(request.query["status"]), headers=headers)

    async def ctype_trap(request: Any) -> Any:
        await pause()
        return web.Response(body=b"hello", content_type="text/Content-Length: 99")

    async def untyped(request: Any) -> Any:
        await pause()
        return web.Response(body=b"" if "empty" in request.query else b"bin")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/__probe__", ok)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/stream-bodiless", stream_bodiless)
    app.router.add_get("/stream-te", stream_te)
    app.router.add_get("/stream", stream)
    app.router.add_get("/bodiless-lower", bodiless_lower)
    app.router.add_get("/ctype-trap", ctype_trap)
    app.router.add_get("/untyped", untyped)
    return app


@pytest.fixture(params=[False, True], ids=["in-place", "task"])
def factory(request: pytest.FixtureRequest) -> Any:
    return partial(app_framing, suspend=request.param)


# item 1
async def test_head_to_a_chunked_response_then_get(factory: Any) -> None:
    replies = await same_pipelined(factory, [build("HEAD", "/chunked"), OK, OK])
    assert [r.status for r in replies] == [200, 200, 200]
    assert replies[0].header("Transfer-Encoding") is None
    assert [r.body for r in replies] == [b"", b"ok", b"ok"]


# item 1
@pytest.mark.parametrize("status", [204, 304])
async def test_bodiless_stream_with_chunking_then_get(factory: Any, status: int) -> None:
    replies = await same_pipelined(factory, [build("GET", f"/stream-bodiless?status={status}"), OK])
    assert [r.status for r in replies] == [status, 200]
    assert replies[1].body == b"ok"


# item 2
@pytest.mark.parametrize("name", ["Transfer-Encoding", "transfer-encoding"])
async def test_handler_transfer_encoding_on_a_stream(factory: Any, name: str) -> None:
    replies = await same_pipelined(factory, [build("GET", f"/stream-te?name={name}"), OK])
    assert replies[0].header_all("Transfer-Encoding") == ["chunked"]
    assert (replies[0].body, replies[1].body) == (b"abcdef", b"ok")


# item 3 (a plain stream; asked for chunking, aiohttp answers 500, and asked for
# keep-alive it leaves the body undelimited: Squall's side of both is in
# tests/server/test_framing_regressions.py)
async def test_stream_to_http10(factory: Any) -> None:
    reply = await same(factory, build("GET", "/stream", version="1.0"))
    assert reply.header("Transfer-Encoding") is None
    assert (reply.body, reply.after) == (b"abc", "closed")


# item 6
@pytest.mark.parametrize("status", [204, 304])
async def test_bodiless_response_with_lowercase_framing_fields(factory: Any, status: int) -> None:
    replies = await same_pipelined(factory, [build("GET", f"/bodiless-lower?status={status}"), OK])
    assert replies[0].header("Content-Length") is None
    assert replies[0].header("x-kept") == "1"
    assert replies[1].body == b"ok"


# item 7
async def test_chunked_response_with_force_close(factory: Any) -> None:
    replies = await same_pipelined(factory, [build("GET", "/chunked?close"), OK])
    assert len(replies) == 1
    assert (replies[0].header("Connection"), replies[0].body) == ("close", b"hello")
    assert replies[0].after == "closed"


# item 8
async def test_content_type_holding_content_length_text(factory: Any) -> None:
    request = build("GET", "/ctype-trap")
    replies = await same_pipelined(factory, [request, request, OK])
    assert [r.header("Content-Length") for r in replies] == ["5", "5", "2"]
    assert [r.body for r in replies] == [b"hello", b"hello", b"ok"]


# item 8: the head built around the length slot, with and without a default type
async def test_simple_heads_without_a_content_type(factory: Any) -> None:
    untyped, empty = build("GET", "/untyped"), build("GET", "/untyped?empty")
    replies = await same_pipelined(factory, [untyped, empty, untyped, empty, OK])
    assert [r.header("Content-Type") for r in replies[:2]] == ["application/octet-stream", None]
    assert [r.body for r in replies] == [b"bin", b"", b"bin", b"", b"ok"]


# F7
async def test_half_close_mid_body() -> None:
    """``Content-Length: 5``, two bytes, then EOF: aiohttp closes without a word."""

    def factory(web: Any) -> Any:
        async def echo(request: Any) -> Any:
            return web.Response(body=await request.read())

        app = web.Application()
        app.router.add_post("/", echo)
        return app

    async def half_close(web: Any) -> bytes:
        async with serve(web, factory) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(build("POST", "/", headers={"Content-Length": "5"}, body=b"ab"))
                writer.write_eof()
                return await asyncio.wait_for(reader.read(), 5.0)
            finally:
                writer.close()

    theirs = await half_close(aiohttp_web)
    ours = await half_close(squall_web)
    assert ours == theirs == b""


# item 14: a Response without a body has body and text None, as in aiohttp
@pytest.mark.parametrize("webmod", [squall_web, aiohttp_web], ids=["squall", "aiohttp"])
def test_body_and_text_are_none_until_given(webmod: Any) -> None:
    web = webmod
    for resp in (
        web.Response(),
        web.Response(body=None),
        web.Response(status=204, headers={"X-A": "1"}),
        web.Response(content_type="text/html"),
        web.HTTPNoContent(),
        web.HTTPNotModified(),
        web.json_response(),
    ):
        assert (resp.body, resp.text, resp.content_length) == (None, None, 0), resp
    assert (web.Response(body=b"").body, web.Response(body=b"").text) == (b"", "")
    assert (web.Response(text="").body, web.Response(text="").text) == (b"", "")
    assert web.HTTPNoContent(text="").text == ""
    assert web.HTTPNotFound().text == "404: Not Found"
    resp = web.Response(text="x")
    resp.body = None
    assert (resp.body, resp.text) == (None, None)
    resp.text = "back"
    assert (resp.body, resp.text) == (b"back", "back")
    resp = web.Response()
    resp.body = b"set"
    assert (resp.body, resp.text) == (b"set", "set")
