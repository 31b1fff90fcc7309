"""Response and StreamResponse: construction rules, properties, and streaming on the wire.

Construction tests run on both ``squall.web`` and ``aiohttp.web`` (``webmod``).
"""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any

import pytest

from ._wire import build, exchange, serve

# -- constructor rules -------------------------------------------------------------------


def test_body_and_text_together(webmod: Any) -> None:
    with pytest.raises(ValueError, match="body and text are not allowed together"):
        webmod.Response(body=b"a", text="a")


def test_charset_inside_content_type(webmod: Any) -> None:
    with pytest.raises(ValueError, match="charset must not be in content_type argument"):
        webmod.Response(text="a", content_type="text/plain; charset=utf-8")


def test_content_type_may_carry_other_parameters(webmod: Any) -> None:
    resp = webmod.Response(text="a", content_type="text/plain; format=flowed")
    assert resp.headers["Content-Type"] == "text/plain; format=flowed; charset=utf-8"
    resp = webmod.Response(body=b"--x--", content_type="multipart/mixed; boundary=x")
    assert resp.headers["Content-Type"] == "multipart/mixed; boundary=x"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"text": "a", "content_type": "text/html"},
        {"text": "a", "charset": "latin-1"},
        {"body": b"a", "content_type": "text/html"},
        {"body": b"a", "charset": "latin-1"},
    ],
)
def test_content_type_header_and_arguments(webmod: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="passing both Content-Type header and"):
        webmod.Response(headers={"Content-Type": "text/plain"}, **kwargs)


@pytest.mark.parametrize("text", [b"bytes", 1, ["a"]])
def test_text_must_be_str(webmod: Any, text: Any) -> None:
    with pytest.raises(TypeError):
        webmod.Response(text=text)


def test_text_setter_must_be_str() -> None:
    # aiohttp asserts (AssertionError); Squall raises a TypeError
    from squall import web

    resp = web.Response()
    with pytest.raises(TypeError):
        resp.text = b"bytes"  # type: ignore[assignment]


def test_reason_cannot_hold_newlines(webmod: Any) -> None:
    with pytest.raises(ValueError):
        webmod.Response(reason="OK\r\nX-Evil: 1")
    with pytest.raises(ValueError):
        webmod.Response().set_status(200, "OK\nX-Evil: 1")


def test_json_response_data_and_text(webmod: Any) -> None:
    with pytest.raises(ValueError, match="only one of data, text, or body should be specified"):
        webmod.json_response({"a": 1}, text="{}")


# -- properties --------------------------------------------------------------------------


def test_text_defaults(webmod: Any) -> None:
    resp = webmod.Response(text="café")
    assert resp.status == 200
    assert resp.reason == "OK"
    assert resp.content_type == "text/plain"
    assert resp.charset == "utf-8"
    assert resp.body == "café".encode()
    assert resp.text == "café"
    assert resp.content_length == 5
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_text_with_charset(webmod: Any) -> None:
    resp = webmod.Response(text="café", content_type="text/html", charset="latin-1")
    assert resp.body == b"caf\xe9"
    assert resp.headers["Content-Type"] == "text/html; charset=latin-1"
    assert resp.text == "café"


def test_text_with_content_type_header(webmod: Any) -> None:
    resp = webmod.Response(text="café", headers={"Content-Type": "text/x-y; charset=latin-1"})
    assert resp.body == b"caf\xe9"
    assert resp.content_type == "text/x-y"


def test_body_defaults(webmod: Any) -> None:
    resp = webmod.Response(body=b"\x00\x01")
    assert resp.body == b"\x00\x01"
    assert resp.content_length == 2
    assert "Content-Type" not in resp.headers
    assert resp.content_type == "application/octet-stream"
    assert resp.charset is None


def test_status_and_reason(webmod: Any) -> None:
    resp = webmod.Response(status=201, reason="Yes")
    assert (resp.status, resp.reason) == (201, "Yes")
    resp.set_status(418)
    assert (resp.status, resp.reason) == (418, "I'm a Teapot")
    resp.set_status(299)
    assert (resp.status, resp.reason) == (299, "")


def test_text_setter_turns_octet_stream_into_text(webmod: Any) -> None:
    resp = webmod.Response()
    resp.text = "hi"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.body == b"hi"


def test_charset_setter(webmod: Any) -> None:
    resp = webmod.Response(text="x")
    resp.charset = "UTF-16"
    assert resp.charset == "utf-16"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-16"
    resp.charset = None
    assert resp.headers["Content-Type"] == "text/plain"
    with pytest.raises(RuntimeError, match="Setting charset for application/octet-stream"):
        webmod.Response(body=b"x").charset = "utf-8"


def test_content_type_setter_keeps_parameters(webmod: Any) -> None:
    resp = webmod.Response(text="x")
    resp.content_type = "text/html"
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"


def test_content_length_is_automatic(webmod: Any) -> None:
    resp = webmod.Response(body=b"abc")
    with pytest.raises(RuntimeError, match="Content length is set automatically"):
        resp.content_length = 5


def test_json_response(webmod: Any) -> None:
    resp = webmod.json_response({"a": [1, None]}, status=201)
    assert resp.status == 201
    assert resp.content_type == "application/json"
    assert resp.charset == "utf-8"
    assert json.loads(resp.text) == {"a": [1, None]}
    resp = webmod.json_response({"b": 1, "a": 2}, dumps=lambda o: json.dumps(o, sort_keys=True))
    assert resp.text == '{"a": 2, "b": 1}'
    resp = webmod.json_response(text='{"raw": true}', content_type="application/vnd.x+json")
    assert resp.headers["Content-Type"] == "application/vnd.x+json; charset=utf-8"


def test_json_bytes_response(webmod: Any) -> None:
    resp = webmod.json_bytes_response({"a": 1}, dumps=lambda o: json.dumps(o).encode())
    assert resp.body == b'{"a": 1}'
    assert resp.content_type == "application/json"


def test_etag(webmod: Any) -> None:
    resp = webmod.Response()
    resp.etag = "abc"
    assert resp.headers["ETag"] == '"abc"'
    assert resp.etag.value == "abc"
    assert resp.etag.is_weak is False
    resp.headers["ETag"] = 'W/"w"'
    assert (resp.etag.value, resp.etag.is_weak) == ("w", True)
    resp.etag = "*"
    assert resp.headers["ETag"] == "*"
    resp.etag = None
    assert "ETag" not in resp.headers


def test_last_modified(webmod: Any) -> None:
    resp = webmod.Response()
    resp.last_modified = 0
    assert resp.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    when = datetime.datetime(2015, 10, 21, 7, 28, tzinfo=datetime.UTC)
    resp.last_modified = when
    assert resp.headers["Last-Modified"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert resp.last_modified == when
    resp.last_modified = None
    assert "Last-Modified" not in resp.headers


def test_cookies(webmod: Any) -> None:
    resp = webmod.Response()
    resp.set_cookie("a", "1", max_age=10, httponly=True, samesite="Lax")
    resp.del_cookie("b", path="/p")
    morsel = resp.cookies["a"]
    assert morsel.value == "1"
    assert morsel["max-age"] == "10"
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    deleted = resp.cookies["b"]
    assert deleted.value == ""
    assert deleted["max-age"] == "0"
    assert deleted["path"] == "/p"
    assert deleted["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_response_is_a_mutable_mapping(webmod: Any) -> None:
    resp = webmod.StreamResponse()
    key = webmod.ResponseKey("k", int)
    assert len(resp) == 0
    resp[key] = 1
    resp["plain"] = 2
    assert resp[key] == 1
    assert set(resp) == {key, "plain"}
    del resp["plain"]
    assert len(resp) == 1
    assert resp.get("missing") is None
    assert bool(webmod.StreamResponse())  # empty but truthy


def test_responses_compare_by_identity(webmod: Any) -> None:
    a, b = webmod.Response(text="x"), webmod.Response(text="x")
    assert a != b
    assert len({a, b}) == 2


def test_enable_chunked_encoding_with_content_length(webmod: Any) -> None:
    resp = webmod.StreamResponse()
    resp.content_length = 5
    with pytest.raises(RuntimeError):
        resp.enable_chunked_encoding()


# -- StreamResponse on the wire ----------------------------------------------------------


def app_stream(web: Any) -> Any:
    events: list[str] = []

    async def stream(request: Any) -> Any:
        resp = web.StreamResponse(status=200, reason="Streaming")
        resp.content_type = "text/plain"
        try:
            await resp.write(b"too early")
        except RuntimeError:
            events.append("write before prepare")
        first = await resp.prepare(request)
        again = await resp.prepare(request)
        events.append(f"prepare is idempotent: {first is not None and again is first}")
        events.append(f"prepared: {resp.prepared}")
        await resp.write(b"one,")
        await resp.write(bytearray(b"two,"))
        await resp.write_eof(b"three")
        await resp.write_eof()  # a second EOF is a no-op
        try:
            await resp.write(b"late")
        except RuntimeError:
            events.append("write after eof")
        events.append(f"prepare after eof: {await resp.prepare(request)}")
        return resp

    async def events_view(request: Any) -> Any:
        return web.json_response(events)

    app = web.Application()
    app.router.add_get("/stream", stream)
    app.router.add_get("/events", events_view)
    return app


async def raw_exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5.0)
    finally:
        writer.close()


async def test_stream_response_chunked_on_http11(webmod: Any) -> None:
    async with serve(webmod, app_stream) as port:
        raw = await raw_exchange(port, build("GET", "/stream", headers={"Connection": "close"}))
        events = (await exchange(port, build("GET", "/events"))).json()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 Streaming"
    assert b"Transfer-Encoding: chunked" in lines
    assert not any(line.lower().startswith(b"content-length") for line in lines)
    assert body == b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n"
    assert events == [
        "write before prepare",
        "prepare is idempotent: True",
        "prepared: True",
        "write after eof",
        "prepare after eof: None",
    ]


async def test_stream_response_on_http10_is_delimited_by_close() -> None:
    """DIFFERENCE: when an HTTP/1.0 client asks for keep-alive, aiohttp streams a body of
    unknown length without a Connection header and then keeps the connection open, so
    the client cannot find the end of the body; Squall closes the connection."""
    from squall import web

    async with serve(web, app_stream) as port:
        raw = await raw_exchange(
            port, build("GET", "/stream", version="1.0", headers={"Connection": "keep-alive"})
        )
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.0 200 Streaming"
    assert not any(line.lower().startswith(b"transfer-encoding") for line in lines)
    assert not any(line.lower().startswith(b"content-length") for line in lines)
    assert not any(line.lower() == b"connection: keep-alive" for line in lines)
    assert body == b"one,two,three"  # read to EOF: the server closed the connection


async def test_stream_response_with_content_length_is_not_chunked(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.StreamResponse()
            resp.content_length = 5
            await resp.prepare(request)
            await resp.write(b"ab")
            await resp.write(b"cde")
            return resp  # write_eof is implied

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    async with serve(webmod, factory) as port:
        reply = await exchange(port, build("GET", "/"))
    assert reply.header("Content-Length") == "5"
    assert reply.header("Transfer-Encoding") is None
    assert reply.body == b"abcde"
    assert reply.after == "HTTP/1.1 404 Not Found"


async def test_enable_chunked_encoding_on_http11(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(b"abc")
            await resp.write_eof()
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    async with serve(webmod, factory) as port:
        reply = await exchange(port, build("GET", "/"))
    assert reply.header("Transfer-Encoding") == "chunked"
    assert reply.body == b"abc"


async def test_force_close(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.Response(text="bye")
            resp.force_close()
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    async with serve(webmod, factory) as port:
        reply = await exchange(port, build("GET", "/"))
    assert reply.header("Connection") == "close"
    assert reply.body == b"bye"
    assert reply.after == "closed"


async def test_response_prepared_by_the_handler(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.Response(text="prepared early")
            await resp.prepare(request)
            assert resp.prepared
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    async with serve(webmod, factory) as port:
        reply = await exchange(port, build("GET", "/"))
    assert reply.status == 200
    assert reply.body == b"prepared early"
    assert reply.header("Content-Length") == str(len(b"prepared early"))
    assert reply.after == "HTTP/1.1 404 Not Found"


async def test_write_takes_bytes_only(squall_client: Any) -> None:
    # aiohttp asserts (AssertionError); Squall raises a TypeError
    from squall import web

    errors: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        try:
            await resp.write("str")  # type: ignore[arg-type]
        except TypeError as exc:
            errors.append(str(exc))
        await resp.write_eof(b"done")
        return resp

    app = web.Application()
    app.router.add_get("/", handler)
    client = await squall_client(app)
    resp = await client.get("/")
    assert await resp.read() == b"done"
    assert errors == ["data argument must be byte-ish (<class 'str'>)"]
