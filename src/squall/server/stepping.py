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
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Coroutine, Generator
from typing import Any

_UNSTEPPED: Any = object()  # the in-place step did not run: the Task runs it all
_FINISHED: Any = object()  # the handler returned (or raised) during the in-place step


class InPlaceStep:
    """One handler: its Task (``task``) and the in-place first step (``run``)."""

    __slots__ = ("_coro", "_ctx", "_drive", "pending", "task")

    def __init__(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]) -> None:
        self._coro = coro
        self._ctx = ctx = contextvars.copy_context()
        self.pending: Any = _UNSTEPPED  # read by _drive when the Task first runs
        self._drive = drive = _drive(coro, self)
        self.task: asyncio.Task[None] = loop.create_task(drive, context=ctx)

    def run(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Step the handler once in place; True when it finished (returned or raised).

        An exception the handler raises propagates to the caller.
        """
        task = self.task
        try:
            _enter_task(loop, task)
        except RuntimeError:  # called from inside another task: let the loop run ours
            return False
        try:
            pending = self._ctx.run(self._coro.send, None)
        except StopIteration:
            self.pending = _FINISHED
            return True
        except BaseException:
            self.pending = _FINISHED
            raise
        finally:
            _leave_task(loop, task)
        self.pending = pending
        self._drive.send(None)  # rule 3: run _drive to its first yield
        return False


@types.coroutine
def _drive(coro: Coroutine[Any, Any, None], step: InPlaceStep) -> Generator[Any, None, None]:
    """The coroutine the Task runs: finish what the in-place step began (rule 3)."""
    pending = step.pending
    if pending is _UNSTEPPED:
        yield from coro
        return None
    if pending is _FINISHED:
        return None
    try:
        yield  # where run() primes us, so an early cancel() reaches the handler
    except BaseException as exc:  # delivered by the Task: pass it on, as await would
        try:
            pending = coro.throw(exc)
        except StopIteration:
            return None
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
