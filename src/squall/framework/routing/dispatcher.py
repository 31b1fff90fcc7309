"""``UrlDispatcher``: aiohttp's router, over an index of resources by path prefix.

Resolution (one place decides 404 against 405):
1. Walk the request path from the most specific prefix to ``/``, cutting one
   segment at a time: ``/a/b/c``, ``/a/b``, ``/a``, ``/``.
2. At each prefix try, in registration order, the resources indexed under it (a
   plain resource under its own path; a dynamic one under the fixed part before
   its first ``{``, cut back to a ``/``). The first match wins.
3. With no match, a 405 listing every method some matching path accepted if
   there was one, else a 404.

PERF: a fixed path is found by one dict lookup at step 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sized
from typing import Any

from squall.framework.exceptions import HTTPMethodNotAllowed, HTTPNotFound
from squall.framework.fileresponse import DEFAULT_CHUNK_SIZE
from squall.framework.routing.abstract import AbstractRouter
from squall.framework.routing.defs import AbstractRouteDef
from squall.framework.routing.matchinfo import MatchInfoError, UrlMappingMatchInfo
from squall.framework.routing.resources import (
    ROUTE_RE,
    AbstractResource,
    AbstractRoute,
    DynamicResource,
    MatchedSubAppResource,
    PlainResource,
    Resource,
    ResourceRoute,
    validate_name,
)
from squall.framework.static import StaticResource
from squall.http import hdrs


class _Views(Sized, Iterable[Any]):
    def __init__(self, items: list[Any]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._items


class UrlDispatcher(AbstractRouter, Mapping[str, AbstractResource]):
    """The application's router: ``app.router``."""

    # True in a subclass that overrides resolve(): its app (or the parent app, for a
    # sub-app) then awaits it for every request instead of calling resolve_path
    _own_resolve = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._own_resolve = cls.resolve is not UrlDispatcher.resolve

    def __init__(self) -> None:
        super().__init__()
        self._resources: list[AbstractResource] = []
        self._named: dict[str, AbstractResource] = {}
        self._index: dict[str, list[AbstractResource]] = {}
        self._matched: list[MatchedSubAppResource] = []  # tried after the index: they have rules
        self._frozen = False

    # -- resolution ----------------------------------------------------------

    def _resolve_fixed(self, method: str, path: str) -> AbstractRoute | None:
        """PERF: the route of a fixed path registered first under its own key, or None
        (then :meth:`resolve_path` decides, 405 included)."""
        if self._matched:
            return None  # domain sub-apps come first
        candidates = self._index.get(path)
        if candidates is not None:
            first = candidates[0]
            if isinstance(first, PlainResource) and first._path == path:
                return first._routes.get(method) or first._any_route
        return None

    def resolve_path(self, method: str, path: str, request: Any = None) -> UrlMappingMatchInfo:
        """Route ``method`` + ``path`` (decoded but for %2F/%25) to a match info.

        Domain sub-apps whose rule the request meets answer first; then a
        sub-application met on the way answers for its whole prefix, its 404 and
        405 included. ``request`` (its Host) is what domain rules look at.
        """
        for matched in self._matched:  # domain (rule) sub-apps first, as aiohttp
            info = matched._resolve_app(method, path, request)
            if info is not None:
                return info
        index = self._index
        allowed: set[str] | None = None  # PERF: no set unless a resource refuses
        part = path
        while True:
            candidates = index.get(part)
            if candidates is not None:
                for resource in candidates:
                    if resource._is_subapp:
                        info = resource._resolve_app(method, path, request)  # type: ignore[attr-defined]
                        if info is not None:
                            return info  # type: ignore[no-any-return]
                        continue
                    match, route, methods = resource.resolve_path(method, path)
                    if match is not None:
                        assert route is not None
                        return UrlMappingMatchInfo(match, route)
                    if methods:
                        allowed = set(methods) if allowed is None else allowed | methods
            if part == "/" or not part:
                break
            part = part.rpartition("/")[0] or "/"
        if allowed:
            return MatchInfoError(HTTPMethodNotAllowed(method, allowed))
        return MatchInfoError(HTTPNotFound())

    async def resolve(self, request: Any) -> UrlMappingMatchInfo:
        """aiohttp's coroutine form of :meth:`resolve_path`.

        The application calls :meth:`resolve_path` itself, without awaiting, unless
        a subclass overrides this method: then it is awaited for every request."""
        return self.resolve_path(request.method, request._match_path, request)

    # -- registration --------------------------------------------------------

    @staticmethod
    def _index_key(resource: AbstractResource) -> str:
        key = resource.canonical
        if "{" in key:
            key = key.partition("{")[0].rpartition("/")[0]
        return key.rstrip("/") or "/"

    def register_resource(self, resource: AbstractResource) -> None:
        if self._frozen:
            raise RuntimeError("Cannot register a resource into frozen router.")
        name = resource.name
        if name is not None:
            validate_name(name)
            if name in self._named:
                raise ValueError(f"Duplicate {name!r}, already handled by {self._named[name]!r}")
            self._named[name] = resource
        self._resources.append(resource)
        if isinstance(resource, MatchedSubAppResource):
            self._matched.append(resource)  # a rule, not a path: never indexed
        else:
            self._index.setdefault(self._index_key(resource), []).append(resource)

    def _reindex(self) -> None:
        """Index the resources again (a sub-app's prefix changed their paths)."""
        self._index = {}
        for resource in self._resources:
            if not isinstance(resource, MatchedSubAppResource):
                self._index.setdefault(self._index_key(resource), []).append(resource)

    def add_resource(self, path: str, *, name: str | None = None) -> Resource:
        """Return the resource for ``path``, reusing the last one if path and name match."""
        if path and not path.startswith("/"):
            raise ValueError("path should be started with / or be empty")
        if self._resources:
            last = self._resources[-1]
            if isinstance(last, Resource) and last.name == name and last.raw_match(path):
                return last
        resource: Resource
        if not ("{" in path or "}" in path or ROUTE_RE.search(path)):
            resource = PlainResource(path, name=name)
        else:
            resource = DynamicResource(path, name=name)
        self.register_resource(resource)
        return resource

    def add_route(
        self,
        method: str,
        path: str,
        handler: Any,
        *,
        name: str | None = None,
        expect_handler: Any = None,
        max_body: int | None = None,
        min_body_rate: float | None = None,
    ) -> ResourceRoute:
        """``max_body`` and ``min_body_rate`` bound the route's request bodies
        (Squall's own: see ``AbstractRoute.set_body_limits``)."""
        resource = self.add_resource(path, name=name)
        return resource.add_route(
            method,
            handler,
            expect_handler=expect_handler,
            max_body=max_body,
            min_body_rate=min_body_rate,
        )

    def add_head(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route(hdrs.METH_HEAD, path, handler, **kwargs)

    def add_options(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route(hdrs.METH_OPTIONS, path, handler, **kwargs)

    def add_get(
        self,
        path: str,
        handler: Any,
        *,
        name: str | None = None,
        allow_head: bool = True,
        **kwargs: Any,
    ) -> ResourceRoute:
        """GET (and, unless ``allow_head=False``, HEAD) on ``path``."""
        resource = self.add_resource(path, name=name)
        if allow_head:
            resource.add_route(hdrs.METH_HEAD, handler, **kwargs)
        return resource.add_route(hdrs.METH_GET, handler, **kwargs)

    def add_post(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route(hdrs.METH_POST, path, handler, **kwargs)

    def add_put(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route(hdrs.METH_PUT, path, handler, **kwargs)

    def add_patch(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route(hdrs.METH_PATCH, path, handler, **kwargs)

    def add_delete(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        return self.add_route(hdrs.METH_DELETE, path, handler, **kwargs)

    def add_view(self, path: str, handler: Any, **kwargs: Any) -> ResourceRoute:
        """A class-based view answering any method it defines."""
        return self.add_route(hdrs.METH_ANY, path, handler, **kwargs)

    def add_static(
        self,
        prefix: str,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        expect_handler: Any = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> StaticResource:
        """Serve the files under ``path`` at ``prefix`` (GET and HEAD)."""
        if not prefix.startswith("/"):
            raise ValueError("prefix should start with /")
        if prefix.endswith("/"):
            prefix = prefix[:-1]
        resource = StaticResource(
            prefix,
            path,
            name=name,
            expect_handler=expect_handler,
            chunk_size=chunk_size,
            show_index=show_index,
            follow_symlinks=follow_symlinks,
            append_version=append_version,
        )
        self.register_resource(resource)
        return resource

    def add_routes(self, routes: Iterable[AbstractRouteDef]) -> list[AbstractRoute]:
        """Register route definitions (``web.get(...)``, a ``RouteTableDef``…)."""
        registered: list[AbstractRoute] = []
        for route_def in routes:
            registered.extend(route_def.register(self))
        return registered

    # -- introspection -------------------------------------------------------

    def freeze(self) -> None:
        self._frozen = True
        for resource in self._resources:
            resource.freeze()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def resources(self) -> _Views:
        return _Views(self._resources)

    def routes(self) -> _Views:
        return _Views([route for res in self._resources for route in res])  # type: ignore[attr-defined]

    def named_resources(self) -> Mapping[str, AbstractResource]:
        from types import MappingProxyType

        return MappingProxyType(self._named)

    def __getitem__(self, name: str) -> AbstractResource:
        return self._named[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._named)

    def __len__(self) -> int:
        return len(self._named)

    def __contains__(self, name: object) -> bool:
        return name in self._named
