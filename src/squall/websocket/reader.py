"""The frame reader (RFC 6455 5): bytes in, whole messages out. No I/O.

Theory of operation: ``feed(data, out)`` walks the bytes frame by frame. A frame
whose payload is all there is handled at once (the common case: one small frame
per read); a longer one collects its payload pieces until the last arrives and
is then unmasked in one piece. Data frames build messages; control frames come
out as they arrive, also between a message's fragments (5.4).

Rules (each failure raises :class:`WebSocketError` with the close code to send;
messages completed before the bad frame are already in ``out``, and the reader
accepts nothing after a failure):
1. A client's frames must be masked (5.1); a server's must not be.       1002
2. RSV1 only with permessage-deflate, and only on a message's first frame
   (RFC 7692 6.1); RSV2 and RSV3 never (5.2).                            1002
3. Opcodes other than 0, 1, 2, 8, 9, 10 are reserved (5.2).               1002
4. Control frames: at most 125 bytes and never fragmented (5.5).        1002
5. A continuation needs a message in progress; a new data frame must not
   interrupt one (5.4).                                                  1002
6. A message (its wire bytes as it arrives, and its inflated bytes) may not pass
   ``max_msg_size``: refused from the frame's header, before buffering.  1009
7. Text must be UTF-8, as a whole message (8.1); so must a close reason. 1007
8. A close payload is empty or a code of two bytes (plus a reason) that may be
   sent (7.4): one byte or a reserved code fails.                        1002
"""

from __future__ import annotations

from squall.websocket.codes import (
    WebSocketError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
    close_code_allowed,
)
from squall.websocket.deflate import Inflater
from squall.websocket.mask import Xor, best_xor

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CLOSE = WSMsgType.CLOSE
_PING = WSMsgType.PING
_PONG = WSMsgType.PONG
_OPCODES = {0: WSMsgType.CONTINUATION, 1: _TEXT, 2: _BINARY, 8: _CLOSE, 9: _PING, 10: _PONG}
_PROTOCOL_ERROR = WSCloseCode.PROTOCOL_ERROR
_TOO_BIG = WSCloseCode.MESSAGE_TOO_BIG
# PERF: messages are built as plain tuples of the NamedTuple class (no __new__ call)
_new = tuple.__new__
_BAD_TEXT = "Invalid UTF-8 text message"


def _fail(message: str, code: int = _PROTOCOL_ERROR) -> WebSocketError:
    return WebSocketError(code, message)


class FrameReader:
    """Turns the bytes a peer sends into :class:`WSMessage` tuples (see the rules)."""

    __slots__ = (
        "_chunks",
        "_decode_text",
        "_failed",
        "_fast",
        "_frame",
        "_inflater",
        "_left",
        "_max",
        "_msg_buf",
        "_msg_compressed",
        "_msg_opcode",
        "_msg_size",
        "_require_mask",
        "_tail",
        "_xor",
    )

    def __init__(
        self,
        max_msg_size: int = 4 * 1024 * 1024,
        *,
        inflater: Inflater | None = None,
        require_mask: bool = True,
        decode_text: bool = True,
        xor: Xor | None = None,
    ) -> None:
        self._xor = xor or best_xor()
        self._max = max_msg_size or None  # 0: unbounded, as on aiohttp
        self._inflater = inflater
        self._require_mask = require_mask
        self._decode_text = decode_text
        self._tail = b""  # an incomplete frame header
        self._left = 0  # payload bytes of the current frame still to come
        self._chunks: list[bytes] = []  # payload pieces of the current frame
        self._frame: tuple[int, int, int, bytes | None] = (0, 0, 0, None)  # fin, op, rsv1, key
        # the message in progress (rule 5): its opcode (0 for none) and parts
        self._msg_opcode = 0
        # a fragmented message's bytes so far: one buffer, not an object per fragment
        # (thousands of 1-byte fragments must cost about their bytes, not 30x them)
        self._msg_buf = bytearray()
        self._msg_size = 0
        self._msg_compressed = False
        self._failed = False
        # the longest payload the fast path takes (0: none, for a client's reader)
        self._fast = min(125, self._max or 125) if require_mask else 0

    def feed(self, data: bytes, out: list[WSMessage]) -> None:
        """Parse ``data``; append each message completed to ``out``."""
        if self._failed:
            return
        # PERF: the common case in one place: a read holding exactly one short,
        # masked, unfragmented TEXT or BINARY frame while no message is in progress
        # (the rules hold: FIN set, no RSV bit, a data opcode, length <= 125).
        if not (self._left or self._tail or self._msg_opcode) and len(data) > 6:
            b0 = data[0]
            n = data[1] ^ 0x80  # the mask bit must be set
            if (b0 == 0x81 or b0 == 0x82) and 0 < n <= self._fast and len(data) == n + 6:
                payload = self._xor(data[6:], data[2:6])
                if b0 == 0x82:
                    out.append(_new(WSMessage, (_BINARY, payload, "")))
                elif self._decode_text:
                    try:
                        text = payload.decode("utf-8")
                    except UnicodeDecodeError:  # rule 7
                        self._failed = True
                        raise _fail(
                            "Invalid UTF-8 text message", WSCloseCode.INVALID_TEXT
                        ) from None
                    out.append(_new(WSMessage, (_TEXT, text, "")))
                else:
                    out.append(_new(WSMessage, (_TEXT, payload, "")))
                return
        try:
            self._feed(data, out)
        except WebSocketError:
            self._failed = True
            raise

    def _feed(self, data: bytes, out: list[WSMessage]) -> None:
        if self._left:
            data = self._more_payload(data, out)
        elif self._tail:
            data = self._tail + data
            self._tail = b""
        pos = 0
        end = len(data)
        while end - pos >= 2:
            b0 = data[pos]
            b1 = data[pos + 1]
            length = b1 & 0x7F
            start = pos + 2
            if length == 126:
                start += 2
                if start > end:
                    break
                length = int.from_bytes(data[pos + 2 : start], "big")
            elif length == 127:
                start += 8
                if start > end:
                    break
                length = int.from_bytes(data[pos + 2 : start], "big")
                if length >> 63:  # 5.2: the most significant bit MUST be 0
                    raise _fail("Frame length has its most significant bit set")
            key = None
            if b1 & 0x80:
                if start + 4 > end:
                    break
                key = data[start : start + 4]
                start += 4
            opcode = b0 & 0x0F
            self._check_header(b0, opcode, length, key is not None)
            avail = end - start
            if avail < length:  # the payload continues in later reads
                self._frame = (b0 & 0x80, opcode, b0 & 0x40, key)
                self._chunks = [data[start:]] if avail else []
                self._left = length - avail
                return
            pos = start + length
            payload = data[start:pos]
            if key is not None:
                payload = self._xor(payload, key)
            self._frame_done(b0 & 0x80, opcode, b0 & 0x40, payload, out)
        if pos < end:
            self._tail = data[pos:]

    def _check_header(self, b0: int, opcode: int, length: int, masked: bool) -> None:
        if masked != self._require_mask:  # rule 1
            raise _fail("Received unmasked frame" if masked is False else "Received masked frame")
        if b0 & 0x30 or (b0 & 0x40 and self._inflater is None):  # rule 2
            raise _fail("Received frame with non-zero reserved bits")
        if opcode not in _OPCODES:  # rule 3
            raise _fail(f"Unexpected opcode={opcode!r}")
        if opcode >= 8:  # rule 4
            if not b0 & 0x80:
                raise _fail("Received fragmented control frame")
            if length > 125:
                raise _fail("Control frame payload cannot be larger than 125 bytes")
            if b0 & 0x40:
                raise _fail("Received control frame with non-zero reserved bits")
            return
        if opcode:  # rule 5
            if self._msg_opcode:
                raise _fail(f"The opcode in non-fin frame is expected to be zero, got {opcode!r}")
        elif not self._msg_opcode:
            raise _fail("Continuation frame for non started message")
        elif b0 & 0x40:  # rule 2: RSV1 on the first frame only
            raise _fail("Received frame with non-zero reserved bits")
        limit = self._max
        if limit is not None:  # rule 6, before a byte of the payload is kept
            compressed = b0 & 0x40 if opcode else self._msg_compressed
            if compressed:  # deflate can grow incompressible data a little
                limit += (limit >> 10) + 1024
            if length + self._msg_size > limit:
                raise _fail(
                    f"Message size {length + self._msg_size} exceeds limit {self._max}",
                    _TOO_BIG,
                )

    def _more_payload(self, data: bytes, out: list[WSMessage]) -> bytes:
        """Take the current frame's next payload bytes; return what follows it."""
        left = self._left
        if len(data) < left:
            self._chunks.append(data)
            self._left = left - len(data)
            return b""
        self._chunks.append(data[:left])
        self._left = 0
        payload = b"".join(self._chunks)
        self._chunks = []
        fin, opcode, rsv1, key = self._frame
        if key is not None:
            payload = self._xor(payload, key)
        self._frame_done(fin, opcode, rsv1, payload, out)
        return data[left:]

    def _frame_done(
        self, fin: int, opcode: int, rsv1: int, payload: bytes, out: list[WSMessage]
    ) -> None:
        if opcode >= 8:
            out.append(self._control(opcode, payload))
            return
        if opcode:
            self._msg_opcode = opcode
            self._msg_compressed = bool(rsv1)
        inflater = self._inflater
        if self._msg_compressed and inflater is not None:
            room = None if self._max is None else self._max - self._msg_size
            payload = inflater.inflate(payload, room, bool(fin))
        if not fin:
            if payload:
                self._msg_buf += payload
                self._msg_size += len(payload)
            return
        opcode = self._msg_opcode
        buf = self._msg_buf
        if buf:
            buf += payload
            payload = bytes(buf)
            buf.clear()
        self._msg_opcode = 0
        self._msg_size = 0
        if opcode == 1 and self._decode_text:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:  # rule 7
                raise _fail(_BAD_TEXT, WSCloseCode.INVALID_TEXT) from None
            out.append(_new(WSMessage, (_TEXT, text, "")))
        else:
            out.append(_new(WSMessage, (_TEXT if opcode == 1 else _BINARY, payload, "")))

    def _control(self, opcode: int, payload: bytes) -> WSMessage:
        if opcode == 9:
            return _new(WSMessage, (_PING, payload, ""))
        if opcode == 10:
            return _new(WSMessage, (_PONG, payload, ""))
        if not payload:  # aiohttp reports a close without a code as code 0
            return _new(WSMessage, (_CLOSE, 0, ""))
        if len(payload) == 1:  # rule 8
            raise _fail(f"Invalid close frame: {payload!r}")
        code = int.from_bytes(payload[:2], "big")
        if not close_code_allowed(code):
            raise _fail(f"Invalid close code: {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:  # rule 7
            raise _fail(_BAD_TEXT, WSCloseCode.INVALID_TEXT) from None
        return _new(WSMessage, (_CLOSE, code, reason))
