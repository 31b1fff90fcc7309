"""TestClient: one aiohttp-style test body, run on aiohttp's test_utils and on squall.testing.

Each ``kit`` test is written the way an aiohttp suite is; the aiohttp run proves the
expectations are aiohttp's, the Squall run that a moved suite keeps passing.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import aiohttp
import pytest
from multidict import MultiDict
from yarl import URL

from squall import testing as squall_testing
from squall import web as squall_web

from .conftest import Kit

GUARD = 10.0  # a hang guard only


def app_of(web: Any) -> Any:
    release = asyncio.Event()

    async def text(request: Any) -> Any:
        return web.Response(text="not json")

    async def empty_json(request: Any) -> Any:
        return web.Response(body=b"", content_type="application/json")

    async def hello(request: Any) -> Any:
        resp = web.Response(text="hi " + request.query.get("n", "x"))
        resp.headers.add("X-Multi", "1")
        resp.headers.add("X-Multi", "2")
        resp.set_cookie("sid", "abc")
        return resp

    async def echo(request: Any) -> Any:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "type": request.content_type,
                "charset": request.charset,
                "body": body.decode("latin-1"),
                "query": list(request.query.items()),
                "cookies": dict(request.cookies),
                "x_a": request.headers.getall("X-A", []),
                "x_default": request.headers.get("X-Default"),
                "auth": request.headers.get("Authorization"),
            }
        )

    async def redirect(request: Any) -> Any:
        raise web.HTTPFound("/")

    async def stream(request: Any) -> Any:
        resp = web.StreamResponse()
        resp.content_type = "text/plain"
        await resp.prepare(request)
        await resp.write(b"line 0\nline 1\n")
        await release.wait()  # the body is not finished until the test says so
        await resp.write(b"end\n")
        await resp.write_eof()
        return resp

    async def broken(request: Any) -> Any:
        resp = web.StreamResponse()
        resp.content_length = 100
        await resp.prepare(request)
        await resp.write(b"x" * 10)
        raise RuntimeError("cut the body short (expected in this test)")

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/text", text)
    app.router.add_get("/empty-json", empty_json)
    app.router.add_get("/stream", stream)
    app.router.add_get("/broken", broken)
    app[web.AppKey("release", asyncio.Event)] = release
    return app


def released(app: Any) -> asyncio.Event:
    """The event that lets ``/stream`` finish its body."""
    return next(v for v in app.values() if isinstance(v, asyncio.Event))


async def test_get_status_text_and_response_values(kit: Kit) -> None:
    app = app_of(kit.web)
    async with kit.client(app) as client:
        resp = await client.get("/", params={"n": "bob"})
        assert resp.status == 200
        assert resp.reason == "OK"
        assert resp.ok
        assert resp.method == "GET"
        assert tuple(resp.version) == (1, 1)
        assert await resp.text() == "hi bob"
        assert await resp.read() == b"hi bob"  # read again: kept
        assert resp.content_type == "text/plain"
        assert resp.charset == "utf-8"
        assert resp.content_length == 6
        assert resp.headers.getall("X-Multi") == ["1", "2"]
        assert resp.cookies["sid"].value == "abc"
        assert str(resp.url) == f"http://127.0.0.1:{client.port}/?n=bob"
        assert client.host == "127.0.0.1"
        assert client.port == client.server.port
        assert client.app is app
        assert client.make_url("/a?b=c") == URL(f"http://127.0.0.1:{client.port}/a?b=c")


async def test_async_with_releases_the_response(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        async with client.get("/") as resp:
            assert resp.status == 200
            assert await resp.text() == "hi x"
        assert resp.closed


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"data": b"\x00\x01"}, ("application/octet-stream", None, "\x00\x01")),
        ({"data": "caf\u00e9"}, ("text/plain", "utf-8", "caf\u00c3\u00a9")),
        (
            {"data": {"a": "1 2", "b": "&"}},
            ("application/x-www-form-urlencoded", None, "a=1+2&b=%26"),
        ),
        (
            {"data": [("a", "1"), ("a", "2")]},
            ("application/x-www-form-urlencoded", None, "a=1&a=2"),
        ),
        ({"json": {"a": [1, "\u00e9"]}}, ("application/json", None, '{"a": [1, "\\u00e9"]}')),
        (
            {"data": b"{}", "headers": {"Content-Type": "application/x-mine"}},
            ("application/x-mine", None, "{}"),
        ),
    ],
    ids=["bytes", "str", "dict", "pairs", "json", "own-content-type"],
)
async def test_request_bodies_are_made_as_aiohttp_makes_them(
    kit: Kit, kwargs: dict[str, Any], expected: tuple[str, str | None, str]
) -> None:
    async with kit.client(app_of(kit.web)) as client:
        resp = await client.post("/echo", **kwargs)
        got = await resp.json()
        assert (got["type"], got["charset"], got["body"]) == expected


async def test_a_file_in_a_form_makes_it_multipart(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        resp = await client.post("/echo", data={"name": "x", "f": io.BytesIO(b"DATA")})
        got = await resp.json()
        assert got["type"] == "multipart/form-data"
        assert "DATA" in got["body"]
        assert 'name="name"' in got["body"]


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning")
async def test_query_headers_auth_and_method(kit: Kit) -> None:
    async with kit.client(app_of(kit.web), headers={"X-Default": "d"}) as client:
        resp = await client.request(
            "PATCH",
            "/echo?z=0",
            params=MultiDict([("a", "1"), ("a", "2")]),
            headers=[("X-A", "1"), ("X-A", "2")],
            auth=aiohttp.BasicAuth("user", "pw"),
            timeout=aiohttp.ClientTimeout(total=GUARD),
        )
        got = await resp.json()
        assert got["method"] == "PATCH"
        assert got["query"] == [["z", "0"], ["a", "1"], ["a", "2"]]
        assert got["x_a"] == ["1", "2"]
        assert got["x_default"] == "d"
        assert got["auth"] == "Basic dXNlcjpwdw=="
        for method in ("put", "delete", "options"):
            resp = await getattr(client, method)("/echo")
            assert (await resp.json())["method"] == method.upper()


async def test_cookies_set_by_the_server_are_sent_back(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        await client.get("/")
        jar = client.session.cookie_jar
        assert [(m.key, m.value) for m in jar] == [("sid", "abc")]
        assert jar.filter_cookies(client.make_url("/"))["sid"].value == "abc"
        resp = await client.post("/echo", cookies={"once": "1"})
        assert (await resp.json())["cookies"] == {"sid": "abc", "once": "1"}
        assert len(jar) == 1  # a request's own cookies stay out of the jar
        jar.update_cookies({"k": "v"})
        resp = await client.post("/echo")
        assert (await resp.json())["cookies"] == {"sid": "abc", "k": "v"}
        jar.clear()
        resp = await client.post("/echo")
        assert (await resp.json())["cookies"] == {}


async def test_redirects_followed_unless_asked_not_to(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        resp = await client.get("/redirect")
        assert resp.status == 200
        assert await resp.text() == "hi x"
        assert [r.status for r in resp.history] == [302]
        resp = await client.get("/redirect", allow_redirects=False)
        assert resp.status == 302
        assert resp.headers["Location"] == "/"
        resp = await client.head("/redirect")  # the test client follows for HEAD too
        assert resp.status == 200
        assert await resp.read() == b""
        resp = await client.session.head(client.make_url("/redirect"))  # the session does not
        assert resp.status == 302


async def test_raise_for_status_and_json_errors(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        resp = await client.get("/missing")
        assert resp.status == 404
        assert not resp.ok
        with pytest.raises(Exception) as info:
            resp.raise_for_status()
        assert type(info.value).__name__ == "ClientResponseError"
        assert info.value.status == 404
        with pytest.raises(Exception) as info:
            await client.get("/missing", raise_for_status=True)
        assert info.value.status == 404
        resp = await client.get("/text")
        with pytest.raises(Exception) as info:
            await resp.json()
        assert type(info.value).__name__ == "ContentTypeError"
        with pytest.raises(json.JSONDecodeError):  # the check skipped, the decoder's error
            await resp.json(content_type=None)
        assert await (await client.get("/empty-json")).json() is None


async def test_session_raise_for_status(kit: Kit) -> None:
    async with kit.client(app_of(kit.web), raise_for_status=True) as client:
        assert (await client.get("/")).status == 200
        with pytest.raises(Exception) as info:
            await client.get("/missing")
        assert info.value.status == 404


async def test_the_body_streams_while_the_test_reads_it(kit: Kit) -> None:
    app = app_of(kit.web)
    async with kit.client(app) as client:
        # the handler has not finished its body: a client that waited for it would hang
        resp = await asyncio.wait_for(client.get("/stream"), GUARD)
        assert await asyncio.wait_for(resp.content.readline(), GUARD) == b"line 0\n"
        assert await asyncio.wait_for(resp.content.readexactly(5), GUARD) == b"line "
        assert not resp.content.at_eof()
        released(app).set()
        assert await asyncio.wait_for(resp.read(), GUARD) == b"1\nend\n"
        assert resp.content.at_eof()


async def test_content_iterators(kit: Kit) -> None:
    app = app_of(kit.web)
    released(app).set()
    async with kit.client(app) as client:
        resp = await client.get("/stream")
        assert [line async for line in resp.content] == [b"line 0\n", b"line 1\n", b"end\n"]
        resp = await client.get("/stream")
        chunks = [c async for c in resp.content.iter_chunked(4)]
        assert b"".join(chunks) == b"line 0\nline 1\nend\n"
        assert all(len(c) <= 4 for c in chunks)
        resp = await client.get("/")
        assert b"".join([c async for c in resp.content.iter_any()]) == b"hi x"


async def test_unread_bodies_do_not_exhaust_the_connection_pool(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        for _ in range(120):  # more than both clients' pool of 100 connections
            resp = await asyncio.wait_for(client.get("/"), GUARD)
            assert resp.status == 200


async def test_a_body_cut_short_is_a_payload_error(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        resp = await client.get("/broken")
        assert resp.status == 200
        with pytest.raises(Exception) as info:
            await asyncio.wait_for(resp.read(), GUARD)
        assert type(info.value).__name__ == "ClientPayloadError"


async def test_a_closed_server_is_a_connection_error(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        url = client.make_url("/")
        await client.server.close()
        assert client.server.closed
        with pytest.raises(OSError) as info:
            await client.session.get(url)
        assert "ClientConnect" in type(info.value).__name__


async def test_close_closes_the_server_once(kit: Kit) -> None:
    client = kit.testing.TestClient(kit.testing.TestServer(app_of(kit.web)))
    await client.start_server()
    assert client.server.started
    await client.close()
    await client.close()
    assert client.server.closed
    assert client.session.closed


async def test_misuse_is_refused(kit: Kit) -> None:
    with pytest.raises(TypeError, match="server must be TestServer instance"):
        kit.testing.TestClient(kit.web.Application())
    async with kit.client(app_of(kit.web)) as client:
        with pytest.raises(TypeError, match="async with"):
            with client:
                pass
        with pytest.raises(ValueError, match="data and json"):
            await client.post("/echo", data=b"x", json={})


# Squall only


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("ssl", "is an aiohttp option"),
        ("chunked", "is an aiohttp option"),
        ("bogus", "is not an option"),
    ],
)
async def test_options_the_client_cannot_honour_are_refused(option: str, message: str) -> None:
    async with squall_testing.TestClient(squall_testing.TestServer(app_of(squall_web))) as client:
        with pytest.raises(TypeError, match=f"'{option}' {message}"):
            await client.get("/", **{option: True})


async def test_release_stops_an_unfinished_body() -> None:
    app = app_of(squall_web)
    async with squall_testing.TestClient(squall_testing.TestServer(app)) as client:
        resp = await client.get("/stream")
        assert await resp.content.readline() == b"line 0\n"
        await resp.release()
        with pytest.raises(squall_testing.ClientConnectionError, match="Connection closed"):
            await asyncio.wait_for(resp.content.read(), GUARD)
        released(app).set()
        assert (await client.get("/")).status == 200  # the client carries on


async def test_a_jar_passed_in_is_the_one_used() -> None:
    jar = squall_testing.CookieJar()
    jar.update_cookies({"pre": "1"})
    server = squall_testing.TestServer(app_of(squall_web))
    async with squall_testing.TestClient(server, cookie_jar=jar) as client:
        assert client.session.cookie_jar is jar
        resp = await client.post("/echo")
        assert (await resp.json())["cookies"] == {"pre": "1"}
        await client.get("/")
        assert sorted(m.key for m in jar) == ["pre", "sid"]
        jar.clear(lambda m: m.key == "pre")
        assert [m.key for m in jar] == ["sid"]


async def test_httpx_files_and_content_are_accepted_too() -> None:
    async with squall_testing.TestClient(squall_testing.TestServer(app_of(squall_web))) as client:
        resp = await client.post("/echo", data={"k": "v"}, files={"f": ("a.txt", b"FILE")})
        got = await resp.json()
        assert got["type"] == "multipart/form-data"
        assert 'filename="a.txt"' in got["body"]
        assert "FILE" in got["body"] and 'name="k"' in got["body"]
        resp = await client.post("/echo", content=b"raw")
        got = await resp.json()
        assert (got["type"], got["body"]) == ("application/octet-stream", "raw")
        with pytest.raises(ValueError, match="content cannot be combined"):
            await client.post("/echo", content=b"x", json={})
