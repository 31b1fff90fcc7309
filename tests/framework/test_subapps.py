"""Sub-applications on Squall and on aiohttp: the same app, the same bytes in and out.

``add_subapp`` (a prefix) and ``add_domain`` (a Host rule), nested sub-apps, the
sub-app's middlewares inside the parent's, ``request.app`` and ``config_dict``,
``url_for`` with the prefix, ``on_response_prepare`` of every app on the way, and the
sub-app's lifecycle signals run with the parent's.
"""

from __future__ import annotations

import itertools
import json
import warnings
from typing import Any

import aiohttp
import aiohttp.test_utils
import pytest
from aiohttp import web as aiohttp_web

from squall import testing as squall_testing
from squall import web as squall_web

from ._wire import build, same

# -- the apps --------------------------------------------------------------------------


def app_tree(web: Any) -> Any:
    """root ── /api (api) ── /v2 (v2); api has a "" and a "/" route; keys at each level."""
    name_key = web.AppKey("name", str)
    level_key = web.AppKey("level", int)
    only_root = web.AppKey("only_root", str)

    async def describe(request: Any) -> Any:
        cfg = request.config_dict
        return web.json_response(
            {
                "app": request.app[name_key],
                "level": cfg[level_key],
                "root": cfg[only_root],
                "info": dict(request.match_info),
                "apps": [a[name_key] for a in request.match_info.apps],
                "url": str(request.app.router["item"].url_for(item="a b/c"))
                if "item" in request.app.router
                else None,
            }
        )

    root = web.Application()
    root[name_key] = "root"
    root[level_key] = 0
    root[only_root] = "from-root"
    root.router.add_get("/", describe)
    root.router.add_get("/api-like", describe)
    root.router.add_route("*", "/{tail:.*}", describe)

    api = web.Application()
    api[name_key] = "api"
    api[level_key] = 1
    api.router.add_get("", describe)
    api.router.add_get("/", describe)
    api.router.add_get("/items/{item}", describe, name="item")
    api.router.add_post("/only-post", describe)

    v2 = web.Application()
    v2[name_key] = "v2"
    v2[level_key] = 2
    v2.router.add_get("/items/{item}", describe, name="item")
    v2.router.add_get("/plain", describe)

    api.add_subapp("/v2/", v2)  # the trailing slash is dropped, as aiohttp drops it
    root.add_subapp("/api", api)
    return root


TREE_TARGETS = [
    "/",
    "/api",
    "/api/",
    "/api/items/x1",
    "/api/items/%2F",
    "/api/v2/items/deep",
    "/api/v2/plain",
    "/api/v2",
    "/api/v2/",
    "/api/nothing-here",  # the sub-app's 404: the root's catch-all never sees it
    "/api/v2/nothing",
    "/apix",  # not under the prefix: the root's catch-all
    "/api-like",
    "/api/items/x?q=1",
]


@pytest.mark.parametrize("target", TREE_TARGETS)
async def test_tree_routes_as_aiohttp(target: str) -> None:
    reply = await same(app_tree, build("GET", target))
    if reply.status == 200:
        assert reply.json()["app"] in {"root", "api", "v2"}


async def test_tree_values() -> None:
    reply = await same(app_tree, build("GET", "/api/v2/items/deep"))
    data = reply.json()
    assert data["app"] == "v2"
    assert data["level"] == 2  # the nearest app wins
    assert data["root"] == "from-root"  # ...and the root's keys are still seen
    assert data["apps"] == ["root", "api", "v2"]
    assert data["url"] == "/api/v2/items/a%20b/c"  # url_for carries both prefixes
    sub404 = await same(app_tree, build("GET", "/api/nothing-here"))
    assert sub404.status == 404
    root_catch = await same(app_tree, build("GET", "/apix"))
    assert root_catch.json()["app"] == "root"
    prefix_only = await same(app_tree, build("GET", "/api"))
    assert prefix_only.json()["app"] == "api"  # the sub-app's "" route is the prefix


async def test_tree_405_lists_sub_app_methods() -> None:
    reply = await same(app_tree, build("GET", "/api/only-post"))
    assert reply.status == 405
    assert reply.header("Allow") == "POST"


def app_middlewares(web: Any) -> Any:
    """Each app's middleware records where it ran and which app request.app was."""
    name_key = web.AppKey("name", str)

    def tracer(tag: str) -> Any:
        @web.middleware
        async def trace(request: Any, handler: Any) -> Any:
            seen = f"{tag}@{request.app[name_key]}"
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                exc.headers["X-Trace"] = seen + ">" + exc.headers.get("X-Trace", "")
                raise
            response.headers["X-Trace"] = seen + ">" + response.headers.get("X-Trace", "")
            return response

        return trace

    async def hello(request: Any) -> Any:
        return web.Response(text=f"hello from {request.app[name_key]}")

    async def boom(request: Any) -> Any:
        raise web.HTTPConflict(text="conflict")

    root = web.Application(middlewares=[tracer("r1"), tracer("r2")])
    root[name_key] = "root"
    root.router.add_get("/", hello)
    sub = web.Application(middlewares=[tracer("s1")])
    sub[name_key] = "sub"
    sub.router.add_get("/hi", hello)
    sub.router.add_get("/boom", boom)
    bare = web.Application()  # no middlewares of its own: only the root's wrap it
    bare[name_key] = "bare"
    bare.router.add_get("/hi", hello)
    root.add_subapp("/sub", sub)
    root.add_subapp("/bare", bare)
    return root


@pytest.mark.parametrize(
    "target, trace",
    [
        ("/", "r1@root>r2@root>"),
        ("/sub/hi", "r1@root>r2@root>s1@sub>"),
        ("/sub/missing", "r1@root>r2@root>s1@sub>"),  # the sub-app's 404 passes its middleware
        ("/sub/boom", "r1@root>r2@root>s1@sub>"),
        ("/bare/hi", "r1@root>r2@root>"),
        ("/missing", "r1@root>r2@root>"),
    ],
)
async def test_middlewares_nest_outermost_first(target: str, trace: str) -> None:
    reply = await same(app_middlewares, build("GET", target))
    assert reply.header("X-Trace") == trace


def app_prepare_hooks(web: Any) -> Any:
    async def hello(request: Any) -> Any:
        return web.Response(text="hi")

    def hook(tag: str) -> Any:
        async def on_prepare(request: Any, response: Any) -> None:
            response.headers["X-Hooks"] = response.headers.get("X-Hooks", "") + tag

        return on_prepare

    root = web.Application()
    root.on_response_prepare.append(hook("root;"))
    root.router.add_get("/", hello)
    sub = web.Application()
    sub.on_response_prepare.append(hook("sub;"))
    sub.router.add_get("/x", hello)
    root.add_subapp("/sub", sub)
    return root


@pytest.mark.parametrize("target", ["/", "/sub/x", "/sub/none", "/none"])
async def test_prepare_hooks_of_every_app_on_the_way(target: str) -> None:
    reply = await same(app_prepare_hooks, build("GET", target))
    assert reply.header("X-Hooks") == ("root;sub;" if target.startswith("/sub") else "root;")


def app_domains(web: Any) -> Any:
    async def who(tag: str, request: Any) -> Any:
        return web.Response(text=f"{tag} {request.path}")

    def handler(tag: str) -> Any:
        async def h(request: Any) -> Any:
            return await who(tag, request)

        return h

    root = web.Application()
    root.router.add_get("/", handler("root"))
    exact = web.Application()
    exact.router.add_get("/", handler("exact"))
    exact.router.add_get("/only-exact", handler("exact"))
    masked = web.Application()
    masked.router.add_get("/", handler("masked"))
    ported = web.Application()
    ported.router.add_get("/", handler("ported"))
    root.add_domain("Example.COM.", exact)  # lower-cased, the trailing dot dropped
    root.add_domain("*.example.com", masked)
    root.add_domain("example.org:8080", ported)
    return root


@pytest.mark.parametrize(
    "host, target",
    [
        ("example.com", "/"),
        ("EXAMPLE.com", "/"),
        ("example.com", "/only-exact"),
        ("example.com", "/nothing"),  # the domain's 404
        ("a.example.com", "/"),
        ("a.b.example.com", "/"),
        ("example.com:80", "/"),
        ("example.com:9999", "/"),  # a domain given without a port matches any port
        ("a.example.com:9999", "/"),
        ("example.org:9999", "/"),
        ("example.org:8080", "/"),
        ("example.org", "/"),
        ("other.test", "/"),
        ("other.test", "/only-exact"),
        ("evilexample.com", "/"),
    ],
)
async def test_domains_as_aiohttp(host: str, target: str) -> None:
    await same(app_domains, build("GET", target, host=host))


async def test_domain_values() -> None:
    assert (await same(app_domains, build("GET", "/", host="a.example.com"))).body == b"masked /"
    assert (await same(app_domains, build("GET", "/", host="example.com"))).body == b"exact /"
    assert (await same(app_domains, build("GET", "/", host="other.test"))).body == b"root /"
    assert (await same(app_domains, build("GET", "/", host="example.org:8080"))).body == (
        b"ported /"
    )


# -- rules at configuration time, on both implementations ------------------------------


def test_subapp_configuration_errors(webmod: Any) -> None:
    web = webmod
    root = web.Application()
    with pytest.raises(ValueError):
        root.add_subapp("/", web.Application())
    with pytest.raises(TypeError):
        root.add_subapp(1, web.Application())
    with pytest.raises(ValueError):
        root.add_domain("", web.Application())
    with pytest.raises(ValueError):
        root.add_domain("http://example.com", web.Application())
    with pytest.raises(ValueError):
        root.add_domain("exa_mple.com", web.Application())
    with pytest.raises(TypeError):
        root.add_domain(None, web.Application())
    sub = web.Application()
    resource = root.add_subapp("/sub", sub)
    assert resource.get_info() == {"app": sub, "prefix": "/sub"}
    assert resource.canonical == "/sub"
    with pytest.raises(RuntimeError):
        resource.url_for()
    with pytest.raises(RuntimeError):  # a sub-app's router is frozen once added
        sub.router.add_get("/late", lambda r: None)
    with pytest.raises(RuntimeError):
        sub.middlewares.append(web.middleware(lambda r, h: h(r)))
    frozen = web.Application()
    frozen.freeze()
    with pytest.raises(RuntimeError):
        root.add_subapp("/frozen", frozen)
    root.freeze()
    assert sub.frozen
    with pytest.raises(RuntimeError):
        root.add_subapp("/late", web.Application())
    with pytest.raises(RuntimeError):
        root.middlewares.append(web.middleware(lambda r, h: h(r)))


def test_router_lists_sub_app_routes(webmod: Any) -> None:
    web = webmod

    async def h(request: Any) -> Any:
        return web.Response()

    root = web.Application()
    sub = web.Application()
    sub.router.add_get("/a", h)
    sub.router.add_post("/b", h)
    resource = root.add_subapp("/sub", sub)
    assert len(resource) == 3  # GET, HEAD and POST
    assert {r.method for r in resource} == {"GET", "HEAD", "POST"}
    assert resource in root.router.resources()
    assert sorted(r.get_info().get("path", "") for r in sub.router.resources()) == [
        "/sub/a",
        "/sub/b",
    ]


async def test_lifecycle_signals_run_with_the_parents(webmod: Any) -> None:
    web = webmod
    events: list[str] = []

    def recorder(tag: str) -> Any:
        async def record(app: Any) -> None:
            events.append(tag)

        return record

    def ctx(tag: str) -> Any:
        async def context(app: Any) -> Any:
            events.append(f"{tag}:enter")
            yield
            events.append(f"{tag}:exit")

        return context

    root = web.Application()
    sub = web.Application()
    inner = web.Application()
    for app, tag in ((root, "root"), (sub, "sub"), (inner, "inner")):
        app.cleanup_ctx.append(ctx(tag))
        app.on_startup.append(recorder(f"{tag}:startup"))
        app.on_shutdown.append(recorder(f"{tag}:shutdown"))
        app.on_cleanup.append(recorder(f"{tag}:cleanup"))
    sub.add_subapp("/inner", inner)
    root.add_subapp("/sub", sub)
    runner = web.AppRunner(root)
    await runner.setup()
    assert inner.frozen
    started = list(events)
    await runner.cleanup()
    assert started == [
        "root:enter",
        "root:startup",
        "sub:enter",
        "sub:startup",
        "inner:enter",
        "inner:startup",
    ]
    assert events[len(started) :] == [
        "root:shutdown",
        "sub:shutdown",
        "inner:shutdown",
        "root:exit",
        "root:cleanup",
        "sub:exit",
        "sub:cleanup",
        "inner:exit",
        "inner:cleanup",
    ]


async def test_cleanup_errors_are_gathered(webmod: Any) -> None:
    web = webmod

    def failing(msg: str) -> Any:
        async def context(app: Any) -> Any:
            yield
            raise ValueError(msg)

        return context

    app = web.Application()
    app.cleanup_ctx.append(failing("first"))
    app.cleanup_ctx.append(failing("second"))
    runner = web.AppRunner(app)
    await runner.setup()
    with pytest.raises(web.CleanupError) as info:
        await runner.cleanup()
    assert [str(e) for e in info.value.exceptions] == ["second", "first"]


def app_legacy(web: Any) -> Any:
    async def legacy(app: Any, handler: Any) -> Any:
        async def wrapped(request: Any) -> Any:
            response = await handler(request)
            response.headers.add("X-Legacy", "yes")
            return response

        return wrapped

    async def hello(request: Any) -> Any:
        return web.Response(text="hi")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        app = web.Application(middlewares=[legacy])
        app.router.add_get("/", hello)
        sub = web.Application(middlewares=[legacy])
        sub.router.add_get("/x", hello)
        app.add_subapp("/sub", sub)
    return app


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("target", ["/", "/sub/x"])
async def test_old_style_middleware(target: str) -> None:
    reply = await same(app_legacy, build("GET", target))
    assert reply.header_all("X-Legacy") == (["yes", "yes"] if target == "/sub/x" else ["yes"])


def test_old_style_middleware_warns(webmod: Any) -> None:
    async def legacy(app: Any, handler: Any) -> Any:
        return handler

    app = webmod.Application(middlewares=[legacy])
    with pytest.warns(DeprecationWarning, match="old-style middleware"):
        app.freeze()


def app_request_app_identity(web: Any) -> Any:
    root = web.Application()
    sub = web.Application()

    async def which(request: Any) -> Any:
        return web.Response(
            text=json.dumps({"sub": request.app is sub, "root": request.app is root})
        )

    root.router.add_get("/", which)
    sub.router.add_get("/", which)
    root.add_subapp("/s", sub)
    return root


async def test_request_app_is_the_innermost() -> None:
    assert (await same(app_request_app_identity, build("GET", "/s/"))).json() == {
        "sub": True,
        "root": False,
    }
    assert (await same(app_request_app_identity, build("GET", "/"))).json() == {
        "sub": False,
        "root": True,
    }


def app_custom_rule(web: Any) -> Any:
    """A MatchedSubAppResource with a rule of the user's own: a header, not the Host."""
    from squall.framework.routing.resources import AbstractRuleMatching as SquallRule

    base = SquallRule if web.__name__.startswith("squall") else _aiohttp_rule_base()

    class HeaderRule(base):  # type: ignore[misc, valid-type]
        async def match(self, request: Any) -> bool:
            return request.headers.get("X-Tenant") == "blue"

        def get_info(self) -> dict[str, Any]:
            return {"header": "X-Tenant"}

        @property
        def canonical(self) -> str:
            return "X-Tenant: blue"

    async def where(request: Any) -> Any:
        return web.Response(text=request.app["tag"])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = web.Application()
        root["tag"] = "root"
        root.router.add_get("/", where)
        blue = web.Application()
        blue["tag"] = "blue"
        blue.router.add_get("/", where)
        resource_cls = _matched_cls(web)
        root.router.register_resource(resource_cls(HeaderRule(), blue))
        blue.pre_freeze()
    return root


def _aiohttp_rule_base() -> Any:
    from aiohttp.web_urldispatcher import AbstractRuleMatching

    return AbstractRuleMatching


def _matched_cls(web: Any) -> Any:
    if web.__name__.startswith("squall"):
        from squall.framework.routing.resources import MatchedSubAppResource
    else:
        from aiohttp.web_urldispatcher import MatchedSubAppResource
    return MatchedSubAppResource


@pytest.mark.parametrize("tenant", ["blue", "red", None])
async def test_custom_rule(tenant: str | None) -> None:
    headers = {"X-Tenant": tenant} if tenant else {}
    reply = await same(app_custom_rule, build("GET", "/", headers=headers))
    assert reply.body == (b"blue" if tenant == "blue" else b"root")


async def test_resolve_coroutines_through_a_sub_app(webmod: Any) -> None:
    """aiohttp's coroutine API: router.resolve(request) and resource.resolve(request)."""
    from squall.testing import make_mocked_request as squall_mocked

    if webmod.__name__.startswith("squall"):
        mocked = squall_mocked
    else:
        from aiohttp.test_utils import make_mocked_request as mocked

    async def h(request: Any) -> Any:
        return webmod.Response()

    root = webmod.Application()
    sub = webmod.Application()
    sub.router.add_get("/x/{v}", h)
    resource = root.add_subapp("/sub", sub)
    req = mocked("GET", "/sub/x/7")
    info = await root.router.resolve(req)
    assert dict(info) == {"v": "7"}
    assert info.route.handler is h
    info2, allowed = await resource.resolve(mocked("POST", "/sub/x/7"))
    assert info2 is not None and info2.http_exception is not None
    assert info2.http_exception.status == 405
    assert allowed == {"GET", "HEAD"}
    missing = await root.router.resolve(mocked("GET", "/other"))
    assert missing.http_exception is not None and missing.http_exception.status == 404


@pytest.mark.parametrize("shape", ["no-yield", "two-yields", "context-manager"])
async def test_cleanup_ctx_shapes_as_aiohttp(webmod: Any, shape: str) -> None:
    web = webmod
    events: list[str] = []

    async def no_yield(app: Any) -> Any:
        if False:  # pragma: no cover - makes it an async generator
            yield

    async def two_yields(app: Any) -> Any:
        events.append("enter")
        yield
        events.append("between")
        yield

    class Manager:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __aenter__(self) -> None:
            events.append("enter")

        async def __aexit__(self, *exc: Any) -> None:
            events.append("exit")

    factory = {"no-yield": no_yield, "two-yields": two_yields, "context-manager": Manager}[shape]
    app = web.Application()
    app.cleanup_ctx.append(factory)
    runner = web.AppRunner(app)
    if shape == "no-yield":
        with pytest.raises(RuntimeError, match="didn't yield"):
            await runner.setup()
        return
    await runner.setup()
    if shape == "two-yields":
        with pytest.raises(RuntimeError, match="didn't stop"):
            await runner.cleanup()
        assert events == ["enter", "between"]
    else:
        await runner.cleanup()
        assert events == ["enter", "exit"]


def app_config_by_level(web: Any) -> Any:
    """config_dict seen from the root's middleware and from the sub-app's handler."""
    key = web.AppKey("key", str)
    only_sub = web.AppKey("only_sub", str)

    @web.middleware
    async def outer(request: Any, handler: Any) -> Any:
        cfg = request.config_dict
        seen = f"{cfg[key]}:{cfg.get(only_sub, '-')}"
        response = await handler(request)
        response.headers["X-Outer"] = seen
        return response

    async def handler(request: Any) -> Any:
        cfg = request.config_dict
        return web.Response(text=f"{cfg[key]}:{cfg.get(only_sub, '-')}")

    root = web.Application(middlewares=[outer])
    root[key] = "root"
    root.router.add_get("/", handler)
    sub = web.Application()
    sub[key] = "sub"
    sub[only_sub] = "yes"
    sub.router.add_get("/x", handler)
    root.add_subapp("/sub", sub)
    return root


@pytest.mark.parametrize("target", ["/", "/sub/x"])
async def test_config_dict_stops_at_request_app(target: str) -> None:
    reply = await same(app_config_by_level, build("GET", target))
    assert reply.header("X-Outer") == "root:-"
    assert reply.body == (b"sub:yes" if target == "/sub/x" else b"root:-")


def test_url_for_keeps_the_path_as_registered(webmod: Any) -> None:
    """Percent-escapes in a plain path or a sub-app's prefix are kept, not re-encoded."""
    app = webmod.Application()
    paths = ["/a%2Fb", "/x%25y", "/q+r", "/plain"]
    urls = [str(app.router.add_resource(p).url_for()) for p in paths]
    sub = webmod.Application()
    sub.router.add_resource("/plain", name="p")
    sub.router.add_resource("/d/{x}", name="d")
    app.add_subapp("/a%2Fb", sub)
    urls += [str(sub.router["p"].url_for()), str(sub.router["d"].url_for(x="1 2"))]
    assert urls == ["/a%2Fb", "/x%25y", "/q+r", "/plain", "/a%2Fb/plain", "/a%2Fb/d/1%202"]


@pytest.mark.parametrize("with_mw", list(itertools.product([False, True], repeat=3)))
async def test_request_app_in_nested_apps_as_aiohttp(with_mw: tuple[bool, bool, bool]) -> None:
    """``request.app`` seen by each app's middleware and by the handler, three apps
    deep, for every placement of middlewares: the same as on aiohttp (Squall enters
    only the apps that need it)."""

    async def seen_on(webmod: Any) -> list[str]:
        seen: list[str] = []
        names: dict[int, str] = {}

        def make_mw(label: str) -> Any:
            @webmod.middleware
            async def mw(request: Any, handler: Any) -> Any:
                seen.append(f"{label}:{names[id(request.app)]}")
                resp = await handler(request)
                seen.append(f"{label}-after:{names[id(request.app)]}")
                return resp

            return mw

        apps = []
        for label, on in zip(("root", "sub", "leaf"), with_mw, strict=True):
            app = webmod.Application(middlewares=[make_mw(label)] if on else [])
            names[id(app)] = label
            apps.append(app)

        async def handler(request: Any) -> Any:
            seen.append(f"handler:{names[id(request.app)]}")
            return webmod.Response(text="ok")

        apps[2].router.add_get("/h", handler)
        apps[1].add_subapp("/leaf", apps[2])
        apps[0].add_subapp("/sub", apps[1])
        server: Any
        if webmod is aiohttp_web:
            server = aiohttp.test_utils.TestServer(apps[0])
        else:
            server = squall_testing.TestServer(apps[0])
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{server.port}/sub/leaf/h") as resp:
                    assert resp.status == 200
        finally:
            await server.close()
        return seen

    assert await seen_on(squall_web) == await seen_on(aiohttp_web)
