"""Routing behaviours found by running aiohttp 3.14's own routing tests against Squall.

Each test runs on both ``squall.web`` and ``aiohttp.web`` (``webmod``) or compares
the two servers on the wire (``same``), so the expectation is aiohttp's own.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from ._wire import build, same


def text_of_route(web: Any) -> Any:
    async def handle(request: Any) -> Any:
        resource = request.match_info.route.resource
        return web.Response(text=f"{resource.canonical} {resource.get_info()}")

    return handle


# -- an application's "" route is its root (test_convert_empty_path_to_slash_on_freezing)


def app_empty_path(web: Any) -> Any:
    app = web.Application()
    app.router.add_get("", text_of_route(web))
    return app


def app_empty_path_in_subapp(web: Any) -> Any:
    app = web.Application()
    sub = web.Application()
    sub.router.add_get("", text_of_route(web))
    sub.router.add_get("/", text_of_route(web))
    app.add_subapp("/sub", sub)
    return app


@pytest.mark.parametrize("target", ["/", "/x"])
async def test_empty_path_serves_the_root(target: str) -> None:
    reply = await same(app_empty_path, build("GET", target))
    assert reply.status == (200 if target == "/" else 404)


@pytest.mark.parametrize("target", ["/sub", "/sub/", "/"])
async def test_empty_path_in_a_subapp_is_its_prefix(target: str) -> None:
    reply = await same(app_empty_path_in_subapp, build("GET", target))
    assert reply.status == (404 if target == "/" else 200)


def test_empty_path_becomes_slash_when_frozen(webmod: Any) -> None:
    router = webmod.Application().router
    resource = router.add_get("", text_of_route(webmod)).resource
    assert resource.get_info() == {"path": ""}
    router.freeze()
    assert resource.get_info() == {"path": "/"}
    assert str(resource.url_for()) == "/"


# -- url_for encodes a dynamic route's fixed parts (test_route_dynamic_quoting) ---------


def test_dynamic_url_for_encodes_fixed_parts(webmod: Any) -> None:
    router = webmod.Application().router
    # aiohttp's own example, in Cyrillic
    route = router.add_route("GET", "/пре %2Fфикс/{arg}", text_of_route(webmod))  # noqa: RUF001
    url = route.url_for(arg="1 2/текст%2F")
    assert url.path == "/пре /фикс/1 2/текст%2F"
    assert str(url) == (
        "/%D0%BF%D1%80%D0%B5%20%2F%D1%84%D0%B8%D0%BA%D1%81/1%202/%D1%82%D0%B5%D0%BA%D1%81%D1%82%252F"
    )


@pytest.mark.parametrize(
    ("pattern", "parts", "expected"),
    [
        ("/a b/{x}", {"x": "y"}, "/a%20b/y"),
        ("/a%20b/{x}", {"x": "y z"}, "/a%20b/y%20z"),  # an escape in the route is kept
        ("/{x:\\d+}/é/{y}.json", {"x": "1", "y": "ü"}, "/1/%C3%A9/%C3%BC.json"),
        ("/plain/{x}", {"x": "a/b?"}, "/plain/a/b%3F"),
    ],
)
def test_dynamic_url_for_is_ascii(
    webmod: Any, pattern: str, parts: dict[str, str], expected: str
) -> None:
    router = webmod.Application().router
    route = router.add_get(pattern, text_of_route(webmod))
    assert str(route.url_for(**parts)) == expected


def test_dynamic_url_for_under_a_subapp_prefix(webmod: Any) -> None:
    app = webmod.Application()
    sub = webmod.Application()
    route = sub.router.add_get("/é/{x}", text_of_route(webmod))
    app.add_subapp("/pre", sub)
    assert str(route.url_for(x="1 2")) == "/pre/%C3%A9/1%202"


def app_redirecting(web: Any) -> Any:
    async def go(request: Any) -> Any:
        raise web.HTTPFound(request.app.router["target"].url_for(name="a b"))

    app = web.Application()
    app.router.add_get("/go", go)
    app.router.add_get("/ziel ü/{name}", text_of_route(web), name="target")
    return app


async def test_redirect_to_url_for_is_encoded_on_the_wire() -> None:
    reply = await same(app_redirecting, build("GET", "/go"))
    assert reply.header("Location") == "/ziel%20%C3%BC/a%20b"


async def test_dynamic_route_with_non_ascii_fixed_part_matches() -> None:
    # NOTE: aiohttp matches the decoded path against its encoded pattern and answers
    # 404 here; Squall serves the route (docs/compat.md)
    from squall import web

    from ._wire import run_on

    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_get("/ziel ü/{name}", text_of_route(web))
        return app

    reply = await run_on(web, factory, build("GET", "/ziel%20%C3%BC/x"))
    assert reply.status == 200
    assert reply.body.startswith("/ziel ü/{name}".encode())


# -- methods are tokens (test_add_route_invalid_method) -------------------------------


@pytest.mark.parametrize(
    "method",
    ["BAD METHOD", "B@D_METHOD", "[BAD_METHOD]", "{BAD_METHOD}", "(BAD_METHOD)", "B?D", ""],
)
def test_add_route_refuses_a_method_that_is_no_token(webmod: Any, method: str) -> None:
    router = webmod.Application().router
    with pytest.raises(ValueError):
        router.add_route(method, "/path", text_of_route(webmod))


@pytest.mark.parametrize("method", ["PROPFIND", "M-SEARCH", "get", "*", "X_1.2~|"])
def test_add_route_takes_any_token(webmod: Any, method: str) -> None:
    router = webmod.Application().router
    route = router.add_route(method, "/path", text_of_route(webmod))
    assert route.method == method.upper()


# -- a wrapped plain function keeps its metadata (test_handler_metadata_persistence) ---


def test_sync_handler_keeps_name_and_doc(webmod: Any) -> None:
    def listing(request: Any) -> Any:
        """Doc of the handler."""
        return webmod.Response()

    router = webmod.Application().router
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        route = router.add_get("/sync", listing)
    assert route.handler.__doc__ == "Doc of the handler."
    assert route.handler.__name__ == "listing"


def app_sync_handler(web: Any) -> Any:
    def listing(request: Any) -> Any:
        return web.Response(text="sync")

    app = web.Application()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app.router.add_get("/sync", listing)
    return app


async def test_sync_handler_still_answers() -> None:
    reply = await same(app_sync_handler, build("GET", "/sync"))
    assert reply.body == b"sync"


# -- aiohttp's private _match, which plugins call (test_plain_not_match...) -------------


def test_private_match_of_plain_and_dynamic_resources(webmod: Any) -> None:
    router = webmod.Application().router
    plain = router.add_get("/get/path", text_of_route(webmod)).resource
    dynamic = router.add_get("/get/{name}/", text_of_route(webmod)).resource
    assert plain._match("/get/path") == {}
    assert plain._match("/another/path") is None
    assert dynamic._match("/get/John/") == {"name": "John"}
    assert dynamic._match("/get/a%2Fb/") == {"name": "a/b"}
    assert dynamic._match("/get/John") is None
