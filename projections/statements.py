"""Statements: an institution's movements per program over business dates, summed
from the movements read model (projections/movements.py) by two index ranges."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import asyncpg

from events.stored import CANONICAL
from projections.movements import NAME, institution_key

# Opening sums what lies before the period ($2), closing everything up to its end ($3);
# the movements are the rows within it. The checkpoint names the generation readers see.
STATEMENT_SQL = """
WITH cp AS (SELECT generation FROM projection_checkpoints WHERE name = 'movements')
SELECT r.program_id,
       coalesce(sum(r.in_force) FILTER (WHERE r.business_date < $2), 0) AS opening,
       coalesce(sum(r.in_force), 0) AS closing,
       count(*) FILTER (WHERE kind = 'issued' AND business_date >= $2)
           AS issued_count,
       coalesce(sum(amount) FILTER (WHERE kind = 'issued' AND business_date >= $2), 0)
           AS issued_amount,
       coalesce(sum(amount) FILTER (WHERE kind = 'renewed' AND business_date >= $2), 0)
           AS renewed_net,
       coalesce(sum(amount) FILTER (WHERE kind = 'repaid' AND business_date >= $2), 0)
           AS repaid,
       count(*) FILTER (WHERE kind = 'released' AND business_date >= $2)
           AS released_count,
       coalesce(sum(amount) FILTER (WHERE kind = 'released' AND business_date >= $2), 0)
           AS released_amount,
       count(*) FILTER (WHERE kind = 'compensated' AND business_date >= $2)
           AS compensated_count,
       coalesce(sum(amount) FILTER (WHERE kind = 'compensated' AND business_date >= $2), 0)
           AS compensated_amount,
       coalesce(sum(share) FILTER (WHERE kind = 'compensated' AND business_date >= $2), 0)
           AS compensated_borne,
       count(*) FILTER (WHERE kind = 'closed' AND business_date >= $2)
           AS closed_count,
       coalesce(sum(amount) FILTER (WHERE kind = 'closed' AND business_date >= $2), 0)
           AS closed_amount,
       count(*) FILTER (WHERE kind = 'defaulted' AND business_date >= $2)
           AS defaulted_count,
       coalesce(sum(amount) FILTER (WHERE kind = 'defaulted' AND business_date >= $2), 0)
           AS overdue_principal,
       coalesce(sum(amount) FILTER (WHERE kind = 'recovered' AND business_date >= $2), 0)
           AS recovered_amount,
       coalesce(sum(share) FILTER (WHERE kind = 'recovered' AND business_date >= $2), 0)
           AS recovered_returned,
       max(r.position) AS last_position
  FROM cp JOIN proj_movement_rows r ON r.generation = cp.generation
 WHERE r.institution_id = $1
   AND r.business_date <= $3
   AND ($4::timestamptz IS NULL OR r.recorded_at <= $4)
   AND ($5::bigint IS NULL OR r.position <= $5)
 GROUP BY r.program_id
 ORDER BY r.program_id
"""
"""Per program, every figure of a statement: $1 institution, $2..$3 the business dates,
$4 known_at (NULL: everything the read model holds), $5 a position to stop at (NULL: none)."""

KIND_SQL = """SELECT (SELECT d.doc->>'kind' FROM proj_movements d
                       WHERE d.generation = c.generation AND d.key = $2) AS kind
                FROM projection_checkpoints c WHERE c.name = $1"""


@dataclass(frozen=True)
class Cut:
    """Which events a statement counts: recorded at or before `known_at` (None: all the read
    model holds), and at most `position` (None: no limit; a filed statement's own)."""

    known_at: dt.datetime | None = None
    position: int | None = None


_SUMS = (
    "opening",
    "closing",
    "issued_amount",
    "renewed_net",
    "repaid",
    "released_amount",
    "compensated_amount",
    "compensated_borne",
    "closed_amount",
    "overdue_principal",
    "recovered_amount",
    "recovered_returned",
)
"""The summed columns: numerics in SQL (an institution's sums have no bound a bigint could
hold), whole numbers here."""


def program_figures(raw: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """One program's figures in a statement's shape (docs/statements.md), from its summed row."""
    row = {**dict(raw), **{name: int(raw[name]) for name in _SUMS}}
    discharged = (
        row["repaid"] + row["released_amount"] + row["compensated_amount"] + row["closed_amount"]
    )
    compensated = row["compensated_amount"]
    return {
        "program_id": row["program_id"],
        "opening_in_force": row["opening"],
        "issued": {"count": row["issued_count"], "amount": row["issued_amount"]},
        "renewed_net": row["renewed_net"],
        "repaid": row["repaid"],
        "released": {"count": row["released_count"], "amount": row["released_amount"]},
        "compensated": {
            "count": row["compensated_count"],
            "amount": compensated,
            "borne": row["compensated_borne"],
        },
        "closed": {"count": row["closed_count"], "amount": row["closed_amount"]},
        "closing_in_force": row["closing"],
        "discharged": discharged,
        "compensation_rate_bp": None if discharged == 0 else compensated * 10000 // discharged,
        "defaulted": {
            "count": row["defaulted_count"],
            "overdue_principal": row["overdue_principal"],
        },
        "recovered": {"amount": row["recovered_amount"], "returned": row["recovered_returned"]},
        "net_loss": row["compensated_borne"] - row["recovered_returned"],
    }


async def institution_kind(
    conn: asyncpg.Connection | asyncpg.Pool, institution_id: str
) -> str | None:
    """The institution's kind as the movements read model knows it, or None if unknown."""
    row = await conn.fetchrow(KIND_SQL, NAME, institution_key(institution_id))
    return None if row is None or row["kind"] is None else str(row["kind"])


async def statement(
    conn: asyncpg.Connection | asyncpg.Pool,
    institution_id: str,
    kind: str,
    first: dt.date,
    last: dt.date,
    known_at: dt.datetime,
    cut: Cut,
) -> dict[str, Any]:
    """The statement body of `institution_id` for business dates first..last."""
    rows = await conn.fetch(STATEMENT_SQL, institution_id, first, last, cut.known_at, cut.position)
    return {
        "institution_id": institution_id,
        "kind": kind,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "known_at": known_at.isoformat(),
        "position": max((int(r["last_position"]) for r in rows), default=0),
        "programs": [program_figures(r) for r in rows],
    }


POSITION_SQL = "SELECT position FROM projection_checkpoints WHERE name = 'movements'"

POLL = 0.02
"""Seconds between looks at the movements read model while waiting for it."""


async def movements_position(conn: asyncpg.Connection) -> int:
    """The last position the movements read model reflects (0 before it has one)."""
    return int(await conn.fetchval(POSITION_SQL) or 0)


async def holds(conn: asyncpg.Connection, position: int, deadline: float) -> bool:
    """Wait until the movements read model reflects `position` (True), or until `deadline`
    on the event loop's clock (False)."""
    loop = asyncio.get_running_loop()
    while True:
        if await movements_position(conn) >= position:
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL)


def statement_digest(body: dict[str, Any]) -> str:
    """SHA-256 (hex) of the statement's canonical JSON without known_at: keys sorted, no
    whitespace, UTF-8 (what a filing fixes, docs/statements.md)."""
    fixed = {key: value for key, value in body.items() if key != "known_at"}
    return hashlib.sha256(CANONICAL.encode(fixed)).hexdigest()
