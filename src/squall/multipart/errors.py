"""The multipart decoder's errors: one small hierarchy, each with the status it earns."""

from __future__ import annotations


class MultipartError(ValueError):
    """The body is not multipart the decoder will accept; ``status`` is the answer
    it deserves (400 for malformed input, 413 for a bound passed)."""

    status = 400


class MultipartLimitError(MultipartError):
    """A bound was passed (too many parts, too large a part header section…)."""

    status = 413


class TooManyPartsError(MultipartLimitError):
    """More parts than ``max_parts``."""

    def __init__(self, max_parts: int) -> None:
        super().__init__(f"More than {max_parts} parts")
        self.max_parts = max_parts
