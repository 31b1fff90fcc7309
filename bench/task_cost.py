#!/usr/bin/env python3
"""What a Task per request costs, in isolation (docs/performance.md, "A Task per request").

Times, per handler call, on uvloop, with one loop iteration every 16 calls (as a
pipelined read makes them): stepping a handler coroutine that returns at once with
no Task; the same inside a bare Task that the loop then finishes; and Squall's own
way (``stepping.start`` plus the in-place step, as ``HttpProtocol._run`` does it).

    .venv/bin/python bench/task_cost.py
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import types
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Callable, Generator

import uvloop

from squall.server.stepping import FINISHED, start

loop = uvloop.new_event_loop()
asyncio.set_event_loop(loop)


async def handler() -> None:
    return None


def no_task() -> None:
    ctx = contextvars.copy_context()
    coro = handler()
    try:
        ctx.run(coro.send, None)
    except StopIteration:
        pass


@types.coroutine
def _nothing() -> Generator[None, None, None]:
    return None
    yield  # a generator-based coroutine that ends at once


def bare_task() -> None:
    ctx = contextvars.copy_context()
    coro = handler()
    task = loop.create_task(_nothing(), context=ctx)
    _enter_task(loop, task)
    try:
        ctx.run(coro.send, None)
    except StopIteration:
        pass
    finally:
        _leave_task(loop, task)


def squall_step() -> None:
    coro = handler()
    task, ctx, cell, _drive = start(loop, coro)
    _enter_task(loop, task)
    try:
        cell[0] = ctx.run(coro.send, None)
    except StopIteration:
        cell[0] = FINISHED
    finally:
        _leave_task(loop, task)


def per_call(fn: Callable[[], None], per_tick: int = 16, ticks: int = 10_000) -> float:
    """Microseconds per call, the loop's work on what the calls scheduled included."""
    left = ticks
    done: asyncio.Future[None] = loop.create_future()

    def tick() -> None:
        nonlocal left
        for _ in range(per_tick):
            fn()
        left -= 1
        if left:
            loop.call_soon(tick)
        else:
            done.set_result(None)

    t0 = time.perf_counter()
    loop.call_soon(tick)
    loop.run_until_complete(done)
    return (time.perf_counter() - t0) / (per_tick * ticks) * 1e6


def main() -> None:
    cases = {"no task": no_task, "bare Task": bare_task, "squall (start + step)": squall_step}
    best = {name: min(per_call(fn) for _ in range(5)) for name, fn in cases.items()}
    for name, us in best.items():
        print(f"{name:24s} {us:5.2f} us per handler")


if __name__ == "__main__":
    main()
