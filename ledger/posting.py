"""Posting events: transactions that check every rule and store each post all or nothing."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
from collections.abc import Callable

import asyncpg
import structlog

from events.business import SHANGHAI
from events.envelope import Posted
from events.payloads import Payload
from events.stored import Actor
from ledger.auth.keys import Presented, UnknownKey, matched
from ledger.filing import fix_statements
from ledger.grouping import Accepted, Post, decide_group, footprints, partition
from ledger.posting_group import Appended as _Appended
from ledger.posting_group import Waiting as _Waiting
from ledger.posting_group import give_actors as _posters
from ledger.posting_group import new_events as _new_events
from ledger.receipts import Pending, PostResult, Receipt, settled, stored_or_refused
from ledger.rules.footprint import issued_guarantees, merged
from ledger.store import decisions
from ledger.store.failures import database_unavailable
from ledger.store.positions import PositionWaiter
from ledger.store.sealer import APPENDED_CHANNEL

log = structlog.get_logger(__name__)


def shanghai_now() -> dt.datetime:
    """The current time in the business time zone."""
    return dt.datetime.now(SHANGHAI)


MAX_GROUP_EVENTS = 1000
"""Most events stored in one transaction (a single post of up to 1000 always goes alone)."""

GROUPS = 2
"""Transactions one instance stores at once; posts arriving meanwhile wait for the next."""


class Ledger:
    """The application service: posts events through the rules into the store.

    Posts that arrive while earlier ones are being stored are stored together,
    up to GROUPS transactions at a time: under load a transaction carries many
    posts, so each costs a share of its round trips and its commit instead of
    all of them, while a post that arrives alone is stored at once.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        waiter: PositionWaiter,
        *,
        on_appended: Callable[[], None] | None = None,
        sealing_here: Callable[[], bool] = lambda: False,
        clock: Callable[[], dt.datetime] = shanghai_now,
        seal_timeout: float = 10.0,
        acquire_timeout: float = 5.0,
        groups: int = GROUPS,
        group_events: int = MAX_GROUP_EVENTS,
    ) -> None:
        self._pool = pool
        self._waiter = waiter
        self._on_appended = on_appended
        self._sealing_here = sealing_here
        self._clock = clock
        self._seal_timeout = seal_timeout
        self._acquire_timeout = acquire_timeout
        self._max_groups = groups
        self._group_events = group_events
        self._queue: collections.deque[_Waiting] = collections.deque()
        self._draining = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def now(self) -> dt.datetime:
        """The time posts are recorded at now (the database server's clock by default)."""
        return self._clock()

    async def post(
        self, events: list[Posted], poster: Actor | Presented, *, batch: bool = False
    ) -> PostResult:
        """Check and store `events` atomically; return their receipts or raise Refusal.

        `poster` is who posts, or the key they presented: it is then looked up in
        the transaction that stores the post (UnknownKey when it is unknown or revoked).
        """
        key = poster if isinstance(poster, Presented) else None
        actor = poster if isinstance(poster, Actor) else None
        waiting = _Waiting(
            Post(events, actor, batch), asyncio.get_running_loop().create_future(), key
        )
        self._queue.append(waiting)
        if self._draining < self._max_groups:
            self._draining += 1
            task = asyncio.create_task(self._drain(), name="posting")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # A poster that stops waiting (its request timed out) cancels only its wait: a
        # group already being stored goes on, one not yet started leaves its post out.
        stored = await waiting.future
        receipts = await settled(self._waiter, stored.pending, stored.expected, self._seal_timeout)
        return PostResult(receipts, stored.replayed)

    async def _drain(self) -> None:
        try:
            while group := self._take():
                await self._store_group(group)
        finally:
            # With no await between finding the queue empty and this, a post queued
            # after it always finds fewer than GROUPS draining and starts another.
            self._draining -= 1

    def _take(self) -> list[_Waiting]:
        group: list[_Waiting] = []
        events = 0
        while self._queue:
            first = self._queue[0]
            if first.future.done():
                self._queue.popleft()  # its poster gave up waiting
                continue
            size = len(first.post.events)
            if group and events + size > self._group_events:
                break
            group.append(self._queue.popleft())
            events += size
        return group

    async def _store_group(self, group: list[_Waiting]) -> None:
        try:
            appended = await self._store(group)
        except asyncio.CancelledError:
            for waiting in group:
                waiting.future.cancel()
            raise
        except Exception as exc:
            if len(group) > 1 and not database_unavailable(exc):
                # Maybe one post's doing: try each alone, so it fails only itself.
                log.warning("posting.group_failed", posts=len(group), error=repr(exc)[:300])
                for waiting in group:
                    await self._store_group([waiting])
                return
            for waiting in group:
                if not waiting.future.done():
                    waiting.future.set_exception(exc)
            return
        # Deferred posts go first in the next group, in their order.
        self._queue.extendleft(reversed(appended.later))
        for waiting, result in appended.results:
            if waiting.future.done():
                continue
            if isinstance(result, Exception):
                waiting.future.set_exception(result)
            else:
                waiting.future.set_result(result)

    async def _store(self, group: list[_Waiting]) -> _Appended:
        appended: _Appended | None = None
        expected: dict[int, asyncio.Future[int]] = {}
        try:
            # Bounded: with every connection busy, posts fail fast (503) instead of piling up.
            async with self._pool.acquire(timeout=self._acquire_timeout) as proxy:
                conn: asyncpg.Connection = proxy  # type: ignore[assignment]
                for attempt in range(3):
                    try:
                        appended = await self._append(conn, group, expected)
                        break
                    except asyncpg.UniqueViolationError:
                        # A concurrent post stored one of these ids first: look again.
                        if attempt == 2:
                            raise
        except (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError):
            if appended is None:
                raise
            # The append committed; only handing the connection back failed (it
            # died with the database). The pool drops it, the receipts stand.
            log.warning("posting.connection_lost_after_commit")
        finally:
            if appended is None:
                # Nothing committed: stop waiting for seqs the rollback took back.
                self._waiter.forget(list(expected))
        assert appended is not None
        if appended.stored_any and self._on_appended is not None:
            self._on_appended()
        return appended

    async def _append(
        self,
        conn: asyncpg.Connection,
        group: list[_Waiting],
        expected: dict[int, asyncio.Future[int]],
    ) -> _Appended:
        async with conn.transaction():
            looked_up: set[str] = set()
            for waiting in group:
                looked_up |= waiting.post.looked_up()
            refs = await decisions.guarantee_refs(conn, looked_up)
            now, later = partition([w.post for w in group], refs)
            fps = footprints(now, refs)
            keys = {w.key for w in group if w.key is not None}
            # No lock per event id: a repost of an event names the same stream, whose
            # lock it waits for; a different event under a used id fails on the unique
            # event_id and is looked at again (`_store`). The posters' keys are read in
            # the same call, in this transaction: one revoked before it began posts nothing.
            prepared = await decisions.prepare(
                conn,
                merged(fps),
                [p.envelope.event_id for post in now for p in post.events],
                sorted({stream for post in now for stream in post.streams}),
                presented=keys,
            )
            refused = _posters(group, matched(keys, prepared.keys))
            if refused:
                # Locked and read for, but never decided: they store nothing.
                gone = {id(w.post) for w in refused}
                kept = [(p, fp) for p, fp in zip(now, fps, strict=True) if id(p) not in gone]
                now, fps = [p for p, _ in kept], [fp for _, fp in kept]
                later = [post for post in later if id(post) not in gone]
            # Filings fix the statement as the read models tell it now.
            await fix_statements(conn, prepared.view, (e for post in now for e in post.payloads))
            recorded_at = self._clock()
            decided = decide_group(prepared, now, fps, recorded_at)
            new_events: list[decisions.NewEvent] = []
            accepted: list[Payload] = []
            for post, outcome in zip(now, decided.outcomes, strict=True):
                if isinstance(outcome, Accepted):
                    new_events.extend(_new_events(post, outcome))
                    accepted.extend(post.payloads)
            seq_of: dict[str, int] = {}
            if new_events:
                seq_of = await decisions.append(
                    conn,
                    new_events,
                    recorded_at,
                    decided.versions,
                    prepared.view,
                    occurred=prepared.occurred,
                    issued=issued_guarantees(accepted),
                    # The active sealer listens for this notice. When it is this
                    # instance's own, `on_appended` wakes it after the commit, and a
                    # notice would only wake it again for a round that finds nothing
                    # (four rounds in ten at concurrency 32). Should it stop being
                    # the active one meanwhile, the next holder of the lock starts
                    # with a round, which finds these events.
                    notify=None if self._sealing_here() else APPENDED_CHANNEL,
                )
                # Waited for from before the commit, so no sealing notice can be missed.
                expected.update(self._waiter.expect(list(seq_of.values())))
        by_post = {id(w.post): w for w in group}
        earlier = {
            event_id: Pending(
                e.event_id,
                e.stream_id,
                e.stream_version,
                e.recorded_at.astimezone(SHANGHAI),
                e.seq,
                e.position,
            )
            for event_id, e in prepared.earlier.items()
        }
        results = stored_or_refused(earlier, now, decided.outcomes, recorded_at, seq_of, expected)
        return _Appended(
            [(by_post[id(post)], result) for post, result in zip(now, results, strict=True)]
            + [(w, UnknownKey()) for w in refused],
            [by_post[id(post)] for post in later],
            bool(new_events),
        )


__all__ = ["SHANGHAI", "Ledger", "PostResult", "Receipt", "shanghai_now"]
