"""The ledger's problems as exceptions: one class per slug, one common base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec


class LedgerError(Exception):
    """Anything the client raises about the ledger."""


class ConnectionLost(LedgerError):
    """The ledger could not be reached, or the connection broke, after every retry."""


class ProofFailed(LedgerError):
    """What the ledger answered does not prove what was asked: a signature, a proof or the
    event proven does not hold against the keys pinned (ledger/client/proofs.py)."""


class NotWitnessed(LedgerError):
    """The log's checkpoint holds, but fewer of the pinned witnesses have cosigned it yet
    than `min_witnesses` asks. Not evidence of tampering: witnesses cosign the latest
    checkpoint when they next run, so ask again (the `wait` of `checkpoint` and `prove`)."""


class UnexpectedResponse(LedgerError):
    """An answer that is not the ledger's (no problem document), e.g. from a proxy."""

    def __init__(self, status: int, body: bytes) -> None:
        """The status and the start of the body, for the message."""
        super().__init__(f"HTTP {status}: {body[:200]!r}")
        self.status = status
        self.body = body


class FieldError(msgspec.Struct, kw_only=True):
    """One invalid field of a 422 answer."""

    path: str
    message: str


class ProblemError(LedgerError):
    """An error answer of the ledger, carrying its problem document (RFC 9457)."""

    slug: ClassVar[str] = ""
    """The slug this class stands for (the last part of the problem `type`)."""

    def __init__(
        self, problem: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        """From the decoded problem document (and the answer's headers)."""
        self.problem: dict[str, Any] = dict(problem)
        """The whole document, extra members included (current_version, balance, cap, ...)."""
        self.status: int = int(problem.get("status", 0))
        self.title: str = str(problem.get("title", ""))
        self.detail: str = str(problem.get("detail", ""))
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(f"{self.status} {problem.get('type', '')}: {self.detail}")

    @property
    def errors(self) -> list[FieldError]:
        """The invalid fields (422 answers), else empty."""
        return msgspec.convert(self.problem.get("errors") or [], list[FieldError])

    @property
    def retry_after(self) -> float | None:
        """Seconds the ledger asked to wait before retrying, if it said."""
        # Looked up whatever its case: a proxy may pass header names on in lower case.
        value = next((v for k, v in self.headers.items() if k.lower() == "retry-after"), "")
        return float(value) if value.isdigit() else None


class MalformedJson(ProblemError):
    """400: the body is not JSON."""

    slug = "malformed-json"


class MalformedRequest(ProblemError):
    """400: the request is not readable HTTP (its framing, not its body)."""

    slug = "malformed-request"


class Unauthorized(ProblemError):
    """401: no key, or an unknown or revoked key."""

    slug = "unauthorized"


class Forbidden(ProblemError):
    """403: the key's role may not do this."""

    slug = "forbidden"


class NotFound(ProblemError):
    """404: unknown stream, guarantee, claim, ..."""

    slug = "not-found"


class MethodNotAllowed(ProblemError):
    """405: the route has no such method."""

    slug = "method-not-allowed"


class VersionConflict(ProblemError):
    """409: expected_version mismatch (problem['current_version'])."""

    slug = "version-conflict"


class IdempotencyConflict(ProblemError):
    """409: the event_id was used before with different content."""

    slug = "idempotency-conflict"


class CapExceeded(ProblemError):
    """409: the per-SME cap (balance, cap, requested)."""

    slug = "cap-exceeded"


class InvalidState(ProblemError):
    """409: not allowed in the current state."""

    slug = "invalid-state"


class NotEligible(ProblemError):
    """409: the SME lacks a valid eligible category."""

    slug = "not-eligible"


class ProgramSuspended(ProblemError):
    """409: the institution is suspended in that program."""

    slug = "program-suspended"


class LeverageExceeded(ProblemError):
    """409: the guarantor's in-force balance is over its leverage limit."""

    slug = "leverage-exceeded"


class ConcentrationExceeded(ProblemError):
    """409: the guarantor's balance to one SME is over its limit."""

    slug = "concentration-exceeded"


class NotCheckpointed(ProblemError):
    """409: no signed checkpoint covers that event yet (see retry_after)."""

    slug = "not-checkpointed"


class PayloadTooLarge(ProblemError):
    """413: the body is over the limit."""

    slug = "payload-too-large"


class UnsupportedMediaType(ProblemError):
    """415: the body is not JSON."""

    slug = "unsupported-media-type"


class ValidationError(ProblemError):
    """422: wrong types, missing fields or bad values (see errors)."""

    slug = "validation-error"


class InternalError(ProblemError):
    """500: the ledger failed; it logged why."""

    slug = "internal-error"


class ServiceUnavailable(ProblemError):
    """503: the database is unreachable; retry later."""

    slug = "service-unavailable"


BY_SLUG: dict[str, type[ProblemError]] = {
    cls.slug: cls
    for cls in (
        MalformedJson,
        MalformedRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        VersionConflict,
        IdempotencyConflict,
        CapExceeded,
        InvalidState,
        NotEligible,
        ProgramSuspended,
        LeverageExceeded,
        ConcentrationExceeded,
        NotCheckpointed,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationError,
        InternalError,
        ServiceUnavailable,
    )
}
"""The exception class of every slug the ledger answers with."""


def problem_error(
    problem: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> ProblemError:
    """The exception for a problem document: its slug's class, or ProblemError if unknown."""
    slug = str(problem.get("type", "")).rsplit("/", 1)[-1]
    return BY_SLUG.get(slug, ProblemError)(problem, headers)
