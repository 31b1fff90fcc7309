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
