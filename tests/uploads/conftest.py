"""Helpers of the upload tests: the same app on Squall and on aiohttp, multipart
bodies built by hand, and a probe that the server still answers after bad input."""

from __future__ import annotations

import asyncio
from typing import Any

from framework._wire import build, exchange

PROBE_PATH = "/__alive__"


def multipart(parts: list[tuple[list[tuple[str, str]], bytes]], boundary: str = "XyZ") -> bytes:
    """A multipart body: each part as (headers, data)."""
    out = b""
    for headers, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        out += b"".join(f"{k}: {v}\r\n".encode() for k, v in headers)
        out += b"\r\n" + data + b"\r\n"
    return out + b"--" + boundary.encode() + b"--\r\n"


def field(name: str, value: bytes, **extra: str) -> tuple[list[tuple[str, str]], bytes]:
    headers = [("Content-Disposition", f'form-data; name="{name}"')]
    headers += [(k.replace("_", "-"), v) for k, v in extra.items()]
    return headers, value


def file(name: str, filename: str, data: bytes, ctype: str = "application/octet-stream") -> Any:
    return (
        [
            ("Content-Disposition", f'form-data; name="{name}"; filename="{filename}"'),
            ("Content-Type", ctype),
        ],
        data,
    )


def post(
    path: str, body: bytes, ctype: str = "multipart/form-data; boundary=XyZ", **kw: Any
) -> bytes:
    headers = [("Content-Type", ctype), *kw.pop("headers", [])]
    return build("POST", path, headers=headers, body=body, **kw)


async def alive(port: int) -> None:
    """The server answers a well-formed request on a fresh connection."""
    reply = await exchange(port, build("GET", PROBE_PATH))
    assert reply.status == 200 and reply.body == b"alive", reply


def add_probe(web: Any, app: Any) -> Any:
    async def probe(request: Any) -> Any:
        return web.Response(text="alive")

    app.router.add_get(PROBE_PATH, probe)
    return app


async def raw(port: int, data: bytes, *, read_timeout: float = 10.0) -> bytes:
    """Send bytes, return everything the server answers until it closes or goes quiet."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        out = b""
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), read_timeout)
            except TimeoutError:
                return out
            if not chunk:
                return out
            out += chunk
            if b"\r\n\r\n" in out and b"Content-Length: " in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                if len(rest) >= length:
                    return out
    finally:
        writer.close()
