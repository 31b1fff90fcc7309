"""A small JSON API for notes, written for aiohttp and served by Squall.

Swap the import below for ``from aiohttp import web`` and the file runs unchanged on
aiohttp (``tests/test_examples.py`` does exactly that and compares the answers).

What it shows:
- ``AppKey``s for typed application state;
- a ``cleanup_ctx`` holding a resource (a tiny in-memory store with an open/close life);
- a sub-application mounted at ``/api/v1`` with its own middleware (token auth);
- an error middleware on the root turning every error into JSON;
- ``normalize_path_middleware``: ``/api/v1/notes/`` redirects to ``/api/v1/notes``;
- ``url_for`` through the sub-application's prefix for the ``Location`` of new notes.

Run it: ``python examples/notes_api.py`` (port 8080), then for instance
``curl -H 'Authorization: Bearer secret' localhost:8080/api/v1/notes``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from squall import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class NoteStore:
    """Notes in memory; ``open``/``close`` stand in for a database pool's life."""

    def __init__(self) -> None:
        self.notes: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.is_open = False

    async def open(self) -> None:
        await asyncio.sleep(0)
        self.is_open = True

    async def close(self) -> None:
        await asyncio.sleep(0)
        self.is_open = False

    def add(self, text: str) -> dict[str, Any]:
        note = {"id": next(self._ids), "text": text}
        self.notes[note["id"]] = note
        return note


store_key = web.AppKey("store", NoteStore)
token_key = web.AppKey("token", str)


async def store_ctx(app: web.Application) -> AsyncIterator[None]:
    store = NoteStore()
    await store.open()
    app[store_key] = store
    yield
    await store.close()


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every HTTP error as ``{"error": reason, "status": code}``; redirects pass."""
    try:
        return await handler(request)
    except web.HTTPRedirection:
        raise
    except web.HTTPException as exc:
        return web.json_response(
            {"error": exc.reason, "status": exc.status},
            status=exc.status,
            headers={"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None,
        )


@web.middleware
async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    expected = f"Bearer {request.config_dict[token_key]}"
    if request.headers.get("Authorization") != expected:
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
    return await handler(request)


routes = web.RouteTableDef()


@routes.get("/notes", name="notes")
async def list_notes(request: web.Request) -> web.Response:
    notes = request.config_dict[store_key].notes
    return web.json_response(sorted(notes.values(), key=lambda n: n["id"]))


@routes.post("/notes")
async def add_note(request: web.Request) -> web.Response:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(reason="Body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise web.HTTPUnprocessableEntity(reason="Expected {'text': str}")
    note = request.config_dict[store_key].add(data["text"])
    location = request.app.router["note"].url_for(note_id=str(note["id"]))
    return web.json_response(note, status=201, headers={"Location": str(location)})


@routes.get(r"/notes/{note_id:\d+}", name="note")
async def get_note(request: web.Request) -> web.Response:
    note = request.config_dict[store_key].notes.get(int(request.match_info["note_id"]))
    if note is None:
        raise web.HTTPNotFound(reason="No such note")
    return web.json_response(note)


@routes.delete(r"/notes/{note_id:\d+}")
async def delete_note(request: web.Request) -> web.Response:
    notes = request.config_dict[store_key].notes
    if notes.pop(int(request.match_info["note_id"]), None) is None:
        raise web.HTTPNotFound(reason="No such note")
    return web.Response(status=204)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": request.app[store_key].is_open})


def make_app(token: str = "secret") -> web.Application:
    app = web.Application(
        middlewares=[
            json_errors,
            web.normalize_path_middleware(append_slash=False, remove_slash=True),
        ]
    )
    app[token_key] = token
    app.cleanup_ctx.append(store_ctx)
    app.router.add_get("/health", health)
    api = web.Application(middlewares=[require_token])
    api.add_routes(routes)
    app.add_subapp("/api/v1", api)
    return app


if __name__ == "__main__":
    web.run_app(make_app())
