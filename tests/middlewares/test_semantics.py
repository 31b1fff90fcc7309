"""How middlewares run, on Squall and on aiohttp 3.14 through real sockets.

Each test builds the same app on ``webmod`` (squall.web, then aiohttp.web) and
asserts the same answer, so the aiohttp run checks the expectation itself.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from framework._wire import Reply, exchange, run_on, serve


def request(method: str, target: str, headers: dict[str, str] | None = None) -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: site.test\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    if method in ("POST", "PUT"):
        head += "Content-Length: 0\r\n"
    return head.encode() + b"\r\n"


async def ask(web: Any, factory: Any, method: str, target: str, **kwargs: Any) -> Reply:
    return await run_on(web, factory, request(method, target, **kwargs))


def tracing(web: Any, name: str, trace: list[str]) -> Any:
    """A middleware that records its entry and exit and stamps the response."""

    @web.middleware
    async def mw(request: Any, handler: Any) -> Any:
        trace.append(f"{name}>")
        response = await handler(request)
        trace.append(f"<{name}")
        response.headers[f"X-{name}"] = ",".join(trace)
        return response

    return mw


def test_middleware_marks_new_style(webmod: Any) -> None:
    async def mw(request: Any, handler: Any) -> Any:
        return await handler(request)

    assert webmod.middleware(mw) is mw
    assert mw.__middleware_version__ == 1


async def test_outermost_first(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        trace: list[str] = []

        async def handler(request: Any) -> Any:
            trace.append("handler")
            return web.Response(text="ok")

        app = web.Application(middlewares=[tracing(web, "one", trace), tracing(web, "two", trace)])
        app.middlewares.append(tracing(web, "three", trace))  # before start: the innermost
        app.router.add_get("/", handler)
        return app

    reply = await ask(webmod, factory, "GET", "/")
    assert (reply.status, reply.body) == (200, b"ok")
    assert reply.header("X-three") == "one>,two>,three>,handler,<three"
    assert reply.header("X-two") == "one>,two>,three>,handler,<three,<two"
    assert reply.header("X-one") == "one>,two>,three>,handler,<three,<two,<one"


def catching(web: Any) -> Any:
    """An app whose middleware turns any HTTPException into its own JSON page."""

    @web.middleware
    async def error_pages(request: Any, handler: Any) -> Any:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            page = {
                "class": type(exc).__name__,
                "status": exc.status,
                "reason": exc.reason,
                "text": exc.text,
                "allow": exc.headers.get("Allow"),
            }
            return web.json_response(page, status=exc.status)

    async def conflict(request: Any) -> Any:
        raise web.HTTPConflict(text="already there")

    async def ok(request: Any) -> Any:
        return web.Response(text="ok")

    app = web.Application(middlewares=[error_pages])
    app.router.add_get("/r", ok)
    app.router.add_post("/r", ok)
    app.router.add_get("/conflict", conflict)
    return app


async def test_a_middleware_sees_and_replaces_404(webmod: Any) -> None:
    reply = await ask(webmod, catching, "GET", "/missing")
    assert reply.status == 404
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert reply.json() == {
        "class": "HTTPNotFound",
        "status": 404,
        "reason": "Not Found",
        "text": "404: Not Found",
        "allow": None,
    }


async def test_a_middleware_sees_and_replaces_405_with_allow(webmod: Any) -> None:
    reply = await ask(webmod, catching, "DELETE", "/r")
    assert reply.status == 405
    assert reply.header("Allow") is None  # the middleware's own response has none
    assert reply.json() == {
        "class": "HTTPMethodNotAllowed",
        "status": 405,
        "reason": "Method Not Allowed",
        "text": "405: Method Not Allowed",
        "allow": "GET,HEAD,POST",
    }


async def test_a_middleware_catches_the_handlers_exception(webmod: Any) -> None:
    reply = await ask(webmod, catching, "GET", "/conflict")
    assert reply.status == 409
    assert reply.json()["text"] == "already there"
    assert reply.json()["class"] == "HTTPConflict"


def passing(web: Any) -> Any:
    """Middlewares that look at an HTTPException and let it go on."""

    @web.middleware
    async def stamp(request: Any, handler: Any) -> Any:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            exc.headers["X-Seen"] = f"{exc.status}"
            raise

    async def ok(request: Any) -> Any:
        return web.Response(text="ok")

    app = web.Application(middlewares=[stamp])
    app.router.add_get("/r", ok)
    return app


@pytest.mark.parametrize(
    ("method", "status", "body", "allow"),
    [("GET", 404, b"404: Not Found", None), ("PUT", 405, b"405: Method Not Allowed", "GET,HEAD")],
)
async def test_404_and_405_pass_through_a_middleware(
    webmod: Any, method: str, status: int, body: bytes, allow: str | None
) -> None:
    target = "/missing" if status == 404 else "/r"
    reply = await ask(webmod, passing, method, target)
    assert (reply.status, reply.body, reply.header("X-Seen")) == (status, body, str(status))
    assert reply.header("Allow") == allow


def guarded(web: Any) -> Any:
    """An auth middleware: no token, no entry."""

    @web.middleware
    async def auth(request: Any, handler: Any) -> Any:
        if request.headers.get("Authorization") != "Bearer good":
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
        return await handler(request)

    async def secret(request: Any) -> Any:
        return web.Response(text="secret")

    app = web.Application(middlewares=[auth])
    app.router.add_get("/secret", secret)
    return app


async def test_a_middleware_raises_an_http_exception(webmod: Any) -> None:
    refused = await ask(webmod, guarded, "GET", "/secret")
    assert (refused.status, refused.body) == (401, b"401: Unauthorized")
    assert refused.header("WWW-Authenticate") == "Bearer"
    # even before routing's 404: the middleware runs first
    missing = await ask(webmod, guarded, "GET", "/nowhere")
    assert missing.status == 401
    allowed = await ask(webmod, guarded, "GET", "/secret", headers={"Authorization": "Bearer good"})
    assert (allowed.status, allowed.body) == (200, b"secret")


async def test_a_middleware_replaces_the_response(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        calls: list[str] = []

        @web.middleware
        async def replace(request: Any, handler: Any) -> Any:
            original = await handler(request)
            return web.Response(
                status=202, text=f"replaced {original.status} {original.text} {calls}"
            )

        async def handler(request: Any) -> Any:
            calls.append("handler")
            return web.Response(status=201, text="original")

        app = web.Application(middlewares=[replace])
        app.router.add_get("/", handler)
        return app

    reply = await ask(webmod, factory, "GET", "/")
    assert (reply.status, reply.body) == (202, b"replaced 201 original ['handler']")


async def test_an_exception_skips_the_post_processing_it_passes(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        trace: list[str] = []

        @web.middleware
        async def outer(request: Any, handler: Any) -> Any:
            try:
                response = await handler(request)
                response.headers["X-Post"] = "outer"
                trace.append(f"{request.path} post")
                return response
            finally:
                trace.append(f"{request.path} finally")

        @web.middleware
        async def inner(request: Any, handler: Any) -> Any:
            response = await handler(request)
            response.headers["X-Inner"] = "inner"
            trace.append("inner post")
            return response

        async def boom(request: Any) -> Any:
            raise web.HTTPBadRequest(text="nope")

        async def show(request: Any) -> Any:
            return web.Response(text=",".join(trace))

        app = web.Application(middlewares=[outer, inner])
        app.router.add_get("/boom", boom)
        app.router.add_get("/trace", show)
        return app

    async with serve(webmod, factory) as port:
        boom = await exchange(port, request("GET", "/boom"))
        assert (boom.status, boom.body) == (400, b"nope")
        assert (boom.header("X-Post"), boom.header("X-Inner")) == (None, None)
        trace = await exchange(port, request("GET", "/trace"))
        seen = trace.body.decode().split(",")
        assert "/boom finally" in seen and "/boom post" not in seen
        assert (trace.header("X-Post"), trace.header("X-Inner")) == ("outer", "inner")


async def test_a_plain_exception_passes_middlewares_to_a_500(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        @web.middleware
        async def convert(request: Any, handler: Any) -> Any:
            try:
                return await handler(request)
            except LookupError as exc:
                return web.Response(status=503, text=f"converted {exc.args[0]}")

        async def lookup(request: Any) -> Any:
            raise KeyError("backend")

        async def broken(request: Any) -> Any:
            raise RuntimeError("secret detail")

        app = web.Application(middlewares=[convert])
        app.router.add_get("/lookup", lookup)
        app.router.add_get("/broken", broken)
        return app

    async with serve(webmod, factory) as port:
        converted = await exchange(port, request("GET", "/lookup"))
        assert (converted.status, converted.body) == (503, b"converted backend")
        broken = await exchange(port, request("GET", "/broken"))
        assert broken.status == 500
        assert b"secret detail" not in broken.body and b"Traceback" not in broken.body


async def test_a_middleware_passes_on_a_clone(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        @web.middleware
        async def rewrite(request: Any, handler: Any) -> Any:
            clone = request.clone(
                method="POST", rel_url="/elsewhere?x=1", headers={"X-Cloned": "yes"}
            )
            return await handler(clone)

        async def handler(request: Any) -> Any:
            info = request.match_info
            values = {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "cloned": request.headers.get("X-Cloned"),
                "route": info.route.resource.canonical,  # routed before the middleware
                "name": info.get("name"),
            }
            return web.json_response(values)

        app = web.Application(middlewares=[rewrite])
        app.router.add_get("/orig/{name}", handler)
        return app

    reply = await ask(webmod, factory, "GET", "/orig/n1")
    assert reply.status == 200
    assert reply.json() == {
        "method": "POST",
        "path": "/elsewhere",
        "query": {"x": "1"},
        "cloned": "yes",
        "route": "/orig/{name}",
        "name": "n1",
    }


async def test_the_handler_is_passed_by_keyword(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        @web.middleware
        async def keyword_only(request: Any, *, handler: Any) -> Any:
            response = await handler(request)
            response.headers["X-Keyword"] = "yes"
            return response

        async def handler(request: Any) -> Any:
            return web.Response(text="ok")

        app = web.Application(middlewares=[keyword_only])
        app.router.add_get("/", handler)
        return app

    reply = await ask(webmod, factory, "GET", "/")
    assert (reply.status, reply.body, reply.header("X-Keyword")) == (200, b"ok", "yes")


def old_style(web: Any) -> Any:
    """aiohttp's deprecated middleware factories: ``await mw(app, handler)``."""

    async def legacy(app: Any, handler: Any) -> Any:
        async def mw(request: Any) -> Any:
            response = await handler(request)
            response.headers["X-Legacy"] = f"{type(app).__name__} {app is request.app}"
            return response

        return mw

    @web.middleware
    async def modern(request: Any, handler: Any) -> Any:
        response = await handler(request)
        response.headers["X-Order"] = response.headers.get("X-Legacy", "after")
        return response

    async def handler(request: Any) -> Any:
        return web.Response(text="ok")

    app = web.Application(middlewares=[modern, legacy])
    app.router.add_get("/", handler)
    return app


async def test_old_style_middlewares_still_run(webmod: Any) -> None:
    # aiohttp 3.14 still calls them, with a DeprecationWarning when the app freezes
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reply = await ask(webmod, old_style, "GET", "/")
    assert (reply.status, reply.body) == (200, b"ok")
    assert reply.header("X-Legacy") == "Application True"
    assert reply.header("X-Order") == "Application True"  # modern is outside legacy
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert any("old-style middleware" in str(w.message) for w in deprecations)


async def test_middlewares_are_frozen_once_started(webmod: Any) -> None:
    apps: list[Any] = []

    @webmod.middleware
    async def late(request: Any, handler: Any) -> Any:
        raise webmod.HTTPForbidden()

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/", handler)
        apps.append(app)
        return app

    async with serve(webmod, factory) as port:
        with pytest.raises(RuntimeError):
            apps[0].middlewares.append(late)
        reply = await exchange(port, request("GET", "/"))
        assert (reply.status, reply.body) == (200, b"ok")
        assert list(apps[0].middlewares) == []


async def test_a_middleware_returning_none_is_a_500(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        @web.middleware
        async def forgetful(request: Any, handler: Any) -> Any:
            await handler(request)  # and no return

        async def handler(request: Any) -> Any:
            return web.Response(text="ok")

        app = web.Application(middlewares=[forgetful])
        app.router.add_get("/", handler)
        return app

    async with serve(webmod, factory) as port:
        reply = await exchange(port, request("GET", "/"))
        assert reply.status == 500
        assert b"ok" not in reply.body
        # the server keeps serving
        again = await exchange(port, request("GET", "/"))
        assert again.status == 500


async def test_a_timing_middleware(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        @web.middleware
        async def timing(request: Any, handler: Any) -> Any:
            response = await handler(request)
            response.headers["Server-Timing"] = "app;dur=1"
            return response

        async def handler(request: Any) -> Any:
            return web.json_response({"path": request.path})

        app = web.Application(middlewares=[timing])
        app.router.add_get("/t", handler)
        return app

    reply = await ask(webmod, factory, "GET", "/t")
    assert (reply.status, json.loads(reply.body)) == (200, {"path": "/t"})
    assert reply.header("Server-Timing") == "app;dur=1"
