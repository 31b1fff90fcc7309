"""Hostile multipart bodies over a raw socket: each gets a short 4xx, and the
server answers a well-formed request on the same port right after."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import pytest

from framework._wire import build, exchange, same, serve
from squall import web as squall_web

from .conftest import add_probe, alive, field, multipart, post, raw


def app_factory(w: Any) -> Any:
    async def form(request: Any) -> Any:
        data = await request.post()
        return w.Response(text=",".join(data))

    async def stream(request: Any) -> Any:
        reader = await request.multipart()
        names = []
        async for part in reader:
            names.append(f"{part.name}:{part.filename}")
            await part.release()
        return w.Response(text=",".join(names))

    app = w.Application()
    app.router.add_post("/form", form)
    app.router.add_post("/stream", stream)
    return add_probe(w, app)


def ct(boundary: str) -> str:
    return f"multipart/form-data; boundary={boundary}"


BIG = 4 * 1024 * 1024
HOSTILE: dict[str, tuple[bytes, int, bytes]] = {
    "no boundary": (b"--XyZ--\r\n", 400, b"Multipart boundary missing"),
    "boundary over 70": (
        b"--" + b"a" * 71 + b"--\r\n",
        400,
        b"Multipart boundary longer than 70 characters",
    ),
    "never-closing last part": (
        b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nand then the body just ends',
        400,
        b"Multipart body ended before its closing boundary",
    ),
    "no boundary anywhere (preamble bomb)": (b"a" * BIG, 400, b"No multipart boundary found"),
    "epilogue bomb": (
        multipart([field("a", b"1")]) + b"e" * BIG,
        400,
        b"Multipart epilogue too long",
    ),
    "too many parts": (
        b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n" * 1200 + b"--XyZ--",
        413,
        b"",
    ),
    "oversized part headers": (
        b"--XyZ\r\nX: " + b"h" * 20000 + b"\r\n\r\nx\r\n--XyZ--",
        413,
        b"Part headers too large",
    ),
    "header section never ends": (
        b"--XyZ\r\n" + b"X: 1\r\n" * 30000,
        413,
        b"Part headers too large",
    ),
    "filename header injection": (
        b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a\r\n'
        b'Content-Type: text/html"\r\n\r\nx\r\n--XyZ--',
        400,
        b"",
    ),
    "NUL in filename": (
        b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a\x00.txt"\r\n'
        b"\r\nx\r\n--XyZ--",
        400,
        b"Invalid character in a part header",
    ),
    "two dispositions": (
        b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n'
        b'Content-Disposition: form-data; name="b"\r\n\r\nx\r\n--XyZ--',
        400,
        b"Duplicate content-disposition in a part",
    ),
    "folded header": (
        b'--XyZ\r\nContent-Disposition: form-data;\r\n name="a"\r\n\r\nx\r\n--XyZ--',
        400,
        b"Invalid part header",
    ),
    "boundary look-alike line": (
        b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZzz\r\n\r\n--XyZ--",
        400,
        b"Invalid multipart delimiter line",
    ),
}


@pytest.mark.parametrize("path", ["/form", "/stream"])
@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
async def test_hostile_body_gets_a_short_4xx(case: str, path: str) -> None:
    body, status, message = HOSTILE[case]
    if case == "no boundary":
        ctype = "multipart/form-data"
    elif case == "boundary over 70":
        ctype = ct("a" * 71)
    else:
        ctype = ct("XyZ")
    app = app_factory
    if case in ("no boundary anywhere (preamble bomb)", "epilogue bomb"):
        app = _big_app
    async with serve(squall_web, app) as port:
        answer = await raw(port, post(path, body, ctype))
        await alive(port)
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 %d %s" % (status, _reason(status)), answer[:300]
    assert len(text) < 200 and b"Traceback" not in text
    if message:
        assert message in text


def _reason(status: int) -> bytes:
    return HTTPStatus(status).phrase.encode()  # the interpreter's, as aiohttp's


def _big_app(w: Any) -> Any:
    """The bombs need a body limit above their size, so the decoder's own bound
    answers (not client_max_size)."""
    app = app_factory(w)
    app._client_max_size = 64 * 1024 * 1024
    return app


async def test_preamble_bomb_is_answered_before_it_is_all_sent() -> None:
    """The answer comes after the preamble bound, not after the 32 MiB."""
    async with serve(squall_web, _big_app) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = post("/stream", b"", ct("XyZ")).replace(
            b"Content-Length: 0", b"Content-Length: 33554432"
        )
        writer.write(head + b"p" * 65536)  # a tenth of a percent of the declared body
        answer = await asyncio.wait_for(reader.read(1000), 10)
        writer.close()
        await alive(port)
    assert (
        answer.startswith(b"HTTP/1.1 400 Bad Request") and b"No multipart boundary found" in answer
    )


async def test_never_closing_part_on_a_connection_left_open_is_bounded() -> None:
    """A chunked body that stops mid-part: the handler waits on body_timeout, then 408."""
    from squall.testing import TestServer

    server = TestServer(app_factory(squall_web), body_timeout=1.0)
    await server.start_server()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        head = build(
            "POST",
            "/stream",
            headers=[("Content-Type", ct("XyZ")), ("Transfer-Encoding", "chunked")],
        )
        writer.write(head + b"10\r\n--XyZ\r\n\r\nabcdefg\r\n")
        answer = await asyncio.wait_for(reader.read(1000), 15)
        writer.close()
    finally:
        await server.close()
    assert answer.startswith(b"HTTP/1.1 408")


def nested(depth: int) -> bytes:
    """A file ``depth`` levels of multipart/mixed deep inside a form (boundary q0z)."""
    head = tail = b""
    for i in range(depth):
        head += (
            b'--q%dz\r\nContent-Disposition: form-data; name="n"\r\n'
            b"Content-Type: multipart/mixed; boundary=q%dz\r\n\r\n" % (i, i + 1)
        )
        tail = b"\r\n--q%dz--\r\n" % (i + 1) + tail
    leaf = b'--q%dz\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhi'
    return head + leaf % depth + tail + b"\r\n--q0z--\r\n"


def walk_app(w: Any) -> Any:
    async def walk(reader: Any, depth: int, out: list[str]) -> None:
        async for part in reader:
            if hasattr(part, "filename"):
                out.append(f"{depth}:{part.name}:{part.filename}:{(await part.read()).decode()}")
            else:
                await walk(part, depth + 1, out)

    async def handler(request: Any) -> Any:
        out: list[str] = []
        await walk(await request.multipart(), 0, out)
        return w.Response(text=",".join(out))

    app = w.Application()
    app.router.add_post("/walk", handler)
    return add_probe(w, app)


async def test_nesting_up_to_four_levels_as_aiohttp() -> None:
    reply = await same(walk_app, post("/walk", nested(4), ct("q0z")))
    assert reply.body == b"4:f:a.txt:hi"


@pytest.mark.parametrize("depth", [5, 400, 3000])
async def test_nesting_deeper_is_400(depth: int) -> None:
    """Review finding: no bound, so a RecursionError (500) from about 350 levels and
    CPU spent on every level below (aiohttp has no bound either: 200 at 5)."""
    async with serve(squall_web, walk_app) as port:
        answer = await raw(port, post("/walk", nested(depth), ct("q0z")))
        await alive(port)
    head, _, text = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request"), answer[:200]
    assert text == b"Multipart nested over 4 levels deep"


async def test_save_uploads_refuses_deep_nesting(tmp_path: Any) -> None:
    from squall.framework.uploads import save_uploads

    def factory(w: Any) -> Any:
        async def handler(request: Any) -> Any:
            form = await save_uploads(await request.multipart(), tmp_path, max_size=100)
            return w.Response(text=",".join(s.filename or "" for s in form.files))

        app = w.Application()
        app.router.add_post("/save", handler)
        return app

    async with serve(squall_web, factory) as port:
        deep = await exchange(port, post("/save", nested(1000), ct("q0z")))
        fine = await exchange(port, post("/save", nested(2), ct("q0z")))
    assert (deep.status, deep.body) == (400, b"Multipart nested over 4 levels deep")
    assert (fine.status, fine.body) == (200, b"a.txt")


async def test_max_depth_is_a_parameter() -> None:
    from squall.framework.multipart import MultipartReader

    def factory(w: Any) -> Any:
        async def handler(request: Any) -> Any:
            reader = MultipartReader(request.headers, request.content, max_depth=1)
            out: list[str] = []
            async for part in reader:
                async for inner in part:
                    out.append(type(inner).__name__)
            return w.Response(text=",".join(out))

        app = w.Application()
        app.router.add_post("/one", handler)
        return app

    async with serve(squall_web, factory) as port:
        one = await exchange(port, post("/one", nested(1), ct("q0z")))
        two = await exchange(port, post("/one", nested(2), ct("q0z")))
    assert (one.status, one.body) == (200, b"BodyPartReader")
    assert (two.status, two.body) == (400, b"Multipart nested over 1 levels deep")
