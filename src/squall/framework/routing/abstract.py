"""``AbstractRouter`` and ``AbstractMatchInfo``: what a router of one's own implements.

``web.Application(router=...)`` (deprecated, as on aiohttp) takes any
``AbstractRouter``; its ``resolve()`` is awaited for every request and the match
info it returns decides the handler. ``UrlDispatcher`` is one, and routes without
awaiting (see ``Application._handle``) unless a subclass overrides ``resolve``.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from squall.framework.aliases import Handler
    from squall.framework.app import Application
    from squall.framework.exceptions import HTTPException
    from squall.framework.request import Request
    from squall.framework.streamresponse import StreamResponse


class AbstractRouter(abc.ABC):
    """A router: ``await resolve(request)`` gives the request's match info."""

    def __init__(self) -> None:
        self._frozen = False

    def post_init(self, app: Application) -> None:  # noqa: B027 - optional, as on aiohttp
        """Called with the application, for a router that wants to know it."""

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        """Refuse further changes (the application is starting)."""
        self._frozen = True

    @abc.abstractmethod
    async def resolve(self, request: Request) -> AbstractMatchInfo:
        """Return the match info of ``request`` (an error one for a 404 or 405)."""


class AbstractMatchInfo(abc.ABC):
    """The outcome of routing one request: its handler and the applications around it."""

    __slots__ = ()

    @property
    @abc.abstractmethod
    def handler(self) -> Handler:
        """The coroutine function that answers the request."""

    @property
    @abc.abstractmethod
    def expect_handler(self) -> Callable[[Request], Awaitable[StreamResponse | None]]:
        """Answer an ``Expect`` field: a response ends the request, None goes on."""

    @property
    @abc.abstractmethod
    def http_exception(self) -> HTTPException | None:
        """The 404 or 405 routing ended in, or None."""

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]:
        """Describe the match, for introspection."""

    @property
    @abc.abstractmethod
    def apps(self) -> tuple[Application, ...]:
        """The applications the route sits in, the outermost first."""

    @abc.abstractmethod
    def add_app(self, app: Application) -> None:
        """Put ``app`` around the applications already on the stack."""

    @abc.abstractmethod
    def freeze(self) -> None:
        """Refuse ``add_app`` from now on (routing is over)."""
