"""Every protocol error, by hand-built frames on a raw socket: the close frame the
server answers with is checked byte for byte, and what the handler saw.

Run on Squall and on aiohttp where aiohttp enforces the rule too; the rules aiohttp
leaves out (masking, reserved close codes) run on Squall alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.websocket.conftest import SQUALL, close_frame, frame, one_route, serve

TEXT, BINARY, CLOSE, PING = 1, 2, 8, 9

# (name, frames the client sends, the close code the server must answer with)
ERRORS = [
    ("rsv2", [frame(TEXT, b"hi", rsv=2)], 1002),
    ("rsv3", [frame(TEXT, b"hi", rsv=1)], 1002),
    ("rsv1 without deflate", [frame(TEXT, b"hi", rsv=4)], 1002),
    ("reserved data opcode", [frame(3, b"hi")], 1002),
    ("reserved control opcode", [frame(0xB, b"hi")], 1002),
    ("ping over 125 bytes", [frame(PING, b"p" * 126)], 1002),
    ("fragmented ping", [frame(PING, b"p", fin=False)], 1002),
    ("continuation first", [frame(0, b"lost")], 1002),
    ("text inside a message", [frame(TEXT, b"a", fin=False), frame(TEXT, b"b")], 1002),
    ("close with one byte", [frame(CLOSE, b"\x03")], 1002),
    ("close code 999", [frame(CLOSE, (999).to_bytes(2, "big"))], 1002),
    ("close code 1005", [frame(CLOSE, (1005).to_bytes(2, "big"))], 1002),
    ("close code 2000", [frame(CLOSE, (2000).to_bytes(2, "big"))], 1002),
    ("invalid utf-8", [frame(TEXT, b"\xce\xba\xff")], 1007),
    (
        "invalid utf-8 across fragments",
        [frame(TEXT, b"\xce", fin=False), frame(0, b"\xff")],
        1007,
    ),
    ("close reason not utf-8", [frame(CLOSE, (1000).to_bytes(2, "big") + b"\xff")], 1007),
    ("message over max_msg_size", [frame(BINARY, b"b" * 2000)], 1009),
    (
        "fragments over max_msg_size",
        [frame(BINARY, b"b" * 600, fin=False), frame(0, b"b" * 600)],
        1009,
    ),
]

# rules aiohttp 3.14 does not enforce (docs/websockets.md lists them)
SQUALL_ONLY = [
    ("unmasked frame", [frame(TEXT, b"hi", masked=False)], 1002),
    ("close code 1006", [frame(CLOSE, (1006).to_bytes(2, "big"))], 1002),
    ("close code 1015", [frame(CLOSE, (1015).to_bytes(2, "big"))], 1002),
    ("close code 5000", [frame(CLOSE, (5000).to_bytes(2, "big"))], 1002),
    (
        "64-bit length with its top bit set",
        [bytes((0x82, 0xFF)) + (1 << 63).to_bytes(8, "big") + b"\x01\x02\x03\x04"],
        1002,
    ),
]


def recording_app(stack: Any, seen: list[Any]) -> Any:
    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse(max_msg_size=1024)
        await ws.prepare(request)
        async for msg in ws:
            data = msg.data
            seen.append((msg.type.name, getattr(data, "code", data)))
        seen.append(("close_code", ws.close_code))
        return ws

    return one_route(stack, handler)


async def check_error(stack: Any, raw_ws: Any, frames: list[bytes], code: int) -> list[Any]:
    seen: list[Any] = []
    async with serve(stack.web, recording_app(stack, seen)) as port:
        conn = await raw_ws(port)
        # a good message first: what came before the bad frame is delivered
        conn.send(frame(TEXT, b"before") + b"".join(frames))
        # the echo-free handler sends nothing but the close: byte for byte
        first = await conn.reader.readexactly(4)
        assert first == close_frame(code)
        assert await conn.read_rest() in (b"", b"<reset>")  # then the TCP close
    return seen


@pytest.mark.parametrize(("name", "frames", "code"), ERRORS, ids=[e[0] for e in ERRORS])
async def test_protocol_error_closes_with_its_code(
    stack: Any, raw_ws: Any, name: str, frames: list[bytes], code: int
) -> None:
    seen = await check_error(stack, raw_ws, frames, code)
    assert seen[0] == ("TEXT", "before")
    # the handler sees the error as an ERROR message carrying the code
    assert seen[1] == ("ERROR", code)
    assert seen[-1][0] == "close_code"


@pytest.mark.parametrize(("name", "frames", "code"), SQUALL_ONLY, ids=[e[0] for e in SQUALL_ONLY])
async def test_squall_only_rules(raw_ws: Any, name: str, frames: list[bytes], code: int) -> None:
    seen = await check_error(SQUALL, raw_ws, frames, code)
    assert seen[:2] == [("TEXT", "before"), ("ERROR", code)]


async def test_frames_byte_by_byte_and_control_between_fragments(stack: Any, raw_ws: Any) -> None:
    """A fragmented message, a ping between its fragments, all sent a byte at a time."""
    seen: list[Any] = []
    async with serve(stack.web, recording_app(stack, seen)) as port:
        conn = await raw_ws(port)
        data = (
            frame(TEXT, "κό".encode()[:3], fin=False)  # splits a character
            + frame(PING, b"are you there")
            + frame(0, "κό".encode()[3:] + b"sme", fin=False)
            + frame(0, b"", fin=False)
            + frame(0, b"!")
        )
        for i in range(len(data)):
            conn.send(data[i : i + 1])
            await conn.writer.drain()
        b0, payload = await conn.read_frame()
        assert (b0, payload) == (0x8A, b"are you there")  # the autoping's pong, echoed payload
        conn.send(frame(CLOSE, (4000).to_bytes(2, "big") + b"bye"))
        # Squall echoes the peer's code (RFC 6455 5.5.1); aiohttp answers 1000
        echoed = 4000 if stack.name == "squall" else 1000
        assert await conn.read_frame() == (0x88, echoed.to_bytes(2, "big"))
        assert await conn.read_rest() == b""
    assert seen == [("TEXT", "κόsme!"), ("close_code", 4000)]
