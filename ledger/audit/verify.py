"""Verifying the hash chain: recompute every link from the stored bytes and name the first fault."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import msgspec

from ledger.audit.columns import disagreement
from ledger.audit.scan import ScannedEvent, head, scan_log, snapshot
from ledger.store.chain import GENESIS, link

Problem = Literal["changed", "removed", "reordered", "digest-mismatch"]
"""What verification found wrong at the first bad position."""

Progress = Callable[[int, int], None]
"""Called as (positions done, positions to do) while a long verification runs."""

_DIGEST = re.compile(r"^\s*(\d{1,18}):([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of recomputing the chain."""

    ok: bool
    verified_through: int
    head_hash: str
    first_bad_position: int | None = None
    reason: str | None = None
    problem: Problem | None = None

    def to_json(self) -> dict[str, Any]:
        """The body of GET /v1/audit/verify (SPEC section 6), plus problem and reason."""
        return {
            "ok": self.ok,
            "verified_through": self.verified_through,
            "head_hash": self.head_hash,
            "first_bad_position": self.first_bad_position,
            "problem": self.problem,
            "reason": self.reason,
        }


def parse_digest(text: str) -> tuple[int, bytes]:
    """Parse `POSITION:HASH` (hash as 64 hex digits); raise ValueError when malformed."""
    match = _DIGEST.match(text)
    if match is None or int(match[1]) < 1:
        raise ValueError(f"a digest is POSITION:HASH, e.g. 42:{'ab' * 32}; got {text!r}")
    return int(match[1]), bytes.fromhex(match[2])


def format_digest(position: int, hash_: bytes) -> str:
    """`POSITION:HASH`, as `ledger audit digest` prints it and --digest reads it."""
    return f"{position}:{hash_.hex()}"


class _Place(msgspec.Struct):
    # Only where an event says it belongs; the rest of the body is not needed here.
    stream_id: str
    stream_version: int


_place = msgspec.json.Decoder(_Place)


class _Fault(Exception):
    def __init__(self, position: int, problem: Problem, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.problem = problem
        self.reason = reason


async def verify_chain(
    conn: asyncpg.Connection,
    *,
    through: int | None = None,
    digest: tuple[int, bytes] | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Recompute the chain from position 1 (through `through`, default the head).

    Streams the log in batches from one snapshot. Names the first position
    whose event was changed (its bytes no longer give its link, a value stored
    beside them disagrees with them (ledger.audit.columns), or its log row's
    position or seq no longer leads to it), removed (a
    gap in positions, a missing event row, or an event left out of the log
    between sealed ones) or reordered (an event sealed at another position, or
    out of recording order). Stored links can be rewritten along with the
    bytes by whoever controls the database; a digest taken earlier catches
    that: the recomputed link at its position must equal it. Call with `conn`
    outside a transaction to get a consistent snapshot of a live ledger.
    """
    async with snapshot(conn):
        head_position, _ = await head(conn)
        end = head_position if through is None else min(through, head_position)
        if digest is not None:
            end = min(max(end, digest[0]), head_position)
        verifier = _Verifier(conn, digest)
        try:
            removed_at = await _first_left_out(conn, end)
            stop = end if removed_at is None else removed_at - 1
            async for batch in scan_log(conn, through=stop):
                await verifier.check(batch)
                if progress is not None:
                    progress(verifier.done, end)
            if verifier.done < stop:
                raise _Fault(verifier.done + 1, "removed", _missing(verifier.done + 1))
            if removed_at is not None:
                raise _Fault(
                    removed_at,
                    "removed",
                    f"an event sealed before position {removed_at} is no longer in the log",
                )
            if digest is not None and digest[0] > head_position:
                raise _Fault(
                    head_position + 1,
                    "removed",
                    f"the log ends at position {head_position} but the digest covers "
                    f"position {digest[0]}: events were removed",
                )
        except _Fault as fault:
            return VerifyReport(
                ok=False,
                verified_through=verifier.done,
                head_hash=verifier.previous.hex(),
                first_bad_position=fault.position,
                reason=fault.reason,
                problem=fault.problem,
            )
        return VerifyReport(
            ok=True, verified_through=verifier.done, head_hash=verifier.previous.hex()
        )


def _missing(position: int) -> str:
    return f"position {position} is missing from the log: an event was removed"


class _Verifier:
    """Carries the recomputed chain from one batch to the next."""

    def __init__(self, conn: asyncpg.Connection, digest: tuple[int, bytes] | None) -> None:
        self.conn = conn
        self.digest = digest
        self.previous = GENESIS
        self.done = 0
        self.order: tuple[int, int] | None = None

    async def check(self, batch: list[ScannedEvent]) -> None:
        """Verify one batch in order; raise _Fault at the first bad position."""
        for event in batch:
            position = self.done + 1
            if event.position != position:
                raise await self._displaced(position) or _Fault(
                    position, "removed", _missing(position)
                )
            if event.body is None or event.tx_id is None:
                raise await self._displaced(position) or _Fault(
                    position, "removed", f"the event at position {position} was removed"
                )
            computed = link(self.previous, position, event.body)
            if computed != event.hash:
                raise await self._mismatch(event)
            # The chain covers the body; the values stored beside it are checked against it.
            differs = disagreement(event)
            if differs is not None:
                raise _Fault(
                    position,
                    "changed",
                    f"the event at position {position} was changed after it was sealed: {differs}",
                )
            order = (event.tx_id, event.seq)
            if self.order is not None and order <= self.order:
                raise await self._out_of_order(event)
            digest = self.digest
            if digest is not None and position == digest[0] and computed != digest[1]:
                raise _Fault(
                    position,
                    "digest-mismatch",
                    f"the chain through position {position} no longer equals the digest: "
                    f"history at or before position {position} was rewritten",
                )
            self.previous, self.done, self.order = computed, position, order

    async def _displaced(self, position: int) -> _Fault | None:
        """`changed` when the event sealed at `position` is still stored, but the log no
        longer leads to it from there: its log row's position or seq was changed."""
        # The event sealed here is the next one in recording order, and its link
        # from the previous one proves it: only the event sealed at this position
        # gives the hash stored for this position.
        tx_id, seq = self.order or (0, 0)
        row = await self.conn.fetchrow(
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
        sealed = link(self.previous, position, bytes(row["body"]))
        moved_to = row["position"]
        if moved_to is not None and moved_to != position and bytes(row["hash"]) == sealed:
            return _Fault(
                position,
                "changed",
                f"the event sealed at position {position} is stored at position {moved_to}: "
                "its log row's position was changed after it was sealed",
            )
        here = row["here"]
        if moved_to is None and here is not None and bytes(here) == sealed:
            return _Fault(
                position,
                "changed",
                f"the log row at position {position} no longer points at the event sealed "
                f"there (seq {row['seq']}): its seq was changed after it was sealed",
            )
        return None

    async def _mismatch(self, event: ScannedEvent) -> _Fault:
        position = event.position
        moved_from = await self._sealed_at(event)
        if moved_from is None or moved_from == position:
            moved_from = await self._recorded_for(event)
        if moved_from != position:
            return _Fault(
                position,
                "reordered",
                f"position {position} holds the event that belongs at position {moved_from}",
            )
        return _Fault(
            position,
            "changed",
            f"the event at position {position} no longer matches its hash: "
            "it was changed after it was sealed",
        )

    async def _out_of_order(self, event: ScannedEvent) -> _Fault:
        """Name the first position holding an event recorded after this one."""
        # Positions before this one were in recording order, so the first of
        # them recorded later than this event is where the order was broken.
        moved = await self.conn.fetchval(
            """SELECT min(l.position) FROM event_log l JOIN events e USING (seq)
                WHERE l.position < $1 AND (e.tx_id, e.seq) > ($2::text::xid8, $3)""",
            event.position,
            str(event.tx_id),
            event.seq,
        )
        first = event.position - 1 if moved is None else int(moved)
        return _Fault(
            first,
            "reordered",
            f"position {first} holds an event recorded after the one at position "
            f"{event.position}: the log was reordered",
        )

    async def _recorded_for(self, event: ScannedEvent) -> int:
        """The position recording order gives this event (its log row may have been moved)."""
        earlier = await self.conn.fetchval(
            """SELECT count(*) FROM event_log l JOIN events e USING (seq)
                WHERE (e.tx_id, e.seq) < ($1::text::xid8, $2)""",
            str(event.tx_id),
            event.seq,
        )
        return int(earlier) + 1

    async def _sealed_at(self, event: ScannedEvent) -> int | None:
        """Where this body was sealed, when it proves to be another position's event."""
        assert event.body is not None
        try:
            place = _place.decode(event.body)
        except msgspec.DecodeError:
            return None
        row = await self.conn.fetchrow(
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


async def _first_left_out(conn: asyncpg.Connection, end: int) -> int | None:
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
