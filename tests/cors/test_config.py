"""Configuration checks, run on squall.cors and on aiohttp_cors alike (the ``stack``
fixture): ported from aiohttp-cors's tests/unit (resource options, cors_config, mixin)."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from squall.cors.preflight_handler import _PreflightHandler

from .conftest import get, options, replies


async def _handler(request: Any) -> Any:
    raise NotImplementedError


# -- ResourceOptions -----------------------------------------------------------


def test_options_defaults(stack: Any) -> None:
    opts = stack.cors.ResourceOptions()
    assert opts.allow_credentials is False
    assert not opts.expose_headers and not opts.allow_headers
    assert opts.max_age is None and opts.allow_methods is None
    assert opts == stack.cors.ResourceOptions()
    assert stack.cors.ResourceOptions(allow_credentials=True) != opts


def test_options_normalised(stack: Any) -> None:
    opts = stack.cors.ResourceOptions(
        expose_headers=["X-A", "X-A"], allow_headers=["x-b"], allow_methods=["get", "Post"]
    )
    assert opts.expose_headers == frozenset({"X-A"})  # case kept
    assert opts.allow_headers == frozenset({"X-B"})  # upper-cased
    assert opts.allow_methods == {"GET", "POST"}
    assert stack.cors.ResourceOptions(allow_methods=[]).allow_methods == frozenset()
    star = stack.cors.ResourceOptions(expose_headers="*", allow_headers="*", allow_methods="*")
    assert (star.expose_headers, star.allow_headers, star.allow_methods) == ("*", "*", "*")
    assert star.is_method_allowed("patch")
    assert opts.is_method_allowed("post") and not opts.is_method_allowed("PUT")
    assert not stack.cors.ResourceOptions().is_method_allowed("GET")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allow_credentials": 1}, "'allow_credentials' must be boolean"),
        ({"expose_headers": "X-A"}, "'expose_headers' must be either '\\*'"),
        ({"allow_headers": "X-A"}, "'allow_headers' must be either '\\*'"),
        ({"allow_methods": "GET"}, "'allow_methods' must be either '\\*'"),
        ({"max_age": -1}, "'max_age' must be non-negative integer"),
        ({"max_age": 1.5}, "'max_age' must be non-negative integer"),
    ],
)
def test_options_refused(stack: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stack.cors.ResourceOptions(**kwargs)


def test_options_are_keyword_only(stack: Any) -> None:
    with pytest.raises(TypeError):
        stack.cors.ResourceOptions(True)


# -- setup and add -------------------------------------------------------------


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        (["*"], "Config must be mapping"),
        ({1: {}}, "Origin must be string"),
        ({"*": 5}, "Origin options must be either"),
        ({"*": {"allow_methods": "*"}}, "Unexpected keywords in resource options: allow_methods"),
        ({"*": {"bogus": 1}}, "Unexpected keywords in resource options: bogus"),
    ],
)
def test_bad_config(stack: Any, defaults: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stack.cors.setup(stack.web.Application(), defaults=defaults)


def test_mapping_options_accepted(stack: Any) -> None:
    app = stack.web.Application()
    cors = stack.cors.setup(app, defaults={"*": {"allow_credentials": True, "max_age": 5}})
    assert cors.defaults["*"] == stack.cors.ResourceOptions(allow_credentials=True, max_age=5)


def test_setup_stores_the_config(stack: Any) -> None:
    app = stack.web.Application()
    cors = stack.cors.setup(app)
    assert app[stack.cors.APP_CONFIG_KEY] is cors
    assert isinstance(cors, stack.cors.CorsConfig)


def test_add_returns_the_entity_and_adds_one_options_route(stack: Any) -> None:
    app = stack.web.Application()
    cors = stack.cors.setup(app, defaults={"*": stack.cors.ResourceOptions()})
    route = app.router.add_route("GET", "/{name}", _handler)
    assert cors.add(route) is route
    cors.add(app.router.add_route("PUT", "/{name}", _handler))  # same resource: no second
    methods = sorted(r.method for r in route.resource)
    assert methods == ["GET", "OPTIONS", "PUT"]
    cors.add(app.router.add_route("GET", "/named", _handler, name="named"))
    assert list(app.router.keys()) == ["named"]  # no new named route


def test_existing_options_handler_refused(stack: Any) -> None:
    app = stack.web.Application()
    cors = stack.cors.CorsConfig(app, defaults={"*": stack.cors.ResourceOptions()})
    route = app.router.add_route("OPTIONS", "/options_path", _handler)
    with pytest.raises(ValueError, match="already has OPTIONS handler"):
        cors.add(route.resource)


def test_any_method_handler_refused(stack: Any) -> None:
    app = stack.web.Application()
    cors = stack.cors.setup(app)
    route = app.router.add_route("*", "/", _handler)
    with pytest.raises(ValueError, match="already has a '\\*' handler for all methods"):
        cors.add(route)


def test_bare_view_refused(stack: Any) -> None:
    class View(stack.web.View):  # type: ignore[name-defined,misc]
        pass

    app = stack.web.Application()
    cors = stack.cors.setup(app)
    with pytest.raises(ValueError, match="CorsViewMixin"):
        cors.add(app.router.add_route("*", "/", View))


def test_twice_refused(stack: Any) -> None:
    app = stack.web.Application()
    cors = stack.cors.setup(app)
    resource = app.router.add_resource("/")
    cors.add(resource)
    with pytest.raises(ValueError, match="CORS is already configured"):
        cors.add(resource)
    route = resource.add_route("GET", _handler)
    cors.add(route)
    with pytest.raises(ValueError, match="CORS already configured on resource"):
        cors.add(route)


def test_not_a_routing_entity(stack: Any) -> None:
    cors = stack.cors.setup(stack.web.Application())
    with pytest.raises(ValueError, match="Resource or ResourceRoute expected"):
        cors.add("/path")


def test_webview_argument_deprecated(stack: Any) -> None:
    class View(stack.web.View, stack.cors.CorsViewMixin):  # type: ignore[name-defined,misc]
        async def get(self) -> Any:
            raise NotImplementedError

    app = stack.web.Application()
    cors = stack.cors.setup(app)
    with pytest.warns(DeprecationWarning):
        cors.add(app.router.add_route("*", "/", View), webview=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cors.add(app.router.add_route("*", "/b", View))


# -- views ---------------------------------------------------------------------


def _views(stack: Any) -> Any:
    web, cors = stack.web, stack.cors

    class Custom(web.View, cors.CorsViewMixin):  # type: ignore[name-defined,misc]
        cors_config = {"*": cors.ResourceOptions()}

        async def get(self) -> Any:
            return web.Response(text="get")

        @cors.custom_cors({"http://c1": cors.ResourceOptions(allow_headers=["X-Host"])})
        async def post(self) -> Any:
            return web.Response(text="post")

    return Custom


def test_custom_cors_marks_the_method(stack: Any) -> None:
    view = _views(stack)
    assert hasattr(view.post, "post_cors_config")
    assert asyncio.iscoroutinefunction(view.post)


async def test_view_configs_in_order(stack: Any) -> None:
    """Method's own, then the class's, then the defaults (aiohttp-cors's ChainMap)."""
    view = _views(stack)

    def factory(web: Any, cors_mod: Any) -> Any:
        app = web.Application()
        defaults = {"http://d": cors_mod.ResourceOptions(allow_credentials=True)}
        cors_mod.setup(app, defaults=defaults).add(app.router.add_route("*", "/", view))
        return app

    def pre(origin: str, method: str, headers: str = "") -> bytes:
        extra = {"access_control_request_headers": headers} if headers else {}
        return options("/", origin=origin, access_control_request_method=method, **extra)

    cases = [
        pre("http://c1", "POST", "X-Host"),  # the method's own
        pre("http://c1", "GET", "X-Host"),  # class "*": no headers allowed
        pre("http://other", "POST"),  # class "*" under the method's
        pre("http://d", "GET"),  # defaults: credentials
        pre("http://d", "DELETE"),  # the view has no delete
        get("/", origin="http://d"),
    ]
    got = await replies(stack, factory, cases)
    assert [r.status for r in got] == [200, 403, 200, 200, 403, 200]
    assert got[0].header("Access-Control-Allow-Headers") == "X-HOST"
    assert got[3].header("Access-Control-Allow-Credentials") == "true"
    assert b"request method 'DELETE' is not allowed" in got[4].body
    assert got[5].header("Access-Control-Allow-Origin") == "http://d"


async def test_view_without_setup_is_refused(stack: Any) -> None:
    """The view's preflight asks for the app's CORS config, which is not there: a
    ValueError in the handler, so the client gets a 500."""
    view = _views(stack)

    def factory(web: Any, cors_mod: Any) -> Any:
        app = web.Application()
        app.router.add_route("*", "/", view)
        return app

    pre = options("/", origin="http://c1", access_control_request_method="GET")
    (got,) = await replies(stack, factory, [pre])
    assert got.status == 500
    with pytest.raises(ValueError, match="is not configured"):
        view.get_request_config(_NoCors(), "get")


class _NoCors:
    app: dict[str, Any] = {}


async def test_preflight_handler_base_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        await _PreflightHandler()._get_config(None, "origin", "GET")  # type: ignore[arg-type]
