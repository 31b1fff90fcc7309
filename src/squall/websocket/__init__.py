"""RFC 6455 WebSockets without I/O: the handshake, frames, masking, close codes
and permessage-deflate (RFC 7692). Bytes in, messages out; no asyncio here
(the connection lives in ``squall.framework.websocket``).

NOTE: a codec of our own rather than wsproto: wsproto inflates without a bound
(a small compressed frame can grow without limit) and was measured slower on
the echo path; see docs/websockets.md ("Why our own codec").
"""

from squall.websocket.codes import (
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WebSocketError,
    WSCloseCode,
    WSHandshakeError,
    WSMessage,
    WSMsgType,
    close_code_allowed,
)
from squall.websocket.deflate import DeflateParams, Deflater, Inflater, negotiate
from squall.websocket.handshake import (
    WS_KEY,
    accept_key,
    check_request,
    choose_protocol,
    client_key,
    offered_protocols,
)
from squall.websocket.mask import mask
from squall.websocket.reader import FrameReader
from squall.websocket.writer import build_frame, close_payload, frame_header

__all__ = (
    "WS_CLOSED_MESSAGE",
    "WS_CLOSING_MESSAGE",
    "WS_KEY",
    "DeflateParams",
    "Deflater",
    "FrameReader",
    "Inflater",
    "WSCloseCode",
    "WSHandshakeError",
    "WSMessage",
    "WSMsgType",
    "WebSocketError",
    "accept_key",
    "build_frame",
    "check_request",
    "choose_protocol",
    "client_key",
    "close_code_allowed",
    "close_payload",
    "frame_header",
    "mask",
    "negotiate",
    "offered_protocols",
)
