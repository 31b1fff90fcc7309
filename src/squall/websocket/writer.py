"""Building frames (RFC 6455 5.2): the header, masking for clients, close payloads."""

from __future__ import annotations

import os

from squall.websocket.mask import mask

_FIN = 0x80
_RSV1 = 0x40


def frame_header(opcode: int, length: int, *, rsv1: bool = False, masked: bool = False) -> bytes:
    """The header of a final frame with a payload of ``length`` bytes (no mask key)."""
    b0 = _FIN | opcode | (_RSV1 if rsv1 else 0)
    m = 0x80 if masked else 0
    if length < 126:
        return bytes((b0, m | length))
    if length < 65536:
        return bytes((b0, m | 126)) + length.to_bytes(2, "big")
    return bytes((b0, m | 127)) + length.to_bytes(8, "big")


def build_frame(
    opcode: int, payload: bytes, *, rsv1: bool = False, masked: bool = False, fin: bool = True
) -> bytes:
    """A whole frame; ``masked`` frames (a client's) get a random key (5.3)."""
    head = frame_header(opcode, len(payload), rsv1=rsv1, masked=masked)
    if not fin:
        head = bytes((head[0] & 0x7F,)) + head[1:]
    if masked:
        key = os.urandom(4)
        return head + key + mask(key, payload)
    return head + payload


def close_payload(code: int | None, reason: bytes | str = b"") -> bytes:
    """A Close frame's payload: the code (two bytes, network order) and the reason.

    The reason must fit a control frame (5.5: 125 bytes with the code).
    """
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    if code is None:
        return b""
    payload = code.to_bytes(2, "big") + reason
    if len(payload) > 125:
        raise ValueError("A close reason is limited to 123 bytes")
    return payload
