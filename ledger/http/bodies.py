"""Reading a request's body: at most MAX_BODY bytes, and a body that cannot be read is the
poster's to fix (400), never the ledger's failure."""

from __future__ import annotations

from aiohttp import web

from ledger.http.problems import Problem

MAX_BODY = 1024 * 1024
"""Largest body accepted: 1 MiB."""


async def read_body(request: web.Request) -> bytes:
    """The whole body; 413 past MAX_BODY, 400 when it cannot be read (its Content-Encoding
    names a compression the bytes are not in, or a chunk is malformed)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise Problem("payload-too-large", f"the body is larger than {MAX_BODY} bytes")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Problem("payload-too-large", f"the body is larger than {MAX_BODY} bytes") from None
    except web.RequestPayloadError as exc:
        raise Problem(
            "malformed-request",
            f"the body could not be read: {exc}; send it as its Content-Encoding says",
        ) from None
