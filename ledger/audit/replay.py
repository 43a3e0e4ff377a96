"""Replaying the log into every read model, in memory, as it stood at a position or a moment.

`--as-of T` alone means the ledger as it stood at moment T: the longest prefix
of the log whose events were all recorded at or before T. With a business date
it means "as known at T": every event recorded at or before T, wherever it was
placed (an event is recorded when its append starts and placed when it commits,
so overlapping posts may be placed out of recording order). A timestamp without
a UTC offset is read in the business time zone, Asia/Shanghai.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable

import asyncpg
import msgspec

from events.business import SHANGHAI
from events.business import business_date as day_of
from events.payloads import EVENT_TYPES
from events.stored import read_log_entry
from ledger.audit.scan import head, scan_bodies, snapshot
from ledger.store.chain import GENESIS, link
from projections.base import Projection
from projections.fold import Fold


class ReplayError(Exception):
    """The replay cannot give the state asked for (beyond the head, or a broken chain)."""


def parse_as_of(text: str) -> dt.datetime:
    """An RFC 3339 timestamp; without an offset it is taken in Asia/Shanghai."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"not an RFC 3339 timestamp: {text!r} (e.g. 2025-03-01T10:00:00+08:00)"
        ) from None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=SHANGHAI)


async def replay(
    conn: asyncpg.Connection,
    *,
    to_position: int | None = None,
    as_of: dt.datetime | None = None,
    business_date: dt.date | None = None,
    projections: Iterable[Projection] | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_position: Callable[[Fold], None] | None = None,
) -> Fold:
    """Fold the log from position 1 to `to_position` (default the head), or up to `as_of`.

    With `business_date`, only the events whose business date is at or
    before it are folded: the books as of that day, as known at `as_of` (or now).

    Events are read in batches from one snapshot, so memory holds the read
    models, never the log. Each link is recomputed on the way: a state is
    only ever built from verified history (ReplayError otherwise, and when
    `to_position` lies beyond the head). `on_position` sees the fold after
    every event.
    """
    folder = ChainFold(Fold(projections), as_of, on_position, business_date)
    async with snapshot(conn):
        end = await last_position(conn, to_position)
        return await fold_through(conn, folder, end, progress)


async def last_position(conn: asyncpg.Connection, to_position: int | None) -> int:
    """`to_position`, or the head when None; ReplayError when it lies beyond the head."""
    head_position, _ = await head(conn)
    if to_position is not None and to_position > head_position:
        raise ReplayError(f"position {to_position} is beyond the head of the log ({head_position})")
    return head_position if to_position is None else to_position


async def fold_through(
    conn: asyncpg.Connection,
    folder: ChainFold,
    end: int,
    progress: Callable[[int, int], None] | None = None,
) -> Fold:
    """Feed `folder` the log from position 1 through `end`, read in the snapshot the
    caller holds open on `conn`; the fold, once `folder` has taken its last event."""
    async with contextlib.aclosing(scan_bodies(conn, through=end)) as batches:
        async for batch in batches:
            for position, stored_hash, body in batch:
                if not folder.take(position, stored_hash, body):
                    return folder.fold
            if progress is not None:
                progress(folder.reached, end)
    return folder.fold


class ChainFold:
    """Folds events in log order, each only once its link checks; stops after `as_of`.

    The one folding step of every replay: from a database, over HTTP, from an export.
    """

    def __init__(
        self,
        fold: Fold,
        as_of: dt.datetime | None = None,
        on_position: Callable[[Fold], None] | None = None,
        business_date: dt.date | None = None,
        advice: str = "run `ledger audit verify`",
    ) -> None:
        """`advice` ends the error of a broken chain: what its reader can do about it."""
        self.fold = fold
        self._advice = advice
        self.previous = GENESIS
        self.reached = 0  # the last position verified (folded or, later in business time, not)
        self._business_date = business_date
        self._as_of = as_of
        self._on_position = on_position
        # With no moment to stop at and no business date to leave events out by, an event
        # of a type none of the fold's read models handles needs only its link checked:
        # its type is read alone, at about a quarter of the cost of decoding it all.
        everything = fold.folded == frozenset(EVENT_TYPES)
        cut = as_of is not None or business_date is not None
        self._folded = None if everything or cut else fold.folded

    def take(self, position: int, stored_hash: bytes, body: bytes | None) -> bool:
        """Check and fold the event at `position`; False (and nothing folded) past `as_of`;
        an event later in business time than `business_date` is checked, not folded.

        ReplayError when it is not the next position, is missing, or its link does not
        recompute from the one before.
        """
        fold = self.fold
        if position != self.reached + 1 or body is None:
            raise ReplayError(_broken(self.reached + 1, self._advice))
        computed = link(self.previous, position, body)
        if computed != stored_hash:
            raise ReplayError(_broken(position, self._advice))
        if self._folded is not None and _TYPE.decode(body).type not in self._folded:
            self.previous, self.reached = computed, position
            fold.pass_over(position)
            if self._on_position is not None:
                self._on_position(fold)
            return True
        entry = read_log_entry(body, position, stored_hash.hex())
        if self._as_of is not None and entry.recorded_at > self._as_of:
            if self._business_date is None:
                return False  # the log as it stood at that moment: up to the first recorded after
            # As of a business date as known then: every event recorded by then, wherever
            # placed (overlapping posts are placed in commit order, not recording order).
            self.previous, self.reached = computed, position
            return True
        self.previous, self.reached = computed, position
        if self._business_date is not None and day_of(entry.occurred_at) > self._business_date:
            return True  # later in business time: verified, not folded
        fold.apply(entry)
        if self._on_position is not None:
            self._on_position(fold)
        return True


class _Typed(msgspec.Struct):
    type: str


_TYPE = msgspec.json.Decoder(_Typed)
"""A stored event's type alone (the rest of its JSON is skipped, not decoded)."""


def _broken(position: int, advice: str) -> str:
    return f"the chain is broken at position {position}; {advice}"
