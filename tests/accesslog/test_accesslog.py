"""The access log through a real server: every directive, the record's attributes,
custom loggers, and the same format on aiohttp for the same requests."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web
from squall.framework.accesslog import AbstractAccessLogger, AccessLogger, compile_format
from squall.runner import AppRunner, TCPSite
from squall.testing.mocked import make_mocked_request

TIMEOUT = 10  # a hang guard only


class Capture(logging.Handler):
    """Keeps every record; ``wait(n)`` returns once ``n`` have arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.arrived = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.arrived.set()

    async def wait(self, n: int = 1) -> list[logging.LogRecord]:
        async with asyncio.timeout(TIMEOUT):
            while len(self.records) < n:
                self.arrived.clear()
                await self.arrived.wait()
        return self.records

    @property
    def lines(self) -> list[str]:
        return [r.getMessage() for r in self.records]


def new_logger(level: int = logging.INFO, cls: type[logging.Logger] | None = None) -> Any:
    """A fresh logger of its own (no propagation) with a Capture handler."""
    name = f"test.access.{uuid.uuid4().hex}"
    logger = cls(name) if cls is not None else logging.getLogger(name)
    logger.setLevel(level)
    logger.propagate = False
    handler = Capture()
    logger.addHandler(handler)
    return logger, handler


def make_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        resp = web.Response(text="hello")
        resp.headers["X-Out"] = "out-value"
        return resp

    async def boom(request: web.Request) -> web.Response:
        raise web.HTTPForbidden(text="no")

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_post("/hello", hello)
    app.router.add_get("/boom", boom)
    return app


@asynccontextmanager
async def serving(app: Any, access: AbstractAccessLogger | None) -> AsyncIterator[int]:
    """Serve ``app`` on 127.0.0.1 with ``access`` as its access logger; yield the port."""
    runner = AppRunner(app)
    await runner.setup()
    app._access_logger = access  # the runner's own wiring is tested with the runner
    site = TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def fetch(port: int, head: str, body: bytes = b"") -> bytes:
    """Send one raw request (Connection: close) and read the whole answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        async with asyncio.timeout(TIMEOUT):
            return await reader.read()
    finally:
        writer.close()


def get(path: str, *headers: str) -> str:
    return "".join(
        [f"GET {path} HTTP/1.1\nHost: localhost\nConnection: close\n", *(h + "\n" for h in headers)]
    )


async def one_line(fmt: str, request: str, app: Any = None) -> tuple[str, logging.LogRecord]:
    logger, capture = new_logger()
    async with serving(app or make_app(), AccessLogger(logger, fmt)) as port:
        answer = await fetch(port, request)
        assert answer.startswith(b"HTTP/1.1 ")
        record = (await capture.wait())[0]
    return record.getMessage(), record


# -- the format language ---------------------------------------------------------------


async def test_default_format_line() -> None:
    line, _ = await one_line(
        AccessLogger.LOG_FORMAT,
        get("/hello?x=1&y", "Referer: http://ref.example/page", "User-Agent: probe/1.0"),
    )
    m = re.fullmatch(r'127\.0\.0\.1 (\[[^]]+\]) "GET /hello\?x=1&y HTTP/1\.1" 200 (\d+) (.*)', line)
    assert m, line
    assert int(m[2]) > len("hello")  # the head counts
    assert m[3] == '"http://ref.example/page" "probe/1.0"'
    datetime.datetime.strptime(m[1], "[%d/%b/%Y:%H:%M:%S %z]")


async def test_default_format_is_aiohttps() -> None:
    assert AccessLogger.LOG_FORMAT == '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'
    assert AccessLogger(logging.getLogger("x")).log_format == AccessLogger.LOG_FORMAT


async def test_missing_headers_are_dashes() -> None:
    line, record = await one_line('"%{Referer}i" "%{User-Agent}i" %{X-Nope}o', get("/hello"))
    assert line == '"-" "-" -'
    assert record.request_header == {"Referer": "-", "User-Agent": "-"}


async def test_every_directive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUALL_ACCESS_TEST", "env-value")
    monkeypatch.delenv("SQUALL_ACCESS_UNSET", raising=False)
    fmt = "|".join(
        [
            "%a", "%t", "%P", "%r", "%s", "%b", "%T", "%Tf", "%D", "%{x-in}i", "%{X-Out}o",
            "%{SQUALL_ACCESS_TEST}e", "%{SQUALL_ACCESS_UNSET}e", "%%",
        ]
    )  # fmt: skip
    line, _ = await one_line(fmt, get("/hello?q", "X-In: in-value"))
    parts = line.split("|")
    assert len(parts) == 14, line
    a, t, p, r, s, b, secs, frac, micro, xin, xout, env, unset, pct = parts
    assert a == "127.0.0.1"
    assert t.startswith("[") and t.endswith("]")
    assert p == f"<{os.getpid()}>"
    assert r == "GET /hello?q HTTP/1.1"
    assert s == "200" and int(b) > 5
    assert re.fullmatch(r"\d+", secs) and re.fullmatch(r"\d+\.\d{6}", frac), line
    assert re.fullmatch(r"\d+", micro), line
    # all three from the same elapsed time
    assert abs(int(micro) - float(frac) * 1e6) <= 1
    assert int(secs) == round(float(frac))
    assert (xin, xout) == ("in-value", "out-value")
    assert (env, unset) == ("env-value", "-")
    assert pct == "%"


async def test_start_time_parses_back_in_local_time() -> None:
    before = time.time()
    line, record = await one_line("%t", get("/hello"))
    after = time.time()
    start = datetime.datetime.strptime(line, "[%d/%b/%Y:%H:%M:%S %z]")
    assert start.utcoffset() == datetime.timedelta(seconds=time.localtime(before).tm_gmtoff)
    # whole seconds, truncated: the request started within the test's window
    assert int(before) - 1 <= start.timestamp() <= after
    assert record.request_start_time == line


async def test_percent_and_unknown_directives_stay_text() -> None:
    fmt = "100%% %s %x %{a b}i %{X}z %Tx %"
    line, _ = await one_line(fmt, get("/hello"))
    assert re.fullmatch(r"100% 200 %x %\{a b\}i %\{X\}z \d+x %", line), line


def test_percent_before_a_letter_is_a_percent_then_text() -> None:
    make_line = compile_format("%%s|%%%s|%%%%").make_line
    request = make_mocked_request("GET", "/")
    assert make_line(request, web.Response(status=201), 0.0, time.time(), {}) == "%s|%201|%%"


async def test_status_and_size_of_an_error() -> None:
    logger, capture = new_logger()
    async with serving(make_app(), AccessLogger(logger, "%s %b")) as port:
        answer = await fetch(port, get("/boom"))
        record = (await capture.wait())[0]
    assert answer.startswith(b"HTTP/1.1 403 ") and answer.endswith(b"no")
    assert record.getMessage() == f"403 {len(answer)}"  # head included, as aiohttp
    assert (record.response_status, record.response_size) == (403, len(answer))


async def test_request_line_of_a_post_and_of_http10() -> None:
    logger, capture = new_logger()
    async with serving(make_app(), AccessLogger(logger, '"%r" %s')) as port:
        head = "POST /hello HTTP/1.1\nHost: x\nContent-Length: 3\nConnection: close\n"
        await fetch(port, head, b"abc")
        await fetch(port, "GET /hello?a=%20b HTTP/1.0\n")
        lines = [r.getMessage() for r in await capture.wait(2)]
    assert lines == ['"POST /hello HTTP/1.1" 200', '"GET /hello?a=%20b HTTP/1.0" 200']


async def test_headers_already_parsed_are_used() -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.headers["User-Agent"])

    app = web.Application()
    app.router.add_get("/", echo)
    line, _ = await one_line("%{user-agent}i %{Referer}i", get("/", "User-Agent: ua"), app)
    assert line == "ua -"


async def test_request_header_value_whitespace_trimmed_first_wins() -> None:
    line, _ = await one_line(
        "[%{X-Pad}i] [%{X-Twice}i]", get("/hello", "X-Pad: padded\t ", "X-Twice: 1", "X-Twice: 2")
    )
    assert line == "[padded] [1]"


# -- the record ---------------------------------------------------------------------------


async def test_record_attributes_named_as_aiohttp() -> None:
    fmt = AccessLogger.LOG_FORMAT + " %P %T %Tf %D %{X-Out}o %{HOME}e"
    _, record = await one_line(fmt, get("/hello", "Referer: r", "User-Agent: u"))
    assert record.levelno == logging.INFO
    assert record.remote_address == "127.0.0.1"
    assert record.first_request_line == "GET /hello HTTP/1.1"
    assert record.response_status == 200
    assert record.response_size > 5
    assert record.process_id == f"<{os.getpid()}>"
    assert record.request_header == {"Referer": "r", "User-Agent": "u"}
    assert record.response_header == {"X-Out": "out-value"}
    assert record.environ == {"HOME": os.environ.get("HOME", "-")}
    assert record.request_start_time.startswith("[")
    assert int(record.request_time) >= 0
    assert float(record.request_time_frac) >= 0
    assert int(record.request_time_micro) >= 0
    assert record.args == ()


class SubLogger(logging.Logger):
    """A Logger subclass: AccessLogger takes logger.info's way for it."""


async def test_fast_record_matches_logger_info() -> None:
    fast_logger, fast = new_logger()
    slow_logger, slow = new_logger(cls=SubLogger)
    app = make_app()
    fmt = AccessLogger.LOG_FORMAT + " %{X-Out}o"
    request = get("/hello", "Referer: r")
    async with serving(app, AccessLogger(fast_logger, fmt)) as port:
        await fetch(port, request)
        app._access_logger = AccessLogger(slow_logger, fmt)
        await fetch(port, request)
        a, b = (await fast.wait())[0], (await slow.wait())[0]
    assert re.sub(r"\[.*\]", "", a.getMessage()) == re.sub(r"\[.*\]", "", b.getMessage())
    standard = ("levelname", "levelno", "pathname", "filename", "module", "funcName")
    standard += ("args", "exc_info", "exc_text", "stack_info", "thread", "threadName")
    standard += ("process", "processName")
    for attr in standard:
        assert getattr(a, attr) == getattr(b, attr), attr
    assert a.funcName == "log" and a.filename == "accesslog.py"
    assert set(a.__dict__) - {"request_start_time"} == set(b.__dict__) - {"request_start_time"}
    assert abs(a.created - b.created) < 60 and 0 <= a.msecs < 1000
    assert a.relativeCreated > 0 and a.name != b.name


async def test_record_factory_is_honoured() -> None:
    class Marked(logging.LogRecord):
        pass

    default = logging.getLogRecordFactory()
    logging.setLogRecordFactory(Marked)
    try:
        _, record = await one_line("%s", get("/hello"))
    finally:
        logging.setLogRecordFactory(default)
    assert type(record) is Marked
    assert record.response_status == 200


# -- enabled, custom loggers and failures -----------------------------------------------------


def test_enabled_follows_the_loggers_info_level() -> None:
    logger, _ = new_logger(logging.WARNING)
    access = AccessLogger(logger)
    assert access.enabled is False
    logger.setLevel(logging.INFO)
    assert access.enabled is True


def test_abstract_logger_is_enabled_by_default() -> None:
    class Custom(AbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            pass

    logger, _ = new_logger(logging.ERROR)
    assert Custom(logger, "fmt").enabled is True  # as aiohttp: only AccessLogger asks the level
    with pytest.raises(TypeError):
        AbstractAccessLogger(logger, "fmt")  # type: ignore[abstract]


class Recording(AbstractAccessLogger):
    calls: list[tuple[str, int, float, str]]

    def __init__(self, logger: Any, log_format: str, on: bool = True) -> None:
        super().__init__(logger, log_format)
        self.calls = []
        self.on = on

    @property
    def enabled(self) -> bool:
        return self.on

    def log(self, request: Any, response: Any, time: float) -> None:
        self.calls.append((request.path, response.status, time, self.log_format))


async def test_custom_access_logger() -> None:
    access = Recording(logging.getLogger("custom"), "my-format")
    async with serving(make_app(), access) as port:
        await fetch(port, get("/hello"))
        await fetch(port, get("/nowhere"))
    assert [(p, s, f) for p, s, _, f in access.calls] == [
        ("/hello", 200, "my-format"),
        ("/nowhere", 404, "my-format"),
    ]
    assert all(0 <= t < TIMEOUT for _, _, t, _ in access.calls)


async def test_disabled_logger_is_never_called() -> None:
    access = Recording(logging.getLogger("custom"), "f", on=False)
    async with serving(make_app(), access) as port:
        answer = await fetch(port, get("/hello"))
    assert answer.endswith(b"hello")
    assert access.calls == []


async def test_disabled_access_logger_makes_no_line() -> None:
    logger, capture = new_logger(logging.WARNING)
    async with serving(make_app(), AccessLogger(logger)) as port:
        answer = await fetch(port, get("/hello"))
    assert answer.endswith(b"hello")
    assert capture.records == []


class Raising(AbstractAccessLogger):
    def log(self, request: Any, response: Any, time: float) -> None:
        raise RuntimeError("the access logger is broken")


async def test_raising_logger_does_not_break_the_response(caplog: pytest.LogCaptureFixture) -> None:
    async with serving(make_app(), Raising(logging.getLogger("x"), "f")) as port:
        first = await fetch(port, get("/hello"))
        second = await fetch(port, get("/hello"))
    for answer in (first, second):
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"hello")
    reported = [r for r in caplog.records if r.name == "squall.server"]
    assert [r.getMessage() for r in reported] == ["Error in logging"] * 2


class BrokenInfo(logging.Logger):
    def info(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("info is broken")


async def test_failure_inside_log_is_reported_on_the_logger() -> None:
    logger, capture = new_logger(cls=BrokenInfo)
    async with serving(make_app(), AccessLogger(logger, "%s")) as port:
        answer = await fetch(port, get("/hello"))
        record = (await capture.wait())[0]
    assert answer.endswith(b"hello")
    assert record.levelno == logging.ERROR and record.getMessage() == "Error in logging"
    assert record.exc_info is not None and "info is broken" in str(record.exc_info[1])


# -- compiling --------------------------------------------------------------------------------


def test_format_compiled_once_per_format_string() -> None:
    fmt = f"%s %b {uuid.uuid4().hex}"
    first = AccessLogger(logging.getLogger("a"), fmt)
    second = AccessLogger(logging.getLogger("b"), fmt)
    assert first._make_line is second._make_line
    assert AccessLogger(logging.getLogger("c"), fmt + "x")._make_line is not first._make_line


def test_generated_source_holds_no_format_text() -> None:
    source = compile_format('%s ") or __import__("os") #').source
    assert "__import__" not in source


@pytest.mark.parametrize(
    "target",
    ["/", "/p?", "/p?a=1&b", "/a/../b", "//x", "///", "/a%20b?x=%zz", "/p?q#f", "/p#f", "/a?b?c"],
)
def test_request_line_path_is_path_qs(target: str) -> None:
    """The raw-target shortcut gives what request.path_qs gives, for every shape."""
    make_line = compile_format("%r").make_line
    request = make_mocked_request("GET", target)
    expected = f"GET {make_mocked_request('GET', target).path_qs} HTTP/1.1"
    assert make_line(request, web.Response(), 0.0, time.time(), {}) == expected


def test_request_line_of_an_unreadable_target_is_the_target() -> None:
    make_line = compile_format("%r").make_line
    request = make_mocked_request("GET", "http://[::1/x")
    assert make_line(request, web.Response(), 0.0, time.time(), {}) == "GET http://[::1/x HTTP/1.1"


# -- the same format on aiohttp ---------------------------------------------------------------

DIFF_FORMAT = (
    '"%r" %s "%{Referer}i" "%{User-Agent}i" %{X-Out}o %{Content-Type}o %{Content-Length}o %a %b'
)
DIFF_REQUESTS = [
    get("/hello?x=1", "Referer: http://ref/", "User-Agent: probe"),
    get("/hello?"),
    get("/hello#frag"),
    get("/nowhere"),
    get("/boom", "User-Agent: padded \t"),
    "POST /hello HTTP/1.1\nHost: x\nContent-Length: 0\nConnection: close\n",
    "GET /hello HTTP/1.0\n",
]


async def lines_from(serve: Callable[[Any], Any]) -> list[logging.LogRecord]:
    logger, capture = new_logger()
    async with serve(logger) as port:
        sizes = [len(await fetch(port, request)) for request in DIFF_REQUESTS]
        records = await capture.wait(len(DIFF_REQUESTS))
    # %b: the bytes of the whole answer, head included (the heads differ: Server, Date)
    assert [r.response_size for r in records] == sizes
    return records


def aiohttp_app() -> aiohttp_web.Application:
    async def hello(request: aiohttp_web.Request) -> aiohttp_web.Response:
        resp = aiohttp_web.Response(text="hello")
        resp.headers["X-Out"] = "out-value"
        return resp

    async def boom(request: aiohttp_web.Request) -> aiohttp_web.Response:
        raise aiohttp_web.HTTPForbidden(text="no")

    app = aiohttp_web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_post("/hello", hello)
    app.router.add_get("/boom", boom)
    return app


async def test_same_lines_and_attributes_as_aiohttp() -> None:
    @asynccontextmanager
    async def on_squall(logger: logging.Logger) -> AsyncIterator[int]:
        async with serving(make_app(), AccessLogger(logger, DIFF_FORMAT)) as port:
            yield port

    @asynccontextmanager
    async def on_aiohttp(logger: logging.Logger) -> AsyncIterator[int]:
        runner = aiohttp_web.AppRunner(
            aiohttp_app(), access_log=logger, access_log_format=DIFF_FORMAT
        )
        await runner.setup()
        site = aiohttp_web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield runner.addresses[0][1]
        finally:
            await runner.cleanup()

    ours = await lines_from(on_squall)
    theirs = await lines_from(on_aiohttp)
    strip = re.compile(r" \d+$")  # %b, compared with the answers' sizes above
    assert [strip.sub("", r.getMessage()) for r in ours] == [
        strip.sub("", r.getMessage()) for r in theirs
    ]
    names = ("first_request_line", "response_status", "request_header")
    names += ("response_header", "remote_address")
    for a, b in zip(ours, theirs, strict=True):
        assert {n: getattr(a, n) for n in names} == {n: getattr(b, n) for n in names}


async def test_fields_the_server_writes_are_logged() -> None:
    """%{Date}o and %{Server}o: what the server wrote, though not in response.headers."""
    line, _ = await one_line("%{Date}o|%{Server}o|%{Content-Length}o", get("/hello"))
    date, server, length = line.split("|")
    parsedate_to_datetime(date)  # an HTTP date
    assert server.startswith("Python/") and "squall/" in server
    assert length == "5"
