"""A request body with a ``Content-Encoding`` (gzip, deflate, br, zstd),
decompressed as the handler reads it.

SECURITY: each read returns at most 64 KiB of output, whatever the ratio, so the
readers' own bounds (``client_max_size`` for ``read()`` and ``post()``, a route's
``max_body``) trip before a bomb costs memory or time.
"""

from __future__ import annotations

from squall.framework.exceptions import HTTPBadRequest
from squall.multipart import MultipartError
from squall.multipart.codecs import Decompressor
from squall.typedefs import BodySource, MalformedBodyError

_STEP = 64 * 1024


# NOTE: MalformedBodyError's ``status`` attribute is set by its __init__, never
# called here; the response's read-only ``status`` (400) is the one that exists
class BodyDecodingError(HTTPBadRequest, MalformedBodyError):  # type: ignore[override]
    """A body its Content-Encoding does not decode (bad, cut short, trailing bytes).

    Caught, it is ``web.RequestPayloadError`` (a ValueError), what aiohttp raises
    from every body read; uncaught, a 400 naming the fault (aiohttp: a 500).
    """

    def __init__(self, message: str) -> None:
        HTTPBadRequest.__init__(self, text=message)


class DecodedBody:
    """A BodySource over another one, decompressing; ``received`` counts the
    decompressed bytes handed out."""

    __slots__ = ("_decompressor", "_done", "_fed", "_pending", "_raw", "received")

    def __init__(self, raw: BodySource, decompressor: Decompressor) -> None:
        self._raw = raw
        self._decompressor = decompressor
        self._pending = b""
        self._done = False
        self._fed = False  # a raw byte arrived: the coding's end is checked
        self.received = 0

    def is_complete(self) -> bool:
        return self._raw.is_complete()

    @property
    def raw_received(self) -> int:
        """Bytes received as sent, before decompression."""
        return self._raw.received

    def at_eof(self) -> bool:
        return self._done and not self._pending

    async def readany(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        decompressor = self._decompressor
        try:
            while not self._done:
                out = decompressor.read(_STEP)
                if out:
                    self.received += len(out)
                    return out
                data = await self._raw.readany()
                if not data:
                    self._done = True
                    if self._fed:  # an empty body is an empty body, as on aiohttp
                        decompressor.finish()
                    break
                self._fed = True
                decompressor.feed(data)
        except MultipartError as exc:
            raise BodyDecodingError(str(exc)) from None
        return b""

    async def read(self, n: int = -1) -> bytes:
        if n < 0:
            parts = []
            while data := await self.readany():
                parts.append(data)
            return b"".join(parts)
        if n == 0:
            return b""
        data = await self.readany()
        if len(data) > n:
            self._pending = data[n:]
            data = data[:n]
        return data
