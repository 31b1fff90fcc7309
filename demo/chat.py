"""The demo's chat: a WebSocket handler that broadcasts every message to every peer.

``/chat/ws`` is the WebSocket (``web.WebSocketResponse``, aiohttp's API); ``/chat`` is
a page that sends what you type and shows what everyone sends (as text: a message is
never markup).
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from typing import Any

from squall import templates as aiohttp_jinja2
from squall import web

MAX_MESSAGE = 500  # characters kept of a message; longer ones are cut

peers_key = web.AppKey("chat_peers", weakref.WeakSet[web.WebSocketResponse])
guests = itertools.count(1)


async def broadcast(peers: weakref.WeakSet[web.WebSocketResponse], data: Any) -> None:
    for peer in list(peers):  # a copy: peers come and go while sends wait
        if not peer.closed:
            with contextlib.suppress(ConnectionResetError):  # a peer that just left
                await peer.send_json(data)


# WebSockets: a chat room
async def chat(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
    await ws.prepare(request)
    name = f"guest {next(guests)}"
    peers = request.app[peers_key]
    peers.add(ws)
    try:
        await ws.send_json({"you": name})  # once this arrives, the peer hears everyone
        async for msg in ws:
            if msg.type is web.WSMsgType.TEXT and msg.data.strip():
                text = msg.data.strip()[:MAX_MESSAGE]
                await broadcast(peers, {"from": name, "text": text})
    finally:
        peers.discard(ws)
    return ws


@aiohttp_jinja2.template("chat.html")
async def chat_page(request: web.Request) -> dict[str, str]:
    return {}


def setup_chat(app: web.Application) -> None:
    app[peers_key] = weakref.WeakSet()
    app.add_routes(
        [
            web.get("/chat", chat_page, name="chat_page"),
            web.get("/chat/ws", chat, name="chat_ws"),
        ]
    )
