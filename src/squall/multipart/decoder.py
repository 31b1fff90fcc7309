"""An incremental multipart decoder (RFC 2046 5.1, RFC 7578): bytes in, events out.

Theory of operation: ``feed()`` the body as it arrives (``feed_eof()`` at its end)
and call ``next_event()`` until it answers ``NEED_DATA``. Events come in the order
``PartStarted`` (the part's headers), ``PartData``…, ``PartEnded``, repeated per part,
then ``Finished`` once the closing delimiter is seen; the epilogue after it is
dropped, and ``complete`` turns true at the end of input.

Rules:
1. No I/O and no asyncio: the async reader (``squall.framework.multipart``) is a
   thin loop over this.
2. Every limit is checked where the bytes arrive: the preamble, the line after a
   delimiter, a part's header section, the count of parts, the epilogue. None
   of them is buffered past its bound before the error.
3. Body bytes leave as soon as they cannot be the start of a delimiter: at most
   ``len(b"\\r\\n--" + boundary) - 1`` bytes are held back, and a chunk with no
   CR near its end leaves whole (no copy).
4. The first delimiter may open the body without a CRLF before it: the decoder
   starts as if a CRLF had been read (RFC 2046 5.1.1's ``dash-boundary``).
5. Input ending before the closing delimiter is an error, never a quiet end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from squall.multipart.errors import MultipartError, MultipartLimitError, TooManyPartsError
from squall.multipart.headers import PartHeaders, check_boundary, parse_part_headers

DEFAULT_MAX_PARTS: Final = 1000
DEFAULT_MAX_HEADER_SIZE: Final = 16 * 1024  # one part's whole header section
DEFAULT_MAX_HEADERS: Final = 32
DEFAULT_MAX_PREAMBLE: Final = 16 * 1024
DEFAULT_MAX_EPILOGUE: Final = 16 * 1024
_MAX_PADDING: Final = 256  # transport padding after a delimiter (RFC 2046 5.1.1 LWSP)


@dataclass(frozen=True, slots=True)
class PartStarted:
    """A part begins; ``headers`` as ``(name, value)`` pairs in the order sent."""

    headers: PartHeaders


@dataclass(frozen=True, slots=True)
class PartData:
    """Bytes of the current part's body (never empty)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class PartEnded:
    """The current part's body is complete."""


@dataclass(frozen=True, slots=True)
class Finished:
    """The closing delimiter was read; no part follows."""


class _NeedData:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()
Event = PartStarted | PartData | PartEnded | Finished

_PREAMBLE, _AFTER_DELIMITER, _HEADERS, _BODY, _EPILOGUE = range(5)
_PART_ENDED: Final = PartEnded()
_FINISHED: Final = Finished()


class MultipartDecoder:
    """Decode one multipart body with the given ``boundary`` (the Content-Type's
    parameter, without the leading dashes)."""

    __slots__ = (
        "_buf",
        "_delimiter",
        "_eof",
        "_finished_sent",
        "_max_epilogue",
        "_max_header_size",
        "_max_headers",
        "_max_parts",
        "_max_preamble",
        "_parts",
        "_skipped",
        "_state",
    )

    def __init__(
        self,
        boundary: str,
        *,
        max_parts: int = DEFAULT_MAX_PARTS,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
        max_preamble: int = DEFAULT_MAX_PREAMBLE,
        max_epilogue: int = DEFAULT_MAX_EPILOGUE,
    ) -> None:
        self._delimiter = b"\r\n--" + check_boundary(boundary)
        self._max_parts = max_parts
        self._max_header_size = max_header_size
        self._max_headers = max_headers
        self._max_preamble = max_preamble
        self._max_epilogue = max_epilogue
        self._buf = b"\r\n"  # rule 4
        self._state = _PREAMBLE
        self._parts = 0
        self._skipped = 0  # preamble or epilogue bytes dropped so far
        self._eof = False
        self._finished_sent = False

    @property
    def parts(self) -> int:
        """Parts started so far."""
        return self._parts

    @property
    def complete(self) -> bool:
        """True once the closing delimiter was read and the input has ended."""
        return self._state == _EPILOGUE and self._eof and self._finished_sent

    def feed(self, data: bytes) -> None:
        """Add input. SECURITY: the epilogue is counted here and dropped, so a
        client cannot make the decoder hold what follows the closing delimiter."""
        if self._eof:
            raise RuntimeError("feed() after feed_eof()")
        if self._state == _EPILOGUE:
            self._skip(len(data), self._max_epilogue, "Multipart epilogue too long")
            return
        self._buf = self._buf + data if self._buf else data

    def feed_eof(self) -> None:
        """The input has ended."""
        self._eof = True

    def next_event(self) -> Event | _NeedData:
        """The next event, or ``NEED_DATA`` when more input is needed first."""
        state = self._state
        if state == _BODY:
            return self._body()
        if state == _HEADERS:
            return self._headers()
        if state == _AFTER_DELIMITER:
            return self._after_delimiter()
        if state == _PREAMBLE:
            return self._preamble()
        if not self._finished_sent:
            self._finished_sent = True
            return _FINISHED
        return NEED_DATA

    # -- the states ----------------------------------------------------------

    def _preamble(self) -> Event | _NeedData:
        buf = self._buf
        delimiter = self._delimiter
        index = buf.find(delimiter)
        if index < 0:
            keep = len(delimiter) - 1
            if len(buf) > keep:
                self._skip(len(buf) - keep, self._max_preamble, "No multipart boundary found")
                self._buf = buf[-keep:]
            if self._eof:
                raise MultipartError("No multipart boundary found")
            return NEED_DATA
        self._skip(index, self._max_preamble, "No multipart boundary found")
        self._skipped = 0
        self._buf = buf[index + len(delimiter) :]
        self._state = _AFTER_DELIMITER
        return self._after_delimiter()

    def _after_delimiter(self) -> Event | _NeedData:
        """RFC 2046 5.1.1: ``--`` closes; else transport padding, then CRLF."""
        buf = self._buf
        if buf[:2] == b"--":
            self._state = _EPILOGUE
            self._skip(len(buf) - 2, self._max_epilogue, "Multipart epilogue too long")
            self._buf = b""
            return self.next_event()
        end = buf.find(b"\r\n", 0, _MAX_PADDING)
        if end < 0:
            # wait only while what is here can still become "--" or padding + CRLF
            pending = buf[:-1] if buf[-1:] == b"\r" else buf
            if len(buf) >= _MAX_PADDING or (buf != b"-" and pending.strip(b" \t")):
                raise MultipartError("Invalid multipart delimiter line")
            return self._need("Multipart body ended before its closing boundary")
        if buf[:end].strip(b" \t"):
            raise MultipartError("Invalid multipart delimiter line")
        self._parts += 1
        if self._parts > self._max_parts:
            raise TooManyPartsError(self._max_parts)
        self._buf = buf[end + 2 :]
        self._state = _HEADERS
        return self._headers()

    def _headers(self) -> Event | _NeedData:
        buf = self._buf
        if buf[:2] == b"\r\n":  # no header fields at all
            self._buf = buf[2:]
            self._state = _BODY
            return PartStarted(())
        end = buf.find(b"\r\n\r\n", 0, self._max_header_size + 4)
        if end < 0:
            if len(buf) > self._max_header_size:
                raise MultipartLimitError("Part headers too large")
            return self._need("Multipart body ended in a part's headers")
        headers = parse_part_headers(buf[:end], self._max_headers)
        self._buf = buf[end + 4 :]
        self._state = _BODY
        return PartStarted(headers)

    def _body(self) -> Event | _NeedData:
        buf = self._buf
        delimiter = self._delimiter
        index = buf.find(delimiter)
        if index == 0:
            self._buf = buf[len(delimiter) :]
            self._state = _AFTER_DELIMITER
            return _PART_ENDED
        if index > 0:
            self._buf = buf[index:]  # the PartEnded comes next
            return PartData(buf[:index])
        # rule 3: only a CR in the last len(delimiter) - 1 bytes may start one
        # (bchars hold no CR, so a delimiter's prefix has its CR first)
        size = len(buf)
        cr = buf.rfind(b"\r", max(0, size - len(delimiter) + 1))
        if cr < 0 or not delimiter.startswith(buf[cr:]):
            if not size:
                return self._need("Multipart body ended before its closing boundary")
            self._buf = b""
            return PartData(buf)
        if cr == 0:
            return self._need("Multipart body ended before its closing boundary")
        self._buf = buf[cr:]
        return PartData(buf[:cr])

    # -- helpers ---------------------------------------------------------------

    def _need(self, message: str) -> _NeedData:
        if self._eof:
            raise MultipartError(message)  # rule 5
        return NEED_DATA

    def _skip(self, size: int, bound: int, message: str) -> None:
        self._skipped += size
        if self._skipped > bound:
            raise MultipartError(message)
