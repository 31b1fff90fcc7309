"""Squall's own behaviour where it differs from aiohttp (RFC 9110 where aiohttp is
looser), compression, precompressed siblings, sendfile and its fallback, and a
file that shrinks while it is sent. Real sockets, httpx and raw."""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest
import zstandard

from framework._wire import build, exchange, serve
from squall import web
from squall.framework import fileresponse
from squall.framework.compression import ContentCoding
from squall.framework.fileresponse import FileResponse
from squall.framework.response import Response
from squall.framework.streamresponse import StreamResponse

from .conftest import BIG

TAG = '"17979cfe362a0000-e"'
LM = "Tue, 14 Nov 2023 22:13:20 GMT"


@pytest.fixture
async def client(root: Path) -> AsyncIterator[Callable[..., Any]]:
    app = web.Application()
    app.router.add_static("/static", root)

    async def compressed(request: web.Request) -> Response:
        resp = Response(text="x" * 100_000 + request.query.get("tail", ""))
        force = request.query.get("force")
        resp.enable_compression(ContentCoding(force) if force else None)
        return resp

    async def streamed(request: web.Request) -> StreamResponse:
        resp = StreamResponse()
        resp.enable_compression()
        await resp.prepare(request)
        for i in range(100):
            await resp.write(b"line %d\n" % i * 100)
        await resp.write_eof()
        return resp

    app.router.add_get("/z", compressed)
    app.router.add_get("/zs", streamed)
    async with serve(web, lambda _web: app) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def get(path: str, **headers: str) -> httpx.Response:
                return await http.get(
                    path, headers={k.replace("_", "-"): v for k, v in headers.items()}
                )

            get.port = port  # type: ignore[attr-defined]
            yield get


# -- RFC 9110 where aiohttp differs --------------------------------------------------


async def test_if_range_with_an_etag(client: Any) -> None:
    r = await client("/static/hello.txt", range="bytes=0-4", if_range=TAG)
    assert r.status_code == 206 and r.content == b"Hello"
    # 13.1.5: a tag that does not match means the whole representation
    r = await client("/static/hello.txt", range="bytes=0-4", if_range='"stale"')
    assert r.status_code == 200 and r.content == b"Hello, world!\n"
    r = await client("/static/hello.txt", range="bytes=0-4", if_range=f"W/{TAG}")
    assert r.status_code == 200


async def test_if_range_with_a_date_must_match_exactly(client: Any) -> None:
    r = await client(
        "/static/hello.txt", range="bytes=0-4", if_range="Wed, 15 Nov 2023 00:00:00 GMT"
    )
    assert r.status_code == 200  # aiohttp: 206 for any later date


async def test_several_ranges_get_the_whole_file(client: Any) -> None:
    r = await client("/static/hello.txt", range="bytes=0-1, 4-5")
    assert r.status_code == 200 and r.content == b"Hello, world!\n"  # aiohttp: 416


async def test_range_units_other_than_bytes_are_ignored(client: Any) -> None:
    r = await client("/static/hello.txt", range="items=0-1")
    assert r.status_code == 200 and r.content == b"Hello, world!\n"  # aiohttp: 416


async def test_an_empty_suffix_is_unsatisfiable(client: Any) -> None:
    r = await client("/static/hello.txt", range="bytes=-0")
    assert r.status_code == 416 and r.headers["content-range"] == "bytes */14"


async def test_fractional_mtime_still_gives_304(root: Path, client: Any) -> None:
    path = root / "frac.txt"
    path.write_bytes(b"frac")
    os.utime(path, (1_700_000_000.5, 1_700_000_000.5))
    first = await client("/static/frac.txt")
    assert first.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:21 GMT"  # rounded up
    again = await client("/static/frac.txt", if_modified_since=first.headers["last-modified"])
    assert again.status_code == 304
    unmod = await client("/static/frac.txt", if_unmodified_since=first.headers["last-modified"])
    assert unmod.status_code == 200


# -- precompressed siblings ----------------------------------------------------------


async def test_gzip_sibling_only_when_accepted(root: Path, client: Any) -> None:
    plain = (root / "style.css").read_bytes()
    r = await client("/static/style.css", accept_encoding="gzip")
    assert r.headers["content-encoding"] == "gzip" and r.content == plain
    assert r.headers["vary"] == "Accept-Encoding"
    # q=0 refuses it (aiohttp sends it: it looks for the substring "gzip")
    r = await client("/static/style.css", accept_encoding="gzip;q=0, identity")
    assert "content-encoding" not in r.headers and r.content == plain


async def test_br_and_zst_siblings_preferred(root: Path, client: Any) -> None:
    plain = b"body { color: blue }\n" * 40
    (root / "app.js").write_bytes(plain)
    (root / "app.js.br").write_bytes(brotli.compress(plain))
    (root / "app.js.zst").write_bytes(zstandard.ZstdCompressor().compress(plain))
    r = await client("/static/app.js", accept_encoding="gzip, br, zstd")
    assert r.headers["content-encoding"] == "br"
    assert r.content == plain  # httpx decodes br (brotli is installed)
    r = await client("/static/app.js", accept_encoding="zstd")
    assert r.headers["content-encoding"] == "zstd"
    assert r.headers["content-type"].endswith("javascript")  # by the name, not .zst
    r = await client("/static/app.js", accept_encoding="identity")
    assert "content-encoding" not in r.headers and r.content == plain


async def test_a_symlinked_sibling_is_never_served(root: Path, client: Any) -> None:
    (root / "doc.txt").write_bytes(b"doc\n")
    (root / "doc.txt.gz").unlink(missing_ok=True)  # the root is shared by both loops' runs
    (root / "doc.txt.gz").symlink_to(root.parent / "secret.txt")
    r = await client("/static/doc.txt", accept_encoding="gzip")
    assert r.content == b"doc\n" and "content-encoding" not in r.headers


# -- dynamic compression -------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "coding", "decode"),
    [
        ("gzip", "gzip", gzip.decompress),
        ("deflate", "deflate", zlib.decompress),
        ("br", "br", brotli.decompress),
        ("zstd", "zstd", lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b)),
        ("gzip;q=0.5, br;q=0.9", "br", brotli.decompress),
        ("identity", None, bytes),
        ("gzip;q=0", None, bytes),
    ],
)
async def test_response_compression(
    root: Path, accept: str, coding: str | None, decode: Any
) -> None:
    app = web.Application()

    async def handler(request: web.Request) -> Response:
        resp = Response(text="x" * 100_000)
        resp.enable_compression()
        return resp

    app.router.add_get("/z", handler)
    async with serve(web, lambda _web: app) as port:
        reply = await exchange(port, build("GET", "/z", headers={"Accept-Encoding": accept}))
    assert reply.header("Vary") == "Accept-Encoding"
    assert reply.header("Content-Encoding") == coding
    assert int(reply.header("Content-Length") or 0) == len(reply.body)
    assert decode(reply.body) == b"x" * 100_000
    if coding:
        assert len(reply.body) < 1000


async def test_forced_coding_and_streamed_compression(client: Any) -> None:
    r = await client("/z?force=gzip&tail=END")  # no Accept-Encoding: forced anyway
    assert r.headers["content-encoding"] == "gzip" and r.text.endswith("END")
    assert "vary" not in r.headers
    r = await client("/zs", accept_encoding="gzip")
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.content == b"".join(b"line %d\n" % i * 100 for i in range(100))


async def test_compression_with_a_prepare_hook_goes_through_the_executor() -> None:
    """A response that leaves the fast path is compressed off the loop, as aiohttp."""
    seen: list[bool] = []
    app = web.Application()

    async def hook(request: web.Request, response: StreamResponse) -> None:
        seen.append(request.path == "/")

    app.on_response_prepare.append(hook)

    async def handler(request: web.Request) -> Response:
        resp = Response(body=os.urandom(20_000) + b"a" * 50_000, zlib_executor_size=1024)
        resp.enable_compression(ContentCoding.gzip)
        return resp

    app.router.add_get("/", handler)
    async with serve(web, lambda _web: app) as port:
        reply = await exchange(port, build("GET", "/"))
    assert seen[0] is True
    assert len(gzip.decompress(reply.body)) == 70_000
    assert int(reply.header("Content-Length") or 0) == len(reply.body)


def test_enable_compression_refuses_a_bad_force() -> None:
    with pytest.raises(TypeError):
        Response().enable_compression("gzip")  # type: ignore[arg-type]
    with pytest.warns(DeprecationWarning):
        Response().enable_compression(True)


# -- sendfile, its fallback, and a file that shrinks ---------------------------------


@pytest.mark.parametrize("nosendfile", [False, True])
async def test_big_file_both_ways(
    root: Path, monkeypatch: pytest.MonkeyPatch, nosendfile: bool
) -> None:
    monkeypatch.setattr(fileresponse, "NOSENDFILE", nosendfile)
    app = web.Application()
    app.router.add_static("/static", root, chunk_size=100_000)
    async with serve(web, lambda _web: app) as port:
        replies = [await exchange(port, build("GET", "/static/big.bin")) for _ in range(2)]
        tail = await exchange(
            port, build("GET", "/static/big.bin", headers={"Range": "bytes=-200000"})
        )
    assert all(r.body == BIG for r in replies)
    assert tail.status == 206 and tail.body == BIG[-200_000:]


@pytest.mark.parametrize("nosendfile", [False, True])
async def test_a_file_that_shrinks_ends_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nosendfile: bool
) -> None:
    monkeypatch.setattr(fileresponse, "NOSENDFILE", nosendfile)
    path = tmp_path / "shrinking.bin"
    app = web.Application()

    async def handler(request: web.Request) -> FileResponse:
        path.write_bytes(BIG)
        return FileResponse(path)

    async def shrink(request: web.Request, response: StreamResponse) -> None:
        # after the file was opened and measured, before a byte of it is sent
        if request.path == "/f":
            os.truncate(path, 1000)

    app.router.add_get("/f", handler)
    app.router.add_get("/ok", _ok)
    app.on_response_prepare.append(shrink)
    async with serve(web, lambda _web: app) as port:
        raw = b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n"

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(raw)
        data = await asyncio.wait_for(reader.read(), 10)  # EOF: the server ended it
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        assert b"Content-Length: 1048576" in head
        assert len(body) <= 1000
        assert (await exchange(port, build("GET", "/ok"))).body == b"ok"  # still serving


async def _ok(request: web.Request) -> Response:
    return Response(text="ok")


async def test_a_vanished_file_is_404(tmp_path: Path) -> None:
    app = web.Application()

    async def handler(request: web.Request) -> FileResponse:
        return FileResponse(tmp_path / "never.txt")

    app.router.add_get("/", handler)
    async with serve(web, lambda _web: app) as port:
        assert (await exchange(port, build("GET", "/"))).status == 404


# -- StreamResponse ------------------------------------------------------------------


async def test_write_waits_for_a_slow_reader() -> None:
    """write() returns only once the transport's buffer is under its high-water
    mark: a client that does not read cannot grow the server's memory."""
    peak: list[int] = []
    app = web.Application()

    async def handler(request: web.Request) -> StreamResponse:
        resp = StreamResponse()
        await resp.prepare(request)
        transport = request.transport
        for _ in range(256):  # 16 MiB in all
            await resp.write(b"x" * 65536)
            peak.append(transport.get_write_buffer_size() if transport else 0)
        await resp.write_eof()
        return resp

    app.router.add_get("/", handler)

    async with serve(web, lambda _web: app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**16)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        total = 0
        while chunk := await asyncio.wait_for(reader.read(2**16), 10):
            total += len(chunk)
        writer.close()
    assert total > 16 * 2**20
    assert max(peak) < 4 * 2**20


async def test_response_mapping_task_and_prepared() -> None:
    app = web.Application()
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> StreamResponse:
        resp = StreamResponse()
        resp["k"] = 1
        assert resp.task is None and not resp.prepared
        await resp.prepare(request)
        seen.update(task=resp.task is request.task, prepared=resp.prepared, k=resp["k"])
        with pytest.raises(RuntimeError):
            resp.set_status(201)
        await resp.write(b"hi")
        return resp

    app.router.add_get("/", handler)
    async with serve(web, lambda _web: app) as port:
        reply = await exchange(port, build("GET", "/"))
    assert reply.body == b"hi" and reply.header("Transfer-Encoding") == "chunked"
    assert seen == {"task": True, "prepared": True, "k": 1}


# -- curl, a client that normalises nothing it is told not to ---------------------


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
async def test_curl_range_resume_and_compressed(root: Path, tmp_path: Path) -> None:
    app = web.Application()
    app.router.add_static("/static", root)
    async with serve(web, lambda _web: app) as port:
        url = f"http://127.0.0.1:{port}/static/big.bin"
        part = tmp_path / "big.part"
        part.write_bytes(BIG[:300_000])  # a download cut short, resumed with -C -
        proc = await asyncio.create_subprocess_exec(
            "curl", "-sS", "-C", "-", "-o", str(part), url, stdout=asyncio.subprocess.PIPE
        )
        await asyncio.wait_for(proc.wait(), 30)
        assert proc.returncode == 0 and part.read_bytes() == BIG
        proc = await asyncio.create_subprocess_exec(
            "curl",
            "-sS",
            "--compressed",
            f"http://127.0.0.1:{port}/static/style.css",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert out == (root / "style.css").read_bytes()
        proc = await asyncio.create_subprocess_exec(
            "curl",
            "-sS",
            "--path-as-is",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            f"http://127.0.0.1:{port}/static/../secret.txt",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert out == b"404"
