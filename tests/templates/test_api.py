"""squall.templates through real requests: aiohttp-jinja2's own test suite, ported
(tests/test_*.py of aio-libs/aiohttp-jinja2 1.6), plus what Squall promises on top."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import jinja2
import pytest

from squall import templates as tj
from squall import web
from squall.framework.app import AppKey
from squall.testing.mocked import make_mocked_request

PAGE = "<html><body><h1>{{head}}</h1>{{text}}</body></html>"
RENDERED = "<html><body><h1>HEAD</h1>text</body></html>"

Client = Callable[..., Any]


def app_with(templates: dict[str, str], **setup: Any) -> web.Application:
    app = web.Application()
    tj.setup(app, loader=jinja2.DictLoader(templates), **setup)
    return app


async def get_text(client_factory: Client, app: web.Application, path: str = "/") -> Any:
    client = await client_factory(app)
    resp = await client.get(path)
    return resp.status, resp.headers.get("Content-Type"), await resp.text()


# -- the environment ------------------------------------------------------------------


def test_setup_returns_the_env_it_stores() -> None:
    app = web.Application()
    env = tj.setup(app, loader=jinja2.DictLoader({}))
    assert isinstance(env, jinja2.Environment)
    assert tj.get_env(app) is env
    assert app[tj.APP_KEY] is env
    assert env.globals["app"] is app
    assert env.globals["url"] is tj.helpers.url_for
    assert env.globals["static"] is tj.helpers.static_url
    assert env.autoescape is True
    assert env.is_async is False
    assert "APP_CONTEXT_PROCESSORS_KEY" not in repr(list(app))  # no processors given


def test_setup_passes_environment_arguments() -> None:
    app = web.Application()
    env = tj.setup(
        app, loader=jinja2.DictLoader({}), enable_async=True, autoescape=False, trim_blocks=True
    )
    assert env.is_async is True
    assert env.autoescape is False
    assert env.trim_blocks is True


def test_setup_without_default_helpers() -> None:
    env = tj.setup(web.Application(), default_helpers=False)
    assert "url" not in env.globals and "static" not in env.globals


def test_get_env_before_setup() -> None:
    with pytest.raises(
        RuntimeError, match=r"^aiohttp_jinja2\.setup\(\.\.\.\) must be called first\.$"
    ):
        tj.get_env(web.Application())


def test_get_env_under_another_key() -> None:
    key = AppKey("other", jinja2.Environment)
    app = web.Application()
    env = tj.setup(app, app_key=key)
    assert tj.get_env(app, app_key=key) is env
    with pytest.raises(RuntimeError):
        tj.get_env(app)


def test_keys_are_those_of_aiohttp_jinja2_1_6() -> None:
    assert isinstance(tj.APP_KEY, AppKey) and tj.APP_KEY.name == "APP_KEY"
    assert isinstance(tj.APP_CONTEXT_PROCESSORS_KEY, AppKey)
    assert tj.APP_CONTEXT_PROCESSORS_KEY.name == "APP_CONTEXT_PROCESSORS_KEY"
    assert tj.REQUEST_CONTEXT_KEY == "aiohttp_jinja2_context"
    assert isinstance(tj.static_root_key, AppKey) and tj.static_root_key.name == "static_root_key"


def test_context_processors_install_the_middleware_once() -> None:
    async def proc(request: web.Request) -> dict[str, Any]:
        return {}

    app = web.Application()
    tj.setup(app, context_processors=[proc])
    assert app[tj.APP_CONTEXT_PROCESSORS_KEY] == [proc]
    assert list(app.middlewares) == [tj.context_processors_middleware]
    assert tj.context_processors_middleware.__middleware_version__ == 1  # type: ignore[attr-defined]


def test_filters_from_a_mapping_or_pairs() -> None:
    def add_2(v: int) -> int:
        return v + 2

    env = tj.setup(web.Application(), filters={"add_2": add_2})
    assert env.filters["add_2"] is add_2
    env = tj.setup(web.Application(), filters=[("add_2", add_2)])
    assert env.filters["add_2"] is add_2


# -- the decorator (test_simple_renderer.py) ---------------------------------------------


@pytest.mark.parametrize("enable_async", [False, True])
async def test_func(squall_client: Client, enable_async: bool) -> None:
    @tj.template("tmpl.jinja2")
    async def func(request: web.Request) -> dict[str, str]:
        return {"head": "HEAD", "text": "text"}

    app = app_with({"tmpl.jinja2": PAGE}, enable_async=enable_async)
    app.router.add_route("*", "/", func)
    assert await get_text(squall_client, app) == (200, "text/html; charset=utf-8", RENDERED)


async def test_render_class_based_view(squall_client: Client) -> None:
    class MyView(web.View):
        @tj.template("tmpl.jinja2")
        async def get(self) -> dict[str, str]:
            return {"head": "HEAD", "text": self.request.method.lower()}

    app = app_with({"tmpl.jinja2": PAGE})
    app.router.add_route("*", "/", MyView)
    status, _, text = await get_text(squall_client, app)
    assert (status, text) == (200, "<html><body><h1>HEAD</h1>get</body></html>")


async def test_meth(squall_client: Client) -> None:
    class Handler:
        @tj.template("tmpl.jinja2")
        async def meth(self, request: web.Request) -> dict[str, str]:
            return {"head": "HEAD", "text": "text"}

    app = app_with({"tmpl.jinja2": PAGE})
    app.router.add_route("*", "/", Handler().meth)
    assert (await get_text(squall_client, app))[2] == RENDERED


def test_decorator_keeps_the_handler_name() -> None:
    async def index(request: web.Request) -> dict[str, str]:
        """The docstring."""
        return {}

    wrapped = tj.template("x.html")(index)
    assert wrapped.__name__ == "index"
    assert wrapped.__doc__ == "The docstring."
    assert wrapped.__wrapped__ is index  # type: ignore[attr-defined]


async def test_set_status(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2", status=201)
    async def func(request: web.Request) -> dict[str, str]:
        return {"head": "HEAD", "text": "text"}

    app = app_with({"tmpl.jinja2": PAGE})
    app.router.add_route("*", "/", func)
    assert await get_text(squall_client, app) == (201, "text/html; charset=utf-8", RENDERED)


async def test_encoding(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2", encoding="Latin-1")
    async def func(request: web.Request) -> dict[str, str]:
        return {"head": "café"}

    app = app_with({"tmpl.jinja2": "{{ head }}"})
    app.router.add_get("/", func)
    client = await squall_client(app)
    resp = await client.get("/")
    assert resp.headers["Content-Type"] == "text/html; charset=latin-1"
    assert await resp.read() == "café".encode("latin-1")


async def test_render_without_context(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2")
    async def func(request: web.Request) -> None:
        pass

    app = app_with({"tmpl.jinja2": "<html><body><p>{{text}}</p></body></html>"})
    app.router.add_get("/", func)
    assert (await get_text(squall_client, app))[2] == "<html><body><p></p></body></html>"


async def test_skip_render_for_response_from_handler(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2", status=202)
    async def func(request: web.Request) -> web.Response:
        return web.Response(text="OK")

    app = app_with({"tmpl.jinja2": "{{text}}"})
    app.router.add_get("/", func)
    assert await get_text(squall_client, app) == (200, "text/plain; charset=utf-8", "OK")


async def test_context_is_response(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2")
    async def func(request: web.Request) -> dict[str, str]:
        raise web.HTTPForbidden()

    app = app_with({"tmpl.jinja2": "template"})
    app.router.add_get("/", func)
    assert (await get_text(squall_client, app))[0] == 403


# -- rendering by hand -------------------------------------------------------------------


async def test_render_template(squall_client: Client) -> None:
    async def func(request: web.Request) -> web.Response:
        return tj.render_template("tmpl.jinja2", request, {"head": "HEAD", "text": "text"})

    app = app_with({"tmpl.jinja2": PAGE})
    app.router.add_get("/", func)
    assert await get_text(squall_client, app) == (200, "text/html; charset=utf-8", RENDERED)


async def test_render_template_async(squall_client: Client) -> None:
    async def func(request: web.Request) -> web.Response:
        return await tj.render_template_async(
            "tmpl.jinja2", request, {"head": "HEAD", "text": "text"}, status=203
        )

    app = app_with({"tmpl.jinja2": PAGE}, enable_async=True)
    app.router.add_get("/", func)
    assert await get_text(squall_client, app) == (203, "text/html; charset=utf-8", RENDERED)


async def test_render_template_custom_status(squall_client: Client) -> None:
    async def func(request: web.Request) -> web.Response:
        return tj.render_template(
            "tmpl.jinja2", request, {"head": "HEAD", "text": "text"}, status=404
        )

    app = app_with({"tmpl.jinja2": PAGE})
    app.router.add_get("/", func)
    assert await get_text(squall_client, app) == (404, "text/html; charset=utf-8", RENDERED)


async def test_render_string_and_async(squall_client: Client) -> None:
    seen: list[str] = []

    async def func(request: web.Request) -> web.Response:
        seen.append(tj.render_string("a.txt", request, {"v": "<1>"}))
        return web.Response(text="ok")

    async def func_async(request: web.Request) -> web.Response:
        seen.append(await tj.render_string_async("a.txt", request, {"v": "<2>"}, app_key=key))
        return web.Response(text="ok")

    key = AppKey("async_env", jinja2.Environment)
    app = app_with({"a.txt": "v={{ v }}"})
    tj.setup(app, app_key=key, enable_async=True, loader=jinja2.DictLoader({"a.txt": "[{{ v }}]"}))
    app.router.add_get("/", func)
    app.router.add_get("/async", func_async)
    client = await squall_client(app)
    assert (await client.get("/")).status == 200
    assert (await client.get("/async")).status == 200
    assert seen == ["v=&lt;1&gt;", "[&lt;2&gt;]"]


# -- errors, exactly aiohttp-jinja2's -------------------------------------------------------


async def test_render_not_initialized() -> None:
    msg = "Template engine is not initialized, call aiohttp_jinja2.setup() first"
    req = make_mocked_request("GET", "/", app=web.Application())
    for render in (tj.render_template, tj.render_string):
        with pytest.raises(web.HTTPInternalServerError) as ctx:
            render("template", req, {})
        assert ctx.value.text == msg
        assert ctx.value.reason == msg
    with pytest.raises(web.HTTPInternalServerError, match="not initialized"):
        await tj.render_template_async("template", req, {})


async def test_template_not_found() -> None:
    app = app_with({})
    req = make_mocked_request("GET", "/", app=app)
    with pytest.raises(web.HTTPInternalServerError) as ctx:
        tj.render_template("template", req, {})
    assert ctx.value.text == "Template 'template' not found"
    assert ctx.value.reason == "Template 'template' not found"
    assert isinstance(ctx.value.__cause__, jinja2.TemplateNotFound)


async def test_render_not_mapping() -> None:
    @tj.template("tmpl.jinja2")
    async def func(request: web.Request) -> int:
        return 123

    app = app_with({"tmpl.jinja2": "tmpl"})
    req = make_mocked_request("GET", "/", app=app)
    with pytest.raises(web.HTTPInternalServerError) as ctx:
        await func(req)  # type: ignore[arg-type]
    assert ctx.value.text == "context should be mapping, not <class 'int'>"
    assert ctx.value.status == 500


@pytest.mark.parametrize(
    ("template_name", "templates", "reason"),
    [
        ("missing.html", {}, "Template 'missing.html' not found"),
        (
            "page.html",
            None,
            "Template engine is not initialized, call aiohttp_jinja2.setup() first",
        ),
    ],
)
async def test_errors_on_the_wire(
    squall_client: Client, template_name: str, templates: dict[str, str] | None, reason: str
) -> None:
    @tj.template(template_name)
    async def func(request: web.Request) -> dict[str, str]:
        return {}

    app = web.Application() if templates is None else app_with(templates)
    app.router.add_get("/", func)
    client = await squall_client(app)
    resp = await client.get("/")
    assert resp.status == 500
    assert resp.reason == reason
    assert await resp.text() == reason
    # the server keeps serving on the same connection
    assert (await client.get("/")).status == 500


async def test_a_broken_template_is_a_plain_500(squall_client: Client, caplog: Any) -> None:
    @tj.template("broken.html")
    async def func(request: web.Request) -> dict[str, str]:
        return {}

    app = app_with({"broken.html": "SECRET-SOURCE {% if %}", "ok.html": "fine"})
    app.router.add_get("/", func)

    @tj.template("ok.html")
    async def ok(request: web.Request) -> dict[str, str]:
        return {}

    app.router.add_get("/ok", ok)
    client = await squall_client(app)
    resp = await client.get("/")
    text = await resp.text()
    assert resp.status == 500
    assert text == "500 Internal Server Error\n\nServer got itself in trouble"
    assert "SECRET" not in text and "Traceback" not in text
    assert "TemplateSyntaxError" in caplog.text  # logged for the operator
    assert (await get_text(squall_client, app, "/ok"))[2] == "fine"


# -- autoescaping -----------------------------------------------------------------------------

XSS = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("setup", "name", "expected"),
    [
        ({}, "t.html", "<html>&lt;script&gt;alert(1)&lt;/script&gt;</html>"),
        ({}, "t.jinja2", "<html>&lt;script&gt;alert(1)&lt;/script&gt;</html>"),
        ({"autoescape": False}, "t.html", f"<html>{XSS}</html>"),
        (
            {"autoescape": jinja2.select_autoescape()},
            "t.htm",
            "<html>&lt;script&gt;alert(1)&lt;/script&gt;</html>",
        ),
        (
            {"autoescape": jinja2.select_autoescape()},
            "t.xml",
            "<html>&lt;script&gt;alert(1)&lt;/script&gt;</html>",
        ),
        ({"autoescape": jinja2.select_autoescape()}, "t.txt", f"<html>{XSS}</html>"),
    ],
)
async def test_autoescape(
    squall_client: Client, setup: dict[str, Any], name: str, expected: str
) -> None:
    @tj.template(name)
    async def func(request: web.Request) -> dict[str, str]:
        return {"text": request.query["t"]}

    app = app_with({name: "<html>{{text}}</html>"}, **setup)
    app.router.add_get("/", func)
    client = await squall_client(app)
    resp = await client.get("/", params={"t": XSS})
    assert await resp.text() == expected


# -- context processors (test_context_processors.py) -------------------------------------------


async def test_context_processors(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2")
    async def func(request: web.Request) -> dict[str, int]:
        return {"bar": 2}

    async def processor(request: web.Request) -> dict[str, Any]:
        return {"foo": 1, "bar": "should be overwriten"}

    app = web.Application(middlewares=[tj.context_processors_middleware])
    tj.setup(
        app,
        loader=jinja2.DictLoader(
            {"tmpl.jinja2": "foo: {{ foo }}, bar: {{ bar }}, path: {{ request.path }}"}
        ),
    )
    app[tj.APP_CONTEXT_PROCESSORS_KEY] = (tj.request_processor, processor)
    app.router.add_get("/", func)
    assert (await get_text(squall_client, app))[2] == "foo: 1, bar: 2, path: /"


async def test_nested_context_processors(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2")
    async def func(request: web.Request) -> dict[str, int]:
        return {"bar": 2}

    async def subprocessor(request: web.Request) -> dict[str, Any]:
        return {"foo": 1, "bar": "should be overwriten"}

    async def processor(request: web.Request) -> dict[str, Any]:
        return {"baz": 5, "foo": "the sub-app's wins"}

    subapp = web.Application(middlewares=[tj.context_processors_middleware])
    tj.setup(
        subapp,
        loader=jinja2.DictLoader(
            {
                "tmpl.jinja2": "foo: {{ foo }}, bar: {{ bar }}, baz: {{ baz }}, "
                "path: {{ request.path }}"
            }
        ),
    )
    subapp[tj.APP_CONTEXT_PROCESSORS_KEY] = (tj.request_processor, subprocessor)
    subapp.router.add_get("/", func)
    app = web.Application(middlewares=[tj.context_processors_middleware])
    tj.setup(app, loader=jinja2.DictLoader({}))
    app[tj.APP_CONTEXT_PROCESSORS_KEY] = (tj.request_processor, processor)
    app.add_subapp("/sub/", subapp)
    status, _, text = await get_text(squall_client, app, "/sub/")
    assert (status, text) == (200, "foo: 1, bar: 2, baz: 5, path: /sub/")


async def test_context_processors_new_setup_style(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2")
    async def func(request: web.Request) -> dict[str, int]:
        return {"bar": 2}

    async def processor(request: web.Request) -> dict[str, Any]:
        return {"foo": 1, "bar": "should be overwriten"}

    app = app_with(
        {"tmpl.jinja2": "foo: {{ foo }}, bar: {{ bar }}, path: {{ request.path }}"},
        context_processors=(tj.request_processor, processor),
    )
    app.router.add_get("/", func)
    assert (await get_text(squall_client, app))[2] == "foo: 1, bar: 2, path: /"


async def test_context_not_tainted(squall_client: Client) -> None:
    global_context = {"version": 1}

    @tj.template("tmpl.jinja2")
    async def func(request: web.Request) -> dict[str, int]:
        return global_context

    async def processor(request: web.Request) -> dict[str, Any]:
        return {"foo": 1}

    app = app_with({"tmpl.jinja2": "foo: {{ foo }}"}, context_processors=[processor])
    app.router.add_get("/", func)
    assert (await get_text(squall_client, app))[2] == "foo: 1"
    assert global_context == {"version": 1}


async def test_processors_run_per_request(squall_client: Client) -> None:
    calls: list[str] = []

    async def processor(request: web.Request) -> dict[str, Any]:
        calls.append(request.path)
        return {"n": len(calls)}

    @tj.template("n.html")
    async def func(request: web.Request) -> dict[str, Any]:
        return {}

    app = app_with({"n.html": "{{ n }}"}, context_processors=[processor])
    app.router.add_get("/{x}", func)
    client = await squall_client(app)
    assert await (await client.get("/a")).text() == "1"
    assert await (await client.get("/b")).text() == "2"
    assert calls == ["/a", "/b"]


# -- helpers (test_jinja_globals.py, test_jinja_filters.py) -----------------------------------


async def test_jinja_filters(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2")
    async def index(request: web.Request) -> dict[str, Any]:
        return {}

    app = app_with({"tmpl.jinja2": "{{ 5|add_2 }}"}, filters={"add_2": lambda v: v + 2})
    app.router.add_get("/", index)
    assert (await get_text(squall_client, app))[2] == "7"


async def _other(request: web.Request) -> web.Response:
    return web.Response()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ url('other', name='John_Doe')}}", "/user/John_Doe"),
        ("{{ url('other', name='a b/c')}}", "/user/a%20b/c"),  # aiohttp's url_for quoting
        ("{{ url('uid', arg=1)}}", "/uid/1"),
        ("{{ url('index', query_={'foo': 'bar'})}}", "/?foo=bar"),
        ("{{ url('uid', arg=2, query_={'a': 'x y', 'b': '&'})}}", "/uid/2?a=x+y&amp;b=%26"),
        ("{{ url('index', query_={}) }}", "/"),
    ],
)
async def test_url(squall_client: Client, source: str, expected: str) -> None:
    @tj.template("tmpl.jinja2")
    async def index(request: web.Request) -> dict[str, Any]:
        return {}

    app = app_with({"tmpl.jinja2": source})
    app.router.add_get("/", index, name="index")
    app.router.add_get("/user/{name}", _other, name="other")
    app.router.add_get("/uid/{arg}", _other, name="uid")
    assert (await get_text(squall_client, app))[2] == expected


@pytest.mark.parametrize(
    ("value", "shown"), [("True", "[<class 'bool'>] True"), ("1.5", "[<class 'float'>] 1.5")]
)
async def test_url_param_forbidden_type(squall_client: Client, value: str, shown: str) -> None:
    async def index(request: web.Request) -> web.Response:
        with pytest.raises(TypeError) as ctx:
            tj.render_template("tmpl.jinja2", request, {})
        return web.Response(text=str(ctx.value))

    app = app_with({"tmpl.jinja2": "{{ url('other', arg=" + value + ")}}"})
    app.router.add_get("/", index)
    app.router.add_get("/uid/{arg}", _other, name="other")
    status, _, text = await get_text(squall_client, app)
    assert (status, text) == (200, f"argument value should be str or int, got arg -> {shown}")


async def test_helpers_disabled(squall_client: Client) -> None:
    async def index(request: web.Request) -> web.Response:
        with pytest.raises(jinja2.UndefinedError, match="'url' is undefined"):
            tj.render_template("tmpl.jinja2", request, {})
        return web.Response(text="raised")

    app = app_with({"tmpl.jinja2": "{{ url('index')}}"}, default_helpers=False)
    app.router.add_get("/", index, name="index")
    assert (await get_text(squall_client, app))[2] == "raised"


@pytest.mark.parametrize(
    ("root", "path", "expected"),
    [
        ("/static", "whatever.js", "/static/whatever.js"),
        ("/static/", "/css/a.css", "/static/css/a.css"),
        ("https://cdn.example.com", "x.png", "https://cdn.example.com/x.png"),
    ],
)
async def test_static(squall_client: Client, root: str, path: str, expected: str) -> None:
    @tj.template("tmpl.jinja2")
    async def index(request: web.Request) -> dict[str, Any]:
        return {"p": path}

    app = app_with({"tmpl.jinja2": "{{ static(p) }}"})
    app[tj.static_root_key] = root
    app.router.add_get("/", index)
    assert (await get_text(squall_client, app))[2] == expected


async def test_static_var_missing(squall_client: Client) -> None:
    async def index(request: web.Request) -> web.Response:
        with pytest.raises(RuntimeError, match="static_root_key") as ctx:
            tj.render_template("tmpl.jinja2", request, {})
        return web.Response(text=str(ctx.value))

    app = app_with({"tmpl.jinja2": "{{ static('whatever.js') }}"})
    app.router.add_get("/", index)
    assert (await get_text(squall_client, app))[2] == (
        "app does not define a static root url, you need to set the url root "
        "with app[aiohttp_jinja2.static_root_key] = '<static root>'."
    )


async def test_static_root_url_is_read_with_a_deprecation_warning(squall_client: Client) -> None:
    async def index(request: web.Request) -> web.Response:
        with pytest.warns(DeprecationWarning, match="'static_root_url' is deprecated") as rec:
            resp = tj.render_template("tmpl.jinja2", request, {})
        assert len(rec) == 1
        return resp

    app = app_with({"tmpl.jinja2": "{{ static('whatever.js') }}"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the str key's own NotAppKeyWarning
        app["static_root_url"] = "/old/"
    app.router.add_get("/", index)
    assert (await get_text(squall_client, app))[2] == "/old/whatever.js"


async def test_static_root_key_wins_over_static_root_url(squall_client: Client) -> None:
    @tj.template("tmpl.jinja2")
    async def index(request: web.Request) -> dict[str, Any]:
        return {}

    app = app_with({"tmpl.jinja2": "{{ static('a.js') }}"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app["static_root_url"] = "/old"
    app[tj.static_root_key] = "/new"
    app.router.add_get("/", index)
    assert (await get_text(squall_client, app))[2] == "/new/a.js"
