"""The part and multipart readers against aiohttp 3.14's, case by case from its
tests/test_multipart.py (TestPartReader, TestMultipartReader).

aiohttp's tests feed a reader from a mocked stream; here the same part goes to
``request.multipart()`` on both servers over a socket, the handler runs a list of
reader operations, and the two JSON traces must be equal. An exception is traced
as the broad class a handler would catch (aiohttp's are a 500 uncaught, Squall's
the same classes and a 400).
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from typing import Any

import pytest

from squall import web as squall_web

from ._wire import build, exchange, same, serve

Part = tuple[dict[str, str], bytes]


def _caught(exc: Exception) -> str:
    for kind in (UnicodeDecodeError, LookupError, ValueError):
        if isinstance(exc, kind):
            return kind.__name__
    return type(exc).__name__


async def _run(part: Any, reader: Any, op: str, args: list[Any]) -> Any:
    if op == "next_part":
        found = await reader.next()
        return found, None if found is None else type(found).__name__
    if op == "reader_at_eof":
        return part, reader.at_eof()
    if op == "reader_release":
        await reader.release()
        return part, "released"
    if op == "read":
        return part, (await part.read(decode=bool(args))).decode("latin-1")
    if op == "next":
        data = await part.next()
        return part, None if data is None else data.decode("latin-1")
    if op == "chunk":
        return part, (await part.read_chunk(*args)).decode("latin-1")
    if op == "readline":
        return part, (await part.readline()).decode("latin-1")
    if op in ("text", "json", "form"):
        kwargs = {"encoding": args[0]} if args else {}
        value = await getattr(part, op)(**kwargs)
        return part, [list(pair) for pair in value] if op == "form" else value
    if op == "release":
        await part.release()
        return part, "released"
    if op == "at_eof":
        return part, part.at_eof()
    if op == "attrs":
        return part, [part.name, part.filename, part.get_charset("default")]
    if op == "decode":
        return part, part.decode(args[0].encode("latin-1")).decode("latin-1")
    if op == "decode_iter":
        chunks = [data async for data in part.decode_iter(args[0].encode("latin-1"))]
        return part, b"".join(chunks).decode("latin-1")
    if op == "iter_part":
        return part, [data.decode("latin-1") async for data in part]
    raise AssertionError(op)


def reader_app(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        trace: list[Any] = []
        part = None
        try:
            reader = await request.multipart()
            for op, *args in json.loads(request.headers["X-Ops"]):
                part, value = await _run(part, reader, op, args)
                trace.append(value)
        except Exception as exc:  # traced: the handler answers what it caught
            trace.append(["raised", _caught(exc)])
        return web.json_response(trace)

    app = web.Application()
    app.router.add_post("/", handler)
    return app


def multipart(parts: list[Part], subtype: str = "mixed", preamble: bytes = b"") -> bytes:
    body = preamble
    for headers, data in parts:
        body += b"--:\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
        body += b"\r\n" + data + b"\r\n"
    return body + b"--:--\r\n"


def request(parts: list[Part], ops: list[list[Any]], **kwargs: Any) -> bytes:
    subtype = kwargs.pop("subtype", "mixed")
    return build(
        "POST",
        "/",
        headers=[
            ("Content-Type", f'multipart/{subtype}; boundary=":"'),
            ("X-Ops", json.dumps(ops)),
        ],
        body=multipart(parts, subtype, **kwargs),
    )


GZ = gzip.compress(b"Time to Relax!")
CP1251 = {"Content-Type": "text/plain;charset=cp1251"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
FIRST = ["next_part"]

CASES: dict[str, tuple[list[Part], list[list[Any]]]] = {
    "next, next": ([({}, b"Hello, world!")], [FIRST, ["next"], ["at_eof"], ["next"]]),
    "read, read": ([({}, b"Hello\n,\r\nworld!")], [FIRST, ["read"], ["read"], ["at_eof"]]),
    "read_chunk(8)": ([({}, b"Hello, world!")], [FIRST, *[["chunk", 8]] * 3, ["at_eof"]]),
    "read_chunk()": ([({}, b"Hello, world!")], [FIRST, ["chunk"], ["chunk"], ["at_eof"]]),
    "readline": ([({}, b"Hello\n,\r\nworld!\n\nx")], [FIRST, *[["readline"]] * 6, ["at_eof"]]),
    "gzip": ([({"Content-Encoding": "gzip"}, GZ)], [FIRST, ["read", True]]),
    "gzip text": ([({"Content-Encoding": "gzip"}, GZ)], [FIRST, ["text"]]),
    "raw deflate": (
        [({"Content-Encoding": "deflate"}, zlib.compress(b"A" * 1000)[2:-4])],
        [FIRST, ["read", True]],
    ),
    "identity": ([({"Content-Encoding": "identity"}, GZ)], [FIRST, ["read", True]]),
    "base64": (
        [({"Content-Transfer-Encoding": "base64"}, base64.b64encode(b"Time to Relax!"))],
        [FIRST, ["read", True]],
    ),
    "decode base64": (
        [({"Content-Transfer-Encoding": "base64"}, b"x")],
        [FIRST, ["decode", "VGltZSB0byBSZWxheCE="], ["decode_iter", "VGltZSB0byBSZWxheCE="]],
    ),
    "quoted-printable": (
        [({"Content-Transfer-Encoding": "quoted-printable"}, b"=D0=9F=D1=80, =D0=BC!")],
        [FIRST, ["read", True]],
    ),
    "binary": ([({"Content-Transfer-Encoding": "binary"}, b"\x00\x01")], [FIRST, ["read", True]]),
    "text": ([({}, b"Hello, world!")], [FIRST, ["text"]]),
    "text charset": ([(CP1251, "Привет".encode("cp1251"))], [FIRST, ["text"]]),
    "text encoding=": ([({}, "Привет".encode("cp1251"))], [FIRST, ["text", "cp1251"]]),
    "text not utf-8": ([({}, b"\xff\xfe")], [FIRST, ["text"]]),
    "text unknown charset": (
        [({"Content-Type": "text/plain;charset=nope"}, b"a")],
        [FIRST, ["text"]],
    ),
    "text after read": ([({}, b"abc")], [FIRST, ["read"], ["text"]]),
    "json": ([({"Content-Type": "application/json"}, b'{"test": "passed"}')], [FIRST, ["json"]]),
    "json charset": (
        [({"Content-Type": "application/json; charset=cp1251"}, '{"т": "п"}'.encode("cp1251"))],
        [FIRST, ["json"]],
    ),
    "json encoding=": ([({}, '{"т": "п"}'.encode("cp1251"))], [FIRST, ["json", "cp1251"]]),
    "json empty": ([({}, b"")], [FIRST, ["json"]]),
    "json invalid": ([({}, b"{")], [FIRST, ["json"]]),
    "form": ([(FORM, b"foo=bar&foo=baz&boo=")], [FIRST, ["form"]]),
    "form not utf-8": ([(FORM, b"\xff\xfe\xfd")], [FIRST, ["form"]]),
    "form encoding=": ([({}, "foo=\u0436".encode("cp1251"))], [FIRST, ["form", "cp1251"]]),
    "release": (
        [({}, b"Hello"), ({}, b"world!")],
        [FIRST, ["release"], ["at_eof"], ["read"], FIRST, ["read"], ["release"], ["release"]],
    ),
    "filename": (
        [({"Content-Disposition": "attachment; filename=foo.html"}, b"x")],
        [FIRST, ["attrs"]],
    ),
    "name, filename*": (
        [({"Content-Disposition": "form-data; name=\"a b\"; filename*=utf-8''%D1%82"}, b"x")],
        [FIRST, ["attrs"]],
    ),
    "long part": ([({}, b"0" * (2**17 + 5))], [FIRST, ["read"], ["at_eof"]]),
    "async for part": ([({}, b"abc")], [FIRST, ["iter_part"]]),
    "two parts": (
        [({}, b"a"), ({}, b"b")],
        [FIRST, ["read"], FIRST, ["read"], FIRST, ["reader_at_eof"], FIRST],
    ),
    "empty part": ([({}, b"")], [FIRST, ["read"], ["at_eof"], FIRST]),
    "headers only": ([({"Content-Type": "text/plain"}, b"")], [FIRST, ["read"], FIRST]),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_part_reader_as_aiohttp(case: str) -> None:
    parts, ops = CASES[case]
    await same(reader_app, request(parts, ops))


async def test_a_preamble_is_skipped_as_aiohttp() -> None:
    ops = [FIRST, ["read"]]
    await same(reader_app, request([({}, b"a")], ops, preamble=b"Not multipart.\r\n\r\n"))


async def test_form_data_charset_field_as_aiohttp() -> None:
    parts: list[Part] = [
        ({"Content-Disposition": "form-data; name=_charset_"}, b"cp1251"),
        ({"Content-Disposition": "form-data; name=a"}, "ж".encode("cp1251")),
    ]
    ops = [FIRST, ["read"], FIRST, ["attrs"], ["text"]]
    await same(reader_app, request(parts, ops, subtype="form-data"))


@pytest.mark.parametrize(
    ("data", "headers", "status_text"),
    [
        (b"\xff", {}, (400, b"Part is not valid text")),
        (b"a", {"Content-Type": "text/plain;charset=nope"}, (400, b"Unsupported charset")),
    ],
)
async def test_text_errors_uncaught_are_400(
    data: bytes, headers: dict[str, str], status_text: tuple[int, bytes]
) -> None:
    """Caught they are aiohttp's UnicodeDecodeError and LookupError (above);
    uncaught, Squall answers 400 where aiohttp answers 500."""

    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            part = await (await request.multipart()).next()
            return web.Response(text=await part.text())

        app = web.Application()
        app.router.add_post("/", handler)
        return app

    body = multipart([(headers, data)])
    data_ = build("POST", "/", headers=[("Content-Type", "multipart/mixed; boundary=:")], body=body)
    async with serve(squall_web, factory) as port:
        reply = await exchange(port, data_)
    assert (reply.status, reply.body) == status_text


def value_types(web: Any) -> Any:
    async def handler(request: Any) -> Any:
        if request.path == "/post":
            form = await request.post()
            return web.json_response({k: type(v).__name__ for k, v in form.items()})
        reader = await request.multipart()
        out = []
        while (part := await reader.next()) is not None:
            first = await part.read(decode=request.query.get("decode") == "1")
            out.append([type(first).__name__, len(first), type(await part.read()).__name__])
        return web.json_response(out)

    app = web.Application()
    app.router.add_post("/{how}", handler)
    return app


@pytest.mark.parametrize("target", ["/read", "/read?decode=1", "/post"])
async def test_read_and_post_values_are_bytearrays_as_aiohttp(target: str) -> None:
    """A part's read() is a bytearray (b"" once at its end), and so is a non-text
    field of post(): Squall gave bytes."""
    parts: list[Part] = [
        ({"Content-Disposition": "form-data; name=a"}, b"abc"),
        ({"Content-Disposition": "form-data; name=e", "Content-Type": "application/x"}, b""),
        ({"Content-Disposition": "form-data; name=b", "Content-Type": "application/x"}, b"\x00"),
        (
            {"Content-Disposition": "form-data; name=c", "Content-Transfer-Encoding": "base64"},
            b"YWJj",
        ),
    ]
    body = multipart(parts, "form-data")
    data = build(
        "POST", target, headers=[("Content-Type", 'multipart/form-data; boundary=":"')], body=body
    )
    await same(value_types, data)


RELATED = 'multipart/related;boundary=":"'
FORM_DATA = 'multipart/form-data;boundary=":"'
RAW: dict[str, tuple[bytes, str, list[list[Any]]]] = {
    "invalid boundary": (b"---:\r\n\r\necho\r\n---:--", RELATED, [FIRST]),
    "no final CRLF": (
        b"--:\r\n\r\nx\r\n--:--",
        RELATED,
        [FIRST, ["read"], FIRST, ["reader_at_eof"]],
    ),
    "part Content-Length": (
        b"--:\r\nContent-Length: 4\r\n\r\ntest\r\n--:\r\nContent-Length: 6\r\n\r\npassed\r\n--:--",
        RELATED,
        [FIRST, *[["chunk", 3]] * 2, ["at_eof"], FIRST, *[["chunk", 3]] * 3, ["at_eof"], FIRST],
    ),
    "read_chunk(5)": (
        b"--:\r\n\r\nchunk\r\n--:\r\n\r\ntwo_chunks\r\n--:--",
        RELATED,
        [FIRST, ["chunk", 5], ["at_eof"], FIRST, *[["chunk", 5], ["at_eof"]] * 2],
    ),
    "prelude": (
        b"Not multipart.\r\n\r\n--:\r\n\r\ntest\r\n--:\r\n\r\npassed\r\n--:--",
        RELATED,
        [FIRST, FIRST, ["at_eof"]],
    ),
    "_charset_ default": (
        b'--:\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\nascii\r\n'
        b'--:\r\nContent-Disposition: form-data; name="field1"\r\n\r\nfoo\r\n'
        b"--:\r\nContent-Type: text/plain;charset=UTF-8\r\n"
        b'Content-Disposition: form-data; name="field2"\r\n\r\nfoo\r\n'
        b'--:\r\nContent-Disposition: form-data; name="field3"\r\n\r\nfoo\r\n--:--\r\n',
        FORM_DATA,
        [FIRST, ["attrs"], FIRST, ["attrs"], FIRST, ["attrs"]],
    ),
    "release, next": (
        b"--:\r\n\r\nHello\r\n--:\r\n\r\nworld\r\n--:--",
        RELATED,
        [["reader_release"], FIRST],
    ),
    "next releases the part before": (
        b"--:\r\n\r\nHello,\r\n--:\r\n\r\nworld\r\n--:--",
        RELATED,
        [FIRST, FIRST, ["read"]],
    ),
}


@pytest.mark.parametrize("case", list(RAW))
async def test_multipart_reader_as_aiohttp(case: str) -> None:
    body, content_type, ops = RAW[case]
    data = build(
        "POST", "/", headers=[("Content-Type", content_type), ("X-Ops", json.dumps(ops))], body=body
    )
    await same(reader_app, data)
