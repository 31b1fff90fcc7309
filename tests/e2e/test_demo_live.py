"""The demo's live pages in headless Chromium (over the DevTools protocol, real time):
the clock fed by server-sent events, its versioned static assets, and the chat over
WebSocket with two pages talking to each other."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
from _chromium import Page, browser

from demo.app import HERE, make_app

TIMEOUT = 60.0
# the chat's messages as [from, text] pairs, read from the page's DOM
LINES = (
    "Array.from(document.querySelectorAll('#messages li'),"
    " li => [li.querySelector('.from').textContent, li.querySelector('.text').textContent])"
)


def version_of(name: str) -> str:
    """What ``url_for(filename=name, append_version=True)`` puts after ``?v=``."""
    digest = hashlib.sha256((HERE / "static" / name).read_bytes()).digest()
    return base64.urlsafe_b64encode(digest).decode().replace("=", "%3D")


async def test_clock_ticks_over_sse_with_versioned_assets(
    squall_server: Any, tmp_path: Path
) -> None:
    server = await squall_server(make_app())
    base = f"http://127.0.0.1:{server.port}"
    async with asyncio.timeout(TIMEOUT), browser(tmp_path / "profile") as chromium:
        page = await chromium.new_page()
        await page.call("Network.enable")
        await page.goto(base + "/clock")
        # at least two tick events, each shown as it came
        ticks = "document.getElementById('ticks').textContent"
        assert int(await page.until(f"Number({ticks}) >= 2 && {ticks}")) >= 2
        assert re.fullmatch(r"\d\d:\d\d:\d\d", await page.text("clock"))
        assert await page.text("stream-state") == "open"
        css_href = await page.eval("document.querySelector('link[rel=stylesheet]').href")
        script_src = await page.eval("document.querySelector('script[src]').src")
        # the style sheet loaded and applies: 52rem of 16px
        assert await page.eval("document.styleSheets[0].cssRules.length") > 10
        assert await page.eval("getComputedStyle(document.body).maxWidth") == "832px"
        streams = page.responses("/clock/events")
        css = page.responses("/static/demo.css")
        js = page.responses("/static/clock.js")

    assert len(streams) == 1
    assert streams[0]["status"] == 200
    assert streams[0]["mimeType"] == "text/event-stream"
    assert {k.lower(): v for k, v in streams[0]["headers"].items()}["cache-control"] == "no-cache"

    # the assets: served by add_static, linked with ?v=<sha256 of the content>
    assert css_href == f"{base}/static/demo.css?v={version_of('demo.css')}"
    assert script_src == f"{base}/static/clock.js?v={version_of('clock.js')}"
    assert [r["status"] for r in css] == [200] and css[0]["mimeType"] == "text/css"
    assert [r["status"] for r in js] == [200]

    # a conditional re-request of the same URL is a 304 with no body
    async with httpx.AsyncClient(timeout=10) as client:
        first = await client.get(css_href)
        assert first.status_code == 200
        assert first.content == (HERE / "static" / "demo.css").read_bytes()
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        again = await client.get(css_href, headers={"If-None-Match": etag})
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["ETag"] == etag
        again = await client.get(css_href, headers={"If-Modified-Since": modified})
        assert (again.status_code, again.content) == (304, b"")
        changed = await client.get(css_href, headers={"If-None-Match": '"other"'})
        assert changed.status_code == 200 and changed.content == first.content


async def test_chat_between_two_pages(squall_server: Any, tmp_path: Path) -> None:
    server = await squall_server(make_app())
    url = f"http://127.0.0.1:{server.port}/chat"
    count = "document.querySelectorAll('#messages li').length"
    async with asyncio.timeout(TIMEOUT), browser(tmp_path / "profile") as chromium:
        alice, bob = await chromium.new_page(), await chromium.new_page()
        for page in (alice, bob):
            await page.goto(url)
        # both sockets open, and each page told its name by the server (it is a peer now)
        names = [
            await page.until("document.getElementById('me').textContent") for page in (alice, bob)
        ]
        assert names[0] != names[1] and all(n.startswith("guest ") for n in names)
        for page in (alice, bob):
            assert await page.text("chat-state") == "open"

        text = "<b>x</b> & <img src=x onerror=alert(1)>"
        await say(alice, text)
        assert await bob.until(f"{count} && {LINES}") == [[names[0], text]]
        # text, never markup: no element came out of the message
        assert await bob.eval("document.querySelectorAll('#messages b, #messages img').length") == 0
        assert await alice.until(f"{count} && {LINES}") == [[names[0], text]]
        assert await alice.eval("document.getElementById('chat-form').elements.text.value") == ""

        # and back the other way
        await say(bob, "hi alice")
        got = await alice.until(f"{count} === 2 && {LINES}")
        assert got == [[names[0], text], [names[1], "hi alice"]]


async def say(page: Page, text: str) -> None:
    """Type ``text`` in the chat's box and press its button."""
    await page.eval(
        "(() => { const form = document.getElementById('chat-form');"
        f"form.elements.text.value = {json.dumps(text)};"
        "form.querySelector('button').click(); })()"
    )
