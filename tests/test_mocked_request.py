"""make_mocked_request: unit-testing a handler without a server, as with aiohttp."""

from __future__ import annotations

import pytest

from squall import web
from squall.testing import make_mocked_request


async def hello(request: web.Request) -> web.Response:
    name = request.match_info.get("name", "Anonymous")
    return web.Response(text=f"Hello, {name} {request.query.get('x', '')}")


def test_request_properties() -> None:
    req = make_mocked_request("get", "/path/a%20b?x=1&x=2", headers={"Cookie": "c=3"})
    assert req.method == "GET"
    assert req.path == "/path/a b"
    assert req.raw_path == "/path/a%20b?x=1&x=2"
    assert req.query.getall("x") == ["1", "2"]
    assert req.cookies["c"] == "3"
    assert req.host == "localhost"
    assert req.version == (1, 1)
    assert req.keep_alive is True
    assert req.remote == "127.0.0.1"
    assert req.can_read_body is False


def test_closing_and_http10() -> None:
    assert make_mocked_request("GET", "/", closing=True).keep_alive is False
    assert make_mocked_request("GET", "/", version=(1, 0)).keep_alive is False


async def test_handler_runs_and_its_response_is_recorded() -> None:
    req = make_mocked_request("GET", "/?x=7", match_info={"name": "bob"})
    resp = await hello(req)
    assert resp.status == 200
    assert resp.text == "Hello, bob 7"
    await resp._finish(req)
    kind, (status, _reason, headers, body) = req.protocol.output[-1]
    assert (kind, status, body) == ("response", 200, b"Hello, bob 7")
    assert ("Content-Type", "text/plain; charset=utf-8") in headers


async def test_payload_is_the_body() -> None:
    req = make_mocked_request(
        "POST", "/", headers={"Content-Type": "application/json"}, payload=b'{"a": 1}'
    )
    assert req.body_exists
    assert await req.json() == {"a": 1}


async def test_client_max_size_applies() -> None:
    req = make_mocked_request("POST", "/", payload=b"x" * 10, client_max_size=5)
    with pytest.raises(web.HTTPRequestEntityTooLarge):
        await req.read()


async def test_client_max_size_applies_past_a_smaller_content_length() -> None:
    """A mocked payload is not held to its Content-Length as the parser holds a
    wire body: the limit still counts the bytes read."""
    req = make_mocked_request(
        "POST", "/", headers={"Content-Length": "3"}, payload=b"x" * 10, client_max_size=5
    )
    with pytest.raises(web.HTTPRequestEntityTooLarge):
        await req.read()
