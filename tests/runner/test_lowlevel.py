"""The low-level server: ``web.Server(handler)`` behind ``web.ServerRunner``.

Through real sockets, and beside aiohttp's own low-level server where the same
handler runs on both.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web as aiohttp_web

from squall import web
from squall.framework.lowlevel import Server
from squall.framework.request import BaseRequest
from squall.runner import RequestHandler, ServerRunner
from squall.testing import RawTestServer
from tests.conftest import RawConnection
from tests.runner.conftest import spawn

# the example of aiohttp's "Low Level Server" page, word for word but the import
# line (and the port, 8080 on a shared machine, which the test replaces)
DOC_EXAMPLE = """\
import asyncio
from squall import web


async def handler(request):
    return web.Response(text="OK")


async def main():
    server = web.Server(handler)
    runner = web.ServerRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, 'localhost', 8080)
    await site.start()

    print("======= Serving on http://127.0.0.1:8080/ ======")

    # pause here for very long time by serving HTTP requests and
    # waiting for keyboard interruption
    await asyncio.sleep(100*3600)


asyncio.run(main())
"""


@pytest.mark.child
async def test_the_documented_example_runs(tmp_path: Path, unused_tcp_port: int) -> None:
    names = "from squall import web"
    program = DOC_EXAMPLE.replace("8080", str(unused_tcp_port))
    # the lead exports these names from squall.web; until then the test adds them
    program = program.replace(
        names,
        names + "\nfrom squall.framework.lowlevel import Server as _S\n"
        "from squall.runner import ServerRunner as _R\n"
        "web.Server = getattr(web, 'Server', _S)\n"
        "web.ServerRunner = getattr(web, 'ServerRunner', _R)",
    )
    async with spawn(program, tmp_path) as child:
        line = await child.line()
        assert line == f"======= Serving on http://127.0.0.1:{unused_tcp_port}/ ======"
        async with httpx.AsyncClient() as client:
            for method, path in [("GET", "/"), ("POST", "/any/path?x=1"), ("DELETE", "/z")]:
                resp = await client.request(method, f"http://127.0.0.1:{unused_tcp_port}{path}")
                assert (resp.status_code, resp.text) == (200, "OK")
                assert resp.headers["content-type"] == "text/plain; charset=utf-8"


# -- one handler on both servers ----------------------------------------------------------


@asynccontextmanager
async def low_level(
    webmod: Any, handler: Callable[[Any], Awaitable[Any]], **kwargs: Any
) -> AsyncIterator[int]:
    """Serve ``handler`` with ``webmod``'s low-level server; yield the port."""
    server = webmod.Server(handler, **kwargs)
    runner = webmod.ServerRunner(server)
    await runner.setup()
    try:
        site = webmod.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


# squall.web's low-level names, from their modules until squall.web exports them
SQUALL_LOW = SimpleNamespace(Server=Server, ServerRunner=ServerRunner, TCPSite=web.TCPSite)
BOTH = pytest.mark.parametrize("webmod", [SQUALL_LOW, aiohttp_web], ids=["squall", "aiohttp"])


def responses(webmod: Any) -> Any:
    """``webmod``'s response and exception classes (a handler builds its answer with them)."""
    return aiohttp_web if webmod is aiohttp_web else web


@BOTH
async def test_one_handler_answers_every_request(webmod: Any) -> None:
    w = responses(webmod)

    async def handler(request: Any) -> Any:
        if request.path == "/missing":
            raise w.HTTPNotFound(text="no such thing")
        if request.path == "/redirect":
            raise w.HTTPFound("/elsewhere")
        if request.path == "/crash":
            raise RuntimeError("secret detail")
        if request.path == "/stream":
            resp = w.StreamResponse(headers={"X-Kind": "stream"})
            await resp.prepare(request)
            for part in (b"one,", b"two,", b"three"):
                await resp.write(part)
            return resp
        body = await request.read()
        return w.Response(
            text=f"{request.method} {request.path_qs} {body.decode()}",
            headers={"X-Type": type(request).__name__},
        )

    async with low_level(webmod, handler) as port:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, follow_redirects=False) as client:
            resp = await client.put("/a/b?q=1", content=b"payload")
            assert (resp.status_code, resp.text) == (200, "PUT /a/b?q=1 payload")
            assert resp.headers["x-type"] == "BaseRequest"
            resp = await client.get("/missing")
            assert (resp.status_code, resp.text) == (404, "no such thing")
            resp = await client.get("/redirect")
            assert (resp.status_code, resp.headers["location"]) == (302, "/elsewhere")
            resp = await client.get("/crash")
            assert resp.status_code == 500
            assert "secret detail" not in resp.text and "Traceback" not in resp.text
            resp = await client.get("/stream")
            assert (resp.status_code, resp.content) == (200, b"one,two,three")
            assert resp.headers["x-kind"] == "stream"


@BOTH
async def test_handler_returning_no_response_is_a_500(webmod: Any) -> None:
    async def handler(request: Any) -> Any:
        return None

    async with low_level(webmod, handler) as port, httpx.AsyncClient() as client:
        resp = await client.get(f"http://127.0.0.1:{port}/")
        assert resp.status_code == 500
        resp = await client.get(f"http://127.0.0.1:{port}/again")  # still serving
        assert resp.status_code == 500


async def test_errors_are_logged_not_sent(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: BaseRequest) -> web.StreamResponse:
        raise ValueError("the secret")

    with caplog.at_level(logging.ERROR, logger="squall.server"):
        async with low_level(SQUALL_LOW, handler, access_log=None) as port:
            conn = await RawConnection.open(port)
            await conn.send(b"GET /x HTTP/1.1\r\nHost: t\r\nAccept: text/html\r\n\r\n")
            status, _, body = await conn.read_response()
            conn.close()
    assert status == b"HTTP/1.1 500 Internal Server Error"
    assert b"the secret" not in body and b"<h1>500 Internal Server Error</h1>" in body
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info is not None
    assert "the secret" in str(errors[0].exc_info[1])


async def test_request_factory_handler_cancellation_and_counts() -> None:
    built: list[Any] = []

    def factory(head: Any, body: Any, sink: Any) -> BaseRequest:
        request = web.Request(head, body, sink)
        built.append(request)
        return request

    async def handler(request: BaseRequest) -> web.Response:
        assert isinstance(request.protocol, RequestHandler)
        return web.Response(text=type(request).__name__)

    server = Server(handler, request_factory=factory, handler_cancellation=True, max_headers=5)
    runner = ServerRunner(server)
    await runner.setup()
    try:
        assert runner.server is server
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        wire = server._connections
        assert wire is not None and wire.config.handler_cancellation  # type: ignore[attr-defined]
        assert wire.config.max_headers == 5  # type: ignore[attr-defined]
        async with httpx.AsyncClient() as client:
            for _ in range(3):
                resp = await client.get(f"{site.name}/")
                assert resp.text == "Request"
            assert len(server.connections) == 1  # kept alive
        assert len(built) == server.requests_count == 3
    finally:
        await runner.cleanup()
    with pytest.raises(RuntimeError, match="ServerRunner"):
        server()  # no connections side once the runner is gone


async def test_server_runner_refuses_what_is_not_a_server() -> None:
    async def handler(request: BaseRequest) -> web.Response:
        return web.Response()

    with pytest.raises(TypeError, match=r"web\.Server"):
        ServerRunner(web.Application())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_header"):
        ServerRunner(Server(handler, max_header=5))


# -- RawTestServer ---------------------------------------------------------------------------


async def test_raw_test_server_serves_a_low_level_handler() -> None:
    async def handler(request: BaseRequest) -> web.Response:
        return web.Response(text=f"raw {request.method} {request.path}")

    async with RawTestServer(handler, keepalive_timeout=5.0) as server:
        assert isinstance(server.runner, ServerRunner)
        assert isinstance(server.handler, Server)
        async with aiohttp.ClientSession() as session:
            async with session.post(server.make_url("/some/where")) as resp:
                assert (resp.status, await resp.text()) == (200, "raw POST /some/where")
    assert server.closed


async def test_squall_raw_server_fixture(squall_raw_server: Any) -> None:
    async def handler(request: BaseRequest) -> web.Response:
        raise web.HTTPForbidden(text="no entry")

    server = await squall_raw_server(handler)
    async with httpx.AsyncClient() as client:
        resp = await client.get(str(server.make_url("/")))
    assert (resp.status_code, resp.text) == (403, "no entry")


async def test_base_request_has_no_app_attributes() -> None:
    """As aiohttp's BaseRequest: no app, match_info or config_dict; hasattr/getattr
    with a default work (no AssertionError)."""

    async def probe(request: web.BaseRequest) -> web.Response:
        found = [name for name in ("app", "match_info", "config_dict") if hasattr(request, name)]
        return web.Response(text=",".join(found) or "none")

    server = RawTestServer(probe)
    await server.start_server()
    try:
        async with httpx.AsyncClient() as client:
            resp = await client.get(str(server.make_url("/x")))
    finally:
        await server.close()
    assert (resp.status_code, resp.text) == (200, "none")
