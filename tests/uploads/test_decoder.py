"""The sans-IO multipart decoder: fed whole, byte by byte, and in every split;
limits checked where the bytes arrive."""

from __future__ import annotations

import pytest

from squall.multipart import (
    NEED_DATA,
    Event,
    Finished,
    MultipartDecoder,
    MultipartError,
    MultipartLimitError,
    PartData,
    PartEnded,
    PartStarted,
    TooManyPartsError,
    check_boundary,
    disposition_param,
    parse_content_disposition,
)

# what Chromium sends for <input name=a value=hello> and a file "x.txt" (captured)
BROWSER = (
    b"------WebKitFormBoundaryABC123\r\n"
    b'Content-Disposition: form-data; name="a"\r\n\r\n'
    b"hello\r\n"
    b"------WebKitFormBoundaryABC123\r\n"
    b'Content-Disposition: form-data; name="f"; filename="x.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"line1\r\n--not-a-boundary\r\n\r\r\n"
    b"------WebKitFormBoundaryABC123--\r\n"
)
BOUNDARY = "----WebKitFormBoundaryABC123"
EXPECTED = [
    PartStarted((("Content-Disposition", 'form-data; name="a"'),)),
    PartData(b"hello"),
    PartEnded(),
    PartStarted(
        (
            ("Content-Disposition", 'form-data; name="f"; filename="x.txt"'),
            ("Content-Type", "text/plain"),
        )
    ),
    PartData(b"line1\r\n--not-a-boundary\r\n\r"),
    PartEnded(),
    Finished(),
]


def decode(chunks: list[bytes], boundary: str = BOUNDARY, **limits: int) -> list[Event]:
    decoder = MultipartDecoder(boundary, **limits)
    events: list[Event] = []

    def drain() -> None:
        while (event := decoder.next_event()) is not NEED_DATA:
            assert not isinstance(event, type(NEED_DATA))
            events.append(event)  # type: ignore[arg-type]

    for chunk in chunks:
        decoder.feed(chunk)
        drain()
    decoder.feed_eof()
    drain()
    assert decoder.complete
    # data events may be split anywhere: join neighbours
    joined: list[Event] = []
    for event in events:
        if isinstance(event, PartData):
            assert event.data
            if joined and isinstance(joined[-1], PartData):
                joined[-1] = PartData(joined[-1].data + event.data)
                continue
        joined.append(event)
    return joined


def test_whole() -> None:
    assert decode([BROWSER]) == EXPECTED


def test_byte_by_byte() -> None:
    assert decode([BROWSER[i : i + 1] for i in range(len(BROWSER))]) == EXPECTED


def test_every_split_in_two() -> None:
    for i in range(len(BROWSER) + 1):
        assert decode([BROWSER[:i], BROWSER[i:]]) == EXPECTED, i


def test_preamble_epilogue_padding_and_empty_parts() -> None:
    body = (
        b"preamble text\r\n--b  \t\r\n\r\n\r\n--b\r\nX-A: 1\r\n\r\nz\r\n--b--trailing\r\nepilogue"
    )
    assert decode([body], "b") == [
        PartStarted(()),
        PartEnded(),
        PartStarted((("X-A", "1"),)),
        PartData(b"z"),
        PartEnded(),
        Finished(),
    ]


def test_data_leaves_early_and_only_a_possible_delimiter_is_held() -> None:
    decoder = MultipartDecoder("b")
    decoder.feed(b"--b\r\n\r\n" + b"x" * 1000)
    assert isinstance(decoder.next_event(), PartStarted)
    assert decoder.next_event() == PartData(b"x" * 1000)  # no CR: nothing held back
    decoder.feed(b"yy\r\n-")
    assert decoder.next_event() == PartData(b"yy")
    assert decoder.next_event() is NEED_DATA  # "\r\n-" may begin "\r\n--b"
    decoder.feed(b"z")
    assert decoder.next_event() == PartData(b"\r\n-z")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "No multipart boundary"),
        (b"--b\r\n\r\nnever closed", "closing boundary"),
        (b"--b\r\nX: 1\r\n", "headers"),
        (b"--b\r\n", "headers"),
        (b"--b", "closing boundary"),
        (b"--bxyz\r\n\r\n--b--", "delimiter line"),  # a longer boundary is no boundary
        (b"--b\r\nNo colon\r\n\r\n--b--", "Invalid part header"),
        (b"--b\r\n folded: x\r\n\r\n--b--", "Invalid part header"),
        (b"--b\r\nX: a\x00b\r\n\r\n--b--", "Invalid character"),
        (b"--b\r\nX: a\rb\r\n\r\n--b--", "Invalid character"),
        (b"--b\r\nX: a\nY: b\r\n\r\n--b--", "Invalid character"),
        (
            b"--b\r\nContent-Type: a/b\r\ncontent-type: c/d\r\n\r\n--b--",
            "Duplicate content-type",
        ),
    ],
)
def test_malformed(body: bytes, message: str) -> None:
    with pytest.raises(MultipartError, match=message) as info:
        decode([body], "b")
    assert info.value.status == 400


def test_preamble_bomb_refused_at_the_bound() -> None:
    decoder = MultipartDecoder("b", max_preamble=1000)
    decoder.feed(b"a" * 900)
    assert decoder.next_event() is NEED_DATA
    decoder.feed(b"a" * 200)
    with pytest.raises(MultipartError, match="No multipart boundary"):
        decoder.next_event()


def test_epilogue_bomb_refused_as_it_arrives() -> None:
    decoder = MultipartDecoder("b", max_epilogue=100)
    decoder.feed(b"--b\r\n\r\n\r\n--b--\r\n")
    events = [decoder.next_event() for _ in range(3)]
    assert events[-1] == Finished()
    decoder.feed(b"x" * 50)
    with pytest.raises(MultipartError, match="epilogue"):
        decoder.feed(b"x" * 60)


def test_too_many_parts() -> None:
    body = b"--b\r\n\r\n\r\n" * 3 + b"--b--"
    assert len(decode([body], "b", max_parts=3)) == 7
    with pytest.raises(TooManyPartsError) as info:
        decode([body], "b", max_parts=2)
    assert info.value.status == 413


def test_header_section_bound() -> None:
    decoder = MultipartDecoder("b", max_header_size=100)
    decoder.feed(b"--b\r\nX-Long: " + b"a" * 85)
    assert decoder.next_event() is NEED_DATA
    decoder.feed(b"a" * 10)
    with pytest.raises(MultipartLimitError, match="Part headers too large"):
        decoder.next_event()


def test_header_count_bound() -> None:
    with pytest.raises(MultipartError, match="Too many part headers"):
        decode([b"--b\r\n" + b"X: 1\r\n" * 5 + b"\r\n\r\n--b--"], "b", max_headers=4)


@pytest.mark.parametrize("boundary", ["", "a" * 71, "a b ", "a\r\nb", "é"])
def test_bad_boundaries(boundary: str) -> None:
    with pytest.raises(MultipartError):
        check_boundary(boundary)


def test_longest_boundary_is_fine() -> None:
    boundary = "'()+_,-./:=? " * 5 + "abcde"
    assert len(boundary) == 70
    assert decode(
        [b"--" + boundary.encode() + b"\r\n\r\nx\r\n--" + boundary.encode() + b"--"], boundary
    )[1] == PartData(b"x")


def test_content_disposition() -> None:
    kind, params = parse_content_disposition(
        'form-data; name="a;b"; filename="C:\\\\x \\"q\\".txt"; filename*=UTF-8\'\'%C3%A9.txt'
    )
    assert kind == "form-data"
    assert params["name"] == "a;b"
    assert params["filename"] == 'C:\\x "q".txt'
    assert disposition_param(params, "filename") == "é.txt"  # RFC 6266 4.3: * wins
    assert parse_content_disposition("form-data") == ("form-data", {})
    assert parse_content_disposition("form-data; name=plain;") == ("form-data", {"name": "plain"})


@pytest.mark.parametrize(
    "value",
    [
        'form-data; name="a',  # the unterminated quote of an injected header
        'form-data; name="a"; name="b"',
        "form-data; filename*=nonsense",
        "form-data; filename*=bogus-charset''%FF",
        "; name=a",
    ],
)
def test_content_disposition_refused(value: str) -> None:
    with pytest.raises(MultipartError):
        parse_content_disposition(value)
