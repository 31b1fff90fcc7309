"""The access log: one line per answered request, in aiohttp's format language.

The application calls ``log(request, response, time)`` after each response when
a logger is installed (the runner installs one from ``access_log``,
``access_log_class`` and ``access_log_format``) and its ``enabled`` is true.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from squall.framework.request import BaseRequest
    from squall.framework.streamresponse import StreamResponse


class AbstractAccessLogger(ABC):
    """The base of custom access loggers: override ``log``."""

    __slots__ = ("log_format", "logger")

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        self.logger = logger
        self.log_format = log_format

    @abstractmethod
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write one line for ``request`` answered by ``response`` in ``time`` seconds."""

    @property
    def enabled(self) -> bool:
        """False skips ``log`` altogether (the default: the logger's INFO level is off)."""
        return self.logger.isEnabledFor(logging.INFO)


class AccessLogger(AbstractAccessLogger):
    """aiohttp's default access logger and format language."""

    LOG_FORMAT = '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        # TODO(access log work): the format language; this is the interface only
        self.logger.info(
            '%s "%s %s" %s', request.remote, request.method, request.path_qs, response.status
        )


__all__ = ["AbstractAccessLogger", "AccessLogger"]
