"""Request bodies with a Content-Encoding: decompressed as read, bounded by
client_max_size counted in decompressed bytes; an unknown coding is 415."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import brotli
import pytest
import zstandard
from aiohttp import web as aiohttp_web

from framework._wire import build, exchange, same, serve
from squall import web as squall_web

from .conftest import field, multipart

TEXT = ("Zażółć gęślą jaźń. " * 2000).encode()


def app_factory(w: Any) -> Any:
    async def read(request: Any) -> Any:
        return w.Response(text=str(len(await request.read())) + " " + (await request.text())[:20])

    async def form(request: Any) -> Any:
        data = await request.post()
        return w.json_response(dict(data))

    async def content(request: Any) -> Any:
        size = 0
        async for chunk in request.content.iter_chunked(1000):
            size += len(chunk)
        return w.Response(text=str(size))

    app = w.Application()
    app.router.add_post("/read", read)
    app.router.add_post("/form", form)
    app.router.add_post("/content", content)
    return app


def encoded(coding: str, data: bytes) -> bytes:
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "br":
        return bytes(brotli.compress(data))
    return bytes(zstandard.ZstdCompressor().compress(data))


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
@pytest.mark.parametrize("path", ["/read", "/content"])
async def test_same_as_aiohttp(coding: str, path: str) -> None:
    data = build("POST", path, headers=[("Content-Encoding", coding)], body=encoded(coding, TEXT))
    reply = await same(app_factory, data)
    assert reply.body.startswith(str(len(TEXT)).encode())


def clone_app(w: Any) -> Any:
    """Reads the body through a clone given other headers (as proxies' middlewares do)."""

    async def handler(request: Any) -> Any:
        if request.headers.get("Content-Encoding"):
            clone = request.clone(headers={"Host": "example.com"})  # the coding dropped
        else:
            clone = request.clone(headers={"Host": "example.com", "Content-Encoding": "gzip"})
        body = await clone.read()
        return w.Response(text=f"{len(body)} {body[:2]!r}")

    app = w.Application()
    app.router.add_post("/", handler)
    return app


@pytest.mark.parametrize("coding", [None, "gzip"])
async def test_a_clone_reads_the_body_as_the_wire_coded_it(coding: str | None) -> None:
    """The coding of the wire's head decides, not the clone's headers: decoded when
    the request said gzip, the bytes as sent when it did not."""
    headers = [("Content-Encoding", coding)] if coding else []
    body = encoded("gzip", TEXT)
    reply = await same(clone_app, build("POST", "/", headers=headers, body=body))
    size = len(TEXT) if coding else len(body)
    assert reply.body.startswith(f"{size} ".encode())


async def test_zstd_and_a_compressed_form() -> None:
    form = b"a=1&b=" + b"x" * 5000
    mp = multipart([field("m", b"y" * 3000)])
    async with serve(squall_web, app_factory) as port:
        zstd = await exchange(
            port,
            build(
                "POST", "/read", headers=[("Content-Encoding", "zstd")], body=encoded("zstd", TEXT)
            ),
        )
        urlenc = await exchange(
            port,
            build(
                "POST",
                "/form",
                body=encoded("gzip", form),
                headers=[
                    ("Content-Encoding", "gzip"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
            ),
        )
        multi = await exchange(
            port,
            build(
                "POST",
                "/form",
                body=encoded("br", mp),
                headers=[
                    ("Content-Encoding", "br"),
                    ("Content-Type", "multipart/form-data; boundary=XyZ"),
                ],
            ),
        )
    assert zstd.body.startswith(str(len(TEXT)).encode() + b" Za")
    assert urlenc.json() == {"a": "1", "b": "x" * 5000}
    assert multi.json() == {"m": "y" * 3000}


def gzip_bomb(size: int) -> bytes:
    obj = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(obj.compress(block) for _ in range(size >> 20)) + obj.flush()


@pytest.mark.parametrize("path", ["/read", "/form"])
async def test_gzip_bomb_is_413(path: str) -> None:
    bomb = gzip_bomb(1 << 30)  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < 1_100_000
    headers = [("Content-Encoding", "gzip"), ("Content-Type", "application/x-www-form-urlencoded")]
    async with serve(squall_web, app_factory) as port:
        reply = await exchange(port, build("POST", path, headers=headers, body=bomb))
    assert reply.status == 413
    assert reply.body == b"Maximum request body size 1048576 exceeded."


async def test_unknown_or_broken_codings() -> None:
    async with serve(squall_web, app_factory) as port:
        unknown = await exchange(
            port, build("POST", "/read", headers=[("Content-Encoding", "lzma")], body=b"abc")
        )
        listed = await exchange(
            port, build("POST", "/read", headers=[("Content-Encoding", "gzip, br")], body=b"abc")
        )
        broken = await exchange(
            port, build("POST", "/read", headers=[("Content-Encoding", "gzip")], body=b"not gzip")
        )
        cut = await exchange(
            port,
            build(
                "POST",
                "/read",
                headers=[("Content-Encoding", "gzip")],
                body=gzip.compress(TEXT)[:-10],
            ),
        )
        identity = await exchange(
            port, build("POST", "/read", headers=[("Content-Encoding", "identity")], body=b"abc")
        )
    assert (unknown.status, unknown.body) == (415, b"Unsupported Content-Encoding: lzma")
    assert listed.status == 415
    assert (broken.status, broken.body) == (400, b"Invalid compressed body")
    assert (cut.status, cut.body) == (400, b"Truncated compressed body")
    assert identity.body == b"3 abc"


@pytest.mark.parametrize("path", ["/read", "/content"])
async def test_gzip_members_are_all_read_as_aiohttp(path: str) -> None:
    """RFC 1952 2.2: a gzip body may be several members; Squall read only the first."""
    body = gzip.compress(TEXT[:1000]) + gzip.compress(b"") + gzip.compress(TEXT)
    data = build("POST", path, headers=[("Content-Encoding", "gzip")], body=body)
    reply = await same(app_factory, data)
    assert reply.body.startswith(str(1000 + len(TEXT)).encode())


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
async def test_an_empty_compressed_body_is_empty(coding: str) -> None:
    """aiohttp answers 200 with nothing read; Squall said "Truncated compressed body"."""
    data = build("POST", "/read", headers=[("Content-Encoding", coding)], body=b"")
    if coding == "zstd":  # aiohttp's zstd needs backports.zstd: Squall alone
        async with serve(squall_web, app_factory) as port:
            reply = await exchange(port, data)
    else:
        reply = await same(app_factory, data)
    assert (reply.status, reply.body) == (200, b"0 ")


async def test_what_follows_the_end_is_400_and_the_connection_goes_on() -> None:
    """Trailing bytes after a gzip member (or a deflate or zstd stream) were dropped
    in silence; aiohttp fails the read too (a 500 there)."""
    bodies = [
        ("gzip", gzip.compress(TEXT) + b"garbage"),
        ("deflate", zlib.compress(TEXT) + b"garbage"),
        ("zstd", encoded("zstd", TEXT) + b"garbage"),
    ]
    async with serve(squall_web, app_factory) as port:
        for coding, body in bodies:
            for path in ("/read", "/content"):
                data = build("POST", path, headers=[("Content-Encoding", coding)], body=body)
                reply = await exchange(port, data)
                assert (reply.status, reply.body) == (
                    400,
                    b"Data after the end of the compressed body"
                    if coding != "zstd"
                    else b"Invalid compressed body",
                ), (coding, path)
                assert reply.after == "HTTP/1.1 404 Not Found"  # the whole body had come
        frames = build(
            "POST",
            "/read",
            headers=[("Content-Encoding", "zstd")],
            body=encoded("zstd", b"ab") + encoded("zstd", b"cd"),
        )
        two = await exchange(port, frames)
    assert two.body == b"4 abcd"


def payload_error_app(w: Any) -> Any:
    """Each body read catches ``web.RequestPayloadError``."""

    async def handler(request: Any) -> Any:
        how = request.match_info["how"]
        try:
            if how == "read":
                await request.read()
            elif how == "post":
                await request.post()
            elif how == "content":
                await request.content.read()
            else:
                async for _ in request.content.iter_chunked(2):
                    pass
        except w.RequestPayloadError:
            return w.Response(text="caught")
        return w.Response(text="read")

    app = w.Application()
    app.router.add_post("/{how}", handler)
    return app


@pytest.mark.parametrize("how", ["read", "post", "content", "iter"])
@pytest.mark.parametrize(
    ("coding", "body"),
    [("gzip", b"not gzip"), ("deflate", b"xx"), ("gzip", gzip.compress(TEXT) + b"garbage")],
)
async def test_a_body_that_does_not_decode_raises_request_payload_error(
    how: str, coding: str, body: bytes
) -> None:
    """aiohttp's upstream test_bad_request_payload: a handler catching
    web.RequestPayloadError around a read got a 400 from Squall (HTTPBadRequest)."""
    data = build(
        "POST",
        f"/{how}",
        headers=[
            ("Content-Encoding", coding),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body=body,
    )
    async with serve(squall_web, payload_error_app) as port:
        reply = await exchange(port, data)
    assert (reply.status, reply.body) == (200, b"caught")
    async with serve(aiohttp_web, payload_error_app) as port:
        theirs = await exchange(port, data)
    assert (theirs.status, theirs.body) == (reply.status, reply.body)
