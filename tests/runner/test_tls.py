"""TLS through ``ssl_context``: sites, run_app, and what the request sees.

The certificates are made by the ``certs`` fixture (conftest.py) for this run.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from squall import web
from squall.framework.lowlevel import Server
from squall.runner import ServerRunner
from tests.runner.conftest import TIMEOUT, Certs, spawn


async def describe(request: web.BaseRequest) -> web.Response:
    peercert = request.transport.get_extra_info("peercert")
    subject = dict(x[0] for x in peercert["subject"]) if peercert else None
    return web.json_response(
        {
            "secure": request.secure,
            "scheme": request.scheme,
            "url": str(request.url),
            "peer": subject,
            "tls": request.transport.get_extra_info("ssl_object") is not None,
        }
    )


def app() -> web.Application:
    application = web.Application()
    application.router.add_get("/", describe)
    return application


@asynccontextmanager
async def serving(runner: web.BaseRunner, make_site: Any) -> AsyncIterator[web.BaseSite]:
    await runner.setup()
    try:
        site = make_site(runner)
        await site.start()
        yield site
    finally:
        await runner.cleanup()


async def get_json(url: str, ctx: ssl.SSLContext | bool) -> Any:
    async with httpx.AsyncClient(verify=ctx) as client:
        resp = await client.get(url, timeout=TIMEOUT)
    assert resp.status_code == 200
    return resp.json()


async def test_tcp_site_serves_https(certs: Certs) -> None:
    ctx = certs.server_context()
    async with serving(
        web.AppRunner(app()), lambda r: web.TCPSite(r, "127.0.0.1", 0, ssl_context=ctx)
    ) as site:
        assert isinstance(site, web.TCPSite)
        assert site.name == f"https://127.0.0.1:{site.port}"
        data = await get_json(f"https://localhost:{site.port}/", certs.client_context())
        assert data == {
            "secure": True,
            "scheme": "https",
            "url": f"https://localhost:{site.port}/",
            "peer": None,  # no client certificate asked for
            "tls": True,
        }
        # plain HTTP to the TLS port gets no answer in clear
        reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        data_back = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
        assert b"200 OK" not in data_back


async def test_plain_http_is_not_secure() -> None:
    async with serving(web.AppRunner(app()), lambda r: web.TCPSite(r, "127.0.0.1", 0)) as site:
        assert site.name.startswith("http://")
        data = await get_json(f"{site.name}/", False)
        assert (data["secure"], data["scheme"], data["tls"]) == (False, "http", False)


async def test_client_certificate_reaches_the_request(certs: Certs) -> None:
    ctx = certs.server_context(want_client_cert=True)
    async with serving(
        web.AppRunner(app()), lambda r: web.TCPSite(r, "127.0.0.1", 0, ssl_context=ctx)
    ) as site:
        url = f"https://127.0.0.1:{site.port}/"
        data = await get_json(url, certs.client_context(with_cert=True))
        assert data["peer"] == {"commonName": "squall test client"}
        assert data["secure"] is True
        # without a certificate the handshake fails: no request reaches the app
        with pytest.raises(httpx.HTTPError):
            await get_json(url, certs.client_context())


async def test_sock_and_unix_sites_take_ssl_context(certs: Certs, tmp_path: Path) -> None:
    ctx = certs.server_context()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app())
    await runner.setup()
    try:
        sock_site = web.SockSite(runner, sock, ssl_context=ctx)
        await sock_site.start()
        port = sock.getsockname()[1]
        assert sock_site.name == f"https://127.0.0.1:{port}"
        data = await get_json(f"https://127.0.0.1:{port}/", certs.client_context())
        assert (data["secure"], data["scheme"]) == (True, "https")

        path = tmp_path / "tls.sock"
        unix_site = web.UnixSite(runner, str(path), ssl_context=ctx)
        await unix_site.start()
        assert unix_site.name == f"https://unix:{path}:"
        reader, writer = await asyncio.open_unix_connection(
            str(path), ssl=certs.client_context(), server_hostname="localhost"
        )
        writer.write(b"GET / HTTP/1.1\r\nHost: here\r\nConnection: close\r\n\r\n")
        raw = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert json.loads(body)["scheme"] == "https"
    finally:
        await runner.cleanup()
        sock.close()


async def test_low_level_server_over_tls(certs: Certs) -> None:
    runner = ServerRunner(Server(describe))
    ctx = certs.server_context()
    async with serving(runner, lambda r: web.TCPSite(r, "127.0.0.1", 0, ssl_context=ctx)) as site:
        data = await get_json(f"https://127.0.0.1:{site.port}/", certs.client_context())
        assert (data["secure"], data["scheme"]) == (True, "https")


@pytest.mark.child
async def test_run_app_with_ssl_context(certs: Certs, tmp_path: Path) -> None:
    program = f"""\
import ssl
from squall import web

async def handle(request):
    return web.Response(text=request.scheme)

ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain({str(certs.server_cert)!r}, {str(certs.server_key)!r})
app = web.Application()
app.router.add_get("/", handle)
web.run_app(app, host="127.0.0.1", port=0, ssl_context=ctx)
"""
    async with spawn(program, tmp_path) as child:
        banner = await child.line()
        port = int(banner.split(":")[-1].split()[0])
        assert banner == f"======== Running on https://127.0.0.1:{port} ========"
        async with httpx.AsyncClient(verify=certs.client_context()) as client:
            resp = await client.get(f"https://127.0.0.1:{port}/")
        assert (resp.status_code, resp.text) == (200, "https")
