"""The aiohttp web-server cheatsheet, on Squall: only the import differs.

Each handler below is one snippet of the cheatsheet. The index page (``index.html``)
shows the snippet next to a live result: its JavaScript calls every endpoint with
``fetch()`` and compares what comes back with what the cheatsheet promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from squall import web

INDEX_HTML = (Path(__file__).parent / "index.html").read_text(encoding="utf-8")


async def index(request: web.Request) -> web.Response:
    return web.Response(text=INDEX_HTML, content_type="text/html")


# Hello world
async def handle(request: web.Request) -> web.Response:
    name = request.match_info.get("name", "Anonymous")
    text = "Hello, " + name
    return web.Response(text=text)


# How to make a redirect
async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/destination")


async def destination(request: web.Request) -> web.Response:
    return web.Response(text="You have arrived at /destination")


# Handler functions: JSON
async def handle_json(request: web.Request) -> web.Response:
    data = {"some": "data"}
    return web.json_response(data)


# A custom regex in the form {identifier:regex}
async def handle_number(request: web.Request) -> web.Response:
    return web.Response(text="Number " + request.match_info["num"])


# RouteTableDef and a class-based View
routes = web.RouteTableDef()


@routes.get("/get")
async def handle_get(request: web.Request) -> web.Response:
    return web.Response(text="handle_get answered GET")


@routes.post("/post")
async def handle_post(request: web.Request) -> web.Response:
    return web.Response(text="handle_post answered POST")


@routes.view("/view")
class MyView(web.View):
    async def get(self) -> web.Response:
        return web.Response(text="MyView.get")

    async def post(self) -> web.Response:
        return web.Response(text="MyView.post")


# Forms: accessing POST data
async def do_login(request: web.Request) -> web.Response:
    data = await request.post()
    login = data.get("login", "")
    password = data.get("password", "")
    if not login or not password:
        raise web.HTTPBadRequest(text="login and password are both required")
    # The password is checked by no one here, and never echoed back.
    return web.Response(text="Logged in as " + login)


def make_app(argv: Sequence[str] | None = None) -> web.Application:
    """Build the demo; ``argv`` is accepted (and ignored) for
    ``python -m squall.web demo.app:make_app``."""
    app = web.Application()
    app.add_routes(
        [
            web.get("/", index),
            web.get("/hello", handle),
            web.get("/hello/{name}", handle),
            web.get("/redirect", redirect),
            web.get("/destination", destination),
            web.get("/json", handle_json),
            web.get(r"/number/{num:\d+}", handle_number),
            web.post("/login", do_login),
        ]
    )
    app.router.add_routes(routes)
    return app
