"""A static prefix that a URL must percent-encode (a space, non-ASCII letters),
and the route's tables as aiohttp-cors reaches into them.

aiohttp's ``url_for`` writes such a prefix encoded; Squall wrote it raw (a space
in an ``href``). Unlike aiohttp, Squall also serves under such a prefix: aiohttp
compares the decoded request path with its encoded prefix and answers 404.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from framework._wire import build, exchange, serve
from squall import web as squall_web

from ._diff import same_ci

CYRILLIC = "/\u043f\u0440\u0435 %2F\u0444\u0438\u043a\u0441"  # as aiohttp tests it
PREFIXES = [CYRILLIC, "/my static", "/st%20x", "/static"]


def where_app(root: Path, prefix: str) -> Any:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_static(prefix, root, name="files")

        async def where(request: Any) -> Any:
            res = request.app.router["files"]
            urls = [
                str(res.url_for(filename="hello.txt")),
                str(res.url_for(filename="/1 2/файл%2F.txt")),
                res.url_for(filename="sub/x.txt").path,
            ]
            return web.Response(text="\n".join(urls))

        app.router.add_get("/where", where)
        return app

    return factory


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_url_for_encodes_the_prefix_as_aiohttp(root: Path, prefix: str) -> None:
    reply = await same_ci(where_app(root, prefix), build("GET", "/where"))
    for url in reply.body.split(b"\n")[:2]:  # the third is a decoded .path
        assert url.isascii() and b" " not in url, url


@pytest.mark.parametrize("prefix", [CYRILLIC, "/my static"])
async def test_the_links_of_an_encoded_prefix_lead_to_the_files(root: Path, prefix: str) -> None:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_static(prefix, root, name="files", show_index=True)

        async def where(request: Any) -> Any:
            return web.Response(text=str(request.app.router["files"].url_for(filename="sub/x.txt")))

        app.router.add_get("/where", where)
        return app

    async with serve(squall_web, factory) as port:
        link = (await exchange(port, build("GET", "/where"))).body.decode()
        assert link.isascii() and " " not in link
        assert (await exchange(port, build("GET", link))).body == b"x\n"
        listing = await exchange(port, build("GET", link.rsplit("/", 2)[0] + "/sub/"))
        assert listing.status == 200, listing
        hrefs = re.findall(r'href="([^"]+)"', listing.body.decode())
        assert hrefs and all(href.startswith(link.rsplit("/", 2)[0] + "/sub/") for href in hrefs)
        for href in hrefs:
            assert (await exchange(port, build("GET", href))).status == 200, href


async def test_options_added_the_aiohttp_cors_way(root: Path) -> None:
    """aiohttp-cors's router adapter adds OPTIONS to a static resource by hand."""

    def factory(web: Any) -> Any:
        app = web.Application()
        resource = app.router.add_static("/static", root)
        resource._routes["OPTIONS"] = resource._routes["GET"]
        resource._allowed_methods.add("OPTIONS")
        return app

    reply = await same_ci(factory, build("OPTIONS", "/static/hello.txt"))
    assert reply.status == 200 and reply.body == b"Hello, world!\n"
    refused = await same_ci(factory, build("PUT", "/static/hello.txt"))
    assert refused.status == 405 and refused.header("Allow") == "GET,HEAD,OPTIONS"
