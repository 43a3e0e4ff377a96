"""The answers of GET /v1/statements/{institution_id} as types: what the route sends
and what the OpenAPI document describes."""

from __future__ import annotations

import msgspec


class _Body(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """As the read-model answers (ledger/http/schemas.py): field order is the order on the wire."""


class Moved(_Body):
    """How many events, and the amount they moved."""

    count: int
    amount: int


class Compensated(_Body):
    """Compensations: count, approved amounts, and this institution's share of them."""

    count: int
    amount: int
    borne: int


class Defaulted(_Body):
    """Loan defaults: count and overdue principal."""

    count: int
    overdue_principal: int


class Recovered(_Body):
    """Recoveries on these guarantees' claims, and this institution's part of them."""

    amount: int
    returned: int


class StatementLine(_Body):
    """One program's figures over the period, in integer fen."""

    program_id: str
    opening_in_force: int
    issued: Moved
    renewed_net: int
    repaid: int
    released: Moved
    compensated: Compensated
    closed: Moved
    closing_in_force: int
    discharged: int
    compensation_rate_bp: int | None
    defaulted: Defaulted
    recovered: Recovered
    net_loss: int


class Statement(_Body):
    """An institution's statement over business dates from..to, as known at known_at."""

    institution_id: str
    kind: str
    from_: str = msgspec.field(name="from")
    to: str
    known_at: str
    position: int
    programs: list[StatementLine]


class FiledStatement(Statement):
    """A filed statement recomputed from the log and checked against its digest."""

    filed_at: str
    digest: str


class Change(_Body):
    """A figure that differs between the filed statement and the statement now."""

    program_id: str
    field: str
    filed: int | None
    now: int | None


class StatementComparison(_Body):
    """The filed statement beside the statement now: what changed, and the late events."""

    filed: FiledStatement
    now: Statement
    changes: list[Change]
    late_events: list[int]


STATEMENT_ANSWERS: tuple[type[msgspec.Struct], ...] = (
    Statement,
    FiledStatement,
    StatementComparison,
)
"""The three answers of the route (a statement, ?filed=latest, ?compare=filed)."""
