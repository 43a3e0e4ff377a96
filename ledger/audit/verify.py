"""Verifying the hash chain: recompute every link from the stored bytes and name the first fault."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import msgspec

from ledger.audit.scan import ScannedEvent, head, scan_log, snapshot
from ledger.audit.verify_tree import TreeCheck, TreeFault
from ledger.store.chain import GENESIS, link

Problem = Literal["changed", "removed", "reordered", "digest-mismatch", "checkpoint-mismatch"]
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
    whose event was changed (its bytes no longer give its link), removed (a
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
        # The Merkle tree and its signed checkpoints, rebuilt from the same verified bytes.
        tree = TreeCheck(conn)
        try:
            await tree.start()
            removed_at = await _first_left_out(conn, end)
            stop = end if removed_at is None else removed_at - 1
            async for batch in scan_log(conn, through=stop):
                await verifier.check(batch)
                await tree.check(batch)
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
            await tree.finish()
            if digest is not None and digest[0] > head_position:
                raise _Fault(
                    head_position + 1,
                    "removed",
                    f"the log ends at position {head_position} but the digest covers "
                    f"position {digest[0]}: events were removed",
                )
        except (_Fault, TreeFault) as fault:
            return VerifyReport(
                ok=False,
                verified_through=verifier.done,
                head_hash=verifier.previous.hex(),
                first_bad_position=fault.position,
                reason=fault.reason,
                problem=fault.problem,  # type: ignore[arg-type]
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
                raise _Fault(position, "removed", _missing(position))
            if event.body is None or event.tx_id is None:
                raise _Fault(position, "removed", f"the event at position {position} was removed")
            computed = link(self.previous, position, event.body)
            if computed != event.hash:
                raise await self._mismatch(event)
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
