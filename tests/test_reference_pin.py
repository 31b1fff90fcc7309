"""The differential tests' reference is one aiohttp release, pinned on purpose.

tests/framework compares Squall's bytes with aiohttp's, and test_web_surface.py
counts aiohttp.web's names: both are about the release pinned in pyproject's
``test`` extra. An environment with another aiohttp would compare against
something else without saying so.
"""

from __future__ import annotations

import importlib.metadata as metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_installed_aiohttp_is_the_pinned_one() -> None:
    extra = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]["test"]
    [pin] = [req for req in map(Requirement, extra) if req.name == "aiohttp"]
    assert str(pin.specifier).startswith("=="), f"aiohttp must be pinned, not {pin.specifier}"
    assert str(pin.specifier) == "==" + metadata.version("aiohttp")
