"""Reading a request's body: at most MAX_BODY bytes, and a body that cannot be read is the
poster's to fix (400, or 415 for a content coding the ledger does not decode), never the
ledger's failure."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import hdrs, web

from ledger.http.context import LIMITS
from ledger.http.problems import Problem

MAX_BODY = 1024 * 1024
"""Largest body accepted: 1 MiB."""

READABLE_CODINGS = ("gzip", "deflate")
"""The content codings a body may be sent in, besides none (or `identity`)."""

log = structlog.get_logger("ledger.http")


async def read_body(request: web.Request) -> bytes:
    """The whole body; 413 past MAX_BODY, 415 in a content coding not decoded here, 400 when
    it cannot be read (not in the coding its Content-Encoding names, a malformed chunk, or
    the poster gone before it was complete)."""
    _check_coding(request)
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Problem("payload-too-large", f"the body is larger than {MAX_BODY} bytes")
    within = request.app[LIMITS].body_timeout
    try:
        if request.content.is_eof():
            # Arrived whole with its headers, as most posts do: no timer to set (3 us).
            return await request.read()
        async with asyncio.timeout(within):
            return await request.read()
    except TimeoutError:
        log.info("request.body_too_slow", content_length=request.content_length)
        request.content.feed_eof()  # nothing more is read of it: the answer, then the close
        raise Problem(
            "malformed-request",
            f"the body did not arrive within {within:g} s; send it whole, at once",
            close=True,
        ) from None
    except web.HTTPRequestEntityTooLarge:
        raise Problem("payload-too-large", f"the body is larger than {MAX_BODY} bytes") from None
    except web.RequestPayloadError as exc:
        # What is left of the body is unreadable too: end it here and close the connection
        # after the answer, rather than let the server read on into the same error.
        request.content.feed_eof()
        raise Problem(
            "malformed-request",
            f"the body could not be read: {exc}; send it as its Content-Encoding says",
            close=True,
        ) from None
    except ConnectionResetError:
        # The poster closed the connection mid-body: nothing was stored, and nobody is left
        # to read the answer. Not the database's failure, whatever OSError says.
        log.info("request.body_incomplete", content_length=request.content_length)
        raise Problem(
            "malformed-request", "the connection closed before the body was complete", close=True
        ) from None


def _check_coding(request: web.Request) -> None:
    named = ", ".join(request.headers.getall(hdrs.CONTENT_ENCODING, ()))
    if named.strip().lower() not in ("", "identity", *READABLE_CODINGS):
        raise unsupported_coding(named)


def unsupported_coding(named: str | None) -> Problem:
    """The 415 for a body in a content coding the ledger does not decode (RFC 9110 15.5.16:
    Accept-Encoding names those it does)."""
    which = "" if named is None else f" {named[:40]!r}"
    return Problem(
        "unsupported-media-type",
        f"the body's Content-Encoding{which} is not one the ledger decodes; "
        f"send it uncompressed or as {' or '.join(READABLE_CODINGS)}",
        headers={hdrs.ACCEPT_ENCODING: ", ".join(READABLE_CODINGS)},
    )
