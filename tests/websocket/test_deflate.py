"""permessage-deflate over a real socket: messages ending in a final block (RFC 7692
7.2.3.4) and the compressor's history across ``send_*(compress=N)``."""

from __future__ import annotations

import os
import zlib
from typing import Any

import aiohttp
import pytest

from squall.framework.websocket import WebSocketResponse
from tests.websocket.conftest import SQUALL, close_frame, frame, one_route, serve

DEFLATE = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
TRAILER = b"\x00\x00\xff\xff"
# RFC 7692 7.2.3.4's example: "Hello" in one block with BFINAL set, then the 0x00 left
# of the empty stored block 7.2.1 appends
RFC_BFINAL_HELLO = bytes.fromhex("f348cdc9c9070000")


def final_block(data: bytes, history: bytes = b"") -> bytes:
    """``data`` deflated and finished (BFINAL=1), as zlib's Z_FINISH writes it;
    ``history`` primes the window (a sender keeping its context)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=history) if history else None
    c = c or zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH)


def recording_app(stack: Any, seen: list[Any], probe: list[Any] | None = None) -> Any:
    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            data = msg.data
            seen.append((msg.type.name, getattr(data, "code", data)))
            if probe is not None:
                inflater = ws._conn.reader._inflater
                probe.append(len(inflater._decompressor.unused_data))
            if msg.type.name in ("TEXT", "BINARY"):
                await ws.send_str(f"got {len(data)}")
        seen.append(("close_code", ws.close_code))
        return ws

    return one_route(stack, handler)


async def test_rfc_7692_final_block_example(stack: Any, raw_ws: Any) -> None:
    """The RFC's own BFINAL example reads as "Hello" on both servers."""
    seen: list[Any] = []
    async with serve(stack.web, recording_app(stack, seen)) as port:
        conn = await raw_ws(port, headers=DEFLATE)
        conn.send(frame(1, RFC_BFINAL_HELLO, rsv=4))
        b0, payload = await conn.read_frame()
        if b0 & 0x40:
            payload = zlib.decompressobj(-15).decompress(payload + TRAILER)
        assert payload == b"got 5"
        conn.send(frame(8, b"\x03\xe8"))
        assert (await conn.read_frame())[0] == 0x88
    assert seen[0] == ("TEXT", "Hello")


async def test_messages_after_a_final_block_inflate_with_the_same_window(raw_ws: Any) -> None:
    """After a message ending in a final block every later one must still decode,
    including ones that refer back into the earlier messages (RFC 7692 7.2.2: the
    window carries over), and nothing piles up behind the ended stream. aiohttp fails
    the connection at the second message, so Squall only."""
    text = b"the quick brown fox jumps over the lazy dog; " * 20
    c = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=b"HelloHello" + text)
    synced = (c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]  # refers back
    junk = [os.urandom(64 * 1024) for _ in range(16)]
    c = zlib.compressobj(1, zlib.DEFLATED, -15, zdict=(b"HelloHello" + text * 2)[-32768:])
    junk_frames = []
    for blob in junk:
        junk_frames.append(frame(2, (c.compress(blob) + c.flush(zlib.Z_SYNC_FLUSH))[:-4], rsv=4))
    messages = [
        frame(1, RFC_BFINAL_HELLO, rsv=4),
        frame(1, final_block(b"Hello", b"Hello"), rsv=4),  # a fresh stream, and ends again
        frame(1, final_block(text, b"HelloHello"), rsv=4),  # fragmented below
        frame(1, synced, rsv=4),
        *junk_frames,
        # a final block referring 30 KiB back, into the last junk message
        frame(2, final_block(junk[-1][-30000:-29000], junk[-1][-32768:]), rsv=4),
    ]
    # the third message in three fragments: the final block, then the 0x00 of 7.2.1
    third = messages[2][6:]
    third = bytes(b ^ b"\x01\x02\x03\x04"[i % 4] for i, b in enumerate(third))
    messages[2] = frame(1, third, fin=False, rsv=4) + frame(0, b"", fin=False) + frame(0, b"\x00")
    seen: list[Any] = []
    probe: list[int] = []
    async with serve(SQUALL.web, recording_app(SQUALL, seen, probe)) as port:
        conn = await raw_ws(port, headers=DEFLATE)
        for message in messages:
            conn.send(message)
            await conn.read_frame()  # "got N", so one message at a time
        conn.send(frame(8, b"\x03\xe8"))
        assert await conn.read_frame() == (0x88, b"\x03\xe8")
    assert seen[:4] == [("TEXT", "Hello"), ("TEXT", "Hello")] + [("TEXT", text.decode())] * 2
    assert seen[4:-1] == [("BINARY", blob) for blob in junk] + [("BINARY", junk[-1][-30000:-29000])]
    assert seen[-1] == ("close_code", 1000)
    # no byte is left behind an ended stream (the bug kept every later frame there)
    assert probe == [0] * len(messages)


@pytest.mark.parametrize(
    "frames",
    [
        [frame(1, final_block(b"x") + b"junk", rsv=4)],
        [frame(1, final_block(b"x") + final_block(b"y"), rsv=4)],  # a second stream
        [frame(1, final_block(b"x"), fin=False, rsv=4), frame(0, b"\x00\x00")],
    ],
    ids=["junk", "two streams", "in a later fragment"],
)
async def test_data_after_the_final_block_fails_with_1007(raw_ws: Any, frames: list[bytes]) -> None:
    """Only the empty stored block of 7.2.1 may follow a final block in its message.
    (aiohttp reads on into a second deflate stream, or fails with a bare 1000.)"""
    seen: list[Any] = []
    async with serve(SQUALL.web, recording_app(SQUALL, seen)) as port:
        conn = await raw_ws(port, headers=DEFLATE)
        conn.send(b"".join(frames))
        assert await conn.reader.readexactly(4) == close_frame(1007)
        assert await conn.read_rest() in (b"", b"<reset>")
    assert seen[0] == ("ERROR", 1007)


async def test_a_per_message_compress_leaves_later_messages_intact() -> None:
    """``send_str(..., compress=9)`` between ordinary messages: aiohttp's client reads
    every one right (a one-off compressor made the following messages decode to
    wrong bytes, on aiohttp's server too, so Squall only)."""
    texts = ["hello world, hello world, the quick brown fox", "Z" * 50, "Z" * 50 + "hello"] * 2

    async def handler(request: Any) -> Any:
        ws = WebSocketResponse()
        await ws.prepare(request)
        for i, text in enumerate(texts):
            await ws.send_str(text, compress=9 if i % 3 == 1 else None)
        await ws.send_bytes(b"hello world" * 10, compress=10)
        await ws.send_json({"k": "hello world"}, compress=12)
        await ws.close()
        return ws

    got: list[Any] = []
    async with serve(SQUALL.web, one_route(SQUALL, handler)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws", compress=15) as ws:
                assert ws.compress == 15
                async for msg in ws:
                    got.append(msg.data if msg.type is aiohttp.WSMsgType.TEXT else msg)
    assert got[: len(texts)] == texts
    assert got[len(texts)].data == b"hello world" * 10
    assert got[len(texts) + 1 :] == ['{"k": "hello world"}']


async def test_per_message_compress_without_deflate_sends_plain_frames(raw_ws: Any) -> None:
    """No permessage-deflate agreed: ``compress=N`` never sets RSV1."""

    async def handler(request: Any) -> Any:
        ws = WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("plain " * 30, compress=9)
        await ws.send_bytes(b"plain", compress=15)
        await ws.close()
        return ws

    async with serve(SQUALL.web, one_route(SQUALL, handler)) as port:
        conn = await raw_ws(port)
        assert await conn.read_frame() == (0x81, b"plain " * 30)
        assert await conn.read_frame() == (0x82, b"plain")
        assert await conn.read_frame() == (0x88, b"\x03\xe8")
        conn.send(frame(8, b"\x03\xe8"))
        assert await conn.read_rest() == b""
