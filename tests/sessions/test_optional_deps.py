"""squall.sessions without its extra: the package and SimpleCookieStorage work, the
two storages that need cryptography / redis-py say how to get them; and an app
without sessions never imports the package. Each case in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# refuse the extra's packages as if they were not installed
BLOCK = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("cryptography", "redis"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Block())
"""


def run(code: str, block: bool = True) -> subprocess.CompletedProcess[str]:
    source = (BLOCK if block else "") + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=60
    )


def test_package_works_without_the_extra() -> None:
    done = run("""
        import asyncio
        from squall import sessions
        from squall.sessions import SimpleCookieStorage, get_session, setup
        from squall.testing import make_mocked_request
        storage = SimpleCookieStorage()
        cookie = 'AIOHTTP_SESSION={"session": {"a": 1}}'
        req = make_mocked_request("GET", "/", headers={"Cookie": cookie})
        req[sessions.STORAGE_KEY] = storage
        print(dict(asyncio.run(get_session(req))))
        print("cryptography" in sys.modules, "redis" in sys.modules)
    """)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["{'a': 1}", "False False"]


def test_storages_name_the_extra() -> None:
    for name, module in [
        ("EncryptedCookieStorage", "cookie_storage"),
        ("RedisStorage", "redis_storage"),
    ]:
        for statement in (
            f"from squall.sessions import {name}",
            f"from squall.sessions.{module} import {name}",
        ):
            done = run(statement)
            assert done.returncode == 1
            assert "ImportError" in done.stderr
            assert "pip install squall[sessions]" in done.stderr, statement


def test_an_app_without_sessions_never_imports_them() -> None:
    done = run(
        """
        import sys
        from squall import web
        import squall.testing
        app = web.Application()
        print(sorted(m for m in sys.modules if m.startswith("squall.sessions")))
        """,
        block=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
