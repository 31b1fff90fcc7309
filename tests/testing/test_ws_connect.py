"""``client.ws_connect``: one aiohttp-style test body on aiohttp's test_utils and on
squall.testing (``kit``), then both clients against a scripted raw server (``side``)
for what no well-behaved server sends: bad handshakes, bad frames, a silent peer,
deflate checked on the wire.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

import squall
from squall import testing as squall_testing
from squall.websocket import Deflater, accept_key, build_frame, mask

from .conftest import Kit

GUARD = 10.0  # a hang guard only


@dataclass(frozen=True)
class Errors:
    handshake: type[Exception]
    response: type[Exception]
    msg_type: type[Exception]
    server_timeout: type[Exception]
    websocket: type[Exception]
    connection: type[Exception]


ERRORS = {
    "squall": Errors(
        squall_testing.WSServerHandshakeError,
        squall_testing.ClientResponseError,
        squall.WSMessageTypeError,
        squall_testing.ServerTimeoutError,
        squall.WebSocketError,
        squall_testing.ClientConnectionError,
    ),
    "aiohttp": Errors(
        aiohttp.WSServerHandshakeError,
        aiohttp.ClientResponseError,
        aiohttp.WSMessageTypeError,
        aiohttp.ServerTimeoutError,
        aiohttp.WebSocketError,
        aiohttp.ClientConnectionError,
    ),
}


def app_of(web: Any) -> Any:
    seen: list[tuple[str, Any, Any]] = []  # what the server's receive() ended with
    done = asyncio.Event()

    async def echo_until_close(ws: Any) -> None:
        while True:
            msg = await ws.receive()
            if msg.type is web.WSMsgType.TEXT:
                if msg.data == "close":
                    await ws.close(code=4001, message=b"bye")
                else:
                    await ws.send_str(msg.data)
            elif msg.type is web.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
            else:
                seen.append((msg.type.name, msg.data, msg.extra))
                done.set()
                return

    async def echo(request: Any) -> Any:
        ws = web.WebSocketResponse(protocols=("chat", "v2"))
        await ws.prepare(request)
        await echo_until_close(ws)
        return ws

    async def info(request: Any) -> Any:
        ws = web.WebSocketResponse(protocols=("chat", "v2"))
        await ws.prepare(request)
        await ws.send_json(
            {
                "protocol": ws.ws_protocol,
                "compress": ws.compress,
                "origin": request.headers.get("Origin"),
                "x_test": request.headers.get("X-Test"),
                "cookies": dict(request.cookies),
                "query": request.query_string,
            }
        )
        await echo_until_close(ws)
        return ws

    async def pingpong(request: Any) -> Any:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"srv")
        for _ in range(2):  # the client's pong (or its ping), then its ping
            msg = await ws.receive()
            await ws.send_str(f"{msg.type.name}:{msg.data.decode()}")
            if msg.type is web.WSMsgType.PING:
                await ws.pong(msg.data)
        await ws.receive()
        return ws

    async def cookie(request: Any) -> Any:
        ws = web.WebSocketResponse()
        ws.set_cookie("ws", "on")
        await ws.prepare(request)
        await echo_until_close(ws)
        return ws

    async def plain(request: Any) -> Any:
        return web.Response(text="no websocket here")

    app = web.Application()
    app.router.add_get("/ws", echo)
    app.router.add_get("/info", info)
    app.router.add_get("/pingpong", pingpong)
    app.router.add_get("/plain", plain)
    app.router.add_get("/cookie", cookie)
    app[web.AppKey("seen", list)] = seen
    app[web.AppKey("done", asyncio.Event)] = done
    return app


def server_saw(app: Any) -> tuple[asyncio.Event, list[tuple[str, Any, Any]]]:
    done = next(v for v in app.values() if isinstance(v, asyncio.Event))
    return done, next(v for v in app.values() if isinstance(v, list))


async def test_echo_text_binary_and_json(kit: Kit) -> None:
    errors = ERRORS[kit.name]
    async with kit.client(app_of(kit.web)) as client, client.ws_connect("/ws") as ws:
        assert (ws.closed, ws.close_code, ws.protocol, ws.compress) == (False, None, None, 0)
        await ws.send_str("h\u00e9llo")
        msg = await ws.receive()
        assert (msg.type.name, msg.data) == ("TEXT", "h\u00e9llo")
        assert msg.json(loads=lambda s: s.upper()) == "H\u00c9LLO"
        await ws.send_bytes(bytearray(b"\x00\xff"))
        assert await ws.receive_bytes() == b"\x00\xff"
        await ws.send_json({"a": [1, None]})
        assert await ws.receive_json() == {"a": [1, None]}
        await ws.send_frame(b"frame", kit.web.WSMsgType.BINARY)
        with pytest.raises(errors.msg_type, match=r"is not WSMsgType\.TEXT"):
            await ws.receive_str()
        await ws.send_str("text")
        with pytest.raises(errors.msg_type, match=r"is not WSMsgType\.BINARY"):
            await ws.receive_bytes()
        with pytest.raises(TypeError, match="must be str"):
            await ws.send_str(b"x")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="must be byte-ish"):
            await ws.send_bytes("x")  # type: ignore[arg-type]
        assert ws.get_extra_info("peername")[:2] == ("127.0.0.1", client.port)
        assert ws.get_extra_info("no-such-thing", "dflt") == "dflt"
        assert ws.exception() is None
    assert ws.closed


async def test_async_for_ends_at_the_servers_close(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        ws = await client.ws_connect("/ws")
        for text in ("a", "b", "close"):
            await ws.send_str(text)
        got = [msg.data async for msg in ws]
        assert got == ["a", "b"]
        assert (ws.closed, ws.close_code) == (True, 4001)
        assert (await ws.receive()).type.name == "CLOSED"
        assert (await ws.receive()).type.name == "CLOSED"  # for ever, on the client
        assert await ws.close() is False


async def test_the_servers_close_with_autoclose_off(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        ws = await client.ws_connect("/ws", autoclose=False)
        await ws.send_str("close")
        msg = await ws.receive()
        assert (msg.type.name, msg.data, msg.extra) == ("CLOSE", 4001, "bye")
        assert (ws.closed, ws.close_code) == (False, 4001)  # not answered yet
        assert (await ws.receive()).type.name == "CLOSED"  # answers it now
        assert (ws.closed, ws.close_code) == (True, 4001)


async def test_the_clients_close_code_and_reason_reach_the_server(kit: Kit) -> None:
    app = app_of(kit.web)
    async with kit.client(app) as client:
        ws = await client.ws_connect("/ws")
        assert await ws.close(code=4002, message=b"done") is True
        assert await ws.close() is False
        done, seen = server_saw(app)
        await asyncio.wait_for(done.wait(), GUARD)
        assert seen == [("CLOSE", 4002, "done")]
        # the server's answer: Squall's echoes the code, aiohttp's says 1000
        # (docs/websockets.md, differences); the client reports what came back
        assert ws.closed
        assert ws.close_code == (4002 if kit.name == "squall" else 1000)


@pytest.mark.parametrize("autoping", [False, True])
async def test_ping_and_pong(kit: Kit, autoping: bool) -> None:
    async with kit.client(app_of(kit.web)) as client:
        ws = await client.ws_connect("/pingpong", autoping=autoping)
        if not autoping:
            msg = await ws.receive()
            assert (msg.type.name, msg.data) == ("PING", b"srv")
            await ws.pong(msg.data)
        assert await ws.receive_str() == "PONG:srv"  # answered by hand, or by autoping
        await ws.ping(b"cli")
        assert await ws.receive_str() == "PING:cli"
        if not autoping:
            msg = await ws.receive()
            assert (msg.type.name, msg.data) == ("PONG", b"cli")
        assert await ws.close() is True
        assert ws.close_code == 1000


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [(("v3", "chat"), "chat"), (("v2", "chat"), "v2"), (("v9",), None), ((), None)],
)
async def test_subprotocols(kit: Kit, offered: tuple[str, ...], chosen: str | None) -> None:
    async with kit.client(app_of(kit.web)) as client:
        async with client.ws_connect("/info", protocols=offered) as ws:
            assert ws.protocol == chosen
            assert (await ws.receive_json())["protocol"] == chosen


@pytest.mark.parametrize(
    ("compress", "client_window", "server_window"),
    [(0, 0, 0), (15, 15, 15), (10, 15, 10)],
)
async def test_compression(kit: Kit, compress: int, client_window: int, server_window: int) -> None:
    async with kit.client(app_of(kit.web)) as client:
        async with client.ws_connect("/info", compress=compress) as ws:
            assert ws.compress == client_window  # our compressor's window
            assert (await ws.receive_json())["compress"] == server_window
            text = "squall " * 10000
            await ws.send_str(text)
            assert await ws.receive_str() == text
            if compress:  # (aiohttp's client sets RSV1 even where deflate is off)
                await ws.send_bytes(b"\x00" * 70000, compress=9)  # a per-message window
                assert await ws.receive_bytes() == b"\x00" * 70000
                if kit.web.__name__.startswith("squall"):
                    # the next message refers back into the window: a one-off compressor
                    # for compress=9 (aiohttp's client) leaves it out of step (corrupt)
                    await ws.send_str(text)
                    assert await ws.receive_str() == text


async def test_the_session_headers_cookies_origin_and_query_are_sent(kit: Kit) -> None:
    async with kit.client(app_of(kit.web), headers={"X-Test": "session"}) as client:
        client.session.cookie_jar.update_cookies({"sid": "abc"})
        ws = await client.ws_connect("/info?a=1", origin="http://o.example", params={"b": "2"})
        info = await ws.receive_json()
        assert info["origin"] == "http://o.example"
        assert info["x_test"] == "session"
        assert info["cookies"] == {"sid": "abc"}
        assert info["query"] == "a=1&b=2"
        await ws.close()
        ws = await client.ws_connect("/info", headers={"X-Test": "call"})
        assert (await ws.receive_json())["x_test"] == "call"
        await ws.close()


async def test_a_cookie_set_in_the_101_enters_the_jar(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        async with client.ws_connect("/cookie"):
            pass
        jar = client.session.cookie_jar
        assert [(m.key, m.value) for m in jar] == [("ws", "on")]
        async with client.ws_connect("/info") as ws:  # and goes back with the next one
            assert (await ws.receive_json())["cookies"] == {"ws": "on"}


async def test_a_message_over_max_msg_size_fails_with_1009(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        ws = await client.ws_connect("/ws", max_msg_size=10)
        await ws.send_str("x" * 20)  # the server echoes it: too big for us
        msg = await ws.receive()
        assert msg.type.name == "ERROR"
        assert msg.data.code == 1009
        assert (ws.closed, ws.close_code) == (True, 1009)


@pytest.mark.parametrize(("path", "status"), [("/nope", 404), ("/plain", 200)])
async def test_a_failed_handshake_raises_the_handshake_error(
    kit: Kit, path: str, status: int
) -> None:
    errors = ERRORS[kit.name]
    async with kit.client(app_of(kit.web)) as client:
        with pytest.raises(errors.handshake) as info:
            await client.ws_connect(path)
        assert isinstance(info.value, errors.response)
        assert info.value.status == status  # type: ignore[attr-defined]
        assert info.value.message == "Invalid response status"  # type: ignore[attr-defined]
        async with client.ws_connect("/ws") as ws:  # the client carries on
            await ws.send_str("still")
            assert await ws.receive_str() == "still"


async def test_a_receive_timeout_leaves_the_connection_open(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client, client.ws_connect("/ws") as ws:
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.05)
        assert ws.close_code == 1006  # as aiohttp says, though the socket is open
        assert not ws.closed
        await ws.send_str("after")
        assert await ws.receive_str() == "after"


async def test_close_from_another_task_wakes_the_reader(kit: Kit) -> None:
    async with kit.client(app_of(kit.web)) as client:
        ws = await client.ws_connect("/ws")
        reader = asyncio.create_task(ws.receive())
        await asyncio.sleep(0)  # let it start waiting (no I/O involved: one step)
        with pytest.raises(RuntimeError, match="Concurrent call to receive"):
            await ws.receive()
        assert await ws.close() is True
        msg = await asyncio.wait_for(reader, GUARD)
        assert msg.type.name == "CLOSING"
        assert ws.closed


async def test_closing_the_client_closes_its_websockets(kit: Kit) -> None:
    app = app_of(kit.web)
    async with kit.client(app) as client:
        ws = await client.ws_connect("/ws")
    assert ws.closed
    done, seen = server_saw(app)
    assert done.is_set()
    assert seen == [("CLOSE", 1000, "")]


# -- both clients against a scripted raw server ------------------------------------

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict[str, str]], Awaitable[None]]


@dataclass(frozen=True)
class Side:
    name: str
    session: Callable[[], Any]


@pytest.fixture(
    params=[Side("squall", squall_testing.ClientSession), Side("aiohttp", aiohttp.ClientSession)],
    ids=["squall", "aiohttp"],
)
def side(request: pytest.FixtureRequest) -> Side:
    return request.param  # type: ignore[no-any-return]


@asynccontextmanager
async def raw_server(script: Script) -> AsyncIterator[str]:
    """A server on 127.0.0.1 that reads the upgrade and runs ``script``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        pairs = (line.partition(":") for line in lines if line)
        headers = {k.strip().lower(): v.strip() for k, _, v in pairs}
        try:
            await script(reader, writer, headers)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/ws"
    finally:
        server.close()


def answer(headers: dict[str, str], *, accept: str | None = None, extra: str = "") -> bytes:
    key = accept if accept is not None else accept_key(headers["sec-websocket-key"])
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
        f"Sec-WebSocket-Accept: {key}\r\n{extra}\r\n"
    ).encode()


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """One frame from the client: (first byte, masked?, unmasked payload)."""
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    key = await reader.readexactly(4) if b1 & 0x80 else b""
    payload = await reader.readexactly(n)
    return b0, bool(key), mask(key, payload) if key else payload


@pytest.mark.parametrize(
    ("extra", "accept", "message"),
    [
        ("", "d3Jvbmc=", "Invalid challenge response"),
        ("Sec-WebSocket-Extensions: permessage-deflate; bogus\r\n", None, "Extension for deflate"),
        (
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n",
            None,
            "Invalid window size",
        ),
    ],
    ids=["accept", "deflate-param", "deflate-window"],
)
async def test_a_bad_101_raises_the_handshake_error(
    side: Side, extra: str, accept: str | None, message: str
) -> None:
    async def script(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> None:
        assert h["upgrade"] == "websocket" and h["sec-websocket-version"] == "13"
        w.write(answer(h, accept=accept, extra=extra))
        await r.read()

    async with raw_server(script) as url, side.session() as session:
        with pytest.raises(ERRORS[side.name].handshake) as info:
            await session.ws_connect(url, compress=15)
        assert info.value.status == 101  # type: ignore[attr-defined]
        assert info.value.message.startswith(message)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"HTTP/1.1 101 OK\r\nConnection: upgrade\r\n\r\n", "Invalid upgrade header"),
        (b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n", "Invalid connection header"),
    ],
)
async def test_a_101_without_the_upgrade_headers_is_refused(
    side: Side, head: bytes, message: str
) -> None:
    async def script(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> None:
        w.write(head)
        await r.read()

    async with raw_server(script) as url, side.session() as session:
        with pytest.raises(ERRORS[side.name].handshake, match=message):
            await session.ws_connect(url)


async def test_a_bad_frame_from_the_server_fails_with_its_close_code(side: Side) -> None:
    sent: asyncio.Future[tuple[int, bool, bytes]] = asyncio.get_running_loop().create_future()

    async def script(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> None:
        w.write(answer(h) + build_frame(1, b"fine") + bytes((0x83, 0)))  # opcode 3: reserved
        sent.set_result(await read_frame(r))

    async with raw_server(script) as url, side.session() as session:
        ws = await session.ws_connect(url)
        assert await ws.receive_str() == "fine"  # what came before the bad frame
        msg = await ws.receive()
        assert msg.type.name == "ERROR"
        assert isinstance(msg.data, ERRORS[side.name].websocket)
        assert msg.data.code == 1002
        assert (ws.closed, ws.close_code) == (True, 1002)
        close_frame = await asyncio.wait_for(sent, GUARD)
        assert close_frame == (0x88, True, (1002).to_bytes(2, "big"))  # a masked Close 1002


async def test_a_heartbeat_without_a_pong_fails_the_connection(side: Side) -> None:
    async def script(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> None:
        w.write(answer(h))
        b0, masked, payload = await read_frame(r)
        assert (b0, masked, payload) == (0x89, True, b"")  # the heartbeat's ping
        await r.read()  # and never a pong

    async with raw_server(script) as url, side.session() as session:
        ws = await session.ws_connect(url, heartbeat=0.05)
        msg = await asyncio.wait_for(ws.receive(), GUARD)
        assert msg.type.name == "ERROR"
        assert isinstance(msg.data, ERRORS[side.name].server_timeout)
        assert isinstance(msg.data, asyncio.TimeoutError)
        assert ws.exception() is msg.data
        assert (ws.closed, ws.close_code) == (True, 1006)


@pytest.mark.parametrize(
    ("answered", "window", "notakeover"),
    [
        ("permessage-deflate", 15, False),
        ("permessage-deflate; client_max_window_bits=9; client_no_context_takeover", 9, True),
    ],
)
async def test_deflate_on_the_wire(
    side: Side, answered: str, window: int, notakeover: bool
) -> None:
    got: list[bytes] = []
    text = "deflate me " * 300

    async def script(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> None:
        offer = h["sec-websocket-extensions"]
        assert offer == "permessage-deflate; client_max_window_bits"
        compressed = Deflater().compress(text.encode())
        extra = f"Sec-WebSocket-Extensions: {answered}\r\n"
        w.write(answer(h, extra=extra) + build_frame(1, compressed, rsv1=True))
        inflater = zlib.decompressobj(-window)
        for _ in range(2):
            b0, masked, payload = await read_frame(r)
            assert b0 == 0xC1 and masked  # FIN, RSV1, TEXT
            assert len(payload) < len(text)
            if notakeover:  # each message must inflate on its own
                inflater = zlib.decompressobj(-window)
            got.append(inflater.decompress(payload + b"\x00\x00\xff\xff"))
        b0, _, payload = await read_frame(r)
        assert (b0, payload) == (0x88, b"\x03\xe8bye")  # the Close: never compressed
        w.write(build_frame(8, payload))

    async with raw_server(script) as url, side.session() as session:
        ws = await session.ws_connect(url, compress=15)
        assert (ws.compress, ws.client_notakeover) == (window, notakeover)
        assert await ws.receive_str() == text
        await ws.send_str(text)
        await ws.send_str(text)  # a second message: a fresh window when asked for
        await ws.close(message="bye")
    assert got == [text.encode()] * 2


async def test_a_server_that_hangs_up_ends_the_websocket(side: Side) -> None:
    async def script(r: asyncio.StreamReader, w: asyncio.StreamWriter, h: dict[str, str]) -> None:
        w.write(answer(h) + build_frame(2, b"last"))

    async with raw_server(script) as url, side.session() as session:
        ws = await session.ws_connect(url)
        assert await ws.receive_bytes() == b"last"
        assert (await asyncio.wait_for(ws.receive(), GUARD)).type.name == "CLOSED"
        assert (ws.closed, ws.close_code) == (True, 1006)
        assert isinstance(ws.exception(), ConnectionResetError)
        with pytest.raises(ConnectionResetError):
            await ws.send_str("nobody listens")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for 127.0.0.1, and a client
    context that trusts it."""
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    files = ["-keyout", str(key), "-out", str(cert)]
    name = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *files, *name],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


async def test_over_tls(kit: Kit, tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, client_context = tls
    server = kit.testing.TestServer(app_of(kit.web), scheme="https")
    await server.start_server(ssl=server_context)
    async with kit.testing.TestClient(server) as client:
        assert client.make_url("/").scheme == "https"
        for ssl_option in (client_context, False):  # trusted, or not checked
            async with client.ws_connect("/ws", ssl=ssl_option) as ws:
                await ws.send_str("secret")
                assert await ws.receive_str() == "secret"
                assert ws.get_extra_info("sslcontext") is not None
        with pytest.raises(ERRORS[kit.name].connection) as info:
            await client.ws_connect("/ws")  # the default context does not know the cert
        assert isinstance(info.value.__cause__, ssl.SSLError)


async def test_a_refused_connection_is_a_client_connection_error(side: Side) -> None:
    port = squall_testing.unused_port()
    async with side.session() as session:
        with pytest.raises(ERRORS[side.name].connection):
            await session.ws_connect(f"http://127.0.0.1:{port}/ws")
