"""The demo's pages in real headless Chromium: the index (a template) whose JavaScript
calls every endpoint and must report each live result, then "all checks passed"; and
a page rendered from a template with markup in its input, which must stay text.

Chromium runs as a subprocess of this event loop (``create_subprocess_exec``), so the
TestServer on the same loop keeps serving while the page loads. Install Chromium with
``tools/ensure-chromium.sh`` (``make test`` does). The index is driven over the DevTools
protocol in real time (its checks hold an event stream open for two ticks, which
``--virtual-time-budget`` would not wait for); the template page is dumped.
"""

from __future__ import annotations

import asyncio
import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from _chromium import browser

from demo.app import make_app

CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 60.0

EXPECTED = {
    "hello-result": "GET /hello → 200 Hello, Anonymous\nGET /hello/Squall → 200 Hello, Squall",
    "redirect-result": (
        "GET /redirect → redirected to /destination → 200 You have arrived at /destination"
    ),
    "json-result": 'GET /json → 200 application/json {"some":"data"}',
    "regex-result": "GET /number/42 → 200 Number 42\nGET /number/forty-two → 404",
    "routes-result": (
        "GET /get → 200 handle_get answered GET\n"
        "POST /post → 200 handle_post answered POST\n"
        "GET /post → 405"
    ),
    "view-result": "GET /view → 200 MyView.get\nPOST /view → 200 MyView.post\nPUT /view → 405",
    "templates-result": (
        "GET /greet?name=<b>Squall</b> → 200 text/html Hello, <b>Squall</b>! (no <b> element)"
    ),
    "form-result": "POST /login → 200 Logged in as alice",
    "upload-result": (
        "POST /upload hello.txt (11 bytes) → 200 hello.txt 11 bytes, sha256 as computed here"
    ),
    "static-result": (
        "this script: GET /static/checks.js?v=<hash> → 200\nagain with If-None-Match → 304"
    ),
    "sse-result": "GET /clock/events → 200 text/event-stream, 2 tick events",
    "chat-result": 'WebSocket /chat/ws → open, sent "hello <b>x</b>", the broadcast came back',
}


class TextById(HTMLParser):
    """The text content of every element that has an id."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"meta", "link", "input", "br", "img", "hr"}:
            return  # void elements never close
        self._open.append(dict(attrs).get("id"))
        if self._open[-1] is not None:
            self.texts[self._open[-1]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            if element_id is not None:
                self.texts[element_id] += data


def text_by_id(html: str) -> dict[str, str]:
    parser = TextById()
    parser.feed(html)
    parser.close()
    return parser.texts


async def dump_dom(url: str, profile_dir: Path) -> str:
    """Load ``url`` in headless Chromium and return the DOM once the page settled."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is not installed: run `sh tools/ensure-chromium.sh` "
            "(as root, on Debian) before the browser tests",
            pytrace=False,
        )
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile_dir}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"chromium did not finish loading {url} within {TIMEOUT:.0f}s")
    assert proc.returncode == 0, (
        f"chromium exited with {proc.returncode}:\n{stderr.decode(errors='replace')[-2000:]}"
    )
    return stdout.decode("utf-8")


async def test_demo_page_in_headless_chromium(squall_server, tmp_path: Path) -> None:
    server = await squall_server(make_app())
    async with asyncio.timeout(TIMEOUT), browser(tmp_path / "chromium-profile") as chromium:
        page = await chromium.new_page()
        await page.goto(f"http://127.0.0.1:{server.port}/")
        status = await page.until(
            "document.getElementById('status').className && "
            "document.getElementById('status').textContent"
        )
        texts = {element_id: await page.text(element_id) for element_id in EXPECTED}
        sections = await page.eval("Array.from(document.querySelectorAll('section'), s => s.id)")

    assert sections == [element_id.removesuffix("-result") for element_id in EXPECTED]
    for element_id, expected in EXPECTED.items():
        assert texts[element_id] == expected, f"#{element_id}"
    assert status == "all checks passed"


async def test_rendered_template_page_in_headless_chromium(squall_server, tmp_path: Path) -> None:
    server = await squall_server(make_app())
    name = quote(
        "<img src=x onerror=document.title='owned'><script>document.title='owned'</script>"
    )
    dom = await dump_dom(
        f"http://127.0.0.1:{server.port}/greet?name={name}", tmp_path / "chromium-profile"
    )
    texts = text_by_id(dom)

    # the markup arrived as text: shown verbatim, and nothing of it ran
    assert texts.get("greeting") == (
        "Hello, <img src=x onerror=document.title='owned'><script>document.title='owned'</script>!"
    )
    assert "<img" not in dom and "owned</script>" not in dom
    assert "<title>Hello, &lt;img" in dom
    assert "<title>owned</title>" not in dom
    assert texts.get("back") == "Back to the checks"
