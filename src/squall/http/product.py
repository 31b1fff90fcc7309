"""What this server calls itself in the ``Server`` header (RFC 9110 10.2.4)."""

from __future__ import annotations

import sys

from squall import __version__

SERVER_SOFTWARE = f"Python/{sys.version_info[0]}.{sys.version_info[1]} squall/{__version__}"
