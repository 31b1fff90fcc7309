"""max_connections bounds the open connections; the next one gets a 503 and EOF."""

from __future__ import annotations


async def test_connection_over_the_limit_gets_503(serve, raw_connect, still_serves) -> None:
    server = await serve(max_connections=2)
    first = await raw_connect(server.port)
    second = await raw_connect(server.port)
    for conn in (first, second):  # both are served (and so counted)
        await conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body = await conn.read_response()
        assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")
    third = await raw_connect(server.port)
    status, headers, body = await third.read_response()
    assert status == b"HTTP/1.1 503 Service Unavailable"
    assert headers["connection"] == "close"
    assert body.startswith(b"503")
    assert await third.is_closed()
    for conn in (first, second):  # leave; the server closes its side, then forgets them
        conn.writer.write_eof()
        assert await conn.is_closed()
    await still_serves(server.port)
