"""The access log: one line per answered request, in aiohttp's format language.

The application calls ``log(request, response, time)`` after each response when
a logger is installed (the runner installs one from ``access_log``,
``access_log_class`` and ``access_log_format``) and its ``enabled`` is true.

The format language (Apache's, as aiohttp reads it)::

    %%        a percent sign
    %a        the peer's address (request.remote), "-" when unknown
    %t        when the request started, [10/Oct/2026:13:55:36 +0000] in local time
    %P        the process id, as <1234>
    %r        the request line: method, path and query, HTTP/x.y
    %s        the status
    %b        the bytes sent for the answer, head included (what aiohttp reports)
    %T        seconds taken, rounded to an integer
    %Tf       seconds taken, with six decimals
    %D        microseconds taken
    %{Foo}i   the request's Foo header, "-" when absent
    %{Foo}o   the response's Foo header, "-" when absent
    %{FOO}e   the environment variable FOO, "-" when unset

Anything else (``%x``, a ``%`` at the end, ``%{a b}i``) is written as it stands.
Every value also reaches the ``LogRecord`` as an attribute (``extra``) named as
aiohttp names it, so a formatter written for aiohttp's access log keeps working.

PERF: turning the log on must cost under 10% of requests per second, where a
plaintext request costs ~10 µs of server CPU in all (bench/accesslog.py; the
figures are in docs/logging.md). Hence:

- a format is compiled once (per format string, shared by instances) into one
  generated function with no per-directive call or loop;
- the ``%t`` text is made once per second;
- the request line and request headers are read from the raw target and raw
  headers, unless the request already built ``path_qs`` / ``headers``;
- with the plain ``logging.Logger`` and record factory, the ``LogRecord`` is a
  copy of a template record (per thread and process) with this line's fields
  set, handed to ``logger.handle``: what ``logger.info`` does minus finding the
  caller's frame and running ``LogRecord.__init__`` (~2 µs). Any other logger
  or record factory takes ``logger.info``;
- nothing at all when ``enabled`` is false (the caller checks it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time as time_mod
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy

from squall.http.dates import http_date_now
from squall.http.product import SERVER_SOFTWARE

if TYPE_CHECKING:
    from squall.framework.request import BaseRequest
    from squall.framework.streamresponse import StreamResponse

# fills ``extra`` with the record's attributes and returns the line
LineMaker = Callable[["BaseRequest", "StreamResponse", float, float, dict[str, Any]], str]


class AbstractAccessLogger(ABC):
    """The base of custom access loggers: override ``log`` (and ``enabled`` to skip work)."""

    __slots__ = ("log_format", "logger")

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        self.logger = logger
        self.log_format = log_format

    @abstractmethod
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write one line for ``request`` answered by ``response`` in ``time`` seconds."""

    @property
    def enabled(self) -> bool:
        """False skips ``log`` altogether; always true here, as on aiohttp."""
        return True


# -- the pieces a line is made of --------------------------------------------------


class _StartClock:
    """The ``%t`` text of one second, made once per second (strftime costs ~2 µs)."""

    __slots__ = ("cached",)

    def __init__(self) -> None:
        self.cached: tuple[int, str] = (-1, "")

    def text(self, second: int) -> str:
        # the local offset of that very second, so a DST change shows at once
        text = time_mod.strftime("[%d/%b/%Y:%H:%M:%S %z]", time_mod.localtime(second))
        self.cached = (second, text)  # one assignment: a racing thread sees old or new
        return text


_CLOCK = _StartClock()
_HTTP_VERSIONS = {(1, 1): "HTTP/1.1", (1, 0): "HTTP/1.0"}


def _first_line(request: BaseRequest) -> str:
    """``%r``: method, ``path_qs`` and version, as aiohttp writes them."""
    head = request._head  # PERF: the parsed head's slots, not three properties
    method = head.method
    path_qs = request.__dict__.get("path_qs")
    if path_qs is None:
        target = head.target
        if (
            target[0] == "/"
            and target[1:2] != "/"
            and target[-1] != "?"
            and "#" not in target
            and method != "CONNECT"
        ):
            # PERF: for such an origin-form target path_qs (yarl's str of it, ~1 µs)
            # is the target itself: yarl only rewrites a leading "//", drops an
            # empty query and moves a fragment (tests/accesslog pin this)
            path_qs = target
        else:
            try:
                path_qs = request.path_qs
            except Exception:  # a target the app answered with a 400: log it as sent
                path_qs = target
    version = head.version
    text = _HTTP_VERSIONS.get(version) or f"HTTP/{version[0]}.{version[1]}"
    return f"{method} {path_qs} {text}"


def _request_headers(
    request: BaseRequest, names: tuple[str, ...], lowered: tuple[bytes, ...]
) -> list[str]:
    """The values of request headers ``names`` (first of each), "-" for the absent."""
    headers = request.__dict__.get("headers")
    if headers is not None:  # already built for the handler: use it
        return [headers.get(name, "-") for name in names]
    # PERF: building request.headers costs ~0.1 µs per field; one pass over the raw
    # fields, decoded as request.headers decodes them, picks out the few we need
    found: dict[bytes, bytes] = {}
    for raw_name, raw_value in request._head.raw_headers:
        key = raw_name.lower()
        if key in lowered and key not in found:
            found[key] = raw_value
    if not found:
        return ["-"] * len(lowered)
    # RFC 9110 5.5: surrounding whitespace is not part of a field value (aiohttp's too)
    return [
        found[key].decode("utf-8", "surrogateescape").strip(" \t") if key in found else "-"
        for key in lowered
    ]


def _response_header(response: StreamResponse, name: str) -> str:
    """``%{Name}o``: the response's header; for the fields the server writes itself
    (``Content-Length``, ``Date``, ``Server``) the value it wrote, as aiohttp logs
    them; "-" when absent."""
    value = response.headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    if lowered == "content-length":
        length = response.content_length
        return "-" if length is None else str(length)
    if lowered == "date":
        return http_date_now()
    if lowered == "server":
        return SERVER_SOFTWARE
    return "-"


# -- compiling a format ------------------------------------------------------------

# "%{name}i|o|e", a one-letter directive, "%Tf", or "%%"; any other "%" is text
_DIRECTIVE = re.compile(r"%(?:\{([A-Za-z0-9_-]+)\}([ioe])|(Tf|[atPrsbTD])|(%))")

# directive -> (the LogRecord attribute aiohttp names it, statements setting ``{v}``)
_SIMPLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "a": ("remote_address", ("{v} = request.remote", "{v} = '-' if {v} is None else {v}")),
    "t": (
        "request_start_time",
        (
            "c = _CLOCK.cached",
            "s = int(now - elapsed)",
            "{v} = c[1] if c[0] == s else _CLOCK.text(s)",
        ),
    ),
    "P": ("process_id", ("{v} = '<%d>' % _getpid()",)),
    "r": ("first_request_line", ("{v} = _first_line(request)",)),
    "s": ("response_status", ("{v} = response.status",)),
    # aiohttp's body_length is what its writer put on the wire, head included
    "b": ("response_size", ("{v} = request._sink.bytes_sent",)),
    "T": ("request_time", ("{v} = str(round(elapsed))",)),
    "Tf": ("request_time_frac", ("{v} = '%06f' % elapsed",)),
    "D": ("request_time_micro", ("{v} = str(round(elapsed * 1000000))",)),
}
_KEYED = {"i": "request_header", "o": "response_header", "e": "environ"}


class CompiledFormat(NamedTuple):
    """A format compiled: the function, its source, the record attributes it sets."""

    make_line: LineMaker
    source: str
    attributes: tuple[str, ...]


def compile_format(log_format: str) -> CompiledFormat:
    """Compile ``log_format`` into a function that fills ``extra`` and returns the line.

    Names inside ``%{...}`` match ``[A-Za-z0-9_-]+``, so ``repr`` of them is safe
    to put in the source; literal text goes only into the %-template constant.
    """
    template: list[str] = []
    body: list[str] = []
    simple_extra: dict[str, str] = {}  # attribute -> variable (the last one wins)
    keyed_extra: dict[str, dict[str, str]] = {}  # attribute -> {name: variable}
    in_names: list[str] = []
    pos = 0
    for n, match in enumerate(_DIRECTIVE.finditer(log_format)):
        template.append(log_format[pos : match.start()].replace("%", "%%"))
        pos = match.end()
        name, kind, letter, percent = match.groups()
        if percent:
            template.append("%%")
            continue
        var = f"v{n}"
        template.append("%s")
        if letter:
            attribute, statements = _SIMPLE[letter]
            body += [statement.replace("{v}", var) for statement in statements]
            simple_extra[attribute] = var
        else:
            if kind == "i":
                in_names.append(name)
                body.append(f"{var} = ih[{len(in_names) - 1}]")
            elif kind == "o":
                body.append(f"{var} = _response_header(response, {name!r})")
            else:
                body.append(f"{var} = _environ.get({name!r}, '-')")
            keyed_extra.setdefault(_KEYED[kind], {})[name] = var
    template.append(log_format[pos:].replace("%", "%%"))
    if in_names:
        body.insert(0, "ih = _request_headers(request, _IN, _IN_LOWER)")
    body += [f"extra[{attr!r}] = {var}" for attr, var in simple_extra.items()]
    for attr, names in keyed_extra.items():
        pairs = ", ".join(f"{name!r}: {var}" for name, var in names.items())
        body.append(f"extra[{attr!r}] = {{{pairs}}}")
    variables = [f"v{n}" for n, m in enumerate(_DIRECTIVE.finditer(log_format)) if not m[4]]
    body.append(f"return _TEMPLATE % ({''.join(v + ', ' for v in variables)})")
    source = "def make_line(request, response, elapsed, now, extra):\n" + "".join(
        f"    {line}\n" for line in body
    )
    namespace: dict[str, Any] = {
        "_TEMPLATE": "".join(template),
        "_CLOCK": _CLOCK,
        "_first_line": _first_line,
        "_request_headers": _request_headers,
        "_response_header": _response_header,
        "_IN": tuple(in_names),
        "_IN_LOWER": tuple(name.lower().encode("ascii") for name in in_names),
        "_environ": os.environ,
        "_getpid": os.getpid,
    }
    # SECURITY: the source holds only our statements and [A-Za-z0-9_-] names (above)
    exec(compile(source, f"<access log format {log_format!r}>", "exec"), namespace)
    attributes = (*simple_extra, *keyed_extra)
    return CompiledFormat(namespace["make_line"], source, attributes)


# -- records -------------------------------------------------------------------------

_PLAIN_LOGGERS = (logging.Logger, logging.RootLogger)
_LogRecord = logging.LogRecord
_new_record = logging.LogRecord.__new__


class _Forks:
    """Counts forks, so a child rebuilds the record template (its process id)."""

    generation = 0

    @classmethod
    def forked(cls) -> None:
        cls.generation += 1


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_Forks.forked)


class _RecordTemplate:
    """A LogRecord's attributes that stay the same from line to line in one thread."""

    __slots__ = ("attrs", "generation", "relative_offset", "task_names", "thread")

    def __init__(self, logger: logging.Logger, attributes: tuple[str, ...], thread: int) -> None:
        record = logger.makeRecord(
            logger.name, logging.INFO, __file__, _LOG_LINE, "", (), None, "log"
        )
        # PERF: the format's attributes are there already, so a copy never resizes
        self.attrs = {**record.__dict__, **dict.fromkeys(attributes)}
        self.thread = thread
        self.generation = _Forks.generation
        # relativeCreated = (created - logging's start) * 1000, without its private name
        self.relative_offset = record.relativeCreated - record.created * 1000.0
        # Python 3.12+ records carry the asyncio task's name when asked to
        self.task_names = "taskName" in self.attrs and getattr(logging, "logAsyncioTasks", False)


def _task_name() -> str | None:
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop: a line logged from plain code
        return None
    return None if task is None else task.get_name()


class AccessLogger(AbstractAccessLogger):
    """aiohttp's default access logger and format language (see the module docstring)."""

    __slots__ = ("_compiled", "_make_line", "_template")

    LOG_FORMAT = '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'
    _FORMAT_CACHE: ClassVar[dict[str, CompiledFormat]] = {}
    _FORMAT_CACHE_SIZE: ClassVar[int] = 256  # formats are few; a runaway caller stops here

    def __init__(self, logger: logging.Logger, log_format: str = LOG_FORMAT) -> None:
        super().__init__(logger, log_format)
        compiled = AccessLogger._FORMAT_CACHE.get(log_format)
        if compiled is None:
            compiled = compile_format(log_format)
            if len(AccessLogger._FORMAT_CACHE) < AccessLogger._FORMAT_CACHE_SIZE:
                AccessLogger._FORMAT_CACHE[log_format] = compiled
        self._compiled = compiled
        self._make_line = compiled.make_line
        self._template: _RecordTemplate | None = None

    @property
    def enabled(self) -> bool:
        """Whether the logger writes INFO: when not, no line is made at all."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write the line for ``request`` answered by ``response`` in ``time`` seconds."""
        try:
            logger = self.logger
            if not logger.isEnabledFor(logging.INFO):
                return
            now = time_mod.time()
            if type(logger) in _PLAIN_LOGGERS and logging.getLogRecordFactory() is _LogRecord:
                logger.handle(self._record(request, response, time, now))
            else:  # a Logger subclass, an adapter or a record factory: the long way
                extra: dict[str, Any] = {}
                line = self._make_line(request, response, time, now, extra)
                logger.info(line, extra=extra)
        except Exception:  # a broken format value or handler never breaks the response
            self.logger.exception("Error in logging")

    def _record(
        self, request: BaseRequest, response: StreamResponse, time: float, now: float
    ) -> logging.LogRecord:
        """The LogRecord ``logger.info(line, extra=...)`` would make, made cheaply."""
        thread = threading.get_ident()
        template = self._template
        if (
            template is None
            or template.thread != thread
            or template.generation != _Forks.generation
        ):
            template = self._template = _RecordTemplate(
                self.logger, self._compiled.attributes, thread
            )
        attrs = template.attrs.copy()
        attrs["msg"] = self._make_line(request, response, time, now, attrs)
        attrs["created"] = now
        attrs["msecs"] = int((now - int(now)) * 1000) + 0.0  # as LogRecord computes it
        attrs["relativeCreated"] = now * 1000.0 + template.relative_offset
        if template.task_names:
            attrs["taskName"] = _task_name()
        record: logging.LogRecord = _new_record(_LogRecord)
        record.__dict__ = attrs
        return record


_LOG_LINE = AccessLogger.log.__code__.co_firstlineno

# -- what the server refused by itself ---------------------------------------------


class _RefusedHead:
    """The request line aiohttp logs for a request it could not read."""

    __slots__ = ()
    method = "UNKNOWN"
    target = "/"
    version = (1, 0)
    raw_headers: tuple[tuple[bytes, bytes], ...] = ()


class _RefusedRequest:
    """The request a refused one is logged as: ``UNKNOWN / HTTP/1.0``, no headers.

    The attributes a custom logger most often reads are there (method, path,
    version, headers, remote); the format's own code reads ``_head`` and ``_sink``.
    """

    _head = _RefusedHead()
    method = "UNKNOWN"
    path = raw_path = path_qs = "/"
    query_string = ""
    version = (1, 0)

    def __init__(self, sink: Any, size: int) -> None:
        self._sink = self  # %b reads _sink.bytes_sent: this answer's bytes
        self.bytes_sent = size
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
        peer = sink.get_extra_info("peername")
        self.remote = str(peer[0]) if isinstance(peer, list | tuple) else peer


class _RefusedResponse:
    __slots__ = ("content_length", "headers", "status")

    def __init__(self, status: int) -> None:
        self.status = status
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.content_length: int | None = None


def log_refused(access: AbstractAccessLogger, sink: Any, status: int, size: int) -> None:
    """A line for an answer the server gave without a handler (a malformed head, a
    too-long target, a head timeout, too many connections), as aiohttp logs one."""
    try:
        if access.enabled:
            access.log(
                _RefusedRequest(sink, size),  # type: ignore[arg-type]
                _RefusedResponse(status),  # type: ignore[arg-type]
                0.0,
            )
    except Exception:
        logging.getLogger("squall.server").exception("Error in logging")


__all__ = [
    "AbstractAccessLogger",
    "AccessLogger",
    "CompiledFormat",
    "compile_format",
    "log_refused",
]
