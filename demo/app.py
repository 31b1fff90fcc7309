"""The aiohttp web-server cheatsheet, on Squall: only the import differs.

Each handler below is one snippet of the cheatsheet. The index page is a Jinja2
template (``templates/index.html``, rendered with ``squall.templates``, which is
aiohttp-jinja2's API) showing each handler's source next to a live result: its
JavaScript (``static/checks.js``) calls every endpoint with ``fetch()`` and compares
what comes back with what the cheatsheet promises.

Beyond the cheatsheet, each with a page of its own: a clock fed by server-sent events
(``demo/live.py``), a chat over WebSocket (``demo/chat.py``), the login form and an
upload page with a progress bar (``demo/uploads.py``), sessions (``demo/sessions.py``);
the pages' assets are served by ``add_static`` with versioned URLs.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from demo.chat import broadcast, chat, setup_chat
from demo.live import clock, setup_clock, stop_streams
from demo.sessions import setup_sessions
from demo.uploads import setup_uploads, upload
from squall import templates as aiohttp_jinja2
from squall import web

HERE = Path(__file__).parent


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


# Templates (aiohttp-jinja2's API): the handler returns the context
@aiohttp_jinja2.template("greet.html")
async def greet(request: web.Request) -> dict[str, str]:
    return {"name": request.query.get("name", "Anonymous")}


# Forms: accessing POST data
async def do_login(request: web.Request) -> web.Response:
    data = await request.post()
    login = data.get("login", "")
    password = data.get("password", "")
    if not login or not password:
        raise web.HTTPBadRequest(text="login and password are both required")
    # The password is checked by no one here, and never echoed back.
    return web.Response(text="Logged in as " + login)


# -- the index page ---------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One snippet of the page: the source of ``handlers`` and how they are routed."""

    id: str
    title: str
    intro: Markup  # trusted markup written here; everything else the template escapes
    handlers: Sequence[Callable[..., Any] | type]
    routing: str = ""
    form: bool = False

    @property
    def code(self) -> str:
        parts = [textwrap.dedent(inspect.getsource(h)).strip() for h in self.handlers]
        return "\n\n".join(parts + ([self.routing] if self.routing else []))


SECTIONS = [
    Section(
        "hello",
        "Hello world",
        Markup("A handler reads the <code>{name}</code> part of the path, with a default."),
        [handle],
        'app.add_routes([web.get("/hello", handle),\n'
        '                web.get("/hello/{name}", handle)])',
    ),
    Section(
        "redirect",
        "How to make a redirect",
        Markup(
            "Raising an HTTP exception ends the handler with that response: here a 302 to "
            '<a href="/destination">/destination</a>, which <code>fetch()</code> follows.'
        ),
        [redirect],
    ),
    Section(
        "json",
        "Handler functions: JSON",
        Markup(
            "<code>web.json_response</code> serialises the data and sets "
            "<code>Content-Type: application/json</code>."
        ),
        [handle_json],
        'app.add_routes([web.get("/json", handle_json)])',
    ),
    Section(
        "regex",
        "A custom regex: {identifier:regex}",
        Markup("The route matches digits only; anything else is a 404."),
        [handle_number],
        'app.add_routes([web.get(r"/number/{num:\\d+}", handle_number)])',
    ),
    Section(
        "routes",
        "RouteTableDef",
        Markup(
            "Decorators collect the routes; a route answers its own method only (others get a 405)."
        ),
        [handle_get, handle_post],
        "app.router.add_routes(routes)",
    ),
    Section(
        "view",
        "Views",
        Markup(
            "A class-based view dispatches on the request method; methods it does not define get a 405."
        ),
        [MyView],
    ),
    Section(
        "templates",
        "Templates",
        Markup(
            "<code>@aiohttp_jinja2.template</code> renders what the handler returns with "
            '<code>templates/greet.html</code>. Autoescaping is on: <a href="/greet?name=%3Cb%3EHi%3C/b%3E">'
            "a name with markup</a> shows as text."
        ),
        [greet],
        'aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"))\n'
        'app.add_routes([web.get("/greet", greet)])',
    ),
    Section(
        "form",
        "Forms: accessing POST data",
        Markup(
            "<code>await request.post()</code> parses a url-encoded form. The answer echoes the "
            'login, never the password. <a href="/form">The form page</a> posts it with a real '
            "form submit, url-encoded and as <code>multipart/form-data</code>."
        ),
        [do_login],
        'app.add_routes([web.post("/login", do_login)])',
        form=True,
    ),
    Section(
        "upload",
        "File uploads",
        Markup(
            "<code>save_uploads</code> streams each file of <code>await request.multipart()</code> "
            "into a folder under a name of its own, with a size limit; the route's "
            '<code>max_body</code> bounds the request. Try it on <a href="/upload">the upload '
            "page</a>, with a progress bar."
        ),
        [upload],
        "app.cleanup_ctx.append(upload_folder)  # a temporary folder in app[uploads_key]\n"
        'app.add_routes([web.post("/upload", upload, max_body=MAX_BODY)])',
    ),
    Section(
        "static",
        "Static files",
        Markup(
            "The demo serves its own scripts and style sheet. With <code>append_version</code>, "
            "<code>url_for</code> adds <code>?v=</code> and a hash of the file's content: a "
            "changed file gets a new URL, so no cache serves the old one. Asked again with "
            "<code>If-None-Match</code>, an unchanged file is a <code>304</code>."
        ),
        [],
        'app.router.add_static("/static", HERE / "static", name="static", append_version=True)\n'
        'app.router["static"].url_for(filename="checks.js")  # /static/checks.js?v=...',
    ),
    Section(
        "sse",
        "Server-sent events",
        Markup(
            "<code>squall.sse</code> has aiohttp-sse's API: a stream of <code>tick</code> events, "
            'one a second. <a href="/clock">The clock page</a> shows them with '
            "<code>EventSource</code>."
        ),
        [clock, stop_streams],
        "app[streams_key] = weakref.WeakSet()\n"
        "app.on_shutdown.append(stop_streams)\n"
        'app.add_routes([web.get("/clock/events", clock)])',
    ),
    Section(
        "chat",
        "WebSockets",
        Markup(
            "Every message a peer sends goes to every peer. Open "
            '<a href="/chat">the chat page</a> in two windows.'
        ),
        [broadcast, chat],
        'app[peers_key] = weakref.WeakSet()\napp.add_routes([web.get("/chat/ws", chat)])',
    ),
]


@aiohttp_jinja2.template("index.html")
async def index(request: web.Request) -> dict[str, Any]:
    return {"sections": SECTIONS}


def make_app(argv: Sequence[str] | None = None) -> web.Application:
    """Build the demo; ``argv`` is accepted (and ignored) for
    ``python -m squall.web demo.app:make_app``."""
    app = web.Application()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app[aiohttp_jinja2.static_root_key] = "/static"
    app.add_routes(
        [
            web.get("/", index, name="index"),
            web.get("/hello", handle),
            web.get("/hello/{name}", handle),
            web.get("/redirect", redirect),
            web.get("/destination", destination),
            web.get("/json", handle_json),
            web.get(r"/number/{num:\d+}", handle_number),
            web.get("/greet", greet),
            web.post("/login", do_login, name="login"),
        ]
    )
    app.router.add_routes(routes)
    app.router.add_static("/static", HERE / "static", name="static", append_version=True)
    setup_sessions(app)  # /session/login, /session/me, /session/logout: demo/sessions.py
    setup_clock(app)  # /clock, /clock/events: demo/live.py
    setup_chat(app)  # /chat, /chat/ws: demo/chat.py
    setup_uploads(app)  # /form, /upload: demo/uploads.py
    return app
