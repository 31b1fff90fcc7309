"""Differential helpers: the same app on both servers, header names compared
case-insensitively (aiohttp writes ``Etag``, Squall ``ETag``: the same field)."""

from __future__ import annotations

from aiohttp import web as aiohttp_web

from framework._wire import AppFactory, Reply, render, run_on
from squall import web as squall_web


def _ci(reply: Reply) -> Reply:
    headers = tuple(sorted((k.lower(), v) for k, v in reply.headers))
    return Reply(reply.status_line, headers, reply.body, reply.after)


async def same_ci(factory: AppFactory, data: bytes) -> Reply:
    """Squall's reply, after asserting it equals aiohttp's (names case-insensitive)."""
    theirs = _ci(await run_on(aiohttp_web, factory, data))
    ours = _ci(await run_on(squall_web, factory, data))
    assert ours == theirs, f"\nsquall:  {render(ours)}\naiohttp: {render(theirs)}"
    return ours
