"""``run_app(app, workers=N)``: N processes serving one port.

Scaffolding: the supervisor lands with the workers work of issue 11.
"""

from __future__ import annotations

from typing import Any


def run_workers(workers: int, app: Any, run_kwargs: dict[str, Any]) -> None:
    """Serve ``app`` from ``workers`` processes; ``run_kwargs`` are run_app's own."""
    raise NotImplementedError("run_app(workers=N) is not built yet")
