"""Risk limits in use by others, switched on and off under a running ledger.

The benchmark's guarantor and program have no limits. To show that their posts
pay nothing for the limits others have, another guarantor gets net assets and
limits and another program a compensation-rate limit, by posting the events an
operator would post (`others_events`); `switch` then removes or restores those
rows directly, so one service on one database alternates between "no limits
anywhere" and "limits in use by others" within minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.payloads import PROGRAM_TERMS, envelope
from ledger.store.watermark import APPEND_LOCK

OTHER_GUARANTOR = "BENCH-OTHER-GUAR"
OTHER_PROGRAM = "bench-rate-limited"


def others_events() -> list[dict[str, Any]]:
    """Another guarantor with net assets and limits, another program with a rate limit."""
    terms = {
        **PROGRAM_TERMS,
        "compensation_rate_limit": {
            "role": "guarantor",
            "warning_bp": 300,
            "suspend_bp": 500,
            "min_discharged": 5_000_000_000,
        },
    }
    return [
        envelope(
            "institution.registered",
            {"institution_id": OTHER_GUARANTOR, "name": "Other Guarantee Co.", "kind": "guarantor"},
        ),
        envelope(
            "institution.net_assets_recorded",
            {
                "institution_id": OTHER_GUARANTOR,
                "net_assets": 200_000_000_000,
                "as_of": "2024-12-31",
            },
        ),
        envelope(
            "institution.limits_set",
            {
                "institution_id": OTHER_GUARANTOR,
                "max_leverage_x100": 1500,
                "max_single_sme_bp": 1000,
            },
        ),
        envelope(
            "program.registered",
            {"program_id": OTHER_PROGRAM, "name": "Rate-limited program", "terms": terms},
        ),
    ]


@dataclass
class Switch:
    """The others' limit rows as their events left them, to remove and restore."""

    limits_doc: bytes
    program_doc: bytes
    plain_program_doc: bytes
    """The other program's state as without its rate limit."""

    @classmethod
    async def read(cls, conn: asyncpg.Connection) -> Switch:
        """The rows as they are now (after `others_events` were posted)."""
        row = await conn.fetchrow(
            """SELECT l.doc AS limits_doc, p.doc AS program_doc,
                      convert_to(jsonb_set(convert_from(p.doc, 'UTF8')::jsonb,
                                           '{terms,compensation_rate_limit}', 'null')::text,
                                 'UTF8') AS plain_program_doc
                 FROM w_guarantor_limits l, w_programs p
                WHERE l.institution_id = $1 AND p.program_id = $2""",
            OTHER_GUARANTOR,
            OTHER_PROGRAM,
        )
        if row is None:
            raise RuntimeError("the other guarantor's limits or program are not stored")
        return cls(bytes(row[0]), bytes(row[1]), bytes(row[2]))

    async def set(self, conn: asyncpg.Connection, on: bool) -> None:
        """Limits in use by others (`on`), or none anywhere: the rows a ledger would have
        had the other guarantor and program been registered without them."""
        async with conn.transaction():
            # As the events that set limits do: no append is under way meanwhile.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", APPEND_LOCK)
            await conn.execute(
                "DELETE FROM w_guarantor_limits WHERE institution_id = $1", OTHER_GUARANTOR
            )
            if on:
                await conn.execute(
                    "INSERT INTO w_guarantor_limits (institution_id, doc) VALUES ($1, $2)",
                    OTHER_GUARANTOR,
                    self.limits_doc,
                )
            await conn.execute(
                "UPDATE w_institutions SET limited = $2 WHERE institution_id = $1",
                OTHER_GUARANTOR,
                on,
            )
            await conn.execute(
                "UPDATE w_programs SET doc = $2, rate_limit_role = $3 WHERE program_id = $1",
                OTHER_PROGRAM,
                self.program_doc if on else self.plain_program_doc,
                "guarantor" if on else None,
            )


async def switch(dsn: str, on: bool, state: Switch | None = None) -> Switch:
    """Set the others' limits on or off; return the rows' saved state for the next switch."""
    conn = await asyncpg.connect(dsn)
    try:
        if state is None:
            state = await Switch.read(conn)
        await state.set(conn, on)
        return state
    finally:
        await conn.close()
