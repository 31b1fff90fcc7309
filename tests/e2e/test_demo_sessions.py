"""The demo's sessions: log in through the form, the counter grows on reload, log out.

Over the socket with a cookie jar (cookie storage, a key from SQUALL_SECRET_KEY or a
random one, and Redis when SQUALL_REDIS_URL is set), then in real headless Chromium
driven over the DevTools protocol: a real form submit, a real reload, the browser's
own cookie store.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from _chromium import browser
from cryptography.fernet import Fernet

from demo.app import make_app
from sessions.conftest import RedisServer, start_redis, stop_redis

TIMEOUT = 60.0
FORM = {"login": "alice", "password": "s3cret"}


async def walk(client: Any) -> None:
    resp = await client.get("/session/me", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (302, "/session/login")
    resp = await client.get("/session/login")
    assert resp.status == 200 and 'action="/session/login"' in await resp.text()
    resp = await client.post("/session/login", data=FORM)  # 302 to /session/me, followed
    text = await resp.text()
    assert resp.status == 200 and '<span id="user">alice</span>' in text
    assert '<b id="visits">1</b>' in text
    text = await (await client.get("/session/me")).text()
    assert '<b id="visits">2</b>' in text
    assert "s3cret" not in text
    resp = await client.post("/session/logout")  # 302 to the login page, followed
    assert resp.status == 200 and str(resp.url).endswith("/session/login")
    resp = await client.get("/session/me", allow_redirects=False)
    assert resp.status == 302


async def test_login_visits_logout(squall_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUALL_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.delenv("SQUALL_REDIS_URL", raising=False)
    await walk(await squall_client(make_app()))


async def test_random_key_warns(
    squall_client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SQUALL_SECRET_KEY", raising=False)
    monkeypatch.delenv("SQUALL_REDIS_URL", raising=False)
    caplog.set_level(logging.WARNING, logger="demo")
    app = make_app()
    assert any("SQUALL_SECRET_KEY is not set" in r.getMessage() for r in caplog.records)
    await walk(await squall_client(app))


async def test_missing_password_is_a_400(
    squall_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQUALL_SECRET_KEY", Fernet.generate_key().decode())
    client = await squall_client(make_app())
    resp = await client.post("/session/login", data={"login": "alice"})
    assert resp.status == 400
    assert "Set-Cookie" not in resp.headers


@pytest.fixture
def redis_url(tmp_path: Path) -> Any:
    proc, port = start_redis(tmp_path)
    yield RedisServer("127.0.0.1", port, proc.pid).url
    stop_redis(proc)


async def test_redis_when_configured(
    squall_client: Any, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    from redis import asyncio as aioredis

    monkeypatch.setenv("SQUALL_REDIS_URL", redis_url)
    client = await squall_client(make_app())
    await client.post("/session/login", data=FORM)
    identity = client.session.cookie_jar.filter_cookies(client.make_url("/"))["AIOHTTP_SESSION"]
    redis = aioredis.Redis.from_url(redis_url)
    try:
        record = json.loads(await redis.get("AIOHTTP_SESSION_" + identity.value))
        assert record["session"] == {"user": "alice", "visits": 1}
    finally:
        await redis.aclose()
    await client.post("/session/logout")


# -- headless Chromium over the DevTools protocol (tests/e2e/_chromium.py) -------------


async def test_login_reload_logout_in_headless_chromium(
    squall_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQUALL_SECRET_KEY", Fernet.generate_key().decode())
    server = await squall_server(make_app())
    base = f"http://127.0.0.1:{server.port}"
    async with asyncio.timeout(TIMEOUT), browser(tmp_path / "profile") as chromium:
        page = await chromium.new_page()
        await page.act(f"location.href = {json.dumps(base + '/session/me')!s}")
        assert await page.eval("location.pathname") == "/session/login"  # not logged in
        await page.act(
            "document.getElementById('login').value = 'alice';"
            "document.getElementById('password').value = 's3cret';"
            "document.getElementById('submit').click()"
        )
        assert await page.eval("location.pathname") == "/session/me"
        assert await page.eval("document.getElementById('user').textContent") == "alice"
        assert await page.eval("document.getElementById('visits').textContent") == "1"
        assert await page.eval("document.cookie") == ""  # HttpOnly: not for scripts
        for visits in ("2", "3"):
            seen = page.loads
            await page.call("Page.reload")
            await page.wait_load(seen)
            assert await page.eval("document.getElementById('visits').textContent") == visits
        await page.act("document.getElementById('logout').click()")
        assert await page.eval("location.pathname") == "/session/login"
        await page.act(f"location.href = {json.dumps(base + '/session/me')!s}")
        assert await page.eval("location.pathname") == "/session/login"  # logged out
