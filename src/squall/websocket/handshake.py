"""The opening handshake (RFC 6455 4.2): checking the client's request and
computing the server's answer. Pure functions over header values.

The checks run in aiohttp's order and fail with aiohttp's messages, because a
client (or a test) may show them: Upgrade, Connection, version, key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable

from squall.websocket.codes import WSHandshakeError

# RFC 6455 1.3: the GUID appended to the client's key
WS_KEY = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# RFC 6455 4.4: 13 is the protocol; 8 and 7 were drafts aiohttp still accepts
_VERSIONS = ("13", "8", "7")


def accept_key(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key.encode() + WS_KEY).digest()).decode()


def client_key() -> str:
    """Return a fresh random ``Sec-WebSocket-Key`` (16 bytes, base64): for clients."""
    return base64.b64encode(os.urandom(16)).decode()


def _has_token(value: str | None, token: str) -> bool:
    return value is not None and any(part.strip().lower() == token for part in value.split(","))


def check_request(
    upgrade: str | None, connection: str | None, version: str | None, key: str | None
) -> str:
    """Check a client's upgrade request; return the accept key to answer with.

    Raise :class:`WSHandshakeError` with aiohttp's message for what is wrong.
    """
    if (upgrade or "").lower().strip() != "websocket":
        raise WSHandshakeError(
            f'No WebSocket UPGRADE hdr: {upgrade}\n Can "Upgrade" only to "WebSocket".'
        )
    if not _has_token(connection, "upgrade"):  # RFC 6455 4.2.1 item 4
        raise WSHandshakeError(f"No CONNECTION upgrade hdr: {connection}")
    if (version or "") not in _VERSIONS:
        raise WSHandshakeError(f"Unsupported version: {version or ''}")
    # RFC 6455 4.2.1 item 5: base64 of 16 bytes. SECURITY: a key with a non-ASCII
    # character (a header may hold any byte) makes b64decode raise a
    # plain ValueError, of which binascii.Error is a subclass: both are a 400.
    try:
        decoded = base64.b64decode(key) if key else b""
    except ValueError:
        decoded = b""
    if key is None or len(decoded) != 16:
        raise WSHandshakeError(f"Handshake error: {key!r}")
    return accept_key(key)


def offered_protocols(header: str | None) -> list[str]:
    """The subprotocols a ``Sec-WebSocket-Protocol`` header offers, in order."""
    if header is None:
        return []
    return [p.strip() for p in header.split(",")]


def choose_protocol(offered: list[str], supported: Iterable[str]) -> str | None:
    """The first offered subprotocol the server supports (the client's order wins,
    as on aiohttp), or None."""
    supported = tuple(supported)
    for proto in offered:
        if proto in supported:
            return proto
    return None
