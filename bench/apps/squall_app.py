"""The benchmark app on Squall. Usage: python squall_app.py PORT [--middleware] [--access-log]

Identical to aiohttp_app.py apart from the import line (and isort's blank
line), so the two measure the frameworks and nothing else.
"""

import logging
import os
import sys

import uvloop

from squall import web

routes = web.RouteTableDef()


@routes.get("/")
async def plaintext(request):
    return web.Response(text="Hello, World!")


@routes.get("/json")
async def json_(request):
    return web.json_response({"message": "Hello, World!"})


@routes.get("/hello/{name}")
async def hello(request):
    return web.Response(text=f"Hello, {request.match_info['name']}")


@routes.post("/echo")
async def echo(request):
    return web.Response(text=str(len(await request.read())))


@web.middleware
async def passthrough(request, handler):
    return await handler(request)


# --middleware: one no-op middleware (its cost); --access-log: the default access-log
# format written to a handler that discards it (the formatting cost counts)
app = web.Application(middlewares=[passthrough] if "--middleware" in sys.argv else [])
app.add_routes(routes)
access_log = None
if "--access-log" in sys.argv:
    access_log = logging.getLogger("bench.access")
    access_log.setLevel(logging.INFO)
    access_log.addHandler(logging.StreamHandler(open(os.devnull, "w")))  # noqa: SIM115

if __name__ == "__main__":
    # uvloop on both sides: the comparison is between frameworks, not event loops
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        access_log=access_log,
        print=None,
        loop=uvloop.new_event_loop(),
    )
