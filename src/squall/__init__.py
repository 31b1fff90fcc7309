"""Squall: a fast, strict asyncio HTTP/1.1 server and web framework with aiohttp's server API."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# aiohttp's top-level names a server needs (``aiohttp.WSCloseCode`` reads
# ``squall.WSCloseCode``), imported when first asked for: ``import squall`` stays light
_LAZY = {
    "WSCloseCode": "squall.websocket",
    "WSMessage": "squall.websocket",
    "WSMsgType": "squall.websocket",
    "WebSocketError": "squall.websocket",
    "WSMessageTypeError": "squall.framework.websocket",
    "BodyPartReader": "squall.framework.multipart",
    "MultipartReader": "squall.framework.multipart",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'squall' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = ["__version__", *_LAZY]
