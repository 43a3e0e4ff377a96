"""Naming what happened at the first bad position verify finds: the queries it runs once,
after its scan, to tell a changed event from a removed or reordered one."""

from __future__ import annotations

from typing import Literal

import asyncpg
import msgspec

from ledger.audit.scan import ScannedEvent
from ledger.store.chain import GENESIS, link

Problem = Literal["changed", "removed", "reordered", "digest-mismatch", "checkpoint-mismatch"]
"""What verification found wrong at the first bad position."""


class Fault(Exception):
    """The first bad position, what happened there, and why verify says so."""

    def __init__(self, position: int, problem: Problem, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.problem = problem
        self.reason = reason


class _Place(msgspec.Struct):
    # Only where an event says it belongs; the rest of the body is not needed here.
    stream_id: str
    stream_version: int


_place = msgspec.json.Decoder(_Place)


async def displaced(
    conn: asyncpg.Connection, position: int, previous: bytes, order: tuple[int, int] | None
) -> Fault | None:
    """`changed` when the event sealed at `position` is still stored, but the log no
    longer leads to it from there: its log row's position or seq was changed."""
    # The event sealed here is the next one in recording order, and its link
    # from the previous one proves it: only the event sealed at this position
    # gives the hash stored for this position.
    tx_id, seq = order or (0, 0)
    row = await conn.fetchrow(
        """SELECT e.seq, e.body, l.position, l.hash,
                  (SELECT h.hash FROM event_log h WHERE h.position = $3) AS here
             FROM events e LEFT JOIN event_log l ON l.seq = e.seq
            WHERE (e.tx_id, e.seq) > ($1::text::xid8, $2)
            ORDER BY e.tx_id, e.seq
            LIMIT 1""",
        str(tx_id),
        seq,
        position,
    )
    if row is None:
        return None
    sealed = link(previous, position, bytes(row["body"]))
    moved_to = row["position"]
    if moved_to is not None and moved_to != position and bytes(row["hash"]) == sealed:
        return Fault(
            position,
            "changed",
            f"the event sealed at position {position} is stored at position {moved_to}: "
            "its log row's position was changed after it was sealed",
        )
    here = row["here"]
    if moved_to is None and here is not None and bytes(here) == sealed:
        return Fault(
            position,
            "changed",
            f"the log row at position {position} no longer points at the event sealed "
            f"there (seq {row['seq']}): its seq was changed after it was sealed",
        )
    return None


async def mismatch(conn: asyncpg.Connection, event: ScannedEvent) -> Fault:
    """`reordered` when the body proves to be another position's event, else `changed`."""
    position = event.position
    moved_from = await _sealed_at(conn, event)
    if moved_from is None or moved_from == position:
        moved_from = await _recorded_for(conn, event)
    if moved_from != position:
        return Fault(
            position,
            "reordered",
            f"position {position} holds the event that belongs at position {moved_from}",
        )
    return Fault(
        position,
        "changed",
        f"the event at position {position} no longer matches its hash: "
        "it was changed after it was sealed",
    )


async def out_of_order(conn: asyncpg.Connection, event: ScannedEvent) -> Fault:
    """Name the first position holding an event recorded after this one."""
    # Positions before this one were in recording order, so the first of
    # them recorded later than this event is where the order was broken.
    moved = await conn.fetchval(
        """SELECT min(l.position) FROM event_log l JOIN events e USING (seq)
            WHERE l.position < $1 AND (e.tx_id, e.seq) > ($2::text::xid8, $3)""",
        event.position,
        str(event.tx_id),
        event.seq,
    )
    first = event.position - 1 if moved is None else int(moved)
    return Fault(
        first,
        "reordered",
        f"position {first} holds an event recorded after the one at position "
        f"{event.position}: the log was reordered",
    )


async def _recorded_for(conn: asyncpg.Connection, event: ScannedEvent) -> int:
    """The position recording order gives this event (its log row may have been moved)."""
    earlier = await conn.fetchval(
        """SELECT count(*) FROM event_log l JOIN events e USING (seq)
            WHERE (e.tx_id, e.seq) < ($1::text::xid8, $2)""",
        str(event.tx_id),
        event.seq,
    )
    return int(earlier) + 1


async def _sealed_at(conn: asyncpg.Connection, event: ScannedEvent) -> int | None:
    """Where this body was sealed, when it proves to be another position's event."""
    assert event.body is not None
    try:
        place = _place.decode(event.body)
    except msgspec.DecodeError:
        return None
    row = await conn.fetchrow(
        """SELECT l.position, l.hash,
                  (SELECT p.hash FROM event_log p WHERE p.position = l.position - 1) AS prev
             FROM events e JOIN event_log l USING (seq)
            WHERE e.stream_id = $1 AND e.stream_version = $2""",
        place.stream_id,
        place.stream_version,
    )
    if row is None:
        return None
    previous = GENESIS if row["prev"] is None else bytes(row["prev"])
    if link(previous, row["position"], event.body) != bytes(row["hash"]):
        return None
    return int(row["position"])


async def first_left_out(conn: asyncpg.Connection, end: int) -> int | None:
    """The position where an event that must have been sealed was taken out of the log.

    The sealer gives positions in (tx_id, seq) order, so an unsealed event
    ordered before a sealed one was sealed once and its log row removed: it
    was removed from before the first sealed event that follows it.
    """
    if end == 0:
        return None
    found = await conn.fetchval(
        """WITH last AS (SELECT e.tx_id, e.seq FROM event_log l JOIN events e USING (seq)
                          WHERE l.position = $1),
                orphan AS (SELECT e.tx_id, e.seq FROM events e, last
                            WHERE (e.tx_id, e.seq) < (last.tx_id, last.seq)
                              AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.seq = e.seq)
                            ORDER BY e.tx_id, e.seq LIMIT 1)
           SELECT min(l.position) FROM event_log l JOIN events e USING (seq), orphan
            WHERE (e.tx_id, e.seq) > (orphan.tx_id, orphan.seq)""",
        end,
    )
    return None if found is None else int(found)
