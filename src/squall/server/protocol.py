"""One asyncio Protocol per connection: parse, queue, answer in order.

Theory of operation:
- ``data_received`` feeds llhttp (``h1.parser``). Each complete head becomes a
  queue entry (head, body stream); body bytes go to that entry's stream.
- Requests are answered strictly in order, one at a time. Each handler gets
  its own ``asyncio.Task`` and its first step runs in place
  (``stepping.start``); while handlers finish without suspending the loop
  goes on down the queue, and every response of the batch goes out in one
  ``transport.write``.
- If a handler suspends it continues in a Task; the queue waits for it and more
  input is parsed and queued meanwhile, up to ``max_pipeline`` entries, past which
  reading pauses. A body buffer past its high-water mark pauses reading too.
- A ProtocolError is queued like a request, so the requests before it are still
  answered; its turn writes the error response and closes the connection.

NOTE: one object per connection is the asyncio Protocol, the parser's listener
and the ResponseSink its handlers write to; the module is long for that reason.
PERF: splitting those roles into objects would add an allocation and an
indirection to every request (``bench/hotpath.py`` measures the path).

Rules:
1. The connection closes after a response marked ``keep_alive=False``, after a
   protocol error, after an upgrade request that nobody took over, and when the
   server shuts down.
2. Before closing with input possibly unread, the write side is shut first and
   input is read and dropped for ``lingering_time``, so the client reads the
   response instead of a reset.
3. Timeouts (checked by the server's sweep): a head must finish within
   ``head_timeout`` of its first byte; an idle connection closes after
   ``keepalive_timeout``; a handler waiting ``body_timeout`` for body bytes that
   do not come gets ``BodyTimeoutError``, and so does one whose body arrives
   slower than ``min_body_rate`` (``BodyStream.too_slow``); output that waits in
   the write buffer ``send_timeout`` with nothing drained (a client that does not
   read) gets the connection aborted.
4. A close never waits for ever on output the client does not read: after
   ``lingering_time`` what is still buffered is dropped (``transport.abort()``).
5. A connection stays in the server's set until its handler's Task is done, even
   after its client left: a graceful shutdown waits for that handler too.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from asyncio.tasks import _enter_task, _leave_task
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from squall.h1.errors import ProtocolError
from squall.h1.parser import RequestHead, RequestParser
from squall.h1.writer import (
    LAST_CHUNK,
    _date_server_lines,
    chunk,
    render_head,
    render_lines,
    render_simple_head,
)
from squall.http.status import reason_for
from squall.server.body import EMPTY_BODY, BodyStream, EmptyBody
from squall.server.stepping import FINISHED, start
from squall.typedefs import BodyTimeoutError, ClientDisconnectedError, MalformedBodyError

if TYPE_CHECKING:
    from squall.server.server import Server

logger = logging.getLogger("squall.server")

_PAUSE_QUEUE = 1
_PAUSE_BODY = 2
_PAUSE_WRITE = 4
_BATCH_LIMIT = 64 * 1024  # bytes of in-place responses held before a write
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# raised out of a handler after its response began: the client's doing, not a bug
# to log with a traceback (the connection is dropped all the same)
_CLIENTS_FAULT = (ClientDisconnectedError, MalformedBodyError, BodyTimeoutError)

# PERF: on Python >= 3.12 each handler's Task starts eagerly (see _run)
_EAGER = sys.version_info >= (3, 12)
_Task = asyncio.Task

_Entry = tuple[RequestHead, "BodyStream | EmptyBody"] | ProtocolError


class HttpProtocol(asyncio.Protocol):
    """Serves HTTP/1.x on one connection; also the ResponseSink its handlers write to."""

    # PERF: slots keep attribute access on the hot path a fixed-offset load
    __slots__ = (
        "_batch",
        "_body_waiting",
        "_busy",
        "_bytes_sent",
        "_chunked",
        "_close_after",
        "_config",
        "_current",
        "_current_body",
        "_drain_waiter",
        "_eager_step",
        "_handler",
        "_head_started",
        "_lingering",
        "_loop",
        "_parser",
        "_parser_dead",
        "_pause_reasons",
        "_peer_eof",
        "_queue",
        "_receiving",
        "_sent_bytes",
        "_sent_head",
        "_sent_resumed",
        "_sent_since",
        "_sent_size",
        "_served",
        "_server",
        "_stopping",
        "_task",
        "_transport",
        "_upgrade_tail",
        "_write_paused",
        "last_activity",
    )

    def __init__(self, server: Server) -> None:
        self._server = server
        self._loop = server.loop
        self._config = server.config
        self._handler = server.handler
        self._transport: asyncio.Transport | None = None
        config = server.config
        self._parser = RequestParser(
            self,
            max_line_size=config.max_line_size,
            max_field_size=config.max_field_size,
            max_headers=config.max_headers,
            max_head_size=config.max_head_size,
        )
        # the queue
        self._queue: deque[_Entry] = deque()
        self._receiving: BodyStream | None = None  # the last body llhttp started
        self._served = False  # a request head has arrived on this connection
        self._busy = False  # a handler is running
        self._task: asyncio.Task[None] | None = None
        self._eager_step = False
        self._current: RequestHead | None = None
        self._current_body: BodyStream | EmptyBody = EMPTY_BODY
        # output
        self._batch: list[bytes] | None = None  # set while answering in place
        self._bytes_sent = 0
        self._chunked = False
        self._close_after = False  # rule 1, decided by the current response
        self._stopping = False  # close once the queue is answered (EOF, shutdown)
        self._peer_eof = False  # the client half-closed: no protocol switch can follow
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        # input
        self._pause_reasons = 0
        self._parser_dead = False
        self._upgrade_tail: bytes | None = None
        self._lingering = False
        # timeouts
        self.last_activity = self._loop.time()
        self._head_started: float | None = None  # when the head now arriving began
        self._body_waiting = False
        # send_timeout, as of the last sweep: the write buffer's size, the bytes
        # written for the request then answered (and which it was), since when
        # nothing drained (None: empty), whether resume_writing came in between
        self._sent_size = 0
        self._sent_bytes = 0
        self._sent_head: RequestHead | None = None
        self._sent_since: float | None = None
        self._sent_resumed = False

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        connections = self._server.connections
        if len(connections) >= self._config.max_connections:
            # SECURITY: every connection holds buffers and a descriptor; past the
            # bound a new one gets a 503 and is closed instead of being served.
            self._parser_dead = True
            self._write_error(503, "Too many connections")
            self._close()
            return
        connections.add(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._transport = None
        task = self._task
        if task is None or task.done():
            self._server.connections.discard(self)
        # else rule 5: _on_task_done takes it out of the set
        lost = ClientDisconnectedError("Connection lost")
        if self._receiving is not None:
            self._receiving.set_exception(lost)
            self._receiving = None
        # NOTE: only _receiving can still be incomplete today; failing every queued
        # body too keeps that true if queueing ever changes (defence, no test)
        for entry in self._queue:
            if not isinstance(entry, ProtocolError) and isinstance(entry[1], BodyStream):
                entry[1].set_exception(lost)
        self._queue.clear()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(lost)
        if self._config.handler_cancellation and task is not None and not task.done():
            task.cancel()  # aiohttp's handler_cancellation: nobody is left to answer

    def data_received(self, data: bytes) -> None:
        now = self._loop.time()
        if self._parser_dead:
            return  # lingering before a close, or bytes after an upgrade nobody took
        try:
            tail = self._parser.feed(data)
        except ProtocolError as exc:
            self._parser_dead = True
            receiving = self._receiving
            if receiving is not None and not receiving.is_complete():
                self._receiving = None
                queue = self._queue
                last = queue[-1] if queue else None
                if isinstance(last, tuple) and last[1] is receiving:
                    # its handler has not started: the error is answered in its
                    # place (as aiohttp, which never runs it)
                    queue.pop()
                else:
                    # The running handler gets the error through its body stream
                    # and answers it (a 400 when it reads the body).
                    exc.during_body = True
                    receiving.set_exception(MalformedBodyError(exc.message, exc.status))
            self._queue.append(exc)
        else:
            if tail is not None:
                self._parser_dead = True
                self._upgrade_tail = tail
        receiving = self._receiving
        if self._parser.in_head:
            if self._head_started is None:
                self._head_started = now
            self.last_activity = now
        else:
            self._head_started = None
            if self._queue or self._busy or (receiving is not None and not receiving.is_complete()):
                self.last_activity = now
            # else only empty lines came (RFC 9112 2.2 lets us skip them): they
            # must not keep an idle connection alive
        if not self._busy:
            self._run()
        # after _run: one read can queue more than max_pipeline behind a handler
        # that suspended during it
        if self._busy and len(self._queue) > self._config.max_pipeline:
            self._pause(_PAUSE_QUEUE)

    def eof_received(self) -> bool | None:
        self._peer_eof = True
        receiving = self._receiving
        if receiving is not None and not receiving.is_complete():
            receiving.set_exception(ClientDisconnectedError("Client closed mid-body"))
        self._receiving = None
        if self._lingering or (not self._busy and not self._queue):
            return None  # close now
        if self._config.handler_cancellation:
            return None  # aiohttp's reading: EOF is the client gone (connection_lost cancels)
        self._stopping = True
        return True  # keep the write side open to answer what is queued

    def pause_writing(self) -> None:
        self._write_paused = True
        self._pause(_PAUSE_WRITE)  # no new requests while the client is not reading

    def resume_writing(self) -> None:
        self._write_paused = False
        self._sent_resumed = True  # the client read: progress for send_timeout
        self._resume(_PAUSE_WRITE)
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        elif not self._busy and self._queue and not self._lingering:
            self._run()  # answer what waited for the client to read

    # -- ParserListener ------------------------------------------------------

    def on_head(self, head: RequestHead) -> BodyStream | None:
        self._head_started = None  # a head that starts later in this read starts now
        self._served = True
        self._server.requests_count += 1
        if head.chunked or head.content_length:
            # RFC 9110 10.1.1: a 1.0 client's expectation is ignored (no 1xx to it)
            hook = self._send_continue if head.expect_continue and head.version >= (1, 1) else None
            config = self._config
            stream = BodyStream(
                self,
                config.body_high_water,
                config.body_low_water,
                hook,
                self._loop.time,
                config.min_body_rate,
                config.min_body_rate_grace,
            )
            self._receiving = stream
            self._queue.append((head, stream))
            return stream
        self._queue.append((head, EMPTY_BODY))
        return None

    # -- FlowOwner (body streams) ---------------------------------------------

    def pause_body(self) -> None:
        self._pause(_PAUSE_BODY)

    def resume_body(self) -> None:
        self._resume(_PAUSE_BODY)

    def body_waiting(self, waiting: bool) -> None:
        self._body_waiting = waiting
        if waiting:
            self.last_activity = self._loop.time()

    def _pause(self, reason: int) -> None:
        if not self._pause_reasons and self._transport is not None:
            self._transport.pause_reading()
        self._pause_reasons |= reason

    def _resume(self, reason: int) -> None:
        if self._pause_reasons & reason:
            self._pause_reasons &= ~reason
            if not self._pause_reasons and self._transport is not None:
                self._transport.resume_reading()

    def _flush_batch(self) -> None:
        """Write what the in-place batch holds now: whatever goes to the transport
        next (a 100 Continue, a direct write, a close) must come after it."""
        batch = self._batch
        if batch and self._transport is not None:
            self._transport.write(b"".join(batch))
            batch.clear()

    def _send_continue(self) -> None:
        transport = self._transport
        if transport is not None and self._bytes_sent == 0:
            self._flush_batch()  # the responses before this request go first
            transport.write(_CONTINUE)

    # -- answering the queue -------------------------------------------------

    def _run(self) -> None:
        """Answer queued requests in order while their handlers finish in place."""
        queue = self._queue
        loop = self._loop
        handler = self._handler
        batch: list[bytes] = []
        self._batch = batch
        batched = 0
        try:
            while (
                queue and not self._busy and not self._write_paused and self._transport is not None
            ):
                entry = queue.popleft()
                if isinstance(entry, ProtocolError):
                    self._answer_error(entry)
                    break
                head, body = entry
                self._current = head
                self._current_body = body
                self._bytes_sent = 0
                self._close_after = head.upgrade
                coro = handler(head, body, self)
                try:
                    if _EAGER:
                        # PERF: Python >= 3.12's eager Task runs the first step in its
                        # constructor, as the current task, as aiohttp does there: a
                        # handler that finishes in it is never scheduled nor entered
                        # among all tasks (bench/hotpath.py, docs/performance.md
                        # "Issue 18": -1.2 us per request on 3.12)
                        self._eager_step = True  # self.task is the current task until set
                        try:
                            task = _Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg]
                        finally:
                            self._eager_step = False
                        self._task = task
                        finished = task.done()
                        if finished:
                            task.result()  # raise what the handler raised, as below
                    else:
                        task, ctx, cell, drive = start(loop, coro)
                        self._task = task
                        # the in-place first step (stepping.start says how)
                        try:
                            _enter_task(loop, task)
                        except RuntimeError:  # inside another task: the loop runs ours
                            finished = False
                        else:
                            try:
                                cell[0] = ctx.run(coro.send, None)
                                finished = False
                            except StopIteration:
                                cell[0] = FINISHED
                                finished = True
                            except BaseException:
                                cell[0] = FINISHED
                                raise
                            finally:
                                _leave_task(loop, task)
                            if not finished:
                                drive.send(None)  # stepping rule 3
                except asyncio.CancelledError:  # as a cancelled Task is: close after it
                    self._task = None
                    self._close_after = True
                    self._request_done(cancelled=True)
                    self._close()
                    break
                except (KeyboardInterrupt, SystemExit):
                    raise  # as a Task lets them out: the process is stopping
                except BaseException as exc:  # as a failed Task is: the server goes on
                    self._task = None
                    if not isinstance(exc, _CLIENTS_FAULT):
                        logger.error("Unhandled error while answering %r", head, exc_info=exc)
                    self._internal_error()
                    break
                if not finished:
                    self._busy = True
                    task.add_done_callback(self._on_task_done)
                    continue
                self._task = None
                if task.cancelling():  # it cancelled itself, then answered: as a Task
                    self._close_after = True  # ending cancelled would, close after it
                if (
                    self._close_after
                    or self._chunked
                    or not self._bytes_sent
                    or body is not EMPTY_BODY
                    or (self._stopping and not queue)
                ) and not self._request_done():
                    break
                batched += self._bytes_sent
                if batched > _BATCH_LIMIT and batch and self._transport is not None:
                    # write now: the transport says (pause_writing) when to stop
                    self._transport.write(b"".join(batch))
                    batch.clear()
                    batched = 0
        finally:
            self._batch = None
            if batch and self._transport is not None:
                self._transport.write(b"".join(batch) if len(batch) > 1 else batch[0])
        if self._pause_reasons & _PAUSE_QUEUE and len(queue) <= self._config.max_pipeline // 2:
            self._resume(_PAUSE_QUEUE)
        if not self._busy and (self._close_after or (self._stopping and not queue)):
            self._close()

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        self._busy = False
        self._task = None
        cancelled = task.cancelled()
        exc = None if cancelled else task.exception()
        if exc is not None and not isinstance(exc, _CLIENTS_FAULT):
            logger.error("Unhandled error while answering", exc_info=exc)
        if self._transport is None:  # rule 5: the client left while it ran
            self._server.connections.discard(self)
            return
        if cancelled:
            self._close_after = True
        elif exc is not None:
            self._internal_error()
            return
        if self._request_done(cancelled):
            self._run()
        else:
            self._close()

    def _request_done(self, cancelled: bool = False) -> bool:
        """Finish the current request; True when the connection goes on.

        A handler that was cancelled before it answered gets no answer: the
        connection closes, as on aiohttp (someone chose to stop it; it did not fail).
        PERF: ``_run`` skips this for a request without a body whose response
        went out whole and kept the connection.
        """
        self.last_activity = self._loop.time()
        if self._chunked:  # a streamed response its handler never finished
            self._close_after = True
        if self._bytes_sent == 0:
            if cancelled:
                logger.debug("Handler cancelled before answering %r", self._current)
            else:
                logger.error("Handler finished without a response for %r", self._current)
                self._write_error(500, "Internal Server Error", self._head_only())
            self._close_after = True
        body = self._current_body
        if isinstance(body, BodyStream) and not body.is_complete():
            body.discard()
        self._current = None
        self._current_body = EMPTY_BODY
        if self._server.shutting_down or (self._stopping and not self._queue):
            self._close_after = True
        return not self._close_after

    def _internal_error(self) -> None:
        body = self._current_body
        # F7: a request whose client left mid-body (EOF or reset) cannot be
        # completed; the connection closes without an answer, as on aiohttp,
        # rather than with a 500 nobody logged a reason for.
        if self._bytes_sent == 0 and not (isinstance(body, BodyStream) and body.disconnected):
            self._write_error(500, "Internal Server Error", self._head_only())
        self._close_after = True
        self._close()

    def _answer_error(self, exc: ProtocolError) -> None:
        logger.debug("Bad request: %s", exc.message)
        if not exc.during_body:
            self._write_error(exc.status, exc.message, exc.head_only)
        self._close_after = True

    def _head_only(self) -> bool:
        current = self._current
        return current is not None and current.method == "HEAD"

    def _write_error(self, status: int, message: str, head_only: bool = False) -> None:
        """Answer by the engine itself; the connection closes after it.

        The fields in aiohttp's order, with ``Date`` (RFC 9110 6.6.1: an origin
        server with a clock MUST send it) and ``Server``; RFC 9110 9.3.2: the
        answer to a HEAD request is the head alone.
        """
        reason = reason_for(status)
        text = f"{status} {reason}: {message}\n" if message else ""
        body = text.encode("utf-8", "replace")
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        head = render_head((1, 1), status, reason, headers)[:-2]
        data = head + _date_server_lines() + b"Connection: close\r\n\r\n"
        if not head_only:
            data += body
        self._write(data)
        report = self._server.on_error_response
        if report is not None:  # the access log: a line for what no handler saw
            report(self, status, len(data))

    # -- closing ---------------------------------------------------------------

    def _close(self) -> None:
        """Rule 2: shut the write side, drop input for a while, then close."""
        transport = self._transport
        if transport is None or self._lingering:
            return
        self._lingering = True
        self._parser_dead = True
        self._server.connections.linger(self)
        self._flush_batch()  # answers of this batch go out before the write side shuts
        dropped = ClientDisconnectedError("Connection closing")
        for entry in self._queue:  # never to be answered: nothing may wait on them
            if not isinstance(entry, ProtocolError) and isinstance(entry[1], BodyStream):
                entry[1].set_exception(dropped)
        self._queue.clear()
        self._resume(_PAUSE_QUEUE | _PAUSE_BODY | _PAUSE_WRITE)
        if transport.can_write_eof():
            try:
                transport.write_eof()
            except OSError:
                transport.abort()  # the socket is broken: nothing more can go out
                return
        else:
            transport.close()  # TLS: no half-close; close() still flushes first
        self._loop.call_later(self._config.lingering_time, self._abort)

    def _abort(self) -> None:
        """The end of lingering (rule 4)."""
        transport = self._transport
        if transport is not None:
            if _buffered(transport):
                # the client did not read what is left in lingering_time: close()
                # would wait for it for ever
                transport.abort()
            else:
                transport.close()

    def close_idle(self) -> bool:
        """Close now if no request is running or waiting; else close after it."""
        self._stopping = True
        # a head still arriving is dropped too: waiting for it could take head_timeout
        if self._lingering or (not self._busy and not self._queue):
            if self._transport is not None:
                self._transport.close()
            return True
        return False

    def force_close(self) -> None:
        """Shutdown's last step: drop the connection and cancel a handler still running."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._transport is not None:
            self._transport.abort()

    def check_timeouts(self, now: float) -> None:
        """Rule 3; called by the server's sweep about once a second."""
        transport = self._transport
        if transport is None or self._lingering:
            return
        config = self._config
        size = _buffered(transport)
        if size:
            since = self._sent_since
            sent = self._bytes_sent
            current = self._current
            if (
                since is None
                or self._sent_resumed
                or current is not self._sent_head  # a new request: the last one drained
                # the client read: more was written than the buffer grew by (a
                # handler writing at the client's pace keeps the level flat)
                or sent - self._sent_bytes > size - self._sent_size
            ):
                self._sent_since = now  # output waits, or it moved since the last look
                self._sent_resumed = False
            elif now - since > config.send_timeout:
                self._send_timed_out()
                return
            self._sent_size = size
            self._sent_bytes = sent
            self._sent_head = current
        else:
            self._sent_since = None
        idle = now - self.last_activity
        if self._busy:
            stream = self._current_body
            if isinstance(stream, BodyStream) and not stream.is_complete():
                if self._body_waiting and idle > config.body_timeout:
                    stream.set_exception(BodyTimeoutError("Request body timed out"))
                elif stream.too_slow():  # R.U.D.Y.: bytes trickled to hold the handler
                    stream.set_exception(BodyTimeoutError("Request body too slow"))
        elif self._queue:
            return
        elif self._parser.in_head:
            started = self._head_started
            if started is not None and now - started > config.head_timeout:
                self._parser_dead = True
                self._close_after = True
                self._write_error(408, "Request head timed out")
                self._close()
        elif idle > config.keepalive_timeout or (not self._served and idle > config.head_timeout):
            # a connection that never sent a request gets at most the head timeout
            transport.close()

    def _send_timed_out(self) -> None:
        """Rule 3: the client has read nothing for send_timeout; abort, since a
        close would wait for the buffer to drain. A handler waiting in drain()
        gets ClientDisconnectedError now, any other one at its next write."""
        logger.debug("Send timed out: the client does not read its responses")
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ClientDisconnectedError("Send timed out"))
        if self._transport is not None:
            self._transport.abort()

    # -- ResponseSink ------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        self._bytes_sent += len(data)
        batch = self._batch
        if batch is not None:
            batch.append(data)
        elif self._transport is not None:
            self._transport.write(data)

    def _connection(self, version: tuple[int, int], keep_alive: bool | None) -> str | None:
        """Decide whether the connection outlives this response; return the
        ``Connection`` value the head must carry, if any.

        The response may only veto (False); the rest is the connection's business:
        what the client asked, an upgrade, a body not fully received, a shutdown.
        """
        current = self._current
        if (
            keep_alive is False
            or self._close_after
            or current is None
            or not current.keep_alive
            or (self._stopping and not self._queue)
            or self._server.shutting_down
            or not self._current_body.is_complete()
        ):
            self._close_after = True
            return "close" if version == (1, 1) else None
        return "keep-alive" if version == (1, 0) else None

    def send_response(
        self,
        version: tuple[int, int],
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        body: bytes,
        keep_alive: bool | None,
    ) -> None:
        if self._transport is None:  # as start_response: a prepare() is told, as on aiohttp
            raise ClientDisconnectedError("Connection lost")
        if status < 200:
            self._close_after = True  # see start_response
        connection = self._connection(version, keep_alive)
        if connection is not None:
            headers.append(("Connection", connection))
        self._emit(render_head(version, status, reason, headers), body)

    def send_simple(
        self,
        version: tuple[int, int],
        status: int,
        reason: str,
        content_type: str | None,
        body: bytes,
        head_only: bool,
        keep_alive: bool | None,
        extra: Sequence[tuple[str, str]] = (),
        cookies: Sequence[tuple[str, str]] = (),
    ) -> None:
        current = self._current
        if (  # PERF: _connection() inlined for the common case
            keep_alive is None
            and version == (1, 1)
            and not self._close_after
            and current is not None
            and current.keep_alive
            and not (self._stopping and not self._queue)
            and not self._server.shutting_down
            and (self._current_body is EMPTY_BODY or self._current_body.is_complete())
        ):
            connection = b""
        else:
            value = self._connection(version, keep_alive)
            connection = b"Connection: %s\r\n" % value.encode() if value else b""
        size = len(body)
        if extra or cookies:
            head = render_simple_head(
                version,
                status,
                reason,
                content_type,
                size,
                connection,
                render_lines(extra) if extra else b"",
                render_lines(cookies) if cookies else b"",
            )
        else:
            head = render_simple_head(version, status, reason, content_type, size, connection)
        self._emit(head, b"" if head_only else body)

    def _emit(self, head: bytes, body: bytes) -> None:
        """Queue or write a whole response; a small body shares the head's bytes."""
        if self._bytes_sent:
            _second_response()
        size = len(body)
        self._bytes_sent += len(head) + size
        batch = self._batch
        if size < 16384:
            data = head + body
            if batch is not None:
                batch.append(data)
            elif self._transport is not None:
                self._transport.write(data)
        elif batch is not None:
            batch.append(head)
            batch.append(body)
        elif self._transport is not None:
            self._transport.writelines((head, body))

    def start_response(
        self,
        version: tuple[int, int],
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
        chunked: bool,
        keep_alive: bool | None,
    ) -> None:
        if self._transport is None:
            raise ClientDisconnectedError("Connection lost")
        if self._bytes_sent:
            _second_response()
        if status == 101 and self._peer_eof:
            # the client sent its last byte: nobody is there to speak the new
            # protocol (aiohttp's prepare() raises ConnectionResetError here too)
            raise ClientDisconnectedError("Connection lost")
        if status < 200:
            # SECURITY: a 1xx as the answer (aiohttp sends it too) is read by the
            # client as interim: a later response on this connection would be paired
            # with the wrong request, so none comes (a real upgrade closes anyway)
            self._close_after = True
        if status != 101:  # a protocol switch says its own Connection: Upgrade
            connection = self._connection(version, keep_alive)
            if connection is not None:
                headers.append(("Connection", connection))
        self._chunked = chunked
        self._write(render_head(version, status, reason, headers))

    def send_body(self, data: bytes) -> None:
        if self._transport is None:
            raise ClientDisconnectedError("Cannot write to closing transport")
        if data:
            self._write(chunk(data) if self._chunked else data)

    def end_response(self) -> None:
        if self._chunked:
            self._chunked = False
            self._write(LAST_CHUNK)

    async def drain(self) -> None:
        if self._transport is None:
            raise ClientDisconnectedError("Connection lost")
        self._flush_batch()
        if not self._write_paused:
            return
        waiter = self._loop.create_future()
        self._drain_waiter = waiter
        try:
            await waiter
        finally:
            self._drain_waiter = None

    @property
    def bytes_sent(self) -> int:
        return self._bytes_sent

    def sent_directly(self, size: int) -> None:
        self._bytes_sent += size

    @property
    def closing(self) -> bool:
        return (
            self._close_after or (self._stopping and not self._queue) or self._server.shutting_down
        )

    @property
    def will_close(self) -> bool:
        """True when the response just sent ends the connection."""
        return self._close_after

    @property
    def peer_closed(self) -> bool:
        return self._peer_eof

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)

    @property
    def transport(self) -> asyncio.Transport | None:
        """The transport, for code that writes to it directly: what this batch
        holds goes out first, so such a write never overtakes earlier answers."""
        self._flush_batch()
        return self._transport

    def skip_continue(self) -> None:
        body = self._current_body
        if isinstance(body, BodyStream):
            body.skip_continue()

    @property
    def send_timeout(self) -> float:
        """The server's ``send_timeout``: how long output may wait unread (files
        sent by sendfile(2) and WebSockets bound their own waits with it)."""
        return self._config.send_timeout

    @property
    def task(self) -> asyncio.Task[None] | None:
        if self._eager_step:  # inside _Task(): the handler's Task is running its first step
            return asyncio.current_task(self._loop)
        return self._task

    @property
    def upgrade_tail(self) -> bytes | None:
        """Bytes that followed an upgrade request's head (for a protocol taking over)."""
        return self._upgrade_tail

    def hand_over(self, protocol: asyncio.Protocol) -> None:
        """Give the connection to ``protocol`` (after a ``101 Switching Protocols``).

        The upgrade hand-off: what was written so far goes out first, then
        ``protocol`` gets the transport (``connection_made``) and the bytes that
        followed the upgrade request's head (``data_received``). This connection
        stops reading, timing and closing it.
        """
        transport = self._transport
        current = self._current
        if transport is None:
            raise ClientDisconnectedError("Connection lost")
        if current is None or not current.upgrade or self._queue:
            raise RuntimeError("Only an upgrade request's handler can hand the connection over")
        self._flush_batch()
        self._parser_dead = True
        self._close_after = False
        self._server.connections.discard(self)
        self._resume(_PAUSE_QUEUE | _PAUSE_BODY | _PAUSE_WRITE)
        self._transport = None
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if self._upgrade_tail:
            protocol.data_received(self._upgrade_tail)


def _buffered(transport: asyncio.Transport) -> int:
    """Bytes waiting in ``transport``'s write buffer; 0 for one that keeps none
    (``asyncio.Transport``'s default raises NotImplementedError)."""
    try:
        return transport.get_write_buffer_size()
    except NotImplementedError:
        return 0


def _second_response() -> NoReturn:
    """SECURITY: a second head for one request (a handler that prepared a response
    and returned another, a middleware replacing a sent one) would be read by the
    client as the answer to its next request; the connection is dropped instead."""
    raise RuntimeError("a response was already sent for this request")
