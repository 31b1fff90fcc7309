"""``StaticResource``: the files under a directory, served under a URL prefix.

SECURITY: the boundary. No request may read a file outside the directory:

1. The name from the URL (``filename``: the path after the prefix, decoded) is
   refused (404) if it holds a NUL, a backslash, a ``.`` or ``..`` segment, a
   Windows drive (``C:``), or is absolute, before the file system is asked.
2. The joined path is resolved (symlinks followed) and must still lie under
   the resolved directory; with ``follow_symlinks=True`` it is the path before
   resolving that must (the URL cannot climb out, a link may point anywhere,
   as aiohttp defines the option).
3. A directory is a 403 unless ``show_index``; its index page escapes every name
   (bytes that are not UTF-8 shown as U+FFFD). A name the file system refuses
   (too long, a loop, a file as a directory) is a 404.
4. What remains is a regular file, sent by ``FileResponse`` (which refuses
   anything that is not a regular file, and never follows a symlinked
   precompressed sibling).

Lookup, stat, open and a small file's read happen in one executor call. A small
file served before is answered on the loop (``_hot``): one stat(2) of the name
joined to the root must find the very inode the lookup found (device and inode
equal), and ``SMALL_FILES`` must hold its unchanged bytes; anything else goes
through the full lookup again. SECURITY: so the cache can only ever give the
bytes of a file that passed rules 1-4 and has not changed since.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import os
import posixpath
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any

from yarl import URL

from squall.framework.exceptions import HTTPForbidden, HTTPNotFound
from squall.framework.fileresponse import (
    DEFAULT_CHUNK_SIZE,
    FileResponse,
    _Asked,
    _Plan,
    plan_cached,
    plan_file,
    remember,
)
from squall.framework.response import Response
from squall.framework.routing.resources import (
    AbstractRoute,
    PrefixResource,
    ResourceRoute,
    _Resolved,
    quote_path,
    unquote_path_safe,
)
from squall.http import hdrs

if TYPE_CHECKING:
    from squall.framework.request import Request
    from squall.framework.streamresponse import StreamResponse

_DRIVE = re.compile(r"[A-Za-z]:")
HOT_NAMES = 1024  # names a static route remembers the lookup of


def _shown(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 become U+FFFD (never a 500)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _href(path: str) -> str:
    """A URL path for a file name: percent-encoded; a name that is not UTF-8 by
    its own bytes (``%FF``), as ``quote_path`` cannot take a surrogate."""
    if path.isascii() or _shown(path) == path:
        return quote_path(path)
    return urllib.parse.quote(path.encode("utf-8", "surrogateescape"), safe="/")


def safe_name(filename: str) -> bool:
    """True when a decoded URL name can only name something under the root (rule 1)."""
    if "\x00" in filename or "\\" in filename or filename.startswith("/"):
        return False
    parts = filename.split("/")
    if _DRIVE.match(parts[0]):
        return False
    return not any(part in (".", "..") for part in parts)


class StaticResource(PrefixResource):
    """Files under ``directory``, answered for GET and HEAD under ``prefix``."""

    VERSION_KEY = "v"

    def __init__(
        self,
        prefix: str,
        directory: str | os.PathLike[str],
        *,
        name: str | None = None,
        expect_handler: Any = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> None:
        super().__init__(prefix, name=name)
        try:
            root = Path(directory).expanduser().resolve(strict=True)
        except FileNotFoundError as error:
            raise ValueError(f"'{directory}' does not exist") from error
        if not root.is_dir():
            raise ValueError(f"'{directory}' is not a directory")
        self._directory = root
        self._show_index = show_index
        self._chunk_size = chunk_size
        self._follow_symlinks = follow_symlinks
        self._expect_handler = expect_handler
        self._append_version = append_version
        self._root = str(root)
        # PERF: name -> (the file found, its path, device, inode), for small files
        # served before; bounded, the oldest names make room
        self._hot: dict[str, tuple[Path, str, int, int]] = {}
        self._routes: dict[str, AbstractRoute] = {
            method: ResourceRoute(
                method,
                self._handle,
                self,  # type: ignore[arg-type]
                expect_handler=expect_handler,
            )
            for method in (hdrs.METH_GET, hdrs.METH_HEAD)
        }
        # aiohttp's name: aiohttp-cors adds OPTIONS through _routes and this set
        self._allowed_methods = set(self._routes)
        self._url_prefix: tuple[str, str] | None = None  # (prefix, its URL form)

    # -- routing -------------------------------------------------------------

    def resolve_path(self, method: str, path: str) -> _Resolved:
        if path != self._prefix and not path.startswith(self._prefix2):
            return None, None, set()
        if "/.." in path:
            # a path that climbs out of the prefix (/static/../x) is not this
            # resource's, as aiohttp judges it: later routes may take it; one that
            # stays under it still ends in a 404 (rule 1)
            normal = posixpath.normpath(path)
            if normal != self._prefix and not normal.startswith(self._prefix2):
                return None, None, set()
        route = self._routes.get(method)
        if route is None:
            return None, None, self._allowed_methods
        filename = unquote_path_safe(path[len(self._prefix) + 1 :])
        return {"filename": filename}, route, self._allowed_methods

    def set_options_route(self, handler: Any) -> None:
        """Answer OPTIONS under the prefix too (CORS preflights)."""
        if hdrs.METH_OPTIONS in self._routes:
            raise RuntimeError("OPTIONS route was set already")
        self._routes[hdrs.METH_OPTIONS] = ResourceRoute(
            hdrs.METH_OPTIONS,
            handler,
            self,  # type: ignore[arg-type]
            expect_handler=self._expect_handler,
        )
        self._allowed_methods.add(hdrs.METH_OPTIONS)

    def url_for(  # type: ignore[override]
        self, *, filename: str | os.PathLike[str], append_version: bool | None = None
    ) -> URL:
        """The URL of ``filename``; with ``append_version``, ``?v=`` its content's hash."""
        if append_version is None:
            append_version = self._append_version
        name = str(filename).lstrip("/")
        url = URL.build(path=self._encoded_prefix(), encoded=True) / name
        if append_version:
            path = self._locate(name)
            try:
                if path is not None and path.is_file():
                    with path.open("rb") as f:
                        digest = hashlib.sha256(f.read()).digest()
                    version = base64.urlsafe_b64encode(digest).decode()
                    return url.with_query({self.VERSION_KEY: version})
            except OSError:  # unreadable, or a name too long: the URL without a version
                pass
        return url

    def _encoded_prefix(self) -> str:
        """The prefix as a URL writes it: non-ASCII and spaces percent-encoded, the
        escapes it was registered with (``%2F``) kept; matching uses the decoded form.

        Cached for the prefix of the moment (a sub-application adds its own later).
        """
        cached = self._url_prefix
        prefix = self._prefix
        if cached is not None and cached[0] == prefix:
            return cached[1]
        encoded = quote_path(prefix)
        if "%" in prefix:  # what was escaped already stays as it was
            encoded = encoded.replace("%25", "%")
        self._url_prefix = (prefix, encoded)
        return encoded

    def get_info(self) -> dict[str, Any]:
        return {"directory": self._directory, "prefix": self._prefix, "routes": self._routes}

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes.values())

    def __repr__(self) -> str:
        name = f"'{self.name}'" if self.name is not None else ""
        return f"<StaticResource {name} {self._prefix} -> {self._directory!r}>"

    # -- serving -------------------------------------------------------------

    def _locate(self, filename: str) -> Path | None:
        """The file ``filename`` names under the root, None if it is not allowed
        there (rules 1 and 2). Touches the file system: call it in a thread."""
        if not safe_name(filename):
            return None
        root = self._directory
        joined = root.joinpath(filename)
        try:
            if self._follow_symlinks:
                Path(os.path.normpath(joined)).relative_to(root)
                return joined.resolve()
            path = joined.resolve()
            path.relative_to(root)
        except (ValueError, RuntimeError, OSError):
            # outside the root; or a symlink loop (RuntimeError before 3.13)
            return None
        return path

    async def _handle(self, request: Request) -> StreamResponse:
        filename = request.match_info["filename"]
        if not safe_name(filename):  # rule 1 costs no thread
            raise HTTPNotFound()
        asked = _Asked.of(request)
        hot = self._hot.get(filename)
        if hot is not None:
            plan = self._plan_hot(filename, hot, asked)
            if plan is not None:
                return self._respond(hot[0], plan)
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, self._locate_and_plan, filename, asked)
        if isinstance(found, Response):
            return found
        located, plan, ident = found
        if plan.whole is not None and ident is not None:
            remember(plan)
            hots = self._hot
            if len(hots) >= HOT_NAMES:
                del hots[next(iter(hots))]
            hots[filename] = (located, str(located), *ident)
        return self._respond(located, plan)

    def _respond(self, located: Path, plan: _Plan) -> FileResponse:
        response = FileResponse(located, chunk_size=self._chunk_size)
        response._plan = plan
        return response

    def _plan_hot(
        self, filename: str, hot: tuple[Path, str, int, int], asked: _Asked
    ) -> _Plan | None:
        """The plan from memory, if the name still leads to the file found before."""
        try:
            # PERF: on the loop: a file read moments ago, its inode in the kernel's cache
            st = os.stat(f"{self._root}/{filename}")
        except OSError:
            del self._hot[filename]
            return None
        if st.st_ino != hot[3] or st.st_dev != hot[2]:
            del self._hot[filename]  # SECURITY: another file now: look it up again
            return None
        return plan_cached(hot[1], asked, st)

    def _locate_and_plan(
        self, filename: str, asked: _Asked
    ) -> Response | tuple[Path, _Plan, tuple[int, int] | None]:
        path = self._locate(filename)
        if path is None:
            raise HTTPNotFound()
        try:
            if path.is_dir():
                if not self._show_index:
                    raise HTTPForbidden()
                page = self._index_page(path, filename)
                return Response(text=page, content_type="text/html")
        except PermissionError as error:
            raise HTTPForbidden() from error
        except OSError as error:
            # NOTE: a name the file system refuses (ENAMETOOLONG: a component past
            # 255 bytes or a path past 4096) or cannot walk (ELOOP, ENOTDIR...):
            # nothing is there to serve (aiohttp answers a 500 with a traceback)
            raise HTTPNotFound() from error
        try:
            plan = plan_file(str(path), asked)
            ident = None
            if plan.whole is not None:  # worth remembering: which inode the name led to
                st = path.stat()
                ident = (st.st_dev, st.st_ino)
            return path, plan, ident
        except PermissionError:
            return path, _Plan(403), None
        except OSError:  # gone meanwhile, or a symlink loop
            return path, _Plan(404), None

    def _index_page(self, directory: Path, filename: str) -> str:
        """The directory's listing as HTML, every name escaped, every link quoted.

        A name that is not UTF-8 (its bytes arrive as surrogates) is shown with
        U+FFFD in their place and linked by its bytes percent-encoded. The
        directory is named by where it lies under the root, as aiohttp names it;
        one reached through a symlink that leads out (``follow_symlinks``) by the
        name the URL gave it (aiohttp answers such a listing with a 500).
        """
        try:
            under: PurePath = directory.relative_to(self._directory)
        except ValueError:
            under = PurePosixPath(filename)  # a safe name (rule 1): no dot segment
        relative = under.as_posix()
        title = f"Index of /{html.escape(_shown(relative))}"
        items = []
        for entry in sorted(directory.iterdir()):
            rel = (under / entry.name).as_posix()
            href = self._encoded_prefix() + _href(f"/{rel}")
            label = entry.name + "/" if entry.is_dir() else entry.name
            items.append(f'<li><a href="{href}">{html.escape(_shown(label))}</a></li>')
        listing = "<ul>\n" + "\n".join(items) + "\n</ul>"
        return (
            f"<html>\n<head>\n<title>{title}</title>\n</head>\n"
            f"<body>\n<h1>{title}</h1>\n{listing}\n</body>\n</html>"
        )
