"""Each endpoint of the demo app (``demo/app.py``), over a real socket, without a browser."""

from __future__ import annotations

from demo.app import make_app


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
    ):
        assert text.count(f'id="{element_id}"') == 1


async def test_index_is_rendered_from_the_template(squall_client) -> None:
    client = await squall_client(make_app())
    text = await (await client.get("/")).text()
    # the helpers: url() for the form, static() for the script
    assert '<form id="login-form" method="post" action="/login">' in text
    assert '<script src="/static/checks.js"></script>' in text
    # each snippet is its handler's source, escaped by the template
    assert "async def handle_json(request: web.Request) -&gt; web.Response:" in text
    assert "@routes.view(&#34;/view&#34;)\nclass MyView(web.View):" in text
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
