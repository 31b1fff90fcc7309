"""Many connections at once, good and bad side by side."""

from __future__ import annotations

import asyncio

import httpx


def get(path: str) -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode()


async def test_200_concurrent_keepalive_connections(serve, raw_connect) -> None:
    server = await serve()
    conns = []
    for _ in range(4):  # connect in waves to stay inside the listen backlog
        conns += await asyncio.gather(*(raw_connect(server.port) for _ in range(50)))
    assert len(conns) == 200

    async def work(k: int) -> None:
        conn = conns[k]
        for i in range(3):
            path = f"/slow/{k}-{i}" if (k + i) % 3 == 0 else f"/fast/{k}-{i}"
            await conn.send(get(path))
            status, headers, body = await conn.read_response(timeout=20.0)
            assert status == b"HTTP/1.1 200 OK"
            assert body == path.lstrip("/").replace("/", " ").encode()
            assert "connection" not in headers
        await conn.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n%04d" % k)
        assert (await conn.read_response(timeout=20.0))[2] == b"%04d" % k

    await asyncio.gather(*(work(k) for k in range(200)))
    assert len(server.runner.server.connections) == 200  # all kept alive


async def test_bad_clients_do_not_disturb_good_ones(serve, raw_connect) -> None:
    server = await serve()
    bad_inputs = [
        b"GET / HTTP/1.1\r\nHost : t\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ]

    async def good(k: int) -> None:
        conn = await raw_connect(server.port)
        await conn.send(b"".join(get(f"/slow/{k}-{i}") for i in range(5)))
        for i in range(5):
            status, _, body = await conn.read_response(timeout=20.0)
            assert (status, body) == (b"HTTP/1.1 200 OK", b"slow %d-%d" % (k, i))

    async def bad(data: bytes) -> None:
        conn = await raw_connect(server.port)
        await conn.send(data)
        status, _, _ = await conn.read_response(timeout=20.0)
        assert status.startswith(b"HTTP/1.1 4"), status
        assert await conn.is_closed()

    await asyncio.gather(*(good(k) for k in range(30)), *(bad(d) for d in bad_inputs * 6))


async def test_httpx_concurrent_requests(serve) -> None:
    server = await serve()
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{server.port}", limits=limits, timeout=20.0
    ) as client:
        responses = await asyncio.gather(
            *(client.get(f"/slow/{i}" if i % 2 else f"/fast/{i}") for i in range(100))
        )
        posted = await asyncio.gather(
            *(client.post("/echo", content=b"%d" % i * 100) for i in range(50))
        )
    assert [r.status_code for r in responses] == [200] * 100
    assert [r.text for r in responses] == [
        f"slow {i}" if i % 2 else f"fast {i}" for i in range(100)
    ]
    assert [r.content for r in posted] == [b"%d" % i * 100 for i in range(50)]
