"""aiohttp's ``hdrs`` module under Squall's name: ``from squall import hdrs``.

HTTP method and header-name constants (``hdrs.METH_GET``, ``hdrs.CONTENT_TYPE``,
``hdrs.ACCESS_CONTROL_ALLOW_ORIGIN``...), spelled as aiohttp spells them, but for
``ETAG`` ("ETag"; names are case-insensitive, docs/compat.md).
"""

from squall.http.hdrs import *  # noqa: F403
