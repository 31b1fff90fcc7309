"""Squall's face: the names of ``aiohttp.web``.

Code written for aiohttp runs once ``from aiohttp import web`` reads
``from squall import web``. This module only re-exports.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from argparse import ArgumentParser
from collections.abc import Sequence
from importlib import import_module

# names aiohttp.web has without listing them in __all__
from squall.framework.accesslog import AbstractAccessLogger as AbstractAccessLogger
from squall.framework.accesslog import AccessLogger as AccessLogger
from squall.framework.app import (
    AppKey,
    Application,
    CleanupError,
    middleware,
)
from squall.framework.compression import ContentCoding
from squall.framework.exceptions import (
    HTTPAccepted,
    HTTPBadGateway,
    HTTPBadRequest,
    HTTPClientError,
    HTTPConflict,
    HTTPCreated,
    HTTPError,
    HTTPException,
    HTTPExpectationFailed,
    HTTPFailedDependency,
    HTTPForbidden,
    HTTPFound,
    HTTPGatewayTimeout,
    HTTPGone,
    HTTPInsufficientStorage,
    HTTPInternalServerError,
    HTTPLengthRequired,
    HTTPMethodNotAllowed,
    HTTPMisdirectedRequest,
    HTTPMove,
    HTTPMovedPermanently,
    HTTPMultipleChoices,
    HTTPNetworkAuthenticationRequired,
    HTTPNoContent,
    HTTPNonAuthoritativeInformation,
    HTTPNotAcceptable,
    HTTPNotExtended,
    HTTPNotFound,
    HTTPNotImplemented,
    HTTPNotModified,
    HTTPOk,
    HTTPPartialContent,
    HTTPPaymentRequired,
    HTTPPermanentRedirect,
    HTTPPreconditionFailed,
    HTTPPreconditionRequired,
    HTTPProxyAuthenticationRequired,
    HTTPRedirection,
    HTTPRequestEntityTooLarge,
    HTTPRequestHeaderFieldsTooLarge,
    HTTPRequestRangeNotSatisfiable,
    HTTPRequestTimeout,
    HTTPRequestURITooLong,
    HTTPResetContent,
    HTTPSeeOther,
    HTTPServerError,
    HTTPServiceUnavailable,
    HTTPSuccessful,
    HTTPTemporaryRedirect,
    HTTPTooManyRequests,
    HTTPUnauthorized,
    HTTPUnavailableForLegalReasons,
    HTTPUnprocessableEntity,
    HTTPUnsupportedMediaType,
    HTTPUpgradeRequired,
    HTTPUseProxy,
    HTTPVariantAlsoNegotiates,
    HTTPVersionNotSupported,
    NotAppKeyWarning,
    RequestPayloadError,
)
from squall.framework.fileresponse import FileResponse
from squall.framework.jsonresponse import json_bytes_response, json_response
from squall.framework.lowlevel import Server
from squall.framework.middlewares import normalize_path_middleware
from squall.framework.multipart import FileField
from squall.framework.request import BaseRequest, Request, RequestKey
from squall.framework.response import Response, ResponseKey, StreamResponse
from squall.framework.routing.defs import (
    AbstractRouteDef,
    RouteDef,
    RouteTableDef,
    StaticDef,
    delete,
    get,
    head,
    options,
    patch,
    post,
    put,
    route,
    static,
    view,
)
from squall.framework.routing.dispatcher import UrlDispatcher
from squall.framework.routing.matchinfo import UrlMappingMatchInfo
from squall.framework.routing.resources import (
    AbstractResource,
    AbstractRoute,
    DynamicResource,
    PlainResource,
    PrefixedSubAppResource,
    Resource,
    ResourceRoute,
)
from squall.framework.static import StaticResource
from squall.framework.view import View
from squall.framework.websocket import WebSocketReady, WebSocketResponse
from squall.runner import (
    AppRunner,
    BaseRunner,
    BaseSite,
    GracefulExit,
    NamedPipeSite,
    RequestHandler,
    ServerRunner,
    SockSite,
    TCPSite,
    UnixSite,
    run_app,
)
from squall.runner import access_logger as access_logger
from squall.typedefs import PayloadAccessError
from squall.websocket import WSMsgType

__all__ = [
    # application and routing
    "AbstractResource",
    "AbstractRoute",
    "AbstractRouteDef",
    "AppKey",
    "Application",
    "CleanupError",
    "DynamicResource",
    "PlainResource",
    "PrefixedSubAppResource",
    "Resource",
    "ResourceRoute",
    "RouteDef",
    "RouteTableDef",
    "StaticDef",
    "StaticResource",
    "UrlDispatcher",
    "UrlMappingMatchInfo",
    "View",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "static",
    "view",
    "middleware",
    "normalize_path_middleware",
    # request and responses
    "BaseRequest",
    "Request",
    "RequestKey",
    "RequestPayloadError",
    "Response",
    "ResponseKey",
    "StreamResponse",
    "FileField",
    "PayloadAccessError",
    "WebSocketReady",
    "WebSocketResponse",
    "WSMsgType",
    "ContentCoding",
    "FileResponse",
    "json_bytes_response",
    "json_response",
    # runners
    "AppRunner",
    "BaseRunner",
    "BaseSite",
    "GracefulExit",
    "NamedPipeSite",
    "RequestHandler",
    "Server",
    "ServerRunner",
    "SockSite",
    "TCPSite",
    "UnixSite",
    "run_app",
    # exceptions
    "NotAppKeyWarning",
    "HTTPException",
    "HTTPError",
    "HTTPRedirection",
    "HTTPSuccessful",
    "HTTPOk",
    "HTTPCreated",
    "HTTPAccepted",
    "HTTPNonAuthoritativeInformation",
    "HTTPNoContent",
    "HTTPResetContent",
    "HTTPPartialContent",
    "HTTPMove",
    "HTTPMultipleChoices",
    "HTTPMovedPermanently",
    "HTTPFound",
    "HTTPSeeOther",
    "HTTPNotModified",
    "HTTPUseProxy",
    "HTTPTemporaryRedirect",
    "HTTPPermanentRedirect",
    "HTTPClientError",
    "HTTPBadRequest",
    "HTTPUnauthorized",
    "HTTPPaymentRequired",
    "HTTPForbidden",
    "HTTPNotFound",
    "HTTPMethodNotAllowed",
    "HTTPNotAcceptable",
    "HTTPProxyAuthenticationRequired",
    "HTTPRequestTimeout",
    "HTTPConflict",
    "HTTPGone",
    "HTTPLengthRequired",
    "HTTPPreconditionFailed",
    "HTTPRequestEntityTooLarge",
    "HTTPRequestURITooLong",
    "HTTPUnsupportedMediaType",
    "HTTPRequestRangeNotSatisfiable",
    "HTTPExpectationFailed",
    "HTTPMisdirectedRequest",
    "HTTPUnprocessableEntity",
    "HTTPFailedDependency",
    "HTTPUpgradeRequired",
    "HTTPPreconditionRequired",
    "HTTPTooManyRequests",
    "HTTPRequestHeaderFieldsTooLarge",
    "HTTPUnavailableForLegalReasons",
    "HTTPServerError",
    "HTTPInternalServerError",
    "HTTPNotImplemented",
    "HTTPBadGateway",
    "HTTPServiceUnavailable",
    "HTTPGatewayTimeout",
    "HTTPVersionNotSupported",
    "HTTPVariantAlsoNegotiates",
    "HTTPInsufficientStorage",
    "HTTPNotExtended",
    "HTTPNetworkAuthenticationRequired",
]


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m squall.web [-H host] [-P port] [-U path] package.module:factory``.

    As ``python -m aiohttp.web``: the factory is called with the arguments the
    parser did not take; ``-U`` alone serves on the Unix socket only (with ``-H``,
    on both); DEBUG logging; "Stopped" and exit status 0 once the server stops.
    """
    parser = ArgumentParser(description="Squall application server", prog="python -m squall.web")
    parser.add_argument(
        "entry_func",
        help="Callable returning the `squall.web.Application` instance to run, "
        "as 'package.module:function'",
        metavar="entry-func",
    )
    parser.add_argument(
        "-H", "--hostname", default=None, help="TCP/IP hostname to serve on (default: localhost)"
    )
    parser.add_argument(
        "-P", "--port", type=int, default=8080, help="TCP/IP port to serve on (default: 8080)"
    )
    parser.add_argument("-U", "--path", help="Unix file system path to serve on (with -H: on both)")
    args, extra_argv = parser.parse_known_args(argv)

    mod_str, _, func_str = args.entry_func.partition(":")
    if not func_str or not mod_str:
        parser.error("'entry-func' not in 'module:function' syntax")
    if mod_str.startswith("."):
        parser.error("relative module names not supported")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a module beside the caller, as ``-m`` finds it
    try:
        module = import_module(mod_str)
    except ImportError as ex:
        parser.error(f"unable to import {mod_str}: {ex}")
    try:
        func = getattr(module, func_str)
    except AttributeError:
        parser.error(f"module {mod_str!r} has no attribute {func_str!r}")
    if args.path is not None and not hasattr(socket, "AF_UNIX"):
        parser.error("file system paths not supported by your operating environment")
    logging.basicConfig(level=logging.DEBUG)
    if args.path and args.hostname is None:
        host, port = None, None  # the Unix socket alone
    else:
        host, port = args.hostname or "localhost", args.port
    app = func(extra_argv)
    run_app(app, host=host, port=port, path=args.path)
    parser.exit(message="Stopped\n")


if __name__ == "__main__":  # pragma: no cover
    main()
