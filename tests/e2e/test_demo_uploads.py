"""The demo's form and upload pages in headless Chromium (over the DevTools protocol):
the cheatsheet's login form submitted url-encoded and as multipart/form-data, and a
file picked in the file input, sent with its progress shown, stored and described."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from _chromium import Page, browser

from demo import uploads
from demo.app import make_app
from demo.uploads import uploads_key

TIMEOUT = 60.0
STATE = "document.getElementById('upload-state').textContent"


async def choose_file(page: Page, path: Path) -> None:
    """Set ``path`` as the upload page's chosen file (what a user's pick does)."""
    node = await page.call("Runtime.evaluate", expression="document.getElementById('file')")
    await page.call("DOM.setFileInputFiles", files=[str(path)], objectId=node["result"]["objectId"])


def sent_content_type(page: Page, path: str) -> str:
    """The Content-Type of the last request the page sent to ``path``."""
    for event in reversed(page.events):
        if event["method"] == "Network.requestWillBeSent":
            request = event["params"]["request"]
            if request["url"].endswith(path):
                headers = {k.lower(): v for k, v in request["headers"].items()}
                return str(headers.get("content-type"))
    raise AssertionError(f"no request to {path}")


async def submit(page: Page, form_id: str, **values: str) -> str:
    """Fill the form ``form_id``, submit it (a real navigation), return the page's text."""
    fill = "".join(
        f"form.elements[{json.dumps(k)}].value = {json.dumps(v)};" for k, v in values.items()
    )
    await page.act(
        f"(() => {{ const form = document.getElementById({json.dumps(form_id)}); {fill}"
        " form.querySelector('button').click(); })()"
    )
    return str(await page.eval("document.body.innerText")).strip()


async def test_login_form_page(squall_server: Any, tmp_path: Path) -> None:
    server = await squall_server(make_app())
    url = f"http://127.0.0.1:{server.port}/form"
    async with asyncio.timeout(TIMEOUT), browser(tmp_path / "profile") as chromium:
        page = await chromium.new_page()
        await page.call("Network.enable")

        await page.goto(url)
        assert await submit(page, "form-urlencoded", login="Jürgen & co") == (
            "Logged in as Jürgen & co"
        )
        assert await page.eval("location.pathname") == "/login"
        assert sent_content_type(page, "/login") == "application/x-www-form-urlencoded"

        await page.goto(url)
        assert await submit(page, "form-multipart", login="bob") == "Logged in as bob"
        assert sent_content_type(page, "/login").startswith("multipart/form-data; boundary=")

        await page.goto(url)
        text = await submit(page, "form-multipart", login="carol", password="")
        assert text == "login and password are both required"
        assert [r["status"] for r in page.responses("/login")] == [200, 200, 400]


async def test_upload_page_progress_and_result(squall_server: Any, tmp_path: Path) -> None:
    app = make_app()
    server = await squall_server(app)
    upload = tmp_path / "files" / "report <b>1 & 2.bin"
    upload.parent.mkdir()
    content = os.urandom(3 * 1024 * 1024 + 17)
    upload.write_bytes(content)
    async with asyncio.timeout(TIMEOUT), browser(tmp_path / "profile") as chromium:
        page = await chromium.new_page()
        await page.goto(f"http://127.0.0.1:{server.port}/upload")
        assert await page.eval("document.getElementById('stored').hidden") is True
        assert await page.text("percent") == "0%"
        await choose_file(page, upload)  # in the file input, as a user would
        await page.eval("document.getElementById('send').click()")
        state = await page.until(
            f"['stored', 'failed'].some(s => {STATE}.startsWith(s)) && {STATE}"
        )
        assert state == "stored"
        bar = await page.eval(
            "(() => { const p = document.getElementById('progress'); return [p.value, p.max]; })()"
        )
        percent = await page.text("percent")
        shown = {k: await page.text(f"stored-{k}") for k in ("filename", "size", "sha256")}
        assert await page.eval("document.getElementById('stored').hidden") is False

    # the bar was driven by the upload's progress up to the whole body (file + framing)
    assert bar[0] == bar[1] and bar[1] > len(content)
    assert percent == "100%"
    assert shown == {
        "filename": "report <b>1 & 2.bin",
        "size": f"{len(content)} bytes",
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    # stored under a name of the server's, in the app's folder, byte for byte
    (stored,) = list(app[uploads_key].iterdir())
    assert stored.name != upload.name and "<" not in stored.name and stored.suffix == ".bin"
    assert stored.read_bytes() == content


async def test_upload_over_the_route_limit_shows_the_413(
    squall_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_BODY", 100_000)  # read when the route is added
    app = make_app()
    server = await squall_server(app)
    upload = tmp_path / "big.bin"
    upload.write_bytes(os.urandom(2 * 1024 * 1024))
    async with asyncio.timeout(TIMEOUT), browser(tmp_path / "profile") as chromium:
        page = await chromium.new_page()
        await page.goto(f"http://127.0.0.1:{server.port}/upload")
        await choose_file(page, upload)
        await page.eval("document.getElementById('send').click()")
        state = await page.until(f"{STATE}.startsWith('failed') && {STATE}")
        assert await page.eval("document.getElementById('stored').hidden") is True
    assert state == "failed: 413 Maximum request body size 100000 exceeded."
    assert list(app[uploads_key].iterdir()) == []
