"""Headless Chromium driven over the DevTools protocol (CDP), for the demo's browser tests.

``browser(profile)`` starts Chromium as a subprocess of the running event loop (so a
TestServer on the same loop keeps serving) and yields a :class:`Browser`; each
``await browser.new_page()`` is a tab of its own (its own JavaScript, its own sockets)
driven through a :class:`Page`. Every wait is bounded by the caller's
``asyncio.timeout``: none of them is a timing assumption.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets

CHROMIUM = "/usr/bin/chromium"


class Page:
    """One Chromium tab: CDP calls, JavaScript evaluated in the page, the events seen."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.loads = 0
        self.events: list[dict[str, Any]] = []  # every CDP event received, in order

    def _event(self, msg: dict[str, Any]) -> None:
        if "method" in msg:
            self.events.append(msg)
            if msg["method"] == "Page.loadEventFired":
                self.loads += 1

    async def call(self, method: str, **params: Any) -> Any:
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(await self.ws.recv())
            self._event(msg)
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result")

    async def wait_load(self, seen: int) -> None:
        """Until the page has fired more load events than ``seen``."""
        while self.loads <= seen:
            self._event(json.loads(await self.ws.recv()))

    async def eval(self, expression: str) -> Any:
        """The value of ``expression`` in the page; a promise is awaited."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, condition: str) -> Any:
        """Wait (inside the page, re-checking every 50 ms) until the JavaScript
        ``condition`` is truthy; its value."""
        return await self.eval(
            "new Promise((resolve) => { const check = () => { const v = (" + condition + ");"
            " if (v) resolve(v); else setTimeout(check, 50); }; check(); })"
        )

    async def act(self, expression: str) -> None:
        """Run ``expression`` (which navigates) and wait for the next page to load."""
        seen = self.loads
        await self.eval(expression)
        await self.wait_load(seen)

    async def goto(self, url: str) -> None:
        seen = self.loads
        await self.call("Page.navigate", url=url)
        await self.wait_load(seen)

    async def text(self, element_id: str) -> Any:
        return await self.eval(f"document.getElementById({json.dumps(element_id)})?.textContent")

    def responses(self, path: str) -> list[dict[str, Any]]:
        """The ``Network.responseReceived`` responses (after ``Network.enable``) for
        URLs whose path (query included) starts with ``path``."""
        found = []
        for event in self.events:
            if event["method"] == "Network.responseReceived":
                response = event["params"]["response"]
                target = re.sub(r"^https?://[^/]+", "", response["url"])
                if target.startswith(path):
                    found.append(response)
        return found


class Browser:
    def __init__(self, devtools: str) -> None:
        self.devtools = devtools  # host:port of the DevTools HTTP endpoint
        self._stack: list[Any] = []

    async def _json(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"http://{self.devtools}{path}", method=method)
        return await asyncio.to_thread(
            lambda: json.load(urllib.request.urlopen(request, timeout=10))
        )

    async def new_page(self) -> Page:
        """A new tab on about:blank, with the Page domain's events enabled."""
        target = await self._json("/json/new?about:blank", method="PUT")
        ws = await websockets.connect(target["webSocketDebuggerUrl"], max_size=None)
        self._stack.append(ws)
        page = Page(ws)
        await page.call("Page.enable")
        return page

    async def close(self) -> None:
        for ws in reversed(self._stack):
            await ws.close()


@asynccontextmanager
async def browser(profile: Path) -> AsyncIterator[Browser]:
    """Headless Chromium with a fresh profile; terminated (this pid only) at the end."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is not installed: run `sh tools/ensure-chromium.sh` "
            "(as root, on Debian) before the browser tests",
            pytrace=False,
        )
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-quic", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    try:
        while True:
            line = (await proc.stderr.readline()).decode()
            if not line:
                raise AssertionError("chromium exited before DevTools listened")
            found = re.search(r"DevTools listening on ws://([\d.:]+)/", line)
            if found:
                break
        # drain stderr so a chatty Chromium never blocks on a full pipe
        drain = asyncio.create_task(proc.stderr.read())
        session = Browser(found.group(1))
        try:
            yield session
        finally:
            await session.close()
            drain.cancel()
    finally:
        if proc.returncode is None:
            proc.terminate()  # the pid this helper started
        await proc.wait()
