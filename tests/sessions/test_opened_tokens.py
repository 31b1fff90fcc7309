"""EncryptedCookieStorage's memory of opened tokens (cookie_storage.py, ``_open``):
a token it answers for from memory gets the answer Fernet would give at that moment
(expiry by max_age, the clock-skew bound, the older-key flag), a changed byte is
never answered from memory, and the memory is bounded."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from cryptography.fernet import Fernet

from squall import web
from squall.sessions import Session, get_session, setup
from squall.sessions.cookie_storage import _OPENED_MAX, _OPENED_TOKEN_MAX, EncryptedCookieStorage

OLD, NEW, OTHER = Fernet.generate_key(), Fernet.generate_key(), Fernet.generate_key()
T0 = 1_800_000_000
PLAIN = json.dumps({"created": T0, "session": {"user": "alice"}}).encode()


def flip(token: str, at: int) -> str:
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]


def tokens() -> dict[str, str]:
    fresh = Fernet(NEW).encrypt_at_time(PLAIN, T0).decode()
    return {
        "new key": fresh,
        "old key": Fernet(OLD).encrypt_at_time(PLAIN, T0).decode(),
        "unknown key": Fernet(OTHER).encrypt_at_time(PLAIN, T0).decode(),
        "sealed 30 s ahead": Fernet(NEW).encrypt_at_time(PLAIN, T0 + 30).decode(),
        "sealed 90 s ahead": Fernet(NEW).encrypt_at_time(PLAIN, T0 + 90).decode(),
        "sealed an hour ago": Fernet(NEW).encrypt_at_time(PLAIN, T0 - 3600).decode(),
        "a byte changed": flip(fresh, 60),
        "the HMAC changed": flip(fresh, len(fresh) - 5),
    }


# seconds from T0 at which each token is opened again
OFFSETS = [-200, -61, -59, -30, 0, 59, 60, 61, 599, 600, 601, 3599, 3601, 10**6]


@pytest.mark.parametrize("max_age", [None, 60, 600])
def test_answers_as_fernet_at_every_moment(max_age: int | None, monkeypatch: Any) -> None:
    """One storage opens every token once (so remembers those that open), then at
    each moment its answer is a fresh storage's (which asks Fernet every time)."""
    clock = [float(T0)]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    keys = [NEW.decode(), OLD.decode()]
    remembering = EncryptedCookieStorage(keys, max_age=max_age)
    remembered = set()
    for name, token in tokens().items():
        for first in (0, 90):  # remembered when first opened now, or 90 s later
            clock[0] = T0 + first
            remembering._opened.clear()
            remembering._open(token)
            if token in remembering._opened:
                remembered.add(name)
            for offset in OFFSETS:
                clock[0] = T0 + offset
                reference = EncryptedCookieStorage(keys, max_age=max_age)._open(token)
                assert remembering._open(token) == reference, (name, first, offset)
    # the control: the memory answered for the tokens Fernet opened, and only those
    assert {"new key", "old key", "sealed 30 s ahead"} <= remembered
    assert not remembered & {"unknown key", "a byte changed", "the HMAC changed"}


async def test_remembered_token_expires_over_the_socket(
    aiohttp_client: Any, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The cookie the server sealed (so remembered) is a new session after max_age."""
    clock = [float(T0)]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    storage = EncryptedCookieStorage(NEW.decode(), max_age=60)

    async def count(request: web.Request) -> web.Response:
        session = await get_session(request)
        session["n"] = session.get("n", 0) + 1
        return web.json_response({"new": session.new, "n": session["n"]})

    app = web.Application()
    setup(app, storage)
    app.router.add_get("/", count)
    client = await aiohttp_client(app)
    first = await client.get("/")
    assert await first.json() == {"new": True, "n": 1}
    sealed = first.cookies["AIOHTTP_SESSION"].value
    assert sealed in storage._opened  # sealed here, so remembered
    clock[0] = T0 + 30
    again = await client.get("/", headers={"Cookie": f"AIOHTTP_SESSION={sealed}"})
    assert await again.json() == {"new": False, "n": 2}
    caplog.set_level(logging.WARNING, logger="squall.sessions")
    clock[0] = T0 + 61
    late = await client.get("/", headers={"Cookie": f"AIOHTTP_SESSION={sealed}"})
    assert await late.json() == {"new": True, "n": 1}
    assert any("Cannot decrypt" in r.getMessage() for r in caplog.records)


async def test_remembered_old_key_token_is_sealed_again_each_time(aiohttp_client: Any) -> None:
    storage = EncryptedCookieStorage([NEW.decode(), OLD.decode()])

    async def show(request: web.Request) -> web.Response:
        session = await get_session(request)
        return web.json_response(dict(session))

    app = web.Application()
    setup(app, storage)
    app.router.add_get("/", show)
    client = await aiohttp_client(app)
    data = {"created": int(time.time()), "session": {"user": "alice"}}
    old = Fernet(OLD).encrypt(json.dumps(data).encode()).decode()
    for _ in range(2):  # Fernet opens it first, the memory the second time
        resp = await client.get("/", headers={"Cookie": f"AIOHTTP_SESSION={old}"})
        assert await resp.json() == {"user": "alice"}
        renewed = resp.cookies["AIOHTTP_SESSION"].value
        assert json.loads(Fernet(NEW).decrypt(renewed.encode()))["session"] == {"user": "alice"}
    assert old in storage._opened


def test_a_changed_byte_is_not_answered_from_memory() -> None:
    storage = EncryptedCookieStorage(NEW.decode())
    token = Fernet(NEW).encrypt(PLAIN).decode()
    assert storage._open(token) == (PLAIN, False)
    for at in (0, 10, 40, len(token) // 2, len(token) - 1):
        assert storage._open(flip(token, at)) == (None, False), at
    assert list(storage._opened) == [token]


def test_memory_is_bounded() -> None:
    storage = EncryptedCookieStorage(NEW.decode())
    for n in range(_OPENED_MAX + 10):
        storage._remember(f"t{n}", b"{}", T0, False)
    assert len(storage._opened) == _OPENED_MAX
    assert "t0" not in storage._opened and f"t{_OPENED_MAX + 9}" in storage._opened
    storage._remember("x" * (_OPENED_TOKEN_MAX + 1), b"{}", T0, False)
    assert "x" * (_OPENED_TOKEN_MAX + 1) not in storage._opened


async def test_a_swapped_sealing_key_is_not_remembered() -> None:
    """aiohttp_session's ``_fernet`` attribute replaced by hand: its seals are left to
    Fernet, which opens them only with the storage's own keys."""
    storage = EncryptedCookieStorage(NEW.decode())
    storage._fernet = Fernet(OTHER)
    response = web.Response()
    session = Session(None, data={"created": T0, "session": {"a": 1}}, new=False)
    await storage.save_session(None, response, session)  # type: ignore[arg-type]
    sealed = response.cookies["AIOHTTP_SESSION"].value
    assert json.loads(Fernet(OTHER).decrypt(sealed.encode()))["session"] == {"a": 1}
    assert not storage._opened
    assert storage._open(sealed) == (None, False)
