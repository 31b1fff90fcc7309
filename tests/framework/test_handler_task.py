"""Each handler runs in a real asyncio.Task of its own, stepped in place first.

``asyncio.current_task()`` inside a handler is a real ``asyncio.Task``, the same
object for the handler's whole life and a different one for every request, as on
aiohttp; cancellation before and after the first suspension behaves as in any
Task; a handler raising ``CancelledError`` while stepped in place closes the
connection after the responses before it, without upsetting the loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

import pytest
from aiohttp import web as aiohttp_web

from squall import web
from squall.testing import TestServer

from ._wire import same, same_pipelined, serve

PIPELINE = 4


async def until(condition: Any, timeout: float = 10.0) -> None:
    """Yield to the loop until ``condition()`` holds (an event, not a time window)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0)

    await asyncio.wait_for(poll(), timeout)


GET = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"


def app_task_identity(web: Any) -> Any:
    """Reports on the task it runs in; runs the same on aiohttp and Squall."""
    seen: list[asyncio.Task[Any]] = []

    async def report(request: Any, suspend: bool) -> Any:
        before = asyncio.current_task()
        if suspend:
            await asyncio.sleep(0)
        after = asyncio.current_task()
        fired: list[bool] = []
        before.add_done_callback(lambda _: fired.append(True))  # type: ignore[union-attr]
        facts = {
            "is_task": isinstance(before, asyncio.Task),
            "same_after_await": before is after,
            "done": before.done(),  # type: ignore[union-attr]
            "new_for_this_request": all(before is not t for t in seen),
            "cancelling": before.cancelling(),  # type: ignore[union-attr]
        }
        seen.append(before)  # type: ignore[arg-type]
        return web.json_response(facts)

    async def in_place(request: Any) -> Any:
        return await report(request, False)

    async def suspending(request: Any) -> Any:
        return await report(request, True)

    app = web.Application()
    app.router.add_get("/in-place", in_place)
    app.router.add_get("/suspending", suspending)
    return app


EXPECTED = {
    "is_task": True,
    "same_after_await": True,
    "done": False,
    "new_for_this_request": True,
    "cancelling": 0,
}


@pytest.mark.parametrize("path", ["/in-place", "/suspending"])
async def test_current_task_is_a_real_task_like_aiohttp(path: str) -> None:
    reply = await same(app_task_identity, GET % path.encode())
    assert reply.json() == EXPECTED


async def test_pipelined_requests_each_get_their_own_task() -> None:
    requests = [GET % p for p in (b"/in-place", b"/suspending") * PIPELINE]
    replies = await same_pipelined(app_task_identity, requests)
    assert [r.json() for r in replies] == [EXPECTED] * len(requests)


def app_cancel_self(web: Any) -> Any:
    """A handler cancelling its own task before it first suspends, then catching it."""

    async def cancel_self(request: Any) -> Any:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        counted = task.cancelling()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            task.uncancel()
            return web.Response(text=f"caught after {counted} cancel, {task.cancelling()} left")
        return web.Response(text="not cancelled")

    async def timeout(request: Any) -> Any:
        try:
            async with asyncio.timeout(0):
                await asyncio.sleep(10)
        except TimeoutError:
            return web.Response(text="timed out", status=504)
        return web.Response(text="slept")

    async def stay_cancelled(request: Any) -> Any:
        task = asyncio.current_task()
        assert task is not None
        if request.query.get("suspend"):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.sleep(0)
        return web.Response(text="not cancelled")

    app = web.Application()
    app.router.add_get("/cancel-self", cancel_self)
    app.router.add_get("/stay-cancelled", stay_cancelled)
    app.router.add_get("/timeout", timeout)
    return app


async def test_cancel_before_the_first_suspension_reaches_the_handler() -> None:
    reply = await same(app_cancel_self, GET % b"/cancel-self")
    assert reply.body == b"caught after 1 cancel, 0 left"


@pytest.mark.parametrize("target", [b"/stay-cancelled", b"/stay-cancelled?suspend=1"])
async def test_a_cancelled_handler_closes_without_an_answer_like_aiohttp(
    target: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    seen = []
    for webmod in (web, aiohttp_web):
        async with serve(webmod, app_cancel_self) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(GET % target + GET % b"/cancel-self")
            seen.append(await asyncio.wait_for(reader.read(), 10))
            writer.close()
    assert seen == [b"", b""]  # closed, nothing sent, on both
    assert not [r for r in caplog.records if r.name.startswith("squall")]


async def test_asyncio_timeout_in_a_handler() -> None:
    reply = await same(app_cancel_self, GET % b"/timeout")
    assert (reply.status, reply.body) == (504, b"timed out")


def app_cancel_then_answer(web: Any) -> Any:
    """A handler that cancels its own Task, then answers without awaiting."""

    async def cancel_and_return(request: Any) -> Any:
        if request.query.get("suspend"):
            await asyncio.sleep(0)
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        return web.Response(text="answered")

    app = web.Application()
    app.router.add_get("/", cancel_and_return)
    return app


@pytest.mark.parametrize("target", [b"/", b"/?suspend=1"])
async def test_self_cancel_then_answer_sends_it_then_closes_like_aiohttp(target: bytes) -> None:
    """Both paths agree: the answer goes out, then the connection closes."""
    reply = await same(app_cancel_then_answer, GET % target)
    assert (reply.body, reply.after) == (b"answered", "closed")


def app_cancel_waits(web: Any) -> Any:
    """A cancel before the Task's first step reaches the future the handler awaits."""

    async def waits(request: Any) -> Any:
        fut = asyncio.get_running_loop().create_future()
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await fut
        except asyncio.CancelledError:
            task.uncancel()
        return web.Response(text=f"future cancelled: {fut.cancelled()}")

    async def child(request: Any) -> Any:
        started = asyncio.Event()

        async def work() -> None:
            started.set()
            await asyncio.sleep(3600)

        inner = asyncio.ensure_future(work())
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await inner
        except asyncio.CancelledError:
            task.uncancel()
        return web.Response(text=f"child cancelled: {inner.cancelled()}")

    app = web.Application()
    app.router.add_get("/waits", waits)
    app.router.add_get("/child", child)
    return app


async def test_early_cancel_cancels_the_awaited_future_like_aiohttp() -> None:
    reply = await same(app_cancel_waits, GET % b"/waits")
    assert reply.body == b"future cancelled: True"


async def test_early_cancel_reaches_an_awaited_child_task_like_aiohttp() -> None:
    reply = await same(app_cancel_waits, GET % b"/child")
    assert reply.body == b"child cancelled: True"


@pytest.mark.parametrize("suspend", [False, True])
async def test_a_handler_raising_a_base_exception_is_a_500(
    raw_connect, suspend: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """GeneratorExit (or any BaseException but the process-stopping two) is a failed
    handler on both paths: a logged 500, never an error out of data_received."""

    async def handler(request: web.Request) -> web.Response:
        if suspend:
            await asyncio.sleep(0)
        raise GeneratorExit

    app = web.Application()
    app.router.add_get("/", handler)
    server = TestServer(app)
    await server.start_server()
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        conn = await raw_connect(server.port)
        await conn.send(GET % b"/")
        data = await conn.read_all()
        assert data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
        assert errors == []
        assert any(r.exc_info and r.exc_info[0] is GeneratorExit for r in caplog.records)
    finally:
        loop.set_exception_handler(None)
        await server.close()


async def test_contextvars_do_not_leak_between_requests(raw_connect) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def handler(request: web.Request) -> web.Response:
        before = var.get()
        var.set(request.path)
        if request.path == "/suspend":
            await asyncio.sleep(0)
        return web.Response(text=f"{before} {var.get()}")

    app = web.Application()
    app.router.add_get("/{any}", handler)
    server = TestServer(app)
    await server.start_server()
    try:
        conn = await raw_connect(server.port)
        await conn.send(GET % b"/a" + GET % b"/suspend" + GET % b"/b")
        bodies = [(await conn.read_response())[2] for _ in range(3)]
        assert bodies == [b"unset /a", b"unset /suspend", b"unset /b"]
    finally:
        await server.close()


async def test_sink_task_is_the_handler_task(raw_connect) -> None:
    async def handler(request: web.Request) -> web.Response:
        first = request.protocol.task is asyncio.current_task()
        await asyncio.sleep(0)
        second = request.protocol.task is asyncio.current_task()
        return web.Response(text=f"{first} {second}")

    app = web.Application()
    app.router.add_get("/", handler)
    server = TestServer(app)
    await server.start_server()
    try:
        conn = await raw_connect(server.port)
        await conn.send(GET % b"/")
        assert (await conn.read_response())[2] == b"True True"
    finally:
        await server.close()


# -- item 11: CancelledError raised while stepped in place ----------------------------


@pytest.mark.parametrize("how", ["raise", "await-cancelled-future"])
async def test_cancelled_error_in_place_closes_after_the_batch(
    raw_connect, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def cancelled(request: web.Request) -> web.Response:
        if how == "raise":
            raise asyncio.CancelledError
        fut = asyncio.get_running_loop().create_future()
        fut.cancel()
        await fut
        return web.Response(text="unreachable")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/cancelled", cancelled)
    server = TestServer(app)
    await server.start_server()
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        conn = await raw_connect(server.port)
        caplog.set_level(logging.ERROR)
        await conn.send(GET % b"/ok" + GET % b"/ok" + GET % b"/cancelled" + GET % b"/ok")
        for _ in range(2):
            status, _, body = await conn.read_response()
            assert (status, body) == (b"HTTP/1.1 200 OK", b"ok")
        assert await conn.read_all() == b""  # closed without an answer, as on aiohttp
        assert errors == []  # no "data_received() call failed", no fatal error
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        conn2 = await raw_connect(server.port)
        await conn2.send(GET % b"/ok")
        assert (await conn2.read_response())[2] == b"ok"
    finally:
        loop.set_exception_handler(None)
        await server.close()


# -- item 12: a half-sent head does not hold up shutdown -------------------------------


async def test_shutdown_does_not_wait_for_a_half_sent_head(raw_connect) -> None:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    server = TestServer(app)
    # were the half head waited for, close() would take shutdown_timeout (an hour)
    await server.start_server(
        head_timeout=3600.0, keepalive_timeout=3600.0, shutdown_timeout=3600.0
    )
    conn = await raw_connect(server.port)
    await conn.send(GET % b"/")
    assert (await conn.read_response())[2] == b"ok"
    await conn.send(b"GET / HT")
    runner_server = server.runner.server  # type: ignore[union-attr]
    assert runner_server is not None
    (protocol,) = runner_server.connections
    await until(lambda: protocol._parser.in_head)  # the half head has reached the parser
    await asyncio.wait_for(server.close(), 30)
    assert await conn.is_closed()


# -- handler_cancellation --------------------------------------------------------------


@pytest.mark.parametrize("cancellation", [True, False])
async def test_handler_cancellation_on_disconnect(raw_connect, cancellation: bool) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def waits(request: web.Request) -> web.Response:
        started.set()
        try:
            await release.wait()
        except asyncio.CancelledError:
            outcome.set_result("cancelled")
            raise
        outcome.set_result("finished")
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/", waits)
    server = TestServer(app)
    await server.start_server(handler_cancellation=cancellation)
    try:
        conn = await raw_connect(server.port)
        await conn.send(GET % b"/")
        await asyncio.wait_for(started.wait(), 5)
        runner_server = server.runner.server  # type: ignore[union-attr]
        assert runner_server is not None
        conn.writer.transport.abort()
        if cancellation:  # the server sees the connection go
            await until(lambda: not runner_server.connections)
        else:
            assert not outcome.done()
            release.set()
        assert await asyncio.wait_for(outcome, 5) == ("cancelled" if cancellation else "finished")
    finally:
        release.set()
        await server.close()
