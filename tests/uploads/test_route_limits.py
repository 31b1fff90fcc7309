"""A route's own body limit (``max_body=``), beyond aiohttp: it replaces
client_max_size for read(), post() and bounds the multipart reader."""

from __future__ import annotations

from typing import Any

from framework._wire import build, exchange, serve
from squall import web

from .conftest import field, file, multipart, post


def app_factory(w: Any) -> Any:
    async def read(request: Any) -> Any:
        return w.Response(text=str(len(await request.read())))

    async def form(request: Any) -> Any:
        return w.Response(text=",".join(await request.post()))

    async def stream(request: Any) -> Any:
        reader = await request.multipart()
        size = 0
        async for part in reader:
            while chunk := await part.read_chunk():
                size += len(chunk)
        return w.Response(text=str(size))

    routes = w.RouteTableDef()

    @routes.post("/deco", max_body=10)
    async def deco(request: Any) -> Any:
        return await read(request)

    app = w.Application()
    app.add_routes(
        [
            w.post("/small/read", read, max_body=100),
            w.post("/small/form", form, max_body=100),
            w.post("/small/stream", stream, max_body=1000),
            w.post("/big/read", read, max_body=4 * 1024 * 1024),
            w.post("/free/stream", stream),
        ]
    )
    app.add_routes(routes)
    app.router.add_route("PUT", "/{name}/dyn", read, max_body=5)
    return app


async def test_route_limits() -> None:
    big = multipart([file("f", "f.bin", b"z" * 5000)])
    async with serve(web, app_factory) as port:
        small_read = await exchange(port, build("POST", "/small/read", body=b"x" * 101))
        ok_read = await exchange(port, build("POST", "/small/read", body=b"x" * 100))
        big_read = await exchange(port, build("POST", "/big/read", body=b"x" * 2_000_000))
        small_form = await exchange(port, post("/small/form", multipart([field("a", b"y" * 200)])))
        small_stream = await exchange(port, post("/small/stream", big))
        free_stream = await exchange(port, post("/free/stream", big))
        deco = await exchange(port, build("POST", "/deco", body=b"x" * 11))
        dyn = await exchange(port, build("PUT", "/a/dyn", body=b"x" * 6))
        chunked = await exchange(
            port,
            build(
                "POST",
                "/small/read",
                headers=[("Transfer-Encoding", "chunked")],
                body=b"65\r\n" + b"x" * 101 + b"\r\n0\r\n\r\n",
            ),
        )
    assert (small_read.status, small_read.body) == (413, b"Maximum request body size 100 exceeded.")
    assert ok_read.body == b"100"
    assert big_read.body == b"2000000"  # above client_max_size: the route's limit wins
    assert small_form.status == 413
    assert (small_stream.status, small_stream.body) == (
        413,
        b"Maximum request body size 1000 exceeded.",
    )
    assert free_stream.body == b"5000"  # the reader is not bounded by client_max_size
    assert deco.status == 413 and dyn.status == 413 and chunked.status == 413


def test_bad_limits_are_refused() -> None:
    import pytest

    async def handler(request: Any) -> Any:
        return web.Response()

    app = web.Application()
    with pytest.raises(ValueError):
        app.router.add_post("/x", handler, max_body=-1)
    with pytest.raises(ValueError):
        app.router.add_post("/y", handler, min_body_rate=-1)
