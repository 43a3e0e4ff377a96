"""What crosses the wire: ids as path segments, and answers as results or the errors
they mean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import quote

import msgspec

from ledger.client.errors import ServiceUnavailable, UnexpectedResponse, problem_error

T = TypeVar("T")

GATEWAY_STATUSES = frozenset({502, 503, 504})
"""Statuses a proxy in front of the ledger answers while the ledger is away."""


def error_of(status: int, data: bytes, content_type: str, headers: Mapping[str, str]) -> Exception:
    """The exception an answer of 400 or more means: its problem's class, a 503 for a
    proxy's gateway status, else UnexpectedResponse."""
    if content_type == "application/problem+json":
        try:
            problem = msgspec.json.decode(data)
        except msgspec.DecodeError:
            problem = None
        if isinstance(problem, dict):
            return problem_error(problem, headers)
    if status in GATEWAY_STATUSES:
        # A proxy's answer while the ledger is away (a restart, a deploy): retried like
        # the ledger's own 503, with a problem document of the status alone (RFC 9457).
        return ServiceUnavailable(
            {
                "type": "about:blank",
                "status": status,
                "title": "Service unavailable",
                "detail": f"HTTP {status} without a problem document: {data[:200]!r}",
            },
            headers,
        )
    return UnexpectedResponse(status, data)


def segment(value: str) -> str:
    """`value` as one path segment: every character that would end or leave it
    (`/`, `?`, `#`, `%`, ...) escaped, so an id never names another resource. ValueError
    for an empty id, `.` or `..`, which a URL resolves away whatever their escaping."""
    if value in ("", ".", ".."):
        raise ValueError(f"{value!r} is no id: an id starts with a letter or digit")
    return quote(value, safe="")


def decoded(status: int, data: bytes, kind: type[T]) -> T:
    """A success's body as `kind`; UnexpectedResponse when it is not one (not the ledger's,
    e.g. a proxy's page answered 200)."""
    try:
        return msgspec.json.decode(data, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise UnexpectedResponse(status, data) from None
