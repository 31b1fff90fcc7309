"""Fuzz target (b): the whole server path, in process, with a real Application.

Bytes go into ``HttpProtocol.data_received`` in fuzzed reads, through a transport
that only collects what is written; the loop runs between reads so that handlers
which suspend make progress; then the client half-closes and goes. The app's
handlers read what a careful user's would: headers, cookies, query, match_info,
url, content type, conditional fields, ranges, forwarded, the body as bytes,
text, JSON and a form, streamed and not, and answer with a digest of it.

Checks, on every input: no response is a 500, and nothing is logged at ERROR or
above (a handler's unexpected exception is both). Malformed input must get a 4xx
(or the connection closed), never a traceback. ``SQUALL_FUZZ_IGNORE`` steps over
known failures (see fuzz/README.md).

    .venv/bin/python fuzz/fuzz_protocol.py /tmp/fuzz-protocol fuzz/seeds -dict=fuzz/http.dict
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import zlib
from typing import Any

import atheris

with atheris.instrument_imports(include=["squall"]):
    from squall import web
    from squall.server.config import ServerConfig
    from squall.server.server import Server

from _requests import request_stream, split

STATUS_500 = re.compile(rb"HTTP/1\.[01] 500 ")
SETTLE_ROUNDS = 20  # loop iterations between reads: a handler suspends a few times at most
# Known failures to step over while they are being fixed: a failure whose report
# holds one of these "|"-separated texts (a function name, an exception) is ignored.
IGNORE = [text for text in os.environ.get("SQUALL_FUZZ_IGNORE", "").split("|") if text]

# -- the application ---------------------------------------------------------------

ATTRIBUTES = (
    "method", "version", "path", "raw_path", "path_qs", "query_string", "host", "scheme",
    "secure", "remote", "url", "rel_url", "content_type", "charset", "content_length",
    "keep_alive", "if_modified_since", "if_unmodified_since", "if_range", "if_match",
    "if_none_match", "forwarded", "body_exists", "can_read_body",
)  # fmt: skip


def digest(*values: Any) -> str:
    return f"{zlib.crc32(repr(values).encode('utf-8', 'surrogateescape')):08x}"


def request_state(request: web.Request) -> list[Any]:
    state: list[Any] = [getattr(request, name, None) for name in ATTRIBUTES]
    state.append(str(request.url))
    state.append(dict(request.query))
    state.append(list(request.headers.items()))
    state.append(dict(request.cookies))
    state.append(dict(request.match_info))
    try:
        state.append(request.http_range)
    except ValueError:  # documented: a malformed Range is the handler's to answer
        state.append("bad range")
    return state


async def info(request: web.Request) -> web.Response:
    return web.Response(text=digest(request_state(request)))


async def read(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(text=digest(len(body), request_state(request)))


async def text(request: web.Request) -> web.Response:
    return web.Response(text=digest(await request.text()))


async def json_body(request: web.Request) -> web.Response:
    return web.json_response({"digest": digest(await request.json())})


async def form(request: web.Request) -> web.Response:
    return web.Response(text=digest(dict(await request.post())))


async def stream(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    while data := await request.content.readany():
        await resp.write(digest(data).encode())
    await resp.write_eof()
    return resp


async def item(request: web.Request) -> web.Response:
    url = request.app.router["item"].url_for(id=request.match_info["id"])
    return web.Response(text=digest(request.match_info["id"], str(url)))


async def files(request: web.Request) -> web.Response:
    return web.Response(text=digest(request.match_info["path"], request.path))


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0)
    state = request_state(request)
    await asyncio.sleep(0)
    return web.Response(text=digest(state))


async def chunked(request: web.Request) -> web.Response:
    resp = web.Response(text=digest(request.method))
    resp.enable_chunked_encoding()
    return resp


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query.get("to") or "/")  # an empty location is a ValueError


async def cookies(request: web.Request) -> web.Response:
    resp = web.Response(text=digest(dict(request.cookies)))
    for name, value in request.cookies.items():
        if name.isidentifier() and value.isalnum():
            resp.set_cookie(name, value)
    return resp


def make_app() -> web.Application:
    app = web.Application(client_max_size=4096)
    router = app.router
    router.add_get("/", info)
    router.add_route("*", "/info", info)
    router.add_post("/read", read)
    router.add_post("/text", text)
    router.add_post("/json", json_body)
    router.add_post("/post", form)
    router.add_post("/stream", stream)
    router.add_get("/items/{id}", item, name="item")
    router.add_get("/files/{path:.*}", files)
    router.add_get("/slow", slow)
    router.add_get("/chunked", chunked)
    router.add_get("/redirect", redirect)
    router.add_get("/cookies", cookies)
    return app


# -- the connection ----------------------------------------------------------------


class Transport(asyncio.Transport):
    """Collects what the server writes; closes when told to."""

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.out += data

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def settle() -> None:
    for _ in range(SETTLE_ROUNDS):
        await asyncio.sleep(0)


def setup() -> tuple[asyncio.AbstractEventLoop, Server, ErrorLog]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = make_app()
    app.on_startup.freeze()
    loop.run_until_complete(app.startup())
    app.freeze()
    config = ServerConfig(lingering_time=0.0, max_head_size=4096, max_pipeline=4)
    server = Server(app._handle, config, loop=loop)
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    logging.getLogger().setLevel(logging.ERROR)
    return loop, server, errors


LOOP, SERVER, ERRORS = setup()


def exchange(pieces: list[bytes]) -> bytes:
    """Serve ``pieces`` on one connection; return everything written.

    The protocol is called from plain loop callbacks, as a transport calls it:
    inside the running loop and outside any Task.
    """
    transport = Transport()
    proto = SERVER()

    async def drive() -> None:
        LOOP.call_soon(proto.connection_made, transport)
        for piece in pieces:
            await settle()
            if transport.closed:
                break
            LOOP.call_soon(proto.data_received, piece)
        await settle()
        if not transport.closed:
            LOOP.call_soon(half_close)
            await settle()
        LOOP.call_soon(proto.connection_lost, None)
        await settle()

    def half_close() -> None:
        if proto.eof_received() is not True:
            transport.close()

    LOOP.run_until_complete(drive())
    left = [task for task in asyncio.all_tasks(LOOP) if not task.done()]
    for task in left:
        task.cancel()
    if left:
        LOOP.run_until_complete(asyncio.gather(*left, return_exceptions=True))
    return bytes(transport.out)


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    stream_ = request_stream(fdp) if fdp.ConsumeIntInRange(0, 7) else fdp.ConsumeBytes(2048)
    ERRORS.records.clear()
    out = exchange(split(fdp, stream_))
    report = "\n".join(ERRORS.format(record) for record in ERRORS.records)
    if report or STATUS_500.search(out):
        report = f"{report}\nanswer: {out[:2000]!r}"
        if not any(text in report for text in IGNORE):
            raise AssertionError(f"a 500 or an error logged for {stream_!r}:\n{report}")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
