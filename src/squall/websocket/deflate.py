"""permessage-deflate (RFC 7692): negotiation, and the two directions' codecs.

Rules:
1. The server accepts the first ``permessage-deflate`` offer whose parameters it
   understands (7.1); an offer with an unknown, repeated or malformed parameter is
   declined, and the next one is tried.
2. ``server_max_window_bits=N`` bounds our compressor's window: answered with the
   same N, which we use. zlib cannot write raw deflate with a 256-byte window, so
   an offer with N=8 is declined (aiohttp does the same).
3. ``server_no_context_takeover``: answered, and our compressor's state is reset
   after every message (a full flush).
4. ``client_max_window_bits`` and ``client_no_context_takeover`` constrain the
   client only; our decompressor always has a 32 KiB window, which reads every
   smaller one, so neither is answered.
5. SECURITY: inflating is bounded; a message may not inflate past
   ``max_msg_size`` (zlib's ``max_length``), so a small frame cannot become a
   huge buffer (a "deflate bomb").
6. A message may end in a final block (BFINAL=1, RFC 7692 7.2.3.4): the next
   message starts a fresh stream with the same window (see :class:`Inflater`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from squall.websocket.codes import WebSocketError, WSCloseCode

# RFC 7692 7.2.1: a message's compressed data ends with an empty stored block
# (0x00 0x00 0xff 0xff) that is left off the wire and added back before inflating
TRAILER = b"\x00\x00\xff\xff"
_FLAGS = ("server_no_context_takeover", "client_no_context_takeover")
_WINDOW = 32768  # the LZ77 window of a 15-bit stream, the largest a peer may use
# rule 6: what may follow a final block in its message, with and without the trailer
_AFTER_FINAL = (TRAILER, b"\x00" + TRAILER)
_AFTER_FINAL_SO_FAR = (b"", b"\x00")


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """What was agreed for one connection."""

    server_max_window_bits: int = 15
    server_no_context_takeover: bool = False
    # answered only when the client asked for it (rule 2)
    window_offered: bool = False

    def response_header(self) -> str:
        """The ``Sec-WebSocket-Extensions`` value answering the accepted offer."""
        parts = ["permessage-deflate"]
        if self.window_offered:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        return "; ".join(parts)


def _split_extensions(header: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """``name; p=v; q, name2`` into [(name, [(p, v), (q, None)]), (name2, [])]."""
    offers = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        params: list[tuple[str, str | None]] = []
        for part in parts[1:]:
            if not part:
                continue
            name, eq, value = part.partition("=")
            params.append((name.strip().lower(), value.strip().strip('"') if eq else None))
        offers.append((parts[0].lower(), params))
    return offers


def _window_bits(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 2:
        return None
    bits = int(value)
    return bits if 8 <= bits <= 15 else None


def _accept(params: list[tuple[str, str | None]]) -> DeflateParams | None:
    seen: set[str] = set()
    window = 15
    window_offered = False
    no_takeover = False
    for name, value in params:
        if name in seen:
            return None  # 7.1: a parameter given twice declines the offer
        seen.add(name)
        if name in _FLAGS:
            if value is not None:
                return None
            no_takeover = no_takeover or name == "server_no_context_takeover"
        elif name == "server_max_window_bits":
            bits = _window_bits(value)
            if bits is None or bits == 8:  # rule 2
                return None
            window, window_offered = bits, True
        elif name == "client_max_window_bits":
            if value is not None and _window_bits(value) is None:
                return None
        else:
            return None  # an unknown parameter
    return DeflateParams(window, no_takeover, window_offered)


def negotiate(header: str | None) -> DeflateParams | None:
    """Accept the first acceptable permessage-deflate offer of a
    ``Sec-WebSocket-Extensions`` header (rule 1), or None."""
    if not header:
        return None
    for name, params in _split_extensions(header):
        if name == "permessage-deflate":
            agreed = _accept(params)
            if agreed is not None:
                return agreed
    return None


class Deflater:
    """Compresses outgoing messages, one whole message at a time."""

    __slots__ = ("_compressor", "_flush", "_wbits")

    def __init__(self, wbits: int = 15, no_context_takeover: bool = False) -> None:
        self._wbits = wbits
        self._compressor = zlib.compressobj(zlib.Z_BEST_SPEED, zlib.DEFLATED, -wbits)
        # rule 3: a full flush resets the dictionary, as a fresh compressor would
        self._flush = zlib.Z_FULL_FLUSH if no_context_takeover else zlib.Z_SYNC_FLUSH

    def compress(self, data: bytes) -> bytes:
        """Return the payload of a compressed message (RSV1 set) carrying ``data``."""
        c = self._compressor
        out = c.compress(data) + c.flush(self._flush)
        return out[:-4] if out.endswith(TRAILER) else out


class Inflater:
    """Decompresses incoming messages frame by frame, bounded (rule 5).

    Rule 6, RFC 7692 7.2.3.4: a sender may end a message with a DEFLATE block whose
    BFINAL bit is set. zlib's stream is then over (``eof``): the next message is
    read by a fresh decompressor, primed with the LZ77 window the ended one had
    (the last 32 KiB inflated), because 7.2.2 has the receiver decompress each new
    message "using the LZ77 sliding window used to process the last compressed
    message" unless no context takeover was agreed (a primed window is then
    harmless). In the same message only the empty stored block of 7.2.1 may follow
    the final block (its header byte 0x00 on the wire, then our ``TRAILER``);
    anything else is refused with 1007, and at most those 5 bytes are ever kept.
    """

    __slots__ = ("_after", "_decompressor", "_window")

    def __init__(self) -> None:
        self._decompressor = zlib.decompressobj(-15)
        # what followed a final block in the current message (None: no final block)
        self._after: bytes | None = None
        self._window = bytearray()  # the last _WINDOW..2*_WINDOW bytes inflated

    def inflate(self, data: bytes, room: int | None, last: bool) -> bytes:
        """Inflate one frame's payload; ``last`` for the message's final frame.

        ``room`` is how many bytes the message may still grow by (None: no bound).
        Raise 1009 past it, 1007 on data that is not deflate (or follows the
        message's final block).
        """
        if last:
            data += TRAILER
        after = self._after
        if after is not None:  # the stream ended in an earlier frame of this message
            self._after_final(after + data, last)
            return b""
        d = self._decompressor
        try:
            # max_length one past the room: getting that byte proves the overflow
            # without inflating the rest (SECURITY, rule 5)
            out = d.decompress(data, 0 if room is None else room + 1)
        except zlib.error as exc:
            raise WebSocketError(WSCloseCode.INVALID_TEXT, f"Invalid deflate data: {exc}") from None
        if room is not None and len(out) > room:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG, "Decompressed message exceeds size limit"
            )
        # PERF: only the window's tail is kept; bytearray drops its head in place
        window = self._window
        if len(out) >= _WINDOW:
            window[:] = memoryview(out)[-_WINDOW:]
        elif out:
            window += out
            if len(window) > 2 * _WINDOW:
                del window[:-_WINDOW]
        if d.eof:  # rule 6: a final block
            self._after_final(d.unused_data, last)
        return out

    def _after_final(self, after: bytes, last: bool) -> None:
        """Check what followed a final block so far; start the next stream at the
        message's end."""
        if after not in (_AFTER_FINAL if last else _AFTER_FINAL_SO_FAR):
            raise WebSocketError(
                WSCloseCode.INVALID_TEXT, "Invalid deflate data: data after the final block"
            )
        if not last:
            self._after = after
            return
        self._after = None
        window = bytes(self._window[-_WINDOW:])
        self._decompressor = (
            zlib.decompressobj(-15, zdict=window) if window else zlib.decompressobj(-15)
        )
