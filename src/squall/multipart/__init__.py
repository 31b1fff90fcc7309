"""Multipart decoding without I/O (RFC 2046 5.1, RFC 7578): bytes in, events out."""

from squall.multipart.decoder import (
    NEED_DATA,
    Event,
    Finished,
    MultipartDecoder,
    PartData,
    PartEnded,
    PartStarted,
)
from squall.multipart.errors import MultipartError, MultipartLimitError, TooManyPartsError
from squall.multipart.headers import (
    PartHeaders,
    check_boundary,
    disposition_param,
    parse_content_disposition,
)

__all__ = [
    "NEED_DATA",
    "Event",
    "Finished",
    "MultipartDecoder",
    "MultipartError",
    "MultipartLimitError",
    "PartData",
    "PartEnded",
    "PartHeaders",
    "PartStarted",
    "TooManyPartsError",
    "check_boundary",
    "disposition_param",
    "parse_content_disposition",
]
