"""The life of a stream on a live server: pings, stop_streaming, the client going
away, stalled clients; and the API's refusals. Each runs on Squall and on aiohttp
(the ``stack`` fixture): aiohttp-sse's behaviour is the expectation."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest

from .conftest import SQUALL, TIMEOUT, serve

PING = b": ping\r\n\r\n"


class Probe:
    """What a handler reports to its test, by events rather than by time."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.ended = asyncio.Event()
        self.response: Any = None
        self.notes: list[str] = []


def app_with(stack: Any, stream: Any) -> Any:
    def factory(web: Any) -> Any:
        async def handler(request: Any) -> Any:
            return await stream(stack.sse, request)

        app = web.Application()
        app.router.add_get("/", handler)
        return app

    return factory


async def read_until(reader: asyncio.StreamReader, marker: bytes) -> bytes:
    """Raw bytes from the socket up to and including ``marker`` (chunk framing kept)."""
    return await asyncio.wait_for(reader.readuntil(marker), TIMEOUT)


async def open_stream(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await read_until(reader, b"\r\n\r\n")
    return reader, writer, head


async def test_pings_and_stop_from_another_task(stack: Any) -> None:
    probe = Probe()

    async def stream(sse: Any, request: Any) -> Any:
        resp = sse.EventSourceResponse(ping_interval=0.01)
        await resp.prepare(request)
        await resp.send("foo")
        probe.response = resp
        probe.started.set()
        await resp.wait()
        probe.notes.append(f"connected={resp.is_connected()}")
        return resp

    async with serve(stack.web, app_with(stack, stream)) as port:
        reader, writer, head = await open_stream(port)
        assert b"200 OK" in head
        await asyncio.wait_for(probe.started.wait(), TIMEOUT)
        seen = await read_until(reader, PING)  # pings come by themselves
        assert b"data: foo\r\n\r\n" in seen
        probe.response.stop_streaming()  # from the test's task
        rest = await read_until(reader, b"\r\n0\r\n\r\n")  # the stream ends: last chunk
        # what follows the ping read: its chunk's end, more pings, the last chunk
        assert rest.replace(b"d\r\n" + PING + b"\r\n", b"") == b"\r\n0\r\n\r\n"
        writer.close()
    assert probe.notes == ["connected=False"]


def outcome(probe: Probe) -> Any:
    """A decorator for a stream: record how the handler ended, then set ``ended``."""

    def wrap(stream: Any) -> Any:
        async def run(sse: Any, request: Any) -> Any:
            try:
                result = await stream(sse, request)
                probe.notes.append("returned")
                return result
            except asyncio.CancelledError:
                probe.notes.append("cancelled")
                raise
            finally:
                probe.ended.set()

        return run

    return wrap


CANCELLATION = pytest.mark.parametrize(
    "handler_cancellation", [False, True], ids=["default", "handler_cancellation"]
)


@CANCELLATION
async def test_client_disconnect_ends_wait(
    stack: Any, handler_cancellation: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that goes away ends the stream: wait() returns (or, with
    handler_cancellation, the handler is cancelled at once)."""
    probe = Probe()

    @outcome(probe)
    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request, ping_interval=0.01) as resp:
            await resp.send("hello")
            await resp.wait()
            probe.notes.append(f"connected={resp.is_connected()}")
        return resp

    kwargs = {"handler_cancellation": handler_cancellation}
    async with serve(stack.web, app_with(stack, stream), **kwargs) as port:
        reader, writer, _ = await open_stream(port)
        await read_until(reader, b"data: hello\r\n\r\n")
        writer.close()  # the raw socket goes: FIN now, RST for later bytes
        await asyncio.wait_for(probe.ended.wait(), TIMEOUT)
    assert probe.notes == (
        ["cancelled"] if handler_cancellation else ["connected=False", "returned"]
    )


@CANCELLATION
async def test_send_to_a_gone_client_raises(stack: Any, handler_cancellation: bool) -> None:
    """send() raises ConnectionResetError once the client is gone, and stops the stream."""
    probe = Probe()

    @outcome(probe)
    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request) as resp:
            with contextlib.suppress(ConnectionResetError):
                while True:  # bounded by the client's close (a hang guard outside)
                    await resp.send("x" * 1000)
                    await asyncio.sleep(0)
            probe.notes.append("reset")
        probe.notes.append(f"connected={resp.is_connected()}")
        return resp

    kwargs = {"handler_cancellation": handler_cancellation}
    async with serve(stack.web, app_with(stack, stream), **kwargs) as port:
        reader, writer, _ = await open_stream(port)
        await read_until(reader, b"data: xxx")
        writer.transport.abort()  # RST at once
        await asyncio.wait_for(probe.ended.wait(), TIMEOUT)
    if handler_cancellation:  # cancelled at the loop's next turn, or reset first
        assert probe.notes in (["cancelled"], ["reset", "cancelled"])
    else:
        assert probe.notes == ["reset", "connected=False", "returned"]


async def _until_the_close_arrives(request: Any) -> None:
    """Wait (by polling the connection, not the clock) until the client's FIN has
    reached the server: Squall's protocol says so; aiohttp's transport closes."""
    for _ in range(int(TIMEOUT / 0.005)):
        peer_closed = getattr(request.protocol, "peer_closed", None)  # Squall's only
        if peer_closed:
            return
        transport = request.transport
        if peer_closed is None and (transport is None or transport.is_closing()):
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the client's close never arrived")


@CANCELLATION
async def test_the_first_send_after_the_close_raises(
    stack: Any, handler_cancellation: bool
) -> None:
    """A client that closed its socket (FIN): the first send() after its close
    reached the server raises ConnectionResetError, as on aiohttp; no event is
    silently dropped in the meantime."""
    probe = Probe()

    @outcome(probe)
    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request, ping_interval=60) as resp:
            await resp.send("hello")
            await _until_the_close_arrives(request)
            try:
                await resp.send("after the close")
            except ConnectionResetError:
                probe.notes.append("raised")
        return resp

    kwargs = {"handler_cancellation": handler_cancellation}
    async with serve(stack.web, app_with(stack, stream), **kwargs) as port:
        reader, writer, _ = await open_stream(port)
        await read_until(reader, b"data: hello\r\n\r\n")
        writer.close()  # FIN
        await asyncio.wait_for(probe.ended.wait(), TIMEOUT)
    if handler_cancellation:  # cancelled as the close arrives, or first raised
        assert probe.notes[-1] == "cancelled"
    else:
        assert probe.notes == ["raised", "returned"]


async def test_stalled_client_times_out(stack: Any) -> None:
    """A client that stops reading: send() raises TimeoutError after send_timeout and
    the connection is aborted (aiohttp-sse 3.0)."""
    probe = Probe()

    async def stream(sse: Any, request: Any) -> Any:
        try:
            async with sse.sse_response(request, send_timeout=0.2) as resp:
                big = "x" * 65536
                try:
                    while True:  # fills the socket buffers, then waits on drain
                        await resp.send(big)
                except TimeoutError:
                    probe.notes.append("timeout")
            probe.notes.append(f"connected={resp.is_connected()}")
            return resp
        finally:
            probe.ended.set()

    async with serve(stack.web, app_with(stack, stream)) as port:
        reader, writer, _ = await open_stream(port)  # and never reads again
        await asyncio.wait_for(probe.ended.wait(), TIMEOUT)
        with contextlib.suppress(ConnectionError):
            while await asyncio.wait_for(reader.read(1 << 20), TIMEOUT):
                pass  # what was in flight, then the abort's reset or EOF
        writer.close()
    assert probe.notes == ["timeout", "connected=False"]


async def test_tcp_user_timeout_set_for_the_stream() -> None:
    """aiohttp-sse 3.0 asks the kernel to give up on unacknowledged data after
    send_timeout, and restores the socket's value at write_eof."""
    import socket

    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    if option is None:
        pytest.skip("TCP_USER_TIMEOUT is Linux-only")
    seen: list[int] = []

    async def stream(sse: Any, request: Any) -> Any:
        sock = request.transport.get_extra_info("socket")
        async with sse.sse_response(request, send_timeout=7) as resp:
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, option))
        await resp.write_eof()
        seen.append(sock.getsockopt(socket.IPPROTO_TCP, option))
        return resp

    async with serve(SQUALL.web, app_with(SQUALL, stream)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as got:
                assert await got.read() == b""
    assert seen == [7000, 0]


async def test_cancellation_not_swallowed(stack: Any) -> None:
    """wait() swallows the stream's own end, never a cancel() aimed at its caller."""
    probe = Probe()

    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request) as resp:

            async def endless() -> None:
                while True:
                    await resp.wait()

            task = asyncio.create_task(endless())
            await asyncio.sleep(0)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                probe.notes.append("cancelled")
            await resp.send("after")
        return resp

    async with serve(stack.web, app_with(stack, stream)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as got:
                assert await got.read() == b"data: after\r\n\r\n"
    assert probe.notes == ["cancelled"]


async def test_prepare_again_after_the_client_left(stack: Any) -> None:
    """A second prepare() is aiohttp-sse's liveness check: CancelledError once gone."""
    probe = Probe()

    async def stream(sse: Any, request: Any) -> Any:
        try:
            async with sse.sse_response(request, ping_interval=0.01) as resp:
                assert await resp.prepare(request) is not None  # still there
                probe.started.set()
                await resp.wait()  # ends when the client goes
                try:
                    await resp.prepare(request)
                except asyncio.CancelledError:
                    probe.notes.append("cancelled")
            return resp
        finally:
            probe.ended.set()

    async with serve(stack.web, app_with(stack, stream)) as port:
        _reader, writer, _ = await open_stream(port)
        await asyncio.wait_for(probe.started.wait(), TIMEOUT)
        writer.transport.abort()
        await asyncio.wait_for(probe.ended.wait(), TIMEOUT)
    assert probe.notes == ["cancelled"]


async def test_states_on_a_live_stream(stack: Any) -> None:
    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request) as resp:
            await resp.send(f"{resp.is_connected()} {resp.chunked} {resp.prepared}")
        await resp.send(f"{resp.is_connected()}")
        return resp

    async with serve(stack.web, app_with(stack, stream)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as got:
                body = await got.read()
    assert body == b"data: True True True\r\n\r\ndata: False\r\n\r\n"


# -- the API's refusals, no server needed --------------------------------------


async def test_not_started(stack: Any) -> None:
    resp = stack.sse.EventSourceResponse()
    assert not resp.is_connected()
    with pytest.raises(RuntimeError, match="Response is not started"):
        await resp.wait()
    with pytest.raises(RuntimeError, match="Response is not started"):
        resp.stop_streaming()
    with pytest.raises(RuntimeError, match="must be prepared first"):
        _ = resp.last_event_id
    with pytest.raises(NotImplementedError):
        resp.enable_compression()


def test_constructor_checks(stack: Any) -> None:
    with pytest.raises(ValueError, match="ping interval must be positive"):
        stack.sse.EventSourceResponse(ping_interval=0)
    resp = stack.sse.EventSourceResponse(headers={"X-A": "1", "Content-Type": "text/plain"})
    assert resp.headers["X-A"] == "1"
    assert resp.headers["Content-Type"] == "text/event-stream"  # forced
    assert resp.headers["X-Accel-Buffering"] == "no"
    cls = stack.sse.EventSourceResponse
    assert (cls.DEFAULT_PING_INTERVAL, cls.DEFAULT_SEND_TIMEOUT) == (15, 120)
    assert cls.DEFAULT_LAST_EVENT_HEADER == "Last-Event-Id"


def test_response_cls_must_be_an_event_source(stack: Any) -> None:
    class Other:
        pass

    with pytest.raises(TypeError):
        stack.sse.sse_response(None, response_cls=Other)


def test_ping_interval_property() -> None:
    """aiohttp-sse 2.x's settable ``ping_interval`` (3.0 takes it in the constructor)."""
    resp = SQUALL.sse.EventSourceResponse(ping_interval=3)
    assert resp.ping_interval == 3
    for value in (25, 25.0, 0.5):
        resp.ping_interval = value
        assert resp.ping_interval == value
    for bad in (None, "foo", True):
        with pytest.raises(TypeError, match="ping interval must be int or float"):
            resp.ping_interval = bad  # type: ignore[assignment]
    for bad_value in (-42, 0, 0.0):  # 0 would ping in a busy loop (as the constructor refuses)
        with pytest.raises(ValueError, match="ping interval must be greater than 0"):
            resp.ping_interval = bad_value


async def test_awaitable_form() -> None:
    """aiohttp-sse 2.x: ``resp = await sse_response(request)``."""

    async def stream(sse: Any, request: Any) -> Any:
        resp = await sse.sse_response(request)
        await resp.send("awaited")
        resp.stop_streaming()
        await resp.wait()
        return resp

    async with serve(SQUALL.web, app_with(SQUALL, stream)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as got:
                assert await got.read() == b"data: awaited\r\n\r\n"


async def test_slow_reader_gets_every_byte(stack: Any) -> None:
    """Events larger than the socket buffers: send() waits for the client to drain
    (the suspended path of the send timeout) and every event arrives whole."""
    count, size = 64, 65536

    async def stream(sse: Any, request: Any) -> Any:
        async with sse.sse_response(request, send_timeout=TIMEOUT) as resp:
            for i in range(count):
                await resp.send(chr(ord("a") + i % 26) * size, id=str(i))
        return resp

    async with serve(stack.web, app_with(stack, stream)) as port:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as got:
                body = b""
                while chunk := await got.content.read(4096):  # small reads: slow
                    body += chunk
    events = body.split(b"\r\n\r\n")
    assert events[-1] == b"" and len(events) == count + 1
    for i, event in enumerate(events[:-1]):
        assert event == b"id: %d\r\ndata: %s" % (i, bytes([ord("a") + i % 26]) * size)
