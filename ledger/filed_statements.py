"""Filed statements: the latest filing of a period, recomputed and checked against
its digest, and what changed since it was filed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg

from events.business import SHANGHAI
from events.derived import StatementDerived
from events.payloads import StatementFiled
from events.stored import read_log_entry
from ledger.statement_csv import flatten
from ledger.store.reads import read_stream
from projections.statements import Cut, statement, statement_digest


@dataclass(frozen=True)
class Filing:
    """A statement.filed as stored: when, and the position and digest it fixed."""

    filed_at: dt.datetime
    position: int
    digest: str
    event_position: int


class DigestMismatch(Exception):
    """The filed statement recomputed from the log no longer has the digest it was filed with."""

    def __init__(self, message: str, *, recomputed: str, filed: str) -> None:
        super().__init__(message)
        self.recomputed = recomputed
        self.filed = filed


async def latest_filing(
    conn: asyncpg.Connection,
    institution_id: str,
    first: dt.date,
    last: dt.date,
    known_at: dt.datetime | None = None,
) -> Filing | None:
    """The latest statement.filed of the institution for exactly first..last, recorded at or
    before `known_at` (None: any), or None."""
    found = None
    for row in await read_stream(conn, f"institution-{institution_id}"):
        entry = read_log_entry(row.body, row.position, row.hash.hex())
        data, derived = entry.data, entry.derived
        if (
            isinstance(data, StatementFiled)
            and isinstance(derived, StatementDerived)
            and (data.from_, data.to) == (first, last)
            and (known_at is None or entry.recorded_at <= known_at)
        ):
            found = Filing(entry.recorded_at, derived.position, derived.digest, entry.position)
    return found


async def filed_statement(
    conn: asyncpg.Connection,
    institution_id: str,
    kind: str,
    first: dt.date,
    last: dt.date,
    filing: Filing,
) -> dict[str, Any]:
    """The filed statement recomputed from the read model at its position, with `filed_at`
    and `digest`; DigestMismatch if it no longer reproduces."""
    filed_at = filing.filed_at.astimezone(SHANGHAI)
    body = await statement(
        conn, institution_id, kind, first, last, filed_at, Cut(position=filing.position)
    )
    digest = statement_digest(body)
    if digest != filing.digest:
        raise DigestMismatch(
            f"the statement filed at position {filing.event_position} recomputes to digest "
            f"{digest}, not the {filing.digest} it was filed with; run `ledger audit verify` "
            "and `ledger audit replay --compare`",
            recomputed=digest,
            filed=filing.digest,
        )
    return {**body, "filed_at": filed_at.isoformat(), "digest": digest}


def changes(filed: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    """Every figure that differs, per program, named by its JSON path (a program missing on
    one side has null figures there)."""
    before = {p["program_id"]: flatten(p) for p in filed["programs"]}
    after = {p["program_id"]: flatten(p) for p in now["programs"]}
    found = []
    for program_id in sorted(before.keys() | after.keys()):
        old, new = before.get(program_id, {}), after.get(program_id, {})
        fields = list(old or new)
        for field in fields:
            if field == "program_id":
                continue
            if old.get(field) != new.get(field):
                found.append(
                    {
                        "program_id": program_id,
                        "field": field,
                        "filed": old.get(field),
                        "now": new.get(field),
                    }
                )
    return found


async def late_positions(
    conn: asyncpg.Connection,
    institution_id: str,
    last: dt.date,
    filed_position: int,
    known_at: dt.datetime | None,
) -> list[int]:
    """Positions of the events a statement counts now but the filed one did not."""
    rows = await conn.fetch(
        """SELECT DISTINCT r.position
             FROM projection_checkpoints c
             JOIN proj_movement_rows r ON r.generation = c.generation
            WHERE c.name = 'movements' AND r.institution_id = $1 AND r.business_date <= $2
              AND r.position > $3 AND ($4::timestamptz IS NULL OR r.recorded_at <= $4)
            ORDER BY r.position""",
        institution_id,
        last,
        filed_position,
        known_at,
    )
    return [int(r["position"]) for r in rows]
