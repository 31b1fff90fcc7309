"""The test client's errors, named and nested as aiohttp's client errors are.

A suite that catches ``aiohttp.ClientResponseError`` catches
``squall.testing.ClientResponseError`` after the move; the tree is aiohttp's:

    ClientError
    ├── ClientResponseError (status, message, headers)
    │   ├── ContentTypeError (also a ValueError: json() on a body that is not JSON)
    │   └── WSServerHandshakeError (ws_connect: the answer is no WebSocket handshake)
    ├── ClientConnectionError (also an OSError: the server could not be reached)
    │   ├── ClientConnectionResetError (also a ConnectionResetError: a send after
    │   │   the connection closed)
    │   └── ServerConnectionError
    │       ├── ServerDisconnectedError (closed before or during the response head)
    │       └── ServerTimeoutError (also a TimeoutError: a WebSocket heartbeat's PONG
    │           never came)
    └── ClientPayloadError (the body broke off)
"""

from __future__ import annotations

from collections.abc import Mapping


class ClientError(Exception):
    """The base of every error the test client raises."""


class ClientResponseError(ClientError):
    """``raise_for_status()`` on a 4xx or 5xx response."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}, message={message!r}")
        self.status = status
        self.message = message
        self.headers = headers


class ContentTypeError(ClientResponseError, ValueError):
    """``resp.json()`` on a response whose Content-Type is not the one expected."""


class WSServerHandshakeError(ClientResponseError):
    """``ws_connect()``: the server did not complete the WebSocket handshake.

    ``status`` and ``headers`` are the answer's; ``message`` says what was wrong,
    in aiohttp's words ("Invalid response status", "Invalid challenge response"…).
    """


class ClientConnectionError(ClientError, OSError):
    """The request could not be sent or its answer could not be read."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """A write to a connection that is closing or closed."""


class ServerConnectionError(ClientConnectionError):
    """The server's side of the connection failed."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection without a (complete) response head."""


class ServerTimeoutError(ServerConnectionError, TimeoutError):
    """The server did not answer in time (a WebSocket heartbeat's PONG)."""


class ClientPayloadError(ClientError):
    """The response body broke off or could not be decoded."""
