"""``normalize_path_middleware``: aiohttp's redirects, and never one that leaves the site.

The ordinary cases run on Squall and on aiohttp 3.14 (``webmod``) with the same
expectations. The open-redirect cases send exact bytes over a raw socket to Squall
and check every ``Location`` is a same-site path that resolves when followed; where
aiohttp answers differently (an unsafe ``Location``, or a redirect Squall refuses)
the test says so and asserts Squall's answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import pytest
from aiohttp import web as aiohttp_web
from yarl import URL

from framework._wire import Reply, exchange, run_on, serve
from squall import web as squall_web
from squall.framework.middlewares import normalize_path_middleware as squall_normalize


def normalize(web: Any, **kwargs: Any) -> Any:
    """``web.normalize_path_middleware(**kwargs)``, the same name on both."""
    if web is squall_web:
        assert web.normalize_path_middleware is squall_normalize
    return web.normalize_path_middleware(**kwargs)


def get(target: str, method: str = "GET", body: bytes = b"") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


def plain_app(web: Any, **kwargs: Any) -> Any:
    """Fixed and dynamic routes; every handler answers with its own name."""

    def answer(name: str) -> Any:
        async def handler(request: Any) -> Any:
            return web.Response(text=name)

        return handler

    app = web.Application(middlewares=[normalize(web, **kwargs)])
    app.router.add_get("/a/", answer("a/"))
    app.router.add_get("/a/b", answer("a/b"))
    app.router.add_get("/c", answer("c"))
    app.router.add_get("/a b/", answer("a b/"))
    app.router.add_post("/p/", answer("p/"))
    app.router.add_get("/q", answer("GET q"))
    app.router.add_post("/q/", answer("POST q/"))
    app.router.add_get("/v/{name}/", answer("v/{name}/"))
    return app


async def ask(web: Any, data: bytes, **kwargs: Any) -> Reply:
    return await run_on(web, lambda w: plain_app(w, **kwargs), data)


# -- aiohttp's behaviour, on both ------------------------------------------------


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/a", "/a/"),
        ("/a?x=1&y=%20z", "/a/?x=1&y=%20z"),
        ("/a//b", "/a/b"),
        ("///a//b", "/a/b"),
        ("//a", "/a/"),
        ("/a%20b", "/a%20b/"),
        ("/v/x", "/v/x/"),
        ("/v//x", "/v/x/"),
        ("/v/x?a=1", "/v/x/?a=1"),
    ],
)
async def test_redirects_to_the_path_that_resolves(webmod: Any, target: str, location: str) -> None:
    reply = await ask(webmod, get(target))
    assert (reply.status, reply.header("Location")) == (308, location)
    assert reply.body == b"308: Permanent Redirect"


@pytest.mark.parametrize(("target", "body"), [("/a/", b"a/"), ("/a/b", b"a/b"), ("/c", b"c")])
async def test_a_path_that_resolves_is_not_redirected(
    webmod: Any, target: str, body: bytes
) -> None:
    reply = await ask(webmod, get(target))
    assert (reply.status, reply.header("Location"), reply.body) == (200, None, body)


@pytest.mark.parametrize("target", ["/nothing", "/a//b/", "/c/", "/v/"])
async def test_nothing_resolves_then_404(webmod: Any, target: str) -> None:
    reply = await ask(webmod, get(target))
    assert (reply.status, reply.header("Location")) == (404, None)
    assert reply.body == b"404: Not Found"


async def test_any_method_is_redirected_with_the_class(webmod: Any) -> None:
    # 308 keeps the method: the client repeats its POST at /p/
    reply = await ask(webmod, get("/p", "POST", b"payload"))
    assert (reply.status, reply.header("Location")) == (308, "/p/")
    head = await ask(webmod, get("/a", "HEAD"))
    assert (head.status, head.header("Location")) == (308, "/a/")


async def test_candidates_are_resolved_with_the_request_method(webmod: Any) -> None:
    # /a/ answers GET only: a POST to /a is no redirect, the 404 stands
    reply = await ask(webmod, get("/a", "POST", b"x"))
    assert (reply.status, reply.header("Location")) == (404, None)


async def test_a_405_is_not_redirected(webmod: Any) -> None:
    # PUT /a/ is a 405 and so is every candidate: the 405 with its Allow comes out
    reply = await ask(webmod, get("/a/", "PUT", b"x"))
    assert (reply.status, reply.header("Location")) == (405, None)
    assert set(reply.header("Allow").split(",")) == {"GET", "HEAD"}


async def test_a_405_whose_candidate_resolves(webmod: Any) -> None:
    # POST /q is a 405 (GET /q exists) and POST /q/ exists. aiohttp redirects any
    # failed match (SystemRoute); Squall only a 404: the path exists, the method
    # does not, and a redirect would send the client to another resource.
    reply = await ask(webmod, get("/q", "POST", b"x"))
    if webmod is aiohttp_web:
        assert (reply.status, reply.header("Location")) == (308, "/q/")
    else:
        assert (reply.status, reply.header("Location")) == (405, None)
        assert set(reply.header("Allow").split(",")) == {"GET", "HEAD"}


@pytest.mark.parametrize(
    ("target", "location"),
    [("/c/", "/c"), ("/c//", "/c"), ("//c/", "/c"), ("/c/?k=v", "/c?k=v"), ("/a/b/", "/a/b")],
)
async def test_remove_slash(webmod: Any, target: str, location: str) -> None:
    reply = await ask(webmod, get(target), append_slash=False, remove_slash=True)
    assert (reply.status, reply.header("Location")) == (308, location)


@pytest.mark.parametrize("target", ["/a", "/v/x"])
async def test_remove_slash_does_not_append(webmod: Any, target: str) -> None:
    reply = await ask(webmod, get(target), append_slash=False, remove_slash=True)
    assert (reply.status, reply.header("Location")) == (404, None)


async def test_remove_slash_cuts_only_a_slash(webmod: Any) -> None:
    # aiohttp's "merged and removed" candidate cuts the last character whatever it
    # is: /cx becomes /c. Squall removes a slash only.
    reply = await ask(webmod, get("/cx"), append_slash=False, remove_slash=True)
    if webmod is aiohttp_web:
        assert (reply.status, reply.header("Location")) == (308, "/c")
    else:
        assert (reply.status, reply.header("Location")) == (404, None)


async def test_merge_slashes_off(webmod: Any) -> None:
    inner = await ask(webmod, get("/a//b"), merge_slashes=False)
    assert (inner.status, inner.header("Location")) == (404, None)
    # the slash is still appended, and the leading run still cut to one
    appended = await ask(webmod, get("//a"), merge_slashes=False)
    assert (appended.status, appended.header("Location")) == (308, "/a/")


async def test_merge_only(webmod: Any) -> None:
    merged = await ask(webmod, get("/a//b"), append_slash=False)
    assert (merged.status, merged.header("Location")) == (308, "/a/b")
    not_appended = await ask(webmod, get("/a"), append_slash=False)
    assert (not_appended.status, not_appended.header("Location")) == (404, None)


@pytest.mark.parametrize(
    ("cls", "status"),
    [("HTTPFound", 302), ("HTTPMovedPermanently", 301), ("HTTPTemporaryRedirect", 307)],
)
async def test_redirect_class(webmod: Any, cls: str, status: int) -> None:
    reply = await ask(webmod, get("/a?x=1"), redirect_class=getattr(webmod, cls))
    assert (reply.status, reply.header("Location")) == (status, "/a/?x=1")


def test_append_and_remove_together_is_refused(webmod: Any) -> None:
    with pytest.raises(AssertionError):
        normalize(webmod, append_slash=True, remove_slash=True)
    normalize(webmod, append_slash=False, remove_slash=True)  # either alone is fine


async def test_other_middlewares_see_the_redirect(webmod: Any) -> None:
    """The redirect is an HTTPException: an outer middleware sees it raised."""

    def factory(web: Any) -> Any:
        @web.middleware
        async def outer(request: Any, handler: Any) -> Any:
            try:
                return await handler(request)
            except web.HTTPPermanentRedirect as exc:
                return web.Response(text=f"caught {exc.status} {exc.location}")

        async def handler(request: Any) -> Any:
            return web.Response(text="ok")

        app = web.Application(middlewares=[outer, normalize(web)])
        app.router.add_get("/a/", handler)
        return app

    reply = await run_on(webmod, factory, get("/a?x=1"))
    assert (reply.status, reply.body) == (200, b"caught 308 /a/?x=1")


async def test_trailing_encoded_slash_is_not_a_separator() -> None:
    # aiohttp decides on the decoded path: /c%2F "ends with a slash" and it cuts
    # the last character of the encoded one, trying "/c%2". Squall decides on
    # the encoded path: %2F is data, nothing to remove, so the 404 stands.
    reply = await ask(squall_web, get("/c%2F"), append_slash=False, remove_slash=True)
    assert (reply.status, reply.header("Location")) == (404, None)


# -- no open redirect (Squall) ---------------------------------------------------


def assert_local(location: str) -> None:
    """``location`` is a path on this site, whoever reads it."""
    assert location.startswith("/"), location
    assert location == "/" or location[1] not in "/\\", location
    assert all(0x21 <= ord(c) < 0x7F for c in location), location  # no CTL, space, 8-bit
    assert "\\" not in location, location
    base = "https://site.test/x/y"
    assert urljoin(base, location).startswith("https://site.test/"), location
    joined = URL(base).join(URL(location))  # RFC 3986 5.2, dot segments removed
    assert (joined.host, joined.raw_path[:2] != "//") == ("site.test", True), location


def catch_all_app(web: Any, **kwargs: Any) -> Any:
    """Routes that accept any path once normalized, for any method."""

    async def handler(request: Any) -> Any:
        return web.Response(text=f"{request.method} {request.path}")

    app = web.Application(middlewares=[normalize(web, **kwargs)])
    if kwargs.get("remove_slash"):
        app.router.add_route("*", "/{tail:.*[^/]}", handler)
    elif kwargs.get("append_slash", True):
        app.router.add_route("*", "/{tail:.*}/", handler)
    else:  # merging only: two segments, no empty one
        app.router.add_route("*", "/{a}/{b}", handler)
    return app


# what the first slashes of a path can be dressed as
HOSTILE = [
    "//evil.example/page",
    "///evil.example",
    "////evil.example//page//",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example/page",
    "/\\\\evil.example",
    "//\\evil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "/%2F/evil.example//page",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%5c/evil.example",
    "http://evil.example/page",
    "http://evil.example//evil2.example/page",
    "https://evil.example/page?x=1",
    "http://evil.example",
    "//evil.example/page?next=//evil2.example",
    "/%09/evil.example",
    "/%09%09evil.example",
    "/%0D%0ALocation:%20http://evil.example",
    "/%0a/evil.example",
    "/%00/evil.example",
    "/.//evil.example",
    "/..//evil.example",
    "/%2e%2e//evil.example",
    "/%2E/%2e%2E//evil.example",
    "/a/../..//evil.example",
    "/\xc3\xa9//evil.example",
    "/\xff//evil.example",
    "/javascript:alert(1)//evil.example",
    "/http:evil.example//page",
    "/evil.example/page//",
    "/a?x=\\y&z=%0d%0a",
]
SETUPS = {
    "append": {},
    "append-no-merge": {"merge_slashes": False},
    "remove": {"append_slash": False, "remove_slash": True},
    "remove-no-merge": {"append_slash": False, "remove_slash": True, "merge_slashes": False},
    "merge-only": {"append_slash": False},
}


def with_slash(target: str) -> str:
    path, mark, query = target.partition("?")
    return f"{path}/{mark}{query}"


@pytest.mark.parametrize("setup", SETUPS)
async def test_no_location_leaves_the_site(setup: str) -> None:
    kwargs = SETUPS[setup]
    redirects = 0
    async with serve(squall_web, lambda w: catch_all_app(w, **kwargs)) as port:
        for target in HOSTILE + [with_slash(t) for t in HOSTILE]:
            raw = get(target.encode("latin-1").decode("utf-8", "surrogateescape"))
            reply = await exchange(port, raw)
            location = reply.header("Location")
            if location is None:
                assert reply.status in (200, 400, 404), (target, reply)
                continue
            assert reply.status == 308, (target, reply)
            assert_local(location)
            redirects += 1
            # the Location is what was resolved: following it is answered
            followed = await exchange(port, get(location))
            assert followed.status == 200, (target, location, followed)
    assert redirects >= 5  # the table exercises the redirect, not only refusals


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("//evil.example/page", "/evil.example/page/"),
        ("///evil.example", "/evil.example/"),
        ("/\\evil.example", "/%5Cevil.example/"),
        ("/\\/evil.example", "/%5C/evil.example/"),
        ("/%2F%2Fevil.example", "/%2F%2Fevil.example/"),
        ("/%5Cevil.example", "/%5Cevil.example/"),
        ("/%09/evil.example", "/%09/evil.example/"),
        ("/%00/evil.example", "/%00/evil.example/"),
        ("/%2F/evil.example//page", "/%2F/evil.example//page/"),
        ("//evil.example/page?next=//evil2.example", "/evil.example/page/?next=//evil2.example"),
        ("/a?x=\\y", "/a/?x=%5Cy"),
        # aiohttp 3.14: "Location: http://evil.example/page/"
        ("http://evil.example/page", "/page/"),
        ("http://evil.example//evil2.example/page", "/evil2.example/page/"),
        ("https://evil.example/page?x=1", "/page/?x=1"),
    ],
)
async def test_hostile_paths_redirect_locally(target: str, location: str) -> None:
    reply = await run_on(squall_web, catch_all_app, get(target))
    assert (reply.status, reply.header("Location")) == (308, location)


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("http://evil.example//page", "/page"),
        ("https://evil.example//page?x=1", "/page?x=1"),
        ("http://evil.example///evil2.example", "/evil2.example"),
    ],
)
async def test_absolute_form_merging_keeps_the_host_out(target: str, location: str) -> None:
    # aiohttp 3.14 merges the slashes of the raw target: with the catch-all
    # routes of the merging-only setup, "http://evil.example/page" comes back as
    # "Location: http:///evil.example/page", which browsers read as
    # http://evil.example/page. Squall merges the path of rel_url only.
    async def handler(request: Any) -> Any:
        return squall_web.Response(text="page")

    def factory(web: Any) -> Any:
        app = web.Application(middlewares=[normalize(web, append_slash=False)])
        app.router.add_get("/page", handler)
        app.router.add_get("/evil2.example", handler)
        return app

    reply = await run_on(squall_web, factory, get(target))
    assert (reply.status, reply.header("Location")) == (308, location)


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/%0D%0ALocation:%20x", "/%0D%0ALocation:%20x/"),
        ("/%0a", "/%0A/"),
        ("/a?x=%0D%0ASet-Cookie:%20a=b", "/a/?x=%0D%0ASet-Cookie:%20a=b"),
    ],
)
async def test_encoded_cr_lf_stay_encoded(target: str, location: str) -> None:
    async def handler(request: Any) -> Any:
        return squall_web.Response(text=request.match_info["name"])

    def factory(web: Any) -> Any:
        app = web.Application(middlewares=[normalize(web)])
        app.router.add_get("/{name}/", handler)  # [^{}/]+ takes CR and LF
        return app

    async with serve(squall_web, factory) as port:
        reply = await exchange(port, get(target))
        assert (reply.status, reply.header("Location")) == (308, location)
        assert reply.header("Set-Cookie") is None
        followed = await exchange(port, get(location))
        assert followed.status == 200


@pytest.mark.parametrize(
    "target",
    [
        # aiohttp 3.14: "Location: /..//evil.example/" (a client resolving the dot
        # segment lands on "//evil.example/"); Squall offers no dotted candidate
        "/..//evil.example",
        "/%2e%2e//evil.example",
        "/.//evil.example",
        "/a/../..//evil.example",
    ],
)
async def test_dot_segments_are_not_redirected(target: str) -> None:
    reply = await run_on(squall_web, catch_all_app, get(target))
    assert (reply.status, reply.header("Location")) == (404, None)


@pytest.mark.parametrize(
    "target", ["/a\tb", "/\t/evil.example", "/\x0b/evil", "/a\rb", "/\xc3\xa9//e", "/\xff//e"]
)
async def test_raw_control_characters_are_a_400(target: str) -> None:
    async with serve(squall_web, catch_all_app) as port:
        raw = get(target.encode("latin-1").decode("utf-8", "surrogateescape"))
        reply = await exchange(port, raw)
        assert (reply.status, reply.header("Location")) == (400, None)
        # and the server keeps serving
        after = await exchange(port, get("/a"))
        assert (after.status, after.header("Location")) == (308, "/a/")


# -- sub-applications ------------------------------------------------------------


def with_subapp(web: Any, where: str) -> Any:
    """``/sub/`` holds a sub-app; the middleware sits on the root or on the sub-app."""

    async def handler(request: Any) -> Any:
        return web.Response(text=f"{request.path} {request.app is sub}")

    root = web.Application(middlewares=[normalize(web)] if where == "root" else [])
    sub = web.Application(middlewares=[normalize(web)] if where == "sub" else [])
    sub.router.add_get("/x/", handler)
    root.router.add_get("/top/", handler)
    root.add_subapp("/sub/", sub)
    return root


@pytest.mark.parametrize(
    ("where", "target", "status", "location"),
    [
        ("root", "/sub/x", 308, "/sub/x/"),
        ("root", "/sub//x?q=1", 308, "/sub/x/?q=1"),
        ("root", "/top", 308, "/top/"),
        ("sub", "/sub/x", 308, "/sub/x/"),
        ("sub", "/top", 404, None),  # the sub-app's middleware runs for its own paths only
    ],
)
async def test_through_a_subapp(
    webmod: Any, where: str, target: str, status: int, location: str | None
) -> None:
    async with serve(webmod, lambda w: with_subapp(w, where)) as port:
        reply = await exchange(port, get(target))
        assert (reply.status, reply.header("Location")) == (status, location)
        if location is not None:
            followed = await exchange(port, get(location))
            assert followed.status == 200


@pytest.mark.parametrize(
    "head",
    [
        "OPTIONS * HTTP/1.1\r\nHost: site.test\r\n",
        "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n",
        # aiohttp 3.14 redirects this one to /x/; Squall gives a CONNECT no path
        "CONNECT /x HTTP/1.1\r\nHost: site.test\r\n",
    ],
)
async def test_targets_that_are_not_paths_are_not_redirected(head: str) -> None:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.Response(text="reached")

        app = catch_all_app(web)
        app.router.add_route("*", "/", handler)
        return app

    reply = await run_on(squall_web, factory, f"{head}Connection: close\r\n\r\n".encode())
    assert (reply.status, reply.header("Location"), reply.body) == (404, None, b"404: Not Found")
