"""The issue's program, and the cheatsheet basics, through a real socket."""

from __future__ import annotations

from squall import web


async def handle(request: web.Request) -> web.Response:
    name = request.match_info.get("name", "Anonymous")
    return web.Response(text="Hello, " + name)


def make_app() -> web.Application:
    app = web.Application()
    app.add_routes([web.get("/", handle), web.get("/{name}", handle)])
    return app


async def test_hello_anonymous(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.get("/")
    assert resp.status == 200
    assert await resp.text() == "Hello, Anonymous"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_hello_name_percent_decoded(squall_client) -> None:
    client = await squall_client(make_app())
    async with client.get("/J%C3%BCrgen") as resp:
        assert resp.status == 200
        assert await resp.text() == "Hello, Jürgen"


async def test_head_served_by_get_route(squall_client) -> None:
    client = await squall_client(make_app())
    resp = await client.head("/bob")
    assert resp.status == 200
    assert resp.headers["Content-Length"] == str(len("Hello, bob"))
    assert await resp.read() == b""
