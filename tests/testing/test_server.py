"""TestServer and RawTestServer: the same expectations on aiohttp's and on Squall's."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from .conftest import Kit


def hello_app(kit: Kit) -> Any:
    async def hello(request: Any) -> Any:
        return kit.web.Response(text=f"hello {request.path_qs}")

    app = kit.web.Application()
    app.router.add_get("/{tail:.*}", hello)
    return app


async def test_the_socket_comes_from_socket_factory(kit: Kit) -> None:
    made: list[socket.socket] = []

    def factory(host: str, port: int, family: socket.AddressFamily) -> socket.socket:
        sock = kit.testing.get_port_socket(host, port, family)
        made.append(sock)
        return sock

    async with kit.testing.TestServer(hello_app(kit), socket_factory=factory) as server:
        assert len(made) == 1
        assert server.port == made[0].getsockname()[1]
        async with kit.testing.TestClient(server) as client:
            assert await (await client.get("/a")).text() == "hello /a"


async def test_get_unused_port_socket_is_bound_and_not_listening(kit: Kit) -> None:
    with kit.testing.get_unused_port_socket("127.0.0.1") as sock:
        host, port = sock.getsockname()
        assert (host, port > 0) == ("127.0.0.1", True)
        probe = socket.socket()
        with probe, pytest.raises(ConnectionRefusedError):
            probe.connect((host, port))


async def test_host_port_and_url_before_and_after(kit: Kit) -> None:
    server = kit.testing.TestServer(hello_app(kit))
    assert (server.port, server.scheme, server.started, server.closed) == (None, "", False, False)
    await server.start_server()
    assert isinstance(server.port, int) and server.port > 0
    assert server.scheme == "http"
    assert str(server.make_url("/x?y=1")) == f"http://127.0.0.1:{server.port}/x?y=1"
    await server.close()
    assert (server.port, server.closed) == (None, True)
    await server.close()  # again: nothing happens


async def test_closing_a_server_never_started_does_nothing(kit: Kit) -> None:
    server = kit.testing.TestServer(hello_app(kit))
    await server.close()
    assert (server.started, server.closed) == (False, False)


async def test_skip_url_asserts_appends_the_path_as_text(kit: Kit) -> None:
    async with kit.testing.TestServer(hello_app(kit), skip_url_asserts=True) as server:
        root = f"http://127.0.0.1:{server.port}"
        assert str(server.make_url("//double/x")) == root + "//double/x"
    async with kit.testing.TestServer(hello_app(kit)) as server:
        with pytest.raises(AssertionError):
            server.make_url("http://other/")


@pytest.mark.parametrize("host", ["::1", "localhost"])
async def test_ipv6_and_named_hosts(kit: Kit, host: str) -> None:
    if host == "::1" and not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = kit.testing.TestServer(hello_app(kit), host=host)
        await server.start_server()
    except OSError as exc:  # an IPv6-less container
        pytest.skip(f"cannot bind {host}: {exc}")
    try:
        expected = "[::1]" if host == "::1" else "localhost"  # the URL keeps the name
        assert server.make_url("/").host_subcomponent == expected
        assert server.host == ("::1" if host == "::1" else "127.0.0.1")  # the bound address
        async with kit.testing.TestClient(server) as client:
            assert await (await client.get("/v6")).text() == "hello /v6"
    finally:
        await server.close()


async def test_a_server_is_not_a_sync_context_manager(kit: Kit) -> None:
    with pytest.raises(TypeError, match="async with"):
        with kit.testing.TestServer(hello_app(kit)):
            pass


async def test_test_client_takes_aiohttps_type_parameters(kit: Kit) -> None:
    alias = kit.testing.TestClient[kit.web.Request, kit.web.Application]
    async with alias(kit.testing.TestServer(hello_app(kit))) as client:
        assert isinstance(client, kit.testing.TestClient)
        assert await (await client.get("/t")).text() == "hello /t"
