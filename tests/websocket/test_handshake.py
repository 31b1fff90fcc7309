"""The opening handshake on Squall and aiohttp: the 101's fields, the 400s' texts,
subprotocols and the permessage-deflate answer, compared over a raw socket."""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Any

import pytest

from squall.websocket import accept_key
from tests.websocket.conftest import SQUALL, TIMEOUT, one_route, serve

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 1.3's example


def app_for(stack: Any, **ws_kwargs: Any) -> Any:
    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse(**ws_kwargs)
        ready = ws.can_prepare(request)
        await ws.prepare(request)
        await ws.send_str(f"{bool(ready)} {ready.protocol} {ws.ws_protocol} {ws.compress}")
        await ws.close()
        return ws

    return one_route(stack, handler)


async def exchange(port: int, headers: dict[str, str]) -> tuple[bytes, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    # surrogateescape: a test may send any byte ("\udce9" goes out as 0xE9)
    writer.write(f"GET /ws HTTP/1.1\r\nHost: t\r\n{lines}\r\n".encode("utf-8", "surrogateescape"))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    status, *fields = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in fields:
        if line:
            name, _, value = line.partition(":")
            parsed[name.lower()] = value.strip()
    if "content-length" in parsed:
        body = await reader.readexactly(int(parsed["content-length"]))
    else:
        b0, n = await reader.readexactly(2)
        body = await reader.readexactly(n)  # the first (text) frame's payload
        if b0 & 0x40:  # compressed (RFC 7692 7.2.2)
            body = zlib.decompressobj(-15).decompress(body + b"\x00\x00\xff\xff")
    writer.close()
    return status.encode(), parsed, body


GOOD = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": KEY,
    "Sec-WebSocket-Version": "13",
}


async def test_accept_key_is_rfc_6455s_example() -> None:
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


async def test_switching_protocols_head(stack: Any) -> None:
    async with serve(stack.web, app_for(stack)) as port:
        status, headers, body = await exchange(port, GOOD)
    assert status == b"HTTP/1.1 101 Switching Protocols"
    assert headers["upgrade"] == "websocket"
    assert headers["connection"] == "upgrade"
    assert headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert "sec-websocket-extensions" not in headers
    assert "content-length" not in headers and "transfer-encoding" not in headers
    assert body == b"True None None 0"


ONLY_WS = '\n Can "Upgrade" only to "WebSocket".'
BAD = [
    (
        "no upgrade",
        {"Upgrade": None},
        'No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".',
    ),
    (
        "upgrade h2c",
        {"Upgrade": "h2c"},
        'No WebSocket UPGRADE hdr: h2c\n Can "Upgrade" only to "WebSocket".',
    ),
    (
        "no connection upgrade",
        {"Connection": "keep-alive"},
        "No CONNECTION upgrade hdr: keep-alive",
    ),
    ("version 12", {"Sec-WebSocket-Version": "12"}, "Unsupported version: 12"),
    ("no version", {"Sec-WebSocket-Version": None}, "Unsupported version: "),
    ("no key", {"Sec-WebSocket-Key": None}, "Handshake error: None"),
    ("short key", {"Sec-WebSocket-Key": "c2hvcnQ="}, "Handshake error: 'c2hvcnQ='"),
    ("key not base64", {"Sec-WebSocket-Key": "!!!!"}, "Handshake error: '!!!!'"),
]


@pytest.mark.parametrize(("name", "change", "text"), BAD, ids=[b[0] for b in BAD])
async def test_bad_handshake_is_a_400_with_aiohttps_text(
    stack: Any, name: str, change: dict[str, str | None], text: str
) -> None:
    headers = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    async with serve(stack.web, app_for(stack)) as port:
        status, fields, body = await exchange(port, headers)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert fields["content-type"] == "text/plain; charset=utf-8"
    assert body.decode() == text


@pytest.mark.parametrize("char", ["\udce9", "é"], ids=["byte 0xE9", "UTF-8 e-acute"])
async def test_a_non_ascii_key_is_a_400_and_the_server_goes_on(char: str) -> None:
    """aiohttp answers 500 with a logged traceback (b64decode raises ValueError, not
    binascii.Error); Squall answers its bad-key 400, then serves the next request."""
    key = KEY[:-2] + char + "="
    async with serve(SQUALL.web, app_for(SQUALL)) as port:
        status, fields, body = await exchange(port, {**GOOD, "Sec-WebSocket-Key": key})
        assert status == b"HTTP/1.1 400 Bad Request"
        assert fields["content-type"] == "text/plain; charset=utf-8"
        # aiohttp's text for a bad key (a lone byte shown as repr() escapes it)
        assert body.decode() == f"Handshake error: {key!r}"
        status, _, body = await exchange(port, GOOD)
    assert status == b"HTTP/1.1 101 Switching Protocols"
    assert body == b"True None None 0"


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [("chat, superchat", "chat"), ("superchat, chat", "superchat"), ("other", None)],
)
async def test_subprotocol_is_the_clients_first_known(
    stack: Any, offered: str, chosen: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_for(stack, protocols=("chat", "superchat"))
    with caplog.at_level(logging.WARNING):
        async with serve(stack.web, app) as port:
            _, headers, body = await exchange(port, {**GOOD, "Sec-WebSocket-Protocol": offered})
    assert headers.get("sec-websocket-protocol") == chosen
    assert body == f"True {chosen} {chosen} 0".encode()
    # no overlap: a warning with aiohttp's format string (log filters match it)
    # (once per handshake check: can_prepare() and prepare() each log it, on both)
    warnings = {r.msg for r in caplog.records if "overlap" in str(r.msg)}
    no_overlap = "%s: Client protocols %r don\u2019t overlap server-known ones %r"
    assert warnings == (set() if chosen else {no_overlap})


DEFLATE = [
    ("plain", "permessage-deflate", "permessage-deflate", 15),
    ("client window", "permessage-deflate; client_max_window_bits", "permessage-deflate", 15),
    (
        "no takeover",
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover",
        15,
    ),
    (
        "server window 10",
        "permessage-deflate; server_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10",
        10,
    ),
    (
        "first offer declined (window 8)",
        "permessage-deflate; server_max_window_bits=8, permessage-deflate",
        "permessage-deflate",
        15,
    ),
    ("unknown extension", "x-webkit-deflate-frame", None, 0),
    # aiohttp's test_websocket_handshake.py cases (there through a private method)
    (
        "client no takeover",
        "permessage-deflate; client_no_context_takeover",
        "permessage-deflate",
        15,
    ),
    (
        "server window 9",
        "permessage-deflate; server_max_window_bits=9",
        "permessage-deflate; server_max_window_bits=9",
        9,
    ),
    ("server window 6 declined", "permessage-deflate; server_max_window_bits=6", None, 0),
    ("unknown parameter declined", "permessage-deflate; bad", None, 0),
    (
        "bad offer, then a good one",
        "permessage-deflate; bad, permessage-deflate",
        "permessage-deflate",
        15,
    ),
    (
        "window 6, then a plain offer",
        "permessage-deflate; server_max_window_bits=6, permessage-deflate",
        "permessage-deflate",
        15,
    ),
]


@pytest.mark.parametrize(("name", "offer", "answer", "bits"), DEFLATE, ids=[d[0] for d in DEFLATE])
async def test_permessage_deflate_answer(
    stack: Any, name: str, offer: str, answer: str | None, bits: int
) -> None:
    async with serve(stack.web, app_for(stack)) as port:
        _, headers, body = await exchange(port, {**GOOD, "Sec-WebSocket-Extensions": offer})
    assert headers.get("sec-websocket-extensions") == answer
    assert body.endswith(f" {bits}".encode())


async def test_compress_false_declines_deflate(stack: Any) -> None:
    async with serve(stack.web, app_for(stack, compress=False)) as port:
        _, headers, body = await exchange(
            port, {**GOOD, "Sec-WebSocket-Extensions": "permessage-deflate"}
        )
    assert "sec-websocket-extensions" not in headers
    assert body.endswith(b" 0")


async def test_can_prepare_on_a_plain_request(stack: Any) -> None:
    async def handler(request: Any) -> Any:
        ready = stack.WebSocketResponse().can_prepare(request)
        return stack.web.Response(text=f"{ready.ok} {ready.protocol} {bool(ready)}")

    async with serve(stack.web, one_route(stack, handler)) as port:
        _, _, body = await exchange(port, {})
    assert body == b"False None False"
