"""Access-log wiring: ``access_log_class``, ``access_log_format`` and ``access_log``
on the runners and ``run_app``, seen through real requests.

The default format language is the access-log work's (tests/…/accesslog); here
only what reaches the logger, and when it is called at all.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from squall import web
from squall.framework.accesslog import AbstractAccessLogger, AccessLogger
from squall.framework.lowlevel import Server
from squall.runner import ServerRunner
from tests.runner.conftest import spawn

LOGGER = logging.getLogger("tests.runner.access")


class Recorder(AbstractAccessLogger):
    """Keeps what it is given; ``enabled`` as the class says."""

    instances: ClassVar[list[Recorder]] = []
    on = True

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        super().__init__(logger, log_format)
        self.seen: list[tuple[str, str, int, int | None, float, str]] = []
        Recorder.instances.append(self)

    @property
    def enabled(self) -> bool:
        return self.on

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.seen.append(
            (
                request.method,
                request.path_qs,
                response.status,
                response.body_length,
                time,
                self.logger.name,
            )
        )


class Off(Recorder):
    on = False

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        raise AssertionError("log() called although enabled is False")


@pytest.fixture(autouse=True)
def _fresh() -> None:
    Recorder.instances.clear()


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


async def stream(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(request)
    await resp.write(b"12345")
    return resp


async def missing(request: web.Request) -> web.Response:
    raise web.HTTPNotFound()


async def crash(request: web.Request) -> web.Response:
    raise RuntimeError("boom")


def make_app(**kwargs: Any) -> web.Application:
    app = web.Application(**kwargs)
    app.router.add_get("/hello", hello)
    app.router.add_get("/stream", stream)
    app.router.add_get("/missing", missing)
    app.router.add_get("/crash", crash)
    return app


async def serve(runner: web.BaseRunner, *paths: str) -> list[int]:
    """Set up ``runner``, GET each path through a real socket, clean up."""
    await runner.setup()
    statuses = []
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        async with httpx.AsyncClient(base_url=site.name) as client:
            for path in paths:
                statuses.append((await client.get(path)).status_code)
    finally:
        await runner.cleanup()
    return statuses


async def test_custom_logger_sees_request_and_response() -> None:
    runner = web.AppRunner(
        make_app(), access_log_class=Recorder, access_log=LOGGER, access_log_format="%a %r"
    )
    statuses = await serve(runner, "/hello?x=1", "/stream", "/missing", "/crash")
    assert statuses == [200, 200, 404, 500]
    [recorder] = Recorder.instances
    assert recorder.log_format == "%a %r"
    assert [entry[:4] for entry in recorder.seen] == [
        ("GET", "/hello?x=1", 200, 5),
        ("GET", "/stream", 200, 5),
        ("GET", "/missing", 404, len("404: Not Found")),
        ("GET", "/crash", 500, recorder.seen[3][3]),
    ]
    assert all(entry[4] >= 0 and entry[5] == LOGGER.name for entry in recorder.seen)


class Broken(Recorder):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        raise ValueError("logger bug")


async def test_a_failing_logger_does_not_break_requests(caplog: pytest.LogCaptureFixture) -> None:
    runner = web.AppRunner(make_app(), access_log_class=Broken, access_log=LOGGER)
    with caplog.at_level(logging.ERROR, logger="squall.server"):
        assert await serve(runner, "/hello", "/stream", "/hello") == [200, 200, 200]
    reported = [r for r in caplog.records if r.getMessage() == "Error in logging"]
    assert len(reported) == 3


async def test_access_log_none_logs_nothing() -> None:
    runner = web.AppRunner(make_app(), access_log_class=Recorder, access_log=None)
    assert await serve(runner, "/hello") == [200]
    assert Recorder.instances == []


async def test_handler_args_turn_the_log_off() -> None:
    app = make_app(handler_args={"access_log": None})
    runner = web.AppRunner(app, access_log_class=Recorder, access_log=LOGGER)
    assert await serve(runner, "/hello") == [200]
    assert Recorder.instances == []


async def test_disabled_logger_is_never_called() -> None:
    runner = web.AppRunner(make_app(), access_log_class=Off, access_log=LOGGER)
    assert await serve(runner, "/hello", "/crash") == [200, 500]
    [off] = Recorder.instances
    assert off.seen == []


@pytest.mark.parametrize(
    ("kwargs", "installed"),
    [
        ({"access_log": None}, None),
        ({"access_log_class": Off, "access_log": LOGGER}, None),
        ({"access_log_class": Recorder, "access_log": LOGGER}, Recorder),
    ],
    ids=["none", "disabled", "enabled"],
)
async def test_nothing_runs_per_request_when_the_log_is_off(
    kwargs: dict[str, Any], installed: type | None
) -> None:
    """PERF: a log that is off or disabled at setup is not installed at all, so
    the request path skips it without a call."""
    app = make_app()
    runner = web.AppRunner(app, **kwargs)
    await runner.setup()
    try:
        logger = app._access_logger
        assert (None if logger is None else type(logger)) is installed
    finally:
        await runner.cleanup()


async def test_default_logger_follows_the_logging_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the default: AccessLogger on squall.access, on when INFO is enabled there
    with caplog.at_level(logging.INFO, logger="squall.access"):
        assert await serve(web.AppRunner(make_app()), "/hello?q=1") == [200]
    lines = [r.getMessage() for r in caplog.records if r.name == "squall.access"]
    assert len(lines) == 1 and "/hello?q=1" in lines[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="squall.access"):
        assert await serve(web.AppRunner(make_app()), "/hello") == [200]
    assert [r for r in caplog.records if r.name == "squall.access"] == []


async def test_access_log_class_must_be_an_access_logger() -> None:
    started: list[bool] = []

    async def on_startup(app: web.Application) -> None:
        started.append(True)

    app = make_app()
    app.on_startup.append(on_startup)
    runner = web.AppRunner(app, access_log_class=logging.Logger)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="access_log_class must be subclass of"):
        await runner.setup()
    assert started == []  # refused before any hook ran


async def test_a_logger_written_on_aiohttps_base_class_is_taken() -> None:
    """An application that kept ``from aiohttp.abc import AbstractAccessLogger``
    (aiohttp's upstream test_web_log does) logs through Squall all the same."""
    from aiohttp.abc import AbstractAccessLogger as AiohttpAbstractAccessLogger

    seen: list[tuple[str, int, str]] = []

    class Mine(AiohttpAbstractAccessLogger):
        def log(self, request: Any, response: Any, time: float) -> None:
            seen.append((request.path_qs, response.status, self.log_format))

    runner = web.AppRunner(
        make_app(),
        access_log_class=Mine,  # type: ignore[arg-type]
        access_log=LOGGER,
        access_log_format="%r",
    )
    assert await serve(runner, "/hello?y=2", "/missing") == [200, 404]
    assert seen == [("/hello?y=2", 200, "%r"), ("/missing", 404, "%r")]


async def test_low_level_server_logs_through_its_own_arguments() -> None:
    async def handler(request: web.BaseRequest) -> web.Response:
        return web.Response(text=request.path)

    server = Server(handler, access_log_class=Recorder, access_log=LOGGER)
    assert await serve(ServerRunner(server), "/low", "/level") == [200, 200]
    [recorder] = Recorder.instances
    assert [entry[:3] for entry in recorder.seen] == [("GET", "/low", 200), ("GET", "/level", 200)]

    Recorder.instances.clear()
    server = Server(handler, access_log_class=Recorder)
    assert await serve(ServerRunner(server, access_log=None), "/x") == [200]
    assert Recorder.instances == []  # the runner's access_log=None applies too

    with pytest.raises(TypeError, match="access_log_class"):
        await ServerRunner(Server(handler, access_log_class=int)).setup()


RUN_APP = """\
import logging, sys
from squall import web

class Printer(web_AbstractAccessLogger):
    def log(self, request, response, time):
        print("logged", self.log_format, request.path, response.status, flush=True)

    @property
    def enabled(self):
        return True

async def hello(request):
    return web.Response(text="hi")

app = web.Application()
app.router.add_get("/hello", hello)
web.run_app(app, host="127.0.0.1", port=0, KWARGS)
"""


def run_app_program(kwargs: str) -> str:
    return RUN_APP.replace("KWARGS", kwargs).replace(
        "from squall import web\n",
        "from squall import web\n"
        "from squall.framework.accesslog import AbstractAccessLogger as web_AbstractAccessLogger\n",
    )


@pytest.mark.child
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ("access_log_class=Printer", "logged " + AccessLogger.LOG_FORMAT + " /hello 200"),
        ("access_log_class=Printer, access_log_format='%r'", "logged %r /hello 200"),
        ("access_log_class=Printer, access_log=None", None),
    ],
    ids=["class", "format", "off"],
)
async def test_run_app_access_log_arguments(
    tmp_path: Path, kwargs: str, expected: str | None
) -> None:
    async with spawn(run_app_program(kwargs), tmp_path) as child:
        port = await child.banner_port()
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/hello")).text == "hi"
            assert (await client.get(f"http://127.0.0.1:{port}/hello")).text == "hi"
        if expected is not None:
            assert await child.line() == "(Press CTRL+C to quit)"
            assert await child.line() == expected
        child.proc.terminate()
        code, lines, err = await child.finish()
    assert code == 0, err
    logged = [line for line in lines if line.startswith("logged")]
    assert len(logged) == (0 if expected is None else 2)


@pytest.mark.child
@pytest.mark.parametrize("debug", [True, False], ids=["debug", "quiet"])
async def test_run_app_default_access_log(tmp_path: Path, debug: bool) -> None:
    """aiohttp's behaviour: on by default, silent unless logging is configured;
    in the loop's debug mode squall.access gets DEBUG and a stderr handler."""
    program = run_app_program("").replace(", )", ")")
    env = {"PYTHONASYNCIODEBUG": "1"} if debug else {"PYTHONASYNCIODEBUG": ""}
    async with spawn(program, tmp_path, env) as child:
        port = await child.banner_port()
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/hello?z=9")).text == "hi"
        child.proc.terminate()
        code, _, err = await child.finish()
    assert code == 0, err
    access_lines = [line for line in err.splitlines() if "/hello?z=9" in line]
    assert len(access_lines) == (1 if debug else 0)


async def test_logging_set_up_in_on_startup_is_seen(caplog: pytest.LogCaptureFixture) -> None:
    """``enabled`` is asked after on_startup, where apps often configure logging."""
    access = logging.getLogger("tests.runner.startup_access")
    access.setLevel(logging.WARNING)

    async def configure(app: web.Application) -> None:
        access.setLevel(logging.INFO)

    app = make_app()
    app.on_startup.append(configure)
    try:
        with caplog.at_level(logging.INFO, logger="tests.runner.startup_access"):
            access.setLevel(logging.WARNING)  # caplog's level, then the app's hook
            assert await serve(web.AppRunner(app, access_log=access), "/hello") == [200]
    finally:
        access.setLevel(logging.NOTSET)
    lines = [r.getMessage() for r in caplog.records if r.name == access.name]
    assert len(lines) == 1 and "/hello" in lines[0]


async def test_enabled_is_watched_while_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """A logger turned on (or off) while the server runs is installed (or removed)
    at the runner's next check, with no per-request cost in between."""
    from squall import runner as runner_module

    monkeypatch.setattr(runner_module._AccessWatch, "EVERY", 0.01)
    app = make_app()
    runner = web.AppRunner(app, access_log_class=Recorder, access_log=LOGGER)
    monkeypatch.setattr(Recorder, "on", False)
    await runner.setup()
    try:
        assert app._access_logger is None
        Recorder.on = True
        for _ in range(500):  # a hang guard, not a timing assertion
            if app._access_logger is not None:
                break
            await asyncio.sleep(0.01)
        assert isinstance(app._access_logger, Recorder)
        Recorder.on = False
        for _ in range(500):
            if app._access_logger is None:
                break
            await asyncio.sleep(0.01)
        assert app._access_logger is None
    finally:
        await runner.cleanup()
    assert runner._access_watch is None  # the check stops with the runner
