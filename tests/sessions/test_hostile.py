"""Hostile cookies: whatever a client sends as its session cookie, the answer is a
new empty session and one warning in the log, never an error page, and the server
keeps serving. Raw sockets, so bytes no polite client sends get through too."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest
from cryptography.fernet import Fernet

from framework._wire import build, exchange, serve
from squall import web
from squall.sessions import SimpleCookieStorage, get_session, setup
from squall.sessions.cookie_storage import EncryptedCookieStorage

KEY = Fernet.generate_key()
BOX = Fernet(KEY)
NOW = int(time.time())


def seal(plain: bytes, at: int | None = None) -> bytes:
    return BOX.encrypt(plain) if at is None else BOX.encrypt_at_time(plain, at)


GOOD = seal(json.dumps({"created": NOW, "session": {"user": "alice"}}).encode())

# name -> the raw bytes of the cookie value
ENCRYPTED_HOSTILE: dict[str, bytes] = {
    "another key": Fernet(Fernet.generate_key()).encrypt(b'{"session": {"user": "admin"}}'),
    "expired by max_age": seal(b'{"session": {"user": "alice"}}', at=NOW - 3601),
    "truncated": GOOD[:-10],
    "one byte flipped": GOOD[:40] + (b"A" if GOOD[40:41] != b"A" else b"B") + GOOD[41:],
    "base64 of nothing": base64.urlsafe_b64encode(b"\x80" + b"\0" * 56),
    "not base64": b"%%%###",
    "empty": b"",
    "quoted garbage": b'"\\"x\\054y"',
    "non-ASCII bytes": b"\xff\xfe\xc3\xa9gAAAA",
    "huge": b"gAAAAA" + b"A" * 6000,
    "opens, not UTF-8": seal(b"\xff\xfe not text"),
    "opens, not JSON": seal(b"{'session': 1"),
    "opens, a JSON list": seal(b"[1, 2, 3]"),
    "opens, created is text": seal(b'{"created": "yesterday", "session": {"a": 1}}'),
    "opens, session is a list": seal(b'{"created": 1, "session": [1]}'),
    "opens, JSON null": seal(b"null"),
}

SIMPLE_HOSTILE: dict[str, bytes] = {
    "not JSON": b"{broken",
    "JSON list": b"[1]",
    "session not a mapping": b'{"session": "admin"}',
    "created is a float": b'{"created": 1.5, "session": {}}',
    "JSON number": b"42",
    "nested 3,000 deep": b"[" * 3000 + b"]" * 3000,
}


def app_with(storage: Any) -> web.Application:
    async def show(request: web.Request) -> web.Response:
        session = await get_session(request)
        return web.json_response({"new": session.new, "data": dict(session)})

    app = web.Application()
    setup(app, storage)
    app.router.add_get("/", show)
    return app


def request_with(value: bytes) -> bytes:
    head = build("GET", "/", headers={"Cookie": "X"})
    return head.replace(b"Cookie: X", b"Cookie: theme=dark; AIOHTTP_SESSION=" + value)


async def check_fresh(storage: Any, value: bytes, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="squall.sessions")
    async with serve(web, lambda _: app_with(storage)) as port:
        reply = await exchange(port, request_with(value))
        assert reply.status == 200, reply
        assert reply.json() == {"new": True, "data": {}}
        assert reply.header("Set-Cookie") is None  # nothing changed, nothing saved
        # and the server keeps serving sessions
        good = await exchange(port, request_with(b"ok"))
        assert good.status == 200
    warnings = [r for r in caplog.records if r.name == "squall.sessions"]
    if value:
        assert warnings and all(r.levelno == logging.WARNING for r in warnings)
        assert "new fresh session" in warnings[0].getMessage()
    for record in warnings:  # a log line, not a traceback
        assert record.exc_info is None


@pytest.mark.parametrize("case", list(ENCRYPTED_HOSTILE))
async def test_encrypted_hostile_cookie(case: str, caplog: pytest.LogCaptureFixture) -> None:
    await check_fresh(
        EncryptedCookieStorage(KEY.decode(), max_age=3600), ENCRYPTED_HOSTILE[case], caplog
    )


@pytest.mark.parametrize("case", list(SIMPLE_HOSTILE))
async def test_simple_hostile_cookie(case: str, caplog: pytest.LogCaptureFixture) -> None:
    """aiohttp_session answers these with a 500 (json.loads's error escapes)."""
    await check_fresh(SimpleCookieStorage(), SIMPLE_HOSTILE[case], caplog)


async def test_good_cookie_is_read(caplog: pytest.LogCaptureFixture) -> None:
    """The control: the same request with a good cookie is read, nothing logged."""
    caplog.set_level(logging.WARNING, logger="squall.sessions")
    storage = EncryptedCookieStorage(KEY.decode(), max_age=3600)
    async with serve(web, lambda _: app_with(storage)) as port:
        reply = await exchange(port, request_with(GOOD))
    assert reply.json() == {"new": False, "data": {"user": "alice"}}
    assert not [r for r in caplog.records if r.name == "squall.sessions"]


NESTED = b'{"session": {"a": ' + b"[" * 2500 + b"]" * 2500 + b"}}"


@pytest.mark.parametrize("storage", ["simple", "encrypted"])
async def test_deeply_nested_session_data(storage: str, caplog: pytest.LogCaptureFixture) -> None:
    """JSON nested 2,500 deep in the session: where this Python's decoder gives up
    (a RecursionError: 3.11), a new session and a warning; where it decodes it
    (3.13), the session; never a 500, and the server keeps serving."""
    try:
        json.loads(NESTED)
    except RecursionError:
        decodes = False
    else:
        decodes = True
    if storage == "simple":
        store: Any = SimpleCookieStorage()
        value = NESTED
    else:
        store = EncryptedCookieStorage(KEY.decode(), max_age=3600)
        value = seal(NESTED)
    if not decodes:
        await check_fresh(store, value, caplog)
        return
    async with serve(web, lambda _: app_with(store)) as port:
        reply = await exchange(port, request_with(value))
        assert reply.status == 200, reply
        assert reply.json()["new"] is False
