"""Response framing on a real connection, read back by a strict client (h11).

Each case pipelines its request with more requests on one connection and reads the
whole byte stream to EOF; h11 then splits it into responses the way a client must.
A stray byte, a duplicated or missing framing field, or a body of the wrong length
shows up as a parse error or as a wrong response further down the stream.

Every case runs twice (``suspend``): once with handlers that never suspend, answered
in place inside ``data_received``, and once with handlers that ``await
asyncio.sleep(0)`` first, so they finish in a Task. The two paths write through
different code in the connection.

The numbers are issue 17's ("Wire format and framing"); F7 is its fuzzing find.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import h11
import pytest

from squall import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _stay() -> None:
    """Awaited, but never suspends: the handler stays on the in-place path."""


def make_app(suspend: bool) -> web.Application:
    pause: Callable[[], Awaitable[None]] = (lambda: asyncio.sleep(0)) if suspend else _stay

    async def ok(request: web.Request) -> web.StreamResponse:
        await pause()
        return web.Response(text="ok")

    async def chunked(request: web.Request) -> web.StreamResponse:
        await pause()
        resp = web.Response(text="hello")
        resp.enable_chunked_encoding()
        return resp

    async def stream(request: web.Request) -> web.StreamResponse:
        await pause()
        resp = web.StreamResponse()
        if "chunked" in request.query:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b"abc")
        return resp

    async def stream_bodiless(request: web.Request) -> web.StreamResponse:
        await pause()
        resp = web.StreamResponse(status=int(request.query["status"]))
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b"x")
        return resp

    async def stream_te(request: web.Request) -> web.StreamResponse:
        await pause()
        resp = web.StreamResponse(headers={request.query["name"]: request.query["value"]})
        await resp.prepare(request)
        await resp.write(b"abc")
        return resp

    async def response_te(request: web.Request) -> web.StreamResponse:
        await pause()
        return web.Response(body=b"abc", headers={"Transfer-Encoding": "chunked"})

    async def bodiless_lower(request: web.Request) -> web.StreamResponse:
        await pause()
        headers = {"content-length": "5", "transfer-encoding": "chunked"}
        return web.Response(status=int(request.query["status"]), headers=headers)

    async def chunked_close(request: web.Request) -> web.StreamResponse:
        await pause()
        how = request.query["how"]
        headers = {"Connection": how} if how != "force" else {}
        resp = web.Response(text="hello", headers=headers)
        resp.enable_chunked_encoding()
        if how == "force":
            resp.force_close()
        return resp

    async def ctype_trap(request: web.Request) -> web.StreamResponse:
        await pause()
        if "json" in request.query:
            return web.json_response("x", content_type="application/Content-Length: 99")
        return web.Response(body=b"hello", content_type="text/Content-Length: 99")

    async def declared(request: web.Request) -> web.StreamResponse:
        await pause()
        size, body = request.query["length"], request.query["body"].encode()
        return web.Response(body=body, headers={"Content-Length": size})

    async def stream_short(request: web.Request) -> web.StreamResponse:
        await pause()
        resp = web.StreamResponse()
        resp.content_length = 10
        await resp.prepare(request)
        await resp.write(b"abc")
        return resp

    async def stream_over(request: web.Request) -> web.StreamResponse:
        await pause()
        resp = web.StreamResponse()
        resp.content_length = 3
        await resp.prepare(request)
        await resp.write(b"abcdef")
        return resp

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/stream", stream)
    app.router.add_get("/stream-bodiless", stream_bodiless)
    app.router.add_get("/stream-te", stream_te)
    app.router.add_get("/response-te", response_te)
    app.router.add_get("/bodiless-lower", bodiless_lower)
    app.router.add_get("/chunked-close", chunked_close)
    app.router.add_get("/ctype-trap", ctype_trap)
    app.router.add_get("/declared", declared)
    app.router.add_get("/stream-short", stream_short)
    app.router.add_get("/stream-over", stream_over)
    return app


# -- a strict reader ------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    version: bytes
    status: int
    headers: list[tuple[bytes, bytes]]  # lower-cased names, as h11 gives them
    body: bytes

    def values(self, name: bytes) -> list[bytes]:
        return [v for k, v in self.headers if k == name]


def split_responses(data: bytes, methods: list[str]) -> tuple[list[Parsed], bytes]:
    """Read ``data`` (all a connection sent, up to EOF) as responses to ``methods``,
    as a strict client would; return them and any bytes left over.

    Stops early when a response ends the connection (close-delimited or
    ``Connection: close``). h11 raises on bytes that are not a valid response.
    """
    parsed: list[Parsed] = []
    for method in methods:
        if not data:
            break
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "t")]))
        conn.send(h11.EndOfMessage())
        conn.receive_data(data)
        conn.receive_data(b"")  # everything there is has been read: EOF
        head: Any = None
        body = b""
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                raise AssertionError(f"unexpected {event!r} reading a response to {method}")
        parsed.append(Parsed(head.http_version, head.status_code, list(head.headers), body))
        data, _ = conn.trailing_data
        if conn.their_state is not h11.DONE or conn.our_state is h11.MUST_CLOSE:
            break  # the server said the connection ends here
    return parsed, data


def get(path: str, *, version: str = "1.1", close: bool = False, method: str = "GET") -> bytes:
    extra = "Connection: close\r\n" if close else ""
    return f"{method} {path} HTTP/{version}\r\nHost: t\r\n{extra}\r\n".encode()


LAST = get("/ok", close=True)  # ends every pipeline: the server answers it and closes


@pytest.fixture(params=[False, True], ids=["in-place", "task"])
def suspend(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def exchange(
    squall_server: Callable[..., Any], suspend: bool
) -> Callable[[list[bytes]], Awaitable[bytes]]:
    """``data = await exchange([request, ...])``: send them pipelined in one write, on
    one connection, and return every byte the server sent until it closed."""

    async def go(requests: list[bytes]) -> bytes:
        server = await squall_server(make_app(suspend))
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(b"".join(requests))
            await writer.drain()
            return await asyncio.wait_for(reader.read(), 5.0)
        finally:
            writer.close()

    return go


def assert_ok_follows(responses: list[Parsed], rest: bytes, index: int) -> None:
    """The response at ``index`` is the final ``GET /ok``, and nothing follows it."""
    assert len(responses) == index + 1, responses
    assert (responses[index].status, responses[index].body) == (200, b"ok")
    assert rest == b""


# -- 1. no last-chunk after a head that has no body -------------------------------------


async def test_head_to_a_chunked_response_sends_no_last_chunk(exchange) -> None:
    data = await exchange([get("/chunked", method="HEAD"), LAST])
    responses, rest = split_responses(data, ["HEAD", "GET"])
    head = responses[0]
    assert head.status == 200
    assert head.values(b"transfer-encoding") == []
    assert data.split(b"\r\n\r\n")[1].startswith(b"HTTP/1.1 200 OK\r\n")  # no "0\r\n\r\n"
    assert_ok_follows(responses, rest, 1)


@pytest.mark.parametrize("status", [204, 304])
async def test_bodiless_stream_with_chunking_on_sends_nothing_after_its_head(
    exchange, status: int
) -> None:
    data = await exchange([get(f"/stream-bodiless?status={status}"), LAST])
    responses, rest = split_responses(data, ["GET", "GET"])
    assert responses[0].status == status
    assert responses[0].values(b"transfer-encoding") == []
    assert responses[0].values(b"content-length") == []
    assert data.count(b"\r\n\r\n") == 2  # two heads and nothing else but "ok"
    assert_ok_follows(responses, rest, 1)


# -- 2. a handler's Transfer-Encoding is not sent twice ---------------------------------


@pytest.mark.parametrize("name", ["Transfer-Encoding", "transfer-encoding", "TRANSFER-ENCODING"])
@pytest.mark.parametrize("value", ["chunked", "gzip"])
async def test_handler_transfer_encoding_is_sent_once(exchange, name: str, value: str) -> None:
    data = await exchange([get(f"/stream-te?name={name}&value={value}"), LAST])
    assert data.lower().count(b"transfer-encoding") == 1
    responses, rest = split_responses(data, ["GET", "GET"])
    assert responses[0].values(b"transfer-encoding") == [b"chunked"]
    assert responses[0].body == b"abc"
    assert_ok_follows(responses, rest, 1)


async def test_handler_transfer_encoding_on_a_whole_body_is_dropped(exchange) -> None:
    """DIFFERENCE: aiohttp sends the handler's ``Transfer-Encoding: chunked`` beside a
    ``Content-Length`` and an unchunked body; a client must then misread the body."""
    data = await exchange([get("/response-te"), LAST])
    responses, rest = split_responses(data, ["GET", "GET"])
    assert responses[0].values(b"transfer-encoding") == []
    assert responses[0].values(b"content-length") == [b"3"]
    assert responses[0].body == b"abc"
    assert_ok_follows(responses, rest, 1)


# -- 3. an HTTP/1.0 client never sees chunk syntax ----------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/stream", "/stream?chunked", "/stream-te?name=Transfer-Encoding&value=chunked"],
)
@pytest.mark.parametrize("keep_alive", [False, True])
async def test_stream_to_http10_is_unframed_and_closes(
    exchange, path: str, keep_alive: bool
) -> None:
    extra = "Connection: keep-alive\r\n" if keep_alive else ""
    request = f"GET {path} HTTP/1.0\r\n{extra}\r\n".encode()
    data = await exchange([request, get("/ok", version="1.0")])
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"transfer-encoding" not in head.lower()
    assert b"content-length" not in head.lower()
    assert b"keep-alive" not in head.lower()
    assert body == b"abc"  # read to EOF: the close ended the body, nothing followed


async def test_chunked_response_to_http10_gets_a_content_length(exchange) -> None:
    """``enable_chunked_encoding()`` on a whole body: a 1.0 client gets it framed by
    its length (aiohttp drops the connection without an answer)."""
    request = b"GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    data = await exchange([request, get("/ok", version="1.0")])
    first, _, rest = data.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"transfer-encoding" not in first.lower()
    assert b"\r\nContent-Length: 5\r\n" in first
    assert b"\r\nConnection: keep-alive" in first
    assert rest.startswith(b"helloHTTP/1.0 200 OK\r\n")
    assert rest.endswith(b"\r\n\r\nok")


# -- 6. header names are case-insensitive ------------------------------------------------


@pytest.mark.parametrize("status", [204, 304])
async def test_bodiless_response_drops_lowercase_framing_fields(exchange, status: int) -> None:
    data = await exchange([get(f"/bodiless-lower?status={status}"), LAST])
    responses, rest = split_responses(data, ["GET", "GET"])
    assert responses[0].status == status
    assert responses[0].values(b"content-length") == []
    assert responses[0].values(b"transfer-encoding") == []
    assert_ok_follows(responses, rest, 1)


# -- 7. a chunked Response can close the connection ----------------------------------------


@pytest.mark.parametrize("how", ["force", "close", "Close"])
async def test_chunked_response_closes_when_asked(exchange, how: str) -> None:
    data = await exchange([get(f"/chunked-close?how={how}"), LAST])
    responses, rest = split_responses(data, ["GET", "GET"])
    assert len(responses) == 1  # the pipelined GET /ok is never answered
    assert responses[0].values(b"connection") == [b"close"]
    assert responses[0].values(b"transfer-encoding") == [b"chunked"]
    assert responses[0].body == b"hello"
    assert rest == b""


# -- 8. the cached simple head ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["", "?json"])
async def test_content_type_holding_content_length_text_keeps_the_length_slot(
    exchange, kind: str
) -> None:
    # twice: the first builds the cached parts of the head, the second reuses them
    data = await exchange([get("/ctype-trap" + kind), get("/ctype-trap" + kind), LAST])
    responses, rest = split_responses(data, ["GET", "GET", "GET"])
    for resp in responses[:2]:
        assert resp.status == 200
        assert b"/Content-Length: 99" in resp.values(b"content-type")[0]
        assert resp.values(b"content-length") == [b"%d" % len(resp.body)]
        assert resp.body in (b"hello", b'"x"')
    assert_ok_follows(responses, rest, 2)


# -- 9. a declared Content-Length must match a whole body -----------------------------------


@pytest.mark.parametrize(("length", "body"), [("5", "hello-world"), ("20", "hi"), ("x", "hi")])
async def test_declared_length_mismatch_is_refused_before_sending(
    exchange, caplog: pytest.LogCaptureFixture, length: str, body: str
) -> None:
    """Squall refuses the mismatch (aiohttp sends it): a 500 with nothing of the
    response written, a logged reason, and the connection closed."""
    caplog.set_level(logging.ERROR)
    data = await exchange([get(f"/declared?length={length}&body={body}"), LAST])
    responses, rest = split_responses(data, ["GET", "GET"])
    assert [r.status for r in responses] == [500]
    assert responses[0].values(b"connection") == [b"close"]
    assert body.encode() not in data
    assert rest == b""
    assert any("Content-Length" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_declared_length_matching_the_body_is_sent(exchange) -> None:
    data = await exchange([get("/declared?length=5&body=hello"), LAST])
    responses, rest = split_responses(data, ["GET", "GET"])
    assert (responses[0].status, responses[0].body) == (200, b"hello")
    assert responses[0].values(b"content-length") == [b"5"]
    assert_ok_follows(responses, rest, 1)


async def test_head_may_declare_a_length_without_a_body(exchange) -> None:
    """A HEAD handler states the GET's length without building the body."""
    data = await exchange([get("/declared?length=20&body=", method="HEAD"), LAST])
    responses, rest = split_responses(data, ["HEAD", "GET"])
    assert responses[0].status == 200
    assert responses[0].values(b"content-length") == [b"20"]
    assert_ok_follows(responses, rest, 1)


async def test_stream_shorter_than_its_declared_length_drops_the_connection(
    exchange, caplog: pytest.LogCaptureFixture
) -> None:
    """The head is out, so the client must learn the body is short: the connection
    closes after what was written, and the next pipelined request is not answered."""
    caplog.set_level(logging.ERROR)
    data = await exchange([get("/stream-short"), LAST])
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 10\r\n" in head
    assert body == b"abc"
    assert any("Content-Length" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_stream_longer_than_its_declared_length_is_cut(exchange) -> None:
    data = await exchange([get("/stream-over"), LAST])
    responses, rest = split_responses(data, ["GET", "GET"])
    assert (responses[0].body, responses[0].values(b"content-length")) == (b"abc", [b"3"])
    assert_ok_follows(responses, rest, 1)


async def test_chunked_response_is_framed(exchange) -> None:
    data = await exchange([get("/chunked"), get("/chunked", method="HEAD"), LAST])
    responses, rest = split_responses(data, ["GET", "HEAD", "GET"])
    assert responses[0].values(b"transfer-encoding") == [b"chunked"]
    assert responses[0].body == b"hello"
    assert_ok_follows(responses, rest, 2)


# -- F7: a client that half-closes mid-body --------------------------------------------------


@pytest.mark.parametrize("reads", [True, False], ids=["reads-body", "ignores-body"])
async def test_half_close_mid_body_is_never_an_unexplained_500(
    squall_server, caplog: pytest.LogCaptureFixture, reads: bool
) -> None:
    """``Content-Length: 5``, two bytes, then EOF: the server answers 400 or closes
    without a word (as aiohttp does), and logs no error."""

    async def handler(request: web.Request) -> web.Response:
        if reads:
            await request.read()
        return web.Response(text="done")

    app = web.Application()
    app.router.add_post("/", handler)
    server = await squall_server(app)
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab")
        writer.write_eof()
        data = await asyncio.wait_for(reader.read(), 5.0)
    finally:
        writer.close()
    if reads:
        assert data == b"" or data.startswith(b"HTTP/1.1 400 "), data
    else:  # answered before the EOF was seen, or not at all: never a 500
        assert data == b"" or data.startswith(b"HTTP/1.1 200 OK\r\n"), data
    assert b" 500 " not in data
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
