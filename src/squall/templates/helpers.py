"""The default template globals: ``url()`` for named routes, ``static()`` for static files.

``setup(app, ...)`` puts both in the environment's globals (unless
``default_helpers=False``) along with ``app``, which both read from the template's
context: the application ``setup()`` was called on.
"""

from __future__ import annotations

import warnings
from typing import Any

import jinja2
from yarl import URL

from squall.framework.app import AppKey

__all__ = ("GLOBAL_HELPERS", "static_root_key", "static_url", "url_for")

static_root_key = AppKey("static_root_key", str)
"""``app[static_root_key] = "/static"``: the root ``static()`` builds its URLs under."""


@jinja2.pass_context
def url_for(
    context: Any,
    __route_name: str,
    query_: dict[str, str] | None = None,
    **parts: str | int,
) -> URL:
    """``{{ url('item', id=1, query_={'tab': 'x'}) }}``: the URL of a named route.

    Route parts must be ``str`` or ``int`` (not ``bool``, not ``float``): anything else
    is a ``TypeError``, so a template cannot build a URL from a value it did not mean to.
    """
    app = context["app"]
    clean: dict[str, str] = {}
    for key, val in parts.items():
        # NOTE: exactly int: bool is an int subclass, and True is not a route part
        if isinstance(val, str) or type(val) is int:
            clean[key] = str(val)
        else:
            raise TypeError(
                f"argument value should be str or int, got {key} -> [{type(val)}] {val!r}"
            )
    url: URL = app.router[__route_name].url_for(**clean)
    if query_:
        url = url.with_query(query_)
    return url


@jinja2.pass_context
def static_url(context: Any, static_file_path: str) -> str:
    """``{{ static('app.css') }}``: the file's URL under ``app[static_root_key]``.

    ``app["static_root_url"]``, the older spelling, is still read, with aiohttp-jinja2's
    ``DeprecationWarning``.
    """
    app = context["app"]
    try:
        root: str = app[static_root_key]
    except KeyError:
        try:
            root = app["static_root_url"]
        except KeyError:
            raise RuntimeError(
                "app does not define a static root url, you need to set the url root "
                "with app[aiohttp_jinja2.static_root_key] = '<static root>'."
            ) from None
        warnings.warn(
            "'static_root_url' is deprecated, use aiohttp_jinja2.static_root_key.",
            category=DeprecationWarning,
            stacklevel=2,
        )
    return root.rstrip("/") + "/" + static_file_path.lstrip("/")


GLOBAL_HELPERS: dict[str, Any] = {"url": url_for, "static": static_url}
