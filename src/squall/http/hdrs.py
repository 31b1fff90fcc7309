"""Header names as constants, spelled the way aiohttp's ``hdrs`` module spells them."""

from __future__ import annotations

from typing import Final

from multidict import istr

METH_ANY: Final = "*"
METH_CONNECT: Final = "CONNECT"
METH_HEAD: Final = "HEAD"
METH_GET: Final = "GET"
METH_DELETE: Final = "DELETE"
METH_OPTIONS: Final = "OPTIONS"
METH_PATCH: Final = "PATCH"
METH_POST: Final = "POST"
METH_PUT: Final = "PUT"
METH_TRACE: Final = "TRACE"
METH_ALL: Final = frozenset(
    {
        METH_CONNECT,
        METH_HEAD,
        METH_GET,
        METH_DELETE,
        METH_OPTIONS,
        METH_PATCH,
        METH_POST,
        METH_PUT,
        METH_TRACE,
    }
)

ACCEPT: Final = istr("Accept")
ACCEPT_ENCODING: Final = istr("Accept-Encoding")
ALLOW: Final = istr("Allow")
AUTHORIZATION: Final = istr("Authorization")
CACHE_CONTROL: Final = istr("Cache-Control")
CONNECTION: Final = istr("Connection")
CONTENT_DISPOSITION: Final = istr("Content-Disposition")
CONTENT_ENCODING: Final = istr("Content-Encoding")
CONTENT_LENGTH: Final = istr("Content-Length")
CONTENT_TYPE: Final = istr("Content-Type")
COOKIE: Final = istr("Cookie")
DATE: Final = istr("Date")
ETAG: Final = istr("ETag")
EXPECT: Final = istr("Expect")
FORWARDED: Final = istr("Forwarded")
HOST: Final = istr("Host")
IF_MATCH: Final = istr("If-Match")
IF_MODIFIED_SINCE: Final = istr("If-Modified-Since")
IF_NONE_MATCH: Final = istr("If-None-Match")
IF_RANGE: Final = istr("If-Range")
IF_UNMODIFIED_SINCE: Final = istr("If-Unmodified-Since")
LAST_MODIFIED: Final = istr("Last-Modified")
LOCATION: Final = istr("Location")
ORIGIN: Final = istr("Origin")
RANGE: Final = istr("Range")
SERVER: Final = istr("Server")
SET_COOKIE: Final = istr("Set-Cookie")
TRANSFER_ENCODING: Final = istr("Transfer-Encoding")
UPGRADE: Final = istr("Upgrade")
USER_AGENT: Final = istr("User-Agent")
VARY: Final = istr("Vary")
WWW_AUTHENTICATE: Final = istr("WWW-Authenticate")
X_FORWARDED_FOR: Final = istr("X-Forwarded-For")
