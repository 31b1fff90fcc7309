"""The test session's httpx transport, for the requests httpx cannot write itself.

httpx speaks HTTP/1.1 only and sends a body with its head. aiohttp's client also
sends other versions (``ClientSession(version=HttpVersion10)``) and, with
``expect100=True`` (or an ``Expect: 100-continue`` header), holds the body back until
the server answers ``100 Continue``: a server that answers first with a final status
never gets the body. Such a request goes over a connection of its own, written here;
every other request goes to httpx's pool, unchanged.

Steps of one such request (``_Exchange``):
1. Connect to the URL's host and port (TLS for https).
2. Write the request line in the asked version and the head httpx built (Host,
   Content-Length or chunked...); below HTTP/1.1 a chunked body is collected first
   and sent with its Content-Length, as HTTP/1.0 has no chunked framing.
3. With ``Expect: 100-continue``, read the answer's head first: ``100`` sends the
   body, a final status answers the request without it. Without it, send the body.
4. Read heads until a final one (interim 1xx heads are skipped; 101 is final), then
   the body as the head frames it: none (HEAD, 1xx, 204, 304), chunked, a
   Content-Length, or up to the close.
5. The connection closes once the body has been read or the response is released:
   it is never reused.
"""

from __future__ import annotations

import asyncio
import ssl as ssllib
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

import httpx

VERSION = "squall.version"  # request extension: (major, minor) to send, (1, 1) by default
_HEAD_LIMIT = 2**17


class Transport(httpx.AsyncBaseTransport):
    """httpx's pool for plain HTTP/1.1 requests, a connection of its own for the rest."""

    def __init__(self, pool: httpx.AsyncBaseTransport) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        version = request.extensions.get(VERSION, (1, 1))
        expect = request.headers.get("Expect", "").lower() == "100-continue"
        if version == (1, 1) and not expect:
            return await self._pool.handle_async_request(request)
        return await _Exchange(request, version, expect).run()

    async def aclose(self) -> None:
        await self._pool.aclose()


class _Exchange:
    """One request and its response on a connection of its own."""

    def __init__(self, request: httpx.Request, version: tuple[int, int], expect: bool) -> None:
        self.request = request
        self.version = version
        self.expect = expect
        timeouts = request.extensions.get("timeout", {})
        self.connect_timeout: float | None = timeouts.get("connect")
        self.read_timeout: float | None = timeouts.get("read")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def run(self) -> httpx.Response:
        await self._connect()
        try:
            head, body = await self._head()
            assert self.writer is not None
            self.writer.write(head)
            if self.expect:
                # the body waits for a 100; a final status answers without it
                while True:
                    status, reason, version, headers = await self._read_head()
                    if status == 100:
                        await self._send_body(body)
                        status, reason, version, headers = await self._read_final_head()
                        break
                    if not 100 < status < 200 or status == 101:
                        break
            else:
                await self._send_body(body)
                status, reason, version, headers = await self._read_final_head()
        except BaseException:
            await self._close()
            raise
        stream = _ResponseBody(self, self._framing(status, headers))
        return httpx.Response(
            status,
            headers=headers,
            stream=stream,
            extensions={"http_version": version, "reason_phrase": reason},
        )

    async def _connect(self) -> None:
        url = self.request.url
        secure = url.scheme == "https"
        context = ssllib.create_default_context() if secure else None
        port = url.port or (443 if secure else 80)
        try:
            async with asyncio.timeout(self.connect_timeout):
                self.reader, self.writer = await asyncio.open_connection(
                    url.host, port, ssl=context, limit=_HEAD_LIMIT
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=self.request) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=self.request) from exc

    async def _head(self) -> tuple[bytes, list[bytes] | httpx.AsyncByteStream]:
        """The request's head in the asked version, and its body to send."""
        request = self.request
        headers = list(request.headers.raw)
        body: list[bytes] | httpx.AsyncByteStream = request.stream  # type: ignore[assignment]
        chunked = any(
            k.lower() == b"transfer-encoding" and b"chunked" in v.lower() for k, v in headers
        )
        if chunked and self.version < (1, 1):
            # HTTP/1.0 has no chunked framing: the whole body, with its length
            whole = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
            headers = [(k, v) for k, v in headers if k.lower() != b"transfer-encoding"]
            headers.append((b"Content-Length", str(len(whole)).encode()))
            body = [whole]
        if self.version < (1, 1) and not any(k.lower() == b"connection" for k, _ in headers):
            headers.append((b"Connection", b"keep-alive"))  # as aiohttp asks below HTTP/1.1
        major, minor = self.version
        lines = [
            b"%s %s HTTP/%d.%d" % (request.method.encode(), request.url.raw_path, major, minor)
        ]
        lines.extend(k + b": " + v for k, v in headers)
        return b"\r\n".join(lines) + b"\r\n\r\n", body

    async def _send_body(self, body: list[bytes] | httpx.AsyncByteStream) -> None:
        writer = self.writer
        assert writer is not None
        chunked = self.version >= (1, 1) and "chunked" in self.request.headers.get(
            "Transfer-Encoding", ""
        )
        try:
            async for chunk in _chunks(body):
                if chunked and chunk:
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                elif chunk:
                    writer.write(chunk)
                await writer.drain()
            if chunked:
                writer.write(b"0\r\n\r\n")
            await writer.drain()
        except ConnectionError:
            # NOTE: the server may answer and close before the whole body is sent
            # (a 413): its answer is still read
            pass

    async def _read(self, coro: Any) -> Any:
        try:
            async with asyncio.timeout(self.read_timeout):
                return await coro
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=self.request) from exc
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=self.request
            ) from exc
        except asyncio.LimitOverrunError as exc:
            raise httpx.RemoteProtocolError("response head too long", request=self.request) from exc

    async def _read_head(self) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        assert self.reader is not None
        raw: bytes = await self._read(self.reader.readuntil(b"\r\n\r\n"))
        status_line, *lines = raw[:-4].split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/") or not code.isdigit():
            raise httpx.RemoteProtocolError(
                f"malformed status line: {status_line!r}", request=self.request
            )
        headers = []
        for line in lines:
            name, sep, value = line.partition(b":")
            if not sep:
                raise httpx.RemoteProtocolError(
                    f"malformed header line: {line!r}", request=self.request
                )
            headers.append((name.strip(), value.strip()))
        return int(code), reason, version, headers

    async def _read_final_head(self) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        while True:
            head = await self._read_head()
            if not 100 <= head[0] < 200 or head[0] == 101:
                return head

    def _framing(self, status: int, headers: list[tuple[bytes, bytes]]) -> int | str:
        """How the body is framed: a length, ``"chunked"`` or ``"close"``."""
        if self.request.method == "HEAD" or status < 200 or status in (204, 304):
            return 0
        codings = b",".join(v for k, v in headers if k.lower() == b"transfer-encoding")
        if codings:
            last = codings.rsplit(b",", 1)[-1].strip().lower()
            return "chunked" if last == b"chunked" else "close"
        lengths = {v for k, v in headers if k.lower() == b"content-length"}
        if len(lengths) == 1 and (length := lengths.pop()).isdigit():
            return int(length)
        if lengths:
            raise httpx.RemoteProtocolError("bad Content-Length", request=self.request)
        return "close"

    async def _close(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()
            with suppress(Exception):
                await writer.wait_closed()


async def _chunks(body: list[bytes] | httpx.AsyncByteStream) -> AsyncIterator[bytes]:
    if isinstance(body, list):
        for chunk in body:
            yield chunk
    else:
        async for chunk in body:
            yield chunk


class _ResponseBody(httpx.AsyncByteStream):
    """The response's body as the head frames it; closes the connection after it."""

    def __init__(self, exchange: _Exchange, framing: int | str) -> None:
        self._exchange = exchange
        self._framing = framing

    async def __aiter__(self) -> AsyncIterator[bytes]:
        exchange = self._exchange
        reader = exchange.reader
        assert reader is not None
        try:
            if self._framing == "chunked":
                while True:
                    line = await exchange._read(reader.readuntil(b"\r\n"))
                    size = line.split(b";", 1)[0].strip()
                    try:
                        length = int(size, 16)
                    except ValueError:
                        raise httpx.RemoteProtocolError(
                            "malformed chunk size", request=exchange.request
                        ) from None
                    if length == 0:
                        break
                    yield await exchange._read(reader.readexactly(length))
                    await exchange._read(reader.readexactly(2))
            elif self._framing == "close":
                while chunk := await exchange._read(reader.read(2**16)):
                    yield chunk
            else:
                left = int(self._framing)
                while left:
                    chunk = await exchange._read(reader.read(min(left, 2**16)))
                    if not chunk:
                        raise httpx.RemoteProtocolError(
                            "peer closed connection without sending complete message body",
                            request=exchange.request,
                        )
                    left -= len(chunk)
                    yield chunk
        finally:
            await exchange._close()

    async def aclose(self) -> None:
        await self._exchange._close()
