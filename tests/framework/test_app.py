"""Application: typed state, the mapping, middlewares, signals and cleanup contexts.

Tests run on ``squall.web`` and ``aiohttp.web`` (``webmod``); lifecycle tests start
and close a real test server of each.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ._wire import build, exchange, serve

# -- typed state and the mapping -----------------------------------------------------------


def test_app_key_typed_state(webmod: Any) -> None:
    db_key = webmod.AppKey("db", dict)
    app = webmod.Application()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an AppKey never warns
        app[db_key] = {"conn": 1}
    assert app[db_key] == {"conn": 1}
    assert db_key in app
    assert app.get(webmod.AppKey("db", dict)) is None  # keys compare by identity


def test_app_key_repr(webmod: Any) -> None:
    # aiohttp prefixes the name with the module that made the key: match loosely
    assert repr(webmod.AppKey("db", dict)).startswith("<AppKey(")
    assert repr(webmod.AppKey("db", dict)).endswith("db, type=dict)>")
    assert repr(webmod.AppKey("x")).endswith("x, type=<<Unknown>>)>")
    assert repr(webmod.AppKey[int]("n")).endswith("n, type=int)>")


def test_str_keys_warn(webmod: Any) -> None:
    app = webmod.Application()
    with pytest.warns(webmod.NotAppKeyWarning, match="It is recommended to use web.AppKey"):
        app["plain"] = 1
    assert app["plain"] == 1


def test_application_is_a_mutable_mapping(webmod: Any) -> None:
    app = webmod.Application()
    a, b = webmod.AppKey("a", int), webmod.AppKey("b", int)
    assert len(app) == 0
    assert bool(app)  # empty but truthy
    app[a] = 1
    app[b] = 2
    assert len(app) == 2
    assert list(app) == [a, b]
    assert dict(app.items()) == {a: 1, b: 2}
    del app[a]
    assert a not in app
    assert app.setdefault(b, 5) == 2
    with pytest.raises(KeyError):
        app[a]


def test_changing_state_of_a_frozen_app_warns(webmod: Any) -> None:
    app = webmod.Application()
    key = webmod.AppKey("k", int)
    app.freeze()
    assert app.frozen
    with pytest.warns(DeprecationWarning, match="Changing state of started or joined"):
        app[key] = 1


def test_apps_compare_by_identity(webmod: Any) -> None:
    a, b = webmod.Application(), webmod.Application()
    assert a != b
    assert len({a, b}) == 2


def test_subclassing_is_discouraged(webmod: Any) -> None:
    with pytest.warns(DeprecationWarning, match="is discouraged"):

        class MyApp(webmod.Application):
            pass


def test_signals_freeze_at_startup(webmod: Any) -> None:
    async def noop(app: Any) -> None:
        pass

    app = webmod.Application()
    app.on_startup.append(noop)
    app.freeze()
    for signal in (app.on_startup, app.on_shutdown, app.on_cleanup, app.on_response_prepare):
        assert signal.frozen
        with pytest.raises(RuntimeError):
            signal.append(noop)
    with pytest.raises(RuntimeError):
        app.cleanup_ctx.append(noop)


# -- middlewares -------------------------------------------------------------------------


def close(method: str, target: str) -> bytes:
    """A request that is the connection's last: nothing else goes through the app."""
    return build(method, target, headers={"Connection": "close"})


def app_middlewares(web: Any, events: list[str]) -> Any:
    def recording(tag: str) -> Any:
        @web.middleware
        async def mw(request: Any, handler: Any) -> Any:
            events.append(f"{tag} in")
            try:
                resp = await handler(request)
            except web.HTTPException as exc:
                events.append(f"{tag} saw {exc.status}")
                raise
            events.append(f"{tag} out {resp.status}")
            return resp

        return mw

    @web.middleware
    async def short_circuit(request: Any, handler: Any) -> Any:
        if request.path == "/blocked":
            return web.Response(status=403, text="blocked")
        if request.path == "/rewrite":
            return await handler(request.clone(rel_url="/"))
        return await handler(request)

    async def hello(request: Any) -> Any:
        events.append("handler")
        return web.Response(text=f"hello {request.path}")

    async def fail(request: Any) -> Any:
        raise ValueError("boom")

    app = web.Application(middlewares=[recording("first"), short_circuit, recording("last")])
    app.router.add_get("/", hello)
    app.router.add_get("/fail", fail)
    app.router.add_get("/blocked", hello)
    app.router.add_get("/rewrite", hello)
    return app


@pytest.mark.parametrize(
    ("data", "status", "expected"),
    [
        (
            close("GET", "/"),
            200,
            ["first in", "last in", "handler", "last out 200", "first out 200"],
        ),
        (close("GET", "/missing"), 404, ["first in", "last in", "last saw 404", "first saw 404"]),
        (close("POST", "/"), 405, ["first in", "last in", "last saw 405", "first saw 405"]),
        (close("GET", "/blocked"), 403, ["first in", "first out 403"]),
        (
            close("GET", "/rewrite"),
            200,
            ["first in", "last in", "handler", "last out 200", "first out 200"],
        ),
        (close("GET", "/fail"), 500, ["first in", "last in"]),
    ],
    ids=["ok", "404", "405", "short-circuit", "clone", "error"],
)
async def test_middleware_order(webmod: Any, data: bytes, status: int, expected: list[str]) -> None:
    events: list[str] = []
    async with serve(webmod, lambda web: app_middlewares(web, events)) as port:
        reply = await exchange(port, data)
    assert reply.status == status
    assert reply.after == "closed"  # no second request went through the middlewares
    assert events == expected


async def test_middleware_sees_the_rewritten_request(webmod: Any) -> None:
    events: list[str] = []
    async with serve(webmod, lambda web: app_middlewares(web, events)) as port:
        reply = await exchange(port, build("GET", "/rewrite"))
    assert reply.body == b"hello /"


def test_middleware_decorator_marks_the_function(webmod: Any) -> None:
    async def mw(request: Any, handler: Any) -> Any:
        return await handler(request)

    assert webmod.middleware(mw) is mw
    app = webmod.Application(middlewares=[mw])
    assert list(app.middlewares) == [mw]


# -- signals and cleanup contexts ----------------------------------------------------------


def app_lifecycle(web: Any, events: list[str]) -> Any:
    def signal(name: str) -> Any:
        async def receiver(app: Any) -> None:
            events.append(name)

        return receiver

    async def ctx_gen(app: Any) -> AsyncIterator[None]:
        events.append("ctx-gen enter")
        yield
        events.append("ctx-gen exit")

    @contextlib.asynccontextmanager
    async def ctx_cm(app: Any) -> AsyncIterator[None]:
        events.append("ctx-cm enter")
        yield
        events.append("ctx-cm exit")

    async def handler(request: Any) -> Any:
        events.append("request")
        return web.Response(text="ok")

    app = web.Application()
    app.on_startup.append(signal("startup 1"))
    app.on_startup.append(signal("startup 2"))
    app.on_shutdown.append(signal("shutdown"))
    app.on_cleanup.append(signal("cleanup 1"))
    app.on_cleanup.append(signal("cleanup 2"))
    app.cleanup_ctx.append(ctx_gen)
    app.cleanup_ctx.append(ctx_cm)
    app.router.add_get("/", handler)
    return app


async def test_lifecycle_order(webmod: Any) -> None:
    events: list[str] = []
    async with serve(webmod, lambda web: app_lifecycle(web, events)) as port:
        assert events == ["ctx-gen enter", "ctx-cm enter", "startup 1", "startup 2"]
        reply = await exchange(port, build("GET", "/"))
        assert reply.body == b"ok"
    assert events == [
        "ctx-gen enter",
        "ctx-cm enter",
        "startup 1",
        "startup 2",
        "request",
        "shutdown",
        "ctx-cm exit",
        "ctx-gen exit",
        "cleanup 1",
        "cleanup 2",
    ]


async def test_cleanup_errors_are_gathered(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        def failing(tag: str) -> Any:
            async def ctx(app: Any) -> AsyncIterator[None]:
                yield
                raise ValueError(tag)

            return ctx

        app = web.Application()
        app.cleanup_ctx.append(failing("one"))
        app.cleanup_ctx.append(failing("two"))
        return app

    with pytest.raises(webmod.CleanupError) as info:
        async with serve(webmod, factory):
            pass
    assert isinstance(info.value, RuntimeError)
    assert [str(e) for e in info.value.exceptions] == ["two", "one"]


async def test_a_single_cleanup_error_is_raised_as_is(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        async def ctx(app: Any) -> AsyncIterator[None]:
            yield
            raise KeyError("only")

        app = web.Application()
        app.cleanup_ctx.append(ctx)
        return app

    with pytest.raises(KeyError):
        async with serve(webmod, factory):
            pass


async def test_startup_error_propagates(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        async def broken(app: Any) -> None:
            raise OSError("no database")

        app = web.Application()
        app.on_startup.append(broken)
        return app

    with pytest.raises(OSError, match="no database"):
        async with serve(webmod, factory):
            pass


# -- on_response_prepare -------------------------------------------------------------------


def app_prepare(web: Any) -> Any:
    async def add_header(request: Any, response: Any) -> None:
        response.headers["X-Prepared"] = f"{request.method} {response.status}"

    async def plain(request: Any) -> Any:
        return web.Response(text="plain")

    async def stream(request: Any) -> Any:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"streamed")
        return resp

    async def fail(request: Any) -> Any:
        raise web.HTTPConflict()

    app = web.Application()
    app.on_response_prepare.append(add_header)
    app.router.add_get("/", plain)
    app.router.add_get("/stream", stream)
    app.router.add_get("/conflict", fail)
    return app


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "GET 200"),
        ("/stream", "GET 200"),
        ("/conflict", "GET 409"),
        ("/missing", "GET 404"),
    ],
)
async def test_on_response_prepare_adds_a_header(webmod: Any, target: str, expected: str) -> None:
    async with serve(webmod, app_prepare) as port:
        reply = await exchange(port, build("GET", target))
    assert reply.header("X-Prepared") == expected
