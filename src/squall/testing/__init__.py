"""Test utilities under aiohttp's names: real servers on 127.0.0.1 and a client.

``from aiohttp.test_utils import X`` becomes ``from squall.testing import X`` for
``TestServer``, ``RawTestServer``, ``BaseTestServer``, ``TestClient``,
``AioHTTPTestCase`` (also ``SquallTestCase``), ``make_mocked_request``,
``make_mocked_coro``, ``unused_port``, ``get_port_socket``, ``get_unused_port_socket``,
``loop_context``, ``setup_test_loop``, ``teardown_test_loop`` and ``unittest_run_loop``;
``client.ws_connect(path)`` returns a ``ClientWebSocketResponse``.

The client side (``TestClient``, the test-case classes, ``ClientResponse``,
``ClientSession``, ``CookieJar``) needs httpx, which only the ``test`` extra installs
(``pip install squall[test]``); it is imported when first asked for, so the servers,
``make_mocked_request`` and the pytest plugin work without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from squall.testing.errors import (
    ClientConnectionError,
    ClientConnectionResetError,
    ClientError,
    ClientPayloadError,
    ClientResponseError,
    ContentTypeError,
    ServerConnectionError,
    ServerDisconnectedError,
    ServerTimeoutError,
    WSServerHandshakeError,
)
from squall.testing.loop import loop_context, setup_test_loop, teardown_test_loop
from squall.testing.mocked import make_mocked_coro, make_mocked_request
from squall.testing.server import (
    BaseTestServer,
    RawTestServer,
    TestServer,
    get_port_socket,
    get_unused_port_socket,
    unused_port,
)

if TYPE_CHECKING:
    from squall.testing.case import AioHTTPTestCase, SquallTestCase, unittest_run_loop
    from squall.testing.client import ClientResponse, ClientSession, CookieJar, TestClient
    from squall.testing.websocket import ClientWebSocketResponse, ClientWSTimeout

__all__ = [
    "AioHTTPTestCase",
    "BaseTestServer",
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientError",
    "ClientPayloadError",
    "ClientResponse",
    "ClientResponseError",
    "ClientSession",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "ContentTypeError",
    "CookieJar",
    "RawTestServer",
    "ServerConnectionError",
    "ServerDisconnectedError",
    "ServerTimeoutError",
    "SquallTestCase",
    "TestClient",
    "TestServer",
    "WSServerHandshakeError",
    "loop_context",
    "get_port_socket",
    "get_unused_port_socket",
    "make_mocked_coro",
    "make_mocked_request",
    "setup_test_loop",
    "teardown_test_loop",
    "unittest_run_loop",
    "unused_port",
]

_LAZY = {
    "ClientResponse": "client",
    "ClientSession": "client",
    "CookieJar": "client",
    "TestClient": "client",
    "ClientWebSocketResponse": "websocket",
    "ClientWSTimeout": "websocket",
    "AioHTTPTestCase": "case",
    "SquallTestCase": "case",
    "unittest_run_loop": "case",
}


def __getattr__(name: str) -> Any:
    # NOTE: PEP 562; keeps httpx (an optional dependency) out of ``import squall.testing``
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"squall.testing.{module}"), name)
