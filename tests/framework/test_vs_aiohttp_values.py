"""Squall against aiohttp on values (issue 17, item 14): the same app, the same bytes
in, the same bytes out (see ``_wire.same``).

Redirect locations percent-encoded as aiohttp writes them, control characters in a
location, and request values read from odd headers.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from squall import web

from ._wire import build, run_on, same


def redirect_app(web: Any) -> Any:
    targets = {
        "encoded": "/a b/\u00e9?q=\u00fc",
        "absolute": "http://ex\u00e4mple.com/p a?x=1#frag",
        "already": "/a%20b?q=%C3%BC",
        "crlf": "/x\r\nSet-Cookie: stolen=1",
        "lf": "/next\nX-Injected: 1",
        "tab": "/t\tab",
        "percent": "/100%/x?a=%zz",
    }

    async def redirect(request: Any) -> Any:
        raise web.HTTPFound(targets[request.match_info["name"]])

    async def see_other(request: Any) -> Any:
        raise web.HTTPSeeOther(request.query["to"])

    app = web.Application()
    app.router.add_get("/go/{name}", redirect)
    app.router.add_post("/see", see_other)
    return app


@pytest.mark.parametrize("name", ["encoded", "absolute", "already", "crlf", "lf", "tab", "percent"])
async def test_redirect_location_as_aiohttp(name: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        reply = await same(redirect_app, build("GET", f"/go/{name}"))
    assert reply.status == 302
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_redirect_location_is_percent_encoded() -> None:
    reply = await run_on(web, redirect_app, build("GET", "/go/encoded"))
    assert reply.header("Location") == "/a%20b/%C3%A9?q=%C3%BC"


async def test_location_from_user_input_cannot_add_a_field() -> None:
    """CR and LF dropped (as yarl and browsers drop them), so the rest stays in the URL."""
    reply = await run_on(web, redirect_app, build("GET", "/go/crlf"))
    assert reply.header("Location") == "/xSet-Cookie:%20stolen=1"
    assert reply.header("Set-Cookie") is None


async def test_location_taken_from_the_query() -> None:
    """The usual way a location comes from a client: ``?next=…``, decoded by the query."""
    reply = await same(redirect_app, build("POST", "/see?to=/a%0D%0AX:%201", body=b""))
    assert reply.header("Location") == "/aX:%201"


def test_control_character_left_in_a_location_is_refused_where_it_is_built() -> None:
    """What yarl keeps (a NUL inside a host) is refused at
    once with a message, not later by the response writer."""
    with pytest.raises(ValueError, match="control character"):
        web.HTTPFound("http://a\x00b/")


# -- request values read the same way ---------------------------------------------------


def values_app(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        def iso(value: Any) -> Any:
            return None if value is None else value.isoformat()

        return web.json_response(
            {
                "ctype": request.content_type,
                "charset": request.charset,
                "cookies": dict(request.cookies),
                "ims": iso(request.if_modified_since),
            }
        )

    app = web.Application()
    app.router.add_route("*", "/", handler)
    return app


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": 'TEXT/Plain; Charset="UTF-8"'},
        {"Content-Type": "text/plain; a=1; a=2; charset=latin-1"},
        {"Content-Type": "text/plain;;charset=utf-8"},
        {"Content-Type": 'multipart/form-data; boundary="a;b"'},
        {"Content-Type": "nonsense"},
        {"Content-Type": "a/b/c; charset=utf-8"},
        {"Content-Type": ""},
        {"Cookie": 'a=1; a=2; b; c="q\\"d"'},
        {"If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"},
        {"If-Modified-Since": "Sunday, 06-Nov-94 08:49:37 GMT"},  # RFC 850
        {"If-Modified-Since": "Sun Nov  6 08:49:37 1994"},  # asctime: no zone, UTC
        {"If-Modified-Since": "yesterday"},
    ],
    ids=lambda headers: repr(headers)[:60],
)
async def test_request_values_as_aiohttp(headers: dict[str, str]) -> None:
    await same(values_app, build("GET", "/", headers=headers))
