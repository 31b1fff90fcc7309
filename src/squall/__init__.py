"""Squall: a fast, strict asyncio HTTP/1.1 server and web framework with aiohttp's server API."""

__version__ = "0.1.0"
