"""The demo package lives at the repository root, outside ``src``: make it importable
however pytest is started (``python -m pytest`` adds the cwd, ``pytest`` does not)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
