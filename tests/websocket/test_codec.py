"""squall.websocket without I/O: frames fed whole, byte by byte and with trailing
data; masking; permessage-deflate negotiation and its inflate bound."""

from __future__ import annotations

import os
import zlib

import pytest

from squall.websocket import (
    Deflater,
    FrameReader,
    Inflater,
    WebSocketError,
    WSMessage,
    WSMsgType,
    build_frame,
    close_code_allowed,
    close_payload,
    frame_header,
    negotiate,
)
from squall.websocket.mask import best_xor, xor_python
from tests.websocket.conftest import frame


def naive_xor(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 100, 4097, 65536])
def test_both_xors_match_the_definition(n: int) -> None:
    data, key = os.urandom(n), os.urandom(4)
    assert xor_python(data, key) == naive_xor(data, key)
    assert best_xor()(data, key) == naive_xor(data, key)


def feed_all(reader: FrameReader, data: bytes, step: int | None = None) -> list[WSMessage]:
    out: list[WSMessage] = []
    if step is None:
        reader.feed(data, out)
    else:
        for i in range(0, len(data), step):
            reader.feed(data[i : i + step], out)
    return out


STREAM = (
    frame(1, b"short")
    + frame(2, b"\x00" * 300)  # 16-bit length
    + frame(2, b"\x01" * 70000)  # 64-bit length
    + frame(1, "ünï".encode(), fin=False)
    + frame(9, b"ping!")
    + frame(0, "cödé".encode())
    + frame(10, b"")
    + frame(8, (1001).to_bytes(2, "big") + b"going")
)
EXPECTED = [
    (WSMsgType.TEXT, "short", ""),
    (WSMsgType.BINARY, b"\x00" * 300, ""),
    (WSMsgType.BINARY, b"\x01" * 70000, ""),
    (WSMsgType.PING, b"ping!", ""),
    (WSMsgType.TEXT, "ünïcödé", ""),
    (WSMsgType.PONG, b"", ""),
    (WSMsgType.CLOSE, 1001, "going"),
]


@pytest.mark.parametrize("step", [None, 1, 2, 7, 1000])
def test_reader_whole_and_in_pieces(step: int | None) -> None:
    assert feed_all(FrameReader(), STREAM, step) == EXPECTED


def test_reader_keeps_a_partial_frame_behind_a_whole_one() -> None:
    reader = FrameReader()
    second = frame(1, b"second")
    out = feed_all(reader, frame(1, b"first") + second[:3])
    assert out == [(WSMsgType.TEXT, "first", "")]
    assert feed_all(reader, second[3:]) == [(WSMsgType.TEXT, "second", "")]


def test_reader_without_text_decoding_and_as_a_client() -> None:
    reader = FrameReader(decode_text=False, require_mask=False)
    assert feed_all(reader, frame(1, b"raw", masked=False)) == [(WSMsgType.TEXT, b"raw", "")]
    with pytest.raises(WebSocketError) as info:
        feed_all(FrameReader(require_mask=False), frame(1, b"x"))
    assert info.value.code == 1002


def test_reader_refuses_an_oversized_frame_from_its_header() -> None:
    reader = FrameReader(max_msg_size=100)
    header_only = frame(2, b"x" * 101)[:8]  # no payload byte has arrived
    with pytest.raises(WebSocketError) as info:
        feed_all(reader, header_only)
    assert info.value.code == 1009
    assert feed_all(reader, b"more") == []  # nothing is accepted after a failure


def test_exactly_max_msg_size_is_accepted() -> None:
    assert feed_all(FrameReader(max_msg_size=100), frame(2, b"x" * 100)) == [
        (WSMsgType.BINARY, b"x" * 100, "")
    ]
    assert feed_all(FrameReader(max_msg_size=0), frame(2, b"x" * 5000))[0][1] == b"x" * 5000


def test_empty_fragments_are_not_kept() -> None:
    reader = FrameReader()
    data = frame(2, b"a", fin=False) + frame(0, b"", fin=False) * 1000 + frame(0, b"b")
    assert feed_all(reader, data) == [(WSMsgType.BINARY, b"ab", "")]


def test_close_payloads() -> None:
    assert close_payload(1000) == b"\x03\xe8"
    assert close_payload(4000, "é") == b"\x0f\xa0\xc3\xa9"
    with pytest.raises(ValueError):
        close_payload(1000, b"x" * 124)
    assert [
        c
        for c in (999, 1000, 1004, 1005, 1006, 1011, 1015, 2999, 3000, 4999, 5000)
        if close_code_allowed(c)
    ] == [1000, 1011, 3000, 4999]


def test_frame_header_lengths() -> None:
    assert frame_header(1, 125) == b"\x81\x7d"
    assert frame_header(2, 126) == b"\x82\x7e\x00\x7e"
    assert frame_header(2, 65536, rsv1=True) == b"\xc2\x7f" + (65536).to_bytes(8, "big")
    masked = build_frame(1, b"hello", masked=True)
    assert masked[:2] == b"\x81\x85"
    assert naive_xor(masked[6:], masked[2:6]) == b"hello"


NEGOTIATION = [
    (None, None),
    ("permessage-deflate", "permessage-deflate"),
    (
        "permessage-deflate; server_max_window_bits=9",
        "permessage-deflate; server_max_window_bits=9",
    ),
    ("permessage-deflate; server_max_window_bits=16", None),
    ("permessage-deflate; server_max_window_bits", None),
    ("permessage-deflate; client_max_window_bits=7", None),
    ("permessage-deflate; client_max_window_bits=10", "permessage-deflate"),
    ("permessage-deflate; server_no_context_takeover=1", None),
    ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
    ("permessage-deflate; mystery", None),
    (
        "permessage-deflate; mystery, permessage-deflate; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover",
    ),
    (
        'permessage-deflate; server_max_window_bits="12"',
        "permessage-deflate; server_max_window_bits=12",
    ),
]


@pytest.mark.parametrize(("offer", "answer"), NEGOTIATION)
def test_negotiation(offer: str | None, answer: str | None) -> None:
    agreed = negotiate(offer)
    assert (agreed.response_header() if agreed else None) == answer


@pytest.mark.parametrize("no_takeover", [False, True])
def test_deflate_round_trip_across_messages(no_takeover: bool) -> None:
    deflater, inflater = Deflater(10, no_takeover), Inflater()
    messages = [b"the same words " * 50, b"the same words " * 50, b"", os.urandom(5000)]
    wire = [deflater.compress(m) for m in messages]
    assert [inflater.inflate(w, None, True) for w in wire] == messages
    if no_takeover:  # each message stands alone: a fresh inflater reads the second
        assert Inflater().inflate(wire[1], None, True) == messages[1]
    else:  # the second refers back to the first: smaller than it
        assert len(wire[1]) < len(wire[0])


def compressed_frame(data: bytes, opcode: int = 2) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = (c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    return frame(opcode, body, rsv=4)


def test_reader_inflates_and_bounds_a_deflate_bomb() -> None:
    reader = FrameReader(max_msg_size=1 << 20, inflater=Inflater())
    assert feed_all(reader, compressed_frame(b"text " * 100, 1)) == [
        (WSMsgType.TEXT, "text " * 100, "")
    ]
    bomb = compressed_frame(b"\x00" * (64 << 20))  # 64 MiB of zeros in ~64 KiB
    assert len(bomb) < 100_000
    with pytest.raises(WebSocketError) as info:
        feed_all(reader, bomb)
    assert info.value.code == 1009


def test_compressed_fragments_and_rsv1_rules() -> None:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = (c.compress(b"fragmented and compressed") + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    data = frame(1, body[:5], fin=False, rsv=4) + frame(9, b"") + frame(0, body[5:])
    assert feed_all(FrameReader(inflater=Inflater()), data) == [
        (WSMsgType.PING, b"", ""),
        (WSMsgType.TEXT, "fragmented and compressed", ""),
    ]
    for bad in (
        frame(1, body[:5], fin=False, rsv=4) + frame(0, body[5:], rsv=4),  # RSV1 later
        frame(9, b"", rsv=4),  # RSV1 on a control frame
    ):
        with pytest.raises(WebSocketError) as info:
            feed_all(FrameReader(inflater=Inflater()), bad)
        assert info.value.code == 1002
    with pytest.raises(WebSocketError) as info:
        feed_all(FrameReader(inflater=Inflater()), frame(2, b"\xff\xff\xff", rsv=4))
    assert info.value.code == 1007


def finished(data: bytes, history: bytes = b"") -> bytes:
    """``data`` deflated with Z_FINISH: its last block has BFINAL set."""
    if history:
        c = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=history)
    else:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH)


@pytest.mark.parametrize("step", [None, 1, 3])
def test_final_blocks_then_more_messages(step: int | None) -> None:
    """RFC 7692 7.2.3.4: a message may end in a final block; the next one starts a
    new stream that keeps the LZ77 window (7.2.2)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=b"HelloHello, worldx")
    synced = (c.compress(b", world, world") + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
    data = (
        frame(1, bytes.fromhex("f348cdc9c9070000"), rsv=4)  # the RFC's example
        + frame(1, finished(b"Hello, world", b"Hello"), rsv=4)  # refers back
        + frame(1, finished(b"x"), fin=False, rsv=4)  # the final block, then 7.2.1's 0x00
        + frame(0, b"\x00")
        + frame(1, synced, rsv=4)  # a flushed message after the ended streams
    )
    assert feed_all(FrameReader(inflater=Inflater()), data, step) == [
        (WSMsgType.TEXT, "Hello", ""),
        (WSMsgType.TEXT, "Hello, world", ""),
        (WSMsgType.TEXT, "x", ""),
        (WSMsgType.TEXT, ", world, world", ""),
    ]


@pytest.mark.parametrize(
    "payloads",
    [
        [finished(b"x") + b"\x00\x00"],
        [finished(b"x") + b"\x01"],
        [finished(b"x") + finished(b"y")],
        [finished(b"x"), b"\x00", b"\x00"],
    ],
)
def test_data_after_a_final_block_is_1007(payloads: list[bytes]) -> None:
    inflater = Inflater()
    with pytest.raises(WebSocketError) as info:
        for i, payload in enumerate(payloads):
            inflater.inflate(payload, None, i == len(payloads) - 1)
    assert info.value.code == 1007


def test_tiny_fragments_cost_about_their_bytes() -> None:
    """A message sent as thousands of 1-byte fragments is held in one buffer, not an
    object per fragment (which cost ~30x the bytes: 4 MiB of them held ~100 MiB)."""
    import sys

    reader = FrameReader(max_msg_size=1 << 20)
    n = 20_000
    parts = [frame(2, b"a", fin=False)] + [frame(0, b"b", fin=False)] * (n - 2)
    assert feed_all(reader, b"".join(parts)) == []
    held = reader._msg_buf
    assert len(held) == n - 1
    assert sys.getsizeof(held) < 3 * n  # a bytearray's slack, not per-fragment objects
    out = feed_all(reader, frame(0, b"c"))
    assert out == [(WSMsgType.BINARY, b"a" + b"b" * (n - 2) + b"c", "")]
    assert len(reader._msg_buf) == 0
