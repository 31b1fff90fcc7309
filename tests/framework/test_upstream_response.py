"""Responses as aiohttp's own tests (test_web_response.py, test_web_exceptions.py) use them.

Each case runs one app on Squall and on aiohttp (``_wire.same``) and compares the
bytes on a real socket; the rest check values an application reads, on both
``web`` modules (``webmod``).
"""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from ._wire import build, same

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
