"""Test utilities: real servers on 127.0.0.1 and a client that answers like aiohttp's.

The client (``TestClient``, ``ClientResponse``) needs httpx, which only the
``test`` extra installs (``pip install squall[test]``); it is imported when first
asked for, so the servers, ``make_mocked_request`` and the pytest plugin work
without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from squall.testing.mocked import make_mocked_request
from squall.testing.server import BaseTestServer, RawTestServer, TestServer, unused_port

if TYPE_CHECKING:
    from squall.testing.client import ClientResponse, TestClient

__all__ = [
    "BaseTestServer",
    "ClientResponse",
    "RawTestServer",
    "TestClient",
    "TestServer",
    "make_mocked_request",
    "unused_port",
]

_CLIENT_NAMES = {"ClientResponse", "TestClient"}


def __getattr__(name: str) -> Any:
    # NOTE: PEP 562; keeps httpx (an optional dependency) out of ``import squall.testing``
    if name in _CLIENT_NAMES:
        from squall.testing import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
