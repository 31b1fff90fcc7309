"""Give each handler its own ``asyncio.Task``, and run its first step in place.

Rules:
1. Every request's handler runs in a real ``asyncio.Task`` of its own, created
   before the handler's first line: ``asyncio.current_task()`` inside a handler is
   that Task from start to end, as on aiohttp (libraries key state on it:
   SQLAlchemy's ``async_scoped_session(scopefunc=current_task)``,
   ``asyncio.timeout()``, ``TaskGroup``).
2. The first step of the handler runs right away, inside ``data_received``, with
   the Task entered as the current task (what Python 3.12's eager tasks do). A
   handler that finishes without suspending has written its response before the
   loop ever runs the Task, so a pipelined batch still goes out in one write.
3. When the Task's own first step comes (the loop runs it later), it picks the
   coroutine up where the in-place step left it: nothing if the handler finished,
   else it waits on what the handler was waiting on. A ``cancel()`` that arrived
   before that first step is thrown into the handler at its ``await``, as it
   would be in any Task.
4. Each request runs in its own copy of the context, so ``contextvars`` never
   leak between requests.

PERF: a Task per request costs its creation, its registration among all tasks
and one trip through the loop to finish it (see ``docs/performance.md`` for the
figures); the in-place step keeps the rest of what stepping used to save: no
wait for the loop before the first byte, one write per pipelined batch.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import Any

UNSTEPPED: Any = object()  # the in-place step did not run: the Task runs it all
FINISHED: Any = object()  # the handler returned (or raised) during the in-place step


def start(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]
) -> tuple[asyncio.Task[None], contextvars.Context, list[Any], Generator[Any, None, None]]:
    """Make the Task that owns ``coro`` (rule 1): (task, its context, the hand-off
    cell _drive reads, _drive itself).

    The caller then steps ``coro`` once in place as ``task`` (rule 2: enter the
    task, ``ctx.run(coro.send, None)``, leave it), stores how that ended in
    ``cell[0]`` (FINISHED, or what the handler yielded) and, when the handler
    suspended, runs ``drive`` to its first yield with ``drive.send(None)``. When
    the task cannot be entered (the caller runs inside another task) it leaves
    everything to the Task. ``HttpProtocol._run`` does this inline (PERF: a call
    frame per request is ~4% of the pipelined path).
    """
    ctx = contextvars.copy_context()
    cell: list[Any] = [UNSTEPPED]
    drive = _drive(coro, cell)
    return loop.create_task(drive, context=ctx), ctx, cell, drive


@types.coroutine
def _drive(coro: Coroutine[Any, Any, None], cell: list[Any]) -> Generator[Any, None, None]:
    """The coroutine the Task runs: finish what the in-place step began (rule 3).

    ``cell[0]`` says how the step ended: UNSTEPPED, FINISHED, or what the handler
    yielded to its driver when it suspended.
    """
    pending = cell[0]
    if pending is UNSTEPPED:
        yield from coro
        return None
    if pending is FINISHED:
        return None
    try:
        yield  # where the caller primes us, so an early cancel() reaches the handler
    except BaseException as exc:  # delivered by the Task: pass it on, as await would
        if not (
            isinstance(exc, asyncio.CancelledError)
            and isinstance(pending, asyncio.Future)
            and pending.cancel(exc.args[0] if exc.args else None)
        ):
            try:
                pending = coro.throw(exc)
            except StopIteration:
                return None
        # else: as Task.cancel() does, the future the handler waits on is cancelled
        # instead (a child task, a shield, an executor job learn of it) and the
        # handler gets its CancelledError when that future is done
    while True:
        try:
            yield pending  # the Task waits on what the handler waits on
        except BaseException as exc:  # as above
            try:
                pending = coro.throw(exc)
            except StopIteration:
                return None
        else:
            break
    # Resumed normally: the Task always resumes with None, and so does yield from
    yield from coro
    return None
