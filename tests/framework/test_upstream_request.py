"""Request behaviours aiohttp 3.14's own tests (test_web_request.py,
test_web_functional.py) showed Squall answering differently.

Each test runs one handler on Squall and on aiohttp through a real socket: either
``same(...)`` compares the whole replies, or ``webmod`` runs the test on both and
the aiohttp run checks the expectation.
"""

from __future__ import annotations

import asyncio
import gzip
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web as squall_web

from ._wire import build, exchange, same, serve


def one_route(handler_for: Any) -> Any:
    def factory(web: Any) -> Any:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler_for(web))
        return app

    return factory


# -- request.host without a Host header --------------------------------------------------


def host_and_url(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        return web.json_response({"host": request.host, "url": str(request.url)})

    return handler


async def test_host_without_a_host_header_is_the_local_address_alone() -> None:
    """Upstream test_host_falls_back_to_sockname_not_dns: Squall said
    ``127.0.0.1:<port>`` (and put the port in ``request.url``)."""
    reply = await same(one_route(host_and_url), build("GET", "/p", host=None, version="1.0"))
    assert reply.json() == {"host": "127.0.0.1", "url": "http://127.0.0.1/p"}


# -- clone() ---------------------------------------------------------------------------


def clone_state(web: Any) -> Any:
    key = web.RequestKey("key", str)

    async def handler(request: Any) -> Any:
        request[key] = "val"
        copy = request.clone()
        copy[key] = "val2"
        return web.json_response([request[key], copy[key], len(request), len(copy)])

    return handler


async def test_a_clone_has_its_own_copy_of_the_request_mapping() -> None:
    """Upstream test_save_state_on_clone: Squall's clone shared the mapping."""
    reply = await same(one_route(clone_state), build("GET", "/"))
    assert reply.json() == ["val", "val2", 1, 1]


def clone_after_read(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        await request.read()
        try:
            request.clone()
        except RuntimeError as exc:
            return web.Response(text=f"RuntimeError: {exc}")
        return web.Response(text="cloned")

    return handler


async def test_a_request_whose_body_was_read_cannot_be_cloned() -> None:
    """Upstream test_cannot_clone_after_read: Squall cloned it."""
    reply = await same(one_route(clone_after_read), build("POST", "/", body=b"data"))
    assert reply.body == b"RuntimeError: Cannot clone request after reading its content"
    # an empty body read is no content: aiohttp clones then, and so does Squall
    reply = await same(one_route(clone_after_read), build("POST", "/", body=b""))
    assert reply.body == b"cloned"


def clones(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        out = []
        for kwargs in (
            {"host": "foo.test"},
            {"headers": {"Host": "other.test"}},
            {"headers": {"X": "no host"}},
            {"scheme": "https", "host": "foo.test"},
        ):
            copy = request.clone(**kwargs)
            out.append([copy.host, str(copy.url)])
        return web.json_response(out)

    return handler


@pytest.mark.parametrize(
    "target", ["/a?b=1", "http://ex.org:81/a?b=1"], ids=["origin-form", "absolute-form"]
)
async def test_clone_host_and_headers_as_aiohttp(target: str) -> None:
    """Upstream test_clone_absolute_host: on an absolute-form request Squall's
    ``clone(host=...)`` kept the old authority in ``url``, a new ``Host`` header
    overrode the target's authority, and headers without ``Host`` kept the old one."""
    reply = await same(one_route(clones), build("GET", target, version="1.0"))
    assert reply.json()[0][0] == "foo.test"


# -- repr, http_range, loop ------------------------------------------------------------


def request_repr(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        return web.Response(text=repr(request))

    return handler


async def test_repr_shows_the_decoded_path_in_ascii() -> None:
    """Upstream test___repr___non_ascii_path: Squall showed the raw target."""
    reply = await same(one_route(request_repr), build("GET", "/p%C3%A9%20x/%F0%9F%90%95?q=1"))
    assert reply.body == b"<Request GET /p\\xe9 x/\\U0001f415 >"


def range_message(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        try:
            return web.Response(text=repr(request.http_range))
        except ValueError as exc:
            return web.Response(text=f"ValueError: {exc}")

    return handler


@pytest.mark.parametrize("value", ["bytes=4-\u096b", "bytes=x", "bytes=-", "bytes=9-2"])
async def test_a_bad_range_is_a_value_error_with_aiohttps_message(value: str) -> None:
    """Upstream test_range_non_ascii: str() of Squall's RangeError was the 416 reason."""
    data = build("GET", "/", headers=[("Range", "@")]).replace(b"@", value.encode())
    reply = await same(one_route(range_message), data)
    assert reply.body.startswith(b"ValueError: ")


def loop_property(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            same_loop = request.loop is asyncio.get_running_loop()
        return web.json_response([same_loop, [str(w.message) for w in caught]])

    return handler


async def test_the_deprecated_loop_property() -> None:
    """Upstream test_loop_prop: Squall had no ``request.loop``."""
    reply = await same(one_route(loop_property), build("GET", "/"))
    assert reply.json() == [True, ["request.loop property is deprecated"]]


# -- form errors are ValueErrors -------------------------------------------------------


def catching_post(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        try:
            await (request.text() if request.path == "/text" else request.post())
        except ValueError:
            return web.Response(text="ValueError")
        return web.Response(text="read")

    return handler


BOUNDARY = "b0undary"
MULTIPART = [("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")]


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        pytest.param(
            "/",
            MULTIPART,
            f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--{BOUNDARY}--\r\n",
            id="part-without-name",
        ),
        pytest.param(
            "/",
            MULTIPART,
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n",
            id="no-closing-boundary",
        ),
        pytest.param("/text", [], b"caf\xe9", id="text-not-utf8"),
    ],
)
async def test_a_body_post_or_text_cannot_read_is_a_value_error(
    webmod: Any, path: str, headers: list[tuple[str, str]], body: str | bytes
) -> None:
    """Upstream test_multipart_formdata_field_missing_name: aiohttp raises a
    ValueError (a 500 uncaught, a 400 on Squall); Squall's 400 was no ValueError."""
    data = build(
        "POST", path, headers=headers, body=body if isinstance(body, bytes) else body.encode()
    )
    async with serve(webmod, one_route(catching_post)) as port:
        reply = await exchange(port, data)
    assert reply.body == b"ValueError"


async def test_uncaught_they_are_still_a_400() -> None:
    def posting(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            await request.post()
            return web.Response(text="read")

        return handler

    body = f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--{BOUNDARY}--\r\n"
    async with serve(squall_web, one_route(posting)) as port:
        reply = await exchange(port, build("POST", "/", headers=MULTIPART, body=body.encode()))
    assert (reply.status, reply.body) == (400, b"Multipart field missing name")


# -- RequestKey ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.RequestKey("key", int),
        lambda m: m.RequestKey("key", m.Request),
        lambda m: m.RequestKey("key", Iterator[int]),
        lambda m: m.RequestKey[Iterator[int]]("key"),
        lambda m: m.RequestKey("key"),
    ],
)
def test_request_key_repr_as_aiohttp(make: Any) -> None:
    """Upstream test_requestkey_repr_*: Squall's repr was ``<RequestKey('key')>``."""
    theirs = repr(make(aiohttp_web)).replace("aiohttp.web_request.", "squall.framework.request.")
    assert repr(make(squall_web)) == theirs


@pytest.mark.parametrize("m", [squall_web, aiohttp_web], ids=["squall", "aiohttp"])
def test_request_keys_order_by_module_and_name_before_other_keys(m: Any) -> None:
    a, b = m.RequestKey("a", int), m.RequestKey("b", int)
    assert (a < b, b < a, a < "s") == (True, False, True)
    assert sorted([b, a]) == [a, b]


# -- request.content: the rest of aiohttp's StreamReader reading API ---------------------


def stream_api(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        content = request.content
        limits = [list(content.get_read_buffer_limits())]
        content.set_read_chunk_size(100_000)
        limits.append(list(content.get_read_buffer_limits()))
        chunks = [[len(data), end] async for data, end in content.iter_chunks()]
        return web.json_response(
            {
                "limits": limits,
                "chunks": sum(size for size, _ in chunks),
                "ends": sorted({end for _, end in chunks}),
                "exception": content.exception(),
                "totals": [
                    content.total_bytes,
                    content.total_raw_bytes,
                    content.total_compressed_bytes,
                ],
            }
        )

    return handler


@pytest.mark.parametrize("bufsize", [None, 2])
async def test_stream_reader_limits_chunks_and_totals(bufsize: int | None) -> None:
    """Upstream test_read_bufsize: ``get_read_buffer_limits()`` was missing, with
    ``iter_chunks()``, ``set_read_chunk_size()``, ``exception()`` and the totals."""

    def factory(web: Any) -> Any:
        args = {} if bufsize is None else {"handler_args": {"read_bufsize": bufsize}}
        app = web.Application(**args)
        app.router.add_post("/", stream_api(web))
        return app

    body = b"x" * 70_000
    reply = await same(factory, build("POST", "/", body=body))
    low = 2**18 if bufsize is None else bufsize
    raised = max(low, 100_000)
    assert reply.json()["limits"] == [[low, 2 * low], [raised, 2 * raised]]
    assert reply.json()["totals"] == [70_000, 70_000, None]


async def test_stream_reader_totals_of_a_compressed_body() -> None:
    """After the read: decompressed bytes, and the bytes as sent (aiohttp counts
    the decompressed ones as they arrive, Squall as the handler reads them)."""

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            content = request.content
            size = len(await content.read())
            totals = [content.total_bytes, content.total_raw_bytes, content.total_compressed_bytes]
            return web.json_response([size, *totals])

        app = web.Application()
        app.router.add_post("/", handler)
        return app

    body = gzip.compress(b"a" * 100_000)
    data = build("POST", "/", headers=[("Content-Encoding", "gzip")], body=body)
    reply = await same(factory, data)
    assert reply.json() == [100_000, 100_000, len(body), len(body)]


# -- post() on a body of unknown length (make_mocked_request with a stream) -------------


class _Stream:
    """A stream payload, as a unit test hands make_mocked_request one."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def at_eof(self) -> bool:
        return not self._data

    async def read(self, n: int = -1) -> bytes:
        n = len(self._data) if n < 0 else n
        data, self._data = self._data[:n], self._data[n:]
        return data

    async def readany(self) -> bytes:
        return await self.read()


async def test_post_reads_a_body_of_unknown_length() -> None:
    """Upstream test_multipart_formdata: with neither Content-Length nor chunked in
    the head, Squall's post() took the body for absent and answered {}."""
    from squall.testing import make_mocked_request

    body = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--{BOUNDARY}--\r\n"
    ).encode()
    headers = dict(MULTIPART)
    request = make_mocked_request("POST", "/", headers=headers, payload=_Stream(body))
    assert dict(await request.post()) == {"a": "b"}
    request = make_mocked_request("POST", "/", headers=headers, payload=_Stream(b""))
    assert dict(await request.post()) == {}


def read_then_post(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        raw = await request.read()
        return web.json_response([raw.decode(), dict(await request.post())])

    return handler


async def test_post_after_read_parses_the_bytes_read() -> None:
    data = build(
        "POST",
        "/",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"a=1&b=2",
    )
    reply = await same(one_route(read_then_post), data)
    assert reply.json() == ["a=1&b=2", {"a": "1", "b": "2"}]


def text_errors(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        try:
            await request.text()
        except UnicodeDecodeError as exc:
            return web.Response(text=f"UnicodeDecodeError {exc.encoding} {exc.start}")
        except LookupError:
            return web.Response(text="LookupError")
        return web.Response(text="read")

    return handler


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/plain", b"ab\xff", b"UnicodeDecodeError utf-8 2"),
        ("text/plain; charset=nope", b"ab", b"LookupError"),
    ],
)
async def test_text_raises_what_aiohttp_raises(
    content_type: str, body: bytes, expected: bytes
) -> None:
    """request.text() on bytes its charset cannot decode: aiohttp's
    UnicodeDecodeError or LookupError when caught (Squall: a 400 uncaught)."""
    data = build("POST", "/", headers=[("Content-Type", content_type)], body=body)
    reply = await same(one_route(text_errors), data)
    assert reply.body == expected


# -- client_max_fields, POST_METHODS ---------------------------------------------------


def max_fields(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        out: list[Any] = [request.client_max_fields]
        copy = request.clone(client_max_fields=2)
        out.append(copy.client_max_fields)
        try:
            await copy.post()
        except web.HTTPRequestEntityTooLarge as exc:
            out.append([exc.status, exc.text])
        return web.json_response(out)

    return handler


async def test_client_max_fields_and_clone() -> None:
    """aiohttp 3.14's request.client_max_fields and clone(client_max_fields=...):
    Squall had neither (clone raised TypeError)."""
    data = build(
        "POST",
        "/",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"a=1&b=2&c=3",
    )
    reply = await same(one_route(max_fields), data)
    assert reply.json()[:2] == [1000, 2]


def test_post_methods_as_aiohttp() -> None:
    assert squall_web.BaseRequest.POST_METHODS == aiohttp_web.BaseRequest.POST_METHODS


# -- request.message (deprecated) ------------------------------------------------------


def message_fields(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            message = request.message
        return web.json_response(
            {
                "warned": [str(w.message) for w in caught],
                "method": message.method,
                "path": message.path,
                "version": list(message.version),
                "headers": list(message.headers.items()),
                "raw_headers": [[k.decode(), v.decode()] for k, v in message.raw_headers],
                "should_close": message.should_close,
                "compression": message.compression,
                "upgrade": message.upgrade,
                "chunked": message.chunked,
                "url": str(message.url),
            }
        )

    return handler


@pytest.mark.parametrize(
    "data",
    [
        build("GET", "/a%20b?x=1", version="1.0"),
        build("GET", "http://ex.org/p?q", headers=[("Connection", "close")]),
        build("POST", "/", headers=[("Content-Encoding", "GZIP")], body=b""),
        build("POST", "/", headers=[("Content-Encoding", "identity")], body=b""),
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        build("GET", "/", headers=[("Connection", "Upgrade"), ("Upgrade", "websocket")]),
    ],
    ids=["http10", "absolute-close", "gzip", "identity", "chunked", "upgrade"],
)
async def test_the_deprecated_message(data: bytes) -> None:
    """Upstream test_deprecated_message: Squall had no ``request.message``. (After
    an upgrade request nobody took Squall closes: the bodies alone are compared.)"""
    replies = []
    for webmod in (squall_web, aiohttp_web):
        async with serve(webmod, one_route(message_fields)) as port:
            replies.append(await exchange(port, data))
    ours, theirs = replies
    assert ours.body == theirs.body
    assert ours.json()["warned"] == ["Request.message is deprecated"]


# -- handler_args={"auto_decompress": False} -------------------------------------------


@pytest.mark.parametrize("auto_decompress", [True, False])
async def test_auto_decompress_in_handler_args(auto_decompress: bool) -> None:
    """Upstream test_auto_decompress: Squall decompressed whatever the app said."""

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            data = await request.read()
            return web.json_response([len(data), len(await request.content.read())])

        app = web.Application(handler_args={"auto_decompress": auto_decompress})
        app.router.add_post("/", handler)
        return app

    plain = b"data" * 100
    body = gzip.compress(plain)
    data = build("POST", "/", headers=[("Content-Encoding", "gzip")], body=body)
    reply = await same(factory, data)
    assert reply.json() == [len(plain) if auto_decompress else len(body), 0]
