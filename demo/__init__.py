"""The demo `make run` serves: every aiohttp cheatsheet snippet, running on Squall."""

from demo.app import make_app

__all__ = ["make_app"]
