"""Each endpoint of the demo app (``demo/app.py``), over a real socket, without a browser."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from demo import uploads
from demo.app import HERE, make_app
from demo.chat import MAX_MESSAGE, peers_key
from demo.uploads import uploads_key


def version_of(name: str) -> str:
    """What ``url_for(filename=name, append_version=True)`` puts after ``?v=``."""
    digest = hashlib.sha256((HERE / "static" / name).read_bytes()).digest()
    return base64.urlsafe_b64encode(digest).decode().replace("=", "%3D")


async def test_index_is_the_html_page(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    text = await resp.text()
    assert text.startswith("<!doctype html>")
    assert text.rstrip().endswith("</html>")
    for element_id in (
        "status",
        "hello-result",
        "redirect-result",
        "json-result",
        "regex-result",
        "routes-result",
        "view-result",
        "templates-result",
        "form-result",
        "upload-result",
        "static-result",
        "sse-result",
        "chat-result",
        "clock-link",
        "chat-link",
        "form-link",
        "upload-link",
    ):
        assert text.count(f'id="{element_id}"') == 1


async def test_index_is_rendered_from_the_template(squall_client) -> None:
    client = await squall_client(make_app())
    text = await (await client.get("/")).text()
    # the helpers: url() for the form, static() for the script
    assert '<form id="login-form" method="post" action="/login">' in text
    assert f'<script src="/static/checks.js?v={version_of("checks.js")}"></script>' in text
    assert f'<link rel="stylesheet" href="/static/demo.css?v={version_of("demo.css")}">' in text
    assert '<a id="clock-link" href="/clock">' in text
    # each snippet is its handler's source, escaped by the template
    assert "async def handle_json(request: web.Request) -&gt; web.Response:" in text
    assert "@routes.view(&#34;/view&#34;)\nclass MyView(web.View):" in text
    # the new sections too: the handlers of demo/live.py, demo/chat.py, demo/uploads.py
    assert "async def clock(request: web.Request) -&gt; web.StreamResponse:" in text
    assert "async def chat(request: web.Request) -&gt; web.WebSocketResponse:" in text
    assert "async def broadcast(" in text
    assert "async def upload(request: web.Request) -&gt; web.Response:" in text
    assert "append_version=True" in text
    # the intros are trusted markup, not escaped
    assert "<code>web.json_response</code>" in text
    assert "{%" not in text and "{{" not in text


async def test_checks_script_is_served(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/static/checks.js")
    assert resp.status == 200
    assert resp.content_type in ("application/javascript", "text/javascript")
    script = await resp.text()
    assert 'id: "templates"' in script and "runAll();" in script


async def test_greet_template_escapes_the_name(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/greet", params={"name": "<b>Squall</b> & co"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    text = await resp.text()
    assert '<p id="greeting">Hello, &lt;b&gt;Squall&lt;/b&gt; &amp; co!</p>' in text
    assert "<title>Hello, &lt;b&gt;Squall&lt;/b&gt; &amp; co</title>" in text
    assert "<b>" not in text
    assert '<a id="back" href="/">' in text


async def test_greet_default_name(squall_client) -> None:
    client = await squall_client(make_app())
    text = await (await client.get("/greet")).text()
    assert '<p id="greeting">Hello, Anonymous!</p>' in text


async def test_hello_anonymous_and_named(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/hello")
    assert resp.status == 200
    assert await resp.text() == "Hello, Anonymous"
    resp = await client.get("/hello/Squall")
    assert resp.status == 200
    assert await resp.text() == "Hello, Squall"
    resp = await client.get("/hello/J%C3%BCrgen")
    assert await resp.text() == "Hello, Jürgen"


async def test_redirect_is_a_302_to_destination(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/redirect", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/destination"
    resp = await client.get("/redirect")
    assert resp.status == 200
    assert resp.url.path == "/destination"
    assert [r.status for r in resp.history] == [302]
    assert await resp.text() == "You have arrived at /destination"


async def test_json(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/json")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert await resp.json() == {"some": "data"}


async def test_regex_route_matches_digits_only(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/number/42")
    assert resp.status == 200
    assert await resp.text() == "Number 42"
    resp = await client.get("/number/forty-two")
    assert resp.status == 404
    resp = await client.get("/number/")
    assert resp.status == 404


async def test_route_table_def(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/get")
    assert resp.status == 200
    assert await resp.text() == "handle_get answered GET"
    resp = await client.post("/post")
    assert resp.status == 200
    assert await resp.text() == "handle_post answered POST"
    resp = await client.get("/post")
    assert resp.status == 405
    assert set(resp.headers["Allow"].split(",")) == {"POST"}


async def test_class_based_view(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/view")
    assert resp.status == 200
    assert await resp.text() == "MyView.get"
    resp = await client.post("/view")
    assert resp.status == 200
    assert await resp.text() == "MyView.post"
    resp = await client.put("/view")
    assert resp.status == 405
    assert {m.strip() for m in resp.headers["Allow"].split(",")} >= {"GET", "POST"}


async def test_login_form_echoes_login_never_password(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.post("/login", data={"login": "alice", "password": "s3cret"})
    assert resp.status == 200
    text = await resp.text()
    assert text == "Logged in as alice"
    assert "s3cret" not in text


async def test_login_form_with_browser_content_type(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.post(
        "/login",
        data=b"login=J%C3%BCrgen&password=p%26ss",
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
    )
    assert resp.status == 200
    assert await resp.text() == "Logged in as Jürgen"


async def test_login_form_missing_field_is_a_400(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.post("/login", data={"login": "alice"})
    assert resp.status == 400
    assert await resp.text() == "login and password are both required"


async def test_unknown_path_is_a_404(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/no/such/page")
    assert resp.status == 404


# -- static files, SSE, WebSocket, forms and uploads -----------------------------------


async def test_static_assets_versioned_and_conditional(squall_client) -> None:
    client = await squall_client(make_app())
    for name, types in (
        ("demo.css", ("text/css",)),
        ("clock.js", ("application/javascript", "text/javascript")),
        ("chat.js", ("application/javascript", "text/javascript")),
        ("upload.js", ("application/javascript", "text/javascript")),
    ):
        resp = await client.get(f"/static/{name}?v={version_of(name)}")
        assert resp.status == 200
        assert resp.content_type in types
        assert await resp.read() == (HERE / "static" / name).read_bytes()
        resp = await client.get(f"/static/{name}", headers={"If-None-Match": resp.headers["ETag"]})
        assert resp.status == 304
    resp = await client.get("/static/../app.py")
    assert resp.status in (403, 404)
    resp = await client.get("/static/%2e%2e/app.py")
    assert resp.status in (403, 404)


@pytest.mark.parametrize("page", ["/clock", "/chat", "/form", "/upload"])
async def test_live_pages_render(squall_client, page: str) -> None:
    client = await squall_client(make_app())
    resp = await client.get(page)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    text = await resp.text()
    assert f'<link rel="stylesheet" href="/static/demo.css?v={version_of("demo.css")}">' in text
    assert '<a class="back" href="/">' in text
    assert "{{" not in text and "{%" not in text


async def test_page_links_to_its_endpoints(squall_client) -> None:
    client = await squall_client(make_app())
    assert '<a href="/clock/events">' in await (await client.get("/clock")).text()
    assert 'data-ws-path="/chat/ws"' in await (await client.get("/chat")).text()
    form = await (await client.get("/form")).text()
    assert '<form id="form-urlencoded" method="post" action="/login">' in form
    assert 'action="/login" enctype="multipart/form-data">' in form
    upload = await (await client.get("/upload")).text()
    assert 'action="/upload" enctype="multipart/form-data">' in upload
    assert "up to 64 MiB" in upload


async def test_clock_is_an_event_stream_of_ticks(squall_server) -> None:
    server = await squall_server(make_app())
    url = f"http://127.0.0.1:{server.port}/clock/events"
    async with asyncio.timeout(30), httpx.AsyncClient(timeout=10) as client:
        async with client.stream("GET", url) as resp:
            assert resp.status_code == 200
            assert resp.headers["Content-Type"] == "text/event-stream"
            assert resp.headers["Cache-Control"] == "no-cache"
            text = ""
            async for chunk in resp.aiter_text():
                text += chunk
                if text.count("\r\n\r\n") >= 2:
                    break
    events = text.split("\r\n\r\n")[:2]
    for event in events:
        lines = event.split("\r\n")
        assert lines[0] == "event: tick"
        assert lines[1].startswith("data: ") and len(lines[1]) == len("data: 12:34:56")
    # and the server goes on: a client that left is no error
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"http://127.0.0.1:{server.port}/hello")).status_code == 200


async def test_clock_answers_get_only(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.post("/clock/events")
    assert resp.status == 405


async def test_chat_broadcasts_to_every_peer(squall_server) -> None:
    app = make_app()
    server = await squall_server(app)
    url = f"ws://127.0.0.1:{server.port}/chat/ws"
    async with (
        asyncio.timeout(30),
        websockets.connect(url) as alice,
        websockets.connect(url) as bob,
    ):
        names = [json.loads(await ws.recv())["you"] for ws in (alice, bob)]
        assert names[0] != names[1]
        assert len(app[peers_key]) == 2
        await alice.send("   ")  # blank: ignored
        await alice.send(b"binary")  # not text: ignored
        await alice.send("  <b>x</b>  ")
        for ws in (alice, bob):
            assert json.loads(await ws.recv()) == {"from": names[0], "text": "<b>x</b>"}
        await bob.send("y" * (MAX_MESSAGE + 10))
        for ws in (alice, bob):
            assert json.loads(await ws.recv()) == {"from": names[1], "text": "y" * MAX_MESSAGE}
        await bob.close()
        await alice.send("still here")
        assert json.loads(await alice.recv()) == {"from": names[0], "text": "still here"}
        assert len(app[peers_key]) == 1


async def test_chat_refuses_oversized_messages(squall_server) -> None:
    server = await squall_server(make_app())
    url = f"ws://127.0.0.1:{server.port}/chat/ws"
    async with asyncio.timeout(30), websockets.connect(url) as ws:
        await ws.recv()
        await ws.send("z" * 5000)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_chat_needs_a_websocket(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/chat/ws")
    assert resp.status == 400


async def upload_files(port: int, files: Any, data: Any = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(f"http://127.0.0.1:{port}/upload", files=files, data=data)


async def test_upload_stores_and_describes(squall_server) -> None:
    app = make_app()
    server = await squall_server(app)
    content = bytes(range(256)) * 1000
    resp = await upload_files(server.port, {"file": ("../../etc/passwd", content, "x/y")})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.json() == {
        "files": [
            {
                "filename": "../../etc/passwd",
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        ]
    }
    folder: Path = app[uploads_key]
    (stored,) = list(folder.iterdir())
    assert stored.read_bytes() == content and "passwd" not in stored.name


async def test_upload_without_a_file_is_a_400(squall_server) -> None:
    app = make_app()
    server = await squall_server(app)
    resp = await upload_files(server.port, {"note": (None, "just text")})
    assert (resp.status_code, resp.text) == (400, "no file in the form")
    async with httpx.AsyncClient(timeout=10) as client:
        url = f"http://127.0.0.1:{server.port}/upload"
        resp = await client.post(url, data={"login": "x"})
    assert resp.status_code == 400
    assert list(app[uploads_key].iterdir()) == []


async def test_upload_over_the_limit_is_a_413_and_leaves_nothing(
    squall_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_FILE", 1000)  # read by the handler at each call
    app = make_app()
    server = await squall_server(app)
    resp = await upload_files(server.port, {"file": ("big.bin", b"x" * 1001)})
    assert resp.status_code == 413
    assert list(app[uploads_key].iterdir()) == []
    resp = await upload_files(server.port, {"file": ("small.bin", b"x" * 1000)})
    assert resp.status_code == 200 and resp.json()["files"][0]["size"] == 1000


async def test_upload_route_has_a_body_limit(
    squall_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_BODY", 2000)  # read when the route is added
    app = make_app()
    server = await squall_server(app)
    resp = await upload_files(server.port, {"file": ("big.bin", b"x" * 3000)})
    assert resp.status_code == 413  # the route's max_body, not the file's MAX_FILE
    assert list(app[uploads_key].iterdir()) == []
    resp = await upload_files(server.port, {"file": ("small.bin", b"x" * 1000)})
    assert resp.status_code == 200


async def test_upload_folder_is_made_and_removed(squall_server) -> None:
    app = make_app()
    server = await squall_server(app)
    folder: Path = app[uploads_key]
    assert folder.is_dir()
    await upload_files(server.port, {"file": ("a.txt", b"a")})
    await server.close()
    assert not folder.exists()


async def test_shutdown_ends_open_clock_streams(squall_server) -> None:
    server = await squall_server(make_app())
    url = f"http://127.0.0.1:{server.port}/clock/events"
    async with asyncio.timeout(30), httpx.AsyncClient(timeout=20) as client:
        async with client.stream("GET", url) as resp:
            chunks = aiter(resp.aiter_text())
            assert (await anext(chunks)).startswith("event: tick\r\n")
            closing = asyncio.create_task(server.close())
            # the stream ends with its last chunk (stop_streams on shutdown), not cut
            rest = [chunk async for chunk in chunks]
            await closing
    assert all(chunk.startswith("event: tick\r\n") for chunk in rest)
