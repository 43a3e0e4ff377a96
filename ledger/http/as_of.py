"""GET /v1/audit/state?business_date=D[&known_at=T]: answered from the as-of read model.

The read model must hold every event the answer counts: all of the log when no known_at
is given (the head when the request came), else every event recorded by known_at: it
does once it holds the head taken once all of those were sealed (ledger/store/
recorded_by.py), or an event recorded more than KNOWN_SLACK after known_at
(an event is recorded when its append starts, and no append lasts that long). The
route waits for that a few seconds, then answers 503 with Retry-After, as read routes
do for min_position (a standby that trails lets the primary answer instead).
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from ledger.audit.as_of_rows import Cut, checkpoint, latest_recorded
from ledger.http.readmodels import polled, trailing
from ledger.http.replicas import Behind
from ledger.standbys import Standby

KNOWN_SLACK = dt.timedelta(seconds=60)
"""Longer than an append is expected to last from its recording to its commit (a post is
given 20 s, each statement 30 s): a bound the service keeps, not one PostgreSQL enforces."""


async def as_of_cut(
    conn: asyncpg.Connection,
    standby: Standby | None,
    day: dt.date,
    known_at: dt.datetime | None,
    deadline: float,
    head: int,
) -> Cut:
    """The cut for `day` as known at `known_at` (None: everything), once the read model
    holds all it counts, up to `head` (the primary's head when the request came: a
    standby's own trails it); Behind on a standby, else a 503 problem, past `deadline`."""

    async def look() -> tuple[bool, Cut]:
        generation, reached = await checkpoint(conn)
        if reached >= head:
            return True, Cut(generation, day, reached, known_at)
        if known_at is None:
            return False, Cut(generation, day, reached)
        latest = await latest_recorded(conn, generation)
        later = latest is not None and latest > known_at + KNOWN_SLACK
        return later, Cut(generation, day, reached, known_at)

    done, cut = await polled(conn, look, deadline, hurry=standby is None)
    if done:
        return cut
    if standby is not None:
        raise Behind(f"standby {standby.name}'s as-of read model is at {cut.position}")
    raise trailing("the as-of read model reflects", cut.position, head)
