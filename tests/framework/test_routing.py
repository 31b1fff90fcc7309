"""Routing: resolution order, 404 against 405, registration rules, names and url_for.

API tests run on both ``squall.web`` and ``aiohttp.web`` (the ``webmod`` fixture) so
the expectations are checked against aiohttp itself; resolution is checked on the
wire with the same app on both servers.
"""

from __future__ import annotations

from typing import Any

import pytest

from ._wire import build, same


async def handler(request: Any) -> Any:
    raise AssertionError("never called")


def tagged(web: Any, tag: str) -> Any:
    async def handle(request: Any) -> Any:
        return web.json_response({"tag": tag, "match": dict(request.match_info)})

    return handle


# -- resolution, on the wire -------------------------------------------------------------


def app_prefixes(web: Any) -> Any:
    app = web.Application()
    r = app.router
    r.add_get("/{a}/{b}", tagged(web, "catch-all"))  # indexed under "/"
    r.add_get("/users/{id}", tagged(web, "users"))  # indexed under "/users"
    r.add_get("/p/{v}", tagged(web, "p-dynamic"))  # registered before the plain one
    r.add_get("/p/fixed", tagged(web, "p-plain"))
    r.add_get("/n/{x:\\d+}", tagged(web, "n-digits"))
    r.add_get("/n/{y}", tagged(web, "n-any"))
    r.add_get("/n/{z}", tagged(web, "n-never"))
    r.add_get("/x", tagged(web, "x-get"))
    r.add_post("/{name}", tagged(web, "name-post"))
    r.add_put("/m/{v}", tagged(web, "m-put"))
    r.add_get("/m/fixed", tagged(web, "m-get"))
    r.add_get("/deep/a/b/{c}", tagged(web, "deep"))
    r.add_get("/deep/{x}/b/c", tagged(web, "deep-var"))
    return app


@pytest.mark.parametrize(
    ("target", "tag"),
    [
        ("/users/5", "users"),  # more specific prefix wins over the earlier catch-all
        ("/other/5", "catch-all"),
        ("/p/fixed", "p-plain"),  # a plain path is its own, most specific, prefix
        ("/p/other", "p-dynamic"),
        ("/n/12", "n-digits"),  # registration order within one bucket
        ("/n/ab", "n-any"),
        ("/deep/a/b/c", "deep"),
        ("/deep/z/b/c", "deep-var"),
    ],
)
async def test_resolution_order(target: str, tag: str) -> None:
    reply = await same(app_prefixes, build("GET", target))
    assert reply.status == 200
    assert reply.json()["tag"] == tag


async def test_method_mismatch_falls_through_to_a_less_specific_resource() -> None:
    reply = await same(app_prefixes, build("POST", "/x", body=b""))
    assert reply.json() == {"tag": "name-post", "match": {"name": "x"}}


async def test_405_allow_unites_every_matching_resource() -> None:
    reply = await same(app_prefixes, build("DELETE", "/m/fixed"))
    assert reply.status == 405
    assert reply.header("Allow") == "GET,HEAD,PUT"
    assert reply.body == b"405: Method Not Allowed"


async def test_404_when_no_path_matches() -> None:
    reply = await same(app_prefixes, build("GET", "/a/b/c/d/e"))
    assert reply.status_line == b"HTTP/1.1 404 Not Found"
    assert reply.body == b"404: Not Found"


async def test_match_values_are_decoded_strings() -> None:
    reply = await same(app_prefixes, build("GET", "/users/%E2%9C%93%2F%25"))
    assert reply.json()["match"] == {"id": "\u2713/%"}


# -- registration ----------------------------------------------------------------------


def test_duplicate_method_raises(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_post("/a", handler)
    with pytest.raises(RuntimeError, match="Added route will never be executed"):
        app.router.add_post("/a", handler)


def test_duplicate_get_raises_for_head_first(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_get("/a", handler)
    with pytest.raises(RuntimeError, match="method HEAD is already registered"):
        app.router.add_get("/a", handler)


def test_any_method_route_takes_every_method(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_route("*", "/a", handler)
    with pytest.raises(RuntimeError, match=r"method \* is already registered"):
        app.router.add_post("/a", handler)


def test_add_resource_reuses_the_last_resource(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_get("/a", handler)
    app.router.add_post("/a", handler)
    app.router.add_put("/b", handler)
    app.router.add_delete("/a", handler)  # not the last one: a new resource
    assert len(app.router.resources()) == 3
    assert len(app.router.routes()) == 5
    methods = sorted(route.method for route in app.router.routes())
    assert methods == ["DELETE", "GET", "HEAD", "POST", "PUT"]


def test_get_without_head(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_get("/a", handler, allow_head=False)
    assert [route.method for route in app.router.routes()] == ["GET"]
    app.router.add_head("/a", handler)  # now free
    assert sorted(route.method for route in app.router.routes()) == ["GET", "HEAD"]


@pytest.mark.parametrize("name", ["1abc", "a b", "class", "a.class", "a..b", "a/b", ""])
def test_invalid_route_names(webmod: Any, name: str) -> None:
    app = webmod.Application()
    with pytest.raises(ValueError):
        app.router.add_get("/a", handler, name=name)


@pytest.mark.parametrize("name", ["index", "api.v1:users-list", "_private", "Name2"])
def test_valid_route_names(webmod: Any, name: str) -> None:
    app = webmod.Application()
    app.router.add_get("/a", handler, name=name)
    assert name in app.router
    assert app.router[name].name == name


def test_duplicate_name_raises(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_get("/a", handler, name="dup")
    with pytest.raises(ValueError, match="Duplicate 'dup'"):
        app.router.add_get("/b", handler, name="dup")


@pytest.mark.parametrize("path", ["a", "users/{id}"])
def test_path_must_start_with_slash(webmod: Any, path: str) -> None:
    app = webmod.Application()
    with pytest.raises(ValueError):
        app.router.add_get(path, handler)


@pytest.mark.parametrize("path", ["/{a", "/a}", "/{1a}"])
def test_bad_dynamic_paths(webmod: Any, path: str) -> None:
    app = webmod.Application()
    with pytest.raises(ValueError):
        app.router.add_get(path, handler)


def test_bad_handler() -> None:
    # aiohttp asserts (AssertionError); Squall raises a TypeError
    from squall import web

    app = web.Application()
    with pytest.raises(TypeError):
        app.router.add_get("/a", "not callable")


def test_frozen_router_refuses_new_resources(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_get("/a", handler)
    app.freeze()
    assert app.router.frozen
    with pytest.raises(RuntimeError, match=r"^Cannot register a resource into frozen router\.$"):
        app.router.add_get("/b", handler)


async def test_started_app_router_is_frozen(squall_server: Any) -> None:
    from squall import web

    app = web.Application()
    app.router.add_get("/a", handler)
    await squall_server(app)
    with pytest.raises(RuntimeError, match=r"Cannot register a resource into frozen router\."):
        app.router.add_get("/b", handler)


def test_add_routes_returns_the_routes(webmod: Any) -> None:
    app = webmod.Application()
    routes = app.add_routes(
        [webmod.get("/a", handler), webmod.post("/b", handler), webmod.view("/c", handler)]
    )
    assert [route.method for route in routes] == ["GET", "POST", "*"]


def test_route_table_def(webmod: Any) -> None:
    routes = webmod.RouteTableDef()

    @routes.get("/a", name="a")
    async def get_a(request: Any) -> Any: ...

    @routes.post("/a")
    async def post_a(request: Any) -> Any: ...

    @routes.view("/v")
    class V(webmod.View):
        async def get(self) -> Any: ...

    assert len(routes) == 3
    assert get_a.__name__ == "get_a"  # the decorator returns the handler itself
    assert isinstance(routes[0], webmod.RouteDef)
    assert routes[0].method == "GET"
    assert routes[0].path == "/a"
    app = webmod.Application()
    app.router.add_routes(routes)
    methods = sorted(route.method for route in app.router.routes())
    assert methods == ["*", "GET", "HEAD", "POST"]
    assert str(app.router["a"].url_for()) == "/a"


# -- names and URLs ----------------------------------------------------------------------


def test_named_resources(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_get("/plain", handler, name="plain")
    app.router.add_get("/users/{id}", handler, name="user")
    app.router.add_get("/anonymous", handler)
    named = app.router.named_resources()
    assert set(named) == {"plain", "user"}
    assert named["plain"] is app.router["plain"]
    assert isinstance(named["plain"], webmod.PlainResource)
    assert isinstance(named["user"], webmod.DynamicResource)
    assert len(app.router) == 2
    assert list(app.router) == ["plain", "user"]
    assert "anonymous" not in app.router
    with pytest.raises(KeyError):
        app.router["anonymous"]


def test_resource_info(webmod: Any) -> None:
    app = webmod.Application()
    plain = app.router.add_get("/plain", handler).resource
    dyn = app.router.add_get("/users/{id:\\d+}/x", handler).resource
    assert plain.canonical == "/plain"
    assert plain.get_info() == {"path": "/plain"}
    assert dyn.canonical == "/users/{id}/x"
    assert dyn.get_info()["formatter"] == "/users/{id}/x"
    assert dyn.get_info()["pattern"].pattern == r"/users/(?P<id>\d+)/x"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"id": "42"}, "/users/42/x"),
        ({"id": "a b"}, "/users/a%20b/x"),
        ({"id": "100%"}, "/users/100%25/x"),
        ({"id": "?#"}, "/users/%3F%23/x"),
        ({"id": "J\u00fcrgen"}, "/users/J%C3%BCrgen/x"),
        ({"id": "a+b&c=d"}, "/users/a+b&c=d/x"),
    ],
)
def test_url_for_quotes_the_parts(webmod: Any, parts: dict[str, str], expected: str) -> None:
    app = webmod.Application()
    app.router.add_get("/users/{id}/x", handler, name="user")
    url = app.router["user"].url_for(**parts)
    assert str(url) == expected
    assert url.raw_path == expected


def test_url_for_keeps_slashes_of_a_path_part(webmod: Any) -> None:
    """``/static/{path:.*}`` with ``url_for(path="css/site.css")``: the slash stays a
    slash, so relative links inside the served file resolve as they would in aiohttp."""
    app = webmod.Application()
    app.router.add_get("/static/{path:.*}", handler, name="static")
    assert str(app.router["static"].url_for(path="css/site.css")) == "/static/css/site.css"


def test_url_for_plain_and_query(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_get("/plain/path", handler, name="plain")
    url = app.router["plain"].url_for()
    assert url.raw_path == "/plain/path"
    assert str(url.with_query(q="a b")) == "/plain/path?q=a+b"


def test_url_for_missing_part_raises(webmod: Any) -> None:
    app = webmod.Application()
    app.router.add_get("/users/{id}", handler, name="user")
    with pytest.raises(KeyError):
        app.router["user"].url_for()


def test_route_url_for_and_name(webmod: Any) -> None:
    app = webmod.Application()
    route = app.router.add_get("/users/{id}", handler, name="user")
    assert route.name == "user"
    assert route.method == "GET"
    assert route.handler is handler
    assert str(route.url_for(id="7")) == "/users/7"
