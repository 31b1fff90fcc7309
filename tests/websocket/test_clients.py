"""Two independent clients (aiohttp's ``ws_connect`` and the ``websockets`` package)
against the same handlers on Squall and aiohttp: what each side sees, compared."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.websocket.conftest import TIMEOUT, one_route, serve


def echo_app(stack: Any, seen: list[Any], **ws_kwargs: Any) -> Any:
    """Echoes TEXT (as "echo:...") and BINARY; a TEXT "close" closes with 4001."""

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse(**ws_kwargs)
        await ws.prepare(request)
        async for msg in ws:
            seen.append((msg.type.name, msg.data if msg.type.name != "ERROR" else None))
            if msg.type == stack.WSMsgType.TEXT:
                if msg.data == "close":
                    await ws.close(code=4001, message=b"asked")
                elif msg.data == "json":
                    await ws.send_json({"n": 1})
                else:
                    await ws.send_str("echo:" + msg.data)
            elif msg.type == stack.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        seen.append(("close_code", ws.close_code))
        return ws

    return one_route(stack, handler)


@pytest.mark.parametrize("compress", [0, 15], ids=["plain", "deflate"])
async def test_aiohttp_client_echo(stack: Any, compress: int) -> None:
    seen: list[Any] = []
    async with serve(stack.web, echo_app(stack, seen)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws", compress=compress) as ws:
                assert ws.compress == compress
                await ws.send_str("héllo")
                assert (await ws.receive(TIMEOUT)).data == "echo:héllo"
                big = bytes(range(256)) * 1000  # 256 000 bytes: several reads, 64-bit length
                await ws.send_bytes(big)
                assert (await ws.receive(TIMEOUT)).data == big
                await ws.send_str("json")
                assert await ws.receive_json(timeout=TIMEOUT) == {"n": 1}
                await ws.close(code=4000, message=b"done")
            assert ws.close_code in (4000, 1000)  # the server's answer: see test below
    assert seen == [
        ("TEXT", "héllo"),
        ("BINARY", big),
        ("TEXT", "json"),
        ("close_code", 4000),
    ]


async def test_server_initiated_close_reaches_the_client(stack: Any) -> None:
    seen: list[Any] = []
    async with serve(stack.web, echo_app(stack, seen)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws") as ws:
                await ws.send_str("close")
                msg = await ws.receive(TIMEOUT)
                assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 4001, "asked")
                assert (await ws.receive(TIMEOUT)).type == aiohttp.WSMsgType.CLOSED
            assert ws.close_code == 4001
    # the server's close() waited for the client's answering close (code 1000)
    assert seen == [("TEXT", "close"), ("close_code", 1000)]


@pytest.mark.parametrize("compression", [None, "deflate"])
async def test_websockets_client(stack: Any, compression: str | None) -> None:
    seen: list[Any] = []
    async with serve(stack.web, echo_app(stack, seen)) as port:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ws", compression=compression, max_size=None
        ) as client:
            await client.send("hi")
            assert await asyncio.wait_for(client.recv(), TIMEOUT) == "echo:hi"
            # a fragmented message: websockets sends each piece as a frame
            await client.send(["frag", "ment", "ed"])
            assert await asyncio.wait_for(client.recv(), TIMEOUT) == "echo:fragmented"
            await client.send([b"\x00" * 70000, b"\x01" * 3])
            assert await asyncio.wait_for(client.recv(), TIMEOUT) == b"\x00" * 70000 + b"\x01" * 3
            pong = await client.ping(b"x")
            await asyncio.wait_for(pong, TIMEOUT)  # answered by the server's autoping
            await client.close(code=4002, reason="bye")
        # the server answers with the client's code (aiohttp: 1000)
        assert client.close_code == (4002 if stack.name == "squall" else 1000)
    assert seen == [
        ("TEXT", "hi"),
        ("TEXT", "fragmented"),
        ("BINARY", b"\x00" * 70000 + b"\x01" * 3),
        ("close_code", 4002),
    ]


async def test_websockets_client_sees_server_close(stack: Any) -> None:
    seen: list[Any] = []
    async with serve(stack.web, echo_app(stack, seen)) as port:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as client:
            await client.send("close")
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(client.recv(), TIMEOUT)
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4001, "asked")
    assert seen == [("TEXT", "close"), ("close_code", 4001)]


def sequence_app(stack: Any, seen: list[Any]) -> Any:
    """autoping=False, autoclose=False: every message the handler is given, in order."""

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse(autoping=False, autoclose=False)
        await ws.prepare(request)
        for _ in range(8):
            msg = await ws.receive()
            seen.append((msg.type.name, msg.data, msg.extra))
            if msg.type == stack.WSMsgType.PING:
                await ws.pong(msg.data)
            if msg.type == stack.WSMsgType.CLOSE:
                await ws.close(code=msg.data)
            if msg.type == stack.WSMsgType.CLOSED:
                break
        seen.append(("state", ws.closed, ws.close_code))
        return ws

    return one_route(stack, handler)


async def test_message_sequence_with_autoping_and_autoclose_off(stack: Any) -> None:
    seen: list[Any] = []
    async with serve(stack.web, sequence_app(stack, seen)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws", autoping=False) as ws:
                await ws.ping(b"p1")
                msg = await ws.receive(TIMEOUT)
                assert (msg.type, msg.data) == (aiohttp.WSMsgType.PONG, b"p1")
                await ws.pong(b"unasked")
                await ws.send_str(json.dumps([1, 2]))
                await ws.close(code=4003, message=b"fin")
            assert ws.close_code == 4003
    assert seen == [
        ("PING", b"p1", ""),
        ("PONG", b"unasked", ""),
        ("TEXT", "[1, 2]", ""),
        ("CLOSE", 4003, "fin"),
        ("CLOSED", None, None),
        ("state", True, 4003),
    ]


async def test_abrupt_disconnect(stack: Any, raw_ws: Any) -> None:
    """The peer goes away without a close: the handler's loop ends, code 1006."""
    seen: list[Any] = []
    done = asyncio.Event()

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive()
        seen.append((msg.type.name, msg.data))
        done.set()
        seen.append(("state", ws.closed, ws.close_code))
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        conn = await raw_ws(port)
        conn.writer.transport.abort()
        await asyncio.wait_for(done.wait(), TIMEOUT)
    assert seen == [("CLOSED", None), ("state", True, 1006)]


async def test_receive_timeout(stack: Any) -> None:
    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse(receive_timeout=0.05)
        await ws.prepare(request)
        try:
            await ws.receive()
        except TimeoutError:
            await ws.send_str("timed out, still open")
        await ws.send_str(await ws.receive_str(timeout=TIMEOUT))
        await ws.close()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws") as ws:
                assert (await ws.receive(TIMEOUT)).data == "timed out, still open"
                await ws.send_str("after")
                assert (await ws.receive(TIMEOUT)).data == "after"


async def test_receive_str_of_binary_raises(stack: Any) -> None:
    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        try:
            await ws.receive_str()
        except TypeError as exc:
            await ws.send_str(f"{type(exc).__name__}: {exc}")
        await ws.close()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws") as ws:
                await ws.send_bytes(b"b")
                text = (await ws.receive(TIMEOUT)).data
    assert text == "WSMessageTypeError: Received message 2:b'b' is not WSMsgType.TEXT"


async def test_close_from_another_task_wakes_the_reader_with_closing(stack: Any) -> None:
    seen: list[Any] = []

    async def handler(request: Any) -> Any:
        ws = stack.WebSocketResponse()
        await ws.prepare(request)
        await ws.ping(b"hb")
        await ws.send_frame(b"raw", stack.WSMsgType.BINARY)
        peer = ws.get_extra_info("peername")
        await ws.send_str(f"{peer[0]} {ws.get_extra_info('nothing', 'dflt')}")
        closer = asyncio.get_running_loop().call_later(
            0.01, lambda: asyncio.ensure_future(ws.close(code=4005, message=b"other task"))
        )
        msg = await ws.receive()
        seen.append((msg.type.name, msg.data, ws.closed, ws.close_code))
        msg = await ws.receive()
        seen.append((msg.type.name, ws.exception()))
        closer.cancel()
        return ws

    async with serve(stack.web, one_route(stack, handler)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{port}/ws", autoping=False) as ws:
                msg = await ws.receive(TIMEOUT)
                assert (msg.type, msg.data) == (aiohttp.WSMsgType.PING, b"hb")
                assert (await ws.receive_bytes(timeout=TIMEOUT)) == b"raw"
                assert (await ws.receive_str(timeout=TIMEOUT)) == "127.0.0.1 dflt"
                msg = await ws.receive(TIMEOUT)
                assert (msg.type, msg.data, msg.extra) == (
                    aiohttp.WSMsgType.CLOSE,
                    4005,
                    "other task",
                )
    assert seen == [("CLOSING", None, True, 1000), ("CLOSED", None)]
