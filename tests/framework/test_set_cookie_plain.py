"""``set_cookie()``'s fast path (``http/cookies.py``, ``plain_set_cookie``): a cookie
with plain arguments is kept as its ``Set-Cookie`` line and its Morsel made only if
``response.cookies`` is read. Whatever the calls, the lines sent, their order, the
errors raised and the jar a handler reads are what Morsels alone give (the reference
below: every cookie through ``set_morsel``, as before the fast path), and on the wire
what aiohttp sends."""

from __future__ import annotations

import asyncio
import itertools
import random
from functools import partial
from http.cookies import CookieError, SimpleCookie
from typing import Any

import httpx
import pytest
from aiohttp import web as aiohttp_web

from squall import web
from squall.http.cookies import plain_set_cookie, set_morsel

from ._wire import same, same_pipelined, serve

NAMES: list[Any] = ["sid", "a-b_c.d", "Path", "expires", "HTTPONLY", "a b", "a=b", "é", "", "x", 5]
VALUES: list[Any] = ["v", "abc123", "", "a b", 'a"b', "a;b", "é", "a,b", "tok==", "a\\b", "\x01"]
VALUES += ["x/y", "a@b", "{}", "?", "(a)", "<[]>", 5, None, 0.5]
EXPIRES: list[Any] = [None, "", "Thu, 01 Jan 1970 00:00:00 GMT", "Wed, 21 Oct 2026 07:28:00 GMT"]
EXPIRES += ["a;b", 5]
DOMAINS: list[Any] = [None, "", "example.com", ".x.org", "a\x7fb", False, 0]
MAX_AGES: list[Any] = [None, 0, 3600, -1, "60", "", True, "1;2"]
PATHS: list[Any] = ["/", "", "/a b", "/x;y", None, "/é"]
FLAGS: list[Any] = [None, True, False, 1, ""]
VERSIONS: list[Any] = [None, "1", "", 1]
SITES: list[Any] = [None, "Lax", "Strict", "None", "", "x\ny", 1]

ARGS = ["value", "expires", "domain", "max_age", "path", "secure", "httponly", "version"]


def random_args(rng: random.Random) -> dict[str, Any]:
    return {
        "value": rng.choice(VALUES),
        "expires": rng.choice(EXPIRES),
        "domain": rng.choice(DOMAINS),
        "max_age": rng.choice(MAX_AGES),
        "path": rng.choice(PATHS),
        "secure": rng.choice(FLAGS),
        "httponly": rng.choice(FLAGS),
        "version": rng.choice(VERSIONS),
        "samesite": rng.choice(SITES),
    }


def outcome(call: Any) -> Any:
    try:
        return call()
    except (AttributeError, CookieError, TypeError, ValueError) as exc:
        return type(exc)


def jar_state(jar: SimpleCookie) -> list[tuple[str, str, str, dict[str, Any], str]]:
    return [(name, m.value, m.coded_value, dict(m), m.OutputString()) for name, m in jar.items()]


class Reference:
    """What set_cookie/del_cookie did before the fast path: Morsels only."""

    def __init__(self) -> None:
        self.jar = SimpleCookie()

    def set_cookie(self, name: str, **args: Any) -> None:
        set_morsel(self.jar, name, **args)

    def del_cookie(self, name: str) -> None:
        self.jar.pop(name, None)
        self.set_cookie(name, value="", max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT")

    def lines(self) -> list[str]:
        return [m.OutputString() for m in self.jar.values()]


def test_plain_lines_are_morsel_lines() -> None:
    """Every combination of a name, a value and one attribute at a time, then 20,000
    random combinations of all: where the fast path answers, its line is the
    Morsel's; where a Morsel would refuse (a reserved or illegal name), it does not
    answer."""
    rng = random.Random(1234)
    cases = [
        {"value": value, **{key: choice}}
        for value in VALUES
        for key, choices in [
            ("expires", EXPIRES),
            ("domain", DOMAINS),
            ("max_age", MAX_AGES),
            ("path", PATHS),
            ("secure", FLAGS),
            ("httponly", FLAGS),
            ("version", VERSIONS),
            ("samesite", SITES),
        ]
        for choice in choices
    ]
    cases += [random_args(rng) for _ in range(20_000)]
    answered = 0
    for name, args in itertools.product(NAMES, cases[:2000]):
        answered += _check_one(name, args)
    for args in cases[2000:]:
        answered += _check_one(rng.choice(NAMES), args)
    assert answered > 300  # the fast path is taken, not only the fallback


def _check_one(name: str, args: dict[str, Any]) -> int:
    full = {
        "value": "",
        "expires": None,
        "domain": None,
        "max_age": None,
        "path": "/",
        "secure": None,
        "httponly": None,
        "version": None,
        "samesite": None,
        **args,
    }
    line = plain_set_cookie(name, *full.values())
    ref = Reference()
    expected = outcome(lambda: (ref.set_cookie(name, **full), ref.lines())[1])
    if line is not None:
        assert [line] == expected, (name, full)
        return 1
    return 0


@pytest.mark.parametrize("seed", range(40))
def test_sequences_against_morsels(seed: int) -> None:
    """Random handlers' calls (set, set again under the same name, delete, read the
    jar) on a Response and on the reference: the same errors, jars and lines."""
    rng = random.Random(seed)
    for _ in range(50):
        response = web.Response(text="x")
        ref = Reference()
        for _ in range(rng.randint(1, 5)):
            name = rng.choice(["a", "b", "sid", rng.choice(NAMES)])
            step = rng.random()
            if step < 0.7:
                args = random_args(rng) if rng.random() < 0.3 else {"value": rng.choice(VALUES)}
                if rng.random() < 0.5:
                    args.update(httponly=True, max_age=rng.choice([None, 60]))
                mine = outcome(partial(response.set_cookie, name, **args))
                theirs = outcome(partial(ref.set_cookie, name, **args))
                assert mine == theirs
            elif step < 0.85:
                mine = outcome(partial(response.del_cookie, name))
                theirs = outcome(partial(ref.del_cookie, name))
                assert mine == theirs
            else:
                assert jar_state(response.cookies) == jar_state(ref.jar)
        assert response._cookie_lines() == ref.lines()
        # the jar a handler reads once the head is out: still them, as on aiohttp
        assert jar_state(response.cookies) == jar_state(ref.jar)
        assert response._cookie_lines() == ref.lines()


def test_the_jar_a_handler_reads() -> None:
    """Cookies kept as lines become Morsels, in order, when ``cookies`` is read; a
    later cookie of the same name merges into its Morsel as Morsels do."""
    response = web.Response()
    response.set_cookie("a", "1", domain="example.com", httponly=True)
    response.set_cookie("b", "2", max_age=60)
    assert response._plain_cookies is not None and list(response._plain_cookies) == ["a", "b"]
    jar = response.cookies
    assert response._plain_cookies is None
    assert list(jar) == ["a", "b"]
    assert jar["a"].value == "1" and jar["a"]["domain"] == "example.com"
    assert jar["a"]["httponly"] is True and jar["b"]["max-age"] == "60"
    response.set_cookie("a", "3")  # the Morsel keeps its domain and flag
    assert response._cookie_lines() == [
        "a=3; Domain=example.com; HttpOnly; Path=/",
        "b=2; Max-Age=60; Path=/",
    ]


def test_a_second_cookie_of_the_same_name_merges() -> None:
    """Set twice while still lines: the second goes through Morsels, which keep the
    first's attributes it does not give again."""
    response = web.Response()
    response.set_cookie("a", "1", secure=True, samesite="Lax")
    response.set_cookie("a", "2", max_age=5)
    assert response._plain_cookies is None
    assert response._cookie_lines() == ["a=2; Max-Age=5; Path=/; SameSite=Lax; Secure"]


def _cookie_app(web_module: Any) -> Any:
    async def handler(request: Any) -> Any:
        response = web_module.Response(text="ok")
        response.set_cookie("plain", "v1", httponly=True, max_age=3600, samesite="Lax")
        response.set_cookie("quoted", "a b")  # SimpleCookie quotes it: through Morsels
        response.set_cookie("third", "v3", domain="127.0.0.1", path="/p", secure=True)
        return response

    async def again(request: Any) -> Any:
        response = web_module.Response(text="ok")
        response.set_cookie("a", "1", expires="Wed, 21 Oct 2026 07:28:00 GMT")
        response.set_cookie("b", "2")
        response.set_cookie("a", "3", version="1")
        return response

    app = web_module.Application()
    app.router.add_get("/", handler)
    app.router.add_get("/again", again)
    return app


async def _set_cookie_lines(web_module: Any, path: str) -> list[bytes]:
    """The Set-Cookie lines of the head, in the order sent, read off a raw socket."""
    async with serve(web_module, _cookie_app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        finally:
            writer.close()
    return [line for line in head.split(b"\r\n") if line.startswith(b"Set-Cookie: ")]


@pytest.mark.parametrize("path", ["/", "/again"])
async def test_on_the_wire_as_aiohttp(path: str) -> None:
    """The whole answer is aiohttp's, and so is the order of its Set-Cookie lines."""
    await same(_cookie_app, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    mine = await _set_cookie_lines(web, path)
    assert mine == await _set_cookie_lines(aiohttp_web, path)
    assert len(mine) == (3 if path == "/" else 2)


async def test_a_client_keeps_them() -> None:
    """httpx, a real client, stores the cookies the fast path wrote."""
    async with serve(web, _cookie_app) as port:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            response = await client.get("/")
    assert response.status_code == 200
    assert client.cookies.get("plain") == "v1"
    assert client.cookies.get("quoted") == '"a b"'
    lines = response.headers.get_list("set-cookie")
    assert lines[0] == "plain=v1; HttpOnly; Max-Age=3600; Path=/; SameSite=Lax"


def _after_prepare_app(web_module: Any) -> Any:
    seen: list[str] = []

    @web_module.middleware
    async def record(request: Any, handler: Any) -> Any:
        response = await handler(request)
        if request.path != "/seen":
            seen.append(" | ".join(m.OutputString() for m in response.cookies.values()))
        return response

    async def stream(request: Any) -> Any:
        response = web_module.StreamResponse()
        response.set_cookie("a", "1", httponly=True)
        response.set_cookie("b", "x y")
        await response.prepare(request)
        await response.write(b"body")
        return response

    async def whole(request: Any) -> Any:
        response = web_module.Response(text="whole")
        response.set_cookie("c", "3", max_age=9)
        await response.prepare(request)
        return response

    async def show(request: Any) -> Any:
        return web_module.Response(text="\n".join(seen))

    app = web_module.Application(middlewares=[record])
    app.router.add_get("/stream", stream)
    app.router.add_get("/whole", whole)
    app.router.add_get("/seen", show)
    return app


async def test_the_jar_after_the_head_is_out_as_aiohttp() -> None:
    """A middleware reading ``response.cookies`` after the handler prepared the
    response finds the cookies that went out, as on aiohttp."""
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for path in ("/stream", "/whole")
    ] + [b"GET /seen HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]
    replies = await same_pipelined(_after_prepare_app, requests)
    assert replies[-1].body.split(b"\n") == [
        b'a=1; HttpOnly; Path=/ | b="x y"; Path=/',
        b"c=3; Max-Age=9; Path=/",
    ]
