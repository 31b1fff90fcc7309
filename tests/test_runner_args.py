"""Runner and run_app keyword arguments: aiohttp's names are taken, typos refused."""

from __future__ import annotations

import pytest

from squall import web


def test_app_runner_refuses_an_unknown_keyword() -> None:
    with pytest.raises(TypeError, match="handler_cancelation"):
        web.AppRunner(web.Application(), handler_cancelation=True)


def test_app_runner_takes_aiohttps_handler_arguments() -> None:
    runner = web.AppRunner(
        web.Application(),
        handler_cancellation=True,
        keepalive_timeout=5.0,
        max_line_size=4096,
        max_field_size=4096,
        max_headers=64,
        lingering_time=1.0,
        tcp_keepalive=True,
        read_bufsize=2**16,
        auto_decompress=True,
        timeout_ceil_threshold=5,
        debug=False,
        access_log=None,
        access_log_format="%a",
        shutdown_timeout=1.0,
    )
    assert runner.server is None


async def test_unknown_handler_args_of_the_app_are_refused_at_setup() -> None:
    app = web.Application(handler_args={"max_pipelin": 4})
    runner = web.AppRunner(app)
    with pytest.raises(TypeError, match="max_pipelin"):
        await runner.setup()


async def test_handler_args_reach_the_server() -> None:
    app = web.Application(handler_args={"max_pipeline": 4, "handler_cancellation": True})
    runner = web.AppRunner(app, keepalive_timeout=3.0)
    await runner.setup()
    try:
        assert runner.server is not None
        config = runner.server.config
        assert (config.max_pipeline, config.handler_cancellation) == (4, True)
        assert config.keepalive_timeout == 3.0
    finally:
        await runner.cleanup()


def test_run_app_refuses_an_unknown_keyword_before_starting() -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        web.run_app(web.Application(), no_such_option=1, print=None)


async def test_sites_refuse_unknown_keywords() -> None:
    runner = web.AppRunner(web.Application())
    await runner.setup()
    try:
        with pytest.raises(TypeError):
            web.TCPSite(runner, "127.0.0.1", 0, reuse_adress=True)  # type: ignore[call-arg]
        with pytest.warns(DeprecationWarning, match="should be set on BaseRunner"):
            site = web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=1.0)
        assert runner._shutdown_timeout == 1.0  # as aiohttp: the site's goes to the runner
        await site.start()
        assert site.port != 0
    finally:
        await runner.cleanup()
