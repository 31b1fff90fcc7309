"""``python -m demo [--host H] [--port P]``: serve the demo (what ``make run`` does)."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence

from demo.app import make_app
from squall import web


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo", description="Serve the Squall demo")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="TCP port to listen on")
    args = parser.parse_args(argv)
    # aiohttp_session's request keys are plain strings (kept for code that reads
    # request["aiohttp_session"]); the advice to use RequestKey is not the demo's to take
    warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module=r"squall\.sessions\.")
    web.run_app(make_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
