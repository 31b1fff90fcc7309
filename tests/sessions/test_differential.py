"""Differential: the same session app on aiohttp + aiohttp_session 2.12.1 and on Squall.

Each scenario is served by both; the same bytes go over a fresh socket to each and
the replies must match: status, headers but Date/Server, body, and each Set-Cookie
with its attributes, its value opened (decrypted, JSON-decoded) and only what is
random or the clock's (the Fernet IV and timestamp, ``created``, ``expires``'s
date) masked. Where Squall differs on purpose (a garbage cookie that aiohttp_session
turns into a 500) the test says so and checks Squall's answer instead.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from http.cookies import SimpleCookie
from typing import Any

import pytest
from cryptography.fernet import Fernet

from framework._wire import Reply, build, exchange, serve

from ._apps import AIOHTTP, KEY, RAW_KEY, SQUALL, fernet_opener, make_app, normalised_cookie


def cookie_header(name: str, value: str) -> str:
    """The Cookie header a browser sends back for a Set-Cookie made by SimpleCookie."""
    jar: SimpleCookie = SimpleCookie()
    jar[name] = value
    return jar[name].OutputString()


def sealed(data: dict[str, Any], key: bytes = KEY, at: int | None = None) -> str:
    raw = json.dumps(data).encode()
    box = Fernet(key)
    token = box.encrypt(raw) if at is None else box.encrypt_at_time(raw, at)
    return token.decode()


def session_record(**values: Any) -> dict[str, Any]:
    return {"created": int(time.time()), "session": values}


async def reply(stack: Any, storage: Any, data: bytes) -> Reply:
    async with serve(stack.web, lambda web: make_app(stack, storage)) as port:
        return await exchange(port, data)


def comparable(r: Reply, opener: Any) -> tuple[Any, ...]:
    headers = tuple(
        (k, normalised_cookie(v, opener) if k.lower() == "set-cookie" else v) for k, v in r.headers
    )
    return r.status_line, headers, r.body


STORAGES = {
    "simple": (lambda s: s.sessions.SimpleCookieStorage(), json.loads),
    "encrypted": (lambda s: s.Encrypted(RAW_KEY), fernet_opener()),
    "encrypted-str-key": (lambda s: s.Encrypted(KEY.decode()), fernet_opener()),
    "encrypted-attrs": (
        lambda s: s.Encrypted(
            Fernet(KEY),
            cookie_name="SID",
            domain="example.com",
            max_age=3600,
            path="/",
            secure=True,
            httponly=False,
            samesite="Lax",
        ),
        fernet_opener(),
    ),
}


def login(extra: str = "") -> bytes:
    body = b"login=alice&password=secret"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if extra:
        headers["Cookie"] = extra
    return build("POST", "/login", headers=headers, body=body)


def get(path: str, cookie: str | None = None) -> bytes:
    return build("GET", path, headers={"Cookie": cookie} if cookie else {})


def scenarios(kind: str) -> dict[str, bytes]:
    name = "SID" if kind == "encrypted-attrs" else "AIOHTTP_SESSION"
    if kind == "simple":
        value = json.dumps(session_record(user="alice", visits=3))
    else:
        value = sealed(session_record(user="alice", visits=3))
    cookie = cookie_header(name, value)
    return {
        "no cookie, read": get("/show"),
        "no cookie, visit (401, nothing saved)": get("/visit"),
        "login: redirect carries the cookie": login(),
        "login over an old session": login(cookie),
        "visit: read, change, save": get("/visit", cookie),
        "read only: no Set-Cookie": get("/show", cookie),
        "changed() without a change": get("/touch", cookie),
        "logout: invalidate": get("/logout", cookie),
        "new_session over an old one": get("/fresh", cookie),
        "HTTPException keeps the change": get("/boom", cookie),
        "another cookie name is ignored": get("/show", cookie_header("OTHER", value)),
    }


CASES = [(kind, case) for kind in STORAGES for case in scenarios(kind)]


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}: {c}" for k, c in CASES])
async def test_same_answer(kind: str, case: str) -> None:
    make_storage, opener = STORAGES[kind]
    data = scenarios(kind)[case]
    theirs = await reply(AIOHTTP, make_storage(AIOHTTP), data)
    ours = await reply(SQUALL, make_storage(SQUALL), data)
    assert comparable(ours, opener) == comparable(theirs, opener)


ENCRYPTED_GARBAGE = {
    "another key": sealed(session_record(user="mallory"), key=Fernet.generate_key()),
    "expired (max_age)": sealed(session_record(user="alice"), at=int(time.time()) - 7200),
    "truncated": sealed(session_record(user="alice"))[:-7],
    "tampered": "gAAAAA" + sealed(session_record(user="alice"))[6:-3] + "AAA",
    "not base64": "!!not-a-token!!",
    "empty": "",
}


@pytest.mark.parametrize("case", list(ENCRYPTED_GARBAGE))
async def test_garbage_encrypted_cookie_is_a_new_session(case: str) -> None:
    def storage(s: Any) -> Any:
        return s.Encrypted(KEY.decode(), max_age=3600)

    data = get("/visit", cookie_header("AIOHTTP_SESSION", ENCRYPTED_GARBAGE[case]))
    theirs = await reply(AIOHTTP, storage(AIOHTTP), data)
    ours = await reply(SQUALL, storage(SQUALL), data)
    assert ours.status == 401
    assert comparable(ours, None) == comparable(theirs, None)


async def test_cookie_sealed_by_aiohttp_session_is_not_json() -> None:
    """A cookie that opens but holds no session: aiohttp_session answers 500 (its
    decoder's error escapes), Squall a new session (a deliberate difference)."""
    data = get("/show", cookie_header("AIOHTTP_SESSION", Fernet(KEY).encrypt(b"[1, 2").decode()))
    theirs = await reply(AIOHTTP, AIOHTTP.Encrypted(RAW_KEY), data)
    ours = await reply(SQUALL, SQUALL.Encrypted(RAW_KEY), data)
    assert theirs.status == 500
    assert ours.status == 200
    assert ours.json() == {"new": True, "empty": True, "data": {}}


REDIS_CASES = ["no cookie, read", "login", "visit", "read only", "logout", "unknown identity"]


@pytest.mark.parametrize("case", REDIS_CASES)
async def test_same_answer_redis(case: str, redis: Any) -> None:
    """The Redis storage, both on one real redis-server: identities are random, so
    they are compared by what Redis holds under them."""

    async def run(stack: Any) -> tuple[Any, ...]:
        identity = uuid.uuid4().hex
        await redis.set("AIOHTTP_SESSION_" + identity, json.dumps(session_record(user="al")))
        cookie = cookie_header("AIOHTTP_SESSION", identity)
        data = {
            "no cookie, read": get("/show"),
            "login": login(),
            "visit": get("/visit", cookie),
            "read only": get("/show", cookie),
            "logout": get("/logout", cookie),
            "unknown identity": get("/show", cookie_header("AIOHTTP_SESSION", "nope")),
        }[case]
        r = await reply(stack, stack.Redis(redis, max_age=600), data)
        stored = None
        for k, v in r.headers:
            if k.lower() == "set-cookie":
                value = normalised_cookie(v, None)[1]
                raw = await redis.get("AIOHTTP_SESSION_" + (value or identity))
                stored = json.loads(raw) if raw is not None else None
                if stored and "created" in stored:
                    stored["created"] = "<created>"
                assert (value == identity) == (case == "visit"), "kept only when loaded"
        headers = [
            (k, normalised_cookie(v, lambda _: "<identity>") if k.lower() == "set-cookie" else v)
            for k, v in r.headers
        ]
        return r.status_line, headers, r.body, stored

    ours = await run(SQUALL)
    theirs = await run(AIOHTTP)
    if case == "logout":
        # DIFFERENCE: the record is deleted; aiohttp_session overwrites it with {}
        assert theirs[3] == {}
        theirs = (*theirs[:3], None)
    assert ours == theirs


async def _set_cookie_names(stack: Any, storage: Any) -> list[bytes]:
    """The names of the Set-Cookie lines of /with-cookie's head, in the order sent."""
    async with serve(stack.web, lambda web: make_app(stack, storage)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET /with-cookie HTTP/1.1\r\nHost: x\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        finally:
            writer.close()
    return [
        line[len(b"Set-Cookie: ") :].split(b"=")[0]
        for line in head.split(b"\r\n")
        if line.startswith(b"Set-Cookie: ")
    ]


@pytest.mark.parametrize("storage", list(STORAGES))
async def test_the_session_cookie_comes_after_the_handler_s(storage: str) -> None:
    """aiohttp_session sets the session's cookie with ``set_cookie()`` after the
    handler returned: its line follows the handler's own cookies. Squall's too."""
    make_storage = STORAGES[storage][0]
    ours = await _set_cookie_names(SQUALL, make_storage(SQUALL))
    theirs = await _set_cookie_names(AIOHTTP, make_storage(AIOHTTP))
    assert ours == theirs
    assert ours[0] == b"pref" and len(ours) == 2
