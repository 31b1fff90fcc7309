"""``await request.multipart()``: the streaming reader's API, the same handler on
Squall and on aiohttp where both can run it."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from typing import Any

import pytest

from framework._wire import exchange, same, serve
from squall import web as squall_web

from .conftest import field, file, multipart, post


def raw_deflate(data: bytes) -> bytes:
    """Raw deflate: what aiohttp's part reader expects for "deflate" (Squall reads
    zlib-wrapped deflate too)."""
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


def walk_app(w: Any) -> Any:
    """Every part: name, filename, headers, and what each reading method gives."""

    async def walk(request: Any) -> Any:
        reader = await request.multipart()
        out: list[Any] = []

        async def visit(r: Any, depth: int) -> None:
            async for part in r:
                if not hasattr(part, "read_chunk"):  # a nested MultipartReader
                    out.append(["nested", depth])
                    await visit(part, depth + 1)
                    continue
                how = part.headers.get("X-Read", "decode")
                if how == "decode":
                    value = (await part.read(decode=True)).decode("latin-1")
                elif how == "chunks":
                    chunks = []
                    while chunk := await part.read_chunk(8):
                        chunks.append(chunk.decode("latin-1"))
                    value = ["".join(chunks), max(map(len, chunks)) <= 8]
                elif how == "lines":
                    lines = []
                    while line := await part.readline():
                        lines.append(line.decode("latin-1"))
                    value = lines
                elif how == "text":
                    value = await part.text()
                elif how == "json":
                    value = await part.json()
                elif how == "form":
                    value = await part.form()
                else:  # "skip": left unread, next() must drop it
                    value = None
                out.append([depth, part.name, part.filename, value, part.at_eof()])

        await visit(reader, 0)
        out.append(["reader at eof", reader.at_eof()])
        return w.json_response(out)

    app = w.Application()
    app.router.add_post("/walk", walk)
    return app


NESTED = multipart(
    [
        ([("Content-Type", "text/plain")], b"inner one"),
        ([("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], gzip.compress(b"zipped")),
        (
            [("Content-Type", "text/plain"), ("Content-Encoding", "deflate")],
            raw_deflate(b"deflated"),
        ),
    ],
    boundary="inner",
)

CASES = {
    "transfer-encodings": multipart(
        [
            field(
                "b64",
                base64.encodebytes(b"\x00\xffbase64 " * 30),
                Content_Transfer_Encoding="base64",
            ),
            field(
                "qp",
                binascii.b2a_qp("é=quoted printable ".encode() * 10),
                Content_Transfer_Encoding="quoted-printable",
            ),
            field("plain", b"as is", Content_Transfer_Encoding="8bit"),
        ]
    ),
    "reading-methods": multipart(
        [
            field("c", b"0123456789" * 3, X_Read="chunks"),
            field("l", b"one\r\ntwo\nthree", X_Read="lines"),
            field(
                "t",
                "é".encode("latin-1"),
                X_Read="text",
                Content_Type="text/plain; charset=latin-1",
            ),
            field("j", b'{"a": [1, 2]}', X_Read="json", Content_Type="application/json"),
            field("e", b"", X_Read="json"),
            field("f", b"a=1&b=%C3%A9&a=", X_Read="form"),
            field("s", b"skipped " * 5000, X_Read="skip"),
            file("after", "after.txt", b"still read"),
        ]
    ),
    "nested-mixed": multipart(
        [
            field("first", b"1"),
            (
                [
                    ("Content-Disposition", 'form-data; name="files"'),
                    ("Content-Type", "multipart/mixed; boundary=inner"),
                ],
                NESTED,
            ),
            field("last", b"2"),
        ]
    ),
    "empty": b"--XyZ--\r\n",
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
async def test_same_as_aiohttp(case: str) -> None:
    reply = await same(walk_app, post("/walk", CASES[case]))
    got = reply.json()
    assert got[-1] == ["reader at eof", True]
    if case == "transfer-encodings":
        assert got[0][3] == ("\x00\xffbase64 " * 30)
        assert got[1][3] == ("é=quoted printable ".encode() * 10).decode("latin-1")
    if case == "nested-mixed":
        values = [row[3] for row in got if row[0] == 1]
        assert values == ["inner one", "zipped", "deflated"]
    if case == "reading-methods":
        assert got[0][3] == ["0123456789" * 3, True]
        assert got[1][3] == ["one\r\n", "two\n", "three"]
        assert got[7][3] == "still read"


async def test_reading_after_the_end_and_release() -> None:
    """next() after the end stays None; a part read again gives b""; release() drains."""

    def app_factory(w: Any) -> Any:
        async def handler(request: Any) -> Any:
            reader = await request.multipart()
            part = await reader.next()
            first = await part.read()
            again = await part.read_chunk()
            part2 = await reader.next()
            await part2.release()
            await reader.release()
            end = [await reader.next(), await reader.next()]
            return w.json_response([first.decode(), again.decode(), part2.at_eof(), end])

        app = w.Application()
        app.router.add_post("/r", handler)
        return app

    body = multipart([field("a", b"x"), field("b", b"y" * 100000), field("c", b"z")])
    reply = await same(app_factory, post("/r", body))
    assert reply.json() == ["x", "", True, [None, None]]


async def test_part_read_is_bounded_by_client_max_size_but_read_chunk_is_not() -> None:
    def app_factory(w: Any) -> Any:
        async def whole(request: Any) -> Any:
            part = await (await request.multipart()).next()
            return w.Response(text=str(len(await part.read())))

        async def chunks(request: Any) -> Any:
            part = await (await request.multipart()).next()
            size = 0
            while chunk := await part.read_chunk():
                size += len(chunk)
            return w.Response(text=str(size))

        app = w.Application(client_max_size=1000)
        app.router.add_post("/whole", whole)
        app.router.add_post("/chunks", chunks)
        return app

    body = multipart([file("f", "f", b"q" * 5000)])
    async with serve(squall_web, app_factory) as port:
        refused = await exchange(port, post("/whole", body))
        streamed = await exchange(port, post("/chunks", body))
    assert refused.status == 413 and refused.body == b"Maximum request body size 1000 exceeded."
    assert streamed.body == b"5000"


async def test_expect_continue_is_answered_by_the_reader() -> None:
    import asyncio

    def app_factory(w: Any) -> Any:
        async def handler(request: Any) -> Any:
            reader = await request.multipart()
            part = await reader.next()
            return w.Response(text=(await part.text()))

        app = w.Application()
        app.router.add_post("/c", handler)
        return app

    body = multipart([field("a", b"hello")])
    head = (
        post("/c", body, headers=[("Expect", "100-continue")]).split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    )
    async with serve(squall_web, app_factory) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head)
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(body)
        final = await asyncio.wait_for(reader.read(1000), 5)
        writer.close()
    assert final.startswith(b"HTTP/1.1 200") and final.endswith(b"hello")


async def test_bad_json_and_bad_text_are_400() -> None:
    async with serve(squall_web, walk_app) as port:
        bad_json = await exchange(
            port, post("/walk", multipart([field("j", b"{nope", X_Read="json")]))
        )
        bad_text = await exchange(
            port, post("/walk", multipart([field("t", b"\xff", X_Read="text")]))
        )
        bad_b64 = await exchange(
            port,
            post("/walk", multipart([field("b", b"a===b", Content_Transfer_Encoding="base64")])),
        )
    assert (bad_json.status, bad_json.body) == (400, b"Invalid JSON in a part")
    assert (bad_text.status, bad_text.body) == (400, b"Part is not valid text")
    assert bad_b64.status == 400
    assert json.loads(b"[]") == []
