"""The template benchmark app. Usage: python templates_app.py squall|aiohttp PORT

The same code on both: ``squall.web`` + ``squall.templates`` or ``aiohttp.web`` +
``aiohttp_jinja2``. Two pages from the same templates (a layout, a child template
with a 20-row table, ``url()`` links, autoescaped values):

- ``GET /page``: ``@template`` on a handler returning the context;
- ``GET /ctx``: the same page with a context processor (``request_processor``) and
  ``render_template`` by hand.
"""

import sys

import jinja2
import uvloop

if sys.argv[1] == "squall":
    from squall import templates as aiohttp_jinja2
    from squall import web
else:
    import aiohttp_jinja2
    from aiohttp import web

LAYOUT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{% block title %}{% endblock %} · shop</title></head>
<body>
<nav><a href="{{ url('page') }}">home</a> <a href="{{ url('item', id=1) }}">first</a></nav>
<main>{% block body %}{% endblock %}</main>
<footer>{{ footer }}</footer>
</body>
</html>
"""
PAGE = """{% extends "layout.html" %}
{% block title %}{{ title }}{% endblock %}
{% block body %}
<h1>{{ title }}</h1>
{% if request %}<p>path: {{ request.path }}</p>{% endif %}
<table>
{% for item in items %}<tr class="{{ loop.cycle('odd', 'even') }}">
<td><a href="{{ url('item', id=item.id) }}">{{ item.name }}</a></td>
<td>{{ "%.2f"|format(item.price) }}</td><td>{{ item.note }}</td></tr>
{% endfor %}</table>
{% endblock %}
"""
ITEMS = [
    {"id": i, "name": f"Item <{i}>", "price": i * 1.25, "note": "fish & chips" if i % 3 else ""}
    for i in range(1, 21)
]


@aiohttp_jinja2.template("page.html")
async def page(request):
    return {"title": "Catalogue", "items": ITEMS, "footer": "© squall & co"}


async def ctx(request):
    context = {"title": "Catalogue", "items": ITEMS, "footer": "© squall & co"}
    return aiohttp_jinja2.render_template("page.html", request, context)


async def item(request):
    return web.Response(text=request.match_info["id"])


app = web.Application()
aiohttp_jinja2.setup(
    app,
    loader=jinja2.DictLoader({"layout.html": LAYOUT, "page.html": PAGE}),
)
app.router.add_get("/page", page, name="page")
app.router.add_get("/item/{id}", item, name="item")

sub = web.Application()
aiohttp_jinja2.setup(
    sub,
    loader=jinja2.DictLoader({"layout.html": LAYOUT, "page.html": PAGE}),
    context_processors=[aiohttp_jinja2.request_processor],
)
sub.router.add_get("/", ctx, name="page")
sub.router.add_get("/item/{id}", item, name="item")
app.add_subapp("/ctx", sub)

if __name__ == "__main__":
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(sys.argv[2]),
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )
