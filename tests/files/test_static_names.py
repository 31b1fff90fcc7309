"""Names the file system refuses or cannot show: a 404 or an escaped listing,
never a 500 with a traceback (aiohttp answers all of these with a 500)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from framework._wire import build, exchange, serve
from squall import web as squall_web

from .test_static_vs_aiohttp import static_app

HELLO = b"GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "target",
    [
        "/static/" + "A" * 5000,  # one component past NAME_MAX: ENAMETOOLONG
        "/static/" + "a/" * 3000 + "x",  # the whole past PATH_MAX: ENAMETOOLONG
        "/static/" + "A" * 300 + "/x",
        "/static/hello.txt/" + "B" * 300,
    ],
)
@pytest.mark.parametrize("show_index", [False, True])
async def test_a_name_too_long_is_a_404(
    root: Path, caplog: pytest.LogCaptureFixture, target: str, show_index: bool
) -> None:
    async with serve(squall_web, static_app(root, show_index=show_index)) as port:
        for method in ("GET", "HEAD"):
            reply = await exchange(port, build(method, target))
            assert reply.status == 404, reply
            assert reply.after == "HTTP/1.1 404 Not Found"  # the connection goes on
        assert (await exchange(port, HELLO)).body == b"Hello, world!\n"
    assert errors(caplog) == []


async def test_url_for_a_name_too_long_has_no_version(root: Path) -> None:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_static("/s", root, name="files", append_version=True)

        async def where(request: Any) -> Any:
            res = request.app.router["files"]
            return web.Response(text=str(res.url_for(filename="A" * 5000)))

        app.router.add_get("/where", where)
        return app

    async with serve(squall_web, factory) as port:
        reply = await exchange(port, build("GET", "/where"))
    assert reply.status == 200 and reply.body == b"/s/" + b"A" * 5000


@pytest.fixture
def odd(tmp_path: Path) -> Path:
    """A directory whose names are not all UTF-8 (bytes Linux allows in a name)."""
    www = tmp_path / "odd"
    www.mkdir()
    for name in (b"\xff.txt", b"caf\xc3\xa9.txt", b"new\nline.txt", b"<b\xfe>"):
        with open(os.path.join(os.fsencode(www), name), "wb") as f:
            f.write(b"x")
    os.mkdir(os.path.join(os.fsencode(www), b"d\xfer"))
    return www


async def test_a_listing_with_names_that_are_not_utf8(
    odd: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve(squall_web, static_app(odd, show_index=True)) as port:
        reply = await exchange(port, build("GET", "/static/"))
        inner = await exchange(port, build("GET", "/static/d%FEr/"))
    assert reply.status == 200, reply
    page = reply.body.decode("utf-8")  # valid UTF-8 throughout
    assert '<a href="/static/%FF.txt">\ufffd.txt</a>' in page
    assert '<a href="/static/caf%C3%A9.txt">café.txt</a>' in page
    assert '<a href="/static/new%0Aline.txt">new\nline.txt</a>' in page
    assert '<a href="/static/%3Cb%FE%3E">&lt;b\ufffd&gt;</a>' in page
    assert '<a href="/static/d%FEr">d\ufffdr/</a>' in page
    assert "<b" not in page.replace("<body>", "")
    # the directory itself: reached by its bytes or not, never a 500
    assert inner.status in (200, 404)
    assert errors(caplog) == []


async def test_a_listing_through_a_symlink_that_leads_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """follow_symlinks lets a link lead out of the root; its directory is listed
    under the name the URL gave it (aiohttp: a 500, the directory is not under the root)."""
    www = tmp_path / "www"
    (tmp_path / "media" / "deep").mkdir(parents=True)
    (tmp_path / "media" / "a b.txt").write_bytes(b"outside\n")
    www.mkdir()
    (www / "media").symlink_to(tmp_path / "media")
    app = static_app(www, show_index=True, follow_symlinks=True)
    async with serve(squall_web, app) as port:
        reply = await exchange(port, build("GET", "/static/media/"))
        assert reply.status == 200, reply
        page = reply.body.decode()
        assert "<title>Index of /media</title>" in page
        assert '<li><a href="/static/media/a%20b.txt">a b.txt</a></li>' in page
        assert '<li><a href="/static/media/deep">deep/</a></li>' in page
        linked = await exchange(port, build("GET", "/static/media/a%20b.txt"))
        assert linked.body == b"outside\n"
        nested = await exchange(port, build("GET", "/static/media/deep"))
        assert nested.status == 200 and b"Index of /media/deep" in nested.body
    assert errors(caplog) == []
