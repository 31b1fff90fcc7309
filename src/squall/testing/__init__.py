"""Test utilities: real servers on 127.0.0.1 and a client that answers like aiohttp's."""

from squall.testing.client import ClientResponse, TestClient
from squall.testing.mocked import make_mocked_request
from squall.testing.server import BaseTestServer, RawTestServer, TestServer, unused_port

__all__ = [
    "BaseTestServer",
    "ClientResponse",
    "RawTestServer",
    "TestClient",
    "TestServer",
    "make_mocked_request",
    "unused_port",
]
