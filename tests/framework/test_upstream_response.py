"""Responses as aiohttp's own tests (test_web_response.py, test_web_exceptions.py) use them.

Each case runs one app on Squall and on aiohttp (``_wire.same``) and compares the
bytes on a real socket; the rest check values an application reads, on both
``web`` modules (``webmod``).
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import io
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aiohttp_web
from multidict import CIMultiDict

from squall import web as squall_web

from ._wire import build, exchange, run_on, same, serve

# -- a Response prepared by the handler, then finished with write_eof() --------------


def _prepare_then_write_eof(web: Any) -> Any:
    async def text(request: Any) -> Any:
        resp = web.Response(text="hello")
        await resp.prepare(request)
        await resp.write_eof()
        return resp

    async def found(request: Any) -> Any:
        resp = web.HTTPFound(location="/elsewhere")
        await resp.prepare(request)
        await resp.write_eof()
        return resp

    async def empty(request: Any) -> Any:
        resp = web.Response()
        resp.cookies["name"] = "value"
        await resp.prepare(request)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/text", text)
    app.router.add_get("/found", found)
    app.router.add_get("/empty", empty)
    return app


async def test_write_eof_sends_the_body_of_a_prepared_response() -> None:
    reply = await same(_prepare_then_write_eof, build("GET", "/text"))
    assert reply.body == b"hello"
    assert reply.after == "HTTP/1.1 404 Not Found"  # the connection stays usable


@pytest.mark.filterwarnings("ignore:returning HTTPException:DeprecationWarning")
async def test_write_eof_sends_the_body_of_a_prepared_http_exception() -> None:
    reply = await same(_prepare_then_write_eof, build("GET", "/found"))
    assert reply.body == b"302: Found"


async def test_write_eof_of_a_prepared_empty_response() -> None:
    reply = await same(_prepare_then_write_eof, build("GET", "/empty"))
    assert reply.header("Content-Length") == "0"
    assert reply.header("Set-Cookie") == "name=value"


# -- headers given as a CIMultiDict belong to the caller ------------------------------

SHARED: CIMultiDict[str] = CIMultiDict()


def _shared_headers(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        n = request.query["n"]
        resp = web.Response(text="x" * int(n), headers=SHARED)
        resp.set_cookie("who", n)
        await resp.prepare(request)
        return resp

    async def stream(request: Any) -> Any:
        resp = web.StreamResponse(headers=SHARED)
        resp.set_cookie("who", request.query["n"])
        await resp.prepare(request)
        await resp.write(b"s")
        return resp

    app = web.Application()
    app.router.add_get("/", handler)
    app.router.add_get("/stream", stream)
    return app


async def test_headers_mapping_passed_in_is_not_changed() -> None:
    # SECURITY: a module-level CIMultiDict reused for every response collected the
    # Content-Length and Set-Cookie of earlier answers: the next user got another's
    # cookie and a body cut to the first length
    SHARED.clear()
    SHARED["X-Shared"] = "1"
    for path in ("/?n=1", "/?n=3", "/stream?n=5", "/?n=2"):
        reply = await same(_shared_headers, build("GET", path))
        assert reply.header_all("Set-Cookie") == [f"who={path[-1]}; Path=/"]
    assert reply.body == b"xx"
    assert list(SHARED.items()) == [("X-Shared", "1")]


def test_response_copies_a_cimultidict(webmod: Any) -> None:
    headers: CIMultiDict[str] = CIMultiDict({"X-A": "1"})
    for resp in (
        webmod.Response(body=b"b", headers=headers),
        webmod.StreamResponse(headers=headers),
    ):
        resp.headers["X-B"] = "2"
        assert resp.headers is not headers
    assert list(headers.items()) == [("X-A", "1")]


# -- the head of a prepared Response ---------------------------------------------------


def _prepared(web: Any) -> Any:
    async def plain(request: Any) -> Any:
        resp = web.Response(body=b"answer")
        await resp.prepare(request)
        return resp

    app = web.Application()
    app.router.add_route("*", "/", plain)
    return app


async def test_head_of_a_prepared_response_declares_its_length() -> None:
    reply = await same(_prepared, build("HEAD", "/"))
    assert reply.header("Content-Length") == "6"


async def test_head_of_a_prepared_empty_response_declares_no_length() -> None:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.Response()
            await resp.prepare(request)
            return resp

        app = web.Application()
        app.router.add_route("*", "/", handler)
        return app

    head = await same(factory, build("HEAD", "/"))
    assert head.header("Content-Length") is None
    get = await same(factory, build("GET", "/"))
    assert get.header("Content-Length") == "0"


# -- values an application reads and sets ----------------------------------------------


@pytest.mark.parametrize(
    "value", ['"quoted"', "with space", "tab\there", "ctl\x7f", "beyond latin-1 \u2200", ""]
)
def test_etag_setter_refuses_what_is_no_entity_tag(webmod: Any, value: str) -> None:
    resp = webmod.StreamResponse()
    with pytest.raises(ValueError, match="is not a valid etag"):
        resp.etag = value
    assert "ETag" not in resp.headers


@pytest.mark.parametrize("value", [123, b"bytes"])
def test_etag_setter_refuses_other_types(webmod: Any, value: Any) -> None:
    with pytest.raises(ValueError, match="Unsupported etag type"):
        webmod.StreamResponse().etag = value


def test_etag_setter_takes_aiohttps_etag_too(webmod: Any) -> None:
    # an application moving to Squall may still build tags with aiohttp.ETag
    from aiohttp import ETag

    resp = webmod.StreamResponse()
    resp.etag = ETag("abc", is_weak=True)
    assert resp.headers["ETag"] == 'W/"abc"'
    assert (resp.etag.value, resp.etag.is_weak) == ("abc", True)
    resp.etag = "caf\xe9"  # obs-text: one byte on the wire
    assert resp.headers["ETag"] == '"caf\xe9"'


@pytest.mark.parametrize("header", ["forgotten quotes", '"\u2200 x"', '"a"b"', 'W/"', '""'])
def test_etag_getter_is_none_for_a_malformed_header(webmod: Any, header: str) -> None:
    resp = webmod.StreamResponse()
    resp.headers["ETag"] = header
    assert resp.etag is None


def test_last_modified_rounds_a_datetime_up_as_a_timestamp(webmod: Any) -> None:
    dt = datetime.datetime(2020, 12, 2, 9, 51, 2, 500000, datetime.UTC)
    by_dt, by_ts = webmod.StreamResponse(), webmod.StreamResponse()
    by_dt.last_modified = dt
    by_ts.last_modified = dt.timestamp()
    assert by_dt.headers["Last-Modified"] == by_ts.headers["Last-Modified"]
    assert by_dt.headers["Last-Modified"] == "Wed, 02 Dec 2020 09:51:03 GMT"


def test_last_modified_naive_datetime_is_utc(webmod: Any, monkeypatch: Any) -> None:
    # a server whose local time is not UTC (the naive value was read as local time)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        resp = webmod.StreamResponse()
        resp.last_modified = datetime.datetime(2020, 12, 2, 9, 51, 2)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert resp.headers["Last-Modified"] == "Wed, 02 Dec 2020 09:51:02 GMT"


def test_last_modified_of_another_type(webmod: Any) -> None:
    resp = webmod.StreamResponse()
    with pytest.raises(TypeError, match="Unsupported type for last_modified: object"):
        resp.last_modified = object()  # type: ignore[assignment]
    assert "Last-Modified" not in resp.headers


def test_reason_with_a_line_break(webmod: Any) -> None:
    with pytest.raises(ValueError, match=r"Reason cannot contain \\r or \\n"):
        webmod.Response(reason="Bad\r\nInjected-header: foo")


def test_chunk_size_is_deprecated_and_ignored(webmod: Any) -> None:
    resp = webmod.StreamResponse()
    with pytest.warns(DeprecationWarning, match="Chunk size is deprecated"):
        resp.enable_chunked_encoding(chunk_size=8192)
    assert resp.chunked


# keys are named after the module that creates them: these are made here, at import
_KEYS = {
    web: (
        web.ResponseKey("key", int),
        web.ResponseKey[list[int]]("other"),
        web.ResponseKey("k", datetime.date),
    )
    for web in (squall_web, aiohttp_web)
}


def test_response_key_repr(webmod: Any) -> None:
    key, generic, dated = _KEYS[webmod]
    assert repr(key) == f"<ResponseKey({__name__}.key, type=int)>"
    assert repr(generic) == f"<ResponseKey({__name__}.other, type=list[int])>"
    assert repr(dated) == f"<ResponseKey({__name__}.k, type=datetime.date)>"


def test_str_keys_warn_once_each(webmod: Any) -> None:
    resp = webmod.StreamResponse()
    with pytest.warns(webmod.NotAppKeyWarning):
        resp["test_str_keys_warn_once_each 1"] = 1
    with pytest.warns(webmod.NotAppKeyWarning):
        resp["test_str_keys_warn_once_each 2"] = 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resp["test_str_keys_warn_once_each 1"] = 3
        resp[webmod.ResponseKey("typed", int)] = 4
    assert resp["test_str_keys_warn_once_each 1"] == 3


@pytest.mark.parametrize("status", [101, 204, 304])
async def test_bodiless_status_drops_framing_headers(webmod: Any, status: int) -> None:
    seen: list[list[str]] = []

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.Response(
                status=status, headers={"Transfer-Encoding": "chunked", "Content-Length": "0"}
            )
            await resp.prepare(request)
            seen.append(sorted(resp.headers))
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    # a 101 answers a request that asked to switch (else it is refused: test_upstream_leftovers)
    upgrade = {"Connection": "Upgrade", "Upgrade": "example"} if status == 101 else None
    await run_on(webmod, factory, build("GET", "/", headers=upgrade))
    assert "Transfer-Encoding" not in seen[0]
    assert "Content-Length" not in seen[0]


# -- bodies read when sent: file objects and async iterables ----------------------------


def _open(path: Path, mode: str = "rb") -> Any:
    """A file the response owns: it closes it after sending."""
    return open(path, mode)


def _streamed(root: Path) -> Any:
    def factory(web: Any) -> Any:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first,"
            yield b"second"

        routes = {
            "/agen": lambda request: web.Response(body=chunks(), headers={"X-A": "1"}),
            "/file": lambda request: web.Response(body=_open(root / "report.pdf", "rb")),
            "/named": lambda request: web.Response(
                body=_open(root / "a b\u00e9.txt", "rb"),
                content_type="text/csv",
            ),
            "/bytesio": lambda request: web.Response(body=io.BytesIO(b"in memory")),
            "/stringio": lambda request: web.Response(body=io.StringIO("text \u00e9")),
            "/reader": lambda request: web.Response(body=io.BufferedReader(io.BytesIO(b"r"))),
            "/proxy": lambda request: web.Response(body=request.content),
            "/gzip": lambda request: _compressed(
                web.Response(body=_open(root / "report.pdf", "rb"))
            ),
        }

        def _compressed(resp: Any) -> Any:
            resp.enable_compression(web.ContentCoding.gzip)
            return resp

        async def prepared(request: Any) -> Any:
            resp = web.Response(body=chunks())
            await resp.prepare(request)
            await resp.write_eof()
            return resp

        app = web.Application()
        for path, make in routes.items():

            async def handler(request: Any, make: Any = make) -> Any:
                return make(request)

            app.router.add_route("*", path, handler)
        app.router.add_get("/prepared", prepared)
        return app

    return factory


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "a b\u00e9.txt").write_bytes(b"x,y\n")
    return tmp_path


@pytest.mark.parametrize(
    "request_bytes",
    [
        build("GET", "/agen"),
        build("HEAD", "/agen"),
        build("GET", "/agen", version="1.0"),
        build("GET", "/prepared"),
        build("GET", "/file"),
        build("HEAD", "/file"),
        build("GET", "/named"),
        build("GET", "/bytesio"),
        build("HEAD", "/bytesio"),
        build("GET", "/stringio"),
        build("GET", "/reader"),
        build("POST", "/proxy", body=b"sent back as it came"),
    ],
    ids=lambda data: data.split(b"\r\n")[0].decode(),
)
async def test_streamed_body_as_aiohttp_sends_it(root: Path, request_bytes: bytes) -> None:
    reply = await same(_streamed(root), request_bytes)
    assert reply.status == 200


async def test_file_body_headers(root: Path) -> None:
    reply = await same(_streamed(root), build("GET", "/file"))
    assert reply.header("Content-Length") == "19"
    assert reply.header("Content-Type") == "application/pdf"
    assert reply.header("Content-Disposition") == 'attachment; filename="report.pdf"'
    named = await same(_streamed(root), build("GET", "/named"))
    assert named.header("Content-Disposition") == 'attachment; filename="a%20b%C3%A9.txt"'
    assert named.header("Content-Type") == "text/csv"


async def test_async_iterable_body_is_chunked(root: Path) -> None:
    reply = await same(_streamed(root), build("GET", "/agen"))
    assert reply.header("Transfer-Encoding") == "chunked"
    assert reply.body == b"first,second"


async def test_compressed_file_body(root: Path) -> None:
    # aiohttp sends no Vary here (docs/compat.md); the coded stream is the same
    async with serve(squall_web, _streamed(root)) as port:
        reply = await exchange(port, build("GET", "/gzip", headers={"Accept-Encoding": "gzip"}))
    assert reply.header("Content-Encoding") == "gzip"
    assert reply.header("Content-Length") is None
    assert gzip.decompress(reply.body) == b"%PDF-1.4 not really"


async def test_text_file_body_is_chunked(tmp_path: Path) -> None:
    # SECURITY: aiohttp declares the file's byte size as Content-Length, but text
    # mode turns CRLF into LF: fewer bytes follow than declared, the client waits
    # and the connection is out of step. Squall chunks a text file.
    (tmp_path / "lines.txt").write_bytes(b"one\r\ntwo\r\n")

    async def handler(request: Any) -> Any:
        return squall_web.Response(body=_open(tmp_path / "lines.txt", "r"))

    app = squall_web.Application()
    app.router.add_get("/", handler)
    async with serve(squall_web, lambda web: app) as port:
        reply = await exchange(port, build("GET", "/"))
    assert reply.header("Content-Length") is None
    assert reply.header("Transfer-Encoding") == "chunked"
    assert reply.header("Content-Type") == "text/plain; charset=utf-8"
    assert reply.body == b"one\ntwo\n"
    assert reply.after == "HTTP/1.1 404 Not Found"


async def test_file_body_is_closed_after_sending(root: Path) -> None:
    files: list[Any] = []

    async def handler(request: Any) -> Any:
        files.append(_open(root / "report.pdf", "rb"))
        return squall_web.Response(body=files[-1])

    app = squall_web.Application()
    app.router.add_route("*", "/", handler)
    async with serve(squall_web, lambda web: app) as port:
        await exchange(port, build("GET", "/"))
        await exchange(port, build("HEAD", "/"))
    assert [f.closed for f in files] == [True, True]


def test_streamed_body_values(webmod: Any, root: Path) -> None:
    with _open(root / "report.pdf") as f:
        resp = webmod.Response(body=f)
        if webmod is squall_web:  # aiohttp's is its payload wrapping f
            assert resp.body is f
        assert resp.content_length is None
        assert resp.text == "%PDF-1.4 not really"
        if webmod is squall_web:  # aiohttp seeks back at the next read
            assert f.tell() == 0  # read and put back
        assert not resp.compression
        resp.body = b"bytes again"
        assert resp.body == b"bytes again"
        assert resp.content_length == 11
    assert webmod.Response(body=io.StringIO("abc")).text == "abc"
    assert webmod.Response(body=io.BytesIO(b"abc")).headers["Content-Type"] == (
        "application/octet-stream"
    )


def test_text_of_an_async_iterable_body(webmod: Any) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"never read"  # pragma: no cover

    gen = chunks()
    with pytest.raises(TypeError):
        webmod.Response(body=gen).text  # noqa: B018
    asyncio.run(gen.aclose())


@pytest.mark.parametrize("body", [123, object(), [b"a list"]])
def test_unsupported_body(webmod: Any, body: Any) -> None:
    with pytest.raises(ValueError, match="Unsupported body type"):
        webmod.Response(body=body)


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (build("GET", "/"), True),
        (build("GET", "/", headers={"Connection": "close"}), False),
        (build("GET", "/", version="1.0"), False),
    ],
)
async def test_keep_alive_is_known_once_prepared(
    webmod: Any, request_bytes: bytes, expected: bool
) -> None:
    seen: list[Any] = []

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.StreamResponse()
            seen.append(resp.keep_alive)
            await resp.prepare(request)
            seen.append(resp.keep_alive)
            await resp.write_eof(b"x")
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    await run_on(webmod, factory, request_bytes)
    assert seen == [None, expected]


async def test_streamed_body_from_a_low_level_server(squall_raw_server: Any) -> None:
    # web.Server has a whole-body fast path of its own, as the application has
    async def chunks() -> AsyncIterator[bytes]:
        yield b"low,"
        yield b"level"

    async def handler(request: Any) -> Any:
        return squall_web.Response(body=chunks())

    server = await squall_raw_server(handler)
    reply = await exchange(server.port, build("GET", "/"))
    assert reply.header("Transfer-Encoding") == "chunked"
    assert reply.body == b"low,level"


@pytest.mark.parametrize("prepared", [True, False])
async def test_prepare_hook_changing_the_body(prepared: bool) -> None:
    # SECURITY: aiohttp declares the length of the body before the hook and sends the
    # hook's longer body after it: the extra bytes start the next response. Squall
    # declares the length of the body the hook left.
    async def hook(request: Any, response: Any) -> None:
        response.text = response.text.upper() + "!"

    async def handler(request: Any) -> Any:
        resp = squall_web.Response(text="hello")
        if prepared:
            await resp.prepare(request)
        return resp

    app = squall_web.Application()
    app.router.add_get("/", handler)
    app.on_response_prepare.append(hook)
    async with serve(squall_web, lambda web: app) as port:
        reply = await exchange(port, build("GET", "/"))
    assert reply.header("Content-Length") == "6"
    assert reply.body == b"HELLO!"
    assert reply.after == "HTTP/1.1 404 Not Found"


def _prepared_gzip(web: Any) -> Any:
    async def gzipped(request: Any) -> Any:
        resp = web.Response(body=b"answer" * 100)
        resp.enable_compression(web.ContentCoding.gzip)
        await resp.prepare(request)
        assert resp.content_length == 32  # the coded length, known before the body goes
        return resp

    app = web.Application()
    app.router.add_route("*", "/gzip", gzipped)
    return app


async def test_prepared_compressed_response_declares_the_coded_length() -> None:
    reply = await same(_prepared_gzip, build("GET", "/gzip"))
    assert reply.header("Content-Length") == "32"
    assert reply.header("Transfer-Encoding") is None


async def test_head_of_a_prepared_compressed_response() -> None:
    reply = await same(_prepared_gzip, build("HEAD", "/gzip"))
    assert reply.header("Content-Length") == "32"


async def test_output_length_counts_the_head_and_the_body_written() -> None:
    """output_length (deprecated, as on aiohttp): the bytes written for the response
    so far, head included; 0 before prepare()."""
    seen: list[int] = []

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.StreamResponse()
            resp.content_length = 6
            with pytest.warns(DeprecationWarning, match="output_length is deprecated"):
                seen.append(resp.output_length)
            await resp.prepare(request)
            await resp.write(b"abc")
            with pytest.warns(DeprecationWarning):
                seen.append(resp.output_length)
            await resp.write(b"def")
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    async with serve(squall_web, factory) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(build("GET", "/"))
        raw = await reader.readuntil(b"\r\n\r\n") + await reader.readexactly(6)
        writer.close()
    assert raw.endswith(b"abcdef")
    assert seen == [0, len(raw) - 3]


def _empty_bodies(web: Any) -> Any:
    async def plain(request: Any) -> Any:
        return web.Response()

    async def text(request: Any) -> Any:
        return web.Response(text="")

    async def headers(request: Any) -> Any:
        return web.Response(headers={"X-A": "1"})

    async def declared(request: Any) -> Any:
        return web.Response(headers={"Content-Length": "0"})

    app = web.Application()
    for name, handler in (("plain", plain), ("text", text), ("hdrs", headers), ("cl", declared)):
        app.router.add_get("/" + name, handler)
    return app


@pytest.mark.parametrize("method", ["HEAD", "GET"])
@pytest.mark.parametrize("path", ["/plain", "/text", "/hdrs", "/cl"])
async def test_an_empty_body_is_declared_to_get_not_to_head(method: str, path: str) -> None:
    """aiohttp gives HEAD no Content-Length for an empty body it was not told the
    length of (GET gets ``Content-Length: 0``), whichever path sends the head."""
    reply = await same(_empty_bodies, build(method, path))
    expected = "0" if method == "GET" or path == "/cl" else None
    assert reply.header("Content-Length") == expected


async def test_a_prepared_empty_compressed_response_streams_what_is_written() -> None:
    """Response() with compression, prepared, then written to: the writes go out
    compressed and chunked (aiohttp answers 500: it asserts a body); the coded
    length is only declared for a body given before prepare()."""

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.Response()
            resp.enable_compression()
            await resp.prepare(request)
            await resp.write(b"data" * 10)
            await resp.write_eof()
            return resp

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    reply = await run_on(
        squall_web, factory, build("GET", "/", headers={"Accept-Encoding": "gzip"})
    )
    assert reply.header("Content-Encoding") == "gzip"
    assert reply.header("Content-Length") is None
    assert gzip.decompress(reply.body) == b"data" * 10
