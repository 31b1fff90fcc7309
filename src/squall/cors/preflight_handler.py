"""The answer to a CORS preflight: an ``OPTIONS`` asking whether a request may follow.

Fetch standard, "CORS protocol" (3.2); the steps named "CORS 6.2.x" are those of
the W3C CORS recommendation that aiohttp-cors follows, in its order. A refused
preflight is a 403 with a short reason and no CORS header, so the browser
blocks the request that would have followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from squall.cors.resource_options import ResourceOptions
from squall.web import HTTPForbidden, Request, Response

__all__ = ["OriginConfig"]

OriginConfig = Mapping[str, ResourceOptions]  # origin (or "*") -> its options
_TRUE = "true"


class _PreflightHandler:
    """Answers preflights for a configuration that ``_get_config`` finds."""

    @staticmethod
    def _parse_request_method(request: Request) -> str:
        """The method the real request will use (CORS 6.2.3)."""
        method = request.headers.get("Access-Control-Request-Method")
        if method is None:
            raise HTTPForbidden(
                text="CORS preflight request failed: "
                "'Access-Control-Request-Method' header is not specified"
            )
        return method

    @staticmethod
    def _parse_request_headers(request: Request) -> frozenset[str]:
        """The header names the real request will send, upper-cased (CORS 6.2.4)."""
        value = request.headers.get("Access-Control-Request-Headers")
        if value is None:
            return frozenset()
        return frozenset(filter(None, (name.strip(" \t").upper() for name in value.split(","))))

    async def _get_config(self, request: Request, origin: str, request_method: str) -> Any:
        """The origin -> options mapping for ``request_method``; KeyError if refused."""
        raise NotImplementedError()

    async def _preflight_handler(self, request: Request) -> Response:
        """Answer a preflight: 200 with the grants, or 403 saying what was refused."""
        origin = request.headers.get("Origin")
        if origin is None:  # CORS 6.2.1
            raise HTTPForbidden(
                text="CORS preflight request failed: origin header is not specified in the request"
            )
        request_method = self._parse_request_method(request)
        try:
            config: OriginConfig = await self._get_config(request, origin, request_method)
        except KeyError:
            raise HTTPForbidden(
                text="CORS preflight request failed: "
                f"request method {request_method!r} is not allowed for {origin!r} origin"
            ) from None
        if not config:
            raise HTTPForbidden(text="CORS preflight request failed: no origins are allowed")
        options = config.get(origin, config.get("*"))
        if options is None:  # CORS 6.2.2
            raise HTTPForbidden(
                text=f"CORS preflight request failed: origin '{origin}' is not allowed"
            )
        request_headers = self._parse_request_headers(request)
        allowed = options.allow_headers
        if not isinstance(allowed, str):  # a set of names, not "*": CORS 6.2.6
            refused = request_headers - allowed
            if refused:
                raise HTTPForbidden(
                    text="CORS preflight request failed: "
                    f"headers are not allowed: {', '.join(sorted(refused))}"
                )
        response = Response()
        headers = response.headers
        # CORS 6.2.7: the origin echoed, never "*" (a "*" cannot go with credentials)
        headers["Access-Control-Allow-Origin"] = origin
        if options.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = _TRUE
        if options.max_age is not None:  # CORS 6.2.8
            headers["Access-Control-Max-Age"] = str(options.max_age)
        headers["Access-Control-Allow-Methods"] = request_method  # CORS 6.2.9
        if request_headers:  # CORS 6.2.10
            headers["Access-Control-Allow-Headers"] = ",".join(sorted(request_headers))
        return response
