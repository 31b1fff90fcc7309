"""The one error of the h1 layer: a request the server must refuse."""

from __future__ import annotations


class ProtocolError(Exception):
    """Bad input on the wire; answer ``status`` with ``message`` and close.

    RFC 9112 section 11.2: after a framing error the rest of the stream can no
    longer be trusted, so every ProtocolError ends the connection.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.during_body = False  # set when it broke a body its handler may be reading
        self.head_only = False  # set when the request is known to be HEAD (no body)
