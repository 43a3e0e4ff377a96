"""The as-of read model's rows under a cut: the queries every as-of body shares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from events.stored import LogEntry, read_log_entry
from ledger.audit.state import OutOfBusinessOrder
from projections.base import Projection
from projections.fold import Fold

GENERATION_SQL = "SELECT generation, position FROM projection_checkpoints WHERE name = 'as_of'"

LATEST_RECORDED_SQL = """SELECT max(recorded_at) FROM proj_as_of_rows
                          WHERE generation = $1 AND entity = '*'"""
"""When the latest event the read model holds was recorded.

Positions do not follow recording order: an event is recorded while its append decides
it and placed when that append commits, so posts that overlap may be placed in another
order. "As known at T" is therefore a set (every event recorded at or before T), not a
prefix of the log: each query below that takes a moment filters on recorded_at."""

# The last position dated up to $2 and at most $3: one probe per business date, walking
# the dates down the index (a loose index scan), so it costs the number of dates held.
REACHED_SQL = """
WITH RECURSIVE days(day) AS (
    SELECT max(business_date) FROM proj_as_of_rows
     WHERE generation = $1 AND entity = '*' AND business_date <= $2
    UNION ALL
    SELECT (SELECT max(r.business_date) FROM proj_as_of_rows r
             WHERE r.generation = $1 AND r.entity = '*' AND r.business_date < d.day)
      FROM days d WHERE d.day IS NOT NULL
)
SELECT coalesce(max((SELECT max(r.position) FROM proj_as_of_rows r
                      WHERE r.generation = $1 AND r.entity = '*'
                        AND r.business_date = d.day AND r.position <= $3
                        AND ($4::timestamptz IS NULL OR r.recorded_at <= $4))), 0)
  FROM days d WHERE d.day IS NOT NULL"""

LAST_DAY_SQL = """SELECT (ledger_occurred_at(e.body) AT TIME ZONE INTERVAL '+08:00')::date
                    FROM event_log l JOIN events e USING (seq) WHERE l.position = $1"""
"""The business date of the event at a position (NULL when there is none)."""

ROWS_SQL = """SELECT entity, program_id, ref, position, kind, roles, figures
                FROM proj_as_of_rows
               WHERE generation = $1 AND entity = ANY($2::text[]) AND entity <> '*'
                 AND business_date <= $3 AND position <= $4
                 AND ($5::timestamptz IS NULL OR recorded_at <= $5)
               ORDER BY position"""

EVENTS_SQL = """SELECT l.position, l.hash, e.body FROM event_log l JOIN events e USING (seq)
                 WHERE l.position = ANY($1::bigint[]) ORDER BY l.position"""


@dataclass(frozen=True)
class Cut:
    """Which rows a state counts: one generation, dated up to `day`, at most `position`,
    and recorded at or before `known_at` (None: whenever)."""

    generation: int
    day: dt.date
    position: int
    known_at: dt.datetime | None = None


async def checkpoint(conn: asyncpg.Connection) -> tuple[int, int]:
    """The generation readers see and the position the as-of read model reflects."""
    row = await conn.fetchrow(GENERATION_SQL)
    return (0, 0) if row is None else (int(row["generation"]), int(row["position"]))


async def latest_recorded(conn: asyncpg.Connection, generation: int) -> dt.datetime | None:
    """When the latest event the read model holds was recorded (None: it holds none)."""
    found: dt.datetime | None = await conn.fetchval(LATEST_RECORDED_SQL, generation)
    return found


async def rows(conn: asyncpg.Connection, cut: Cut, entities: list[str]) -> list[asyncpg.Record]:
    """The rows of `entities` under the cut, in position order."""
    return list(
        await conn.fetch(ROWS_SQL, cut.generation, entities, cut.day, cut.position, cut.known_at)
    )


async def entries_at(conn: asyncpg.Connection, positions: set[int]) -> list[LogEntry]:
    """The events at `positions`, in log order."""
    found = await conn.fetch(EVENTS_SQL, sorted(positions))
    return [read_log_entry(r["body"], r["position"], r["hash"].hex()) for r in found]


async def fold_positions(
    conn: asyncpg.Connection, projection: Projection, positions: set[int]
) -> Fold:
    """The fold of one projection over just the events at `positions`, in log order."""
    return Fold([projection]).apply_all(await entries_at(conn, positions))


def later(what: str, day: dt.date) -> OutOfBusinessOrder:
    """The events dated up to `day` name something registered later in business time."""
    return OutOfBusinessOrder(
        f"the events dated up to {day} refer to {what}, registered later in business time; "
        "choose a later business_date"
    )
