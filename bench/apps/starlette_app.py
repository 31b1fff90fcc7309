"""The starlette app of ../shared/bench/peers (apps/starlette_app.py, 2026-11-24), copied
(reformatted by ruff): the fastest peer on this machine kind, served by granian
(run.py server granian-starlette; tools/ensure-peers.sh builds its venv)."""

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def plaintext(request):
    return PlainTextResponse("Hello, World!")


async def json_(request):
    return JSONResponse({"message": "Hello, World!"})


async def hello(request):
    return PlainTextResponse(f"Hello, {request.path_params['name']}")


async def echo(request):
    return PlainTextResponse(str(len(await request.body())))


app = Starlette(
    routes=[
        Route("/", plaintext),
        Route("/json", json_),
        Route("/hello/{name}", hello),
        Route("/echo", echo, methods=["POST"]),
    ]
)
