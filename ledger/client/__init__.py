"""A Python client of the guarantee ledger, importable with aiohttp and msgspec alone
(checking proofs also needs cryptography).

`LedgerClient` posts events and reads the read models and statements (as computed,
as filed, and the two side by side); problems come back as the
exception class of their slug (ledger.client.errors); `checkpoint()` and `prove()`
check the log's signed checkpoints and an event's proof against the keys a user
pinned (ledger.client.proofs); `follow()` and `stream()`
iterate over the log and resume by themselves; `Consumer` (which needs asyncpg)
applies the log to the consumer's own tables with exactly-once effect.
"""

from ledger.client.backoff import LONGEST_ASKED, Backoff
from ledger.client.client import LedgerClient
from ledger.client.consumer import Consumer, Handler
from ledger.client.errors import (
    BY_SLUG,
    CapExceeded,
    ConcentrationExceeded,
    ConnectionLost,
    FieldError,
    Forbidden,
    IdempotencyConflict,
    InternalError,
    InvalidState,
    LedgerError,
    LeverageExceeded,
    MalformedJson,
    MalformedRequest,
    MethodNotAllowed,
    NotCheckpointed,
    NotEligible,
    NotFound,
    NotWitnessed,
    PayloadTooLarge,
    ProblemError,
    ProgramSuspended,
    ProofFailed,
    ServiceUnavailable,
    Unauthorized,
    UnexpectedResponse,
    UnsupportedMediaType,
    ValidationError,
    VersionConflict,
)
from ledger.client.proofs import LogKeys, ProvedEvent, TrustedCheckpoint, trusted_checkpoint
from ledger.client.readmodels import (
    ClaimShares,
    GuaranteeSummary,
    InstitutionPosition,
    ProgramSummary,
    SmeExposure,
)
from ledger.client.statements import (
    Change,
    FiledStatement,
    Period,
    Statement,
    StatementComparison,
    StatementLine,
)
from ledger.client.types import (
    Event,
    EventPage,
    NewEvent,
    Receipt,
)

__all__ = [
    "BY_SLUG",
    "LONGEST_ASKED",
    "Backoff",
    "CapExceeded",
    "Change",
    "ClaimShares",
    "ConcentrationExceeded",
    "ConnectionLost",
    "Consumer",
    "Event",
    "EventPage",
    "FieldError",
    "FiledStatement",
    "Forbidden",
    "GuaranteeSummary",
    "Handler",
    "IdempotencyConflict",
    "InstitutionPosition",
    "InternalError",
    "InvalidState",
    "LedgerClient",
    "LedgerError",
    "LeverageExceeded",
    "LogKeys",
    "MalformedJson",
    "MalformedRequest",
    "MethodNotAllowed",
    "NewEvent",
    "NotCheckpointed",
    "NotEligible",
    "NotFound",
    "NotWitnessed",
    "PayloadTooLarge",
    "Period",
    "ProblemError",
    "ProgramSummary",
    "ProgramSuspended",
    "ProofFailed",
    "ProvedEvent",
    "Receipt",
    "ServiceUnavailable",
    "SmeExposure",
    "Statement",
    "StatementComparison",
    "StatementLine",
    "TrustedCheckpoint",
    "Unauthorized",
    "UnexpectedResponse",
    "UnsupportedMediaType",
    "ValidationError",
    "VersionConflict",
    "trusted_checkpoint",
]
