"""Zero-copy sending (sendfile(2) past the transport) and where it must not be used.

Each test runs on both loops (conftest). Waits are on events the server reports
(a spy on ``_writable``, the wait for the socket to drain), never on time.
"""

from __future__ import annotations

import asyncio
import errno
import gzip
import logging
import os
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from framework._wire import build, exchange, exchange_all, serve
from squall import web
from squall.framework import fileresponse
from squall.framework.fileresponse import FileResponse
from squall.framework.response import Response
from squall.framework.streamresponse import StreamResponse
from squall.runner import AppRunner, TCPSite
from squall.typedefs import ClientDisconnectedError

TIMEOUT = 10.0  # hang guard only
SIZE = 8 * 2**20  # more than loopback's socket buffers take while nobody reads
DATA = bytes(range(256)) * (SIZE // 256)
SMALL = b"small file\n"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "big.bin").write_bytes(DATA)
    (tmp_path / "small.txt").write_bytes(SMALL)
    return tmp_path


@pytest.fixture
def no_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a body goes through the read-and-write fallback."""

    async def refuse(self: FileResponse, fd: int, offset: int, count: int) -> int:
        raise AssertionError("the chunked fallback was used")

    monkeypatch.setattr(FileResponse, "_send_chunks", refuse)


class Stalls:
    """A spy on ``_writable``: the server found the socket full and waits on it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.event = asyncio.Event()
        self.buffered: list[int] = []  # the transport's buffer at each wait
        self.fds: list[int] = []
        self.transports: list[Any] = []
        self.on_first: Callable[[], None] | None = None
        real = fileresponse._writable

        async def spy(loop: asyncio.AbstractEventLoop, fd: int, transport: Any) -> None:
            self.buffered.append(transport.get_write_buffer_size())
            self.fds.append(fd)
            self.transports.append(transport)
            if not self.event.is_set():
                self.event.set()
                if self.on_first is not None:
                    self.on_first()
            await real(loop, fd, transport)

        monkeypatch.setattr(fileresponse, "_writable", spy)


@asynccontextmanager
async def stalled_client(port: int, target: str) -> AsyncIterator[Any]:
    """A client with a small receive buffer that sent ``GET target`` and reads nothing yet."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
    writer.write(build("GET", target))
    try:
        yield reader, writer
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The head and everything after it until the server ends the connection."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    chunks = []
    while chunk := await asyncio.wait_for(reader.read(2**16), TIMEOUT):
        chunks.append(chunk)
    return head, b"".join(chunks)


def static_app(root: Path) -> Callable[[Any], web.Application]:
    def factory(_web: Any) -> web.Application:
        app = web.Application()
        app.router.add_static("/s", root)
        app.router.add_get("/ok", _ok)
        return app

    return factory


async def _ok(request: web.Request) -> Response:
    return Response(text="ok")


# -- the zero-copy path ---------------------------------------------------------------


@pytest.mark.usefixtures("no_chunks")
async def test_whole_range_and_head_go_by_sendfile(files: Path) -> None:
    async with serve(web, static_app(files)) as port:
        whole = await exchange(port, build("GET", "/s/big.bin"))
        middle = await exchange(
            port, build("GET", "/s/big.bin", headers={"Range": "bytes=1000-2000999"})
        )
        suffix = await exchange(port, build("GET", "/s/big.bin", headers={"Range": "bytes=-7"}))
        head, after = await exchange_all(
            port, [build("HEAD", "/s/big.bin"), build("GET", "/s/small.txt")]
        )
    assert whole.status == 200 and whole.body == DATA
    assert middle.status == 206 and middle.body == DATA[1000:2001000]
    assert middle.header("Content-Range") == f"bytes 1000-2000999/{SIZE}"
    assert suffix.body == DATA[-7:]
    assert head.header("Content-Length") == str(SIZE) and head.body == b""
    assert after.status == 200 and after.body == SMALL  # HEAD left the connection in step


async def test_nosendfile_reads_and_writes(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileresponse, "NOSENDFILE", True)

    async def refuse(*args: Any) -> int | None:
        raise AssertionError("sendfile(2) was used under NOSENDFILE")

    monkeypatch.setattr(fileresponse, "_zero_copy", refuse)
    async with serve(web, static_app(files)) as port:
        reply = await exchange(
            port, build("GET", "/s/big.bin", headers={"Range": "bytes=5-3000004"})
        )
    assert reply.status == 206 and reply.body == DATA[5:3000005]


@pytest.mark.usefixtures("no_chunks")
async def test_pipelined_answers_stay_in_order(files: Path) -> None:
    """What the connection batched before a file goes out before it, and the
    answers after it follow it."""
    requests = [
        build("GET", "/s/small.txt"),
        build("GET", "/s/big.bin", headers={"Range": "bytes=0-99999"}),
        build("GET", "/ok"),
        build("GET", "/s/big.bin", headers={"Range": "bytes=100000-299999"}),
        build("GET", "/s/small.txt"),
    ]
    async with serve(web, static_app(files)) as port:
        replies = await exchange_all(port, requests)
    assert [r.body for r in replies] == [
        SMALL,
        DATA[:100000],
        b"ok",
        DATA[100000:300000],
        SMALL,
    ]


@pytest.mark.usefixtures("no_chunks")
async def test_a_slow_reader_is_waited_for_without_buffering(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalls = Stalls(monkeypatch)
    async with serve(web, static_app(files)) as port:
        async with stalled_client(port, "/s/big.bin") as (reader, _):
            await asyncio.wait_for(stalls.event.wait(), TIMEOUT)  # the socket is full
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            body = await asyncio.wait_for(reader.readexactly(SIZE), TIMEOUT)
        again = await exchange(port, build("GET", "/ok"))
    assert b"Content-Length: %d" % SIZE in head
    assert body == DATA
    assert stalls.buffered and set(stalls.buffered) == {0}  # nothing held in memory
    assert again.body == b"ok"


async def test_a_file_shrinking_mid_send_ends_the_connection(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalls = Stalls(monkeypatch)
    cut = 2 * 2**20  # a page boundary: the pages already sent stay as they were
    stalls.on_first = lambda: os.truncate(files / "big.bin", cut)
    async with serve(web, static_app(files)) as port:
        async with stalled_client(port, "/s/big.bin") as (reader, _):
            await asyncio.wait_for(stalls.event.wait(), TIMEOUT)
            head, body = await read_response(reader)  # to the server's close
        again = await exchange(port, build("GET", "/ok"))
    assert b"Content-Length: %d" % SIZE in head
    assert len(body) < SIZE
    assert body == DATA[: len(body)]
    assert again.body == b"ok"


async def test_a_client_leaving_mid_send_frees_the_socket(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalls = Stalls(monkeypatch)
    done = asyncio.Event()
    raised: list[BaseException] = []

    async def handler(request: web.Request) -> StreamResponse:
        response = FileResponse(files / "big.bin")
        try:
            await response.prepare(request)
        except BaseException as exc:
            raised.append(exc)
            raise
        finally:
            done.set()
        return response

    def factory(_web: Any) -> web.Application:
        app = web.Application()
        app.router.add_get("/f", handler)
        app.router.add_get("/ok", _ok)
        return app

    async with serve(web, factory) as port:
        async with stalled_client(port, "/f") as (_, writer):
            await asyncio.wait_for(stalls.event.wait(), TIMEOUT)
            dup = stalls.fds[0]
            identity = os.fstat(dup)[1:3]  # (inode, device) of the server's socket
            writer.transport.abort()  # gone, with unread bytes: a reset
            await asyncio.wait_for(done.wait(), TIMEOUT)
        again = await exchange(port, build("GET", "/ok"))
    assert raised and isinstance(raised[0], ClientDisconnectedError)
    assert _closed_or_other(dup, identity)  # the duplicate descriptor was closed
    assert again.body == b"ok"


async def test_a_connection_closed_by_the_server_mid_send_ends(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The duplicate descriptor keeps the socket open: the send must notice the
    transport closing and let go, or the client would wait forever."""
    stalls = Stalls(monkeypatch)
    monkeypatch.setattr(fileresponse, "RECHECK", 0.05)  # sooner than 1 s; not asserted
    stalls.on_first = lambda: stalls.transports[0].abort()
    async with serve(web, static_app(files)) as port:
        async with stalled_client(port, "/s/big.bin") as (reader, _):
            await asyncio.wait_for(stalls.event.wait(), TIMEOUT)
            try:
                _, body = await read_response(reader)
            except ConnectionResetError:
                body = b""
        again = await exchange(port, build("GET", "/ok"))
    assert len(body) < SIZE  # not sent on through the duplicate after the close
    assert again.body == b"ok"


@pytest.mark.usefixtures("no_chunks")
async def test_the_access_log_counts_what_sendfile_sent(
    files: Path, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("tests.files.access")
    caplog.set_level(logging.INFO, logger=logger.name)  # before start: the log is on
    runner = AppRunner(static_app(files)(web), access_log=logger, access_log_format="%r %b")
    await runner.setup()
    try:
        site = TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        reply = await exchange(site.port, build("GET", "/s/big.bin"))
    finally:
        await runner.cleanup()  # the handler has finished: its line is logged
    assert reply.body == DATA
    sizes = [
        int(r.getMessage().rsplit(" ", 1)[1]) for r in caplog.records if "big" in r.getMessage()
    ]
    assert len(sizes) == 1 and SIZE < sizes[0] < SIZE + 1000  # head and body


def _closed_or_other(fd: int, identity: tuple[int, int]) -> bool:
    try:
        return os.fstat(fd)[1:3] != identity
    except OSError:
        return True


# -- where sendfile(2) cannot be used ---------------------------------------------------


async def test_compression_reads_and_compresses(files: Path) -> None:
    async def handler(request: web.Request) -> FileResponse:
        response = FileResponse(files / "big.bin")
        response.enable_compression()
        return response

    def factory(_web: Any) -> web.Application:
        app = web.Application()
        app.router.add_get("/f", handler)
        return app

    async with serve(web, factory) as port:
        reply = await exchange(port, build("GET", "/f", headers={"Accept-Encoding": "gzip"}))
    assert reply.header("Content-Encoding") == "gzip"
    assert gzip.decompress(reply.body) == DATA


async def test_a_file_sendfile_cannot_read_is_read_and_written(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sendfile(2) refusing the file before a byte went (EINVAL: some file systems)
    leaves the body to the fallback; after bytes went, it could not."""
    calls: list[int] = []

    def refuse(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        calls.append(offset)
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(fileresponse, "_SENDFILE", refuse)
    async with serve(web, static_app(files)) as port:
        reply = await exchange(port, build("GET", "/s/big.bin", headers={"Range": "bytes=9-"}))
    assert calls == [9]
    assert reply.status == 206 and reply.body == DATA[9:]


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("cert")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-subj", "/CN=localhost", "-days", "2",
         "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return d / "cert.pem", d / "key.pem"


async def test_tls_falls_back_to_reading(
    files: Path, cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[int | None] = []
    real = fileresponse._zero_copy

    async def spy(*args: Any) -> int | None:
        answers.append(await real(*args))
        return answers[-1]

    monkeypatch.setattr(fileresponse, "_zero_copy", spy)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    runner = AppRunner(static_app(files)(web))
    await runner.setup()
    site = TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site.port
    try:
        async with httpx.AsyncClient(verify=False, timeout=TIMEOUT) as client:
            reply = await client.get(f"https://127.0.0.1:{port}/s/big.bin")
    finally:
        await runner.cleanup()
    assert reply.status_code == 200 and reply.content == DATA
    assert answers == [None]  # asked, and declined: the bytes went through TLS


@pytest.mark.usefixtures("no_chunks")
async def test_bytes_the_transport_holds_go_before_the_file(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stalled client's earlier answer still sits in the transport: sendfile(2)
    waits until all of it has left."""
    stalls = Stalls(monkeypatch)
    blob = os.urandom(SIZE)  # twice what the kernel takes (tcp_wmem's 4 MiB at most)

    async def big(request: web.Request) -> Response:
        # the transport holds what the kernel does not take, without pausing the
        # connection: the next request is answered while the blob is still there
        request.transport.set_write_buffer_limits(high=4 * SIZE)  # type: ignore[union-attr]
        return Response(body=blob)

    def factory(_web: Any) -> web.Application:
        app = static_app(files)(_web)
        app.router.add_get("/blob", big)
        return app

    async with serve(web, factory) as port:
        async with stalled_client(port, "/blob") as (reader, writer):
            writer.write(build("GET", "/s/big.bin"))
            await asyncio.wait_for(stalls.event.wait(), TIMEOUT)
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            first = await asyncio.wait_for(reader.readexactly(len(blob)), TIMEOUT)
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            second = await asyncio.wait_for(reader.readexactly(SIZE), TIMEOUT)
    assert first == blob and second == DATA
    assert stalls.buffered[0] > 0  # the case under test: the transport held bytes
