"""Squall against aiohttp: the same application, the same bytes in, the same bytes out.

Every app below is a function of the ``web`` module, so one body of code runs on
``squall.web`` and on ``aiohttp.web``. Each case starts the app on both servers,
sends identical raw bytes over a plain socket, and compares the status line, the
headers (but ``Date`` and ``Server``, in any order) and the body bytes. Then it looks
at what happens to the connection: if the response said it would close, the server
must close it; otherwise a second request on the same connection must be answered,
which also proves the first response was framed exactly.

Where Squall differs from aiohttp on purpose, a separate test at the end of the file
asserts Squall's behaviour and names the difference.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web

from ._wire import AppFactory, build, run_on, same, same_pipelined

# -- the apps --------------------------------------------------------------------------


def app_responses(web: Any) -> Any:
    async def hello(request: Any) -> Any:
        return web.Response(text="Hello, world")

    async def as_json(request: Any) -> Any:
        return web.json_response({"a": 1, "b": [1, 2, None], "c": "é"})

    async def json_dumps(request: Any) -> Any:
        def dumps(obj: Any) -> str:
            return json.dumps(obj, sort_keys=True, separators=(",", ":"))

        return web.json_response({"b": 1, "a": [2]}, dumps=dumps)

    async def json_status(request: Any) -> Any:
        return web.json_response({"ok": False}, status=422, reason="Nope")

    async def body(request: Any) -> Any:
        return web.Response(body=b"\x00\x01\xffbinary")

    async def empty(request: Any) -> Any:
        return web.Response()

    async def created(request: Any) -> Any:
        return web.Response(status=201, reason="Yes", text="made")

    async def ctype_charset(request: Any) -> Any:
        return web.Response(text="<b>café</b>", content_type="text/html", charset="latin-1")

    async def ctype_body(request: Any) -> Any:
        return web.Response(body=b"<x/>", content_type="application/xml", charset="utf-8")

    async def ctype_only(request: Any) -> Any:
        return web.Response(text="{}", content_type="application/json")

    async def ctype_params(request: Any) -> Any:
        return web.Response(text="flowed", content_type="text/plain; format=flowed")

    async def with_headers(request: Any) -> Any:
        return web.Response(text="h", headers={"X-Custom": "1", "Cache-Control": "no-cache"})

    async def header_ctype(request: Any) -> Any:
        return web.Response(body=b"x", headers={"Content-Type": "image/png"})

    async def status_204(request: Any) -> Any:
        return web.Response(status=204)

    async def set_attrs(request: Any) -> Any:
        resp = web.Response(text="attrs")
        resp.content_type = "text/csv"
        resp.charset = "utf-16"
        resp.headers["X-Later"] = "yes"
        resp.set_status(202, "Later")
        return resp

    async def status_404_text(request: Any) -> Any:
        return web.Response(status=404, text="nope")

    async def big(request: Any) -> Any:
        return web.Response(body=b"0123456789" * 2000)

    async def html(request: Any) -> Any:
        return web.Response(text="<p>hi</p>", content_type="text/html")

    async def headers_read(request: Any) -> Any:
        resp = web.Response(text="looked at")
        assert resp.content_type == "text/plain"
        assert resp.headers.get("X-None") is None
        assert resp.content_length == 9
        return resp

    async def status_304_text(request: Any) -> Any:
        return web.Response(status=304, text="ignored")

    async def status_204_text(request: Any) -> Any:
        return web.Response(status=204, text="ignored")

    async def json_big(request: Any) -> Any:
        return web.json_response(list(range(5000)))

    async def streamed(request: Any) -> Any:
        resp = web.StreamResponse(headers={"X-Stream": "1"})
        resp.content_type = "text/plain"
        await resp.prepare(request)
        await resp.write(b"one,")
        await resp.write(b"two,")
        await resp.write_eof(b"three")
        return resp

    async def streamed_length(request: Any) -> Any:
        resp = web.StreamResponse()
        resp.content_length = 6
        await resp.prepare(request)
        await resp.write(b"abc")
        await resp.write(b"def")
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/json", as_json)
    app.router.add_get("/json-dumps", json_dumps)
    app.router.add_get("/json-status", json_status)
    app.router.add_get("/body", body)
    app.router.add_get("/empty", empty)
    app.router.add_get("/created", created)
    app.router.add_get("/ctype-charset", ctype_charset)
    app.router.add_get("/ctype-body", ctype_body)
    app.router.add_get("/ctype-only", ctype_only)
    app.router.add_get("/ctype-params", ctype_params)
    app.router.add_get("/headers", with_headers)
    app.router.add_get("/header-ctype", header_ctype)
    app.router.add_get("/204", status_204)
    app.router.add_get("/attrs", set_attrs)
    app.router.add_get("/404-text", status_404_text)
    app.router.add_get("/big", big)
    app.router.add_get("/html", html)
    app.router.add_get("/headers-read", headers_read)
    app.router.add_get("/304-text", status_304_text)
    app.router.add_get("/204-text", status_204_text)
    app.router.add_get("/json-big", json_big)
    app.router.add_get("/stream", streamed)
    app.router.add_get("/stream-length", streamed_length)
    return app


def app_exceptions(web: Any) -> Any:
    routes = {
        "/found": lambda: web.HTTPFound("/x"),
        "/found-url": lambda: web.HTTPFound("http://other.example/y?q=1"),
        "/moved": lambda: web.HTTPMovedPermanently("/y", headers={"X-A": "b"}),
        "/see-other-text": lambda: web.HTTPSeeOther("/z", text="go there"),
        "/temporary": lambda: web.HTTPTemporaryRedirect("/t"),
        "/permanent": lambda: web.HTTPPermanentRedirect("/p"),
        "/not-found": lambda: web.HTTPNotFound(),
        "/not-found-text": lambda: web.HTTPNotFound(text="custom"),
        "/bad-request": lambda: web.HTTPBadRequest(reason="Bad Thing Happened"),
        "/bad-request-both": lambda: web.HTTPBadRequest(reason="Why", text="because"),
        "/forbidden-html": lambda: web.HTTPForbidden(text="<p>no</p>", content_type="text/html"),
        "/no-content": lambda: web.HTTPNoContent(),
        "/no-content-headers": lambda: web.HTTPNoContent(headers={"X-Id": "7"}),
        "/not-modified": lambda: web.HTTPNotModified(),
        "/reset": lambda: web.HTTPResetContent(),
        "/created": lambda: web.HTTPCreated(),
        "/ok": lambda: web.HTTPOk(text="fine"),
        "/method": lambda: web.HTTPMethodNotAllowed("PUT", ["POST", "GET"]),
        "/too-large": lambda: web.HTTPRequestEntityTooLarge(max_size=10, actual_size=20),
        "/too-large-one-arg": lambda: web.HTTPRequestEntityTooLarge(10),
        "/legal": lambda: web.HTTPUnavailableForLegalReasons("http://example.com/why"),
        "/teapot-ish": lambda: web.HTTPExpectationFailed(),
        "/unauthorized": lambda: web.HTTPUnauthorized(headers={"WWW-Authenticate": "Basic"}),
        "/internal": lambda: web.HTTPInternalServerError(),
        "/unavailable": lambda: web.HTTPServiceUnavailable(text="later"),
        "/gateway-timeout": lambda: web.HTTPGatewayTimeout(),
    }
    app = web.Application()
    for path, make in routes.items():

        async def handler(request: Any, make: Callable[[], Any] = make) -> Any:
            raise make()

        app.router.add_route("*", path, handler)
    return app


def app_cookies(web: Any) -> Any:
    def with_cookies(apply: Callable[[Any], None]) -> Any:
        async def handler(request: Any) -> Any:
            resp = web.Response(text="cookies")
            apply(resp)
            return resp

        return handler

    cases: dict[str, Callable[[Any], None]] = {
        "/simple": lambda r: r.set_cookie("a", "1"),
        "/max-age": lambda r: r.set_cookie("b", "2", max_age=3600),
        "/httponly": lambda r: r.set_cookie("c", "3", httponly=True),
        "/secure": lambda r: r.set_cookie("d", "4", secure=True),
        "/samesite": lambda r: r.set_cookie("e", "5", samesite="Strict"),
        "/path-domain": lambda r: r.set_cookie("f", "6", path="/sub", domain="example.com"),
        "/expires": lambda r: r.set_cookie("g", "7", expires="Wed, 21 Oct 2015 07:28:00 GMT"),
        "/everything": lambda r: r.set_cookie(
            "h",
            "8",
            max_age=60,
            httponly=True,
            secure=True,
            samesite="Lax",
            path="/p",
            domain="example.com",
            expires="Wed, 21 Oct 2015 07:28:00 GMT",
        ),
        "/quoted": lambda r: r.set_cookie("q", "a b;c"),
        "/del": lambda r: r.del_cookie("d"),
        "/del-path-domain": lambda r: r.del_cookie("e", path="/p", domain="example.com"),
        "/del-flags": lambda r: r.del_cookie("e", secure=True, httponly=True, samesite="None"),
        "/overwrite": lambda r: (r.set_cookie("a", "1"), r.set_cookie("a", "2")),
        "/set-after-del": lambda r: (r.del_cookie("a"), r.set_cookie("a", "x")),
        "/del-after-set": lambda r: (r.set_cookie("a", "x", max_age=5), r.del_cookie("a")),
        "/several": lambda r: (r.set_cookie("a", "1"), r.set_cookie("b", "2"), r.del_cookie("c")),
    }
    app = web.Application()
    for path, apply in cases.items():
        app.router.add_get(path, with_cookies(apply))
    return app


def app_errors(web: Any) -> Any:
    async def value_error(request: Any) -> Any:
        raise ValueError("boom: secret detail")

    async def returns_none(request: Any) -> Any:
        return None

    async def returns_str(request: Any) -> Any:
        return "a string"

    async def timeout(request: Any) -> Any:
        raise TimeoutError("upstream too slow")

    async def runtime_after_read(request: Any) -> Any:
        await request.read()
        raise RuntimeError("after reading")

    app = web.Application()
    app.router.add_get("/value-error", value_error)
    app.router.add_get("/none", returns_none)
    app.router.add_get("/str", returns_str)
    app.router.add_get("/timeout", timeout)
    app.router.add_post("/after-read", runtime_after_read)
    return app


def app_routing(web: Any) -> Any:
    def echo(tag: str) -> Any:
        async def handler(request: Any) -> Any:
            return web.json_response({"route": tag, "match": dict(request.match_info)})

        return handler

    async def urls(request: Any) -> Any:
        router = request.app.router
        return web.json_response(
            {
                "plain": str(router["plain"].url_for()),
                "dyn": str(router["dyn"].url_for(value="x")),
                "dyn-quoted": str(router["dyn"].url_for(value="a b/c%d?e")),
                "dyn-unicode": str(router["dyn"].url_for(value="Jürgen")),
                "two": str(router["two"].url_for(a="1", b="2")),
                "with-query": str(router["plain"].url_for().with_query({"q": "a b"})),
                "regex": str(router["num"].url_for(n="42")),
                "tail": str(router["tail"].url_for(path="css/site.css")),
            }
        )

    app = web.Application()
    app.router.add_get("/plain", echo("plain"), name="plain")
    app.router.add_get("/num/{n:\\d+}", echo("num"), name="num")
    app.router.add_get("/echo/{value}", echo("echo"), name="dyn")
    app.router.add_get("/two/{a}/{b}", echo("two"), name="two")
    app.router.add_get("/tail/{path:.*}", echo("tail"), name="tail")
    app.router.add_get("/ext/{name}.{ext}", echo("ext"))
    app.router.add_get("/only-get", echo("only-get"))
    app.router.add_post("/only-post", echo("only-post"))
    app.router.add_get("/no-head", echo("no-head"), allow_head=False)
    app.router.add_get("/multi", echo("multi-get"))
    app.router.add_put("/multi", echo("multi-put"))
    app.router.add_delete("/multi", echo("multi-delete"))
    app.router.add_route("*", "/any", echo("any"))
    app.router.add_get("/order/{x}", echo("order-first"))
    app.router.add_get("/order/{y}", echo("order-second"))
    app.router.add_get("/prefix/fixed", echo("fixed"))
    app.router.add_get("/prefix/{var}", echo("var"))
    app.router.add_get("/urls", urls)
    return app


def app_request(web: Any) -> Any:
    async def info(request: Any) -> Any:
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "raw_path": request.raw_path,
                "path_qs": request.path_qs,
                "query_string": request.query_string,
                "host": request.host,
                "scheme": request.scheme,
                "secure": request.secure,
                "version": list(request.version),
                "url": str(request.url),
                "rel_url": str(request.rel_url),
                "remote": request.remote,
                "keep_alive": request.keep_alive,
            }
        )

    async def query(request: Any) -> Any:
        keys = list(dict.fromkeys(request.query.keys()))
        return web.json_response({k: request.query.getall(k) for k in keys})

    async def cookies(request: Any) -> Any:
        return web.json_response(dict(request.cookies))

    async def headers(request: Any) -> Any:
        h = request.headers
        return web.json_response(
            {
                "mixed": h.get("X-MIXED-case"),
                "lower": h.get("x-mixed-case"),
                "multi": h.getall("X-Multi", []),
                "missing": h.get("X-Missing"),
                "in": "x-MIXED-CASE" in h,
            }
        )

    async def body_info(request: Any) -> Any:
        return web.json_response(
            {
                "content_type": request.content_type,
                "charset": request.charset,
                "content_length": request.content_length,
                "can_read_body": request.can_read_body,
                "body_exists": request.body_exists,
            }
        )

    async def read(request: Any) -> Any:
        data = await request.read()
        again = await request.read()
        return web.Response(body=data, headers={"X-Len": str(len(data)), "X-Same": str(again)})

    async def text(request: Any) -> Any:
        return web.json_response({"text": await request.text()})

    async def as_json(request: Any) -> Any:
        try:
            data = await request.json()
        except ValueError as exc:  # what aiohttp code does to answer bad JSON itself
            caught = "JSONDecodeError" if isinstance(exc, json.JSONDecodeError) else repr(exc)
            return web.Response(status=400, text=f"caught {caught}")
        return web.json_response({"got": data})

    async def post(request: Any) -> Any:
        data = await request.post()
        keys = list(dict.fromkeys(data.keys()))
        return web.json_response({k: data.getall(k) for k in keys})

    async def ignore_body(request: Any) -> Any:
        return web.Response(text="ignored")

    app = web.Application()
    app.router.add_route("*", "/info", info)
    app.router.add_get("/query", query)
    app.router.add_get("/cookies", cookies)
    app.router.add_get("/headers", headers)
    app.router.add_route("*", "/body-info", body_info)
    app.router.add_route("*", "/read", read)
    app.router.add_post("/text", text)
    app.router.add_post("/json", as_json)
    app.router.add_route("*", "/post", post)
    app.router.add_post("/ignore", ignore_body)
    return app


def app_small_limit(web: Any) -> Any:
    async def read(request: Any) -> Any:
        return web.Response(body=await request.read())

    async def post(request: Any) -> Any:
        return web.json_response(dict(await request.post()))

    async def text(request: Any) -> Any:
        return web.Response(text=await request.text())

    app = web.Application(client_max_size=10)
    app.router.add_post("/read", read)
    app.router.add_post("/post", post)
    app.router.add_post("/text", text)
    return app


def app_views(web: Any) -> Any:
    class ItemView(web.View):
        async def get(self) -> Any:
            return web.json_response({"view": "get", "id": self.request.match_info["id"]})

        async def post(self) -> Any:
            data = await self.request.post()
            return web.json_response({"view": "post", "data": dict(data)})

    routes = web.RouteTableDef()

    @routes.get("/get")
    async def handle_get(request: Any) -> Any:
        return web.Response(text="table get")

    @routes.post("/post")
    async def handle_post(request: Any) -> Any:
        return web.Response(text="table post")

    @routes.view("/view")
    class TableView(web.View):
        async def get(self) -> Any:
            return web.Response(text="table view get")

        async def post(self) -> Any:
            return web.Response(text="table view post")

    async def no_head(request: Any) -> Any:
        return web.Response(text="no head")

    app = web.Application()
    app.router.add_view("/items/{id}", ItemView)
    app.router.add_routes(routes)
    app.add_routes([web.get("/def-no-head", no_head, allow_head=False)])
    return app


def app_middlewares(web: Any) -> Any:
    trail_key = web.RequestKey("trail", list)

    def tagging(tag: str) -> Any:
        @web.middleware
        async def mw(request: Any, handler: Any) -> Any:
            request[trail_key] = [*request.get(trail_key, []), tag]
            try:
                resp = await handler(request)
            except web.HTTPException as exc:
                exc.headers["X-Caught-By"] = tag
                raise
            resp.headers["X-Trail"] = ">".join(request[trail_key])
            resp.headers.add("X-Out", tag)
            return resp

        return mw

    @web.middleware
    async def rewrite_404(request: Any, handler: Any) -> Any:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return web.Response(status=404, text="rewritten 404")

    async def hello(request: Any) -> Any:
        return web.Response(text="/".join(request[trail_key]))

    async def on_prepare(request: Any, response: Any) -> None:
        response.headers["X-Prepared"] = "1"

    app = web.Application(middlewares=[tagging("outer"), rewrite_404, tagging("inner")])
    app.on_response_prepare.append(on_prepare)
    app.router.add_get("/", hello)
    return app


# -- the cases -------------------------------------------------------------------------


def case(factory: AppFactory, data: bytes, id: str, status: int = 200) -> Any:
    """One exchange; ``status`` is what both servers must answer (a guard against an
    app so broken that both fail alike)."""
    return pytest.param(factory, data, status, id=id)


CASES = [
    # responses
    case(app_responses, build("GET", "/"), "hello"),
    case(app_responses, build("GET", "/json"), "json_response"),
    case(app_responses, build("GET", "/json-dumps"), "json_response-dumps"),
    case(app_responses, build("GET", "/json-status"), "json_response-status-reason", 422),
    case(app_responses, build("GET", "/body"), "body-bytes"),
    case(app_responses, build("GET", "/empty"), "empty-response"),
    case(app_responses, build("GET", "/created"), "status-201-reason", 201),
    case(app_responses, build("GET", "/ctype-charset"), "content_type-charset-text"),
    case(app_responses, build("GET", "/ctype-body"), "content_type-charset-body"),
    case(app_responses, build("GET", "/ctype-only"), "content_type-only"),
    case(app_responses, build("GET", "/ctype-params"), "content_type-with-params"),
    case(app_responses, build("GET", "/headers"), "headers-dict"),
    case(app_responses, build("GET", "/header-ctype"), "content-type-header"),
    case(app_responses, build("GET", "/204"), "response-204", 204),
    case(app_responses, build("GET", "/attrs"), "attributes-after-construction", 202),
    case(app_responses, build("GET", "/404-text"), "response-404-text", 404),
    case(app_responses, build("GET", "/big"), "response-big"),
    case(app_responses, build("GET", "/big", version="1.0"), "response-big-http10"),
    case(app_responses, build("GET", "/html"), "response-html"),
    case(app_responses, build("GET", "/headers-read"), "response-headers-read"),
    case(app_responses, build("GET", "/304-text"), "response-304-with-text", 304),
    case(app_responses, build("GET", "/204-text"), "response-204-with-text", 204),
    case(app_responses, build("GET", "/json-big"), "json-big"),
    case(
        app_responses,
        build("GET", "/json", version="1.0", headers={"Connection": "keep-alive"}),
        "json-http10-keep-alive",
    ),
    case(app_responses, build("GET", "/stream"), "stream-chunked"),
    case(app_responses, build("GET", "/stream", version="1.0"), "stream-http10"),
    case(app_responses, build("GET", "/stream-length"), "stream-content-length"),
    case(app_responses, build("HEAD", "/"), "head-on-get-route"),
    case(app_responses, build("HEAD", "/json"), "head-json"),
    # HTTP/1.0 and connection handling
    case(app_responses, build("GET", "/", version="1.0", host=None), "http10"),
    case(
        app_responses,
        build("GET", "/", version="1.0", headers={"Connection": "keep-alive"}),
        "http10-keep-alive",
    ),
    case(app_responses, build("HEAD", "/", version="1.0"), "http10-head"),
    case(app_responses, build("GET", "/", headers={"Connection": "close"}), "http11-close"),
    case(app_responses, build("GET", "/nowhere", version="1.0"), "http10-404", 404),
    # exceptions
    *[
        case(app_exceptions, build("GET", path), f"raise-{path[1:]}", status)
        for path, status in [
            ("/found", 302),
            ("/found-url", 302),
            ("/moved", 301),
            ("/see-other-text", 303),
            ("/temporary", 307),
            ("/permanent", 308),
            ("/not-found", 404),
            ("/not-found-text", 404),
            ("/bad-request", 400),
            ("/bad-request-both", 400),
            ("/forbidden-html", 403),
            ("/no-content", 204),
            ("/no-content-headers", 204),
            ("/not-modified", 304),
            ("/reset", 205),
            ("/created", 201),
            ("/ok", 200),
            ("/method", 405),
            ("/too-large", 413),
            ("/too-large-one-arg", 413),
            ("/legal", 451),
            ("/teapot-ish", 417),
            ("/unauthorized", 401),
            ("/internal", 500),
            ("/unavailable", 503),
            ("/gateway-timeout", 504),
        ]
    ],
    case(app_exceptions, build("HEAD", "/not-found-text"), "raise-head", 404),
    # cookies
    *[
        case(app_cookies, build("GET", path), f"cookie-{path[1:]}")
        for path in [
            "/simple",
            "/max-age",
            "/httponly",
            "/secure",
            "/samesite",
            "/path-domain",
            "/expires",
            "/everything",
            "/quoted",
            "/del",
            "/del-path-domain",
            "/del-flags",
            "/overwrite",
            "/set-after-del",
            "/del-after-set",
            "/several",
        ]
    ],
    # handler errors
    case(app_errors, build("GET", "/value-error"), "handler-raises-500", 500),
    case(
        app_errors,
        build("GET", "/value-error", headers={"Accept": "text/html,*/*"}),
        "handler-raises-500-html",
        500,
    ),
    case(app_errors, build("GET", "/none"), "handler-returns-none", 500),
    case(app_errors, build("GET", "/str"), "handler-returns-str", 500),
    case(app_errors, build("GET", "/timeout"), "handler-timeout-504", 504),
    case(app_errors, build("POST", "/after-read", body=b"abc"), "handler-raises-after-read", 500),
    case(app_errors, build("GET", "/value-error", version="1.0"), "handler-raises-http10", 500),
    # routing
    case(app_routing, build("GET", "/nowhere"), "404-unknown", 404),
    case(app_routing, build("GET", "/plain/"), "404-trailing-slash", 404),
    case(app_routing, build("POST", "/only-get"), "405-post-on-get", 405),
    case(app_routing, build("GET", "/only-post"), "405-get-on-post", 405),
    case(app_routing, build("PATCH", "/multi"), "405-allow-several", 405),
    case(app_routing, build("HEAD", "/no-head"), "405-head-allow_head-false", 405),
    case(app_routing, build("GET", "/no-head"), "allow_head-false-get"),
    case(app_routing, build("HEAD", "/only-post"), "405-head-on-post", 405),
    case(app_routing, build("DELETE", "/any"), "any-method"),
    case(app_routing, build("GET", "/num/123"), "regex-match"),
    case(app_routing, build("GET", "/num/12a"), "regex-404", 404),
    case(app_routing, build("GET", "/echo/a%20b"), "percent-space"),
    case(app_routing, build("GET", "/echo/a%2Fb"), "percent-2F"),
    case(app_routing, build("GET", "/echo/100%25"), "percent-25"),
    case(app_routing, build("GET", "/echo/J%C3%BCrgen"), "percent-utf8"),
    case(app_routing, build("GET", "/echo/a+b"), "plus-in-path"),
    case(app_routing, build("GET", "/echo/a/b"), "slash-not-in-var", 404),
    case(app_routing, build("GET", "/tail/a/b%2Fc/d"), "tail-regex"),
    case(app_routing, build("GET", "/ext/file.tar.gz"), "two-vars-one-segment"),
    case(app_routing, build("GET", "/two/x/y?q=1"), "two-vars-with-query"),
    case(app_routing, build("GET", "/order/z"), "registration-order"),
    case(app_routing, build("GET", "/prefix/fixed"), "plain-beats-later-dynamic"),
    case(app_routing, build("GET", "/prefix/other"), "dynamic-after-plain"),
    case(app_routing, build("GET", "/%70lain"), "percent-unreserved-path"),
    case(app_routing, build("GET", "/urls"), "url_for"),
    # request attributes
    case(app_request, build("GET", "/info?a=1&b=%20x+y"), "request-info"),
    case(app_request, build("GET", "/info", host="example.com:8080"), "request-info-port"),
    case(app_request, build("POST", "/info", body=b""), "request-info-post"),
    case(app_request, build("GET", "/info", version="1.0"), "request-info-http10"),
    case(
        app_request,
        build("GET", "http://other.example:81/info?z=1"),
        "request-info-absolute-form",
    ),
    case(app_request, build("GET", "/query?a=1&a=2&b=3&c=&d"), "query-repeated"),
    case(app_request, build("GET", "/query?x=%26%3D&y=a+b&z=%C3%A9"), "query-decoding"),
    case(
        app_request,
        build("GET", "/cookies", headers={"Cookie": 'a=1; b="quoted value"; c=; d=x=y'}),
        "request-cookies",
    ),
    case(app_request, build("GET", "/cookies"), "request-no-cookies"),
    case(
        app_request,
        build(
            "GET",
            "/headers",
            headers=[("x-MiXeD-CaSe", "v"), ("X-Multi", "1"), ("x-multi", "2")],
        ),
        "request-headers-ci",
    ),
    case(app_request, build("GET", "/body-info"), "body-info-get"),
    case(
        app_request,
        build(
            "POST",
            "/body-info",
            headers={"Content-Type": "text/plain; charset=latin-1"},
            body=b"hello",
        ),
        "body-info-post",
    ),
    case(app_request, build("POST", "/body-info", body=b""), "body-info-post-empty"),
    case(
        app_request,
        build("POST", "/body-info", headers={"Content-Type": "garbage"}, body=b"x"),
        "body-info-bad-content-type",
    ),
    case(
        app_request,
        build(
            "POST",
            "/body-info",
            headers={"Content-Type": "Application/JSON; Charset=UTF-8"},
            body=b"{}",
        ),
        "body-info-case",
    ),
    case(
        app_request,
        build(
            "POST",
            "/body-info",
            headers={"Transfer-Encoding": "chunked"},
            body=b"5\r\nhello\r\n0\r\n\r\n",
        ),
        "body-info-chunked",
    ),
    case(app_request, build("POST", "/read", body=b"\x00raw\xff"), "read"),
    case(app_request, build("GET", "/read"), "read-no-body"),
    case(
        app_request,
        build(
            "POST",
            "/read",
            headers={"Transfer-Encoding": "chunked"},
            body=b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        ),
        "read-chunked",
    ),
    case(
        app_request,
        build("POST", "/text", headers={"Content-Type": "text/plain"}, body="café".encode()),
        "text-utf8",
    ),
    case(
        app_request,
        build(
            "POST",
            "/text",
            headers={"Content-Type": "text/plain; charset=latin-1"},
            body=b"caf\xe9",
        ),
        "text-latin1",
    ),
    case(
        app_request,
        build(
            "POST",
            "/json",
            headers={"Content-Type": "application/json"},
            body=b'{"a": [1, 2.5, "x"]}',
        ),
        "json",
    ),
    case(
        app_request,
        build("POST", "/json", headers={"Content-Type": "text/plain"}, body=b"[1]"),
        "json-text-plain-content-type",
    ),
    case(app_request, build("POST", "/json", body=b'{"x": null}'), "json-no-content-type"),
    case(
        app_request,
        build("POST", "/json", headers={"Content-Type": "application/json"}, body=b"{oops"),
        "json-invalid-caught",
        400,
    ),
    case(
        app_request,
        build(
            "POST",
            "/post",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=b"a=1&b=hello+world&a=2&empty=&uni=%C3%A9",
        ),
        "post-urlencoded",
    ),
    case(
        app_request,
        build("GET", "/post?a=1"),
        "post-on-get",
    ),
    case(
        app_request,
        build("POST", "/post", headers={"Content-Type": "text/plain"}, body=b"a=1"),
        "post-other-content-type",
    ),
    case(app_request, build("POST", "/post", body=b"a=1"), "post-no-content-type"),
    case(app_request, build("POST", "/ignore", body=b"x" * 1000), "body-left-unread"),
    # client_max_size
    case(app_small_limit, build("POST", "/read", body=b"x" * 20), "client_max_size-read", 413),
    case(app_small_limit, build("POST", "/read", body=b"x" * 10), "client_max_size-at-limit"),
    case(
        app_small_limit,
        build(
            "POST",
            "/post",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=b"a=" + b"y" * 18,
        ),
        "client_max_size-post",
        413,
    ),
    case(
        app_small_limit,
        build("POST", "/text", headers={"Content-Type": "text/plain"}, body=b"z" * 11),
        "client_max_size-text",
        413,
    ),
    # views and RouteTableDef
    case(app_views, build("GET", "/items/7"), "view-get"),
    case(
        app_views,
        build(
            "POST",
            "/items/7",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=b"k=v",
        ),
        "view-post",
    ),
    case(app_views, build("DELETE", "/items/7"), "view-405", 405),
    case(app_views, build("HEAD", "/items/7"), "view-head-405", 405),
    case(app_views, build("GET", "/get"), "routetable-get"),
    case(app_views, build("HEAD", "/get"), "routetable-head"),
    case(app_views, build("POST", "/post", body=b""), "routetable-post"),
    case(app_views, build("GET", "/post"), "routetable-post-405", 405),
    case(app_views, build("GET", "/view"), "routetable-view-get"),
    case(app_views, build("POST", "/view", body=b""), "routetable-view-post"),
    case(app_views, build("PUT", "/view", body=b""), "routetable-view-405", 405),
    case(app_views, build("HEAD", "/def-no-head"), "web-get-allow_head-false", 405),
    # middlewares and signals
    case(app_middlewares, build("GET", "/"), "middleware-order"),
    case(app_middlewares, build("GET", "/missing"), "middleware-404", 404),
    case(app_middlewares, build("POST", "/"), "middleware-405", 405),
]


@pytest.mark.parametrize(("factory", "data", "status"), CASES)
async def test_same_as_aiohttp(factory: AppFactory, data: bytes, status: int) -> None:
    reply = await same(factory, data)
    assert reply.status == status


# -- pipelining -------------------------------------------------------------------------


async def test_pipelined_responses() -> None:
    replies = await same_pipelined(
        app_responses,
        [
            build("GET", "/"),
            build("HEAD", "/json"),
            build("GET", "/big"),
            build("GET", "/stream"),
            build("GET", "/missing"),
            build("GET", "/json", headers={"Connection": "close"}),
        ],
    )
    assert [r.status for r in replies] == [200, 200, 200, 200, 404, 200]
    assert replies[-1].after == "closed"


async def test_pipelined_requests_with_bodies() -> None:
    replies = await same_pipelined(
        app_request,
        [
            build("POST", "/read", body=b"first body"),
            build("POST", "/ignore", body=b"unread " * 100),
            build("POST", "/read", headers={"Transfer-Encoding": "chunked"}, body=b"")
            + b"3\r\nabc\r\n0\r\n\r\n",
            build("GET", "/query?a=1"),
        ],
    )
    assert [r.body for r in replies] == [b"first body", b"ignored", b"abc", b'{"a": ["1"]}']
    assert replies[-1].after == "HTTP/1.1 404 Not Found"


async def test_pipelining_stops_after_an_error_that_closes() -> None:
    replies = await same_pipelined(
        app_errors, [build("GET", "/value-error"), build("GET", "/value-error")]
    )
    assert len(replies) == 1
    assert replies[0].status == 500
    assert replies[0].after == "closed"


# -- where Squall differs on purpose -------------------------------------------------------


async def test_invalid_json_is_a_400_not_a_500() -> None:
    """DIFFERENCE: aiohttp lets ``json.JSONDecodeError`` escape the handler, so a client's
    malformed JSON becomes a 500 and a logged traceback; Squall raises a 400 that is still
    a ``JSONDecodeError`` (see ``json-invalid-caught`` above for handlers that catch it)."""

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.json_response(await request.json())

        app = web.Application()
        app.router.add_post("/", handler)
        return app

    data = build("POST", "/", headers={"Content-Type": "application/json"}, body=b"{oops")
    ours = await run_on(squall_web, factory, data)
    theirs = await run_on(aiohttp_web, factory, data)
    assert theirs.status == 500
    assert ours.status_line == b"HTTP/1.1 400 Bad Request"
    assert ours.body.startswith(b"Invalid JSON body: ")
    assert ours.header("Content-Type") == "text/plain; charset=utf-8"
    assert ours.after == "HTTP/1.1 404 Not Found"


async def test_undecodable_text_is_a_400_not_a_500() -> None:
    """DIFFERENCE: a body that is not valid in its declared charset makes aiohttp's
    ``request.text()`` raise ``UnicodeDecodeError`` (a 500); Squall answers 400."""

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.Response(text=await request.text())

        app = web.Application()
        app.router.add_post("/", handler)
        return app

    data = build("POST", "/", headers={"Content-Type": "text/plain"}, body=b"\xff\xfe\xfa")
    ours = await run_on(squall_web, factory, data)
    theirs = await run_on(aiohttp_web, factory, data)
    assert theirs.status == 500
    assert ours.status_line == b"HTTP/1.1 400 Bad Request"
    assert ours.body == b"Request body is not valid text"


async def test_head_on_stream_response_writes_no_body() -> None:
    """DIFFERENCE: for HEAD, aiohttp drops the framing headers of a StreamResponse but
    still writes what the handler writes, so the body bytes land where the next response
    should start. Squall drops them: the connection stays in sync."""
    data = build("HEAD", "/stream")
    ours = await run_on(squall_web, app_responses, data)
    theirs = await run_on(aiohttp_web, app_responses, data)
    assert theirs.after.startswith("one,two,three")
    assert ours.status_line == b"HTTP/1.1 200 OK"
    assert "Transfer-Encoding" not in dict(ours.headers)
    assert ours.header("X-Stream") == "1"
    assert ours.body == b""
    assert ours.after == "HTTP/1.1 404 Not Found"


async def test_head_sends_the_content_type_get_would() -> None:
    """DIFFERENCE: for HEAD, aiohttp leaves out the default ``Content-Type:
    application/octet-stream`` it sends for the same GET; Squall sends the header
    fields GET would have (RFC 9110 9.3.2)."""
    ours = await run_on(squall_web, app_responses, build("HEAD", "/big"))
    theirs = await run_on(aiohttp_web, app_responses, build("HEAD", "/big"))
    assert theirs.header("Content-Type") is None
    get = await run_on(squall_web, app_responses, build("GET", "/big"))
    assert ours.headers == get.headers
    assert ours.header("Content-Type") == "application/octet-stream"
    assert ours.header("Content-Length") == "20000"
    assert ours.body == b""
    assert ours.after == "HTTP/1.1 404 Not Found"
