"""The PERF shortcuts of squall.sessions answer exactly as the slow ways they replace:
``load_cookie`` as ``request.cookies.get(name)`` (over a real socket, for the header
shapes a client may send), ``Session.get``/``setdefault`` as MutableMapping's mixins,
the default JSON codec as ``json.dumps``/``json.loads``."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import pytest

from framework._wire import exchange_all, serve
from squall import web
from squall.sessions import Session, SimpleCookieStorage

NAME = "AIOHTTP_SESSION"

# (the Cookie header lines, as sent; the value load_cookie must find)
CASES: list[tuple[list[bytes], str | None]] = [
    ([], None),
    ([b"AIOHTTP_SESSION=abc"], "abc"),
    ([b'AIOHTTP_SESSION="gAAAAB-x_9=="'], "gAAAAB-x_9=="),  # a sealed session, quoted
    ([b"AIOHTTP_SESSION=gAAAAB-x_9=="], "gAAAAB-x_9=="),  # the same, unquoted
    ([b'AIOHTTP_SESSION=""'], ""),
    ([b"theme=dark; AIOHTTP_SESSION=abc; lang=en"], "abc"),
    ([b"AIOHTTP_SESSION=one; AIOHTTP_SESSION=two"], "two"),  # the last one wins
    ([b"  AIOHTTP_SESSION  =  abc  ;"], "abc"),
    ([b"AIOHTTP_SESSION"], ""),
    ([b"AIOHTTP_SESSION="], ""),
    ([b"AIOHTTP_SESSIONX=abc"], None),
    ([b"aiohttp_session=abc"], None),  # names are case-sensitive
    ([b"xAIOHTTP_SESSION=abc"], None),
    ([b'theme="dark"; AIOHTTP_SESSION="v=="'], "v=="),  # quotes elsewhere: the full parser
    ([b'AIOHTTP_SESSION="v"; theme=dark'], "v"),
    ([b'AIOHTTP_SESSION="a;b"'], "a;b"),
    ([b'AIOHTTP_SESSION="a\\"b"'], 'a"b'),  # an escape: the full parser
    ([b'AIOHTTP_SESSION="a\\054b"'], "a,b"),
    ([b'AIOHTTP_SESSION="abc'], '"abc'),  # a lone quote is kept
    ([b'AIOHTTP_SESSION=abc"'], 'abc"'),
    ([b'AIOHTTP_SESSION="abc" '], "abc"),
    ([b' AIOHTTP_SESSION="abc"'], "abc"),
    ([b'AIOHTTP_SESSION= "abc"'], "abc"),
    ([b'AIOHTTP_SESSION="x"y"'], None),  # whatever request.cookies makes of it
    ([b"AIOHTTP_SESSION=\xc3\xa9t\xc3\xa9"], "\u00e9t\u00e9"),
    ([b"theme=dark", b"AIOHTTP_SESSION=abc"], None),  # only the first Cookie line counts
    ([b"AIOHTTP_SESSION=abc", b"AIOHTTP_SESSION=def"], "abc"),
]


def app_for(storage: SimpleCookieStorage) -> web.Application:
    async def both(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ours": storage.load_cookie(request),
                "cookies": request.cookies.get(storage.cookie_name),
            }
        )

    app = web.Application()
    app.router.add_get("/", both)
    return app


def request_with(lines: list[bytes], name: str = "Cookie") -> bytes:
    head = b"GET / HTTP/1.1\r\nHost: x\r\n"
    for line in lines:
        head += name.encode() + b": " + line + b"\r\n"
    return head + b"\r\n"


async def answers(storage: SimpleCookieStorage, requests: list[bytes]) -> list[dict[str, Any]]:
    async with serve(web, lambda _: app_for(storage)) as port:
        replies = await exchange_all(port, requests)
    assert all(reply.status == 200 for reply in replies), replies
    return [reply.json() for reply in replies]


async def test_load_cookie_is_request_cookies() -> None:
    got = await answers(SimpleCookieStorage(), [request_with(lines) for lines, _ in CASES])
    for (lines, expected), answer in zip(CASES, got, strict=True):
        assert answer["ours"] == answer["cookies"], lines
        if expected is not None or answer["cookies"] is None:
            assert answer["ours"] == expected, lines


async def test_header_name_in_any_case() -> None:
    got = await answers(
        SimpleCookieStorage(),
        [request_with([b"AIOHTTP_SESSION=abc"], name) for name in ("cookie", "COOKIE", "CoOkIe")],
    )
    assert [answer["ours"] for answer in got] == ["abc", "abc", "abc"]


@pytest.mark.parametrize("name", ["SID", "a b", 'a"b', "=", "a=b", "x;y", " SID", "SID ", ""])
async def test_any_cookie_name(name: str) -> None:
    """Names the shortcuts do not take (spaces, "=", ";", empty) go to request.cookies."""
    raw = name.encode()
    headers = [
        [raw + b"=abc"],
        [raw + b'="abc=="'],
        [b"other=1; " + raw + b"=abc"],
        [raw + b"=abc; " + raw + b"=def"],
    ]
    got = await answers(SimpleCookieStorage(cookie_name=name), [request_with(h) for h in headers])
    for lines, answer in zip(headers, got, strict=True):
        assert answer["ours"] == answer["cookies"], lines
    if name == "SID":
        assert [answer["ours"] for answer in got] == ["abc", "abc==", "abc", "def"]


class MixinSession(Session):
    """The same Session with MutableMapping's own get and setdefault back."""

    get = MutableMapping.get  # type: ignore[assignment]
    setdefault = MutableMapping.setdefault  # type: ignore[assignment]


def fresh(cls: type[Session]) -> Session:
    return cls(None, data={"created": 1, "session": {"a": 1, "n": None}}, new=False)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get("a"),
        lambda s: s.get("n", 5),
        lambda s: s.get("missing"),
        lambda s: s.get("missing", 7),
        lambda s: s.setdefault("a", 9),
        lambda s: s.setdefault("n", 9),
        lambda s: s.setdefault("missing", 9),
        lambda s: s.setdefault("missing"),
        lambda s: "a" in s,
        lambda s: "missing" in s,
    ],
)
def test_session_methods_as_the_mixins(call: Any) -> None:
    ours, mixin = fresh(Session), fresh(MixinSession)
    assert call(ours) == call(mixin)
    assert (dict(ours), ours._changed) == (dict(mixin), mixin._changed)
    assert ours.created == mixin.created


def test_setdefault_marks_a_change_only_when_it_sets() -> None:
    session = fresh(Session)
    assert session.setdefault("a", 2) == 1 and not session._changed
    assert session.created == 1
    assert session.setdefault("b", 2) == 2 and session._changed and session["b"] == 2
    assert session.created > 1


def test_default_codec_is_json_dumps_and_loads() -> None:
    storage = SimpleCookieStorage()
    session = Session(None, data={"created": 5, "session": {"é": [1, 2.5, None]}}, new=False)
    text = storage._encode(session)
    assert text == json.dumps({"created": 5, "session": {"é": [1, 2.5, None]}})
    assert storage._decode(text) == json.loads(text)
    assert storage._decode("\ufeff{}") is None  # json.loads refuses a BOM too


def test_custom_codec_is_used() -> None:
    calls: list[str] = []

    def encoder(data: object) -> str:
        calls.append("encode")
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def decoder(text: str) -> Any:
        calls.append("decode")
        return json.loads(text)

    storage = SimpleCookieStorage(encoder=encoder, decoder=decoder)
    session = Session(None, data={"created": 5, "session": {"b": 1, "a": 2}}, new=False)
    text = storage._encode(session)
    assert text == '{"created":5,"session":{"a":2,"b":1}}'
    assert storage._decode(text) == {"created": 5, "session": {"a": 2, "b": 1}}
    assert calls == ["encode", "decode"]
