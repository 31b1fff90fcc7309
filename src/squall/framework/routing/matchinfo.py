"""The result of routing a request: the route and the values taken from the path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from squall.framework.routing.abstract import AbstractMatchInfo

if TYPE_CHECKING:
    from squall.framework.aliases import Handler
    from squall.framework.app import Application
    from squall.framework.exceptions import HTTPException
    from squall.framework.routing.resources import AbstractRoute


class UrlMappingMatchInfo(dict[str, str], AbstractMatchInfo):
    """``request.match_info``: path values (always str) plus the matched route."""

    # PERF: defaults on the class; a match on one app stores only _route and
    # _current_app (see _bind).
    _apps: list[Application] | None = None
    _current_app: Application | None = None
    _frozen = False

    def __init__(self, match_dict: dict[str, str], route: AbstractRoute) -> None:
        dict.__init__(self, match_dict)
        self._route = route

    @property
    def handler(self) -> Handler:
        return self._route.handler

    @property
    def route(self) -> AbstractRoute:
        return self._route

    @property
    def expect_handler(self) -> Any:
        """The coroutine function that answers the request's ``Expect`` field."""
        return self._route.handle_expect_header

    @property
    def http_exception(self) -> HTTPException | None:
        return None

    def get_info(self) -> dict[str, Any]:
        return self._route.get_info()

    @property
    def apps(self) -> tuple[Application, ...]:
        if self._apps is not None:
            return tuple(self._apps)
        return (self._current_app,) if self._current_app is not None else ()

    def _bind(self, app: Application) -> None:
        """PERF: ``add_app(app)`` then ``freeze()`` for the common single-app case."""
        self._current_app = app
        self._frozen = True

    def add_app(self, app: Application) -> None:
        if self._frozen:
            raise RuntimeError("Cannot change apps stack after .freeze() call")
        apps = list(self.apps)
        if self._current_app is None:
            self._current_app = app
        apps.insert(0, app)
        self._apps = apps

    @property
    def current_app(self) -> Application:
        app = self._current_app
        assert app is not None
        return app

    @current_app.setter
    def current_app(self, app: Application) -> None:
        self._current_app = app

    @contextmanager
    def set_current_app(self, app: Application) -> Iterator[None]:
        prev = self._current_app
        self._current_app = app
        try:
            yield
        finally:
            self._current_app = prev

    def freeze(self) -> None:
        self._frozen = True

    def __repr__(self) -> str:
        return f"<MatchInfo {super().__repr__()}: {self._route}>"

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)


class MatchInfoError(UrlMappingMatchInfo):
    """Routing failed: the route's handler raises the 404 or 405."""

    def __init__(self, http_exception: HTTPException) -> None:
        from squall.framework.routing.resources import SystemRoute

        self._exception = http_exception
        super().__init__({}, SystemRoute(http_exception))

    @property
    def http_exception(self) -> HTTPException:
        return self._exception

    def __repr__(self) -> str:
        return f"<MatchInfoError {self._exception.status}: {self._exception.reason}>"
