"""Problem details (RFC 9457): the one shape of every error answer, slugs as docs/api.md lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from aiohttp import web

from events.errors import FieldError

PROBLEM_TYPE = "application/problem+json"
"""Content type of every error answer."""

TITLES: dict[str, str] = {
    "malformed-json": "Body is not JSON",
    "malformed-request": "Request is not readable HTTP",
    "unauthorized": "Missing or unknown API key",
    "forbidden": "Not allowed for this key",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "version-conflict": "Stream version conflict",
    "idempotency-conflict": "Event id reused with different content",
    "cap-exceeded": "Per-SME cap exceeded",
    "leverage-exceeded": "Guarantor leverage limit exceeded",
    "concentration-exceeded": "Guarantor single-SME concentration limit exceeded",
    "program-suspended": "Issuance suspended by the compensation-rate limit",
    "invalid-state": "Not allowed in the current state",
    "not-eligible": "SME not eligible",
    "not-checkpointed": "No signed checkpoint covers it yet",
    "payload-too-large": "Body too large",
    "unsupported-media-type": "Body must be JSON",
    "validation-error": "Invalid input",
    "internal-error": "Internal error",
    "service-unavailable": "Service unavailable",
}
"""Title per problem slug; the slug is also the last part of the problem `type`."""

SLUG_STATUS: dict[str, int] = {
    "malformed-json": 400,
    "malformed-request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not-found": 404,
    "method-not-allowed": 405,
    "version-conflict": 409,
    "idempotency-conflict": 409,
    "cap-exceeded": 409,
    "leverage-exceeded": 409,
    "concentration-exceeded": 409,
    "program-suspended": 409,
    "invalid-state": 409,
    "not-eligible": 409,
    "not-checkpointed": 409,
    "payload-too-large": 413,
    "unsupported-media-type": 415,
    "validation-error": 422,
    "internal-error": 500,
    "service-unavailable": 503,
}
"""The status each slug is answered with."""


class ProblemBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An error answer. Some problems add fields (current_version, balance, cap, ...)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    """Present on 422: every invalid field with its JSON path."""


class Problem(Exception):
    """Raised by a handler to answer with a problem; nothing else is sent."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        status: int | None = None,
        errors: list[FieldError] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        close: bool = False,
    ) -> None:
        """A problem of a known slug; `status` defaults to the slug's. With `close`, the
        connection closes after the answer (what follows on it cannot be read)."""
        super().__init__(detail)
        self.slug = slug
        self.status = SLUG_STATUS[slug] if status is None else status
        self.detail = detail
        self.errors = errors
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})
        self.close = close


_encode = msgspec.json.Encoder().encode


def problem_response(problem: Problem) -> web.Response:
    """The problem+json answer for a problem."""
    body: dict[str, Any] = {
        # Extra fields first: the standard members below always win a name clash.
        **problem.extra,
        "type": f"/problems/{problem.slug}",
        "title": TITLES.get(problem.slug, problem.slug),
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        body["errors"] = problem.errors
    response = web.Response(
        status=problem.status,
        body=_encode(body),
        content_type=PROBLEM_TYPE,
        headers=problem.headers,
    )
    if problem.close:
        response.force_close()
    return response


def invalid(path: str, message: str) -> Problem:
    """A 422 validation-error about one field (query parameters included)."""
    return Problem(
        "validation-error", f"{path}: {message}", errors=[FieldError(path=path, message=message)]
    )


def unavailable(detail: str = "the database cannot be reached; retry later") -> Problem:
    """A 503 service-unavailable with a retry hint."""
    return Problem("service-unavailable", detail, headers={"Retry-After": "1"})
