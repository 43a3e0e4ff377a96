"""Statements as the client gets them: an institution's figures per program over a period,
as filed, and the two side by side.

Field names are the ledger's (`from` is `from_` here, a Python keyword). Unknown fields
are ignored, so a newer ledger that adds fields does not break an older client. Money is
integer fen, rates basis points.
"""

from __future__ import annotations

import datetime as dt

import msgspec

Period = str | tuple[dt.date, dt.date]
"""A statement's period: `"2025"`, `"2025-Q2"` or `"2025-06"`, or the first and last
business dates, both included."""


class Moved(msgspec.Struct, kw_only=True):
    """How many events, and the amount they moved."""

    count: int
    amount: int


class Compensated(msgspec.Struct, kw_only=True):
    """Compensations: count, approved amounts, and this institution's share of them."""

    count: int
    amount: int
    borne: int


class Defaulted(msgspec.Struct, kw_only=True):
    """Loan defaults: count and overdue principal."""

    count: int
    overdue_principal: int


class Recovered(msgspec.Struct, kw_only=True):
    """Recoveries on these guarantees' claims, and this institution's part of them."""

    amount: int
    returned: int


class StatementLine(msgspec.Struct, kw_only=True):
    """One program's figures over the period."""

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


class Statement(msgspec.Struct, kw_only=True):
    """An institution's statement over business dates from_..to, as known at known_at;
    `position` is the last log position counted."""

    institution_id: str
    kind: str
    from_: dt.date = msgspec.field(name="from")
    to: dt.date
    known_at: dt.datetime
    position: int
    programs: list[StatementLine]


class FiledStatement(Statement, kw_only=True):
    """A filed statement, recomputed from the log and checked against its digest."""

    filed_at: dt.datetime
    digest: str


class Change(msgspec.Struct, kw_only=True):
    """A figure that differs between the filed statement and the statement now; `field`
    is its JSON path within the program's line (`issued.amount`)."""

    program_id: str
    field: str
    filed: int | None
    now: int | None


class StatementComparison(msgspec.Struct, kw_only=True):
    """The filed statement beside the statement now: what changed, and the positions of
    the events counted now that were not then (reported late)."""

    filed: FiledStatement
    now: Statement
    changes: list[Change]
    late_events: list[int]


def period_params(period: Period) -> dict[str, str]:
    """The query parameters naming `period`."""
    if isinstance(period, str):
        return {"period": period}
    first, last = period
    return {"from": first.isoformat(), "to": last.isoformat()}
