"""The request body as a pull stream over a bounded buffer.

The protocol pushes chunks in as llhttp finds them; the handler pulls them out.
When more than ``high_water`` bytes wait unread the protocol stops reading the
socket, and starts again once the reader has taken the buffer below ``low_water``,
so a body never has to fit in memory unless the handler asks for all of it.

The minimum data rate (R.U.D.Y., a body trickled a byte at a time): the stream
adds up the time its reader spends waiting for bytes, and ``too_slow()`` says
when, past the grace, the bytes received fall short of ``min_rate`` per second of
that waiting (less one second of slack). Only waiting time counts: a handler that
is slow to read never makes its client look slow.

SECURITY: the account is a balance, bytes in and ``min_rate`` out per second of
waiting, and the credit it may hold is capped at ``min_rate * grace``: averaged
from the start, a 1 MiB burst bought 73 minutes of trickling at 1 byte a second.
With the cap, a body that falls below the rate is cut within about
``grace + 1`` s of waiting whatever came before, while a client sending steadily
above the rate only ever gains.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

from squall.typedefs import ClientDisconnectedError, PayloadAccessError

_RATE_SLACK = 1.0  # seconds of waiting not counted against the minimum rate


class FlowOwner(Protocol):
    """What a body stream asks of its connection."""

    def pause_body(self) -> None: ...

    def resume_body(self) -> None: ...

    def body_waiting(self, waiting: bool) -> None: ...


class BodyStream:
    """One request's body; satisfies ``squall.typedefs.BodySource``."""

    __slots__ = (
        "_before_first_read",
        "_buffer",
        "_clock",
        "_complete",
        "_discard",
        "_exc",
        "_grace",
        "_high",
        "_low",
        "_min_rate",
        "_owner",
        "_paused",
        "_rate_credit",
        "_rate_received",
        "_rate_waited",
        "_received",
        "_size",
        "_wait_began",
        "_waited",
        "_waiter",
    )

    def __init__(
        self,
        owner: FlowOwner,
        high_water: int,
        low_water: int,
        before_first_read: Callable[[], None] | None = None,
        clock: Callable[[], float] | None = None,
        min_rate: float = 0.0,
        grace: float = 5.0,
    ) -> None:
        self._owner = owner
        self._high = high_water
        self._low = low_water
        self._buffer: deque[bytes] = deque()
        self._size = 0
        self._received = 0
        self._complete = False
        self._discard = False
        self._paused = False
        self._exc: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._before_first_read = before_first_read
        self._clock = clock  # None: no rate is measured
        self._min_rate = min_rate
        self._grace = grace
        self._waited = 0.0
        self._wait_began: float | None = None
        # the rate's account, as of the last too_slow(): balance, bytes, waiting
        self._rate_credit = 0.0
        self._rate_received = 0
        self._rate_waited = 0.0

    # -- the protocol's side -------------------------------------------------

    def skip_continue(self) -> None:
        """Never call the before-first-read hook (the 100 Continue was someone else's)."""
        self._before_first_read = None

    def feed(self, data: bytes) -> None:
        self._received += len(data)
        if self._discard:
            return
        self._buffer.append(data)
        self._size += len(data)
        if self._size > self._high and not self._paused:
            self._paused = True
            self._owner.pause_body()
        self._wake()

    def feed_eof(self) -> None:
        self._complete = True
        self._wake()

    def set_exception(self, exc: BaseException) -> None:
        if not self._complete:
            self._exc = exc
        self._wake()

    def discard(self) -> None:
        """Drop what is buffered and whatever still arrives (the handler is done);
        a read after this raises PayloadAccessError, as on aiohttp."""
        self._discard = True
        if self._exc is None:
            self._exc = PayloadAccessError("Payload was accessed after response was sent")
        self._wake()  # a reader already waiting gets the error too
        self._buffer.clear()
        self._size = 0
        self._unpause()

    def too_slow(self) -> bool:
        """True when, past the grace, the body arrives slower than the minimum rate
        (bytes received per second of the reader's waiting, on the stream's clock,
        with at most the grace's worth of credit). The server asks about once a
        second; each call settles the account up to now."""
        rate = self._min_rate
        clock = self._clock
        if not rate or clock is None or self._complete or self._exc is not None:
            return False
        waited = self._waited
        if self._wait_began is not None:
            waited += clock() - self._wait_began
        # settle the account: the rate is due for the waiting since the last look,
        # the bytes since then are paid in, and the credit is capped (a burst
        # buys at most the grace's worth of time)
        credit = (
            self._rate_credit
            - rate * (waited - self._rate_waited)
            + (self._received - self._rate_received)
        )
        credit = min(credit, rate * self._grace)
        self._rate_credit = credit
        self._rate_received = self._received
        self._rate_waited = waited
        # one second of slack: bytes come in packets, and a client sending steadily
        # above the rate must not be cut just before its next packet lands
        return waited > self._grace and credit < -rate * _RATE_SLACK

    # -- the reader's side ---------------------------------------------------

    def set_min_rate(self, rate: float) -> None:
        """This request's minimum data rate in bytes per second (0: none), as a
        route sets it; the time already waited still counts."""
        self._min_rate = rate

    @property
    def received(self) -> int:
        return self._received

    def is_complete(self) -> bool:
        return self._complete

    @property
    def disconnected(self) -> bool:
        """True when the client went away (EOF or reset) before the body ended."""
        return isinstance(self._exc, ClientDisconnectedError)

    def at_eof(self) -> bool:
        return self._complete and not self._buffer

    async def readany(self) -> bytes:
        while not self._buffer:
            if self._complete:
                return b""
            await self._wait()
        data = self._buffer.popleft()
        self._taken(len(data))
        return data

    async def read(self, n: int = -1) -> bytes:
        if n < 0:
            while not self._complete:
                await self._wait()
            data = b"".join(self._buffer)
            self._buffer.clear()
            self._taken(len(data))
            return data
        if n == 0:
            return b""
        while not self._buffer:
            if self._complete:
                return b""
            await self._wait()
        data = self._buffer.popleft()
        if len(data) > n:
            self._buffer.appendleft(data[n:])
            data = data[:n]
        self._taken(len(data))
        return data

    def _taken(self, n: int) -> None:
        self._size -= n
        if self._paused and self._size <= self._low:
            self._unpause()

    def _unpause(self) -> None:
        if self._paused:
            self._paused = False
            self._owner.resume_body()

    async def _wait(self) -> None:
        if self._exc is not None:
            raise self._exc
        if self._before_first_read is not None:
            hook, self._before_first_read = self._before_first_read, None
            hook()
        if self._paused:
            # The buffer is full yet the reader wants more (read(-1)): let it grow.
            self._unpause()
        waiter = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._owner.body_waiting(True)
        clock = self._clock
        began = None if clock is None else clock()
        self._wait_began = began
        try:
            await waiter
        finally:
            self._waiter = None
            self._owner.body_waiting(False)
            if clock is not None and began is not None:
                self._waited += clock() - began
                self._wait_began = None
        if self._exc is not None and not self._buffer and not self._complete:
            raise self._exc

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class EmptyBody:
    """The body of a request that has none (no Content-Length, not chunked)."""

    __slots__ = ()

    received = 0

    def is_complete(self) -> bool:
        return True

    def at_eof(self) -> bool:
        return True

    async def read(self, n: int = -1) -> bytes:
        return b""

    async def readany(self) -> bytes:
        return b""


EMPTY_BODY = EmptyBody()

__all__ = ["EMPTY_BODY", "BodyStream", "ClientDisconnectedError", "EmptyBody", "FlowOwner"]
