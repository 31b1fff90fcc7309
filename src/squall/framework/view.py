"""Class-based views: ``web.View`` dispatches on the request method."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from squall.framework.exceptions import HTTPMethodNotAllowed
from squall.http import hdrs

if TYPE_CHECKING:
    from squall.framework.request import Request
    from squall.framework.response import StreamResponse


class AbstractView:
    """A class whose instances, built from a request, are awaited for the response."""

    def __init__(self, request: Request) -> None:
        self._request = request

    @property
    def request(self) -> Request:
        return self._request

    def __await__(self) -> Generator[Any, None, StreamResponse]:
        raise NotImplementedError


class View(AbstractView):
    """Define ``async def get(self)``, ``post``…; other methods get a 405."""

    async def _iter(self) -> StreamResponse:
        method = self.request.method
        if method not in hdrs.METH_ALL:
            self._raise_allowed_methods()
        handler = getattr(self, method.lower(), None)
        if handler is None:
            self._raise_allowed_methods()
        assert handler is not None
        response: StreamResponse = await handler()
        return response

    def __await__(self) -> Generator[Any, None, StreamResponse]:
        return self._iter().__await__()

    def _raise_allowed_methods(self) -> None:
        allowed = {m for m in hdrs.METH_ALL if hasattr(self, m.lower())}
        raise HTTPMethodNotAllowed(self.request.method, allowed)
