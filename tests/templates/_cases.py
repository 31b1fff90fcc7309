"""Apps that run unchanged on aiohttp + aiohttp-jinja2 and on Squall + squall.templates.

A case is ``factory(web, tj) -> Application`` plus the request to send: ``web`` is
``aiohttp.web`` or ``squall.web``, ``tj`` is ``aiohttp_jinja2`` or ``squall.templates``.
The differential test serves each on both and compares the responses byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2

PAGE = "<html><body><h1>{{ head }}</h1>{{ text }}</body></html>"
LAYOUT = (
    "<!doctype html><title>{% block title %}{% endblock %}</title>"
    "<main>{% block body %}{% endblock %}</main>"
)
CHILD = (
    "{% extends 'layout.html' %}{% block title %}{{ title }}{% endblock %}"
    "{% block body %}{% include 'row.html' %}<ul>{% for i in items %}<li>{{ i }}</li>"
    "{% endfor %}</ul>{% endblock %}"
)
ROW = "{% macro cell(v) %}<td>{{ v }}</td>{% endmacro %}<tr>{{ cell(title) }}</tr>"
XSS = "<script>alert('x')</script>&\"'"
TEMPLATES = {
    "page.html": PAGE,
    "tmpl.jinja2": PAGE,
    "layout.html": LAYOUT,
    "child.html": CHILD,
    "row.html": ROW,
    "plain.txt": "text: {{ text }}",
    "feed.xml": "<feed>{{ text }}</feed>",
    "ctx.html": "foo={{ foo }} bar={{ bar }} baz={{ baz }} path={{ request.path }}",
    "query.html": "q={{ request.query.get('q', '-') }} m={{ request.method }}",
    "name.html": "Hello, {{ request.match_info['name'] }}!",
    "url.html": "{{ url('user', name='John Doe') }}|{{ url('uid', arg=7) }}|"
    "{{ url('index', query_={'a': 'b c', 'x': '1'}) }}|{{ url('index') }}",
    "url_bool.html": "{{ url('uid', arg=True) }}",
    "url_unknown.html": "{{ url('nowhere') }}",
    "static.html": "{{ static('app.css') }} {{ static('/js/x.js') }}",
    "filters.html": "{{ 5|add_2 }} {{ 'ab'|shout }}",
    "include_missing.html": "{% include 'nope.html' %}",
    "broken.html": "SECRET-SOURCE {% if %}",
    "undefined.html": "{{ missing.attr }}",
    "unicode.html": "café {{ text }} ☃",
    "sub.html": "sub: {{ url('subpage') }} {{ who }}",
}


@dataclass(frozen=True)
class Case:
    name: str
    factory: Callable[[Any, Any], Any]
    target: str = "/"
    method: str = "GET"
    routed: bool = True  # False: a 404/405 is the expected answer


def app_with(web: Any, tj: Any, **setup: Any) -> Any:
    app = web.Application()
    setup.setdefault("loader", jinja2.DictLoader(TEMPLATES))
    tj.setup(app, **setup)
    return app


CASES: list[Case] = []


def case(target: str = "/", method: str = "GET", name: str | None = None) -> Any:
    def register(factory: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        CASES.append(Case(name or factory.__name__, factory, target, method))
        return factory

    return register


# -- the decorator --------------------------------------------------------------------


def _decorated(template_name: str, ctx: Any, **kw: Any) -> Callable[[Any, Any], Any]:
    def factory(web: Any, tj: Any) -> Any:
        @tj.template(template_name, **kw)
        async def handler(request: Any) -> Any:
            return ctx

        app = app_with(web, tj)
        app.router.add_get("/", handler)
        return app

    return factory


for _name, _tmpl, _ctx, _kw in [
    ("decorated_html", "page.html", {"head": "H", "text": "t"}, {}),
    ("decorated_escapes_html", "page.html", {"head": XSS, "text": XSS}, {}),
    ("decorated_escapes_non_html_names", "tmpl.jinja2", {"head": XSS, "text": XSS}, {}),
    ("decorated_escapes_txt", "plain.txt", {"text": XSS}, {}),
    ("decorated_escapes_xml", "feed.xml", {"text": XSS}, {}),
    ("decorated_status_201", "page.html", {"head": "H", "text": "t"}, {"status": 201}),
    ("decorated_status_418", "page.html", {"head": "H", "text": "t"}, {"status": 418}),
    ("decorated_encoding_latin1", "unicode.html", {"text": "é"}, {"encoding": "latin-1"}),
    ("decorated_encoding_upper_case", "unicode.html", {"text": "é"}, {"encoding": "UTF-8"}),
    ("decorated_encoding_utf16", "unicode.html", {"text": "é"}, {"encoding": "utf-16"}),
    ("decorated_none_context", "page.html", None, {}),
    ("decorated_empty_context", "page.html", {}, {}),
    ("decorated_inheritance", "child.html", {"title": "T<", "items": [1, "<b>", 3]}, {}),
    ("decorated_not_mapping_int", "page.html", 123, {}),
    ("decorated_not_mapping_list", "page.html", [("head", "H")], {}),
    ("decorated_not_mapping_str", "page.html", "head", {}),
    ("decorated_missing_template", "nope.html", {}, {}),
    ("decorated_missing_unicode_name", "café.html", {}, {}),
    ("decorated_include_missing", "include_missing.html", {}, {}),
    ("decorated_syntax_error", "broken.html", {}, {}),
    ("decorated_undefined_attr", "undefined.html", {}, {}),
]:
    CASES.append(Case(_name, _decorated(_tmpl, _ctx, **_kw)))


@case()
def decorated_mapping_not_dict(web: Any, tj: Any) -> Any:
    from types import MappingProxyType

    @tj.template("page.html")
    async def handler(request: Any) -> Any:
        return MappingProxyType({"head": "proxy", "text": "ok"})

    app = app_with(web, tj)
    app.router.add_get("/", handler)
    return app


@case(method="HEAD")
def decorated_head(web: Any, tj: Any) -> Any:
    return _decorated("page.html", {"head": "H", "text": "t"})(web, tj)


@case(method="HEAD", name="missing_template_head")
def missing_template_head(web: Any, tj: Any) -> Any:
    return _decorated("nope.html", {})(web, tj)


@case()
def decorated_response_passes_through(web: Any, tj: Any) -> Any:
    @tj.template("page.html", status=201)
    async def handler(request: Any) -> Any:
        return web.Response(text="OK", headers={"X-Own": "1"})

    app = app_with(web, tj)
    app.router.add_get("/", handler)
    return app


@case()
def decorated_http_exception_passes(web: Any, tj: Any) -> Any:
    @tj.template("page.html")
    async def handler(request: Any) -> Any:
        raise web.HTTPForbidden(text="no")

    app = app_with(web, tj)
    app.router.add_get("/", handler)
    return app


@case()
def decorated_redirect_returned(web: Any, tj: Any) -> Any:
    @tj.template("page.html")
    async def handler(request: Any) -> Any:
        return web.HTTPFound("/elsewhere")

    app = app_with(web, tj)
    app.router.add_get("/", handler)
    return app


@case()
def decorated_before_setup(web: Any, tj: Any) -> Any:
    @tj.template("page.html")
    async def handler(request: Any) -> Any:
        return {"head": "H"}

    app = web.Application()
    app.router.add_get("/", handler)
    return app


@case()
def decorated_method_of_object(web: Any, tj: Any) -> Any:
    class Handler:
        prefix = "obj"

        @tj.template("page.html", status=202)
        async def meth(self, request: Any) -> Any:
            return {"head": self.prefix, "text": request.path}

    app = app_with(web, tj)
    app.router.add_get("/", Handler().meth)
    return app


def _view_app(web: Any, tj: Any, **setup: Any) -> Any:
    class PageView(web.View):
        @tj.template("page.html")
        async def get(self) -> Any:
            return {"head": "view", "text": self.request.query.get("t", "")}

        @tj.template("page.html", status=201, encoding="latin-1")
        async def post(self) -> Any:
            return {"head": "créé", "text": self.request.method}

        @tj.template("page.html")
        async def put(self) -> Any:
            return web.Response(text="put as is")

        @tj.template("nope.html")
        async def patch(self) -> Any:
            return {}

        @tj.template("page.html")
        async def delete(self) -> Any:
            return 42

    app = web.Application() if setup.pop("no_setup", False) else app_with(web, tj, **setup)
    app.router.add_view("/", PageView)
    return app


for _method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
    # web.View has no head() or options(): a 405 on both
    _routed = _method not in ("HEAD", "OPTIONS")
    CASES.append(Case(f"view_{_method.lower()}", _view_app, "/?t=%3Cb%3E", _method, _routed))
CASES.append(
    Case("view_async_env_get", lambda web, tj: _view_app(web, tj, enable_async=True), "/?t=a")
)
CASES.append(Case("view_before_setup", lambda web, tj: _view_app(web, tj, no_setup=True)))


# -- rendering by hand ------------------------------------------------------------------


def _by_hand(body: Callable[[Any, Any, Any], Any], **setup: Any) -> Callable[[Any, Any], Any]:
    def factory(web: Any, tj: Any) -> Any:
        async def handler(request: Any) -> Any:
            return await body(web, tj, request)

        kw = dict(setup)
        app = web.Application() if kw.pop("no_setup", False) else app_with(web, tj, **kw)
        app.router.add_get("/", handler)
        return app

    return factory


async def _rt(web: Any, tj: Any, request: Any) -> Any:
    return tj.render_template("page.html", request, {"head": "rt", "text": XSS})


async def _rt_status(web: Any, tj: Any, request: Any) -> Any:
    return tj.render_template("page.html", request, {"head": "x"}, status=410, encoding="ascii")


async def _rt_none(web: Any, tj: Any, request: Any) -> Any:
    return tj.render_template("page.html", request, None)


async def _rt_missing(web: Any, tj: Any, request: Any) -> Any:
    return tj.render_template("missing.html", request, {})


async def _rt_not_mapping(web: Any, tj: Any, request: Any) -> Any:
    return tj.render_template("page.html", request, ["a"])


async def _rta(web: Any, tj: Any, request: Any) -> Any:
    return await tj.render_template_async("child.html", request, {"title": "a", "items": [1]})


async def _rta_status(web: Any, tj: Any, request: Any) -> Any:
    return await tj.render_template_async("page.html", request, {"head": "x"}, status=203)


async def _rs(web: Any, tj: Any, request: Any) -> Any:
    text = tj.render_string("plain.txt", request, {"text": "<i>"})
    return web.Response(text=text, content_type="text/plain")


async def _rsa(web: Any, tj: Any, request: Any) -> Any:
    return web.Response(text=await tj.render_string_async("page.html", request, {"head": "a"}))


async def _rs_missing(web: Any, tj: Any, request: Any) -> Any:
    return web.Response(text=tj.render_string("x.html", request, {}))


async def _rt_in_async_env(web: Any, tj: Any, request: Any) -> Any:
    # the sync call on an async environment: jinja2 cannot run it inside a loop
    return tj.render_template("page.html", request, {"head": "x"})


async def _rt_caught(web: Any, tj: Any, request: Any) -> Any:
    try:
        tj.render_template("missing.html", request, {})
    except web.HTTPInternalServerError as exc:
        return web.Response(text=f"{exc.status} {exc.reason} | {exc.text}")
    return web.Response(text="no error")


async def _rt_second_env(web: Any, tj: Any, request: Any) -> Any:
    return tj.render_template("other.html", request, {"v": "<2>"}, app_key=SECOND)


for _name, _body, _setup in [
    ("render_template", _rt, {}),
    ("render_template_status_encoding", _rt_status, {}),
    ("render_template_none_context", _rt_none, {}),
    ("render_template_missing", _rt_missing, {}),
    ("render_template_not_mapping", _rt_not_mapping, {}),
    ("render_template_before_setup", _rt, {"no_setup": True}),
    ("render_template_async", _rta, {"enable_async": True}),
    ("render_template_async_status", _rta_status, {"enable_async": True}),
    ("render_template_async_before_setup", _rta, {"no_setup": True}),
    ("render_template_async_on_sync_env", _rta, {}),
    ("render_string", _rs, {}),
    ("render_string_async", _rsa, {"enable_async": True}),
    ("render_string_missing", _rs_missing, {}),
    ("render_string_before_setup", _rs, {"no_setup": True}),
    ("render_template_sync_on_async_env", _rt_in_async_env, {"enable_async": True}),
    ("render_template_error_caught", _rt_caught, {}),
    ("autoescape_off", _rt, {"autoescape": False}),
    (
        "autoescape_html_only",
        _rs,
        {"autoescape": jinja2.select_autoescape(["html", "htm", "xml"])},
    ),
]:
    CASES.append(Case(_name, _by_hand(_body, **_setup)))


SECOND: Any = None  # set per web module below: an AppKey of that framework


@case()
def second_environment(web: Any, tj: Any) -> Any:
    global SECOND
    SECOND = web.AppKey("second_env", jinja2.Environment)
    app = app_with(web, tj)
    tj.setup(app, app_key=SECOND, loader=jinja2.DictLoader({"other.html": "other {{ v }}"}))

    async def handler(request: Any) -> Any:
        return await _rt_second_env(web, tj, request)

    app.router.add_get("/", handler)
    return app


@case()
def decorated_second_environment(web: Any, tj: Any) -> Any:
    key = web.AppKey("second_env", jinja2.Environment)
    app = app_with(web, tj)
    tj.setup(app, app_key=key, loader=jinja2.DictLoader({"page.html": "second {{ head }}"}))

    @tj.template("page.html", app_key=key)
    async def handler(request: Any) -> Any:
        return {"head": "<2>"}

    app.router.add_get("/", handler)
    return app


@case()
def decorated_second_environment_missing(web: Any, tj: Any) -> Any:
    key = web.AppKey("never_set", jinja2.Environment)

    @tj.template("page.html", app_key=key)
    async def handler(request: Any) -> Any:
        return {"head": "x"}

    app = app_with(web, tj)
    app.router.add_get("/", handler)
    return app


@case()
def async_env_decorated(web: Any, tj: Any) -> Any:
    @tj.template("child.html", status=201)
    async def handler(request: Any) -> Any:
        return {"title": "async", "items": range(3)}

    app = app_with(web, tj, enable_async=True)
    app.router.add_get("/", handler)
    return app


@case()
def async_env_with_async_global(web: Any, tj: Any) -> Any:
    async def fetch_rows() -> list[str]:
        return ["<a>", "b"]

    @tj.template("rows.html")
    async def handler(request: Any) -> Any:
        return {"rows": fetch_rows}

    app = app_with(
        web,
        tj,
        enable_async=True,
        loader=jinja2.DictLoader({"rows.html": "{% for r in rows() %}[{{ r }}]{% endfor %}"}),
    )
    app.router.add_get("/", handler)
    return app


@case()
def file_system_loader(web: Any, tj: Any) -> Any:
    import os

    here = os.path.join(os.path.dirname(__file__), "pages")

    @tj.template("index.html")
    async def handler(request: Any) -> Any:
        return {"title": "files", "items": ["one", "<two>"]}

    app = app_with(web, tj, loader=jinja2.FileSystemLoader(here))
    app.router.add_get("/", handler)
    return app


# -- helpers ----------------------------------------------------------------------------


def _helper_app(web: Any, tj: Any, template_name: str, **setup: Any) -> Any:
    @tj.template(template_name)
    async def index(request: Any) -> Any:
        return {}

    async def other(request: Any) -> Any:
        return web.Response(text="other")

    app = app_with(web, tj, **setup)
    app.router.add_get("/", index, name="index")
    app.router.add_get("/user/{name}", other, name="user")
    app.router.add_get("/uid/{arg}", other, name="uid")
    return app


for _name, _tmpl, _setup in [
    ("url_helper", "url.html", {}),
    ("url_bool_part_is_an_error", "url_bool.html", {}),
    ("url_unknown_route", "url_unknown.html", {}),
    ("url_without_default_helpers", "url.html", {"default_helpers": False}),
    ("static_without_root", "static.html", {}),
]:
    CASES.append(Case(_name, lambda web, tj, t=_tmpl, s=_setup: _helper_app(web, tj, t, **s)))


@case()
def static_helper(web: Any, tj: Any) -> Any:
    app = _helper_app(web, tj, "static.html")
    app[tj.static_root_key] = "https://cdn.example/assets/"
    return app


@case()
def static_helper_deprecated_key(web: Any, tj: Any) -> Any:
    import warnings

    app = _helper_app(web, tj, "static.html")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app["static_root_url"] = "/static"
    return app


@case()
def filters_mapping_and_pairs(web: Any, tj: Any) -> Any:
    app = _helper_app(web, tj, "filters.html", filters={"add_2": lambda v: v + 2})
    tj.get_env(app).filters.update([("shout", lambda s: s.upper() + "<!>")])
    return app


@case()
def filters_as_pairs(web: Any, tj: Any) -> Any:
    return _helper_app(
        web,
        tj,
        "filters.html",
        filters=[("add_2", lambda v: v + 2), ("shout", lambda s: s.upper())],
    )


@case(target="/sub/page")
def subapp_url_and_env(web: Any, tj: Any) -> Any:
    @tj.template("sub.html")
    async def page(request: Any) -> Any:
        return {"who": "<sub>"}

    sub = app_with(web, tj)
    sub.router.add_get("/page", page, name="subpage")
    app = web.Application()
    app.add_subapp("/sub", sub)
    return app


@case(target="/sub/page")
def subapp_uses_parent_env(web: Any, tj: Any) -> Any:
    @tj.template("page.html")
    async def page(request: Any) -> Any:
        return {"head": "from parent env", "text": request.path}

    sub = web.Application()
    sub.router.add_get("/page", page)
    app = app_with(web, tj)
    app.add_subapp("/sub", sub)
    return app


# -- context processors -----------------------------------------------------------------


async def _foo_processor(request: Any) -> dict[str, Any]:
    return {"foo": "<1>", "bar": "overridden by the handler"}


def _ctx_handler(tj: Any) -> Any:
    @tj.template("ctx.html")
    async def handler(request: Any) -> Any:
        return {"bar": 2}

    return handler


@case(target="/p%C3%A4th?x=1")
def processors_in_setup(web: Any, tj: Any) -> Any:
    app = app_with(web, tj, context_processors=(tj.request_processor, _foo_processor))
    app.router.add_get("/{tail:.*}", _ctx_handler(tj))
    return app


@case()
def processors_by_hand(web: Any, tj: Any) -> Any:
    app = web.Application(middlewares=[tj.context_processors_middleware])
    tj.setup(app, loader=jinja2.DictLoader(TEMPLATES))
    app[tj.APP_CONTEXT_PROCESSORS_KEY] = (tj.request_processor, _foo_processor)
    app.router.add_get("/", _ctx_handler(tj))
    return app


@case()
def processors_render_template_by_hand(web: Any, tj: Any) -> Any:
    async def handler(request: Any) -> Any:
        return tj.render_template("ctx.html", request, {"baz": "hand"})

    app = app_with(web, tj, context_processors=[tj.request_processor, _foo_processor])
    app.router.add_get("/", handler)
    return app


@case(target="/sub/")
def processors_nested_apps(web: Any, tj: Any) -> Any:
    async def outer(request: Any) -> dict[str, Any]:
        return {"baz": 5, "foo": "outer loses"}

    sub = web.Application(middlewares=[tj.context_processors_middleware])
    tj.setup(sub, loader=jinja2.DictLoader(TEMPLATES))
    sub[tj.APP_CONTEXT_PROCESSORS_KEY] = (tj.request_processor, _foo_processor)
    sub.router.add_get("/", _ctx_handler(tj))
    app = web.Application(middlewares=[tj.context_processors_middleware])
    tj.setup(app, loader=jinja2.DictLoader({}))
    app[tj.APP_CONTEXT_PROCESSORS_KEY] = (tj.request_processor, outer)
    app.add_subapp("/sub/", sub)
    return app


@case()
def processor_replacing_the_dict(web: Any, tj: Any) -> Any:
    async def replace(request: Any) -> dict[str, Any]:
        request[tj.REQUEST_CONTEXT_KEY] = {"baz": "fresh"}
        return {"foo": "after"}

    app = app_with(web, tj, context_processors=[tj.request_processor, _foo_processor, replace])
    app.router.add_get("/", _ctx_handler(tj))
    return app


@case(target="/hello/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
def request_value_is_escaped(web: Any, tj: Any) -> Any:
    app = app_with(web, tj, context_processors=[tj.request_processor])
    app.router.add_get("/hello/{name}", _decorated_name(tj))
    return app


def _decorated_name(tj: Any) -> Any:
    @tj.template("name.html")
    async def handler(request: Any) -> Any:
        return {}

    return handler


@case(target="/?q=%3Cq%3E&q=2")
def request_processor_query(web: Any, tj: Any) -> Any:
    @tj.template("query.html")
    async def handler(request: Any) -> Any:
        return {}

    app = app_with(web, tj, context_processors=[tj.request_processor])
    app.router.add_get("/", handler)
    return app


@case()
def processor_failing(web: Any, tj: Any) -> Any:
    async def broken(request: Any) -> dict[str, Any]:
        raise ValueError("processor bug")

    app = app_with(web, tj, context_processors=[broken])
    app.router.add_get("/", _ctx_handler(tj))
    return app


@case()
def processor_without_key(web: Any, tj: Any) -> Any:
    # the middleware installed by hand, no processors stored: aiohttp-jinja2's KeyError
    app = web.Application(middlewares=[tj.context_processors_middleware])
    tj.setup(app, loader=jinja2.DictLoader(TEMPLATES))
    app.router.add_get("/", _ctx_handler(tj))
    return app


@case()
def processor_raising_http_error(web: Any, tj: Any) -> Any:
    async def deny(request: Any) -> dict[str, Any]:
        raise web.HTTPUnauthorized(text="log in first")

    app = app_with(web, tj, context_processors=[deny])
    app.router.add_get("/", _ctx_handler(tj))
    return app


@case()
def big_page(web: Any, tj: Any) -> Any:
    @tj.template("big.html")
    async def handler(request: Any) -> Any:
        return {"rows": [{"id": i, "name": f"row <{i}> & co"} for i in range(500)]}

    big = (
        "<table>{% for r in rows %}<tr class='{{ loop.cycle('odd', 'even') }}'>"
        "<td>{{ r.id }}</td><td>{{ r.name|upper }}</td></tr>{% endfor %}</table>"
    )
    app = app_with(web, tj, loader=jinja2.DictLoader({"big.html": big}))
    app.router.add_get("/", handler)
    return app


# -- rendering in middlewares ---------------------------------------------------------------


def _error_pages(web: Any, tj: Any) -> Any:
    """A middleware that renders the error page with the env its own app sees."""

    @web.middleware
    async def error_pages(request: Any, handler: Any) -> Any:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return tj.render_template(
                "error.html",
                request,
                {"status": exc.status, "path": request.path},
                status=exc.status,
            )

    return error_pages


@case(target="/no/such/page")
def middleware_renders_404_page(web: Any, tj: Any) -> Any:
    app = web.Application(middlewares=[_error_pages(web, tj)])
    tj.setup(app, loader=jinja2.DictLoader({"error.html": "<h1>{{ status }}</h1>{{ path }}"}))
    return app


@case(target="/sub/missing")
def outer_middleware_renders_with_outer_env(web: Any, tj: Any) -> Any:
    sub = web.Application()
    tj.setup(sub, loader=jinja2.DictLoader({"error.html": "SUB ENV {{ status }}"}))

    async def nothing(request: Any) -> Any:
        raise web.HTTPNotFound()

    sub.router.add_get("/missing", nothing)
    app = web.Application(middlewares=[_error_pages(web, tj)])
    tj.setup(app, loader=jinja2.DictLoader({"error.html": "outer env {{ status }} {{ path }}"}))
    app.add_subapp("/sub", sub)
    return app


@case(target="/sub/missing")
def inner_middleware_renders_with_inner_env(web: Any, tj: Any) -> Any:
    sub = web.Application(middlewares=[_error_pages(web, tj)])
    tj.setup(sub, loader=jinja2.DictLoader({"error.html": "sub env {{ status }}"}))
    app = web.Application()
    tj.setup(app, loader=jinja2.DictLoader({"error.html": "OUTER ENV {{ status }}"}))
    app.add_subapp("/sub", sub)
    return app


@case(target="/sub/missing")
def outer_middleware_before_any_setup_in_its_app(web: Any, tj: Any) -> Any:
    sub = web.Application()
    tj.setup(sub, loader=jinja2.DictLoader({"error.html": "only the sub-app has one"}))
    app = web.Application(middlewares=[_error_pages(web, tj)])
    app.add_subapp("/sub", sub)
    return app
