"""The demo's sessions: a login page, a page with the user and a visit counter, logout.

``squall.sessions`` is aiohttp_session's API. The storage is
``EncryptedCookieStorage`` with the key in ``SQUALL_SECRET_KEY`` (make one with
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``),
or a random key made at start, so sessions end with the process; with
``SQUALL_REDIS_URL`` (``redis://host:6379/0``) set, ``RedisStorage`` instead.
"""

from __future__ import annotations

import logging
import os

from squall import templates as aiohttp_jinja2
from squall import web
from squall.sessions import AbstractStorage, get_session, new_session, setup

log = logging.getLogger("demo")
routes = web.RouteTableDef()


@routes.get("/session/login", name="session_login")
@aiohttp_jinja2.template("session_login.html")
async def login_page(request: web.Request) -> dict[str, str]:
    session = await get_session(request)
    return {"user": session.get("user", "")}


@routes.post("/session/login")
async def do_login(request: web.Request) -> web.Response:
    data = await request.post()
    login = str(data.get("login", "")).strip()
    password = str(data.get("password", ""))
    if not login or not password:
        raise web.HTTPBadRequest(text="login and password are both required")
    # Any password will do in the demo; a real app checks it here.
    session = await new_session(request)  # a new session at login: no fixation
    session["user"] = login
    session["visits"] = 0
    raise web.HTTPFound(request.app.router["session_me"].url_for())


@routes.get("/session/me", name="session_me")
@aiohttp_jinja2.template("session_me.html")
async def me(request: web.Request) -> dict[str, object]:
    session = await get_session(request)
    if "user" not in session:
        raise web.HTTPFound(request.app.router["session_login"].url_for())
    session["visits"] += 1
    return {"user": session["user"], "visits": session["visits"]}


@routes.post("/session/logout", name="session_logout")
async def logout(request: web.Request) -> web.Response:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPFound(request.app.router["session_login"].url_for())


def make_storage(app: web.Application) -> AbstractStorage:
    """Redis when ``SQUALL_REDIS_URL`` is set, else a sealed cookie."""
    url = os.environ.get("SQUALL_REDIS_URL")
    if url:
        from redis import asyncio as aioredis

        from squall.sessions.redis_storage import RedisStorage

        redis = aioredis.Redis.from_url(url, socket_timeout=5)

        async def close_redis(app: web.Application) -> None:
            await redis.aclose()

        app.on_cleanup.append(close_redis)
        return RedisStorage(redis, max_age=24 * 3600, samesite="Lax")

    from cryptography.fernet import Fernet

    from squall.sessions.cookie_storage import EncryptedCookieStorage

    key = os.environ.get("SQUALL_SECRET_KEY")
    if not key:
        key = Fernet.generate_key().decode()
        log.warning(
            "SQUALL_SECRET_KEY is not set: sessions are sealed with a random key made "
            "now, so they end with this process (and are not shared between processes)"
        )
    return EncryptedCookieStorage(key.split(","), max_age=24 * 3600, samesite="Lax")


def setup_sessions(app: web.Application) -> None:
    setup(app, make_storage(app))
    app.router.add_routes(routes)
