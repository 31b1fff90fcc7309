"""No request reaches a file outside the static root: each bad target sent byte
for byte on a raw socket (no client normalising it), then the server still serves."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from framework._wire import build, exchange, serve
from squall import web as squall_web

from ._diff import same_ci
from .test_static_vs_aiohttp import static_app

TARGETS = [
    "/static/../secret.txt",
    "/static/sub/../../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/.%2e/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/sub%2f..%2f..%2fsecret.txt",
    "/static/..\\secret.txt",
    "/static/..%5csecret.txt",
    "/static/..%5Csecret.txt",
    "/static/%252e%252e/secret.txt",
    "/static/hello.txt%00",
    "/static/%00../secret.txt",
    "/static//etc/passwd",
    "/static/%2fetc/passwd",
    "/static/%2Fetc%2Fpasswd",
    "/static/C:/Windows/win.ini",
    "/static/C:%5cWindows%5cwin.ini",
    "/static/c:..%5c..%5csecret.txt",
    "/static/link_out",
    "/static/sub/..%2f..%2fsecret.txt",
    "http://example.com/static/../secret.txt",
    "/static/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 dots
]


@pytest.mark.parametrize("target", TARGETS)
async def test_no_way_out(root: Path, target: str) -> None:
    raw = f"GET {target} HTTP/1.1\r\nHost: example.com\r\n\r\n".encode("latin-1")
    async with serve(squall_web, static_app(root)) as port:
        reply = await exchange(port, raw)
        assert reply.status in (400, 403, 404), reply
        assert b"SECRET" not in reply.body
        assert b"root:" not in reply.body
        # the server keeps serving
        ok = await exchange(port, b"GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        assert ok.body == b"Hello, world!\n"
    async with serve(aiohttp_web, static_app(root)) as port:
        assert (await exchange(port, raw)).status == reply.status  # aiohttp answers alike


@pytest.mark.parametrize("target", ["/static/link_out", "/static/sub/../../secret.txt"])
async def test_no_way_out_with_follow_symlinks_but_the_link(root: Path, target: str) -> None:
    """follow_symlinks lets a link lead out; a URL still cannot climb out."""
    raw = f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    async with serve(squall_web, static_app(root, follow_symlinks=True)) as port:
        reply = await exchange(port, raw)
    assert (reply.body == b"TOP SECRET\n") is (target == "/static/link_out")


async def test_url_for_never_hashes_a_file_outside(root: Path) -> None:
    app = squall_web.Application()
    res = app.router.add_static("/s", root, append_version=True)
    assert str(res.url_for(filename="hello.txt")).startswith("/s/hello.txt?v=")
    assert "v=" not in str(res.url_for(filename="../secret.txt"))
    assert "v=" not in str(res.url_for(filename="link_out"))
    await asyncio.sleep(0)


def static_then_catch_all(root: Path, catch_all: bool) -> Any:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_static("/static", root)

        async def caught(request: Any) -> Any:
            return web.Response(text="caught " + request.match_info["tail"])

        if catch_all:
            app.router.add_route("*", "/{tail:.*}", caught)
        return app

    return factory


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/static/../secret.txt"),
        ("POST", "/static/../secret.txt"),
        ("GET", "/static/sub/../../secret.txt"),
        ("GET", "/static/%2e%2e/secret.txt"),
        ("GET", "/static/.."),
        ("POST", "/static/%2E%2E"),
        ("GET", "/static/../static/hello.txt"),
        ("POST", "/static/sub/../hello.txt"),
    ],
)
@pytest.mark.parametrize("catch_all", [False, True])
async def test_a_path_climbing_out_of_the_prefix_is_not_the_static_route(
    root: Path, method: str, target: str, catch_all: bool
) -> None:
    """As aiohttp's resolve(): a later route may take it, else a 404 (not a 405)."""
    reply = await same_ci(static_then_catch_all(root, catch_all), build(method, target))
    assert b"SECRET" not in reply.body
