"""When a session is saved, by kind of response (see squall/sessions/middleware.py):
returned, raised, streamed, prepared by the handler, in a sub-application."""

from __future__ import annotations

from typing import Any

from squall import web
from squall.sessions import SimpleCookieStorage, get_session, session_middleware, setup


async def stream_prepared_by_handler(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    session["streamed"] = 1
    resp = web.StreamResponse()
    await resp.prepare(request)  # the head goes out here
    session["too_late"] = 1  # after the head: cannot reach the client
    await resp.write(b"chunk")
    return resp


async def read(request: web.Request) -> web.Response:
    return web.json_response(dict(await get_session(request)))


def cookie_of(resp: Any) -> str | None:
    morsel = resp.cookies.get("AIOHTTP_SESSION")
    return None if morsel is None else str(morsel.value)


async def test_setup_saves_before_the_handler_prepares(aiohttp_client: Any) -> None:
    app = web.Application()
    setup(app, SimpleCookieStorage())
    app.router.add_get("/stream", stream_prepared_by_handler)
    app.router.add_get("/", read)
    client = await aiohttp_client(app)
    resp = await client.get("/stream")
    assert await resp.read() == b"chunk"
    assert '"streamed": 1' in (cookie_of(resp) or "")
    assert await (await client.get("/")).json() == {"streamed": 1}


async def test_middleware_alone_cannot_reach_a_handler_prepared_stream(aiohttp_client: Any) -> None:
    """Without setup()'s prepare hook (aiohttp_session's behaviour for every stream)."""
    app = web.Application(middlewares=[session_middleware(SimpleCookieStorage())])
    app.router.add_get("/stream", stream_prepared_by_handler)
    client = await aiohttp_client(app)
    resp = await client.get("/stream")
    assert await resp.read() == b"chunk"
    assert cookie_of(resp) is None


async def test_returned_stream_is_saved_by_the_middleware(aiohttp_client: Any) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        (await get_session(request))["kind"] = "stream"
        return web.StreamResponse(status=202)

    app = web.Application(middlewares=[session_middleware(SimpleCookieStorage())])
    app.router.add_get("/", handler)
    client = await aiohttp_client(app)
    resp = await client.get("/")
    assert resp.status == 202
    assert '"kind": "stream"' in (cookie_of(resp) or "")


async def test_saved_once_when_both_paths_apply(aiohttp_client: Any) -> None:
    """A returned Response passes the middleware and then the prepare hook: one
    Set-Cookie, not two."""

    async def handler(request: web.Request) -> web.Response:
        (await get_session(request))["x"] = 1
        return web.Response(text="ok")

    app = web.Application()
    setup(app, SimpleCookieStorage())
    app.router.add_get("/", handler)
    client = await aiohttp_client(app)
    resp = await client.get("/")
    assert len(resp.headers.getall("Set-Cookie")) == 1


async def test_raised_exception_carries_the_session(aiohttp_client: Any) -> None:
    async def handler(request: web.Request) -> web.Response:
        (await get_session(request))["flash"] = "saved"
        raise web.HTTPSeeOther("/")

    app = web.Application()
    setup(app, SimpleCookieStorage())
    app.router.add_post("/form", handler)
    app.router.add_get("/", read)
    client = await aiohttp_client(app)
    resp = await client.post("/form", allow_redirects=False)
    assert resp.status == 303
    assert '"flash": "saved"' in (cookie_of(resp) or "")
    resp = await client.post("/form")  # followed: the next page sees it
    assert await resp.json() == {"flash": "saved"}


async def test_subapp_routes_share_the_root_session(aiohttp_client: Any) -> None:
    async def write(request: web.Request) -> web.Response:
        (await get_session(request))["from"] = "sub"
        return web.Response(text="ok")

    sub = web.Application()
    sub.router.add_get("/write", write)
    sub.router.add_get("/stream", stream_prepared_by_handler)
    app = web.Application()
    setup(app, SimpleCookieStorage())
    app.add_subapp("/sub", sub)
    app.router.add_get("/", read)
    client = await aiohttp_client(app)
    await client.get("/sub/write")
    assert await (await client.get("/")).json() == {"from": "sub"}
    await (await client.get("/sub/stream")).read()
    assert await (await client.get("/")).json() == {"from": "sub", "streamed": 1}


async def test_a_failed_handler_commits_nothing_even_under_an_error_page() -> None:
    """A handler raising (not an HTTPException) leaves no cookie: neither its 500
    nor an outer middleware's error page carries the half-made session."""
    from squall import web
    from squall.sessions import SimpleCookieStorage, get_session, setup
    from squall.testing import TestClient, TestServer

    @web.middleware
    async def error_page(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except RuntimeError:
            return web.Response(status=500, text="sorry")

    async def crash(request: web.Request) -> web.Response:
        session = await get_session(request)
        session["user"] = "admin"
        raise RuntimeError("after the session was set")

    for outer in (False, True):
        app = web.Application(middlewares=[error_page] if outer else [])
        setup(app, SimpleCookieStorage())
        app.router.add_get("/", crash)
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/")
            assert resp.status == 500
            assert "Set-Cookie" not in resp.headers


async def test_saved_once_through_the_slow_path(aiohttp_client: Any) -> None:
    """A compressed Response is sent through prepare(), which runs the request's
    prepare hook after the middleware saved: still one Set-Cookie."""

    async def handler(request: web.Request) -> web.Response:
        (await get_session(request))["x"] = 1
        resp = web.Response(text="ok" * 100)
        resp.enable_compression()
        return resp

    app = web.Application()
    setup(app, SimpleCookieStorage())
    app.router.add_get("/", handler)
    client = await aiohttp_client(app)
    resp = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert await resp.text() == "ok" * 100
    assert len(resp.headers.getall("Set-Cookie")) == 1


async def test_setup_adds_no_app_wide_prepare_hook(aiohttp_client: Any) -> None:
    """The hook is the request's own: the parent application of a sub-app with
    sessions keeps its signal empty (an app-wide hook sent every response of every
    route through the slower prepare path, sessions or not)."""
    sub = web.Application()
    setup(sub, SimpleCookieStorage())
    sub.router.add_get("/stream", stream_prepared_by_handler)
    app = web.Application()
    app.add_subapp("/s/", sub)

    async def bare(request: web.Request) -> web.Response:
        return web.Response(text="bare")

    app.router.add_get("/bare", bare)
    client = await aiohttp_client(app)
    assert len(app.on_response_prepare) == len(sub.on_response_prepare) == 0
    assert not app._has_prepare_hooks
    assert await (await client.get("/bare")).text() == "bare"
    resp = await client.get("/s/stream")  # and a stream in the sub-app is still saved
    assert await resp.read() == b"chunk"
    assert '"streamed": 1' in (cookie_of(resp) or "")


async def test_a_change_after_the_middleware_is_not_saved(aiohttp_client: Any) -> None:
    """As aiohttp_session: what an outer middleware changes once the session
    middleware has returned does not reach the cookie."""

    @web.middleware
    async def outer(request: web.Request, handler: Any) -> web.StreamResponse:
        resp = await handler(request)
        (await get_session(request))["late"] = 1
        return resp

    async def handler(request: web.Request) -> web.Response:
        await get_session(request)  # loaded, not changed
        return web.Response(text="ok")

    app = web.Application(middlewares=[outer])
    setup(app, SimpleCookieStorage())
    app.router.add_get("/", handler)
    client = await aiohttp_client(app)
    resp = await client.get("/")
    assert await resp.text() == "ok"
    assert cookie_of(resp) is None


async def test_a_cloned_request_keeps_the_prepare_hook(aiohttp_client: Any) -> None:
    """A middleware inside the session middleware that passes on ``request.clone()``:
    the stream the handler prepares still carries the session."""

    @web.middleware
    async def cloning(request: web.Request, handler: Any) -> web.StreamResponse:
        return await handler(request.clone())

    app = web.Application()
    setup(app, SimpleCookieStorage())
    app.middlewares.append(cloning)  # inside the session middleware
    app.router.add_get("/stream", stream_prepared_by_handler)
    client = await aiohttp_client(app)
    resp = await client.get("/stream")
    assert await resp.read() == b"chunk"
    assert '"streamed": 1' in (cookie_of(resp) or "")
