"""The request side: ``get_session``, ``new_session``, ``session_middleware``, ``setup``.

The middleware puts the storage on the request (``request[STORAGE_KEY]``); nothing
is read from the cookie until a handler calls ``get_session()``, and nothing is
written unless the session changed. So a route that never asks for its session
pays one dict store.

When the session is saved (aiohttp_session's rules, plus the prepare hook):

1. A handler returns a ``Response`` (or raises an ``HTTPException``, which is one):
   saved into it on the way out, then the exception raised again, so a redirect
   after a login carries its cookie.
2. A handler returns a ``StreamResponse`` it has not prepared: saved into it the
   same way (aiohttp_session leaves those alone).
3. A handler prepares a response itself (a stream, an SSE, a WebSocket): with
   ``setup()``, the middleware's prepare hook for the request (run after the apps'
   ``on_response_prepare``) saves the session just before the head goes out. A
   change made after that cannot reach the client.
4. A ``Response`` the handler prepared itself is refused with a RuntimeError, as
   aiohttp_session does.
5. A handler that raises anything but an ``HTTPException`` saves nothing, as on
   aiohttp_session: its 500 (or an outer middleware's error page) carries no cookie.
"""

from __future__ import annotations

from squall.framework.aliases import Handler, Middleware
from squall.framework.app import Application, middleware
from squall.framework.exceptions import HTTPException
from squall.framework.request import Request, RequestKey
from squall.framework.response import Response, StreamResponse
from squall.sessions.session import Session
from squall.sessions.storage import AbstractStorage

# aiohttp_session's keys, kept as they are: code reads request["aiohttp_session"]
SESSION_KEY = "aiohttp_session"
STORAGE_KEY = "aiohttp_session_storage"
# the session already saved into this request's response (so the hook skips it)
_SAVED_KEY: RequestKey[Session] = RequestKey("squall.sessions.saved", Session)

_NO_MIDDLEWARE = "Install aiohttp_session middleware in your aiohttp.web.Application"


async def get_session(request: Request) -> Session:
    """The request's session, loaded from its storage on first use."""
    session: Session | None = request.get(SESSION_KEY)
    if session is None:
        storage = request.get(STORAGE_KEY)
        if storage is None:
            raise RuntimeError(_NO_MIDDLEWARE)
        session = await storage.load_session(request)
        # PERF: Session is a MutableMapping, whose isinstance goes through ABCMeta
        if type(session) is not Session and not isinstance(session, Session):
            raise RuntimeError(
                f"Installed {storage!r} storage should return session instance "
                f"on .load_session() call, got {session!r}."
            )
        request[SESSION_KEY] = session
    return session


async def new_session(request: Request) -> Session:
    """Replace the request's session with a new, empty one (with a new identity).

    Call it at login: the session the client brought (maybe planted by someone
    else) is not the one that gets the user.
    """
    storage = request.get(STORAGE_KEY)
    if storage is None:
        raise RuntimeError(_NO_MIDDLEWARE)
    session = await storage.new_session()
    if not isinstance(session, Session):
        raise RuntimeError(
            f"Installed {storage!r} storage should return session instance "
            f"on .load_session() call, got {session!r}."
        )
    request[SESSION_KEY] = session
    return session


async def _save(storage: AbstractStorage, request: Request, response: StreamResponse) -> None:
    session = request.get(SESSION_KEY)
    if session is not None and session._changed and request.get(_SAVED_KEY) is not session:
        request[_SAVED_KEY] = session
        await storage.save_session(request, response, session)


def session_middleware(storage: AbstractStorage) -> Middleware:
    """The middleware that loads sessions from ``storage`` and saves them back."""
    return _session_middleware(storage, prepare_hook=False)


def _session_middleware(storage: AbstractStorage, prepare_hook: bool) -> Middleware:
    if not isinstance(storage, AbstractStorage):
        raise RuntimeError(f"Expected AbstractStorage got {storage}")

    async def save_before_prepare(request: Request, response: StreamResponse) -> None:
        if request.get(STORAGE_KEY) is storage:
            await _save(storage, request, response)

    hook = save_before_prepare if prepare_hook else None

    @middleware
    async def session_mw(request: Request, handler: Handler) -> StreamResponse:
        request[STORAGE_KEY] = storage
        if hook is not None:
            # PERF: the request's own hook, not the app's on_response_prepare: a
            # returned response is saved below and then sent by the application's
            # fast path; only a response the handler prepares runs it (in process
            # 3.5 us of a 44 us encrypted-cookie request, bench/sessions.py)
            request._on_prepare = hook
            request._has_prepare_hooks = True
        try:
            response = await handler(request)
        except HTTPException as exc:
            if exc.prepared:
                raise RuntimeError("Cannot save session data into prepared response") from exc
            await _save(storage, request, exc)
            raise
        except BaseException:
            # a handler that failed (a 500) commits nothing: a half-done login or
            # cart is not saved, by this middleware nor by the prepare hook into
            # whatever error page an outer middleware answers with
            session = request.get(SESSION_KEY)
            if session is not None:
                request[_SAVED_KEY] = session
            raise
        if type(response) is not Response and not isinstance(response, StreamResponse):
            raise RuntimeError(f"Expect response, not {type(response)!r}")
        if response.prepared:
            if isinstance(response, Response):
                raise RuntimeError("Cannot save session data into prepared response")
            return response  # streamed: saved by the prepare hook, if setup() installed it
        await _save(storage, request, response)
        return response

    return session_mw


def setup(app: Application, storage: AbstractStorage) -> None:
    """Install sessions on ``app``: the middleware, with the hook that saves a
    session into a response the handler prepares itself."""
    app.middlewares.append(_session_middleware(storage, prepare_hook=True))
