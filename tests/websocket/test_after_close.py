"""What a ``WebSocketResponse`` does once its connection is closing or closed, on
Squall and on aiohttp: sends raise, ``receive()`` keeps answering, ``close()`` and
``write_eof()`` are idempotent. aiohttp's own tests check these through mocks of its
reader and writer; here a real client drives a real server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.websocket.conftest import TIMEOUT, close_frame, frame, one_route, serve


async def attempt(call: Any) -> Any:
    """(a ConnectionError?, a TypeError?, its text), or what ``call`` returned."""
    try:
        return await call
    except Exception as exc:  # the exception is what is compared
        return (isinstance(exc, ConnectionError), isinstance(exc, TypeError), str(exc))


SENDS = {
    "send_str": lambda ws, stack: ws.send_str("x"),
    "send_bytes": lambda ws, stack: ws.send_bytes(b"x"),
    "send_json": lambda ws, stack: ws.send_json({"a": 1}),
    "send_json_bytes": lambda ws, stack: ws.send_json_bytes(
        {"a": 1}, dumps=lambda v: json.dumps(v).encode()
    ),
    "send_frame": lambda ws, stack: ws.send_frame(b"x", stack.WSMsgType.TEXT),
    "ping": lambda ws, stack: ws.ping(),
    "pong": lambda ws, stack: ws.pong(),
}


async def test_after_a_completed_close(stack: Any, raw_ws: Any) -> None:
    seen: dict[str, Any] = {}
    done = asyncio.Event()

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        seen["first_close"] = await ws.close(code=4000, message=b"bye")
        seen["second_close"] = await ws.close()
        seen["close_code"] = ws.close_code
        seen["closed"] = ws.closed
        for name, send in SENDS.items():
            seen[name] = (await attempt(send(ws, stack)))[0]
        receive_str = await attempt(ws.receive_str())
        receive_bytes = await attempt(ws.receive_bytes())
        seen["receive_str"] = receive_str[:2]
        seen["receive_bytes"] = receive_bytes[:2]
        seen["receive_str_text"] = receive_str[2].split(":")[0]
        # receive_str and receive_bytes used two of the closed connection's answers
        seen["more"] = [await attempt(ws.receive()) for _ in range(3)]
        seen["more"][:2] = [msg.type.name for msg in seen["more"][:2]]
        await ws.write_eof()
        await ws.write_eof()
        seen["write_eof"] = "ok"
        done.set()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        client = await raw_ws(port)
        assert await client.read_frame() == (0x88, close_frame(4000, b"bye")[2:])
        client.send(frame(0x8, (4000).to_bytes(2, "big")))
        await asyncio.wait_for(done.wait(), TIMEOUT)
    assert seen == {
        "first_close": True,
        "second_close": False,
        "close_code": 4000,
        "closed": True,
        **dict.fromkeys(SENDS, True),  # a ConnectionError
        "receive_str": (False, True),  # a TypeError (WSMessageTypeError)
        "receive_bytes": (False, True),
        "receive_str_text": "Received message 257",
        "more": ["CLOSED", "CLOSED", (False, False, "WebSocket connection is closed.")],
        "write_eof": "ok",
    }


@pytest.mark.parametrize("how", ["eof", "close_frame", "empty_close", "bad_frame"])
async def test_receive_when_the_peer_ends(stack: Any, raw_ws: Any, how: str) -> None:
    seen: dict[str, Any] = {}
    done = asyncio.Event()

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive()
        seen["type"] = msg.type.name
        seen["data"] = msg.data if msg.type.name != "ERROR" else type(msg.data).__name__
        seen["closed"] = ws.closed
        seen["close_code"] = ws.close_code
        seen["next"] = (await ws.receive()).type.name
        done.set()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        client = await raw_ws(port)
        if how == "eof":
            client.writer.write_eof()
        elif how == "close_frame":
            client.send(frame(0x8, (1000).to_bytes(2, "big") + b"done"))
        elif how == "empty_close":
            client.send(frame(0x8))
        else:
            client.send(frame(0x3))  # a reserved opcode
        rest = await client.read_rest()
        await asyncio.wait_for(done.wait(), TIMEOUT)
    expected = {
        # the peer is gone: no Close is written, and the code is 1006 on both
        "eof": ("CLOSED", None, True, 1006, b""),
        "close_frame": ("CLOSE", 1000, True, 1000, b"\x88\x02\x03\xe8"),
        "empty_close": ("CLOSE", 0, True, 0, b"\x88\x02\x03\xe8"),
        "bad_frame": ("ERROR", "WebSocketError", True, 1006, b"\x88\x02\x03\xea"),
    }[how]
    assert (seen["type"], seen["data"], seen["closed"], seen["close_code"]) == expected[:4]
    assert rest.startswith(expected[4]) if expected[4] else rest == b"", rest
    assert seen["next"] == "CLOSED"


async def test_receive_timeout_leaves_the_connection_open(stack: Any, raw_ws: Any) -> None:
    seen: list[Any] = []

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        try:
            await ws.receive(timeout=0.01)
        except TimeoutError:
            seen.append("timeout")
        seen.append(ws.closed)
        await ws.send_str("still here")
        seen.append(await ws.receive_str())
        await ws.close()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        client = await raw_ws(port)
        assert await client.read_frame() == (0x81, b"still here")
        client.send(frame(0x1, b"me too"))
        assert (await client.read_frame())[0] == 0x88
    assert seen == ["timeout", False, "me too"]


async def test_close_without_an_answer_times_out(stack: Any, raw_ws: Any) -> None:
    """aiohttp's test_close_timeout: the peer reads the Close and never answers."""
    seen: list[Any] = []

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse(timeout=0.05)
        await ws.prepare(request)
        seen.append(await ws.close())
        seen.append((ws.closed, ws.close_code, type(ws.exception()).__name__))
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        client = await raw_ws(port)
        assert await client.read_frame() == (0x88, b"\x03\xe8")
        assert await client.read_rest() in (b"", b"<reset>")
    assert seen == [True, (True, 1006, "TimeoutError")]


async def _peer_gone(request: Any) -> None:
    """Wait until the server has seen the client's EOF (a hang guard, not a measure)."""
    for _ in range(int(TIMEOUT * 100)):
        transport = request.transport
        if transport is None or transport.is_closing():
            return  # aiohttp closes on EOF
        if getattr(getattr(request, "_sink", None), "_stopping", False):
            return  # Squall keeps the write side open to answer the request
        await asyncio.sleep(0.01)
    raise AssertionError("the server never saw the EOF")


async def test_prepare_after_the_client_left(stack: Any, request: pytest.FixtureRequest) -> None:
    """aiohttp's test_prepare_after_client_disconnect: the client sends the upgrade
    and leaves while the handler is busy; the handler's prepare() then fails with a
    ConnectionResetError (or, at the least, the WebSocket ends at once)."""
    seen: list[Any] = []
    done = asyncio.Event()

    async def handler(request: Any) -> Any:
        await _peer_gone(request)
        ws = stack.WebSocketResponse()
        try:
            await ws.prepare(request)
            # the WebSocket should end at once; 2 s is a hang guard
            seen.append((await asyncio.wait_for(ws.receive(), 2)).type.name)
        except ConnectionResetError:
            seen.append("ConnectionResetError")
        except TimeoutError:
            seen.append("hangs")
        finally:
            done.set()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        writer.close()
        await asyncio.wait_for(done.wait(), TIMEOUT * 2)
    assert seen in (["ConnectionResetError"], ["CLOSED"])
