"""The candidate paths of ``normalize_path_middleware``, as a pure function.

These pin rule 2 and 3 of the module's invariant (percent-encoding, one leading
slash) without the server's parser or yarl in front, which already refuse or
re-quote most of these characters on the wire.
"""

from __future__ import annotations

import pytest

from squall.framework.middlewares import _candidates, _local_path


@pytest.mark.parametrize(
    ("path", "local"),
    [
        ("/a/b", "/a/b"),
        ("/", "/"),
        ("//evil.example", "/evil.example"),
        ("////evil.example/", "/evil.example/"),
        ("/\\evil.example", "/%5Cevil.example"),
        ("\\\\evil.example", "/%5C%5Cevil.example"),
        ("/\t/evil.example", "/%09/evil.example"),
        ("/\r\nSet-Cookie: a=b", "/%0D%0ASet-Cookie:%20a=b"),
        ("/\x00", "/%00"),
        ("/\x7f", "/%7F"),
        ("/é", "/%C3%A9"),
        ("/\udcff", "/%FF"),  # a raw byte, as the parser hands it on (surrogateescape)
        ("/a%2Fb%2f", "/a%2Fb%2f"),
        ("/a%zz%2", "/a%25zz%252"),
        ('/a"<>^`{|}', "/a%22%3C%3E%5E%60%7B%7C%7D"),
        ("/~user/x;y=1:@!$&'()*+,", "/~user/x;y=1:@!$&'()*+,"),
        ("/javascript:alert(1)", "/javascript:alert(1)"),
    ],
)
def test_local_path(path: str, local: str) -> None:
    assert _local_path(path) == local


@pytest.mark.parametrize(
    "path", ["/.", "/..", "/./x", "/a/../x", "/..//evil", "/%2e%2e//evil", "/%2E/x", "/.%2e/x"]
)
def test_no_dot_segments(path: str) -> None:
    assert _local_path(path) is None


@pytest.mark.parametrize("path", ["/.well-known/x", "/a.b/..c/d..", "/%2e%2ex"])
def test_dots_inside_a_segment_are_fine(path: str) -> None:
    assert _local_path(path) == path


@pytest.mark.parametrize(
    ("path", "append", "remove", "merge", "expected"),
    [
        ("/a//b", True, False, True, ["/a/b", "/a//b/", "/a/b/"]),
        ("/a//b/", True, False, True, ["/a/b/"]),
        ("/a", True, False, True, ["/a/"]),  # merged is the path itself: not tried
        ("/a//b/", False, True, True, ["/a/b/", "/a//b", "/a/b"]),
        ("/ab", False, True, True, []),  # nothing to merge, nothing to remove
        ("//x", True, False, False, ["/x/"]),
        ("/a//b", False, False, True, ["/a/b"]),
        ("/a", False, False, False, []),
    ],
)
def test_candidates_in_aiohttps_order(
    path: str, append: bool, remove: bool, merge: bool, expected: list[str]
) -> None:
    assert list(_candidates(path, append, remove, merge)) == expected
