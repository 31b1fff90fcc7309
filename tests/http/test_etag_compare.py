"""``squall.http.etag.ETag`` compares with aiohttp's ``ETag`` by value, as code moved
over from aiohttp (and aiohttp's own tests of ``if_match``) compares them."""

from __future__ import annotations

from aiohttp.helpers import ETag as AiohttpETag

from squall.http.etag import ETag
from squall.testing import make_mocked_request


def test_equal_to_aiohttps_etag_by_value_both_ways() -> None:
    tag = ETag("67ab43", is_weak=True)
    assert tag == AiohttpETag(value="67ab43", is_weak=True)
    assert AiohttpETag(value="67ab43", is_weak=True) == tag
    assert tag != AiohttpETag(value="67ab43", is_weak=False)
    assert tag != AiohttpETag(value="other", is_weak=True)


def test_still_a_tuple_and_hashable_as_one() -> None:
    tag = ETag("v")
    assert tag == ("v", False) and tag != ("v", True)
    assert hash(tag) == hash(("v", False))
    assert {tag: 1}[ETag("v")] == 1
    assert tag != "v" and tag != 3


def test_if_match_against_aiohttps_tags() -> None:
    req = make_mocked_request("GET", "/", headers={"If-Match": '"67ab43", W/"54ed21"'})
    assert req.if_match == (
        AiohttpETag(is_weak=False, value="67ab43"),
        AiohttpETag(is_weak=True, value="54ed21"),
    )
