"""The sealer: gives committed events their dense global position and hash link."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog

from ledger.aio import wait_event
from ledger.store.checkpoints import Checkpointer, RefusedToSign
from ledger.store.head import Head, read_head
from ledger.store.sealer_fence import STALL, fence_stalled
from ledger.store.tree import MissingTile
from ledger.store.watermark import APPEND_LOCK

# One sealer at a time across every service instance sharing the database.
SEALER_LOCK = 0x6C65646765720002
APPENDED_CHANNEL = "ledger_appended"
SEALED_CHANNEL = "ledger_sealed"
TREE_CATCH_UP = 65536
"""Leaves added to a lagging Merkle tree per statement (about a second's work)."""

log = structlog.get_logger(__name__)



# One call a round (migration 0010): who is appending, then in a statement of
# its own (so a snapshot taken after that) the watermark and the unsealed
# events below it, linked into the chain and inserted with a notice to waiting
# posters. The watermark is the oldest transaction of the scan's snapshot that
# was appending when the sealer looked, or got its id since: every appender
# with a smaller id has finished, so no event can later appear before the ones
# taken, in (tx_id, seq) order. Taking anything at or above it could give a
# position to a later event while an earlier append is still in flight, and a
# follower reading by position would skip that one. `r_held` says whether
# committed events wait above the watermark (the sealer then polls until the
# older appender ends).
# The scan walks events_tx_order from just after the head, so its cost does not
# grow with the number of events stored: the row comparison and the LIMIT keep
# the planner on that index even when its statistics on tx_id are stale (they
# usually are: new transaction ids lie beyond the last ANALYZE), and service
# sessions turn sequential scans off as a second guard (see
# runtime.service_settings). Each candidate's body and whether it is sealed
# already (it then is skipped: no event is ever sealed twice) are looked up row
# by row through scalar subqueries, which the planner cannot turn into a hash of
# the whole events or event_log table (it did, with a few ten thousand events).
_SEAL = "SELECT * FROM ledger_seal($1, $2, $3, $4, $5, $6, $7, $8)"


@dataclass(frozen=True)
class Sealing:
    """One round of sealing: the new head, seq -> position of what it sealed, and `held`."""

    head: Head
    sealed: dict[int, int]
    held: bool
    """Committed events wait behind an append still in flight: look again soon."""


async def seal_batch(conn: asyncpg.Connection, head: Head, limit: int = 5000) -> Sealing:
    """Seal up to `limit` events after `head` that no running append can precede.

    One round trip (ledger_seal). The caller must hold SEALER_LOCK.
    """
    rows = await conn.fetch(
        _SEAL,
        head.position,
        head.hash,
        head.tx_id,
        head.seq,
        limit,
        APPEND_LOCK >> 32,
        APPEND_LOCK & 0xFFFFFFFF,
        SEALED_CHANNEL,
    )
    # Always at least one row: `held`, with no event when none was sealed.
    held = bool(rows[0]["r_held"])
    rows = [r for r in rows if r["r_seq"] is not None]
    if not rows:
        return Sealing(head, {}, held)
    last = rows[-1]
    sealed = {r["r_seq"]: r["r_position"] for r in rows}
    tail = Head(last["r_position"], bytes(last["r_hash"]), last["r_tx_id"], last["r_seq"])
    return Sealing(tail, sealed, held)


SealedCallback = Callable[[dict[int, int]], Awaitable[None] | None]


class Sealer:
    """Runs the seal loop while holding SEALER_LOCK; stands by while another instance holds it."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        on_sealed: SealedCallback | None = None,
        *,
        on_active: Callable[[int | None], None] | None = None,
        batch: int = 5000,
        idle_wait: float = 1.0,
        busy_wait: float = 0.002,
        checkpointer: Checkpointer | None = None,
        stall: float = STALL,
    ) -> None:
        self._connect = connect
        self.stall = stall
        """Seconds after which a lock holder that leaves events unsealed is fenced off."""
        self._on_sealed = on_sealed
        self._on_active = on_active
        self._batch = batch
        self._idle_wait = idle_wait
        self._busy_wait = busy_wait
        self._checkpointer = checkpointer
        self._refused_until = 0.0
        self.refusal: str | None = None
        """Why this sealer last refused to sign, until it next signs (None: it signs)."""
        self._wake = asyncio.Event()
        self.active = False

    def wake(self) -> None:
        """Ask the loop to look for new events now (an append just committed)."""
        self._wake.set()

    async def run(self) -> None:
        """Seal forever; reconnect after database errors."""
        while True:
            try:
                await self._run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Posts everywhere wait on the sealer: whatever went wrong, start over
                # from the stored head rather than stop sealing for good.
                self.active = False
                with contextlib.suppress(Exception):
                    log.error("sealer.failed", error=str(exc))
                await asyncio.sleep(0.5)

    async def _run_once(self) -> None:
        conn = await self._connect()
        try:
            # Stand by: poll for the lock, since the holder may be another instance;
            # and end the holder's session if it has stopped sealing (sealer_fence.py).
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", SEALER_LOCK):
                if await fence_stalled(conn, SEALER_LOCK, self.stall) is None:
                    await asyncio.sleep(self._idle_wait)
            self.active = True
            if self._on_active is not None:
                self._on_active(conn.get_server_pid())
            await conn.add_listener(APPENDED_CHANNEL, self._notified)
            head = await read_head(conn)
            # A store of an earlier release, or an imported log, may hold events the
            # tree does not yet: ledger_seal grows the tree only from where it is.
            while await conn.fetchval("SELECT ledger_tree_catch_up($1)", TREE_CATCH_UP):
                pass
            if self._checkpointer is not None:
                await self._checkpointer.start(conn)
            log.info("sealer.active", head=head.position)
            while True:
                # Cleared before sealing, so a wake-up that arrives meanwhile is kept.
                self._wake.clear()
                sealing = await seal_batch(conn, head, self._batch)
                head = sealing.head
                if sealing.sealed:
                    await self._report(sealing.sealed)
                    if len(sealing.sealed) == self._batch:
                        continue
                # Events may be committed yet unsealable while an older
                # transaction is still open: poll briefly until they are taken.
                # Otherwise the next append's notice (or local wake) ends the wait.
                wait = self._busy_wait if sealing.held else self._idle_wait
                due = await self._checkpoint(conn, head.position)
                await wait_event(self._wake, wait if due is None else min(wait, due))
        finally:
            if self.active and self._on_active is not None:
                self._on_active(None)
            self.active = False
            with contextlib.suppress(Exception):
                await conn.close()

    async def _checkpoint(self, conn: asyncpg.Connection, size: int) -> float | None:
        """Let the checkpointer sign a grown log; seconds until it is due, if it waits."""
        if self._checkpointer is None or asyncio.get_running_loop().time() < self._refused_until:
            return None
        try:
            due = await self._checkpointer.after_round(conn, size)
        except (RefusedToSign, MissingTile) as exc:
            # Sealing goes on (posts wait on it); signing waits: for a person when the
            # tree contradicts a checkpoint, a second when the tree lags the log.
            self.refusal = str(exc)
            log.error("checkpoint.refused", error=str(exc))
            pause = 30.0 if isinstance(exc, RefusedToSign) else 1.0
            self._refused_until = asyncio.get_running_loop().time() + pause
            return None
        # A refusal found when the checkpointer started (a stored checkpoint not the log's,
        # a tree that contradicts what this service signed) stands until a person acts.
        self.refusal = self._checkpointer.refusing
        return due

    def _notified(self, *_args: object) -> None:
        self._wake.set()

    async def _report(self, sealed: dict[int, int]) -> None:
        if self._on_sealed is None:
            return
        result = self._on_sealed(sealed)
        if result is not None:
            await result
