"""Application behaviours found by running aiohttp 3.14's own ``test_web_app.py``.

Each test runs on both ``squall.web`` and ``aiohttp.web`` (``webmod``) or compares
the two servers on the wire (``same``), so the expectation is aiohttp's own.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web

from ._wire import build, same


class Thing:
    pass


# made at import, as applications make them: the module's name prefixes the key's
KEYS = {
    web: (
        web.AppKey("plain", int),
        web.AppKey("thing", Thing),
        web.AppKey("gen", Iterator[int]),  # type: ignore[arg-type]
        web.AppKey[Iterator[int]]("annotated"),
        web.AppKey("untyped"),
    )
    for web in (squall_web, aiohttp_web)
}


# -- the deprecated loop and debug (test_app_ctor, test_set_loop...) -------------------


async def test_loop_argument_and_property(webmod: Any) -> None:
    loop = asyncio.get_running_loop()
    with pytest.warns(DeprecationWarning, match="loop argument is deprecated"):
        app = webmod.Application(loop=loop)
    with pytest.warns(DeprecationWarning, match="loop property is deprecated"):
        assert app.loop is loop


def test_loop_is_none_before_the_app_runs(webmod: Any) -> None:
    app = webmod.Application()
    with pytest.warns(DeprecationWarning):
        assert app.loop is None


def test_set_loop_refuses_a_second_loop(webmod: Any) -> None:
    loop = asyncio.new_event_loop()
    try:
        app = webmod.Application()
        sub = webmod.Application()
        app.add_subapp("/sub", sub)
        app._set_loop(loop)
        with pytest.warns(DeprecationWarning):
            assert sub.loop is loop
        with pytest.raises(RuntimeError):
            app._set_loop(asyncio.new_event_loop())
    finally:
        loop.close()


def app_reporting_its_loop(web: Any) -> Any:
    async def handle(request: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            running = asyncio.get_running_loop()
            text = f"{request.app.loop is running} {request.config_dict['sub'].loop is running}"
        return web.Response(text=text)

    app = web.Application()
    sub = web.Application()
    app["sub"] = sub
    app.add_subapp("/sub", sub)
    app.router.add_get("/", handle)
    return app


async def test_a_running_app_knows_its_loop() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # string keys
        reply = await same(app_reporting_its_loop, build("GET", "/"))
    assert reply.body == b"True True"


def test_debug_argument_and_property_are_deprecated(webmod: Any) -> None:
    with pytest.warns(DeprecationWarning, match="debug argument is deprecated"):
        app = webmod.Application(debug=True)
    with pytest.warns(DeprecationWarning, match="debug property is deprecated"):
        assert app.debug is True


# -- cleanup_ctx is a frozen list like the signals (test_subapp_on_startup...) ----------


def test_cleanup_ctx_freezes_like_a_signal(webmod: Any) -> None:
    async def ctx(app: Any) -> AsyncIterator[None]:
        yield  # pragma: no cover

    app = webmod.Application()
    app.cleanup_ctx.extend([ctx])
    assert not app.cleanup_ctx.frozen
    app.freeze()
    assert app.cleanup_ctx.frozen
    for change in (
        lambda: app.cleanup_ctx.append(ctx),
        lambda: app.cleanup_ctx.extend([ctx]),
        lambda: app.cleanup_ctx.insert(0, ctx),
        lambda: app.cleanup_ctx.__setitem__(0, ctx),
        lambda: app.cleanup_ctx.__delitem__(0),
    ):
        with pytest.raises(RuntimeError):
            change()
    assert list(app.cleanup_ctx) == [ctx]


@pytest.mark.parametrize("exc_cls", [Exception, asyncio.CancelledError])
async def test_cleanup_ctx_collects_every_teardown_error(
    webmod: Any, exc_cls: type[BaseException]
) -> None:
    out: list[str] = []

    def make(num: int, fail: bool) -> Any:
        async def ctx(app: Any) -> AsyncIterator[None]:
            yield
            out.append(f"post_{num}")
            if fail:
                raise exc_cls(f"fail_{num}")

        return ctx

    app = webmod.Application()
    app.cleanup_ctx.extend([make(1, False), make(2, True), make(3, True)])
    app.freeze()
    await app.startup()
    with pytest.raises(webmod.CleanupError) as info:
        await app.cleanup()
    assert [str(e) for e in info.value.exceptions] == ["fail_3", "fail_2"]
    assert out == ["post_3", "post_2", "post_1"]


# -- AppKey: its repr and its order among string keys (test_appkey_repr_*, test_app_iter)


def test_appkey_repr_names_module_and_type(webmod: Any) -> None:
    plain, thing, gen, annotated, untyped = KEYS[webmod]
    assert repr(plain) == f"<AppKey({__name__}.plain, type=int)>"
    assert repr(thing) == f"<AppKey({__name__}.thing, type={__name__}.Thing)>"
    assert repr(gen) == f"<AppKey({__name__}.gen, type=collections.abc.Iterator[int])>"
    assert repr(annotated) == (
        f"<AppKey({__name__}.annotated, type=collections.abc.Iterator[int])>"
    )
    assert repr(untyped) == f"<AppKey({__name__}.untyped, type=<<Unknown>>)>"


def test_appkeys_sort_before_string_keys(webmod: Any) -> None:
    plain, thing, *_ = KEYS[webmod]
    app = webmod.Application()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # string keys
        app["a"] = 0
        app[thing] = Thing()
        app[plain] = 1
        app["d"] = 4
    assert sorted(app) == [plain, thing, "a", "d"]
    assert sorted(["z", thing, plain]) == [plain, thing, "z"]


# -- a router of the application's own (test_412_is_returned, test_non_default_router) --


def abstract_router(web: Any) -> Any:
    if web is squall_web:
        from squall.framework.routing.abstract import AbstractRouter
    else:
        from aiohttp.abc import AbstractRouter
    return AbstractRouter


def app_own_router(web: Any) -> Any:
    class Refusing(abstract_router(web)):  # type: ignore[misc]
        async def resolve(self, request: Any) -> Any:
            raise web.HTTPPreconditionFailed()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return web.Application(router=Refusing())


async def test_own_router_that_raises() -> None:
    reply = await same(app_own_router, build("GET", "/"))
    assert reply.status == 412


def app_dispatcher_subclass(web: Any) -> Any:
    class Guarded(web.UrlDispatcher):  # type: ignore[misc]
        async def resolve(self, request: Any) -> Any:
            if "X-Deny" in request.headers:
                raise web.HTTPForbidden(text="denied by the router")
            return await super().resolve(request)

    @web.middleware
    async def tag(request: Any, handler: Any) -> Any:
        response = await handler(request)
        response.headers["X-App"] = str(request.app is app)
        return response

    async def echo(request: Any) -> Any:
        body = await request.read()
        info = request.match_info
        return web.json_response(
            {"match": dict(info), "body": body.decode(), "apps": len(info.apps)}
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app = web.Application(router=Guarded(), middlewares=[tag])
    app.router.add_route("*", "/items/{id}", echo)
    return app


@pytest.mark.parametrize(
    "request_bytes",
    [
        build("GET", "/items/7"),
        build("GET", "/items/7", headers={"X-Deny": "1"}),
        build("POST", "/items/7", body=b"payload"),
        build("GET", "/nowhere"),
    ],
)
async def test_dispatcher_subclass_resolve_is_awaited(request_bytes: bytes) -> None:
    reply = await same(app_dispatcher_subclass, request_bytes)
    if b"X-Deny" in request_bytes:
        assert (reply.status, reply.body) == (403, b"denied by the router")
    elif b"nowhere" in request_bytes:
        assert reply.status == 404
    else:
        assert reply.header("X-App") == "True"
        assert reply.json()["match"] == {"id": "7"}


def test_router_argument_must_be_a_router(webmod: Any) -> None:
    # aiohttp asserts (AssertionError); Squall raises TypeError
    with pytest.warns(DeprecationWarning), pytest.raises((TypeError, AssertionError)):
        webmod.Application(router=object())


def test_the_dispatcher_is_an_abstract_router(webmod: Any) -> None:
    app = webmod.Application()
    assert isinstance(app.router, abstract_router(webmod))
    assert not app.router.frozen
    app.freeze()
    assert app.router.frozen


async def test_a_router_built_on_aiohttps_abc_serves() -> None:
    # code moved from aiohttp may still subclass aiohttp.abc.AbstractRouter
    from aiohttp.abc import AbstractRouter

    from ._wire import run_on

    class Refusing(AbstractRouter):
        async def resolve(self, request: Any) -> Any:
            raise squall_web.HTTPPreconditionFailed()

    def factory(web: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return web.Application(router=Refusing())

    reply = await run_on(squall_web, factory, build("GET", "/"))
    assert reply.status == 412


def test_frozen_lists_refuse_every_change_and_hash_once_frozen(webmod: Any) -> None:
    @webmod.middleware
    async def mw(request: Any, handler: Any) -> Any:
        return await handler(request)  # pragma: no cover

    app = webmod.Application(middlewares=[mw])
    with pytest.raises(RuntimeError):
        hash(app.middlewares)
    app.freeze()
    with pytest.raises((RuntimeError, TypeError)):  # aiohttp's FrozenList has no *=
        app.middlewares *= 2
    assert list(app.middlewares) == [mw]
    assert hash(app.middlewares) == hash((mw,))


def app_subapp_with_own_router(web: Any) -> Any:
    class Guarded(web.UrlDispatcher):  # type: ignore[misc]
        async def resolve(self, request: Any) -> Any:
            if "X-Deny" in request.headers:
                raise web.HTTPForbidden(text="denied by the sub-app's router")
            return await super().resolve(request)

    async def show(request: Any) -> Any:
        return web.json_response({"match": dict(request.match_info), "sub": request.app is sub})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sub = web.Application(router=Guarded())
    sub.router.add_get("/items/{id}", show)
    app = web.Application()
    app.router.add_get("/items/{id}", show)
    app.add_subapp("/sub", sub)
    return app


@pytest.mark.parametrize(
    "request_bytes",
    [
        build("GET", "/sub/items/7"),
        build("GET", "/sub/items/7", headers={"X-Deny": "1"}),
        build("GET", "/items/7", headers={"X-Deny": "1"}),  # the parent's router: not asked
        build("POST", "/sub/items/7"),
        build("GET", "/sub/nowhere"),
    ],
)
async def test_subapp_router_resolve_is_used(request_bytes: bytes) -> None:
    reply = await same(app_subapp_with_own_router, request_bytes)
    if request_bytes.startswith(b"GET /sub/items/7") and b"X-Deny" in request_bytes:
        assert (reply.status, reply.body) == (403, b"denied by the sub-app's router")
    elif request_bytes.startswith(b"GET /sub/items"):
        assert reply.json() == {"match": {"id": "7"}, "sub": True}
    elif request_bytes.startswith(b"GET /items"):
        assert reply.json() == {"match": {"id": "7"}, "sub": False}
    else:
        assert reply.status in (404, 405)
