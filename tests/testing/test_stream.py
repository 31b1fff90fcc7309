"""StreamReader (``resp.content``) fed by hand: order, limits, the end and errors."""

from __future__ import annotations

import asyncio

import pytest

from squall.testing.errors import ClientPayloadError
from squall.testing.stream import StreamReader


async def feed_all(reader: StreamReader, *chunks: bytes, eof: bool = True) -> None:
    for chunk in chunks:
        await reader._feed(chunk)
    if eof:
        reader._feed_eof()


async def test_reads_keep_order_across_chunks() -> None:
    reader = StreamReader()
    await feed_all(reader, b"ab", b"c\nde", b"f\n", b"tail")
    assert await reader.readline() == b"abc\n"
    assert await reader.readuntil(b"f\n") == b"def\n"
    assert await reader.read(2) == b"ta"
    assert reader.read_nowait() == b"il"
    assert reader.at_eof()
    assert await reader.read() == b""
    assert await reader.readline() == b""
    assert reader.total_bytes == 12


async def test_a_separator_split_between_chunks_is_found() -> None:
    reader = StreamReader()
    await feed_all(reader, b"one\r", b"\ntwo")
    assert await reader.readuntil(b"\r\n") == b"one\r\n"
    assert await reader.readuntil(b"\r\n") == b"two"  # the end gives what is left


async def test_readexactly_past_the_end() -> None:
    reader = StreamReader()
    await feed_all(reader, b"abc")
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await reader.readexactly(5)
    assert info.value.partial == b"abc"


async def test_a_reader_waits_for_data_then_gets_it() -> None:
    reader = StreamReader()
    waiting = asyncio.ensure_future(reader.readexactly(4))
    await asyncio.sleep(0)
    assert not waiting.done()
    await reader._feed(b"ab")
    await asyncio.sleep(0)
    assert not waiting.done()
    await reader._feed(b"cdef")
    assert await waiting == b"abcd"
    assert reader.read_nowait() == b"ef"


async def test_the_producer_waits_while_the_buffer_is_full() -> None:
    reader = StreamReader(high_water=4)
    await reader._feed(b"1234")  # at the mark: no wait
    blocked = asyncio.ensure_future(reader._feed(b"5"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not blocked.done()  # bounded memory: the pump is held back
    assert await reader.read(3) == b"123"
    await asyncio.wait_for(blocked, 5.0)
    reader._feed_eof()
    assert await reader.read() == b"45"


async def test_an_error_comes_after_the_buffered_bytes() -> None:
    reader = StreamReader()
    await reader._feed(b"partial")
    reader._set_exception(ClientPayloadError("cut"))
    assert await reader.read(100) == b"partial"
    with pytest.raises(ClientPayloadError, match="cut"):
        await reader.read(100)
    assert isinstance(reader.exception(), ClientPayloadError)


async def test_an_error_wakes_a_waiting_reader() -> None:
    reader = StreamReader()
    waiting = asyncio.ensure_future(reader.readline())
    await asyncio.sleep(0)
    reader._set_exception(ClientPayloadError("cut"))
    with pytest.raises(ClientPayloadError):
        await asyncio.wait_for(waiting, 5.0)


async def test_an_error_after_the_end_is_ignored() -> None:
    reader = StreamReader()
    await feed_all(reader, b"all")
    reader._set_exception(ClientPayloadError("late"))
    assert await reader.read() == b"all"
    assert reader.exception() is None


async def test_an_empty_separator_is_refused() -> None:
    with pytest.raises(ValueError, match="Separator"):
        await StreamReader().readuntil(b"")
