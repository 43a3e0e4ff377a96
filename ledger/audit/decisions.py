"""Deciding the log again: every event through the rules, and the decision state compared.

The service decides each post against its decision state (the w_* tables and the
streams' versions and business times), written in the append transaction. Nothing
else reads those rows: one changed by someone who controls the database (an SME's
balance lowered under the cap, a breaker reset) would go unseen until posts were
decided against it, and the events accepted then would verify, prove and replay like
any other. `ledger audit decisions` folds the whole log through `ledger.rules.decide`
from an empty state, as an import does, and names the first event the rules now
refuse or derive other facts from, and every stored row that differs from the fold's.

It reads one snapshot: the sealed log in position order, then the events appended but
not sealed yet in the order the sealer will give them (transaction, then seq), which
is the order they were decided in. The fold then covers exactly what the stored rows
reflect, on a ledger taking posts as on a quiet one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncpg
import msgspec

from events.errors import as_published
from events.stored import StoredEvent, decode_stored
from ledger.audit.decision_rows import Difference, compare_rows
from ledger.audit.scan import snapshot
from ledger.rules.business_time import check_occurred
from ledger.rules.refusal import Refusal
from ledger.rules.replay import decide_stored
from ledger.rules.state import View

BATCH = 1000
"""Events read per round trip."""

_SEALED = """SELECT l.position, e.seq, e.tx_id::text AS tx_id, e.body
                FROM event_log l JOIN events e USING (seq)
               WHERE l.position > $1
               ORDER BY l.position
               LIMIT $2"""

# After the head, as ledger_seal takes them: every event sealed later lies above it.
_UNSEALED = """SELECT NULL::bigint AS position, e.seq, e.tx_id::text AS tx_id, e.body
                  FROM events e
                 WHERE (e.tx_id, e.seq) > ($1::text::xid8, $2::bigint)
                   AND NOT EXISTS (SELECT 1 FROM event_log l WHERE l.seq = e.seq)
                 ORDER BY e.tx_id, e.seq
                 LIMIT $3"""


@dataclass(frozen=True)
class Fault:
    """The first event deciding again does not reproduce."""

    position: int | None
    """Its position, or None for an event appended but not sealed yet (then `seq`)."""
    seq: int
    event: str
    reason: str

    def describe(self) -> str:
        """One line for people: where, which event, and why."""
        where = f"position {self.position}" if self.position is not None else f"seq {self.seq}"
        return f"{where} ({self.event}): {self.reason}"


@dataclass
class Decided:
    """What deciding the log again found."""

    events: int = 0
    sealed: int = 0
    fault: Fault | None = None
    differences: list[Difference] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """Whether every event was decided as stored and every row equals the fold's."""
        return self.fault is None and not self.differences


class Folded:
    """Decides stored events in order against one View, as the service decided them: once
    the whole log is folded, the decision state it gives (the rules' view, the streams'
    versions and business times)."""

    def __init__(self) -> None:
        self.view = View()
        self.versions: dict[str, int] = {}
        self.occurred: dict[str, dt.datetime] = {}

    def decide(self, event: StoredEvent) -> str | None:
        """Decide `event` again; why it does not reproduce, or None when it does."""
        stream = event.stream_id
        expected = self.versions.get(stream, 0) + 1
        if event.stream_version != expected:
            return f"stream {stream} is at version {event.stream_version}, expected {expected}"
        try:
            check_occurred(stream, event.occurred_at, event.recorded_at, self.occurred.get(stream))
            decided = decide_stored(self.view, event)
        except Refusal as refusal:
            return f"the rules refuse it now ({refusal.status} {refusal.slug}): {refusal.detail}"
        if decided != event.derived:
            return f"the rules derive {decided!r} from it, not the stored {event.derived!r}"
        self.versions[stream] = expected
        self.occurred[stream] = event.occurred_at
        return None

    async def compare(self, conn: asyncpg.Connection) -> list[Difference]:
        """Every stored row that differs from this state (inside a transaction)."""
        return await compare_rows(conn, self.view, self.versions, self.occurred)


async def _rows(conn: asyncpg.Connection) -> AsyncIterator[list[asyncpg.Record]]:
    """The sealed log in position order, then the unsealed events after its head."""
    after, tx_id, seq = 0, "0", 0
    while rows := await conn.fetch(_SEALED, after, BATCH):
        yield rows
        after, tx_id, seq = rows[-1]["position"], rows[-1]["tx_id"], rows[-1]["seq"]
    while rows := await conn.fetch(_UNSEALED, tx_id, seq, BATCH):
        yield rows
        tx_id, seq = rows[-1]["tx_id"], rows[-1]["seq"]


def _decoded(row: asyncpg.Record) -> StoredEvent | str:
    try:
        return decode_stored(bytes(row["body"]))
    except msgspec.ValidationError as exc:
        return f"its stored bytes are not an event the ledger accepts: {as_published(str(exc))}"
    except msgspec.DecodeError as exc:
        return f"its stored bytes are not an event: {exc}"


async def decide_again(
    conn: asyncpg.Connection, *, progress: Callable[[int, int], None] | None = None
) -> Decided:
    """Fold the log through the rules in one snapshot; compare the decision state with it.

    Stops folding at the first event that does not reproduce (the state after it would
    mean nothing) and then compares no rows.
    """
    async with snapshot(conn):
        found, folded = await fold_log(conn, progress=progress)
        if folded is not None:
            found.differences = await folded.compare(conn)
    return found


async def fold_log(
    conn: asyncpg.Connection, *, progress: Callable[[int, int], None] | None = None
) -> tuple[Decided, Folded | None]:
    """Decide every event again, in the transaction open on `conn`; the state it gives, or
    None at the first event that does not reproduce (named in the Decided)."""
    found = Decided()
    folded = Folded()
    async for rows in _rows(conn):
        for row in rows:
            event = _decoded(row)
            name = "unreadable" if isinstance(event, str) else event.type
            reason = event if isinstance(event, str) else folded.decide(event)
            if reason is not None:
                found.fault = Fault(row["position"], row["seq"], name, reason)
                if progress is not None:
                    progress(found.events, 0)
                return found, None
            found.events += 1
            found.sealed += row["position"] is not None
        # Which rows the decisions changed is for a post's append; the fold needs no list.
        folded.view.dirty.clear()
        if progress is not None:
            progress(found.events, 0)
    return found, folded
