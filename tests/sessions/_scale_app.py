"""One Squall server process of the scale-out test: sessions in the Redis named by
SQUALL_REDIS_URL. ``python _scale_app.py`` binds 127.0.0.1 port 0, prints
``PORT <n>`` once it listens, and serves until SIGTERM."""

from __future__ import annotations

import os
import socket
import sys

from redis import asyncio as aioredis

from squall import web
from squall.sessions import get_session, new_session, setup
from squall.sessions.redis_storage import RedisStorage


async def login(request: web.Request) -> web.Response:
    session = await new_session(request)
    session["user"] = request.query["user"]
    session["visits"] = 0
    return web.Response(text=f"{os.getpid()} welcome")


async def visit(request: web.Request) -> web.Response:
    session = await get_session(request)
    if "user" not in session:
        raise web.HTTPUnauthorized(text=f"{os.getpid()} log in first")
    session["visits"] += 1
    return web.Response(text=f"{os.getpid()} {session['user']} {session['visits']}")


async def logout(request: web.Request) -> web.Response:
    (await get_session(request)).invalidate()
    return web.Response(text=f"{os.getpid()} bye")


def make_app() -> web.Application:
    redis = aioredis.Redis.from_url(os.environ["SQUALL_REDIS_URL"])

    async def close_redis(app: web.Application) -> None:
        await redis.aclose()

    app = web.Application()
    setup(app, RedisStorage(redis, max_age=600))
    app.router.add_get("/login", login)
    app.router.add_get("/visit", visit)
    app.router.add_get("/logout", logout)
    app.on_cleanup.append(close_redis)
    return app


if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print("PORT", sock.getsockname()[1], flush=True)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - run_app's banner goes nowhere
    web.run_app(make_app(), sock=sock, access_log=None, print=None)
