"""TestClient with the aiohttp client arguments aiohttp's own suites pass.

``version=`` on the session, ``expect100=``, aiohttp's ``FormData`` / ``MultipartWriter``
/ file objects as ``data=``, ``connector=``, ``auto_decompress=`` and a request
given to ``asyncio.create_task``. Each ``kit`` test runs on aiohttp's test_utils
too, which proves its expectations are aiohttp's; the raw-server tests check the
bytes Squall's client puts on the wire.
"""

from __future__ import annotations

import asyncio
import gzip
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from squall import web as squall_web
from squall.testing import TestClient, TestServer

from .conftest import Kit

GUARD = 10.0  # a hang guard only
HERE = Path(__file__).parent


def about(web: Any) -> Any:
    """An app answering what the request looked like to it."""

    async def handler(request: Any) -> Any:
        body = await request.read()
        return web.json_response(
            {
                "version": list(request.version),
                "connection": request.headers.get("Connection"),
                "length": request.headers.get("Content-Length"),
                "chunked": request.headers.get("Transfer-Encoding"),
                "body": body.decode("latin-1"),
            }
        )

    app = web.Application()
    app.router.add_route("*", "/", handler)
    return app


@pytest.mark.parametrize("version", [aiohttp.HttpVersion10, "1.0"])
async def test_a_session_of_http_1_0_asks_and_answers_in_http_1_0(kit: Kit, version: Any) -> None:
    async with kit.client(about(kit.web), version=version) as client:
        resp = await client.get("/")
        assert tuple(resp.version) == (1, 0)
        assert resp.headers["Connection"] == "keep-alive"  # the client asked to keep it
        got = await resp.json()
        assert (got["version"], got["connection"]) == ([1, 0], "keep-alive")

        resp = await client.post("/", data=b"abc", headers={"Connection": "close"})
        assert tuple(resp.version) == (1, 0)
        assert "Connection" not in resp.headers
        got = await resp.json()
        assert (got["version"], got["length"], got["body"]) == ([1, 0], "3", "abc")

        resp = await client.head("/")
        assert (resp.status, await resp.read()) == (200, b"")


async def test_a_session_of_http_1_1_is_the_default(kit: Kit) -> None:
    async with kit.client(about(kit.web), version=aiohttp.HttpVersion11) as client:
        resp = await client.get("/")
        assert tuple(resp.version) == (1, 1)
        assert "Connection" not in resp.headers
        assert (await resp.json())["version"] == [1, 1]


async def test_an_http_1_0_body_of_unknown_length_goes_with_its_length() -> None:
    # NOTE: aiohttp sends it chunked, which HTTP/1.0 does not have; Squall's client
    # collects it and sends a Content-Length
    async def parts() -> AsyncIterator[bytes]:
        yield b"ab"
        yield b"cd"

    async with TestClient(TestServer(about(squall_web)), version=(1, 0)) as client:
        resp = await client.post("/", data=parts())
        got = await resp.json()
        assert (got["version"], got["length"], got["chunked"], got["body"]) == (
            [1, 0],
            "4",
            None,
            "abcd",
        )


async def test_an_http_1_0_body_without_a_length_ends_with_the_connection() -> None:
    # NOTE: not a kit test: aiohttp's server keeps such a connection open, and its
    # client then waits for the end of the body until its timeout
    web = squall_web

    async def handler(request: Any) -> Any:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for part in (b"one ", b"two ", b"three"):
            await resp.write(part)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app), version=aiohttp.HttpVersion10) as client:
        resp = await client.get("/")
        assert "Content-Length" not in resp.headers
        assert "Transfer-Encoding" not in resp.headers
        assert await resp.read() == b"one two three"


async def test_an_unparsable_version_is_refused(kit: Kit) -> None:
    with pytest.raises(ValueError, match="Can not parse http version number: one"):
        async with kit.client(about(kit.web), version="one") as client:
            await client.get("/")


def expecting(web: Any, seen: list[str | None]) -> Any:
    async def expect_handler(request: Any) -> Any:
        seen.append(request.headers.get("Expect"))
        if request.headers.get("X-Deny"):
            raise web.HTTPForbidden()
        if request.headers.get("X-Cached"):
            return web.Response(text="cached")
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return None

    async def handler(request: Any) -> Any:
        return web.Response(text="got " + (await request.text()))

    app = web.Application()
    app.router.add_post("/", handler, expect_handler=expect_handler)
    app.router.add_post("/default", handler)
    return app


async def test_expect100_sends_the_body_once_the_server_continues(kit: Kit) -> None:
    seen: list[str | None] = []
    async with kit.client(expecting(kit.web, seen)) as client:
        resp = await client.post("/", data=b"payload", expect100=True)
        assert (resp.status, await resp.text()) == (200, "got payload")
        resp = await client.post("/default", data=b"more", expect100=True)
        assert (resp.status, await resp.text()) == (200, "got more")
        resp = await client.post("/", data=b"x", expect100=True, headers={"X-Deny": "1"})
        assert resp.status == 403
        async with client.post("/", expect100=True, headers={"X-Cached": "1"}) as resp:
            assert (resp.status, await resp.text()) == (200, "cached")
        resp = await client.get("/", expect100=True)
        assert resp.status == 405
    assert seen == ["100-continue"] * 3


async def raw_server(answer: Callable[..., Awaitable[None]]) -> asyncio.Server:
    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_expect100_holds_the_body_back_when_the_server_answers_first() -> None:
    received = asyncio.get_running_loop().create_future()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope")
        await writer.drain()
        received.set_result((head, await reader.read()))  # up to the client's close
        writer.close()

    server = await raw_server(answer)
    port = server.sockets[0].getsockname()[1]
    async with server, TestClient(TestServer(squall_web.Application())) as client:
        session = client.session
        resp = await session.post(f"http://127.0.0.1:{port}/up", data=b"BODY", expect100=True)
        assert (resp.status, await resp.read()) == (417, b"nope")
        head, rest = await asyncio.wait_for(received, GUARD)
    assert head.startswith(b"POST /up HTTP/1.1\r\n")
    assert b"\r\nExpect: 100-continue\r\n" in head
    assert b"\r\nContent-Length: 4\r\n" in head
    assert rest == b""  # the body never went


async def test_expect100_skips_interim_answers_before_the_100() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n")
        body = await reader.readexactly(4)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"3\r\ngot\r\n5\r\n " + body + b"\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await raw_server(answer)
    port = server.sockets[0].getsockname()[1]
    async with server, TestClient(TestServer(squall_web.Application())) as client:
        resp = await client.session.post(f"http://127.0.0.1:{port}/", data=b"BODY", expect100=True)
        assert (resp.status, await resp.read()) == (200, b"got BODY")


async def test_an_http_1_0_request_is_written_in_http_1_0() -> None:
    received = asyncio.get_running_loop().create_future()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.set_result(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.0 200 OK\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    server = await raw_server(answer)
    port = server.sockets[0].getsockname()[1]
    async with server, TestClient(TestServer(squall_web.Application()), version="1.0") as client:
        resp = await client.session.get(f"http://127.0.0.1:{port}/a?b=c")
        assert (tuple(resp.version), await resp.read()) == ((1, 0), b"all of it")
        head = await asyncio.wait_for(received, GUARD)
    assert head.startswith(b"GET /a?b=c HTTP/1.0\r\n")
    assert f"\r\nHost: 127.0.0.1:{port}\r\n".encode() in head


def form_echo(web: Any) -> Any:
    """An app answering the form it got: each field's value, or its file's
    (filename, content type, content)."""

    async def handler(request: Any) -> Any:
        form = await request.post()
        fields: list[Any] = []
        for name, value in form.items():
            if isinstance(value, str | bytes | bytearray):
                fields.append(
                    [name, bytes(value).decode() if not isinstance(value, str) else value]
                )
            else:
                content = value.file.read().decode()
                fields.append([name, value.filename, value.content_type, content])
        return web.json_response({"type": request.content_type, "fields": fields})

    app = web.Application()
    app.router.add_post("/", handler)
    return app


async def test_an_aiohttp_formdata_is_sent_as_aiohttp_sends_it(kit: Kit) -> None:
    async with kit.client(form_echo(kit.web)) as client:
        form = aiohttp.FormData()
        form.add_field("a", "1")
        form.add_field("f", io.BytesIO(b"DATA"), filename="x.txt")
        got = await (await client.post("/", data=form)).json()
        assert got == {
            "type": "multipart/form-data",
            "fields": [["a", "1"], ["f", "x.txt", "application/octet-stream", "DATA"]],
        }
        plain = aiohttp.FormData({"a": "1", "b": "two"})
        got = await (await client.post("/", data=plain, expect100=True)).json()
        assert got == {
            "type": "application/x-www-form-urlencoded",
            "fields": [["a", "1"], ["b", "two"]],
        }


async def test_an_aiohttp_multipartwriter_is_sent_as_aiohttp_sends_it(kit: Kit) -> None:
    async with kit.client(form_echo(kit.web)) as client:
        with aiohttp.MultipartWriter("form-data") as writer:
            part = writer.append("text")
            part.set_content_disposition("form-data", name="t")
            part = writer.append(io.BytesIO(b"\x00bin"))
            part.set_content_disposition("form-data", name="b", filename="b.bin")
        got = await (await client.post("/", data=writer)).json()
        assert got == {
            "type": "multipart/form-data",
            "fields": [["t", "text"], ["b", "b.bin", "application/octet-stream", "\x00bin"]],
        }


async def test_files_in_a_dict_or_a_list_are_named_as_aiohttp_names_them(kit: Kit) -> None:
    async with kit.client(form_echo(kit.web)) as client:
        got = await (await client.post("/", data={"k": "v", "file": io.BytesIO(b"x")})).json()
        assert got["fields"] == [["k", "v"], ["file", "file", "application/octet-stream", "x"]]
        with (HERE / "conftest.py").open("rb") as f:
            got = await (await client.post("/", data=[f])).json()
        assert [field[:3] for field in got["fields"]] == [
            ["conftest.py", "conftest.py", "text/x-python"]
        ]


async def test_a_file_object_is_the_body(kit: Kit) -> None:
    async def handler(request: Any) -> Any:
        body = await request.read()
        return kit.web.json_response({"type": request.content_type, "body": body.decode()})

    app = kit.web.Application()
    app.router.add_post("/", handler)
    async with kit.client(app) as client:
        with (HERE / "conftest.py").open("rb") as f:
            f.readline()
            # (whether the file is closed after sending is left open: aiohttp's client
            # closes it in the background, sometimes before this line, sometimes after)
            got = await (await client.post("/", data=f)).json()
        rest = (HERE / "conftest.py").read_text().split("\n", 1)[1]
        assert got == {"type": "text/x-python", "body": rest}
        got = await (await client.post("/", data=io.StringIO("caf\u00e9"))).json()
        assert got == {"type": "text/plain", "body": "caf\u00e9"}


async def test_a_connector_limit_is_the_sessions_connection_limit(kit: Kit) -> None:
    web = kit.web
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def handler(request: Any) -> Any:
        if request.path == "/slow":
            arrived.set()
            await release.wait()
        return web.Response(text=str(request.transport.get_extra_info("peername")[1]))

    app = web.Application()
    app.router.add_get("/{any}", handler)
    connector = aiohttp.TCPConnector(limit=1)
    async with kit.client(app, connector=connector) as client:
        slow = asyncio.create_task(client.get("/slow"))
        await asyncio.wait_for(arrived.wait(), GUARD)
        fast = asyncio.create_task(client.get("/fast"))
        release.set()
        first = await asyncio.wait_for(slow, GUARD)
        port_slow = await first.text()
        second = await asyncio.wait_for(fast, GUARD)
        # one connection at most: the second request waited for the first's
        assert await second.text() == port_slow
    assert connector.closed  # the session's to close


async def test_a_request_is_a_coroutine_for_create_task(kit: Kit) -> None:
    async with kit.client(about(kit.web)) as client:
        task = asyncio.create_task(client.get("/"))
        resp = await asyncio.wait_for(task, GUARD)
        assert resp.status == 200
        pending = client.get("/")
        assert asyncio.iscoroutine(pending)
        pending.close()  # never sent, and no "never awaited" warning


def gzipped(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        return web.Response(body=gzip.compress(b"plain text"), headers={"Content-Encoding": "gzip"})

    app = web.Application()
    app.router.add_get("/", handler)
    return app


async def test_auto_decompress_false_keeps_the_body_as_sent(kit: Kit) -> None:
    async with kit.client(gzipped(kit.web), auto_decompress=False) as client:
        resp = await client.get("/")
        assert resp.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(await resp.read()) == b"plain text"
        resp = await client.get("/", auto_decompress=True)
        assert await resp.read() == b"plain text"
    async with kit.client(gzipped(kit.web)) as client:
        assert await (await client.get("/")).read() == b"plain text"
        resp = await client.get("/", auto_decompress=False)
        assert gzip.decompress(await resp.read()) == b"plain text"


async def test_the_default_head_offers_aiohttps_codings_and_no_connection(kit: Kit) -> None:
    web = kit.web

    async def handler(request: Any) -> Any:
        return web.json_response(
            [request.headers.get(h) for h in ("Accept-Encoding", "Connection")]
        )

    app = web.Application()
    app.router.add_get("/", handler)
    async with kit.client(app) as client:
        offered, connection = await (await client.get("/")).json()
        # a server picking a coding by the offer picks as for aiohttp (zstd only
        # where aiohttp has a zstd module)
        assert offered.startswith("gzip, deflate")
        assert offered == aiohttp.client_reqrep._gen_default_accept_encoding()
        assert connection is None
        resp = await client.get("/", headers={"Connection": "close"})
        assert (await resp.json())[1] == "close"
    async with kit.client(app, connector=aiohttp.TCPConnector(force_close=True)) as client:
        assert (await (await client.get("/")).json())[1] == "close"
