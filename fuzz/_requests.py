"""Request streams built from a fuzzer's bytes, shared by the fuzz targets.

Random bytes rarely make a request line llhttp gets past, so most inputs are read
as choices: a method, a target, fields from a list of the ones Squall treats
specially (with values near their edge cases), a body framed by Content-Length or
chunked, all spliced with raw fuzzed bytes so that nothing is out of reach. The
stream is then cut at fuzzed offsets, as reads from a socket would be.
"""

from __future__ import annotations

import atheris

METHODS = [
    b"GET",
    b"POST",
    b"PUT",
    b"HEAD",
    b"OPTIONS",
    b"DELETE",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"get",
    b"G\x00T",
]
TARGETS = [
    b"/",
    b"/info",
    b"/info?a=1&b=%zz&a=",
    b"/read",
    b"/text",
    b"/json",
    b"/post",
    b"/stream",
    b"/items/",
    b"/items/%2F%25",
    b"/files/",
    b"/slow",
    b"/chunked",
    b"/redirect?to=",
    b"/cookies",
    b"/nothere",
    b"*",
    b"*0",
    b"http://h/info",
    b"http:///x",
    b"https://h:99999/info",
    b"example.com:443",
    b"//x",
    b"/info#frag",
]
VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.1", b"HTTP/2.0", b"HTTP/1.2", b"HTTP/1.1 "]
FIELDS: dict[bytes, list[bytes]] = {
    b"Host": [b"h", b"h:8080", b"[::1]:80", b"", b"[:/", b"h:99999", b"a\xef\xbc\xbb"],
    b"Content-Length": [b"0", b"3", b"-1", b"1, 1", b" 5 ", b"99999999999999999999"],
    b"Transfer-Encoding": [b"chunked", b"gzip", b"gzip, chunked", b", chunked", b"chunked\t"],
    b"Connection": [b"close", b"keep-alive", b"Upgrade", b"close, te"],
    b"Expect": [b"100-continue", b"100-Continue ", b"nothing"],
    b"Upgrade": [b"websocket", b"h2c"],
    b"Cookie": [b"a=1; b=2", b"a=1; a=2", b"a=1; b", b'b="\\808"', b'c="\\141\\"x"', b"=;;="],
    b"Content-Type": [
        b"application/json",
        b"text/plain; charset=latin-1",
        b"text/plain; charset=nope",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=x",
        b"\x8b\xc2\x8a",
        b'a/b; c="d\\"e"; charset=',
        b"application/json; charset=utf-16",
    ],
    b"If-Modified-Since": [
        b"Sun, 06 Nov 1994 08:49:37 GMT",
        b"Sunday, 06-Nov-94 08:49:37 GMT",
        b"Sun Nov  6 08:49:37 1994",
        b"6 Nov 4 5477580849:7",
        b"0",
    ],
    b"If-Unmodified-Since": [b"Sun, 06 Nov 1994 08:49:37 GMT", b"Mon, 32 Foo 99999 99:99:99"],
    b"If-Range": [b'"etag"', b"Sun, 06 Nov 1994 08:49:37 GMT", b"W/"],
    b"If-Match": [b"*", b'"a", W/"b"', b'"unterminated'],
    b"If-None-Match": [b'W/"x"', b"*, *", b'"a",,"b"'],
    b"Range": [b"bytes=0-9", b"bytes=-5", b"bytes=5-", b"bytes=9-0", b"bytes=0-1,2-3", b"bytes=-"],
    b"Forwarded": [b"for=1.2.3.4;proto=https", b'for="[::1]:80";host=h', b"for=;;,=,"],
    b"X-Forwarded-For": [b"1.2.3.4, 5.6.7.8"],
    b"X-Forwarded-Proto": [b"https", b"nope"],
    b"X-Forwarded-Host": [b"h", b"[:/"],
    b"Accept-Encoding": [b"gzip, br;q=0.5"],
    b"Content-Encoding": [b"gzip", b"br"],
    b"Trailer": [b"X-T"],
    b"X-Pad": [b"padded\t ", b" \t "],
}
FIELD_NAMES = list(FIELDS)


def request_stream(fdp: atheris.FuzzedDataProvider) -> bytes:
    """One to three requests, some of them malformed."""
    return b"".join(one_request(fdp) for _ in range(fdp.ConsumeIntInRange(1, 3)))


def one_request(fdp: atheris.FuzzedDataProvider) -> bytes:
    eol = b"\r\n" if fdp.ConsumeIntInRange(0, 15) else fdp.PickValueInList([b"\n", b"\r", b""])
    method = fdp.PickValueInList(METHODS)
    target = fdp.PickValueInList(TARGETS) + _raw(fdp, 12)
    version = fdp.PickValueInList(VERSIONS)
    lines = [b"%s %s %s" % (method, target, version)]
    if fdp.ConsumeIntInRange(0, 7):
        lines.append(b"Host: " + _value(fdp, b"Host"))
    for _ in range(fdp.ConsumeIntInRange(0, 6)):
        if fdp.ConsumeIntInRange(0, 5):
            name = fdp.PickValueInList(FIELD_NAMES)
        else:
            name = _raw(fdp, 12) or b"X"
        lines.append(name + b":" + _raw(fdp, 2, b" ") + _value(fdp, name))
    body = _raw(fdp, 80)
    framing = fdp.ConsumeIntInRange(0, 4)
    if framing == 1:
        lines.append(b"Content-Length: %d" % len(body))
    elif framing == 2:
        lines.append(b"Transfer-Encoding: chunked")
        body = _chunked(fdp, body)
    elif framing == 3:
        lines.append(b"Content-Length: %d" % fdp.ConsumeIntInRange(0, 100))
    return eol.join(lines) + eol + eol + body


def _value(fdp: atheris.FuzzedDataProvider, name: bytes) -> bytes:
    known = FIELDS.get(name)
    if known and fdp.ConsumeIntInRange(0, 3):
        return fdp.PickValueInList(known) + (_raw(fdp, 6) if fdp.ConsumeBool() else b"")
    return _raw(fdp, 40)


def _raw(fdp: atheris.FuzzedDataProvider, most: int, default: bytes = b"") -> bytes:
    if not fdp.ConsumeIntInRange(0, 3):
        return default
    return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, most))


def _chunked(fdp: atheris.FuzzedDataProvider, body: bytes) -> bytes:
    out = []
    while body:
        size = fdp.ConsumeIntInRange(1, 16)
        extension = b";x=y" if not fdp.ConsumeIntInRange(0, 7) else b""
        out.append(b"%x%s\r\n%s\r\n" % (len(body[:size]), extension, body[:size]))
        body = body[size:]
    out.append(b"0\r\n")
    for _ in range(fdp.ConsumeIntInRange(0, 2)):
        out.append(b"X-Trailer: " + _raw(fdp, 10) + b"\r\n")
    out.append(b"\r\n")
    return b"".join(out)


def split(fdp: atheris.FuzzedDataProvider, data: bytes) -> list[bytes]:
    """``data`` cut into reads at up to eight fuzzed offsets."""
    cuts = sorted({fdp.ConsumeIntInRange(0, len(data)) for _ in range(fdp.ConsumeIntInRange(0, 8))})
    pieces = []
    start = 0
    for cut in cuts:
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return [piece for piece in pieces if piece]
