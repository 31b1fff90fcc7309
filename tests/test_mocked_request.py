"""make_mocked_request: unit-testing a handler without a server, as with aiohttp."""

from __future__ import annotations

import ssl
from typing import Any
from unittest import mock

import aiohttp.web
import pytest
from aiohttp import streams
from aiohttp import test_utils as aiohttp_test_utils

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
    assert req.host == "127.0.0.1"  # no Host header is made up; the mocked sockname
    assert "Host" not in req.headers
    assert req.version == (1, 1)
    assert req.keep_alive is True
    assert req.remote is None  # the mocked transport has no peername
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


SSL_CONTEXT = ssl.create_default_context()
PEER = mock.Mock()
PEER_INFO = {"peername": ("10.0.0.7", 5555), "sockname": ("10.0.0.1", 8443)}
PEER.get_extra_info.side_effect = PEER_INFO.get

# each: the arguments for both helpers
SHAPES: list[tuple[tuple[str, str], dict[str, Any]]] = [
    (("GET", "/a?x=1"), {}),
    (("GET", "/"), {"headers": {"Host": "example.com:81", "X-A": "1"}}),
    (("POST", "/"), {"version": (1, 0)}),
    (("GET", "/"), {"closing": True}),
    (("GET", "/"), {"sslcontext": SSL_CONTEXT}),
    (("GET", "/"), {"transport": PEER}),
]
ATTRS = ["host", "url", "remote", "scheme", "secure", "keep_alive", "path_qs", "can_read_body"]


def observe(request: Any) -> dict[str, Any]:
    seen = {name: str(getattr(request, name)) for name in ATTRS}
    seen["headers"] = dict(request.headers)
    seen["transport_is_given"] = request.transport is PEER
    seen["sslcontext"] = request.transport.get_extra_info("sslcontext") is SSL_CONTEXT
    return seen


@pytest.mark.parametrize(("args", "kwargs"), SHAPES, ids=[str(i) for i in range(len(SHAPES))])
def test_the_request_looks_as_aiohttps_helper_makes_it(
    args: tuple[str, str], kwargs: dict[str, Any]
) -> None:
    if "version" in kwargs:
        aio_kwargs = {**kwargs, "version": aiohttp_test_utils.HttpVersion(*kwargs["version"])}
    else:
        aio_kwargs = kwargs
    theirs = aiohttp_test_utils.make_mocked_request(*args, **aio_kwargs)
    ours = make_mocked_request(*args, **kwargs)
    assert observe(ours) == observe(theirs)


async def test_a_stream_payload_is_the_content() -> None:
    stream = streams.StreamReader(mock.Mock(_reading_paused=False), 2**16)
    stream.feed_data(b"streamed body")
    stream.feed_eof()
    req = make_mocked_request("POST", "/", payload=stream)
    assert req.content is stream
    assert await req.read() == b"streamed body"


def test_the_stand_in_app_takes_string_keys_without_a_warning() -> None:
    import warnings

    req = make_mocked_request("GET", "/")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        req.app["a_field"] = "a_value"
    assert req.app["a_field"] == "a_value"
    assert isinstance(req.app, web.Application)
    with pytest.raises(AttributeError):
        req.app.foo  # noqa: B018
    app = web.Application()  # an app of the test's own warns as usual
    with pytest.warns(web.NotAppKeyWarning):
        make_mocked_request("GET", "/", app=app).app["a_field"] = 1


@pytest.mark.parametrize("response", [web.Response, web.StreamResponse])
async def test_a_response_can_be_prepared_for_a_request_without_an_app(
    response: type[web.StreamResponse],
) -> None:
    # aiohttp's stand-in app has a frozen on_response_prepare; a non-frozen one refuses
    aio_resp = aiohttp.web.Response() if response is web.Response else aiohttp.web.StreamResponse()
    await aio_resp.prepare(aiohttp_test_utils.make_mocked_request("GET", "/"))
    req = make_mocked_request("GET", "/")
    resp = response()
    await resp.prepare(req)
    assert resp.prepared
    assert req.app.on_response_prepare.frozen
    assert [kind for kind, _ in req.protocol.output][:1] in (["head"], ["response"])
