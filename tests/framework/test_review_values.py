"""Values from the adversarial review (D3-D8c): a 4xx or a sane value, never a 500 with a
logged traceback, and the connection's fate as the response says.

Each case is sent as raw bytes through a real socket to a handler that uses the value;
where aiohttp's answer is right, the case is also compared with aiohttp byte for byte.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from squall import web

from ._wire import build, same


@pytest.fixture
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail the test if anything is logged at ERROR (a handler's traceback is)."""
    with caplog.at_level(logging.ERROR):
        yield
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def review_app(web: Any, ran: list[str] | None = None) -> Any:
    """One route per value under test; ``ran`` records the handlers that ran."""

    async def text(request: Any) -> Any:
        return web.Response(text=await request.text())

    async def as_json(request: Any) -> Any:
        return web.json_response(await request.json())

    async def json_caught(request: Any) -> Any:
        try:
            await request.json()
        except json.JSONDecodeError as exc:  # a ValueError, as json.loads raises
            return web.Response(text=f"caught: {exc.msg}")
        return web.Response(text="parsed")

    async def form(request: Any) -> Any:
        return web.json_response(sorted((await request.post()).items()))

    async def host(request: Any) -> Any:
        return web.Response(text=f"{request.host} {request.url}")

    async def target(request: Any) -> Any:
        return web.json_response(
            {
                "path": request.path,
                "raw_path": request.raw_path,
                "path_qs": request.path_qs,
                "query_string": request.query_string,
                "rel_url": str(request.rel_url),
                "query": list(request.query.items()),
                "url": str(request.url),
            }
        )

    async def connection(request: Any) -> Any:
        headers = [("Connection", v) for v in request.query.getall("c", [])]
        if "stream" in request.query:
            response = web.StreamResponse(headers=headers)
            await response.prepare(request)
            await response.write(b"streamed")
            await response.write_eof()
            return response
        return web.Response(text="answered", headers=headers)

    async def anything(request: Any) -> Any:
        if ran is not None:
            ran.append(request.method)
        return web.Response(text=f"handler saw {request.path!r}")

    app = web.Application()
    app.router.add_post("/text", text)
    app.router.add_post("/json", as_json)
    app.router.add_post("/json-caught", json_caught)
    app.router.add_post("/form", form)
    app.router.add_get("/host", host)
    app.router.add_get("/conn", connection)
    app.router.add_route("*", "/t/{tail:.*}", target)
    app.router.add_route("*", "/{tail:.*}", anything)
    return app


async def ask(squall_server: Any, raw_connect: Any, data: bytes, app: Any = None) -> Any:
    server = await squall_server(review_app(web) if app is None else app)
    conn = await raw_connect(server.port)
    await conn.send(data)
    status, headers, body = await conn.read_response()
    return status, headers, body, conn


# -- D3: a charset that names no text codec ----------------------------------------------


@pytest.mark.parametrize("path", ["/text", "/json", "/form"])
@pytest.mark.parametrize(
    "charset",
    [b"undefined", b"\xff", b"caf\xc3\xa9", b"rot13", b"nosuchcodec"],
    ids=["undefined", "raw-byte", "utf8-name", "not-text", "unknown"],
)
async def test_unsupported_charset_is_400(
    squall_server: Any, raw_connect: Any, no_error_logged: None, path: str, charset: bytes
) -> None:
    """aiohttp answers each with a 500 and a logged traceback."""
    data = (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n".encode()
        + b"Content-Type: application/x-www-form-urlencoded; charset="
        + charset
        + b"\r\n\r\na=1"
    )
    status, _, body, _ = await ask(squall_server, raw_connect, data)
    assert (status, body) == (b"HTTP/1.1 400 Bad Request", b"Unsupported charset")


async def test_bytes_invalid_in_a_known_charset_are_still_not_valid_text(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    data = build("POST", "/text", headers={"Content-Type": "text/plain"}, body=b"\xff")
    status, _, body, _ = await ask(squall_server, raw_connect, data)
    assert (status, body) == (b"HTTP/1.1 400 Bad Request", b"Request body is not valid text")


# -- D4: an integer past the interpreter's digit limit ------------------------------------


LONG_NUMBER = b"[" + b"9" * 5000 + b"]"


async def test_json_number_over_the_digit_limit_is_400(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    data = build("POST", "/json", body=LONG_NUMBER)
    status, _, body, _ = await ask(squall_server, raw_connect, data)
    assert (status, body) == (b"HTTP/1.1 400 Bad Request", b"Invalid JSON body: Value out of range")


async def test_json_number_over_the_digit_limit_is_a_json_decode_error_to_the_handler(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    data = build("POST", "/json-caught", body=LONG_NUMBER)
    status, _, body, _ = await ask(squall_server, raw_connect, data)
    assert (status, body) == (b"HTTP/1.1 200 OK", b"caught: Value out of range")


# -- D5: an absolute-form target whose host is no IDNA name -------------------------------


@pytest.mark.parametrize("host", ["xn--a", "xn--zz-", "XN--A.example"])
async def test_absolute_target_with_a_bad_idna_host_is_read_as_sent(
    squall_server: Any, raw_connect: Any, no_error_logged: None, host: str
) -> None:
    """aiohttp never answers these (the connection hangs); the host as sent is sane."""
    data = build("GET", f"http://{host}/host", host="x")
    status, _, body, _ = await ask(squall_server, raw_connect, data)
    assert (status, body) == (
        b"HTTP/1.1 200 OK",
        f"{host.lower()} http://{host.lower()}/host".encode(),
    )


async def test_absolute_target_with_an_idna_host_is_decoded_as_aiohttp(
    no_error_logged: None,
) -> None:
    reply = await same(review_app, build("GET", "http://xn--ls8h.la/host", host="x"))
    assert reply.body == "\U0001f4a9.la http://xn--ls8h.la/host".encode()


# -- D8a: a handler's Connection header with several options ------------------------------


@pytest.mark.parametrize(
    "values",
    [["close, foo"], [" close"], ["Keep-Alive ,\tCLOSE"], ["foo", "close"]],
    ids=["list", "leading-space", "case-and-tab", "two-lines"],
)
@pytest.mark.parametrize("kind", ["whole", "stream"])
async def test_connection_close_among_options_is_honoured(
    squall_server: Any, raw_connect: Any, no_error_logged: None, values: list[str], kind: str
) -> None:
    query = "&".join(f"c={v}" for v in values).replace(" ", "%20").replace("\t", "%09")
    query += "&stream" if kind == "stream" else ""
    first = build("GET", f"/conn?{query}")
    status, headers, _, conn = await ask(squall_server, raw_connect, first + build("GET", "/conn"))
    assert status == b"HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert await conn.read_all() == b""  # the pipelined request is not answered


async def test_connection_options_without_close_keep_alive(
    squall_server: Any, raw_connect: Any, no_error_logged: None
) -> None:
    status, headers, _, conn = await ask(
        squall_server, raw_connect, build("GET", "/conn?c=closed,%20foo") + build("GET", "/conn")
    )
    assert status == b"HTTP/1.1 200 OK" and "connection" not in headers
    status, _, body = await conn.read_response()
    assert (status, body) == (b"HTTP/1.1 200 OK", b"answered")


# -- D8b: CONNECT with a target that is not authority-form --------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/i/x",
        "/conn",
        "http://t/i/x",
    ],
)
async def test_connect_with_any_target_runs_no_handler(
    squall_server: Any, raw_connect: Any, no_error_logged: None, target: str
) -> None:
    """RFC 9112 3.2.3: CONNECT takes authority-form only; as for ``CONNECT host:443``,
    a 404 and a close, and the catch-all route never runs."""
    ran: list[str] = []
    status, _, body, conn = await ask(
        squall_server,
        raw_connect,
        build("CONNECT", target, host="t", body=b"abc"),
        app=review_app(web, ran),
    )
    assert (status, body) == (b"HTTP/1.1 404 Not Found", b"404: Not Found")
    assert await conn.is_closed()
    assert ran == []


# -- D8c: a fragment in the request-target --------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["/t/x#frag", "/t/x?a#b", "/t/x?a=1&b#c?d", "/t/%23x?a#b#c", "/t/x#", "/t/x?#"],
)
async def test_fragment_is_out_of_path_and_query_as_on_aiohttp(
    no_error_logged: None, target: str
) -> None:
    reply = await same(review_app, build("GET", target))
    assert "#" not in reply.json()["query_string"]
