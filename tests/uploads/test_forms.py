"""``await request.post()``: url-encoded and multipart forms, file parts as FileField,
client_max_size as aiohttp applies it; the same handler on Squall and on aiohttp."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web as aiohttp_web

from framework._wire import exchange, render, run_on, same, serve
from squall import web as squall_web

from .conftest import field, file, multipart, post


async def same_answer(factory: Any, data: bytes) -> Any:
    """As ``same``, but what the connection does after is not compared: Squall
    closes after answering a body it did not read (docs/compat.md), aiohttp drains it."""
    theirs = await run_on(aiohttp_web, factory, data)
    ours = await run_on(squall_web, factory, data)
    strip = [("Connection", "close")]
    a = (ours.status_line, [h for h in ours.headers if h not in strip], ours.body)
    b = (theirs.status_line, [h for h in theirs.headers if h not in strip], theirs.body)
    assert a == b, f"\nsquall:  {render(ours)}\naiohttp: {render(theirs)}"
    return ours


def form_app(w: Any, **app_kw: Any) -> Any:
    async def echo(request: Any) -> Any:
        data = await request.post()
        out = []
        for key, value in data.items():
            if isinstance(value, str):
                out.append([key, "str", value])
            elif isinstance(value, (bytes, bytearray)):
                out.append([key, "bytes", bytes(value).decode("latin-1")])
            else:  # a FileField
                body = value.file.read()
                out.append(
                    [
                        key,
                        "file",
                        value.name,
                        value.filename,
                        value.content_type,
                        body.decode("latin-1"),
                        value.headers.get("Content-Disposition"),
                    ]
                )
        return w.json_response(out)

    app = w.Application(**app_kw)
    app.router.add_route("*", "/form", echo)
    return app


CASES = {
    "urlencoded": post(
        "/form", b"a=1&b=%C3%A9&a=2&empty=&sp=a+b\r\n", "application/x-www-form-urlencoded"
    ),
    "urlencoded-latin1": post(
        "/form", b"a=%E9", "application/x-www-form-urlencoded; charset=latin-1"
    ),
    "multipart-fields-and-files": post(
        "/form",
        multipart(
            [
                field("a", b"1"),
                file("up", "r\xe9sum\xe9.txt", b"\x00\x01binary\r\n--XY-not\r\n"),
                field("a", b"2"),
                field("b", "é".encode()),
                file("up", "two.bin", b"", "image/png"),
                field("raw", b"\xff\xfe", Content_Type="application/octet-stream"),
                field("lat", "é".encode("latin-1"), Content_Type="text/plain; charset=latin-1"),
            ]
        ),
    ),
    "multipart-preamble-epilogue": post(
        "/form", b"ignored preamble\r\n" + multipart([field("a", b"1")]) + b"epilogue\r\n"
    ),
    "chunked-multipart": post(
        "/form",
        b"16\r\n"
        + multipart([field("a", b"1")])[:22]
        + b"\r\n"
        + hex(len(multipart([field("a", b"1")])[22:]))[2:].encode()
        + b"\r\n"
        + multipart([field("a", b"1")])[22:]
        + b"\r\n0\r\n\r\n",
        headers=[("Transfer-Encoding", "chunked")],
    ),
    "get-is-empty": post("/form", b"a=1", "application/x-www-form-urlencoded").replace(
        b"POST", b"GET", 1
    ),
    "json-is-empty": post("/form", b'{"a": 1}', "application/json"),
    "empty-multipart-body": post("/form", b"--XyZ--\r\n"),
    "too-large-declared": post("/form", multipart([field("a", b"x" * 2_000_000)])),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
async def test_same_as_aiohttp(case: str) -> None:
    reply = await (same_answer if case.startswith("too") else same)(form_app, CASES[case])
    if case.startswith("multipart-fields"):
        got = reply.json()
        assert [row[0] for row in got] == ["a", "up", "a", "b", "up", "raw", "lat"]
        assert got[1][3] == "r\xe9sum\xe9.txt"
        assert got[1][5] == "\x00\x01binary\r\n--XY-not\r\n"
        assert got[5][1] == "bytes" and got[6][2] == "é"
    if case == "too-large-declared":
        assert reply.status == 413
        assert reply.body == b"Maximum request body size 1048576 exceeded."


async def test_charset_field_sets_the_default() -> None:
    """RFC 7578 4.6 (aiohttp 3.14.5 answers 500: it reads the next part's boundary
    as a header after the _charset_ field)."""
    body = multipart(
        [
            field("_charset_", b"latin-1"),
            field("x", "é".encode("latin-1")),
            field("y", "é".encode(), Content_Type="text/plain; charset=utf-8"),
        ]
    )
    async with serve(squall_web, form_app) as port:
        reply = await exchange(port, post("/form", body))
    assert reply.json() == [["x", "str", "é"], ["y", "str", "é"]]


def test_chunked_case_is_well_formed() -> None:
    body = CASES["chunked-multipart"].split(b"\r\n\r\n", 1)[1]
    assert body.endswith(b"0\r\n\r\n") and b"Content-Length" not in CASES["chunked-multipart"]


async def test_chunked_body_past_client_max_size_same_as_aiohttp() -> None:
    big = multipart([field("a", b"1"), file("f", "f.bin", b"y" * 3000)])
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(big[i : i + 500]), big[i : i + 500]) for i in range(0, len(big), 500)
    )
    data = post("/form", chunks + b"0\r\n\r\n", headers=[("Transfer-Encoding", "chunked")])
    reply = await same_answer(lambda w: form_app(w, client_max_size=2000), data)
    assert reply.status == 413
    assert reply.body == b"Maximum request body size 2000 exceeded."


async def test_too_many_fields_message_as_aiohttp() -> None:
    body = multipart([field(f"f{i}", b"v") for i in range(1001)])
    reply = await same_answer(form_app, post("/form", body))
    assert reply.status == 413
    assert reply.body == b"Maximum number of form fields 1000 exceeded."
    urlencoded = "&".join(f"f{i}=v" for i in range(1001)).encode()
    reply = await same_answer(
        form_app, post("/form", urlencoded, "application/x-www-form-urlencoded")
    )
    assert reply.body == b"Maximum number of form fields 1000 exceeded."


async def test_big_file_is_spooled_to_disk_with_httpx(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def app_factory(w: Any) -> Any:
        async def handler(request: Any) -> Any:
            data = await request.post()
            upload = data["up"]
            seen["rolled"] = getattr(upload.file, "_rolled", None)
            content = upload.file.read()
            return w.Response(text=f"{len(content)} {content[:3]!r} {data['note']}")

        app = w.Application(client_max_size=8 * 1024**2)
        app.router.add_post("/up", handler)
        return app

    payload = b"abc" + bytes(5 * 1024**2)
    async with serve(squall_web, app_factory) as port, httpx.AsyncClient() as client:
        reply = await client.post(
            f"http://127.0.0.1:{port}/up", data={"note": "hi"}, files={"up": ("z.bin", payload)}
        )
    assert reply.text == f"{len(payload)} b'abc' hi"
    assert seen["rolled"] is True  # past the spool size the file went to disk


async def test_curl_form_post_fields_and_files(tmp_path: Path) -> None:
    src = tmp_path / "data.txt"
    src.write_bytes(b"from curl\n")
    async with serve(squall_web, form_app) as port:
        proc = await asyncio.create_subprocess_exec(
            "curl",
            "-sS",
            "-F",
            "a=1",
            "-F",
            "a=2",
            "-F",
            f"up=@{src};type=text/plain",
            f"http://127.0.0.1:{port}/form",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    got = json.loads(out)
    assert got[0] == ["a", "str", "1"] and got[1] == ["a", "str", "2"]
    assert got[2][:6] == ["up", "file", "up", "data.txt", "text/plain", "from curl\n"]
