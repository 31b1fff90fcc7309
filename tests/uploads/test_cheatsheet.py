"""The cheatsheet's "Accessing POST data" and "File uploads" sections, verbatim but
for the import line and the upload folder, run on Squall and on aiohttp."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web as aiohttp_web

from framework._wire import serve
from squall import web as squall_web

SPOOL = tempfile.mkdtemp(prefix="yarrr-media-")

web: Any = squall_web  # the handlers below see the module under test


# fmt: off
# ruff: noqa: F841, UP032
# --- verbatim: Accessing POST data -------------------------------------------------
async def do_login(request):  # type: ignore[no-untyped-def]
    data = await request.post()
    login = data['login']
    password = data['password']


# --- verbatim: File uploads (the folder is SPOOL instead of /spool/yarrr-media/mp3/) -
async def store_mp3_handler(request):  # type: ignore[no-untyped-def]
    reader = await request.multipart()
    # /!\ Don't forget to validate your inputs /!\
    # reader.next() will `yield` the fields of your form
    field = await reader.next()
    assert field.name == 'name'
    name = await field.read(decode=True)
    field = await reader.next()
    assert field.name == 'mp3'
    filename = field.filename
    # You cannot rely on Content-Length if transfer is chunked.
    size = 0
    with open(os.path.join(SPOOL, filename), 'wb') as f:
        while True:
            chunk = await field.read_chunk()  # 8192 bytes by default.
            if not chunk:
                break
            size += len(chunk)
            f.write(chunk)
    return web.Response(text='{} sized of {} successfully stored'.format(filename, size))
# --- end of the cheatsheet ---------------------------------------------------------
# fmt: on


def factory(w: Any) -> Any:
    global web
    web = w

    async def login(request: Any) -> Any:
        await do_login(request)  # the snippet answers nothing: it must not fail
        return w.Response(text="logged in")

    app = w.Application()
    app.router.add_post("/login", login)
    app.router.add_post("/mp3", store_mp3_handler)
    return app


MP3 = bytes(range(256)) * 1000 + b"\r\n--tail"


@pytest.mark.parametrize("w", [squall_web, aiohttp_web], ids=["squall", "aiohttp"])
async def test_cheatsheet_with_httpx(w: Any) -> None:
    async with serve(w, factory) as port, httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}"
        ok = await client.post(url + "/login", data={"login": "bob", "password": "x"})
        assert (ok.status_code, ok.text) == (200, "logged in")
        missing = await client.post(url + "/login", data={"login": "bob"})
        assert missing.status_code == 500  # data['password'] is a KeyError on both
        reply = await client.post(
            url + "/mp3",
            data={"name": "song"},
            files={"mp3": (f"{w.__name__}.mp3", MP3, "audio/mpeg")},
        )
        assert reply.status_code == 200
        assert reply.text == f"{w.__name__}.mp3 sized of {len(MP3)} successfully stored"
        assert Path(SPOOL, f"{w.__name__}.mp3").read_bytes() == MP3


@pytest.mark.parametrize("w", [squall_web, aiohttp_web], ids=["squall", "aiohttp"])
async def test_cheatsheet_with_curl(w: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.mp3"
    src.write_bytes(MP3 * 20)
    async with serve(w, factory) as port:
        url = f"http://127.0.0.1:{port}"
        proc = await asyncio.create_subprocess_exec(
            "curl",
            "-sS",
            "-F",
            "name=song",
            "-F",
            f"mp3=@{src};filename=curl-{w.__name__}.mp3",
            url + "/mp3",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        # chunked too: "You cannot rely on Content-Length if transfer is chunked."
        proc2 = await asyncio.create_subprocess_exec(
            "curl",
            "-sS",
            "-H",
            "Transfer-Encoding: chunked",
            "-F",
            "name=song",
            "-F",
            f"mp3=@{src};filename=chunked-{w.__name__}.mp3",
            url + "/mp3",
            stdout=asyncio.subprocess.PIPE,
        )
        out2, _ = await asyncio.wait_for(proc2.communicate(), 30)
        login = await asyncio.create_subprocess_exec(
            "curl",
            "-sS",
            "-d",
            "login=bob&password=x",
            url + "/login",
            stdout=asyncio.subprocess.PIPE,
        )
        out3, _ = await asyncio.wait_for(login.communicate(), 30)
    size = len(MP3) * 20
    assert out.decode() == f"curl-{w.__name__}.mp3 sized of {size} successfully stored"
    assert out2.decode() == f"chunked-{w.__name__}.mp3 sized of {size} successfully stored"
    assert out3 == b"logged in"
    assert Path(SPOOL, f"chunked-{w.__name__}.mp3").read_bytes() == MP3 * 20
