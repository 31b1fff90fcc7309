"""Differential cases the mutation audit of issue 17 found missing: each runs the
same app on Squall and on aiohttp and compares the bytes (``_wire.same``).

Percent-decoding of a dynamic path segment happens exactly once: ``%252F`` is the
text ``%2F`` (not a slash, not ``%252F``), and an encoded slash stays inside its
segment.
"""

from __future__ import annotations

from typing import Any

import pytest

from ._wire import build, same


def app_echo(web: Any) -> Any:
    async def echo(request: Any) -> Any:
        return web.json_response(
            {
                "match": request.match_info["x"],
                "path": request.path,
                "raw_path": request.raw_path,
            }
        )

    async def two(request: Any) -> Any:
        return web.json_response(dict(request.match_info))

    app = web.Application()
    app.router.add_get("/echo/{x}", echo)
    app.router.add_get("/two/{a}/{b}", two)
    return app


@pytest.mark.parametrize(
    ("target", "value", "path"),
    [
        ("/echo/a%252Fb", "a%2Fb", "/echo/a%2Fb"),
        ("/echo/a%2Fb", "a/b", "/echo/a/b"),
        ("/echo/%252525", "%2525", "/echo/%2525"),
        ("/echo/a%20b", "a b", "/echo/a b"),
        ("/echo/%E2%9C%93", "\u2713", "/echo/\u2713"),
    ],
)
async def test_match_info_is_decoded_once(target: str, value: str, path: str) -> None:
    reply = await same(app_echo, build("GET", target))
    assert reply.status == 200
    assert reply.json() == {"match": value, "path": path, "raw_path": target}


async def test_encoded_slash_stays_in_its_segment() -> None:
    reply = await same(app_echo, build("GET", "/two/a%2Fb/c%252F"))
    assert reply.json() == {"a": "a/b", "b": "c%2F"}
