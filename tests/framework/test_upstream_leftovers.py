"""Framework differences from aiohttp 3.14 that reviews found, each on a real socket.

Where both servers should agree the case is differential (``_wire.same``); where
aiohttp sends something unsafe (a 1xx or an invalid status as the final answer, a
205 with content, a header name that is not a token) Squall's answer is checked
and aiohttp's hole is shown beside it.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import logging
import socket
import struct
import warnings
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web
from squall.h1 import writer
from squall.h1.writer import HeaderNameError, render_head

from ._wire import build, exchange, exchange_all, run_on, same, serve

# -- 1. statuses a response cannot be sent with ------------------------------------------

BAD_STATUSES = [0, 99, 600, 999, 1000, -1]
INTERIM_STATUSES = [100, 101, 102, 103, 199]


def _status_app(status: int, kind: str = "whole") -> Any:
    def factory(web: Any) -> Any:
        async def bad(request: Any) -> Any:
            if kind == "whole":  # the four-line fast path
                return web.Response(status=status, body=b"hi")
            if kind == "headers":  # the general path
                return web.Response(status=status, body=b"hi", headers={"X-A": "1"})
            resp = web.StreamResponse(status=status)
            await resp.prepare(request)
            await resp.write(b"hi")
            return resp

        async def ok(request: Any) -> Any:
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/bad", bad)
        app.router.add_get("/ok", ok)
        return app

    return factory


@pytest.mark.parametrize("kind", ["whole", "headers", "stream"])
@pytest.mark.parametrize("status", BAD_STATUSES)
async def test_a_status_no_status_line_can_carry_is_a_500(
    status: int, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """0 or 600 make an invalid status line: refused, logged, a 500, closed."""
    requests = [build("GET", "/bad"), build("GET", "/ok")]
    async with serve(squall_web, _status_app(status, kind)) as port:
        with caplog.at_level(logging.ERROR):
            replies = await exchange_all(port, requests)
    assert [r.status for r in replies] == [500]
    assert replies[0].body == b"500 Internal Server Error\n\nServer got itself in trouble"
    assert replies[0].after == "closed"
    assert f"Status {status} cannot be sent" in caplog.text


@pytest.mark.parametrize("kind", ["whole", "headers", "stream"])
@pytest.mark.parametrize("status", INTERIM_STATUSES)
async def test_a_1xx_answer_goes_out_then_the_connection_closes(status: int, kind: str) -> None:
    """A 1xx as the final answer is sent as aiohttp sends it (aiohttp's own tests
    prepare them), with no body; a client reads it as interim, so the connection
    closes after it: no later response can be paired with the wrong request."""
    requests = [build("GET", "/bad"), build("GET", "/ok")]
    async with serve(squall_web, _status_app(status, kind)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"".join(requests))
        raw = await asyncio.wait_for(reader.read(), 10)  # to the server's close
        writer.close()
    assert raw.startswith(f"HTTP/1.1 {status} ".encode())
    assert raw.count(b"HTTP/1.1 ") == 1  # /ok is never answered on this connection
    assert raw.endswith(b"\r\n\r\n")  # no body
    assert b"Content-Length" not in raw and b"Transfer-Encoding" not in raw


@pytest.mark.parametrize("status", [103, 600])
async def test_aiohttp_sends_such_a_status_as_the_answer(status: int) -> None:
    """The hole, for docs/compat.md: aiohttp sends the status as it is."""
    reply = await run_on(aiohttp_web, _status_app(status), build("GET", "/bad"))
    assert reply.status == status


async def test_a_101_to_a_request_that_asked_to_upgrade_goes_out() -> None:
    upgrade = {"Connection": "Upgrade", "Upgrade": "example"}
    reply = await run_on(
        squall_web, _status_app(101, "stream"), build("GET", "/bad", headers=upgrade)
    )
    assert reply.status_line == b"HTTP/1.1 101 Switching Protocols"


async def test_an_http_exception_with_an_invalid_status_is_a_500() -> None:
    class Odd(squall_web.HTTPException):
        status_code = 600

    async def handler(request: Any) -> Any:
        raise Odd()

    app = squall_web.Application()
    app.router.add_get("/", handler)
    async with serve(squall_web, lambda web: app) as port:
        replies = await exchange_all(port, [build("GET", "/"), build("GET", "/")])
    assert [r.status for r in replies] == [500]


# -- 205 Reset Content: no content (RFC 9110 15.3.6) -------------------------------------


def _reset_app(web: Any) -> Any:
    async def whole(request: Any) -> Any:
        return web.Response(status=205, body=b"content")

    async def typed(request: Any) -> Any:
        resp = web.Response(status=205, text="content", headers={"Content-Length": "7"})
        resp.enable_compression()
        return resp

    async def stream(request: Any) -> Any:
        resp = web.StreamResponse(status=205)
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b"content")
        return resp

    async def raised(request: Any) -> Any:
        raise web.HTTPResetContent()

    app = web.Application()
    app.router.add_get("/whole", whole)
    app.router.add_get("/typed", typed)
    app.router.add_get("/stream", stream)

    async def ok(request: Any) -> Any:
        return web.Response(text="ok")

    app.router.add_get("/raised", raised)
    app.router.add_get("/ok", ok)
    return app


@pytest.mark.parametrize("path", ["/whole", "/typed", "/stream"])
async def test_205_goes_out_with_no_content(path: str) -> None:
    headers = {"Accept-Encoding": "gzip"}
    async with serve(squall_web, _reset_app) as port:
        first, second = await exchange_all(
            port, [build("GET", path, headers=headers), build("GET", "/ok")]
        )
    assert first.status_line == b"HTTP/1.1 205 Reset Content"
    assert first.header_all("Content-Length") == ["0"]
    assert first.header("Transfer-Encoding") is None
    assert first.header("Content-Encoding") is None
    assert first.body == b""
    assert (second.status, second.body) == (200, b"ok")  # nothing of the body came between


async def test_aiohttp_sends_205_with_content() -> None:
    reply = await run_on(aiohttp_web, _reset_app, build("GET", "/whole"))
    assert reply.body == b"content"


async def test_http_reset_content_agrees() -> None:
    reply = await same(_reset_app, build("GET", "/raised"))
    assert reply.header("Content-Length") == "0"


# -- 2. header names are tokens ----------------------------------------------------------

BAD_NAMES = ["X A", "X:A", "", "X\u00e9", "X(", "X\x7f", "X\tA", "X\r\nSet-Cookie"]


def _named_app(name: str, kind: str) -> Any:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            if kind == "whole":
                return web.Response(text="ok", headers={name: "v"})
            resp = web.StreamResponse()
            resp.headers[name] = "v"
            await resp.prepare(request)
            await resp.write(b"ok")
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    return factory


@pytest.mark.parametrize("kind", ["whole", "stream"])
@pytest.mark.parametrize("name", BAD_NAMES)
async def test_a_header_name_that_is_not_a_token_is_a_500(
    name: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve(squall_web, _named_app(name, kind)) as port:
        with caplog.at_level(logging.ERROR):
            reply = await exchange(port, build("GET", "/"))
    assert reply.status == 500
    assert all(k in ("Content-Type", "Content-Length", "Connection") for k, _ in reply.headers)
    assert "Invalid response header name" in caplog.text or "Control character" in caplog.text


@pytest.mark.parametrize("name", ["X A", "X:A", ""])
async def test_aiohttp_sends_such_a_name(name: str) -> None:
    reply = await run_on(aiohttp_web, _named_app(name, "whole"), build("GET", "/"))
    assert reply.status == 200


async def test_every_token_character_is_a_valid_name() -> None:
    name = "X-!#$%&'*+.^_`|~09az"
    reply = await same(_named_app(name, "whole"), build("GET", "/"))
    assert reply.header(name) == "v"


def test_render_head_remembers_names_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "_TOKEN_NAMES", set(writer._TOKEN_NAMES))
    monkeypatch.setattr(writer, "_TOKEN_NAMES_MAX", len(writer._TOKEN_NAMES) + 2)
    for i in range(5):
        render_head((1, 1), 200, "OK", [(f"X-{i}", "v")])
    assert len(writer._TOKEN_NAMES) == writer._TOKEN_NAMES_MAX
    assert "X-0" in writer._TOKEN_NAMES and "X-4" not in writer._TOKEN_NAMES
    # a name past the bound is still checked, a remembered one still passes
    assert render_head((1, 1), 200, "OK", [("X-4", "v"), ("X-0", "w")]).endswith(
        b"X-4: v\r\nX-0: w\r\n\r\n"
    )
    with pytest.raises(HeaderNameError):
        render_head((1, 1), 200, "OK", [("X-0", "v"), ("X 5", "v")])
    with pytest.raises(ValueError):  # HeaderNameError is one
        render_head((1, 1), 200, "OK", [("", "v")])


# -- 3. a multipart part as a response body ----------------------------------------------


def _part_echo(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        reader = await request.multipart()
        part = await reader.next()
        return web.Response(body=part)

    app = web.Application(client_max_size=2)  # the part is streamed, never read whole
    app.router.add_post("/", handler)
    return app


async def _post_with_client(web: Any, data: Any) -> tuple[int, Any, bytes]:
    async with serve(web, _part_echo) as port, aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{port}/", data=data) as resp:
            return resp.status, resp.headers.copy(), await resp.read()


@pytest.mark.parametrize("web", [squall_web, aiohttp_web], ids=["squall", "aiohttp"])
async def test_response_with_bodypart(web: Any) -> None:
    """Upstream test_response_with_bodypart: Squall read the whole part (a 413)."""
    with io.BytesIO(b"test") as file_handle:
        status, headers, body = await _post_with_client(web, {"file": file_handle})
    assert (status, body) == (200, b"test")
    disp = aiohttp.multipart.parse_content_disposition(headers["Content-Disposition"])
    assert disp == ("attachment", {"name": "file", "filename": "file"})
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Transfer-Encoding"] == "chunked"


@pytest.mark.parametrize("web", [squall_web, aiohttp_web], ids=["squall", "aiohttp"])
async def test_response_with_bodypart_named(web: Any, tmp_path: Path) -> None:
    f = tmp_path / "foobar.txt"
    f.write_text("test", encoding="utf8")
    with f.open("rb") as fd:
        status, headers, body = await _post_with_client(web, {"file": fd})
    assert (status, body) == (200, b"test")
    disp = aiohttp.multipart.parse_content_disposition(headers["Content-Disposition"])
    assert disp == ("attachment", {"name": "file", "filename": "foobar.txt"})


@pytest.mark.parametrize("web", [squall_web, aiohttp_web], ids=["squall", "aiohttp"])
async def test_response_with_bodypart_invalid_name(web: Any) -> None:
    with aiohttp.MultipartWriter() as mpwriter:
        mpwriter.append(b"test")
        status, headers, body = await _post_with_client(web, mpwriter)
    assert (status, body) == (200, b"test")
    assert "Content-Disposition" not in headers


def _multipart(part_headers: str, payload: bytes, subtype: str = "form-data") -> bytes:
    body = b"--B\r\n" + part_headers.encode("utf-8") + b"\r\n\r\n" + payload + b"\r\n--B--\r\n"
    return build(
        "POST", "/", headers={"Content-Type": f"multipart/{subtype}; boundary=B"}, body=body
    )


@pytest.mark.parametrize(
    "disposition",
    [
        'form-data; name="file"; filename="foo bar.txt"',
        'form-data; name="a b\\"c"',
        "form-data; name*=utf-8''caf%C3%A9",
        "form-data; name=\"x\"; filename*=utf-8''%E2%82%AC%20rates.txt",
        "form-data",
    ],
)
async def test_the_part_disposition_agrees(disposition: str) -> None:
    reply = await same(_part_echo, _multipart(f"Content-Disposition: {disposition}", b"test"))
    assert reply.body == b"test"


async def test_a_part_is_streamed_decoded(webmod: Any) -> None:
    """Base64 in a part larger than a chunk: the bytes the part stands for."""
    data = bytes(range(256)) * 1000
    request = _multipart(
        'Content-Disposition: form-data; name="f"\r\nContent-Transfer-Encoding: base64',
        base64.encodebytes(data),
    )
    reply = await run_on(webmod, _part_echo, request)
    assert reply.status == 200
    assert len(reply.body) == len(data) and reply.body == data  # short of a 256 KB diff


async def test_a_coded_part_is_streamed_inflated() -> None:
    """A gzip-coded part of a multipart/mixed body, inflated as it streams (aiohttp
    inflates each chunk alone, which a stream cut between chunks does not survive)."""
    data = bytes(range(256)) * 1000
    request = _multipart("Content-Encoding: gzip", gzip.compress(data), subtype="mixed")
    reply = await run_on(squall_web, _part_echo, request)
    assert reply.status == 200
    assert len(reply.body) == len(data) and reply.body == data


@pytest.mark.parametrize("web", [squall_web, aiohttp_web], ids=["squall", "aiohttp"])
async def test_a_streamed_body_s_head_waits_for_its_first_chunk(web: Any) -> None:
    """A Response with a streamed body sends nothing before its first chunk (aiohttp
    holds the head too): aiohttp's client closes the file it uploads when the
    answer's head comes, so a head sent early cut the upload of a part echoed back."""
    started = asyncio.Event()
    gate = asyncio.Event()

    async def chunks() -> Any:
        started.set()
        await gate.wait()
        yield b"first"
        yield b"second"

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.Response(body=chunks())

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    async with serve(web, factory) as port:
        sock = socket.create_connection(("127.0.0.1", port))
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await asyncio.wait_for(started.wait(), 10)
            for _ in range(3):
                await asyncio.sleep(0)  # the server's task goes on to its await
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(4096)  # loopback delivers a send at once: none was made
            gate.set()
            sock.setblocking(True)
            sock.settimeout(10)
            raw = b""
            while not raw.endswith(b"\r\n0\r\n\r\n"):  # the last chunk
                data = await asyncio.get_running_loop().run_in_executor(None, sock.recv, 4096)
                assert data, raw
                raw += data
        finally:
            sock.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Transfer-Encoding: chunked" in head and b"Connection" not in head
    assert body == b"5\r\nfirst\r\n6\r\nsecond\r\n0\r\n\r\n"


async def test_a_part_broken_before_its_first_chunk_is_a_400(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Response(body=part) for a part that ends before any byte of it: nothing is
    out yet, so the client gets a 400 (aiohttp answers 200 with an empty body)."""
    body = b"--B\r\nContent-Disposition: form-data; name=a\r\n\r\n"
    data = build(
        "POST", "/", headers={"Content-Type": "multipart/form-data; boundary=B"}, body=body
    )
    with caplog.at_level(logging.DEBUG):
        reply = await run_on(squall_web, _part_echo, data)
    assert reply.status_line == b"HTTP/1.1 400 Bad Request"
    assert reply.body == b"400: Bad Request (Multipart body ended before its closing boundary)"
    assert reply.after == "closed"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- 4. drain() ----------------------------------------------------------------------------


async def test_drain_is_deprecated(webmod: Any) -> None:
    seen: list[str] = []

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.StreamResponse()
            await resp.prepare(request)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                await resp.drain()
            seen.extend(f"{w.category.__name__}: {w.message}" for w in caught)
            await resp.write(b"ok")
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    reply = await run_on(webmod, factory, build("GET", "/"))
    assert reply.body == b"ok"
    assert seen == ["DeprecationWarning: drain method is deprecated, use await resp.write()"]


# -- 5. Application(client_max_fields=) ----------------------------------------------------


def _fields_app(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        form = await request.post()
        return web.json_response([request.client_max_fields, len(form)])

    app = web.Application(client_max_fields=2)
    app.router.add_post("/", handler)
    return app


@pytest.mark.parametrize("fields", [b"a=1&b=2", b"a=1&b=2&c=3"])
async def test_client_max_fields_of_the_application(fields: bytes) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    reply = await same(_fields_app, build("POST", "/", headers=form, body=fields))
    if fields.count(b"&") == 1:
        assert reply.json() == [2, 2]
    else:
        assert reply.status == 413


# -- 6. a custom router's match info without a route ---------------------------------------


def _custom_router(web: Any) -> Any:
    if web is squall_web:
        from squall import abc
    else:
        from aiohttp import abc

    async def echo(request: Any) -> Any:
        return web.Response(body=await request.read())

    class Info(abc.AbstractMatchInfo, dict):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            dict.__init__(self)
            self._apps: list[Any] = []
            self._current: Any = None

        handler = property(lambda self: echo)
        expect_handler = property(lambda self: None)
        http_exception = property(lambda self: None)
        apps = property(lambda self: tuple(self._apps))
        current_app = property(lambda self: self._current)

        def get_info(self) -> dict[str, Any]:
            return {}

        def add_app(self, app: Any) -> None:
            self._apps.insert(0, app)

        def set_current_app(self, app: Any) -> None:
            self._current = app

        def freeze(self) -> None:
            pass

    class Router(abc.AbstractRouter):  # type: ignore[misc,name-defined]
        async def resolve(self, request: Any) -> Any:
            return Info()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # router= is deprecated
        return web.Application(router=Router())


async def test_read_with_a_custom_match_info_without_route() -> None:
    reply = await same(_custom_router, build("POST", "/", body=b"abc"))
    assert (reply.status, reply.body) == (200, b"abc")


# -- 7. the runner's auto_decompress= -------------------------------------------------------

PLAIN = b"x" * 1000
CODED = gzip.compress(PLAIN)


def _length_app(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        return web.Response(text=str(len(await request.read())))

    app = web.Application()
    app.router.add_post("/", handler)
    return app


def _gzip_request() -> bytes:
    return build("POST", "/", headers={"Content-Encoding": "gzip"}, body=CODED)


@pytest.mark.parametrize("auto_decompress", [True, False])
async def test_app_runner_auto_decompress(webmod: Any, auto_decompress: bool) -> None:
    runner = webmod.AppRunner(_length_app(webmod), auto_decompress=auto_decompress)
    await runner.setup()
    try:
        site = webmod.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        reply = await exchange(port, _gzip_request())
    finally:
        await runner.cleanup()
    assert reply.body == str(len(PLAIN) if auto_decompress else len(CODED)).encode()


async def _gzip_through(webmod: Any, runner: Any) -> Any:
    """The gzip-coded request through ``runner`` served on a port of its own."""
    await runner.setup()
    try:
        site = webmod.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return await exchange(runner.addresses[0][1], _gzip_request())
    finally:
        await runner.cleanup()


async def test_handler_args_win_over_the_runner(webmod: Any) -> None:
    app = _length_app(webmod)
    app._handler_args = {"auto_decompress": True}  # as Application(handler_args=...)
    runner = webmod.AppRunner(app, auto_decompress=False)
    reply = await _gzip_through(webmod, runner)
    assert reply.body == str(len(PLAIN)).encode()


def test_run_app_auto_decompress(webmod: Any) -> None:
    """run_app(app, auto_decompress=False) on a socket of the test's; the app asks
    itself once and stops the server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    replies = []
    tasks = []  # a reference, so the task is not collected mid-way

    def stop() -> None:
        raise webmod.GracefulExit()

    async def ask() -> None:
        replies.append(await exchange(port, _gzip_request()))
        asyncio.get_running_loop().call_soon(stop)

    async def start_asking(app: Any) -> None:
        tasks.append(asyncio.get_running_loop().create_task(ask()))

    app = _length_app(webmod)
    app.on_startup.append(start_asking)
    try:
        webmod.run_app(app, sock=sock, print=None, handle_signals=False, auto_decompress=False)
    finally:
        sock.close()
    assert [r.body for r in replies] == [str(len(CODED)).encode()]


@pytest.mark.parametrize("auto_decompress", [True, False])
async def test_low_level_server_auto_decompress(webmod: Any, auto_decompress: bool) -> None:
    """web.Server(handler, auto_decompress=False): the coded body is handed over as
    sent, as aiohttp's parser does."""

    async def handler(request: Any) -> Any:
        return webmod.Response(text=str(len(await request.read())))

    server = webmod.Server(handler, auto_decompress=auto_decompress)
    runner = webmod.ServerRunner(server)
    reply = await _gzip_through(webmod, runner)
    assert reply.body == str(len(PLAIN) if auto_decompress else len(CODED)).encode()


def _unbounded_fields_app(web: Any) -> Any:
    async def form(request: Any) -> Any:
        return web.Response(text=f"post {len(await request.post())} fields")

    async def parts(request: Any) -> Any:
        reader = await request.multipart()
        count = 0
        while (part := await reader.next()) is not None:
            await part.read()
            count += 1
        return web.Response(text=f"multipart {count} parts")

    app = web.Application(client_max_fields=0)
    app.router.add_post("/form", form)
    app.router.add_post("/parts", parts)
    return app


@pytest.mark.parametrize("path", ["/form", "/parts"])
async def test_client_max_fields_zero_is_no_limit(path: str) -> None:
    """aiohttp's 0: no bound on the fields, multipart ones included."""
    body = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i for i in range(5)
    )
    reply = await same(
        _unbounded_fields_app,
        build(
            "POST",
            path,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
            body=body + b"--b--\r\n",
        ),
    )
    assert reply.body.endswith(b" 5 fields") or reply.body.endswith(b" 5 parts")


@pytest.mark.parametrize("mode", ["plain", "headers"])
async def test_a_response_for_a_client_gone_is_still_logged(mode: str) -> None:
    """The access log has its line when the client reset the connection before the
    handler's answer went out, whichever path sends it (as aiohttp logs it)."""
    lines: list[int] = []
    logged = asyncio.Event()

    class Recorder(squall_web.AbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            lines.append(response.status)
            logged.set()

    async def handler(request: Any) -> Any:
        await request.read()
        for _ in range(500):  # until the server has seen the reset (bounded)
            if request.transport is None:
                break
            await asyncio.sleep(0.01)
        headers = {"X-A": "1"} if mode == "headers" else None
        return squall_web.Response(text="x", headers=headers)

    app = squall_web.Application()
    app.router.add_post("/", handler)
    runner = squall_web.AppRunner(app, access_log_class=Recorder)
    await runner.setup()
    try:
        site = squall_web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        sock = socket.create_connection(("127.0.0.1", runner.addresses[0][1]))
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset
        await asyncio.wait_for(logged.wait(), 10)
    finally:
        await runner.cleanup()
    assert lines == [200]


async def test_a_broken_part_sent_back_drops_the_connection_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Response(body=part) for a part whose body is cut short: the head is out, so
    the connection drops (no last chunk); the client's bad body is no server error."""

    def factory(web: Any) -> Any:
        async def part(request: Any) -> Any:
            reader = await request.multipart()
            return web.Response(body=await reader.next())

        app = web.Application()
        app.router.add_post("/", part)
        return app

    body = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nhello wor"
    data = build(
        "POST", "/", headers={"Content-Type": "multipart/form-data; boundary=b"}, body=body
    )
    async with serve(squall_web, factory) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        with caplog.at_level(logging.DEBUG):
            writer.write(data)
            raw = await asyncio.wait_for(reader.read(), 10)  # to the server's close
        writer.close()
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert not raw.endswith(b"0\r\n\r\n")  # cut: the client knows the body is incomplete
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- 5. a streamed body and the prepare hooks --------------------------------------------


def _hooked(web: Any, hook: Any) -> Any:
    async def handler(request: Any) -> Any:
        async def chunks() -> Any:
            yield b"hello "
            yield b"world"

        return web.Response(body=chunks())

    app = web.Application()
    app.on_response_prepare.append(hook)
    app.router.add_get("/", handler)
    return app


async def test_a_prepare_hook_may_replace_a_streamed_body(webmod: Any) -> None:
    """The first chunk is read before the hooks run; a hook that sets another body
    still gets that body sent, not the stream cut to its length."""

    async def replace(request: Any, response: Any) -> None:
        response.text = "replaced"

    reply = await run_on(webmod, lambda web: _hooked(web, replace), build("GET", "/"))
    assert (reply.status, reply.body) == (200, b"replaced")


async def test_a_failing_prepare_hook_runs_once(caplog: pytest.LogCaptureFixture) -> None:
    """Only a stream failing before its first chunk is answered again by the app: a
    hook that raises is not run a second time for the error page."""
    runs: list[int] = []

    async def boom(request: Any, response: Any) -> None:
        runs.append(response.status)
        raise RuntimeError("hook failed")

    with caplog.at_level(logging.ERROR):
        reply = await run_on(squall_web, lambda web: _hooked(web, boom), build("GET", "/"))
    assert reply.status_line == b"HTTP/1.1 500 Internal Server Error"
    assert b"hook failed" not in reply.body
    assert runs == [200]
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1
