"""``ws_connect``'s opening handshake (RFC 6455 4.1), on a raw asyncio connection.

Steps, as aiohttp's ``ClientSession.ws_connect`` takes them:
1. Connect to the URL's host and port (TLS for https/wss).
2. Send the upgrade: the caller's headers, then ``Upgrade``/``Connection``/
   ``Sec-WebSocket-Version`` where the caller set none (a test may send a bad one on
   purpose), a fresh ``Sec-WebSocket-Key``, the subprotocols, ``Origin``, the
   permessage-deflate offer, the session's cookies and credentials.
3. Read the answer's head and check it in aiohttp's order, failing with aiohttp's
   ``WSServerHandshakeError`` messages: status 101, ``Upgrade: websocket``,
   ``Connection: upgrade``, ``Sec-WebSocket-Accept`` (4.1 items 1-4), then the
   deflate answer (RFC 7692 7.1).
4. Hand the connection to a :class:`ClientWebSocketResponse`.

Redirects are not followed: a 3xx fails the handshake like any other status.
"""

from __future__ import annotations

import asyncio
import base64
import ssl as ssllib
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from squall.testing.errors import (
    ClientConnectionError,
    ServerDisconnectedError,
    WSServerHandshakeError,
)
from squall.testing.websocket import (
    DEFAULT_WS_CLIENT_TIMEOUT,
    ClientWebSocketResponse,
    ClientWSTimeout,
)
from squall.testing.wsprotocol import WSClientProtocol
from squall.websocket import FrameReader, Inflater, accept_key, client_key

# aiohttp ws_connect options a test client cannot honour: refused by name
UNSUPPORTED = frozenset(
    {"proxy", "proxy_auth", "proxy_headers", "verify_ssl", "fingerprint", "ssl_context"}
)
_DEFLATE_PARAMS = frozenset(
    {
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
    }
)
_USER_AGENT = f"Python/{sys.version_info[0]}.{sys.version_info[1]} squall.testing"
_SCHEMES = {"http": "http", "ws": "http", "https": "https", "wss": "https"}


def deflate_offer(compress: int) -> str:
    """The client's permessage-deflate offer for a window of ``compress`` bits."""
    if not 9 <= compress <= 15:
        raise ValueError("Compress wbits must between 9 and 15, zlib does not support wbits=8")
    offer = "permessage-deflate; client_max_window_bits"
    if compress < 15:
        offer += f"; server_max_window_bits={compress}"
    return offer


def deflate_answer(header: str | None) -> tuple[int, bool]:
    """What the server's ``Sec-WebSocket-Extensions`` agreed for our compressor:
    ``(window bits, client_no_context_takeover)``, or ``(0, False)`` for no deflate.

    Raise ``ValueError`` for a permessage-deflate answer with a parameter we did not
    offer or a window out of 9-15 (RFC 7692 7.1.2.2; aiohttp's messages).
    """
    for item in (header or "").split(","):
        name, *params = (p.strip() for p in item.split(";"))
        if name.lower() != "permessage-deflate":
            continue
        wbits, notakeover = 15, False
        for param in filter(None, params):
            key, eq, value = (s.strip().strip('"') for s in param.partition("="))
            key = key.lower()
            if key not in _DEFLATE_PARAMS or (eq and not value.isdigit()):
                raise ValueError("Extension for deflate not supported" + item)
            if key == "client_no_context_takeover":
                notakeover = True
            elif key == "client_max_window_bits" and eq:
                wbits = int(value)
                if not 9 <= wbits <= 15:
                    raise ValueError("Invalid window size")
        return wbits, notakeover
    return 0, False


def basic_auth(auth: Any) -> str | None:
    """An ``Authorization`` value for aiohttp's ``BasicAuth`` or a (login, password) pair."""
    if auth is None:
        return None
    if isinstance(auth, tuple) and len(auth) == 2:
        login, password = auth
    else:
        login, password = getattr(auth, "login", None), getattr(auth, "password", "")
        if login is None:
            raise TypeError("auth must be a BasicAuth(login, password) or a (login, password) pair")
    raw = f"{login}:{password}".encode("latin-1")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def ws_timeout(timeout: Any, receive_timeout: float | None) -> ClientWSTimeout:
    """aiohttp's ``timeout=``: a ``ClientWSTimeout`` (or an object with its fields),
    or a number of seconds for the closing handshake; ``receive_timeout=`` overrides."""
    if timeout is None:
        result = DEFAULT_WS_CLIENT_TIMEOUT
    elif isinstance(timeout, int | float):
        result = ClientWSTimeout(ws_receive=None, ws_close=float(timeout))
    else:
        result = ClientWSTimeout(
            ws_receive=getattr(timeout, "ws_receive", None),
            ws_close=getattr(timeout, "ws_close", None),
        )
    if receive_timeout is not None:
        result = ClientWSTimeout(ws_receive=receive_timeout, ws_close=result.ws_close)
    return result


def _request_head(method: str, url: URL, headers: CIMultiDict[str]) -> bytes:
    lines = [f"{method} {url.raw_path_qs} HTTP/1.1", f"Host: {url.host_port_subcomponent}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"Newline in header {name!r}")  # SECURITY: no header injection
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(head: bytes) -> tuple[int, CIMultiDictProxy[str]]:
    status_line, *lines = head.decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/") or not code.isdigit():
        raise ServerDisconnectedError(f"Invalid response status line: {status_line!r}")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    return int(code), CIMultiDictProxy(headers)


class Handshake:
    """One ``ws_connect`` call's options; ``await open()`` connects."""

    def __init__(
        self,
        url: URL,
        *,
        method: str = "GET",
        protocols: Iterable[str] = (),
        timeout: Any = None,
        receive_timeout: float | None = None,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        auth: Any = None,
        origin: str | None = None,
        params: Any = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        ssl: ssllib.SSLContext | bool = True,
        server_hostname: str | None = None,
        compress: int = 0,
        max_msg_size: int = 4 * 1024 * 1024,
        decode_text: bool = True,
    ) -> None:
        if url.scheme not in _SCHEMES or not url.raw_host:
            raise ValueError(f"ws_connect needs an http, https, ws or wss URL, not {url}")
        self.url = url.extend_query(params) if params is not None else url
        self.host: str = url.raw_host
        self.method = method
        self.protocols = tuple(protocols)
        self.timeout = ws_timeout(timeout, receive_timeout)
        self.autoclose = autoclose
        self.autoping = autoping
        self.heartbeat = heartbeat
        self.auth = basic_auth(auth)
        self.origin = origin
        self.headers = CIMultiDict(headers or ())
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.compress = compress
        self.offer = deflate_offer(compress) if compress else None
        self.max_msg_size = max_msg_size
        self.decode_text = decode_text

    @property
    def http_url(self) -> URL:
        """The URL with an http(s) scheme: what cookies and the error see."""
        return self.url.with_scheme(_SCHEMES[self.url.scheme])

    def request_headers(
        self, defaults: Iterable[tuple[str, str]], cookie: str | None, key: str
    ) -> CIMultiDict[str]:
        """Step 2: the headers of the upgrade request."""
        real = CIMultiDict(self.headers)
        for name, value in defaults:  # the session's, unless the call set the name
            if name not in self.headers:
                real.add(name, value)
        real.setdefault("Upgrade", "websocket")
        real.setdefault("Connection", "Upgrade")
        real.setdefault("Sec-WebSocket-Version", "13")
        real["Sec-WebSocket-Key"] = key
        if self.protocols:
            real["Sec-WebSocket-Protocol"] = ",".join(self.protocols)
        if self.origin is not None:
            real["Origin"] = self.origin
        if self.offer is not None:
            real["Sec-WebSocket-Extensions"] = self.offer
        real.setdefault("Accept", "*/*")
        real.setdefault("User-Agent", _USER_AGENT)
        if self.auth is not None:
            real.setdefault("Authorization", self.auth)
        if cookie:
            real.setdefault("Cookie", cookie)
        return real

    def _ssl_context(self) -> ssllib.SSLContext | None:
        if _SCHEMES[self.url.scheme] != "https":
            return None
        if isinstance(self.ssl, ssllib.SSLContext):
            return self.ssl
        context = ssllib.create_default_context()
        if self.ssl is False:  # aiohttp's ssl=False: no certificate check
            context.check_hostname = False
            context.verify_mode = ssllib.CERT_NONE
        return context

    async def open(
        self, defaults: Iterable[tuple[str, str]], cookie: str | None, limit: float | None
    ) -> tuple[ClientWebSocketResponse, int, CIMultiDictProxy[str]]:
        """Steps 1-4, the connection and the head bounded by ``limit`` seconds."""
        loop = asyncio.get_running_loop()
        key = client_key()
        head = _request_head(self.method, self.url, self.request_headers(defaults, cookie, key))
        context = self._ssl_context()
        conn: WSClientProtocol | None = None
        try:
            async with asyncio.timeout(limit):
                try:
                    _, conn = await loop.create_connection(
                        lambda: WSClientProtocol(loop),
                        self.host,
                        self.url.port or 0,
                        ssl=context,
                        server_hostname=self.server_hostname if context is not None else None,
                    )
                except OSError as exc:  # refused, unreachable, a TLS failure: as aiohttp's
                    raise ClientConnectionError(f"Cannot connect to {self.url}: {exc}") from exc
                conn.write(head)
                status, headers = _parse_head(await conn.head)
            ws = self._accept(conn, key, status, headers)
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return ws, status, headers

    def _fail(self, message: str, status: int, headers: CIMultiDictProxy[str]) -> Exception:
        return WSServerHandshakeError(status, message, headers)

    def _accept(
        self, conn: WSClientProtocol, key: str, status: int, headers: CIMultiDictProxy[str]
    ) -> ClientWebSocketResponse:
        """Step 3, then step 4."""
        if status != 101:
            raise self._fail("Invalid response status", status, headers)
        if headers.get("Upgrade", "").lower() != "websocket":
            raise self._fail("Invalid upgrade header", status, headers)
        if headers.get("Connection", "").lower() != "upgrade":
            raise self._fail("Invalid connection header", status, headers)
        if headers.get("Sec-WebSocket-Accept", "") != accept_key(key):
            raise self._fail("Invalid challenge response", status, headers)
        protocol = None
        if self.protocols and "Sec-WebSocket-Protocol" in headers:
            chosen = [p.strip() for p in headers["Sec-WebSocket-Protocol"].split(",")]
            protocol = next((p for p in chosen if p in self.protocols), None)
        wbits, notakeover = 0, False
        if self.compress:
            try:
                wbits, notakeover = deflate_answer(headers.get("Sec-WebSocket-Extensions"))
            except ValueError as exc:
                raise self._fail(str(exc), status, headers) from None
        reader = FrameReader(
            self.max_msg_size,
            inflater=Inflater() if wbits else None,
            require_mask=False,
            decode_text=self.decode_text,
        )
        conn.start(reader)
        return ClientWebSocketResponse(
            conn,
            protocol=protocol,
            timeout=self.timeout,
            autoclose=self.autoclose,
            autoping=self.autoping,
            heartbeat=self.heartbeat,
            compress=wbits,
            client_notakeover=notakeover,
        )
