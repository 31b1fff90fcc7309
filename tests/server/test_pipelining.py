"""Pipelining: many requests in one write, answered in order, with bounded buffering."""

from __future__ import annotations

import asyncio

from squall import web


def get(path: str) -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode()


def post(path: str, body: bytes) -> bytes:
    head = b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
    return head % (path.encode(), len(body)) + body


def post_chunked(path: str, body: bytes, piece: int = 7) -> bytes:
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + piece]), body[i : i + piece])
        for i in range(0, len(body), piece)
    )
    head = b"POST %s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" % path.encode()
    return head + chunks + b"0\r\n\r\n"


async def read_bodies(conn, n: int) -> list[bytes]:
    bodies = []
    for _ in range(n):
        status, _, body = await conn.read_response()
        assert status == b"HTTP/1.1 200 OK", (status, len(bodies))
        bodies.append(body)
    return bodies


async def test_mixed_pipeline_in_one_write(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    paths = [f"/slow/{i}" if i % 3 == 0 else f"/fast/{i}" for i in range(20)]
    await conn.send(b"".join(get(p) for p in paths))
    bodies = await read_bodies(conn, 20)
    assert bodies == [p.lstrip("/").replace("/", " ").encode() for p in paths]
    # the connection is still good afterwards
    await conn.send(get("/"))
    assert await read_bodies(conn, 1) == [b"ok"]


async def test_pipeline_split_at_odd_places(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    data = b"".join(get(f"/fast/{i}") for i in range(16)) + post("/echo", b"x" * 100)
    for i in range(0, len(data), 37):
        await conn.send(data[i : i + 37])
    bodies = await read_bodies(conn, 17)
    assert bodies[:16] == [b"fast %d" % i for i in range(16)]
    assert bodies[16] == b"x" * 100


async def test_large_burst(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    paths = [f"/slow/{i}" if i % 10 == 0 else f"/fast/{i}" for i in range(200)]
    await conn.send(b"".join(get(p) for p in paths))
    bodies = await read_bodies(conn, 200)
    assert bodies == [p.lstrip("/").replace("/", " ").encode() for p in paths]


async def test_burst_deeper_than_max_pipeline(serve, raw_connect) -> None:
    """Reading pauses at max_pipeline queued requests and resumes: all are answered."""
    server = await serve(max_pipeline=4)
    conn = await raw_connect(server.port)
    paths = [f"/slow/{i}" if i % 2 == 0 else f"/fast/{i}" for i in range(60)]
    data = b"".join(get(p) for p in paths)
    await conn.send(data[: len(data) // 2])
    await conn.send(data[len(data) // 2 :])
    bodies = await read_bodies(conn, 60)
    assert bodies == [p.lstrip("/").replace("/", " ").encode() for p in paths]


async def test_post_bodies_within_a_pipeline(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    expected = []
    parts = []
    for i in range(12):
        if i % 4 == 0:
            parts.append(get(f"/slow/{i}"))
            expected.append(b"slow %d" % i)
        elif i % 4 == 1:
            body = b"body-%d-" % i * (i + 1)
            parts.append(post("/echo", body))
            expected.append(body)
        elif i % 4 == 2:
            body = b"chunked-%d-" % i * (i + 3)
            parts.append(post_chunked("/echo", body))
            expected.append(body)
        else:
            parts.append(post("/echo", b""))
            expected.append(b"")
    await conn.send(b"".join(parts))
    assert await read_bodies(conn, 12) == expected


async def test_body_that_looks_like_requests(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    sneaky = get("/fast/sneaky") * 3
    await conn.send(post("/echo", sneaky) + get("/fast/after"))
    assert await read_bodies(conn, 2) == [sneaky, b"fast after"]


async def test_unread_body_is_skipped_in_a_pipeline(squall_server, raw_connect) -> None:
    """A handler that ignores a (complete) body does not desynchronise the stream."""

    async def ignore(request: web.Request) -> web.Response:
        return web.Response(text="ignored")

    async def fast(request: web.Request) -> web.Response:
        return web.Response(text="fast")

    app = web.Application()
    app.router.add_post("/ignore", ignore)
    app.router.add_get("/fast", fast)
    server = await squall_server(app)
    conn = await raw_connect(server.port)
    await conn.send(
        post("/ignore", get("/fast") * 2)
        + get("/fast")
        + post_chunked("/ignore", b"abc" * 50)
        + get("/fast")
    )
    assert await read_bodies(conn, 4) == [b"ignored", b"fast", b"ignored", b"fast"]


async def test_pipeline_then_half_close(serve, raw_connect) -> None:
    server = await serve()
    conn = await raw_connect(server.port)
    await conn.send(b"".join(get(f"/slow/{i}") for i in range(5)))
    conn.writer.write_eof()
    assert await read_bodies(conn, 5) == [b"slow %d" % i for i in range(5)]
    assert await conn.is_closed()


async def test_many_connections_pipelining_at_once(serve, raw_connect) -> None:
    server = await serve()

    async def one(k: int) -> None:
        conn = await raw_connect(server.port)
        await conn.send(b"".join(get(f"/{'slow' if i % 2 else 'fast'}/{k}-{i}") for i in range(10)))
        bodies = await read_bodies(conn, 10)
        assert bodies == [(b"slow %d-%d" if i % 2 else b"fast %d-%d") % (k, i) for i in range(10)]

    await asyncio.gather(*(one(k) for k in range(20)))


async def test_client_that_does_not_read_does_not_grow_server_buffers(observe, raw_connect) -> None:
    """Pipelined requests for big responses while the client reads nothing: once
    its write side is backed up (pause_writing) the server stops answering and
    reading, instead of buffering every response in memory."""
    blob = b"z" * (1024 * 1024)
    n = 64
    calls = 0

    async def big(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(body=blob)

    app = web.Application()
    app.router.add_get("/big", big)
    srv = await observe(app)
    conn = await raw_connect(srv.port)
    await conn.send(get("/big") * n)
    observed = await srv.hub.connection()
    await srv.hub.until(lambda: "pause_writing" in observed.events)
    assert observed.real_transport is not None
    assert calls < n, f"all {n} MiB answered into buffers"
    assert not observed.real_transport.is_reading()
    assert observed.real_transport.get_write_buffer_size() < 8 * 1024 * 1024
    # once the client reads, everything arrives, in order and whole
    for _ in range(n):
        status, _, body = await conn.read_response(timeout=10.0)
        assert status == b"HTTP/1.1 200 OK"
        assert body == blob
    assert calls == n
    assert "resume_writing" in observed.events
