"""Content codings and the fields that describe them, on the wire.

- HEAD says what GET would send (RFC 9110 8.6, 9.3.2): the same Content-Encoding
  and Vary, and a Content-Length only if it is the coded body's.
- A 206, 412 or 416 is never compressed on the way (RFC 9110 14.4: Content-Range
  counts the bytes of the file, not of a coding of it).
- A file with a precompressed sibling says ``Vary: Accept-Encoding`` in every
  answer, the identity 200 and the 304 included (RFC 9110 12.5.5, 15.4.5).
"""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

import pytest

from framework._wire import Reply, build, exchange, exchange_all, serve
from squall import web as squall_web
from squall.framework import fileresponse
from squall.framework.fileresponse import FileResponse, SmallFiles
from squall.framework.streamresponse import StreamResponse

from ._diff import same_ci
from .conftest import BIG, MTIME

BODY = b"z" * 5000
NEXT = "HTTP/1.1 404 Not Found"  # the probe after a reply: nothing stray came before it


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> SmallFiles:
    """A fresh small-file cache whose clock says every file has settled."""
    fresh = SmallFiles(clock=lambda: time.time() + 3600)
    monkeypatch.setattr(fileresponse, "SMALL_FILES", fresh)
    return fresh


# -- HEAD ---------------------------------------------------------------------------


def forced_app(web: Any) -> Any:
    """Handlers that force gzip (no Vary on either server): comparable to aiohttp."""
    gzip_coding = web.ContentCoding.gzip

    def forced(make: Any) -> Any:
        async def handler(request: Any) -> Any:
            resp = make()
            resp.enable_compression(gzip_coding)
            return resp

        return handler

    @web.middleware
    async def compress(request: Any, handler: Any) -> Any:
        resp = await handler(request)
        resp.enable_compression(gzip_coding)
        return resp

    async def plain(request: Any) -> Any:
        return web.Response(body=BODY)

    app = web.Application()
    app.router.add_get("/body", forced(lambda: web.Response(body=BODY)))
    app.router.add_get("/text", forced(lambda: web.Response(text="t" * 5000)))
    app.router.add_get("/json", forced(lambda: web.json_response({"k": "v" * 5000})))
    sub = web.Application(middlewares=[compress])
    sub.router.add_get("/plain", plain)
    app.add_subapp("/mw", sub)
    return app


@pytest.mark.parametrize("path", ["/body", "/text", "/json", "/mw/plain"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_head_of_a_coded_body_as_aiohttp(method: str, path: str) -> None:
    reply = await same_ci(forced_app, build(method, path))
    assert reply.header("content-encoding") == "gzip"
    assert int(reply.header("content-length") or 0) < 100  # the coded length, not 5000


def negotiated_app(root: Path) -> Any:
    def factory(web: Any) -> Any:
        def compressed(make: Any) -> Any:
            async def handler(request: Any) -> Any:
                resp = make()
                resp.enable_compression()
                return resp

            return handler

        async def stream(request: Any) -> Any:
            resp = StreamResponse()
            resp.enable_compression()
            await resp.prepare(request)
            await resp.write(b"abc" * 1000)
            await resp.write_eof()
            return resp

        async def prepared(request: Any) -> Any:
            resp = web.Response(body=BODY)
            resp.enable_compression()
            await resp.prepare(request)
            return resp

        app = web.Application()
        app.router.add_get("/body", compressed(lambda: web.Response(body=BODY)))
        app.router.add_get("/json", compressed(lambda: web.json_response({"k": "v" * 5000})))
        app.router.add_get("/big", compressed(lambda: FileResponse(root / "big.bin")))
        app.router.add_get("/small", compressed(lambda: FileResponse(root / "hello.txt")))
        app.router.add_get("/stream", stream)
        app.router.add_get("/prepared", prepared)
        return app

    return factory


@pytest.mark.parametrize(
    ("path", "whole"),
    [
        ("/body", True),  # a whole body: HEAD has the compressed length
        ("/json", True),
        ("/big", False),  # streamed: chunked for GET, no length for HEAD
        ("/small", False),
        ("/stream", False),
        ("/prepared", True),
    ],
)
async def test_head_says_what_get_sends(root: Path, path: str, whole: bool) -> None:
    headers = {"Accept-Encoding": "gzip"}
    async with serve(squall_web, negotiated_app(root)) as port:
        get = await exchange(port, build("GET", path, headers=headers))
        head = await exchange(port, build("HEAD", path, headers=headers))
    assert get.header("Content-Encoding") == head.header("Content-Encoding") == "gzip"
    assert get.header("Vary") == head.header("Vary") == "Accept-Encoding"
    assert gzip.decompress(get.body)
    if whole:
        assert head.header("Content-Length") == get.header("Content-Length") == str(len(get.body))
    else:
        assert get.header("Transfer-Encoding") == "chunked"
        assert head.header("Content-Length") is None
    assert head.header("Transfer-Encoding") is None
    assert head.body == b"" and head.after == NEXT


async def test_head_without_a_coding_keeps_the_identity_length(root: Path) -> None:
    async with serve(squall_web, negotiated_app(root)) as port:
        head = await exchange(port, build("HEAD", "/body"))
        refused = await exchange(
            port, build("HEAD", "/body", headers={"Accept-Encoding": "br;q=0"})
        )
    for reply in (head, refused):
        assert reply.header("Content-Length") == str(len(BODY))
        assert reply.header("Content-Encoding") is None
        assert reply.header("Vary") == "Accept-Encoding"  # negotiated: it could have been coded


# -- 206, 412, 416: never compressed on the way ---------------------------------------


def file_app(root: Path, late: bool = False) -> Any:
    def factory(web: Any) -> Any:
        app = web.Application()

        async def handler(request: Any) -> Any:
            resp = FileResponse(root / request.match_info["name"])
            if not late:
                resp.enable_compression()
            return resp

        async def hook(request: Any, response: Any) -> None:
            response.enable_compression()  # after the status was decided

        if late:
            app.on_response_prepare.append(hook)
        app.router.add_get("/f/{name}", handler)
        return app

    return factory


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("name", ["hello.txt", "big.bin"])
async def test_a_range_is_sent_as_the_bytes_it_names(root: Path, name: str, late: bool) -> None:
    data = (root / name).read_bytes()
    gz = {"Accept-Encoding": "gzip"}
    async with serve(squall_web, file_app(root, late)) as port:
        whole = await exchange(port, build("GET", f"/f/{name}", headers=gz))
        part, head = await exchange_all(
            port,
            [
                build(method, f"/f/{name}", headers={**gz, "Range": "bytes=2-11"})
                for method in ("GET", "HEAD")
            ],
        )
    assert whole.header("Content-Encoding") == "gzip"  # compression is on for the 200
    for reply in (part, head):
        assert reply.status == 206
        assert reply.header("Content-Encoding") is None
        assert reply.header("Content-Range") == f"bytes 2-11/{len(data)}"
        assert reply.header("Content-Length") == "10"  # HEAD: what GET sends
    assert part.body == data[2:12]
    assert head.body == b"" and head.after == NEXT


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    ("headers", "status"),
    [({"If-Match": '"other"'}, 412), ({"Range": "bytes=999999999-"}, 416)],
)
async def test_failures_are_not_compressed(
    root: Path, method: str, headers: dict[str, str], status: int
) -> None:
    async with serve(squall_web, file_app(root)) as port:
        reply = await exchange(
            port, build(method, "/f/hello.txt", headers={"Accept-Encoding": "gzip", **headers})
        )
    assert reply.status == status
    assert reply.header("Content-Encoding") is None
    assert reply.body == b"" and reply.after == NEXT


async def test_a_304_of_a_compressed_file_says_vary(root: Path) -> None:
    async with serve(squall_web, file_app(root)) as port:
        reply = await exchange(
            port,
            build(
                "GET",
                "/f/hello.txt",
                headers={"Accept-Encoding": "gzip", "If-Modified-Since": LM_FUTURE},
            ),
        )
    assert reply.status == 304 and reply.header("Vary") == "Accept-Encoding"


# -- precompressed siblings: Vary everywhere -------------------------------------------

LM_FUTURE = "Fri, 31 Dec 9999 23:59:59 GMT"


def static_app(root: Path) -> Any:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_static("/static", root)

        async def direct(request: Any) -> Any:
            return FileResponse(root / request.match_info["name"])

        app.router.add_get("/direct/{name}", direct)
        return app

    return factory


def vary_of(reply: Reply) -> str | None:
    return reply.header("Vary")


@pytest.fixture
def www(tmp_path: Path) -> Path:
    """style.css with a gzip sibling, app.js with a br one only, plain.txt with none."""
    for name, data in [
        ("style.css", b"body { color: red }\n" * 50),
        ("style.css.gz", gzip.compress(b"body { color: red }\n" * 50)),
        ("app.js", b"var x = 1;\n" * 50),
        ("app.js.br", b"pretend br"),
        ("plain.txt", b"plain\n"),
    ]:
        (tmp_path / name).write_bytes(data)
        os.utime(tmp_path / name, (MTIME, MTIME))
    return tmp_path


@pytest.mark.parametrize("prefix", ["/static", "/direct"])
async def test_every_answer_of_a_file_with_a_sibling_says_vary(
    www: Path, cache: SmallFiles, prefix: str
) -> None:
    asks: list[tuple[str, dict[str, str]]] = [
        ("style.css", {}),  # identity: a gzip client would get another body
        ("style.css", {"Accept-Encoding": "br"}),
        ("style.css", {"Accept-Encoding": "gzip"}),
        ("style.css", {"Accept-Encoding": "gzip", "If-Modified-Since": LM_FUTURE}),  # 304
        ("style.css", {"If-Modified-Since": LM_FUTURE}),  # 304 of the identity file
        ("style.css", {"Range": "bytes=0-3"}),
        ("style.css", {"If-Match": '"other"'}),
        ("app.js", {"Accept-Encoding": "gzip"}),  # only a br sibling: identity, varies
        ("app.js", {}),
    ]
    async with serve(squall_web, static_app(www)) as port:
        for name, headers in asks:
            # the second time from memory (SMALL_FILES): the same fields
            replies = [
                await exchange(port, build("GET", f"{prefix}/{name}", headers=headers))
                for _ in range(2)
            ]
            assert [vary_of(r) for r in replies] == ["Accept-Encoding"] * 2, (name, headers)
            assert replies[0].headers == replies[1].headers
        plain = [await exchange(port, build("GET", f"{prefix}/plain.txt")) for _ in range(2)]
    assert cache.holds(str(www / "plain.txt")) and cache.holds(str(www / "style.css"))
    assert [vary_of(r) for r in plain] == [None, None]  # no sibling, nothing varies


async def test_a_304_of_a_sibling_says_vary_with_no_cache(root: Path) -> None:
    """The thread's way (the session's files are too fresh for SMALL_FILES)."""
    async with serve(squall_web, static_app(root)) as port:
        not_modified = await exchange(
            port,
            build(
                "GET",
                "/static/style.css",
                headers={"Accept-Encoding": "gzip", "If-Modified-Since": LM_FUTURE},
            ),
        )
        identity = await exchange(port, build("GET", "/static/style.css"))
        big = await exchange(port, build("GET", "/static/big.bin"))
    assert not_modified.status == 304 and vary_of(not_modified) == "Accept-Encoding"
    assert identity.header("Content-Encoding") is None
    assert vary_of(identity) == "Accept-Encoding"
    assert big.body == BIG and vary_of(big) is None


async def test_a_handlers_vary_is_kept(www: Path) -> None:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return FileResponse(www / "style.css", headers={"Vary": "Origin"})

        app = web.Application()
        app.router.add_get("/f", handler)
        return app

    async with serve(squall_web, factory) as port:
        reply = await exchange(port, build("GET", "/f", headers={"Accept-Encoding": "gzip"}))
    assert reply.header("Content-Encoding") == "gzip"
    assert vary_of(reply) == "Origin, Accept-Encoding"
