"""Opcodes, close codes and the message tuple (RFC 6455 5.2, 7.4), under aiohttp's names."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any, NamedTuple


class WSCloseCode(IntEnum):
    """Close status codes (RFC 6455 7.4.1 and the IANA registry)."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMsgType(IntEnum):
    """Frame opcodes (RFC 6455 5.2), plus aiohttp's three pseudo-types."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    # not on the wire: what receive() reports about the connection
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSMessage(NamedTuple):
    """One message: ``data`` is str (TEXT), bytes (BINARY, PING, PONG), the close
    code (CLOSE, with the reason in ``extra``) or the exception (ERROR)."""

    type: WSMsgType
    data: Any
    extra: str | None

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        """Return the data parsed as JSON."""
        return loads(self.data)


# PERF: built once; receive() hands these out on every call after a close
WS_CLOSED_MESSAGE = WSMessage(WSMsgType.CLOSED, None, None)
WS_CLOSING_MESSAGE = WSMessage(WSMsgType.CLOSING, None, None)


def close_code_allowed(code: int) -> bool:
    """May a Close frame carry ``code``? (RFC 6455 7.4.1, 7.4.2; IANA registry)

    1004, 1005, 1006 and 1015 are reserved for reporting and never sent; 1016-2999
    are for future RFCs; 3000-4999 are for libraries and applications; above that
    nothing is defined.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class WebSocketError(Exception):
    """The peer broke the protocol; ``code`` is the close code the connection fails with."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(code, message)

    def __str__(self) -> str:
        return str(self.args[1])


class WSHandshakeError(Exception):
    """The opening handshake cannot be completed (the message says why)."""
