"""EncryptedCookieStorage beyond the ported suite: the three key forms, and key
rotation (a list of keys: the first seals, all open, an old seal is renewed)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken

from squall import web
from squall.sessions import get_session, session_middleware, setup
from squall.sessions.cookie_storage import EncryptedCookieStorage

OLD, NEW = Fernet.generate_key(), Fernet.generate_key()


def sealed(key: bytes, **values: Any) -> str:
    data = {"created": int(time.time()), "session": values}
    return Fernet(key).encrypt(json.dumps(data).encode()).decode()


def opened(key: bytes, value: str) -> dict[str, Any]:
    return json.loads(Fernet(key).decrypt(value.encode()))  # type: ignore[no-any-return]


def make_app(storage: EncryptedCookieStorage) -> web.Application:
    async def show(request: web.Request) -> web.Response:
        session = await get_session(request)
        return web.json_response({"new": session.new, "data": dict(session)})

    async def count(request: web.Request) -> web.Response:
        session = await get_session(request)
        session["n"] = session.get("n", 0) + 1
        return web.Response(text=str(session["n"]))

    app = web.Application()
    setup(app, storage)
    app.router.add_get("/", show)
    app.router.add_get("/count", count)
    return app


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(base64.urlsafe_b64decode(NEW), id="32 raw bytes"),
        pytest.param(bytearray(base64.urlsafe_b64decode(NEW)), id="bytearray"),
        pytest.param(NEW.decode(), id="url-safe base64 text"),
        pytest.param(Fernet(NEW), id="Fernet"),
        pytest.param([NEW.decode()], id="a list of one"),
    ],
)
async def test_key_forms_open_the_same_cookie(key: Any, aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_app(EncryptedCookieStorage(key)))
    client.session.cookie_jar.update_cookies({"AIOHTTP_SESSION": sealed(NEW, user="al")})
    resp = await client.get("/")
    assert await resp.json() == {"new": False, "data": {"user": "al"}}
    assert "AIOHTTP_SESSION" not in resp.cookies  # read only: not saved


@pytest.mark.parametrize(
    "key", [b"short", NEW, "not base64!", []], ids=["short", "base64 as bytes", "text", "none"]
)
def test_bad_keys_are_refused(key: Any) -> None:
    with pytest.raises(ValueError):
        EncryptedCookieStorage(key)


async def test_rotation_renews_an_old_seal(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_app(EncryptedCookieStorage([NEW.decode(), OLD.decode()])))
    client.session.cookie_jar.update_cookies({"AIOHTTP_SESSION": sealed(OLD, user="al")})
    resp = await client.get("/")  # a read only...
    assert await resp.json() == {"new": False, "data": {"user": "al"}}
    renewed = resp.cookies["AIOHTTP_SESSION"].value  # ...still saved: sealed anew
    assert opened(NEW, renewed)["session"] == {"user": "al"}
    with pytest.raises(InvalidToken):
        Fernet(OLD).decrypt(renewed.encode())
    resp = await client.get("/")  # the jar now holds the new seal: nothing to renew
    assert await resp.json() == {"new": False, "data": {"user": "al"}}
    assert "AIOHTTP_SESSION" not in resp.cookies


async def test_rotation_seals_with_the_first_key(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_app(EncryptedCookieStorage([Fernet(NEW), OLD.decode()])))
    client.session.cookie_jar.update_cookies({"AIOHTTP_SESSION": sealed(OLD, n=4)})
    resp = await client.get("/count")
    assert await resp.text() == "5"
    assert opened(NEW, resp.cookies["AIOHTTP_SESSION"].value)["session"] == {"n": 5}


async def test_a_key_dropped_from_the_list_no_longer_opens(aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_app(EncryptedCookieStorage([NEW.decode()])))
    client.session.cookie_jar.update_cookies({"AIOHTTP_SESSION": sealed(OLD, user="al")})
    resp = await client.get("/")
    assert await resp.json() == {"new": True, "data": {}}


async def test_session_middleware_alone_works(aiohttp_client: Any) -> None:
    app = web.Application(middlewares=[session_middleware(EncryptedCookieStorage(NEW.decode()))])

    async def count(request: web.Request) -> web.Response:
        session = await get_session(request)
        session["n"] = session.get("n", 0) + 1
        return web.Response(text=str(session["n"]))

    app.router.add_get("/", count)
    client = await aiohttp_client(app)
    assert [await (await client.get("/")).text() for _ in range(3)] == ["1", "2", "3"]
