"""Resources (a path pattern) and routes (a method and a handler on a resource).

Each resource answers one question, purely: does this path match, and which
of my routes takes this method? ``resolve`` returns the match values and the
route, or None with the methods the resource would have accepted, from which
the dispatcher decides between 404 and 405.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import inspect
import keyword
import re
import warnings
from collections.abc import Callable, Iterator, Sized
from typing import TYPE_CHECKING, Any

from yarl import URL

from squall.framework.exceptions import HTTPExpectationFailed, HTTPMethodNotAllowed
from squall.framework.routing.matchinfo import UrlMappingMatchInfo
from squall.http import hdrs

if TYPE_CHECKING:
    from squall.framework.aliases import Handler
    from squall.framework.app import Application
    from squall.framework.exceptions import HTTPException
    from squall.framework.request import Request
    from squall.framework.streamresponse import StreamResponse

# A {variable} or {variable:regex}; the regex may hold one level of {m,n}.
ROUTE_RE = re.compile(r"(\{[_a-zA-Z][^{}]*(?:\{[^{}]*\}[^{}]*)*\})")
_DYN = re.compile(r"\{(?P<var>[_a-zA-Z][_a-zA-Z0-9]*)\}")
_DYN_WITH_RE = re.compile(r"\{(?P<var>[_a-zA-Z][_a-zA-Z0-9]*):(?P<re>.+)\}")
_GOOD = r"[^{}/]+"
_NAME_SPLIT = re.compile(r"[.:-]")
# RFC 9110 5.6.2: a method is a token; "*" (any method) is one too
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VARIABLE = re.compile(r"(\{[^{}]*\})")

_Resolved = tuple["dict[str, str] | None", "AbstractRoute | None", set[str]]


def quote_path(value: str) -> str:
    """Percent-encode a path value for a URL (``/`` and ``%`` included)."""
    return URL.build(path=value, encoded=False).raw_path


def requote_path(value: str) -> str:
    """Percent-encode what a URL path may not hold raw (non-ASCII, spaces…),
    keeping the percent-escapes already in ``value``."""
    quoted = quote_path(value)
    return quoted.replace("%25", "%") if "%" in value else quoted


def unquote_path_safe(value: str) -> str:
    """Decode what ``path_safe`` left encoded in a matched value."""
    if "%" not in value:
        return value
    return value.replace("%2F", "/").replace("%25", "%")


async def default_expect_handler(request: Request) -> None:
    """Answer a request's ``Expect`` field when its route names no expect handler.

    RFC 9110 10.1.1: ``100-continue`` is met, though not here: the server sends
    ``100 Continue`` when the handler first reads the body, so a handler that
    refuses first never invites it. Any other expectation on HTTP/1.1 is a 417,
    as aiohttp answers it.
    """
    expect = request.headers.get(hdrs.EXPECT, "")
    if request.version == (1, 1) and expect.lower() != "100-continue":
        # bytes that are not UTF-8 arrive as surrogates: shown as U+FFFD, never a 500
        shown = expect.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise HTTPExpectationFailed(text=f"Unknown Expect: {shown}")


def validate_name(name: str) -> None:
    for part in _NAME_SPLIT.split(name):
        if not part.isidentifier():
            raise ValueError(
                f"Incorrect route name {name!r}, the name should be a sequence of python "
                "identifiers separated by dash, dot or column"
            )
        if keyword.iskeyword(part):
            raise ValueError(
                f"Incorrect route name {name!r}, python keywords cannot be used for route name"
            )


class AbstractResource(Sized, abc.ABC):
    """Something the dispatcher can route a path to."""

    _is_subapp = False  # PERF: the dispatcher's test for a sub-application resource

    def __init__(self, *, name: str | None = None) -> None:
        self._name = name

    @property
    def name(self) -> str | None:
        return self._name

    @property
    @abc.abstractmethod
    def canonical(self) -> str:
        """The path with variables as ``{name}``: the key routing indexes it by."""

    @abc.abstractmethod
    def url_for(self, **kwargs: str) -> URL:
        """Build a URL for this resource."""

    @abc.abstractmethod
    def resolve_path(self, method: str, path: str) -> _Resolved:
        """Return (match values, route, allowed methods); values None if no match."""

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]:
        """Describe the resource (path, formatter, pattern…)."""

    async def resolve(self, request: Any) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        """aiohttp's form: (match info or None, the methods the path would accept)."""
        match, route, methods = self.resolve_path(request.method, request._match_path)
        if match is None:
            return None, set(methods)
        assert route is not None
        return UrlMappingMatchInfo(match, route), set(methods)

    @abc.abstractmethod
    def add_prefix(self, prefix: str) -> None:
        """Prepend ``prefix`` to the path (used for sub-applications)."""

    @abc.abstractmethod
    def raw_match(self, path: str) -> bool:
        """True when ``path`` is the path this resource was declared with."""

    def freeze(self) -> None:
        pass


class Resource(AbstractResource):
    """A resource with routes, one per method (``*`` catches any method)."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        self._routes: dict[str, ResourceRoute] = {}
        self._any_route: ResourceRoute | None = None
        self._allowed: set[str] = set()

    def add_route(
        self,
        method: str,
        handler: Any,
        *,
        expect_handler: Any = None,
        max_body: int | None = None,
        min_body_rate: float | None = None,
    ) -> ResourceRoute:
        method = method.upper()
        existing = self._routes.get(method, self._any_route)
        if existing is not None:
            raise RuntimeError(
                "Added route will never be executed, "
                f"method {existing.method} is already registered"
            )
        route = ResourceRoute(method, handler, self, expect_handler=expect_handler)
        route.set_body_limits(max_body=max_body, min_body_rate=min_body_rate)
        self.register_route(route)
        return route

    def register_route(self, route: ResourceRoute) -> None:
        if route.method == hdrs.METH_ANY:
            self._any_route = route
        else:
            self._routes[route.method] = route
        self._allowed.add(route.method)

    def _route_for(self, method: str) -> ResourceRoute | None:
        route = self._routes.get(method)
        if route is None:
            route = self._any_route
        return route

    def __len__(self) -> int:
        return len(self._routes) + (self._any_route is not None)

    def __iter__(self) -> Iterator[ResourceRoute]:
        yield from self._routes.values()
        if self._any_route is not None:
            yield self._any_route


class PlainResource(Resource):
    """A fixed path, matched by string comparison."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if path and not path.startswith("/"):
            raise ValueError("path should start with /")
        # "" is kept: under a sub-app's prefix it is the prefix itself ("/" is prefix + "/")
        self._path = path

    @property
    def canonical(self) -> str:
        return self._path

    def resolve_path(self, method: str, path: str) -> _Resolved:
        if path != self._path:
            return None, None, set()
        route = self._route_for(method)
        if route is None:
            return None, None, self._allowed
        return {}, route, self._allowed

    def add_prefix(self, prefix: str) -> None:
        self._path = prefix + self._path

    def raw_match(self, path: str) -> bool:
        return self._path == path

    def _match(self, path: str) -> dict[str, str] | None:
        """aiohttp's private matcher, which plugins and tests call: the values or None."""
        return {} if path == self._path else None

    def get_info(self) -> dict[str, Any]:
        return {"path": self._path}

    def freeze(self) -> None:
        # an application's own "" route is its root (a sub-app's was given its prefix)
        if not self._path:
            self._path = "/"

    def url_for(self, **kwargs: str) -> URL:
        # the path as registered, as aiohttp: percent-escapes in it are kept, not re-encoded
        return URL.build(path=self._path, encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<PlainResource {name} {self._path}>"


class DynamicResource(Resource):
    """A path with ``{name}`` or ``{name:regex}`` parts, matched by one regex."""

    def __init__(self, path: str, *, name: str | None = None) -> None:
        super().__init__(name=name)
        if not path.startswith("/"):
            raise ValueError("path should start with /")
        self._orig_path = path
        pattern = ""
        formatter = ""
        for part in ROUTE_RE.split(path):
            match = _DYN.fullmatch(part)
            if match:
                pattern += f"(?P<{match.group('var')}>{_GOOD})"
                formatter += "{" + match.group("var") + "}"
                continue
            match = _DYN_WITH_RE.fullmatch(part)
            if match:
                pattern += f"(?P<{match.group('var')}>{match.group('re')})"
                formatter += "{" + match.group("var") + "}"
                continue
            if "{" in part or "}" in part:
                raise ValueError(f"Invalid path '{path}'['{part}']")
            formatter += part
            pattern += re.escape(part)
        try:
            self._pattern = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"Bad pattern '{pattern}': {exc}") from None
        self._formatter = formatter
        self._url_formatter: str | None = None  # the formatter percent-encoded, when asked

    @property
    def canonical(self) -> str:
        return self._formatter

    def resolve_path(self, method: str, path: str) -> _Resolved:
        match = self._pattern.fullmatch(path)
        if match is None:
            return None, None, set()
        route = self._route_for(method)
        if route is None:
            return None, None, self._allowed
        values = match.groupdict()
        if "%" in path:  # only an encoded %2F or %25 is left to decode
            values = {key: unquote_path_safe(value) for key, value in values.items()}
        return values, route, self._allowed

    def add_prefix(self, prefix: str) -> None:
        self._pattern = re.compile(re.escape(prefix) + self._pattern.pattern)
        self._formatter = prefix + self._formatter
        self._url_formatter = None

    def raw_match(self, path: str) -> bool:
        return self._orig_path == path

    def _match(self, path: str) -> dict[str, str] | None:
        """aiohttp's private matcher, which plugins and tests call: the values or None."""
        match = self._pattern.fullmatch(path)
        if match is None:
            return None
        return {key: unquote_path_safe(value) for key, value in match.groupdict().items()}

    def get_info(self) -> dict[str, Any]:
        return {"formatter": self._formatter, "pattern": self._pattern}

    def url_for(self, **parts: str) -> URL:
        formatter = self._url_formatter
        if formatter is None:
            # NOTE: the fixed parts are matched decoded but built encoded, as aiohttp
            # builds them ("/пре/{x}" gives "/%D0%BF%D1%80%D0%B5/..."): a URL is ASCII
            formatter = "".join(
                part if part[:1] == "{" else requote_path(part)
                for part in _VARIABLE.split(self._formatter)
            )
            self._url_formatter = formatter
        url = formatter.format_map({k: quote_path(str(v)) for k, v in parts.items()})
        return URL.build(path=url, encoded=True)

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<DynamicResource {name} {self._formatter}>"


class PrefixResource(AbstractResource):
    """A resource that owns every path under a prefix (sub-applications, static files)."""

    def __init__(self, prefix: str, *, name: str | None = None) -> None:
        if prefix and not prefix.startswith("/"):
            raise ValueError("prefix should start with /")
        if prefix in ("", "/"):
            prefix = ""
        elif prefix.endswith("/"):
            raise ValueError("prefix should not end with /")
        super().__init__(name=name)
        self._prefix = prefix
        self._prefix2 = prefix + "/"

    @property
    def canonical(self) -> str:
        return self._prefix

    def add_prefix(self, prefix: str) -> None:
        if not prefix.startswith("/") or prefix.endswith("/") or len(prefix) < 2:
            raise ValueError(f"bad prefix {prefix!r}")
        self._prefix = prefix + self._prefix
        self._prefix2 = self._prefix + "/"

    def raw_match(self, prefix: str) -> bool:
        return False


class PrefixedSubAppResource(PrefixResource):
    """``app.add_subapp(prefix, subapp)``: every path under ``prefix`` is the sub-app's.

    The sub-app's own resources carry the prefix, so its router matches the whole
    path; a path under the prefix that the sub-app does not know is its 404 (or
    405), not the parent's.
    """

    _is_subapp = True

    def __init__(self, prefix: str, app: Application) -> None:
        super().__init__(prefix)
        self._app = app
        self._add_prefix_to_resources(prefix)

    def add_prefix(self, prefix: str) -> None:
        super().add_prefix(prefix)
        self._add_prefix_to_resources(prefix)

    def _add_prefix_to_resources(self, prefix: str) -> None:
        router = self._app.router
        for resource in router.resources():
            resource.add_prefix(prefix)
        router._reindex()

    def _resolve_app(self, method: str, path: str, request: Any) -> UrlMappingMatchInfo | None:
        """The sub-app's match (an error one included), the sub-app pushed on its stack."""
        router = self._app.router
        if router._own_resolve and request is not None:
            # a UrlDispatcher subclass's own resolve(), which aiohttp awaits here
            info: UrlMappingMatchInfo = _run_sync(router.resolve(request), "a router's resolve()")
        else:
            info = router.resolve_path(method, path, request)
        info.add_app(self._app)
        return info

    def resolve_path(self, method: str, path: str) -> _Resolved:
        # the dispatcher routes through _resolve_app; this answers the pure question
        if path != self._prefix and not path.startswith(self._prefix2):
            return None, None, set()
        info = self._app.router.resolve_path(method, path)
        if info.http_exception is None:
            return dict(info), info.route, set()
        exc = info.http_exception
        return None, None, exc.allowed_methods if isinstance(exc, HTTPMethodNotAllowed) else set()

    async def resolve(self, request: Any) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        info = self._resolve_app(request.method, request._match_path, request)
        assert info is not None
        exc = info.http_exception
        methods = exc.allowed_methods if isinstance(exc, HTTPMethodNotAllowed) else set()
        return info, set(methods)

    @property
    def app(self) -> Application:
        return self._app

    def url_for(self, **kwargs: str) -> URL:
        raise RuntimeError(".url_for() is not supported by sub-application root")

    def get_info(self) -> dict[str, Any]:
        return {"app": self._app, "prefix": self._prefix}

    def __len__(self) -> int:
        return len(self._app.router.routes())

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._app.router.routes())

    def __repr__(self) -> str:
        return f"<PrefixedSubAppResource {self._prefix} -> {self._app!r}>"


class AbstractRuleMatching(abc.ABC):
    """A rule a request must meet to reach a ``MatchedSubAppResource``."""

    @abc.abstractmethod
    async def match(self, request: Any) -> bool:
        """True when the request meets the rule."""

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]:
        """Describe the rule."""

    @property
    @abc.abstractmethod
    def canonical(self) -> str:
        """The rule as a string."""


class Domain(AbstractRuleMatching):
    """``app.add_domain("example.com", subapp)``: requests whose Host is that domain."""

    re_part = re.compile(r"(?!-)[a-z\d-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        super().__init__()
        self._domain = self.validation(domain)

    @property
    def canonical(self) -> str:
        return self._domain

    def validation(self, domain: str) -> str:
        if not isinstance(domain, str):
            raise TypeError("Domain must be str")
        domain = domain.rstrip(".").lower()
        if not domain:
            raise ValueError("Domain cannot be empty")
        if "://" in domain:
            raise ValueError("Scheme not supported")
        try:
            url = URL("http://" + domain)
            host = url.raw_host
            port = url.port
        except ValueError:
            raise ValueError("Domain not valid") from None
        if not host or url.raw_path not in ("", "/") or url.raw_query_string or url.user:
            raise ValueError("Domain not valid")
        if not all(self.re_part.fullmatch(part) for part in host.split(".")):
            raise ValueError("Domain not valid")
        if port == 80:
            return host
        return f"{host}:{port}"

    async def match(self, request: Any) -> bool:
        return self._match_host(request.headers.get(hdrs.HOST))

    def _match_host(self, host: str | None) -> bool:
        if not host:
            return False
        return self.match_domain(host)

    def match_domain(self, host: str) -> bool:
        """The port counts only when the domain was given one."""
        host = host.lower()
        return host == self._domain or host.partition(":")[0] == self._domain

    def get_info(self) -> dict[str, Any]:
        return {"domain": self._domain}


class MaskDomain(Domain):
    """A domain with ``*`` wildcards: ``*.example.com`` (a star spans any labels)."""

    re_part = re.compile(r"(?!-)[a-z\d\*-]{1,63}(?<!-)")

    def __init__(self, domain: str) -> None:
        super().__init__(domain)
        host_mask, _, self._port = self._domain.partition(":")
        self._pattern = self._domain.replace(".", r"\.").replace("*", "[^:]*") + "(:.*)?"
        self._mask = re.compile(re.escape(host_mask).replace(r"\*", ".*"), re.IGNORECASE)

    @property
    def canonical(self) -> str:
        return self._pattern

    def match_domain(self, host: str) -> bool:
        hostname, _, port = host.partition(":")
        if self._port and port != self._port:
            return False
        return self._mask.fullmatch(hostname) is not None


class MatchedSubAppResource(PrefixedSubAppResource):
    """``app.add_domain(domain, subapp)``: the sub-app answers requests that meet a rule."""

    def __init__(self, rule: AbstractRuleMatching, app: Application) -> None:
        AbstractResource.__init__(self)
        self._prefix = ""
        self._prefix2 = "/"
        self._app = app
        self._rule = rule

    @property
    def canonical(self) -> str:
        return self._rule.canonical

    def _resolve_app(self, method: str, path: str, request: Any) -> UrlMappingMatchInfo | None:
        if request is None:
            return None
        rule = self._rule
        if isinstance(rule, Domain):
            ok = rule._match_host(request.headers.get(hdrs.HOST))
        else:
            ok = _run_sync(rule.match(request))
        if not ok:
            return None
        return super()._resolve_app(method, path, request)

    async def resolve(self, request: Any) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        if not await self._rule.match(request):
            return None, set()
        info = self._app.router.resolve_path(request.method, request._match_path, request)
        info.add_app(self._app)
        exc = info.http_exception
        methods = exc.allowed_methods if isinstance(exc, HTTPMethodNotAllowed) else set()
        return info, set(methods)

    def resolve_path(self, method: str, path: str) -> _Resolved:
        return None, None, set()  # a rule needs the request: see _resolve_app

    def get_info(self) -> dict[str, Any]:
        return {"app": self._app, "rule": self._rule}

    def __repr__(self) -> str:
        return f"<MatchedSubAppResource -> {self._app!r}>"


class AbstractRoute(abc.ABC):
    """A handler for one method on one resource."""

    # the request body's bounds for this route (None: the app's): see docs/uploads.md
    _max_body: int | None = None
    _min_body_rate: float | None = None

    def __init__(
        self,
        method: str,
        handler: Any,
        *,
        expect_handler: Any = None,
        resource: AbstractResource | None = None,
    ) -> None:
        if not _METHOD.fullmatch(method):
            raise ValueError(f"{method} is not allowed HTTP method")
        self._method = method
        self._handler: Handler = _check_handler(handler)
        self._resource = resource
        if expect_handler is not None and not inspect.iscoroutinefunction(expect_handler):
            raise TypeError(f"expect_handler must be a coroutine function, got {expect_handler!r}")
        self._expect_handler = expect_handler

    def set_body_limits(
        self, *, max_body: int | None = None, min_body_rate: float | None = None
    ) -> None:
        """Bound this route's request bodies: ``max_body`` bytes (replacing
        ``client_max_size`` for ``read()``, ``post()`` and the multipart reader;
        0 for none) and a minimum data rate in bytes per second (0 turns it off)."""
        if max_body is not None and max_body < 0:
            raise ValueError("max_body must be >= 0")
        if min_body_rate is not None and min_body_rate < 0:
            raise ValueError("min_body_rate must be >= 0")
        self._max_body = max_body
        self._min_body_rate = min_body_rate

    @property
    def method(self) -> str:
        return self._method

    @property
    def handler(self) -> Handler:
        return self._handler

    @property
    def resource(self) -> AbstractResource | None:
        return self._resource

    @property
    def name(self) -> str | None:
        return self._resource.name if self._resource is not None else None

    @abc.abstractmethod
    def get_info(self) -> dict[str, Any]:
        """Describe the route's resource."""

    @abc.abstractmethod
    def url_for(self, *args: str, **kwargs: str) -> URL:
        """Build a URL for the route's resource."""

    async def handle_expect_header(self, request: Request) -> StreamResponse | None:
        """Run the route's expect handler (aiohttp's order: before middlewares and
        handler). A response it returns, or an HTTPException it raises, answers the
        request instead of the handler; None lets the request go on."""
        expect_handler = self._expect_handler
        if expect_handler is None:
            await default_expect_handler(request)  # raises a 417, or lets it go on
            return None
        # aiohttp's contract: a route's own expect handler sends the 100 Continue
        # itself (request.transport.write), so the server must not add another
        request._sink.skip_continue()
        response: StreamResponse | None = await expect_handler(request)
        return response


class ResourceRoute(AbstractRoute):
    """A route registered on a Resource."""

    def __init__(
        self, method: str, handler: Any, resource: Resource, *, expect_handler: Any = None
    ) -> None:
        super().__init__(method, handler, expect_handler=expect_handler, resource=resource)

    def get_info(self) -> dict[str, Any]:
        assert self._resource is not None
        return self._resource.get_info()

    def url_for(self, *args: str, **kwargs: str) -> URL:
        assert self._resource is not None
        return self._resource.url_for(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<ResourceRoute [{self.method}] {self._resource} -> {self.handler!r}>"


class SystemRoute(AbstractRoute):
    """The route of a failed match: its handler raises the 404 or 405."""

    def __init__(self, http_exception: HTTPException) -> None:
        self._http_exception = http_exception
        super().__init__(hdrs.METH_ANY, self._raise)

    async def _raise(self, request: Any) -> Any:
        raise self._http_exception

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise RuntimeError(".url_for() is not allowed for SystemRoute")

    def get_info(self) -> dict[str, Any]:
        return {"http_exception": self._http_exception}

    @property
    def status(self) -> int:
        return self._http_exception.status

    @property
    def reason(self) -> str:
        return self._http_exception.reason

    def __repr__(self) -> str:
        return f"<SystemRoute {self.status}: {self.reason}>"


def _run_sync(coro: Any, what: str = "a sub-application rule's match()") -> Any:
    """The result of a rule's ``match`` (or a sub-app router's ``resolve``) coroutine,
    which must not suspend: routing is synchronous (it looks at the request, it does
    not wait for anything)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError(f"{what} must not wait on anything")


def _check_handler(handler: Any) -> Any:
    """Accept coroutine functions and View classes; wrap a plain function, with a warning."""
    from squall.framework.view import AbstractView

    if inspect.isclass(handler) and issubclass(handler, AbstractView):
        return handler
    if asyncio.iscoroutinefunction(handler) or not callable(handler):
        if not callable(handler):
            raise TypeError(f"Only async functions are allowed as web-handlers, got {handler!r}")
        return handler
    # functools.partial of a coroutine function, or a callable object with async __call__
    call = getattr(handler, "__call__", None)  # noqa: B004
    if asyncio.iscoroutinefunction(call) or asyncio.iscoroutinefunction(
        getattr(handler, "func", None)
    ):
        return handler
    warnings.warn("Bare functions are deprecated, use async ones", DeprecationWarning, stacklevel=4)
    return _wrap_sync(handler)


def _wrap_sync(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # the handler's name and docstring stay visible on the route
    async def handler(request: Any) -> Any:
        result = func(request)
        if inspect.isawaitable(result):
            result = await result
        return result

    return handler
