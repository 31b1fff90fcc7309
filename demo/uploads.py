"""The demo's forms and uploads: the cheatsheet's login form on a page of its own, and
an upload page with a progress bar.

``/form`` posts the cheatsheet's ``do_login`` form (``demo/app.py``) url-encoded and as
``multipart/form-data``: ``await request.post()`` reads both. ``/upload`` sends a file
with ``XMLHttpRequest`` (whose ``upload.onprogress`` drives a ``<progress>``); the handler
streams it into a temporary folder the app makes at start and removes at cleanup
(``squall.framework.uploads.save_uploads``: a server-chosen name, a size limit) and
answers what it stored as JSON.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from squall import templates as aiohttp_jinja2
from squall import web
from squall.framework.uploads import save_uploads

MAX_FILE = 64 * 1024**2  # bytes per file
MAX_BODY = MAX_FILE + 64 * 1024  # the whole request: one file and the form's framing

uploads_key = web.AppKey("uploads", Path)


async def upload_folder(app: web.Application) -> AsyncIterator[None]:
    """``app.cleanup_ctx``: a private temporary folder for the uploads, removed at the end."""
    app[uploads_key] = Path(tempfile.mkdtemp(prefix="squall-demo-uploads-"))
    yield
    shutil.rmtree(app[uploads_key], ignore_errors=True)


# File uploads: streamed to a folder, with a size limit
async def upload(request: web.Request) -> web.Response:
    reader = await request.multipart()
    form = await save_uploads(reader, request.app[uploads_key], max_size=MAX_FILE)
    if not form.files:
        raise web.HTTPBadRequest(text="no file in the form")
    # stored.path is the server's name for it; stored.filename is the client's, as text
    files = [{"filename": f.filename, "size": f.size, "sha256": f.sha256} for f in form.files]
    return web.json_response({"files": files})


@aiohttp_jinja2.template("form.html")
async def form_page(request: web.Request) -> dict[str, str]:
    return {}


@aiohttp_jinja2.template("upload.html")
async def upload_page(request: web.Request) -> dict[str, int]:
    return {"max_file": MAX_FILE}


def setup_uploads(app: web.Application) -> None:
    app.cleanup_ctx.append(upload_folder)
    app.add_routes(
        [
            web.get("/form", form_page, name="form_page"),
            web.get("/upload", upload_page, name="upload_page"),
            web.post("/upload", upload, name="upload", max_body=MAX_BODY),
        ]
    )
