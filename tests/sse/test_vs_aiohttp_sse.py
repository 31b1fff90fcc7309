"""Differential: the same event-stream app on aiohttp + aiohttp-sse and on Squall,
compared byte for byte on a raw socket (status line, headers but Date/Server, the
de-chunked stream, what the connection does next). Ported from aiohttp-sse's
tests/test_sse.py. aiohttp's ``Connection: keep-alive`` (the handler's header,
sent as is) is the one difference: Squall writes its own Connection field."""

from __future__ import annotations

from typing import Any

import pytest

from framework._wire import Reply, build, exchange, render, serve

from .conftest import AIOHTTP, SQUALL

Factory = Any  # (web, sse) -> Application


def _without_connection(reply: Reply) -> Reply:
    headers = tuple(kv for kv in reply.headers if kv != ("Connection", "keep-alive"))
    return Reply(reply.status_line, headers, reply.body, reply.after)


async def same(factory: Factory, data: bytes) -> Reply:
    got = []
    for stack in (AIOHTTP, SQUALL):
        async with serve(stack.web, lambda web, s=stack: factory(web, s.sse)) as port:
            got.append(await exchange(port, data))
    theirs, ours = got
    assert ("Connection", "keep-alive") not in ours.headers
    assert ours == _without_connection(theirs), (
        f"\nsquall:  {render(ours)}\naiohttp: {render(theirs)}"
    )
    return ours


def app_of(stream: Any, method: str = "GET", path: str = "/") -> Factory:
    """An app whose handler runs ``stream(sse_module, request)`` and returns its response."""

    def factory(web: Any, sse: Any) -> Any:
        async def handler(request: Any) -> Any:
            return await stream(sse, request)

        app = web.Application()
        app.router.add_route(method, path, handler)
        return app

    return factory


async def _four_events(resp: Any) -> None:
    await resp.send("foo")
    await resp.send("foo", event="bar")
    await resp.send("foo", event="bar", id="xyz")
    await resp.send("foo", event="bar", id="xyz", retry=1)


FOUR = (
    b"data: foo\r\n\r\n"
    b"event: bar\r\ndata: foo\r\n\r\n"
    b"id: xyz\r\nevent: bar\r\ndata: foo\r\n\r\n"
    b"id: xyz\r\nevent: bar\r\ndata: foo\r\nretry: 1\r\n\r\n"
)


async def test_context_manager() -> None:
    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request, headers={"X-SSE": "aiohttp_sse"}) as resp:
            await _four_events(resp)
        return resp

    reply = await same(app_of(stream), build("GET", "/"))
    assert reply.body == FOUR
    assert reply.header("Content-Type") == "text/event-stream"
    assert reply.header("Cache-Control") == "no-cache"
    assert reply.header("X-Accel-Buffering") == "no"
    assert reply.header("X-SSE") == "aiohttp_sse"
    assert reply.header("Transfer-Encoding") == "chunked"
    assert reply.after == "HTTP/1.1 404 Not Found"  # the connection is reused


async def test_without_sse_response() -> None:
    async def stream(sse: Any, request: Any) -> Any:
        resp = sse.EventSourceResponse(headers={"X-SSE": "aiohttp_sse"})
        await resp.prepare(request)
        await _four_events(resp)
        resp.stop_streaming()
        await resp.wait()
        return resp

    assert (await same(app_of(stream), build("GET", "/"))).body == FOUR


@pytest.mark.parametrize("sep", ["\n", "\r", "\r\n"], ids=["LF", "CR", "CRLF"])
@pytest.mark.parametrize("line_sep", ["\n", "\r", "\r\n"], ids=["LF", "CR", "CRLF"])
async def test_multiline_data(sep: str, line_sep: str) -> None:
    """HTML 9.2.6: every line break in data starts a new ``data:`` line."""

    async def stream(sse: Any, request: Any) -> Any:
        lines = line_sep.join(["foo", "bar", "", "xyz"])
        async with sse.sse_response(request, sep=sep) as resp:
            await resp.send(lines, event="bar", id="xyz", retry=1)
            await resp.send(line_sep)
            await resp.send("")
        return resp

    reply = await same(app_of(stream), build("GET", "/"))
    s = sep.encode()
    assert reply.body == (
        b"id: xyz" + s + b"event: bar" + s
        + b"data: foo" + s + b"data: bar" + s + b"data: " + s + b"data: xyz" + s
        + b"retry: 1" + s + s
        + b"data: " + s + b"data: " + s + s
        + b"data: " + s + s
    )  # fmt: skip


async def test_unicode_and_status() -> None:
    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request, status=201, reason="Streaming") as resp:
            await resp.send("żółw ☃", event="ünï")
        return resp

    reply = await same(app_of(stream), build("GET", "/"))
    assert reply.status_line == b"HTTP/1.1 201 Streaming"
    assert reply.body == "event: ünï\r\ndata: żółw ☃\r\n\r\n".encode()


async def test_last_event_id() -> None:
    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request) as resp:
            await resp.send(str(resp.last_event_id))
        return resp

    factory = app_of(stream)
    assert (await same(factory, build("GET", "/"))).body == b"data: None\r\n\r\n"
    got = await same(factory, build("GET", "/", headers={"Last-Event-ID": "42"}))
    assert got.body == b"data: 42\r\n\r\n"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_other_methods(method: str) -> None:
    """aiohttp-sse 3.0: GET only, unless ``allow_all_methods``."""

    async def refused(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request) as resp:
            await resp.send("foo")
        return resp

    async def allowed(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request, allow_all_methods=True) as resp:
            await resp.send("foo")
        return resp

    no = await same(app_of(refused, method), build(method, "/", body=b""))
    assert no.status == 405 and no.header("Allow") == "GET"
    yes = await same(app_of(allowed, method), build(method, "/", body=b""))
    assert yes.status == 200 and yes.body == b"data: foo\r\n\r\n"


async def test_head_is_refused_too() -> None:
    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request) as resp:
            await resp.send("foo")
        return resp

    reply = await same(app_of(stream, "GET"), build("HEAD", "/"))  # add_route: no HEAD
    assert reply.status == 405


async def test_http10_client() -> None:
    """No chunks for HTTP/1.0: the stream ends with the connection."""

    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request) as resp:
            await resp.send("foo")
        return resp

    reply = await same(app_of(stream), build("GET", "/", version="1.0"))
    assert reply.body == b"data: foo\r\n\r\n"
    assert reply.header("Transfer-Encoding") is None
    assert reply.after == "closed"


async def test_bad_fields_refused_before_a_byte() -> None:
    """id/event with a line break (or an id with NUL) would forge fields: ValueError."""

    async def stream(sse: Any, request: Any) -> Any:
        errors = []
        async with sse.sse_response(request) as resp:
            for kwargs in (
                {"id": "a\nb"},
                {"id": "a\rretry: 1"},
                {"id": "a\0b"},
                {"event": "x\r\ndata: forged"},
                {"retry": -1},
            ):
                try:
                    await resp.send("ok", **kwargs)
                except ValueError as exc:
                    errors.append(str(exc))
            await resp.send(", ".join(errors))
        return resp

    reply = await same(app_of(stream), build("GET", "/"))
    assert reply.body == (
        b"data: id must not contain line separators or null characters, "
        b"id must not contain line separators or null characters, "
        b"id must not contain line separators or null characters, "
        b"event must not contain line separators, retry must not be negative\r\n\r\n"
    )


async def test_custom_response_class() -> None:
    async def stream(sse: Any, request: Any) -> Any:
        class Custom(sse.EventSourceResponse):  # type: ignore[name-defined,misc]
            async def send(self, data: str, **kwargs: Any) -> None:
                await super().send(data.upper(), **kwargs)

        async with sse.sse_response(request, response_cls=Custom) as resp:
            assert type(resp) is Custom
            await resp.send("foo")
        return resp

    assert (await same(app_of(stream), build("GET", "/"))).body == b"data: FOO\r\n\r\n"
