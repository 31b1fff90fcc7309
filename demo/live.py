"""The demo's live clock: server-sent events (``squall.sse``, aiohttp-sse's API).

``/clock/events`` is an event stream with a ``tick`` event holding the server's time
once a second; ``/clock`` is a page whose ``EventSource`` shows each tick as it comes.
Open streams are stopped at shutdown, so a page left open never holds the server's exit
for ``shutdown_timeout``.
"""

from __future__ import annotations

import asyncio
import time
import weakref

from squall import templates as aiohttp_jinja2
from squall import web
from squall.sse import EventSourceResponse, sse_response

streams_key = web.AppKey("clock_streams", weakref.WeakSet[EventSourceResponse])


# Server-sent events: a clock
async def clock(request: web.Request) -> web.StreamResponse:
    async with sse_response(request) as sse:
        request.app[streams_key].add(sse)  # stopped at shutdown: stop_streams()
        while sse.is_connected():
            await sse.send(time.strftime("%H:%M:%S"), event="tick")
            await asyncio.sleep(1)
    return sse


async def stop_streams(app: web.Application) -> None:
    """``on_shutdown``: end every open stream (its handler's loop ends with it)."""
    for stream in list(app[streams_key]):
        stream.stop_streaming()


@aiohttp_jinja2.template("clock.html")
async def clock_page(request: web.Request) -> dict[str, str]:
    return {}


def setup_clock(app: web.Application) -> None:
    app[streams_key] = weakref.WeakSet()
    app.on_shutdown.append(stop_streams)
    app.add_routes(
        [
            web.get("/clock", clock_page, name="clock_page"),
            web.get("/clock/events", clock, name="clock_events"),
        ]
    )
