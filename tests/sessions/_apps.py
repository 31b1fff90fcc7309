"""One session app written against a ``web`` module and a sessions module, so the
same code runs on aiohttp + aiohttp_session and on squall.web + squall.sessions."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any

import aiohttp_session
import aiohttp_session.cookie_storage
import aiohttp_session.redis_storage
from aiohttp import web as aiohttp_web
from cryptography.fernet import Fernet

import squall.sessions
import squall.sessions.cookie_storage
import squall.sessions.redis_storage
from squall import web as squall_web

SQUALL = SimpleNamespace(
    name="squall",
    web=squall_web,
    sessions=squall.sessions,
    Encrypted=squall.sessions.cookie_storage.EncryptedCookieStorage,
    Redis=squall.sessions.redis_storage.RedisStorage,
)
AIOHTTP = SimpleNamespace(
    name="aiohttp",
    web=aiohttp_web,
    sessions=aiohttp_session,
    Encrypted=aiohttp_session.cookie_storage.EncryptedCookieStorage,
    Redis=aiohttp_session.redis_storage.RedisStorage,
)
STACKS = [SQUALL, AIOHTTP]

KEY = Fernet.generate_key()  # url-safe base64, as SQUALL_SECRET_KEY holds it
RAW_KEY = base64.urlsafe_b64decode(KEY)  # the 32 raw bytes

StorageFactory = Callable[[Any], Any]  # stack -> storage


def make_app(stack: Any, storage: Any) -> Any:
    """A login flow: ``/login`` (form), ``/visit``, ``/show``, ``/logout``, and a few
    edges (``/touch``, ``/fresh``, ``/boom``)."""
    web, sessions = stack.web, stack.sessions

    async def show(request: Any) -> Any:
        session = await sessions.get_session(request)
        body = {"new": session.new, "empty": session.empty, "data": dict(session)}
        return web.json_response(body)

    async def login(request: Any) -> Any:
        form = await request.post()
        session = await sessions.new_session(request)
        session["user"] = form["login"]
        session["visits"] = 0
        raise web.HTTPFound("/show")

    async def visit(request: Any) -> Any:
        session = await sessions.get_session(request)
        if "user" not in session:
            raise web.HTTPUnauthorized(text="log in first")
        session["visits"] += 1
        return web.Response(text=f"{session['user']} visit {session['visits']}")

    async def logout(request: Any) -> Any:
        session = await sessions.get_session(request)
        session.invalidate()
        return web.Response(text="bye")

    async def touch(request: Any) -> Any:
        session = await sessions.get_session(request)
        session.changed()
        return web.Response(text=f"touched {len(session)}")

    async def fresh(request: Any) -> Any:
        session = await sessions.new_session(request)
        session["fresh"] = True
        return web.Response(text="fresh")

    async def boom(request: Any) -> Any:
        session = await sessions.get_session(request)
        session["seen"] = "boom"
        raise web.HTTPForbidden(text="no")

    async def with_cookie(request: Any) -> Any:
        session = await sessions.get_session(request)
        session["theme"] = "dark"
        response = web.Response(text="set")
        response.set_cookie("pref", "dark", max_age=60)
        return response

    app = web.Application()
    sessions.setup(app, storage)
    app.router.add_get("/with-cookie", with_cookie)
    app.router.add_get("/show", show)
    app.router.add_post("/login", login)
    app.router.add_get("/visit", visit)
    app.router.add_get("/logout", logout)
    app.router.add_get("/touch", touch)
    app.router.add_get("/fresh", fresh)
    app.router.add_get("/boom", boom)
    return app


# -- Set-Cookie, normalised for comparison ------------------------------------------

EXPIRES = re.compile(r"^[A-Z][a-z]{2}, \d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2} GMT$")


def cookie_parts(header: str) -> tuple[str, str, dict[str, str]]:
    """(name, value, attributes lower-cased) of one Set-Cookie header, as a browser
    reads it; the value unquoted the way SimpleCookie writes it."""
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    assert len(jar) == 1, header
    (morsel,) = jar.values()
    attrs = {k: str(v) for k, v in morsel.items() if v not in ("", False)}
    return morsel.key, morsel.value, attrs


def normalised_cookie(header: str, opener: Callable[[str], Any] | None) -> Any:
    """What may be compared between two servers: the attributes with ``expires``
    checked for aiohttp_session's format then masked, and the value opened by
    ``opener`` (decrypted, JSON-decoded) with the ``created`` time masked."""
    name, value, attrs = cookie_parts(header)
    if "expires" in attrs and attrs["expires"] != "Thu, 01 Jan 1970 00:00:00 GMT":
        assert EXPIRES.match(attrs["expires"]), attrs["expires"]
        attrs["expires"] = "<expires>"
    data: Any = value
    if value and opener is not None:
        data = opener(value)
        if isinstance(data, dict) and "created" in data:
            assert isinstance(data["created"], int)
            data = {**data, "created": "<created>"}
    return name, data, attrs


def fernet_opener(key: bytes = KEY) -> Callable[[str], Any]:
    box = Fernet(key)
    return lambda value: json.loads(box.decrypt(value.encode()))
