"""add_static and FileResponse on Squall and on aiohttp, compared on the wire.

Both servers serve the same directory (whole-second mtimes, so ETag and
Last-Modified agree); each case is one request sent byte for byte to both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from framework._wire import build, run_on
from squall import web as squall_web

from ._diff import same_ci
from .conftest import BIG, names

LM = "Tue, 14 Nov 2023 22:13:20 GMT"  # the files' mtime as an HTTP date
HELLO_TAG = '"17979cfe362a0000-e"'


def static_app(root: Path, **kwargs: Any) -> Any:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_static("/static", root, **kwargs)
        return app

    return factory


CASES = [
    ("GET", "/static/hello.txt", {}),
    ("HEAD", "/static/hello.txt", {}),
    ("GET", "/static/page.html", {}),
    ("GET", "/static/data.bin", {}),
    ("GET", "/static/empty.txt", {}),
    ("GET", "/static/big.bin", {}),
    ("GET", "/static/big.bin", {"Range": "bytes=1000-299999"}),
    ("GET", "/static/hello.txt", {"Range": "bytes=0-4"}),
    ("GET", "/static/hello.txt", {"Range": "bytes=7-"}),
    ("GET", "/static/hello.txt", {"Range": "bytes=-6"}),
    ("GET", "/static/hello.txt", {"Range": "bytes=3-1000"}),
    ("HEAD", "/static/hello.txt", {"Range": "bytes=0-4"}),
    ("GET", "/static/hello.txt", {"Range": "bytes=14-"}),
    ("GET", "/static/hello.txt", {"Range": "bytes=a-b"}),
    ("GET", "/static/empty.txt", {"Range": "bytes=0-"}),
    ("GET", "/static/hello.txt", {"If-None-Match": HELLO_TAG}),
    ("GET", "/static/hello.txt", {"If-None-Match": f'W/{HELLO_TAG}, "x"'}),
    ("GET", "/static/hello.txt", {"If-None-Match": '"other"'}),
    ("GET", "/static/hello.txt", {"If-None-Match": "*"}),
    ("GET", "/static/hello.txt", {"If-Modified-Since": LM}),
    ("GET", "/static/hello.txt", {"If-Modified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"}),
    ("GET", "/static/hello.txt", {"If-Match": HELLO_TAG}),
    ("GET", "/static/hello.txt", {"If-Match": '"other"'}),
    ("GET", "/static/hello.txt", {"If-Match": f"W/{HELLO_TAG}"}),
    ("GET", "/static/hello.txt", {"If-Unmodified-Since": LM}),
    ("GET", "/static/hello.txt", {"If-Unmodified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"}),
    ("GET", "/static/hello.txt", {"If-Range": LM, "Range": "bytes=0-1"}),
    ("GET", "/static/style.css", {"Accept-Encoding": "gzip, deflate"}),
    # style.css without gzip: Squall adds Vary (aiohttp not): test_codings.py
    ("GET", "/static/nope.txt", {}),
    ("GET", "/static/sub", {}),
    ("GET", "/static/sub/", {}),
    ("GET", "/static/", {}),
    ("GET", "/static/sub/a%20b%26%3Cc%3E.txt", {}),
    ("GET", "/static/link_in", {}),
    ("GET", "/static/link_out", {}),
    ("GET", "/static/hello.txt/", {}),
    ("POST", "/static/hello.txt", {}),
    ("GET", "/static", {}),
    ("GET", "/staticx/hello.txt", {}),
]


@pytest.mark.parametrize(("method", "target", "headers"), CASES)
async def test_static_as_aiohttp(
    root: Path, method: str, target: str, headers: dict[str, str]
) -> None:
    await same_ci(static_app(root), build(method, target, headers=headers))


async def test_the_big_file_arrives_whole(root: Path) -> None:
    reply = await same_ci(static_app(root), build("GET", "/static/big.bin"))
    assert reply.body == BIG
    part = await same_ci(
        static_app(root), build("GET", "/static/big.bin", headers={"Range": "bytes=1000-299999"})
    )
    assert part.status == 206 and part.body == BIG[1000:300000]


@pytest.mark.parametrize("target", ["/static/", "/static/sub/", "/static/sub"])
async def test_index_page_as_aiohttp(root: Path, target: str) -> None:
    reply = await same_ci(static_app(root, show_index=True), build("GET", target))
    assert reply.status == 200
    if "sub" in target:
        # the odd name escaped in the text, quoted in the link
        assert b"a b&amp;&lt;c&gt;.txt</a>" in reply.body
        assert b'href="/static/sub/a%20b&%3Cc%3E.txt"' in reply.body
        assert b"<c>" not in reply.body


async def test_follow_symlinks_as_aiohttp(root: Path) -> None:
    reply = await same_ci(static_app(root, follow_symlinks=True), build("GET", "/static/link_out"))
    assert reply.body == b"TOP SECRET\n"  # asked for: a link may lead out


def file_app(root: Path, name: str, **kwargs: Any) -> Any:
    def factory(web: Any) -> Any:
        file_response = names(web).FileResponse

        async def handler(request: Any) -> Any:
            return file_response(root / name, **kwargs)

        app = web.Application()
        app.router.add_get("/f", handler)
        return app

    return factory


@pytest.mark.parametrize(
    ("name", "kwargs", "headers"),
    [
        ("hello.txt", {}, {}),
        ("hello.txt", {"headers": {"Content-Type": "text/x-mine"}}, {}),
        ("hello.txt", {"status": 203}, {}),
        ("missing.txt", {}, {}),
        ("sub", {}, {}),
        ("big.bin", {"chunk_size": 4096}, {"Range": "bytes=-70000"}),
        ("hello.txt", {}, {"If-None-Match": HELLO_TAG}),
    ],
)
async def test_file_response_as_aiohttp(
    root: Path, name: str, kwargs: dict[str, Any], headers: dict[str, str]
) -> None:
    await same_ci(file_app(root, name, **kwargs), build("GET", "/f", headers=headers))


async def test_web_static_and_url_for_as_aiohttp(root: Path) -> None:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.add_routes([names(web).static("/s", root, name="files", append_version=True)])

        async def where(request: Any) -> Any:
            res = request.app.router["files"]
            urls = [
                str(res.url_for(filename="hello.txt")),
                str(res.url_for(filename="sub/a b&<c>.txt", append_version=False)),
                str(res.url_for(filename="../secret.txt")),
                str(res.url_for(filename="nope")),
            ]
            return web.Response(text="\n".join(urls))

        app.router.add_get("/where", where)
        return app

    reply = await same_ci(factory, build("GET", "/where"))
    assert reply.body.startswith(b"/s/hello.txt?v=")
    assert (
        await run_on(squall_web, factory, build("GET", "/s/hello.txt"))
    ).body == b"Hello, world!\n"
