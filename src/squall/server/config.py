"""Every limit and timeout of the server, in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Limits (bytes, counts) and timeouts (seconds) for each connection."""

    max_line_size: int = 8190  # request-target length
    max_field_size: int = 8190  # one header name or value
    max_headers: int = 128
    max_head_size: int = 256 * 1024  # a whole head while it arrives
    keepalive_timeout: float = 75.0  # idle between requests
    head_timeout: float = 20.0  # from a head's first byte to its end
    body_timeout: float = 60.0  # a handler waiting on a body that does not come
    # Kestrel's MinRequestBodyDataRate: below this average (bytes per second of the
    # handler's waiting for body bytes, after the grace) a body gets 408; 0 is off
    min_body_rate: float = 240.0
    min_body_rate_grace: float = 5.0
    lingering_time: float = 2.0  # reading (and dropping) input before a close
    # SECURITY: a client that stops reading its responses: once output waits in the
    # write buffer this long without the buffer draining at all, the connection is
    # aborted (a drain() waiting on it fails with ClientDisconnectedError)
    send_timeout: float = 60.0
    max_connections: int = 10_000  # open at once; more get a 503 and are closed
    max_pipeline: int = 32  # parsed requests waiting their turn before reading pauses
    body_high_water: int = 256 * 1024  # buffered body bytes before reading pauses
    body_low_water: int = 64 * 1024
    handler_cancellation: bool = False  # cancel the handler's Task when the client goes
