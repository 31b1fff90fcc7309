"""The request: its mapping, body reading and limits, clone(), and parsed headers.

Every test runs the same handler on Squall and on aiohttp (``webmod``) through a
real socket, unless it says why it is Squall's alone.
"""

from __future__ import annotations

import datetime
import json
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from ._wire import build, exchange, serve


def one_route(
    handler_for: Callable[[Any], Any], method: str = "*", **app_kwargs: Any
) -> Callable[[Any], Any]:
    """An app factory serving ``handler_for(web)`` on ``/{tail:.*}``."""

    def factory(web: Any) -> Any:
        app = web.Application(**app_kwargs)
        app.router.add_route(method, "/{tail:.*}", handler_for(web))
        return app

    return factory


async def ask(webmod: Any, factory: Callable[[Any], Any], data: bytes) -> Any:
    async with serve(webmod, factory) as port:
        return await exchange(port, data)


# -- the request's own mapping -----------------------------------------------------------


async def test_request_is_a_mutable_mapping(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        user_key = web.RequestKey("user", str)

        @web.middleware
        async def auth(request: Any, handler: Any) -> Any:
            request[user_key] = "alice"
            return await handler(request)

        async def handler(request: Any) -> Any:
            seen = {"user": request[user_key], "len": len(request), "in": user_key in request}
            request[user_key] = "bob"
            seen["after"] = request.get(user_key)
            del request[user_key]
            seen["deleted"] = user_key not in request and len(list(request)) == 0
            seen["truthy"] = bool(request)
            return web.json_response(seen)

        return auth, handler

    def factory(web: Any) -> Any:
        auth, handler = handler_for(web)
        app = web.Application(middlewares=[auth])
        app.router.add_get("/", handler)
        return app

    reply = await ask(webmod, factory, build("GET", "/"))
    assert reply.json() == {
        "user": "alice",
        "len": 1,
        "in": True,
        "after": "bob",
        "deleted": True,
        "truthy": True,
    }


async def test_str_request_keys_warn(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                request[f"plain-{webmod.__name__}"] = 1
            kinds = [w.category.__name__ for w in caught]
            return web.json_response({"warnings": kinds, "value": request.popitem()[1]})

        return handler

    reply = await ask(webmod, one_route(handler_for), build("GET", "/"))
    assert reply.json() == {"warnings": ["NotAppKeyWarning"], "value": 1}


# -- routing information -----------------------------------------------------------------


async def test_match_info_and_app(webmod: Any) -> None:
    def factory(web: Any) -> Any:
        name_key = web.AppKey("name", str)

        async def handler(request: Any) -> Any:
            info = request.match_info
            return web.json_response(
                {
                    "match": dict(info),
                    "types": sorted({type(v).__name__ for v in info.values()}),
                    "route_name": info.route.name,
                    "route_method": info.route.method,
                    "canonical": info.route.resource.canonical,
                    "app": request.app[name_key],
                    "config": request.config_dict[name_key],
                    "same_app": request.app is info.apps[0],
                }
            )

        app = web.Application()
        app[name_key] = "root"
        app.router.add_get("/items/{id:\\d+}/{slug}", handler, name="item")
        return app

    reply = await ask(webmod, factory, build("GET", "/items/42/a%20b"))
    assert reply.json() == {
        "match": {"id": "42", "slug": "a b"},
        "types": ["str"],
        "route_name": "item",
        "route_method": "GET",
        "canonical": "/items/{id}/{slug}",
        "app": "root",
        "config": "root",
        "same_app": True,
    }


# -- the body ------------------------------------------------------------------------------


async def test_per_request_limit_through_private_attribute(webmod: Any) -> None:
    """Home Assistant and many others set ``request._client_max_size`` in the handler."""

    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            request._client_max_size = 5
            return web.Response(body=await request.read())

        return handler

    reply = await ask(webmod, one_route(handler_for), build("POST", "/", body=b"x" * 10))
    assert reply.status == 413
    reply = await ask(webmod, one_route(handler_for), build("POST", "/", body=b"x" * 5))
    assert reply.status == 200
    assert reply.body == b"xxxxx"


async def test_per_request_limit_can_be_raised(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            request._client_max_size = 100
            return web.Response(body=await request.read())

        return handler

    factory = one_route(handler_for, client_max_size=10)
    reply = await ask(webmod, factory, build("POST", "/", body=b"y" * 50))
    assert reply.status == 200
    assert reply.body == b"y" * 50


async def test_client_max_size_zero_disables_the_limit(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.Response(text=str(len(await request.read())))

        return handler

    body = b"z" * (1024**2 + 1)
    reply = await ask(
        webmod, one_route(handler_for, client_max_size=0), build("POST", "/", body=body)
    )
    assert reply.status == 200
    assert reply.body == str(len(body)).encode()


async def test_default_limit_is_one_mebibyte(squall_client: Any) -> None:
    from squall import web

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    app = web.Application()
    app.router.add_post("/", handler)
    client = await squall_client(app)
    assert app.client_max_size == 1024**2
    resp = await client.post("/", data=b"a" * 1024**2)
    assert resp.status == 200
    assert await resp.text() == str(1024**2)
    resp = await client.post("/", data=b"a" * (1024**2 + 1))
    assert resp.status == 413
    assert (await resp.text()).startswith("Maximum request body size 1048576 exceeded")


async def test_content_stream(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            first = await request.content.readexactly(3)
            rest = await request.content.read()
            return web.json_response(
                {
                    "first": first.decode(),
                    "rest": rest.decode(),
                    "eof": request.content.at_eof(),
                    "can_read_body": request.can_read_body,
                }
            )

        return handler

    data = build("POST", "/", headers={"Transfer-Encoding": "chunked"}, body=b"")
    data += b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
    reply = await ask(webmod, one_route(handler_for), data)
    assert reply.json() == {"first": "abc", "rest": "defg", "eof": True, "can_read_body": False}


async def test_release_discards_the_body(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            before = request.can_read_body
            await request.release()
            return web.json_response({"before": before, "after": request.can_read_body})

        return handler

    reply = await ask(webmod, one_route(handler_for), build("POST", "/", body=b"q" * 100))
    assert reply.json() == {"before": True, "after": False}
    assert reply.after == "HTTP/1.1 200 OK"  # the next request on the connection


async def test_json_with_custom_loads(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            data = await request.json(loads=lambda s: {"loaded": json.loads(s)})
            return web.json_response(data)

        return handler

    data = build("POST", "/", headers={"Content-Type": "application/json"}, body=b"[1]")
    reply = await ask(webmod, one_route(handler_for), data)
    assert reply.json() == {"loaded": [1]}


async def test_read_text_json_share_one_read(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            raw = await request.read()
            text = await request.text()
            data = await request.json()
            return web.json_response({"raw": raw.decode(), "text": text, "json": data})

        return handler

    data = build("POST", "/", headers={"Content-Type": "application/json"}, body=b'{"k": 1}')
    reply = await ask(webmod, one_route(handler_for), data)
    assert reply.json() == {"raw": '{"k": 1}', "text": '{"k": 1}', "json": {"k": 1}}


async def test_post_is_cached(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            first = await request.post()
            second = await request.post()
            return web.json_response({"same": first is second, "a": first.getall("a")})

        return handler

    data = build(
        "PUT",
        "/",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        body=b"a=1&a=%C3%A9",
    )
    reply = await ask(webmod, one_route(handler_for), data)
    assert reply.json() == {"same": True, "a": ["1", "é"]}


async def test_has_body_is_deprecated(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = request.has_body
            kinds = [w.category.__name__ for w in caught]
            return web.json_response({"value": value, "warnings": kinds})

        return handler

    reply = await ask(webmod, one_route(handler_for), build("POST", "/", body=b"x"))
    assert reply.json() == {"value": True, "warnings": ["DeprecationWarning"]}


# -- clone() -------------------------------------------------------------------------------


async def test_clone(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            request[web.RequestKey("k", int)] = 1
            new = request.clone(
                method="POST",
                rel_url="/other?x=1",
                headers={"X-New": "yes"},
                scheme="https",
                host="proxy.example",
                remote="10.0.0.1",
            )
            return web.json_response(
                {
                    "method": new.method,
                    "path": new.path,
                    "query": dict(new.query),
                    "headers": dict(new.headers),
                    "scheme": new.scheme,
                    "secure": new.secure,
                    "host": new.host,
                    "remote": new.remote,
                    "url": str(new.url),
                    "state": len(new),
                    "original": [request.method, request.path, request.scheme, request.host],
                }
            )

        return handler

    reply = await ask(webmod, one_route(handler_for), build("GET", "/first"))
    assert reply.json() == {
        "method": "POST",
        "path": "/other",
        "query": {"x": "1"},
        "headers": {"X-New": "yes"},
        "scheme": "https",
        "secure": True,
        "host": "proxy.example",
        "remote": "10.0.0.1",
        "url": "https://proxy.example/other?x=1",
        "state": 1,
        "original": ["GET", "/first", "http", "example.com"],
    }


# -- parsed headers and the connection ---------------------------------------------------


async def test_conditional_headers(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            def iso(value: datetime.datetime | None) -> str | None:
                return None if value is None else value.isoformat()

            return web.json_response(
                {
                    "ims": iso(request.if_modified_since),
                    "ius": iso(request.if_unmodified_since),
                    "range": iso(request.if_range),
                }
            )

        return handler

    headers = {
        "If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT",
        "If-Unmodified-Since": "not a date",
    }
    reply = await ask(webmod, one_route(handler_for), build("GET", "/", headers=headers))
    assert reply.json() == {"ims": "2015-10-21T07:28:00+00:00", "ius": None, "range": None}


async def test_version_and_connection(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            peer = request.transport.get_extra_info("peername")
            return web.json_response(
                {
                    "version": [request.version.major, request.version.minor],
                    "equals_tuple": request.version == (1, 1),
                    "keep_alive": request.keep_alive,
                    "peer": peer[0],
                    "peername": request.get_extra_info("peername")[0],
                    "raw_headers": [[k.decode(), v.decode()] for k, v in request.raw_headers],
                }
            )

        return handler

    data = build("GET", "/", headers=[("Connection", "close"), ("X-a", "1")])
    reply = await ask(webmod, one_route(handler_for), data)
    assert reply.json() == {
        "version": [1, 1],
        "equals_tuple": True,
        "keep_alive": False,
        "peer": "127.0.0.1",
        "peername": "127.0.0.1",
        "raw_headers": [["Host", "example.com"], ["Connection", "close"], ["X-a", "1"]],
    }


async def test_headers_and_query_are_read_only(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            errors = []
            for target in (request.headers, request.query):
                try:
                    target["X"] = "1"
                except TypeError:
                    errors.append(type(target).__name__)
            return web.json_response(
                {
                    "errors": errors,
                    "one": request.query.getone("a"),
                    "all": request.query.getall("a"),
                }
            )

        return handler

    reply = await ask(webmod, one_route(handler_for), build("GET", "/?a=1&a=2"))
    assert reply.json() == {
        "errors": ["CIMultiDictProxy", "MultiDictProxy"],
        "one": "1",
        "all": ["1", "2"],
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ('token="quoted value"', {"token": "quoted value"}),
        ("a=1;b=2;;c=3", {"a": "1", "b": "2", "c": "3"}),
        (
            "session=abc123; theme=dark; lang=en-US",
            {"session": "abc123", "theme": "dark", "lang": "en-US"},
        ),
    ],
)
async def test_cookies(webmod: Any, header: str, expected: dict[str, str]) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.json_response(dict(request.cookies))

        return handler

    data = build("GET", "/", headers={"Cookie": header})
    reply = await ask(webmod, one_route(handler_for), data)
    assert reply.json() == expected
