"""The upload-to-folder helper: server-chosen names, size limit, sha256, and no
file left behind on a limit or a client that goes away."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from framework._wire import exchange, serve
from squall import web
from squall.framework.uploads import safe_name, save_part, save_uploads

from .conftest import field, file, multipart, post

EVIL = [
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "C:win.ini",
    "..\\..\\boot.ini",
    "a\u202egnp.exe",
    ".",
    "..",
    "",
    "x" * 5000,
    "~/.ssh/authorized_keys",
    "name.tar.gz",
]


@pytest.mark.parametrize("name", EVIL)
def test_safe_name_is_the_servers(name: str) -> None:
    chosen = safe_name(name)
    stem, _, ext = chosen.partition(".")
    assert len(stem) == 32 and all(c in "0123456789abcdef" for c in stem)
    assert "/" not in chosen and "\\" not in chosen and ":" not in chosen and "\x00" not in chosen
    assert ext == {
        "C:\\Windows\\win.ini": "ini",
        "C:win.ini": "ini",
        "..\\..\\boot.ini": "ini",
        "name.tar.gz": "gz",
        "a\u202egnp.exe": "exe",
    }.get(name, "")
    assert safe_name(name) != chosen  # fresh each time


def app_factory(folder: Path) -> Any:
    def factory(w: Any) -> Any:
        async def one(request: Any) -> Any:
            reader = await request.multipart()
            part = await reader.next()
            stored = await save_part(part, folder, max_size=10_000)
            assert stored.path.parent == folder
            return w.json_response(
                [
                    stored.name,
                    stored.filename,
                    stored.field,
                    stored.size,
                    stored.sha256,
                    stored.content_type,
                    stored.path.read_bytes().decode("latin-1"),
                ]
            )

        async def many(request: Any) -> Any:
            saved = await save_uploads(
                await request.multipart(), folder, max_size=10_000, max_files=2
            )
            return w.json_response(
                {
                    "fields": list(saved.fields.items()),
                    "files": [[s.filename, s.size, s.path.name] for s in saved.files],
                }
            )

        app = w.Application()
        app.router.add_post("/one", one)
        app.router.add_post("/many", many)
        return app

    return factory


@pytest.mark.parametrize("name", EVIL[:6])
async def test_hostile_filenames_stay_in_the_folder(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "up"
    folder.mkdir()
    async with serve(web, app_factory(folder)) as port, httpx.AsyncClient() as client:
        reply = await client.post(
            f"http://127.0.0.1:{port}/one", files={"doc": (name, b"payload", "text/plain")}
        )
    stored_name, filename, field_name, size, digest, ctype, content = reply.json()
    assert [p.name for p in folder.iterdir()] == [stored_name]
    assert list(tmp_path.iterdir()) == [folder]  # nothing written beside it
    assert filename == name  # kept as metadata only
    assert (field_name, size, ctype, content) == ("doc", 7, "text/plain", "payload")
    assert digest == hashlib.sha256(b"payload").hexdigest()
    assert os.stat(folder / stored_name).st_mode & 0o777 == 0o600


async def test_limit_leaves_no_file(tmp_path: Path) -> None:
    async with serve(web, app_factory(tmp_path)) as port:
        reply = await exchange(port, post("/one", multipart([file("f", "big.bin", b"b" * 10_001)])))
        many = await exchange(
            port,
            post(
                "/many",
                multipart(
                    [
                        file("a", "a.txt", b"1"),
                        field("n", b"v"),
                        file("b", "b.txt", b"2"),
                        file("c", "c.txt", b"3"),
                    ]
                ),
            ),
        )
        fine = await exchange(
            port, post("/many", multipart([file("a", "a.txt", b"1"), field("n", b"v")]))
        )
    assert reply.status == 413
    assert many.status == 413 and many.body == b"More than 2 files"
    assert fine.json()["fields"] == [["n", "v"]] and fine.json()["files"][0][:2] == ["a.txt", 1]
    assert [p.name for p in tmp_path.iterdir()] == [
        fine.json()["files"][0][2]
    ]  # the failed forms left nothing


async def test_client_going_away_leaves_no_file(tmp_path: Path) -> None:
    body = multipart([file("f", "f.bin", b"q" * 9000)])
    async with serve(web, app_factory(tmp_path)) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(post("/one", body)[:-4000])
        await writer.drain()
        for _ in range(500):  # hang guard: wait for the partial file to appear
            if list(tmp_path.iterdir()):
                break
            await asyncio.sleep(0.01)
        assert len(list(tmp_path.iterdir())) == 1
        writer.transport.abort()
        for _ in range(500):
            if not list(tmp_path.iterdir()):
                break
            await asyncio.sleep(0.01)
    assert list(tmp_path.iterdir()) == []
