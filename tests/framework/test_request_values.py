"""Request attributes aiohttp has and Squall lacked at 5461cf6 (issue 17, item 14):
``if_match``, ``if_none_match``, ``http_range``, ``forwarded``, ``task``, the
dates when absent, cookies as aiohttp reads them, and ``web.RequestPayloadError``.

Every test runs the same handler on Squall and on aiohttp (``webmod``) through a real
socket and asserts the values; the ones where Squall differs on purpose say so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from squall import web

from ._wire import build, exchange, serve


def one_route(handler_for: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler_for(web))
        return app

    return factory


async def ask(webmod: Any, handler_for: Callable[[Any], Any], data: bytes) -> Any:
    async with serve(webmod, one_route(handler_for)) as port:
        return await exchange(port, data)


def etags(values: Any) -> Any:
    return None if values is None else [[tag.value, tag.is_weak] for tag in values]


# -- If-Match, If-None-Match ----------------------------------------------------------------


def conditional(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        return web.json_response(
            {
                "if_match": etags(request.if_match),
                "if_none_match": etags(request.if_none_match),
                "ims": request.if_modified_since,
                "ius": request.if_unmodified_since,
                "if_range": request.if_range,
            }
        )

    return handler


async def test_conditional_attributes_absent(webmod: Any) -> None:
    reply = await ask(webmod, conditional, build("GET", "/"))
    assert reply.json() == {
        "if_match": None,
        "if_none_match": None,
        "ims": None,
        "ius": None,
        "if_range": None,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("*", [["*", False]]),
        ('"abc"', [["abc", False]]),
        ('W/"weak", "strong"', [["weak", True], ["strong", False]]),
        ('"a" , "b",W/"c"', [["a", False], ["b", False], ["c", True]]),
        ('"a", garbage, "b"', [["a", False]]),  # the list stops at the first bad element
        ('"a" "b"', []),
        ("unquoted", []),
        ('"caf\u00e9"', [["caf\u00e9", False]]),
    ],
)
async def test_if_match_and_if_none_match(webmod: Any, value: str, expected: Any) -> None:
    data = build("GET", "/", headers={"If-Match": value, "If-None-Match": value})
    data = data.replace(value.encode("latin-1"), value.encode())  # é as UTF-8, as browsers send
    reply = await ask(webmod, conditional, data)
    assert reply.json()["if_match"] == expected
    assert reply.json()["if_none_match"] == expected


# -- Range -------------------------------------------------------------------------------------


def ranges(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        try:
            rng = request.http_range
        except ValueError as exc:
            return web.json_response({"error": str(exc) != ""})
        return web.json_response([rng.start, rng.stop, rng.step])

    return handler


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, [None, None, 1]),
        ("bytes=0-9", [0, 10, 1]),
        ("bytes=5-", [5, None, 1]),
        ("bytes=-5", [-5, None, 1]),
        ("BYTES=1-1", [1, 2, 1]),
        ("bytes=9-0", {"error": True}),
        ("bytes=-", {"error": True}),
        ("bytes=0-1,4-5", {"error": True}),
        ("items=0-1", {"error": True}),
    ],
)
async def test_http_range(webmod: Any, value: str | None, expected: Any) -> None:
    headers = {} if value is None else {"Range": value}
    reply = await ask(webmod, ranges, build("GET", "/", headers=headers))
    assert reply.json() == expected


async def test_http_range_uncaught_is_416_not_500() -> None:
    """Squall's own: aiohttp lets the ValueError through (a 500 and a traceback)."""

    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.Response(text=str(request.http_range))

        return handler

    reply = await ask(web, handler_for, build("GET", "/", headers={"Range": "bytes=9-0"}))
    assert reply.status == 416


# -- Forwarded ---------------------------------------------------------------------------------


def forwarded(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        return web.json_response([dict(element) for element in request.forwarded])

    return handler


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], []),
        (
            ["for=192.0.2.60;proto=http;by=203.0.113.43"],
            [{"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"}],
        ),
        (['For="[2001:db8:cafe::17]:4711"'], [{"for": "[2001:db8:cafe::17]:4711"}]),
        (["for=192.0.2.43, for=198.51.100.17"], [{"for": "192.0.2.43"}, {"for": "198.51.100.17"}]),
        (["for=a", "for=b;host=x"], [{"for": "a"}, {"for": "b", "host": "x"}]),
        (["for=1.2.3.4:8080"], [{"for": "1.2.3.4:8080"}]),
        (['for="a\\"b"'], [{"for": 'a"b'}]),
        (["garbage, for=x"], [{}, {"for": "x"}]),
        (["for=x junk, proto=https"], [{"for": "x"}, {"proto": "https"}]),
        (["for=x,"], [{"for": "x"}, {}]),
    ],
)
async def test_forwarded(webmod: Any, values: list[str], expected: Any) -> None:
    data = build("GET", "/", headers=[("Forwarded", v) for v in values])
    reply = await ask(webmod, forwarded, data)
    assert reply.json() == expected


# -- task --------------------------------------------------------------------------------------


async def test_task_is_the_task_running_the_handler(webmod: Any) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            before = request.task
            await asyncio.sleep(0)
            return web.json_response(
                {
                    "is_task": isinstance(request.task, asyncio.Task),
                    "current": request.task is asyncio.current_task(),
                    "stable": before is request.task,
                }
            )

        return handler

    reply = await ask(webmod, handler_for, build("GET", "/"))
    # NOTE: aiohttp's is the connection's task, which runs each handler in a task of
    # its own; Squall's is the handler's (docs/compat.md)
    current = webmod is web
    assert reply.json() == {"is_task": True, "current": current, "stable": True}


# -- cookies as aiohttp reads them -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; a=2", {"a": "2"}),  # the last one wins
        ("a=1; b", {"a": "1", "b": ""}),  # a name without a value is kept
        ("secure; path=/", {"secure": "", "path": "/"}),  # no attributes in a Cookie header
        ('a="x;y"; b=1', {"a": "x;y", "b": "1"}),  # a quoted value may hold ";"
        ('a="\\"q\\""', {"a": '"q"'}),
        ('a="unclosed; b=2', {"a": '"unclosed', "b": "2"}),
        ("a==b", {"a": "=b"}),
        ("=1; a=2", {"a": "2"}),
    ],
)
async def test_cookies_as_aiohttp(webmod: Any, header: str, expected: dict[str, str]) -> None:
    def handler_for(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return web.json_response(dict(request.cookies))

        return handler

    reply = await ask(webmod, handler_for, build("GET", "/", headers={"Cookie": header}))
    assert reply.json() == expected


# -- web.RequestPayloadError -----------------------------------------------------------------


async def test_request_payload_error_catches_a_broken_body(webmod: Any) -> None:
    """A chunk that breaks the framing, caught by the handler as aiohttp's name."""

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            try:
                await request.read()
            except web.RequestPayloadError:
                return web.Response(status=400, text="caught")
            return web.Response(text="read")

        app = web.Application()
        app.router.add_post("/", handler)
        return app

    data = (
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\nzz\r\n"  # not a chunk size
    )
    async with serve(webmod, factory) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(data)
            status = await asyncio.wait_for(reader.readline(), 5)
        finally:
            writer.close()
    assert status.startswith(b"HTTP/1.1 400 ") or status.startswith(b"HTTP/1.0 400 ")
