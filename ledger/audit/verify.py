"""Verifying the hash chain: recompute every link from the stored bytes and name the first fault."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from ledger.audit import faults
from ledger.audit.columns import disagreement
from ledger.audit.faults import Fault, Problem
from ledger.audit.scan import ScannedEvent, head, scan_ahead, snapshot
from ledger.audit.verify_tree import RootMismatch, TreeCheck
from ledger.store.chain import GENESIS, link

__all__ = ["Problem", "Progress", "VerifyReport", "format_digest", "parse_digest", "verify_chain"]

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
        """The body of GET /v1/audit/verify, plus problem and reason."""
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
        verifier = _Verifier(digest)
        # The Merkle tree and its signed checkpoints, rebuilt from the same verified bytes.
        tree = TreeCheck()
        try:
            await tree.start(conn, end)
            removed_at = await faults.first_left_out(conn, end)
            stop = end if removed_at is None else removed_at - 1
            suspect: _Suspect | None = None
            async with contextlib.aclosing(scan_ahead(conn, through=stop)) as batches:
                async for batch in batches:
                    try:
                        suspect = verifier.check(batch)
                    except Fault:
                        # The signed roots the chain reached before it failed still count
                        # (a root they no longer give is the earlier finding).
                        tree.check([e for e in batch if e.position <= verifier.done])
                        raise
                    if suspect is not None:
                        # As above: a signed root the verified part no longer gives is the
                        # earlier finding (a crude break after a thorough rewrite hides
                        # nothing).
                        tree.check([e for e in batch if e.position <= verifier.done])
                        break
                    tree.check(batch)
                    if progress is not None:
                        progress(verifier.done, end)
            if suspect is not None:
                # The scan has let go of the connection: what happened can be asked.
                raise await verifier.explain(conn, suspect)
            if verifier.done < stop:
                raise Fault(verifier.done + 1, "removed", _missing(verifier.done + 1))
            if removed_at is not None:
                raise Fault(
                    removed_at,
                    "removed",
                    f"an event sealed before position {removed_at} is no longer in the log",
                )
            await tree.finish(conn, head_position)
            if digest is not None and digest[0] > head_position:
                raise Fault(
                    head_position + 1,
                    "removed",
                    f"the log ends at position {head_position} but the digest covers "
                    f"position {digest[0]}: events were removed",
                )
        except Fault as fault:
            if isinstance(fault, RootMismatch):
                fault = await tree.locate(conn, fault)  # the scan has let go of the connection
            good = _known_good(fault, verifier.done, tree.matched)
            return VerifyReport(
                ok=False,
                verified_through=good,
                head_hash=(await _link_at(conn, good, verifier)).hex(),
                first_bad_position=fault.position,
                reason=fault.reason,
                problem=fault.problem,
            )
        return VerifyReport(
            ok=True, verified_through=verifier.done, head_hash=verifier.previous.hex()
        )


def verified_line(through: int) -> str:
    """The line a failing verify ends its findings with: what it still vouches for."""
    return f"verified positions 1 to {through}" if through else "no position verified"


def _known_good(fault: Fault, done: int, matched: int) -> int:
    """The last position a failing verify may call verified: before the first bad one, and
    where a rewrite was found but not placed (its links recomputed), no further than the
    last checkpoint or digest whose root or link the events still gave."""
    good = min(done, fault.position - 1)
    if isinstance(fault, RootMismatch) or fault.problem == "digest-mismatch":
        good = min(good, matched)
    return good


async def _link_at(conn: asyncpg.Connection, position: int, verifier: _Verifier) -> bytes:
    """The chain's link at `position`, recomputed through it (the stored link equals it)."""
    if position == verifier.done:
        return verifier.previous
    if position == 0:
        return GENESIS
    return bytes(await conn.fetchval("SELECT hash FROM event_log WHERE position = $1", position))


def _missing(position: int) -> str:
    return f"position {position} is missing from the log: an event was removed"


@dataclass(frozen=True)
class _Suspect:
    """The first bad row, when saying what happened there needs the database."""

    why: Literal["gap", "absent", "link", "order"]
    position: int
    event: ScannedEvent


class _Verifier:
    """Carries the recomputed chain from one batch to the next."""

    def __init__(self, digest: tuple[int, bytes] | None) -> None:
        self.digest = digest
        self.previous = GENESIS
        self.done = 0
        self.order: tuple[int, int] | None = None

    def check(self, batch: list[ScannedEvent]) -> _Suspect | None:
        """Verify one batch in order; stop at the first bad position.

        Raises Fault where the row itself says what happened; returns the row
        for `explain` where that takes a query (none may run while the scan is
        reading ahead on the connection).
        """
        for event in batch:
            position = self.done + 1
            if event.position != position:
                return _Suspect("gap", position, event)
            if event.body is None or event.tx_id is None:
                return _Suspect("absent", position, event)
            computed = link(self.previous, position, event.body)
            if computed != event.hash:
                return _Suspect("link", position, event)
            # The chain covers the body; the values stored beside it are checked against it.
            differs = disagreement(event)
            if differs is not None:
                raise Fault(
                    position,
                    "changed",
                    f"the event at position {position} was changed after it was sealed: {differs}",
                )
            order = (event.tx_id, event.seq)
            if self.order is not None and order <= self.order:
                return _Suspect("order", position, event)
            digest = self.digest
            if digest is not None and position == digest[0] and computed != digest[1]:
                raise Fault(
                    position,
                    "digest-mismatch",
                    f"the chain through position {position} no longer equals the digest: "
                    f"history at or before position {position} was rewritten",
                )
            self.previous, self.done, self.order = computed, position, order
        return None

    async def explain(self, conn: asyncpg.Connection, suspect: _Suspect) -> Fault:
        """What happened at the suspect row: changed, removed or reordered."""
        position = suspect.position
        if suspect.why == "link":
            return await faults.mismatch(conn, suspect.event)
        if suspect.why == "order":
            return await faults.out_of_order(conn, suspect.event)
        moved = await faults.displaced(conn, position, self.previous, self.order)
        if moved is not None:
            return moved
        if suspect.why == "gap":
            return Fault(position, "removed", _missing(position))
        return Fault(position, "removed", f"the event at position {position} was removed")
