"""The HTTP exception family: names, status codes, hierarchy and constructors."""

from __future__ import annotations

from typing import Any

import aiohttp.web_exceptions
import pytest
from aiohttp import web as aiohttp_web

from squall import web

from ._wire import build, same

# aiohttp.web_exceptions.__all__ lists the HTTP classes; NotAppKeyWarning lives there too
EXCEPTION_NAMES = [*aiohttp.web_exceptions.__all__, "NotAppKeyWarning"]
HTTP_CLASSES = list(aiohttp.web_exceptions.__all__)
PUBLIC_NAMES = set(aiohttp_web.__all__) | {"Exception"}


def public_mro(cls: type) -> list[str]:
    """The class's ancestry by name, keeping the public classes only."""
    return [c.__name__ for c in cls.__mro__ if c.__name__ in PUBLIC_NAMES]


def test_aiohttp_has_the_exceptions_we_think() -> None:
    assert len(HTTP_CLASSES) == 58
    assert all(name.startswith("HTTP") for name in HTTP_CLASSES)


@pytest.mark.parametrize("name", EXCEPTION_NAMES)
def test_every_exception_exists(name: str) -> None:
    assert hasattr(web, name), name
    assert name in web.__all__


@pytest.mark.parametrize("name", HTTP_CLASSES)
def test_same_status_code(name: str) -> None:
    ours = getattr(web, name)
    theirs = getattr(aiohttp_web, name)
    assert ours.status_code == theirs.status_code


@pytest.mark.parametrize("name", HTTP_CLASSES)
def test_same_hierarchy(name: str) -> None:
    ours = getattr(web, name)
    theirs = getattr(aiohttp_web, name)
    assert public_mro(ours) == public_mro(theirs)
    assert issubclass(ours, web.Response)
    assert issubclass(ours, Exception)


@pytest.mark.parametrize("name", HTTP_CLASSES)
def test_same_empty_body(name: str) -> None:
    assert getattr(web, name).empty_body == getattr(aiohttp_web, name).empty_body


def test_not_app_key_warning_is_a_user_warning() -> None:
    assert issubclass(web.NotAppKeyWarning, UserWarning)


def make(webmod: Any, name: str) -> Any:
    cls = getattr(webmod, name)
    if issubclass(cls, webmod.HTTPMove):
        return cls("/somewhere")
    if cls is webmod.HTTPMethodNotAllowed:
        return cls("PUT", ["GET"])
    if cls is webmod.HTTPRequestEntityTooLarge:
        return cls(max_size=10, actual_size=20)
    if cls is webmod.HTTPUnavailableForLegalReasons:
        return cls("http://example.com/why")
    return cls()


@pytest.mark.parametrize(
    "name", [n for n in HTTP_CLASSES if getattr(aiohttp_web, n).status_code > 0]
)
def test_default_instance(name: str) -> None:
    ours = make(web, name)
    theirs = make(aiohttp_web, name)
    assert ours.status == theirs.status
    assert ours.reason == theirs.reason
    assert str(ours) == ours.reason == str(theirs)
    assert ours.text == theirs.text or (ours.text == "" and theirs.text is None)
    assert ours.content_type == theirs.content_type
    assert dict(ours.headers) == dict(theirs.headers)
    assert ours.args == theirs.args


def test_default_text() -> None:
    exc = web.HTTPNotFound()
    assert exc.status == 404
    assert exc.text == "404: Not Found"
    assert exc.content_type == "text/plain"
    assert exc.charset == "utf-8"
    assert str(exc) == "Not Found"
    assert repr(exc) == "<HTTPNotFound: Not Found>"


def test_custom_reason_and_text(webmod: Any) -> None:
    exc = webmod.HTTPBadRequest(reason="Bad Thing", text="details")
    assert str(exc) == "Bad Thing"
    assert exc.reason == "Bad Thing"
    assert exc.text == "details"
    exc = webmod.HTTPBadRequest(reason="Bad Thing")
    assert exc.text == "400: Bad Thing"


def test_reason_cannot_hold_newlines(webmod: Any) -> None:
    with pytest.raises(ValueError):
        webmod.HTTPBadRequest(reason="a\r\nSet-Cookie: x=1")


def test_raise_and_catch(webmod: Any) -> None:
    with pytest.raises(webmod.HTTPClientError) as info:
        raise webmod.HTTPForbidden(text="no")
    assert isinstance(info.value, webmod.HTTPError)
    assert isinstance(info.value, webmod.Response)
    assert info.value.status == 403


@pytest.mark.parametrize(
    "name",
    [
        "HTTPMultipleChoices",
        "HTTPMovedPermanently",
        "HTTPFound",
        "HTTPSeeOther",
        "HTTPUseProxy",
        "HTTPTemporaryRedirect",
        "HTTPPermanentRedirect",
    ],
)
def test_redirects_require_a_location(webmod: Any, name: str) -> None:
    cls = getattr(webmod, name)
    assert issubclass(cls, webmod.HTTPMove)
    with pytest.raises(TypeError):
        cls()
    with pytest.raises(ValueError, match=r"HTTP redirects need a location to redirect to\."):
        cls("")
    exc = cls("/to?q=1")
    assert exc.location == "/to?q=1"
    assert exc.headers["Location"] == "/to?q=1"


def test_redirect_location_may_be_a_url(webmod: Any) -> None:
    from yarl import URL

    exc = webmod.HTTPFound(URL("http://example.com/a b"))
    assert exc.headers["Location"] == "http://example.com/a%20b"


def test_not_modified_is_not_a_move(webmod: Any) -> None:
    assert not issubclass(webmod.HTTPNotModified, webmod.HTTPMove)
    webmod.HTTPNotModified()  # no location needed


def test_method_not_allowed(webmod: Any) -> None:
    exc = webmod.HTTPMethodNotAllowed("put", ["POST", "GET", "DELETE"])
    assert exc.headers["Allow"] == "DELETE,GET,POST"
    assert exc.method == "PUT"
    assert exc.allowed_methods == {"POST", "GET", "DELETE"}
    assert exc.text == "405: Method Not Allowed"


def test_method_not_allowed_from_a_generator(webmod: Any) -> None:
    exc = webmod.HTTPMethodNotAllowed("GET", (m for m in ["B", "A"]))
    assert exc.headers["Allow"] == "A,B"


def test_request_entity_too_large_text() -> None:
    ours = web.HTTPRequestEntityTooLarge(max_size=100, actual_size=200)
    theirs = aiohttp_web.HTTPRequestEntityTooLarge(max_size=100, actual_size=200)
    assert ours.text == theirs.text
    assert ours.status == 413


def test_request_entity_too_large_with_the_limit_only(webmod: Any) -> None:
    exc = webmod.HTTPRequestEntityTooLarge(1024)
    assert exc.status == 413
    assert "1024" in exc.text


def test_request_entity_too_large_custom_text(webmod: Any) -> None:
    exc = webmod.HTTPRequestEntityTooLarge(max_size=1, actual_size=2, text="too big")
    assert exc.text == "too big"


def test_unavailable_for_legal_reasons(webmod: Any) -> None:
    exc = webmod.HTTPUnavailableForLegalReasons("http://example.com/why")
    assert str(exc.link) == "http://example.com/why"
    assert exc.headers["Link"] == '<http://example.com/why>; rel="blocked-by"'
    assert webmod.HTTPUnavailableForLegalReasons(None).link is None


def test_body_argument_is_deprecated(webmod: Any) -> None:
    with pytest.warns(DeprecationWarning):
        exc = webmod.HTTPNotFound(body=b"raw")
    assert exc.body == b"raw"


def test_headers_argument(webmod: Any) -> None:
    exc = webmod.HTTPUnauthorized(headers={"WWW-Authenticate": 'Basic realm="x"'})
    assert exc.headers["WWW-Authenticate"] == 'Basic realm="x"'


def test_empty_body_classes(webmod: Any) -> None:
    for cls in (webmod.HTTPNoContent, webmod.HTTPResetContent, webmod.HTTPNotModified):
        assert cls.empty_body
        assert not cls().body


def test_exceptions_are_hashable_and_truthy(webmod: Any) -> None:
    exc = webmod.HTTPNotFound()
    assert {exc: 1}[exc] == 1
    assert bool(exc)


def app_returning(web: Any) -> Any:
    async def returned(request: Any) -> Any:
        return web.HTTPFound("/elsewhere")

    app = web.Application()
    app.router.add_get("/", returned)
    return app


@pytest.mark.filterwarnings("ignore:returning HTTPException object is deprecated")
async def test_returning_an_exception_still_works() -> None:
    reply = await same(app_returning, build("GET", "/"))
    assert reply.status_line == b"HTTP/1.1 302 Found"
    assert reply.header("Location") == "/elsewhere"
