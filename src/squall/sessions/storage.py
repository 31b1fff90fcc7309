"""``AbstractStorage``, the cookie plumbing every storage shares, and
``SimpleCookieStorage``.

A storage turns a request's cookie into a ``Session`` (``load_session``) and a
changed session into a ``Set-Cookie`` (``save_session``). The cookie's name,
attributes and the ``expires`` format are aiohttp_session's, so the browsers of an
app moved from aiohttp keep their cookies.
"""

from __future__ import annotations

import abc
import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypedDict

from squall.framework.request import Request
from squall.framework.response import StreamResponse
from squall.sessions.session import Session, SessionData, is_session_data

log = logging.getLogger("squall.sessions")


# PERF: what json.dumps(obj) and json.loads(text) do with their defaults, without
# their per-call argument checks (the storages' default encoder and decoder)
_JSON_ENCODE = json.JSONEncoder().encode
_JSON_DECODE = json.JSONDecoder().decode


@functools.lru_cache(maxsize=8)  # PERF: the same second's text for every response in it
def _expires(when: int) -> str:
    """aiohttp_session's ``expires`` format (dashes, as RFC 850); browsers read it."""
    return time.strftime("%a, %d-%b-%Y %H:%M:%S GMT", time.gmtime(when))


def _read_cookie(request: Request, name: str) -> str | None:
    """``request.cookies.get(name)``, without parsing every cookie in the common cases.

    PERF: ``request.cookies`` builds the request's header multidict, then parses the
    whole Cookie header into a dict, and a quoted value goes through a regex per
    character (a sealed session whose base64 ends in "=" is sent quoted, as
    SimpleCookie writes it). In process that was 2.7 µs of a 47 µs encrypted-cookie
    request, and 6.6 µs with the quoted cookie. Two shapes are read here directly;
    anything else (several cookies with a quote among them, a backslash, an odd
    name) is left to ``request.cookies``, so the answer is always its answer:

    - no double quote in the header: ``request.cookies``'s own split on ";" and
      "=", the last pair of that name wins;
    - the header is just ``name="value"`` with no other quote and no backslash:
      the value is what is between the quotes.
    """
    header = None
    for key, value in request.raw_headers:  # PERF: no header multidict for this
        if len(key) == 6 and key.lower() == b"cookie":
            header = value.decode("utf-8", "surrogateescape")
            break
    if header is None:
        return None
    if not name or name != name.strip() or "=" in name or ";" in name:
        return request.cookies.get(name)
    if '"' not in header:
        found = None
        for pair in header.split(";"):
            key_text, _, text = pair.partition("=")
            if key_text.strip() == name:
                found = text.strip()
        return found
    if (
        header.startswith(name)
        and header.startswith('="', len(name))
        and header.endswith('"')
        and header.count('"') == 2
        and "\\" not in header
    ):
        return header[len(name) + 2 : -1]
    return request.cookies.get(name)


class _CookieParams(TypedDict, total=False):
    domain: str | None
    max_age: int | None
    path: str
    secure: bool | None
    httponly: bool
    samesite: str | None
    expires: str


class AbstractStorage(metaclass=abc.ABCMeta):
    """Where sessions live; subclass it with ``load_session`` and ``save_session``."""

    def __init__(
        self,
        *,
        cookie_name: str = "AIOHTTP_SESSION",
        domain: str | None = None,
        max_age: int | None = None,
        path: str = "/",
        secure: bool | None = None,
        httponly: bool = True,
        samesite: str | None = None,
        encoder: Callable[[object], str] = json.dumps,
        decoder: Callable[[str], Any] = json.loads,
    ) -> None:
        self._cookie_name = cookie_name
        self._cookie_params = _CookieParams(
            domain=domain,
            max_age=max_age,
            path=path,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )
        self._max_age = max_age
        self._encoder = encoder
        self._decoder = decoder

    @property
    def cookie_name(self) -> str:
        return self._cookie_name

    @property
    def max_age(self) -> int | None:
        return self._max_age

    @property
    def cookie_params(self) -> _CookieParams:
        return self._cookie_params

    def _get_session_data(self, session: Session) -> SessionData:
        if session.empty:
            return {}
        return {"created": session.created, "session": session._mapping}

    def _encode(self, session: Session) -> str:
        """``session``'s SessionData through the encoder."""
        data = self._get_session_data(session)
        encoder = self._encoder
        return _JSON_ENCODE(data) if encoder is json.dumps else encoder(data)

    def _decode(self, text: str) -> SessionData | None:
        """The SessionData in ``text``, or None (and a log line) if it holds none."""
        decoder = self._decoder
        try:
            data = _JSON_DECODE(text) if decoder is json.loads else decoder(text)
        except (ValueError, TypeError, RecursionError):
            # JSONDecodeError is a ValueError; a cookie of a few thousand "[" nests
            # deeper than the decoder recurses (aiohttp_session answers it with a 500)
            data = None
        if data is None or not is_session_data(data):
            log.warning("Cannot decode session data, create a new fresh session")
            return None
        return data  # type: ignore[no-any-return]

    async def new_session(self) -> Session:
        """A fresh session, without identity (a storage gives it one when saving)."""
        return Session(None, data=None, new=True, max_age=self.max_age)

    @abc.abstractmethod
    async def load_session(self, request: Request) -> Session:
        """The request's session (a new one when it brought none)."""

    @abc.abstractmethod
    async def save_session(
        self, request: Request, response: StreamResponse, session: Session
    ) -> None:
        """Store ``session`` and set its cookie on ``response``."""

    def load_cookie(self, request: Request) -> str | None:
        """The session cookie's value in ``request`` (``request.cookies[name]``), or None."""
        return _read_cookie(request, self._cookie_name)

    def save_cookie(
        self,
        response: StreamResponse,
        cookie_data: str,
        *,
        max_age: int | None = None,
    ) -> None:
        """Set the cookie to ``cookie_data`` on ``response``; empty data deletes it."""
        params = self._cookie_params.copy()
        if max_age is not None:
            params["max_age"] = max_age
            params["expires"] = _expires(int(time.time()) + max_age)
        if not cookie_data:
            response.del_cookie(
                self._cookie_name, domain=params.get("domain"), path=params.get("path", "/")
            )
        else:
            response.set_cookie(self._cookie_name, cookie_data, **params)


class SimpleCookieStorage(AbstractStorage):
    """Sessions kept as JSON in the clear, in the cookie itself.

    SECURITY: for development and tests only. The client reads and writes its session
    at will (``{"session": {"user": "admin"}}`` is one cookie away); use
    ``EncryptedCookieStorage`` or ``RedisStorage`` for anything else.
    """

    # __init__: AbstractStorage's, with the same keyword arguments

    async def load_session(self, request: Request) -> Session:
        cookie = self.load_cookie(request)
        if cookie is None:
            return Session(None, data=None, new=True, max_age=self.max_age)
        data = self._decode(cookie)
        if data is None:
            return Session(None, data=None, new=True, max_age=self.max_age)
        return Session(None, data=data, new=False, max_age=self.max_age)

    async def save_session(
        self, request: Request, response: StreamResponse, session: Session
    ) -> None:
        self.save_cookie(response, self._encode(session), max_age=session.max_age)
