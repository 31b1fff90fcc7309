"""CORS through a real server: preflights never reach handlers, sub-applications,
odd origins, and an httpx client playing the browser's part."""

from __future__ import annotations

from typing import Any

import httpx

import squall.cors
from framework._wire import build, exchange, serve
from squall import web

from .conftest import AIOHTTP, SQUALL, normalised, options, replies


def counting_app(web: Any, cors_mod: Any) -> Any:
    """A CORS resource whose handler and middleware count what reaches them."""
    seen: dict[str, int] = {"handler": 0, "middleware": 0}

    @web.middleware
    async def count(request: Any, handler: Any) -> Any:
        seen["middleware"] += 1
        return await handler(request)

    async def handler(request: Any) -> Any:
        seen["handler"] += 1
        return web.json_response(seen)

    app = web.Application(middlewares=[count])
    defaults = {"*": cors_mod.ResourceOptions(allow_methods="*", allow_headers="*")}
    cors = cors_mod.setup(app, defaults=defaults)
    cors.add(app.router.add_route("PUT", "/count", handler))
    return app


async def test_preflight_never_reaches_the_handler() -> None:
    pre = options("/count", origin="http://a", access_control_request_method="PUT")
    put = build("PUT", "/count", headers={"Origin": "http://a"}, body=b"")
    for stack in (SQUALL, AIOHTTP):
        got = await replies(stack, counting_app, [pre, pre, options("/count"), put])
        assert [r.status for r in got] == [200, 200, 403, 200]
        # the preflights passed the middleware (as on aiohttp), none the handler;
        # the middleware also saw the probe _wire sends after each of the first three
        assert got[3].json() == {"handler": 1, "middleware": 3 + 3 + 1}


def subapp_factory(web: Any, cors_mod: Any) -> Any:
    async def handler(request: Any) -> Any:
        return web.Response(text="sub")

    sub = web.Application()
    cors = cors_mod.setup(sub, defaults={"http://a": cors_mod.ResourceOptions()})
    cors.add(sub.router.add_get("/r", handler))
    app = web.Application()
    app.router.add_get("/r", handler)  # the parent's own: no CORS
    app.add_subapp("/sub", sub)
    return app


async def test_subapplication() -> None:
    cases = [
        build("GET", "/sub/r", headers={"Origin": "http://a"}),
        build(
            "OPTIONS",
            "/sub/r",
            headers={"Origin": "http://a", "Access-Control-Request-Method": "GET"},
        ),
        build("GET", "/r", headers={"Origin": "http://a"}),
    ]
    ours = await replies(SQUALL, subapp_factory, cases)
    theirs = await replies(AIOHTTP, subapp_factory, cases)
    for vary, a, b in zip([True, False, False], ours, theirs, strict=True):
        assert normalised(a, vary_origin=vary) == normalised(b)
    assert ours[0].header("Access-Control-Allow-Origin") == "http://a"
    assert ours[2].header("Access-Control-Allow-Origin") is None


def echo_any(web: Any, cors_mod: Any) -> Any:
    async def handler(request: Any) -> Any:
        return web.Response(text="x")

    app = web.Application()
    cors = cors_mod.setup(app, defaults={"*": cors_mod.ResourceOptions(allow_credentials=True)})
    cors.add(app.router.add_get("/", handler))
    return app


async def test_odd_origins_are_echoed_as_sent() -> None:
    """An origin is compared and echoed as a string, bytes as sent (as aiohttp-cors)."""
    for origin in (b"null", b"http://\xc3\xa9.example", b"a, b", b"http://\xff"):
        data = b"GET / HTTP/1.1\r\nHost: x\r\nOrigin: " + origin + b"\r\n\r\n"
        async with serve(web, lambda w: echo_any(w, squall.cors)) as port:
            ours = await exchange(port, data)
        async with serve(AIOHTTP.web, lambda w: echo_any(w, AIOHTTP.cors)) as port:
            theirs = await exchange(port, data)
        assert ours.status == theirs.status == 200
        sent = ours.header("Access-Control-Allow-Origin")
        assert sent is not None and sent.encode("latin-1") == origin
        if origin != b"http://\xff":  # aiohttp drops a byte that is not UTF-8
            assert normalised(ours, vary_origin=True) == normalised(theirs)


async def test_browser_flow_with_httpx() -> None:
    """What a browser does for a credentialed cross-origin PUT: preflight, then the PUT."""
    async with serve(web, lambda w: counting_app(w, squall.cors)) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            pre = await client.options(
                "/count",
                headers={
                    "Origin": "https://app.example",
                    "Access-Control-Request-Method": "PUT",
                    "Access-Control-Request-Headers": "content-type, x-token",
                },
            )
            assert pre.status_code == 200
            assert pre.headers["access-control-allow-origin"] == "https://app.example"
            assert pre.headers["access-control-allow-methods"] == "PUT"
            assert pre.headers["access-control-allow-headers"] == "CONTENT-TYPE,X-TOKEN"
            assert pre.content == b""
            put = await client.put("/count", headers={"Origin": "https://app.example"})
            assert put.status_code == 200
            assert put.headers["access-control-allow-origin"] == "https://app.example"
            assert put.headers["vary"] == "Origin"
            assert "access-control-allow-credentials" not in put.headers
            assert put.json() == {"handler": 1, "middleware": 2}


def static_app(web: Any, cors_mod: Any) -> Any:
    import pathlib

    app = web.Application()
    options = cors_mod.ResourceOptions(
        allow_credentials=True, expose_headers="*", allow_methods="*", allow_headers=("X-Header",)
    )
    cors = cors_mod.setup(app, defaults={"*": options})
    static = app.router.add_static("/static", pathlib.Path(__file__).parent, name="static")
    assert cors.add(static) is static
    assert list(app.router.keys()) == ["static"]  # no new named route
    return app


async def test_static_resource() -> None:
    """aiohttp-cors's test_static_route: preflights under a static prefix, and the files."""
    cases = [
        build(
            "OPTIONS",
            "/static/__init__.py",
            headers={"Origin": "http://example.org", "Access-Control-Request-Method": m},
        )
        for m in ("OPTIONS", "GET")
    ]
    cases.append(build("GET", "/static/__init__.py", headers={"Origin": "http://example.org"}))
    ours = await replies(SQUALL, static_app, cases)
    theirs = await replies(AIOHTTP, static_app, cases)
    for vary, a, b in zip([False, False, True], ours[:2], theirs[:2], strict=False):
        assert normalised(a, vary_origin=vary) == normalised(b)
    assert [r.status for r in ours] == [200, 200, 200]
    assert ours[2].header("Access-Control-Allow-Origin") == "http://example.org"
    assert theirs[2].header("Access-Control-Allow-Origin") == "http://example.org"
    assert ours[2].header("Vary") == "Origin"
