"""The asyncio side: one protocol per connection, the listening server, timeouts."""

from squall.server.config import ServerConfig
from squall.server.server import Server

__all__ = ["Server", "ServerConfig"]
