"""``examples/notes_api.py`` on Squall and, with its import swapped, on aiohttp.

The same requests go to both servers over real sockets; status, the headers that
matter and the JSON bodies must agree. The example's life (cleanup_ctx) is checked too.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import test_utils as aiohttp_testing

from squall import testing as squall_testing

SOURCE = Path(__file__).resolve().parents[2] / "examples" / "notes_api.py"
IMPORT = "from squall import web\n"


def load(flavour: str) -> Any:
    text = SOURCE.read_text()
    assert text.count(IMPORT) == 1, "the example imports squall.web exactly once"
    if flavour == "aiohttp":
        text = text.replace(IMPORT, "from aiohttp import web\n")
    module = types.ModuleType(f"notes_api_{flavour}")
    module.__file__ = str(SOURCE)
    exec(compile(text, str(SOURCE), "exec"), module.__dict__)
    return module


AUTH = {"Authorization": "Bearer secret"}
# (method, path, headers, json body) in order: the store's state carries over
SCRIPT: list[tuple[str, str, dict[str, str], Any]] = [
    ("GET", "/health", {}, None),
    ("GET", "/api/v1/notes", {}, None),  # 401 from the sub-app's middleware, as JSON
    ("GET", "/api/v1/notes", {"Authorization": "Bearer wrong"}, None),
    ("GET", "/api/v1/notes", AUTH, None),
    ("POST", "/api/v1/notes", AUTH, {"text": "first"}),
    ("POST", "/api/v1/notes", AUTH, {"text": "second"}),
    ("POST", "/api/v1/notes", AUTH, {"nope": 1}),  # 422
    ("POST", "/api/v1/notes", {**AUTH, "Content-Type": "application/json"}, "not json"),
    ("GET", "/api/v1/notes", AUTH, None),
    ("GET", "/api/v1/notes/1", AUTH, None),
    ("GET", "/api/v1/notes/99", AUTH, None),  # 404 with the handler's reason
    ("GET", "/api/v1/notes/", AUTH, None),  # normalize_path_middleware: 308 to /notes
    ("GET", "/api/v1/notes/1/?x=1", AUTH, None),  # ...the query kept
    ("PUT", "/api/v1/notes/1", AUTH, None),  # 405 with Allow, as JSON
    ("DELETE", "/api/v1/notes/1", AUTH, None),
    ("DELETE", "/api/v1/notes/1", AUTH, None),
    ("GET", "/api/v1/notes", AUTH, None),
    ("GET", "/nowhere", {}, None),  # the root's 404, as JSON
    ("GET", "/api/v1/nowhere", AUTH, None),  # the sub-app's 404
]
HEADERS = ("content-type", "location", "allow", "www-authenticate")


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, Any]]:
    squall_mod, aiohttp_mod = load("squall"), load("aiohttp")
    squall_app, aiohttp_app = squall_mod.make_app(), aiohttp_mod.make_app()
    ours = squall_testing.TestServer(squall_app)
    theirs = aiohttp_testing.TestServer(aiohttp_app)
    await ours.start_server()
    await theirs.start_server()
    try:
        yield {
            "squall": (ours, squall_app, squall_mod),
            "aiohttp": (theirs, aiohttp_app, aiohttp_mod),
        }
    finally:
        await ours.close()
        await theirs.close()


async def run_script(port: int) -> list[tuple[int, dict[str, str], Any]]:
    answers = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        for method, path, headers, body in SCRIPT:
            kwargs: dict[str, Any] = {"headers": headers}
            if isinstance(body, str):
                kwargs["content"] = body.encode()
            elif body is not None:
                kwargs["json"] = body
            resp = await client.request(method, path, **kwargs)
            kept = {k: resp.headers[k] for k in HEADERS if k in resp.headers}
            is_json = resp.headers.get("content-type", "").startswith("application/json")
            payload = resp.json() if is_json else resp.text
            answers.append((resp.status_code, kept, payload))
    return answers


async def test_same_answers_on_both(servers: dict[str, Any]) -> None:
    ours = await run_script(servers["squall"][0].port)
    theirs = await run_script(servers["aiohttp"][0].port)
    for step, (mine, ref) in enumerate(zip(ours, theirs, strict=True)):
        assert mine == ref, f"step {step} {SCRIPT[step][:2]}: squall {mine} aiohttp {ref}"
    statuses = [status for status, _, _ in ours]
    assert statuses == [
        200, 401, 401, 200, 201, 201, 422, 400, 200, 200, 404, 308, 308, 405, 204, 404,
        200, 404, 404,
    ]  # fmt: skip
    assert ours[4][1]["location"] == "/api/v1/notes/1"  # url_for through the prefix
    assert ours[11][1]["location"] == "/api/v1/notes"
    assert ours[12][1]["location"] == "/api/v1/notes/1?x=1"
    assert ours[13][1]["allow"] == "DELETE,GET,HEAD"
    assert ours[16][2] == [{"id": 2, "text": "second"}]
    assert ours[17][2] == {"error": "Not Found", "status": 404}


async def test_cleanup_ctx_closes_the_store() -> None:
    module = load("squall")
    app = module.make_app()
    server = squall_testing.TestServer(app)
    await server.start_server()
    store = app[module.store_key]
    assert store.is_open
    await server.close()
    assert not store.is_open
