"""Waiting for appended events to be sealed, so a poster learns their positions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from ledger.aio import wait_event
from ledger.store.sealer import SEALED_CHANNEL

log = structlog.get_logger(__name__)


# What a connection's failure raises, the one closed under an operation at shutdown
# included (asyncpg's InternalClientError: "got result for unknown protocol state").
_CONNECTION_FAILURES = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


_REOPEN_EVERY = 1.0
"""Seconds between two tries to open a lost listening connection again."""

Connect = Callable[[], Awaitable[asyncpg.Connection]]
"""Opens the connection that listens for seal notices."""


class SealTimeout(Exception):
    """The events are stored but no sealer gave them a position in time."""


class PositionWaiter:
    """Resolves seq -> position for appended events, from the local sealer or any other."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._pending: dict[int, asyncio.Future[int]] = {}
        self._connect: Connect | None = None
        self._listener: asyncpg.Connection | None = None
        self._stopped = False
        self._next_open = 0.0
        self._poll = asyncio.Event()
        self._local_sealer: int | None = None
        self._listening = False
        self._switch = asyncio.Lock()
        self._switching: set[asyncio.Task[None]] = set()

    async def start(self, connect: Connect) -> None:
        """Listen for seal notifications from every instance's sealer, on a connection
        `connect` opens: again (by `run`) whenever it is lost, as when the database
        restarts or ends the session; meanwhile the quarter-second poll resolves posts."""
        self._connect = connect
        await self._open()

    async def _open(self) -> None:
        assert self._connect is not None
        listener = await self._connect()
        self._listener, self._listening = listener, False
        listener.add_termination_listener(self._lost)
        await self._follow_others()

    def _lost(self, listener: object) -> None:
        if listener is not self._listener:
            return  # one this waiter closed itself
        log.warning("positions.listener_lost")
        self._listener, self._listening = None, False
        self._poll.set()  # look up what is pending now, and listen again

    async def _reopen(self) -> None:
        """Open the listening connection again, or LISTEN on it again, at most once a
        second."""
        if self._listener is not None and self._listener.is_closed():
            # Lost without its termination callback, as when a query on it met the
            # server's FATAL message first.
            self._lost(self._listener)
        loop = asyncio.get_running_loop()
        if self._stopped or loop.time() < self._next_open:
            return
        if self._listener is not None:
            if not self._listening and self._local_sealer is None:
                # Open, but its LISTEN failed (logged): try it again.
                self._next_open = loop.time() + _REOPEN_EVERY
                await self._follow_others()
            return
        self._next_open = loop.time() + _REOPEN_EVERY
        try:
            await self._open()
        except (*_CONNECTION_FAILURES, TimeoutError) as exc:
            log.warning("positions.listen_failed", error=str(exc)[:200])
            return
        log.info("positions.listening_again")

    async def close(self) -> None:
        """Stop listening for good, and close the listening connection."""
        self._stopped = True
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()

    async def _follow_others(self) -> None:
        """Listen for seal notices while another instance seals; not while this one does.

        This instance's own rounds are resolved directly, so their notices would only
        wake the listener's connection and this process for nothing, once per round.
        """
        async with self._switch:
            want = self._local_sealer is None
            if self._stopped or self._listener is None or want == self._listening:
                return
            try:
                if want:
                    await self._listener.add_listener(SEALED_CHANNEL, self._on_notify)
                else:
                    await self._listener.remove_listener(SEALED_CHANNEL, self._on_notify)
            except _CONNECTION_FAILURES as exc:
                log.warning("positions.listen_failed", error=str(exc))
                return
            self._listening = want
            if want:
                self._poll.set()  # what was sealed elsewhere while not listening

    def stop_listening(self) -> None:
        """Follow no more sealer changes, nor open the listener again: the service is
        stopping."""
        self._stopped = True

    async def settled(self) -> None:
        """Wait for any switch of listening under way to end."""
        if self._switching:
            await asyncio.gather(*self._switching, return_exceptions=True)

    def resolve(self, sealed: dict[int, int]) -> None:
        """Resolve waiters from a batch sealed in this process."""
        for seq, position in sealed.items():
            fut = self._pending.pop(seq, None)
            if fut is not None and not fut.done():
                fut.set_result(position)

    async def listening(self) -> bool:
        """Whether seal notices reach this waiter now (asked of PostgreSQL)."""
        async with self._switch:
            if self._listener is None or not self._listening:
                return False
            try:
                rows = await self._listener.fetch("SELECT pg_listening_channels()")
            except _CONNECTION_FAILURES:
                return False  # lost, and not yet found so
            return SEALED_CHANNEL in {r[0] for r in rows}

    def sealing_here(self, backend_pid: int | None) -> None:
        """The backend pid of this process's sealer while it is the active one, else None.

        Its batches are resolved directly (`resolve`), so its notices need no lookup,
        and the waiter stops listening for them until it is no longer the active one.
        """
        self._local_sealer = backend_pid
        task = asyncio.get_running_loop().create_task(self._follow_others())
        self._switching.add(task)
        task.add_done_callback(self._switching.discard)

    def _on_notify(self, _conn: object, pid: int, _channel: str, _payload: object) -> None:
        if pid != self._local_sealer:
            self._poll.set()

    async def run(self) -> None:
        """Look up pending seqs when another instance's sealer reports progress.

        Also every quarter second while some are pending, as a safety net.
        """
        while True:
            await wait_event(self._poll, 0.25)
            self._poll.clear()
            await self._reopen()
            if not self._pending:
                continue
            try:
                await self._lookup(list(self._pending))
            except _CONNECTION_FAILURES as exc:
                log.warning("positions.lookup_failed", error=str(exc))

    async def _lookup(self, seqs: list[int]) -> None:
        rows = await self._pool.fetch(
            "SELECT seq, position FROM event_log WHERE seq = ANY($1::bigint[])", seqs
        )
        self.resolve({r["seq"]: r["position"] for r in rows})

    def expect(self, seqs: list[int]) -> dict[int, asyncio.Future[int]]:
        """Start waiting for `seqs`; pass the result to `settle`.

        Called before their transaction commits, no sealer can have taken
        them yet, so the first notice of their sealing, local or remote,
        finds them waited for and no lookup is needed up front.
        """
        loop = asyncio.get_running_loop()
        futures = {}
        for seq in seqs:
            fut = self._pending.get(seq)
            if fut is None:
                fut = self._pending[seq] = loop.create_future()
            futures[seq] = fut
        return futures

    def forget(self, seqs: list[int]) -> None:
        """Stop waiting for `seqs` (their transaction did not commit)."""
        for seq in seqs:
            self._pending.pop(seq, None)

    async def settle(
        self, futures: dict[int, asyncio.Future[int]], within: float
    ) -> dict[int, int]:
        """The positions `expect`ed, waiting up to `within` seconds for them to be sealed."""
        try:
            async with asyncio.timeout(within):
                return {seq: await fut for seq, fut in futures.items()}
        except TimeoutError:
            self.forget(list(futures))
            raise SealTimeout from None

    async def wait(self, seqs: list[int], within: float) -> dict[int, int]:
        """Positions of `seqs` stored earlier (maybe sealed already), waiting up to `within`."""
        futures = self.expect(seqs)
        self._poll.set()
        return await self.settle(futures, within)
