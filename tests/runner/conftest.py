"""Fixtures of the runner tests: TLS certificates made here, and child processes.

The certificates come from the ``openssl`` command line (the ``cryptography``
package is not a test dependency): a CA, a server certificate for 127.0.0.1
and localhost, and a client certificate, all signed by that CA.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvloop

TIMEOUT = 15.0  # a hang guard only, never a measure


LOOPS: Mapping[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "child: the server runs in a child process (which picks its own loop)"
    )


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Any:
    """Run the in-process servers on both event loops (uvloop's TLS is its own);
    a test whose server is a child process needs the test's loop only once."""
    if item.get_closest_marker("child") is not None or item.path.name == "test_graceful.py":
        return {"asyncio": asyncio.new_event_loop}
    return LOOPS


@dataclass(frozen=True)
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def server_context(self, *, want_client_cert: bool = False) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.server_cert, self.server_key)
        if want_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.ca)
        return ctx

    def client_context(self, *, with_cert: bool = False) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if with_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key)
        return ctx


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _issue(name: str, cn: str, extensions: str, cwd: Path) -> None:
    """A P-256 key and a certificate for it signed by the CA in ``cwd``."""
    (cwd / f"{name}.ext").write_text(extensions)
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=cwd)
    _openssl(
        "req", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-out", f"{name}.csr", cwd=cwd
    )
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-sha256", "-extfile", f"{name}.ext",
        "-out", f"{name}.pem", cwd=cwd,
    )  # fmt: skip


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    if shutil.which("openssl") is None:  # pragma: no cover - present on the CI image
        pytest.skip("the openssl command is needed to make test certificates")
    d = tmp_path_factory.mktemp("certs")
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=d)
    _openssl(
        "req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Squall Test CA", "-days", "2",
        "-sha256", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.pem", cwd=d,
    )  # fmt: skip
    common = (
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _issue(
        "server",
        "localhost",
        common + "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        d,
    )
    _issue("client", "squall test client", common + "extendedKeyUsage=clientAuth\n", d)
    return Certs(
        d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key"
    )


# -- child processes ---------------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Child:
    """A Python program run as a child process; its stdout read line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    async def line(self) -> str:
        """The next line of stdout (fails if the child exits first)."""
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), TIMEOUT)
        if not raw:
            assert self.proc.stderr is not None
            err = await self.proc.stderr.read()
            raise AssertionError(f"the child exited: {err.decode()}")
        text = raw.decode().rstrip("\n")
        self.lines.append(text)
        return text

    async def until(self, wanted: str) -> None:
        """Read stdout up to the line ``wanted``."""
        while await self.line() != wanted:
            pass

    async def banner_port(self) -> int:
        """Read up to run_app's banner; return the port it names."""
        while True:
            text = await self.line()
            if text.startswith("======== Running on "):
                return int(text.split()[3].rsplit(":", 1)[1])

    async def finish(self) -> tuple[int, list[str], str]:
        """Wait for the exit: (return code, every stdout line, stderr)."""
        out, err = await asyncio.wait_for(self.proc.communicate(), TIMEOUT)
        assert self.proc.returncode is not None
        return self.proc.returncode, self.lines + out.decode().splitlines(), err.decode()


@asynccontextmanager
async def spawn(
    program: str, tmp_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[Child]:
    """Run ``program`` with this interpreter; kill it at the end if it still runs."""
    script = tmp_path / "child.py"
    script.write_text(program)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        cwd=tmp_path,
        env={**child_env(), **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield Child(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
