"""Importing an export into an empty ledger: same positions, same links, same decisions.

Events rows get the exported bytes verbatim (and their fingerprints), the log
rows the exported positions and links, each link recomputed before it is
stored. Decision state (the w_* tables) is rebuilt the way posts build it:
each chunk of events is re-decided (`ledger.rules.replay.decide_stored`) against the state
read with `ledger.store.decisions.prepare` and saved with `decisions.save`; an
event the rules now refuse or judge differently stops the import. Everything
happens in one transaction, so a failed import leaves the ledger empty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import msgspec

from events.errors import as_published
from events.stored import StoredEvent, decode_stored
from ledger.audit.columns import fingerprint_matches
from ledger.audit.export import decode_line
from ledger.audit.export_log import (
    LogImportRefused,
    LogLines,
    decode_log_line,
    is_event_line,
    store_log,
)
from ledger.audit.log_hold import SERVICE_RUNNING, hold_the_log
from ledger.rules.footprint import footprint, issued_guarantees, referenced_guarantees
from ledger.rules.refusal import Refusal
from ledger.rules.replay import decide_stored
from ledger.store import decisions
from ledger.store.chain import GENESIS, link
from ledger.store.sealer import SEALED_CHANNEL, TREE_CATCH_UP

CHUNK = 500
"""Events inserted and re-decided per round trip."""


class ImportRefused(Exception):
    """The export cannot be imported; nothing was stored."""


@dataclass(frozen=True)
class Imported:
    """What an import stored."""

    count: int
    head_position: int
    head_hash: str


@dataclass(frozen=True)
class _Line:
    position: int
    hash: bytes
    fingerprint: bytes
    body: bytes
    event: StoredEvent


async def import_log(
    conn: asyncpg.Connection,
    lines: Iterable[bytes],
    *,
    progress: Callable[[int], None] | None = None,
    key_file: Path | None = None,
    without_log: bool = False,
) -> Imported:
    """Load exported `lines` into the empty ledger on `conn` (as the schema owner).

    The export's log (origin, verifier key) becomes this ledger's, and its checkpoints
    are stored once checked against the events; a `key_file` that is not that log's
    signing key is refused.
    """
    state = _Chain()
    log_lines = LogLines()
    async with conn.transaction():
        if not await hold_the_log(conn):
            raise ImportRefused(SERVICE_RUNNING)
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events)"):
            raise ImportRefused("the ledger is not empty: import only into an empty ledger")
        chunk: list[_Line] = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            if not is_event_line(raw):
                try:
                    log_lines.add(decode_log_line(raw))
                except (msgspec.DecodeError, LogImportRefused) as exc:
                    raise ImportRefused(f"line {number}: {exc}") from None
                continue
            chunk.append(state.next(number, raw))
            if len(chunk) == CHUNK:
                await _store(conn, chunk)
                chunk = []
                if progress is not None:
                    progress(state.position)
        if chunk:
            await _store(conn, chunk)
        if progress is not None:
            progress(state.position)
        if log_lines.log is None and not state.position and not without_log:
            # An empty file (a backup that failed, a wrong path) is no export to restore.
            raise ImportRefused(
                "the file holds no event and no log line: it is no export of a ledger "
                "(an empty one exported without a log gives such a file: give "
                "--without-log to import it as it is)"
            )
        if log_lines.log is None and state.position and not without_log:
            # `ledger audit export` writes the log line after the last event: a file cut
            # at a line break, anywhere before it, would otherwise import as a shorter log.
            raise ImportRefused(
                f"the file ends after event {state.position} without the log line "
                "`ledger audit export` writes after the last event: it was cut short, read "
                "over GET /v1/audit/export, or exported by a ledger that had no log yet; "
                "give --without-log to import its events as they are"
            )
        # The Merkle tree of the loaded log, in the same transaction (migration 0013).
        while await conn.fetchval("SELECT ledger_tree_catch_up($1)", TREE_CATCH_UP):
            pass
        try:
            await store_log(conn, log_lines, state.position, key_file)
        except LogImportRefused as exc:
            raise ImportRefused(str(exc)) from None
        await conn.execute("SELECT pg_notify($1, $2)", SEALED_CHANNEL, str(state.position))
    return Imported(state.position, state.position, state.previous.hex())


class _Chain:
    """Checks each line against the chain recomputed so far."""

    def __init__(self) -> None:
        self.previous = GENESIS
        self.position = 0

    def next(self, number: int, raw: bytes) -> _Line:
        """Parse line `number`; it must hold the next position with the right link."""
        try:
            line = decode_line(raw)
            hash_, fingerprint = bytes.fromhex(line.hash), bytes.fromhex(line.fingerprint)
        except (msgspec.DecodeError, ValueError) as exc:
            raise ImportRefused(f"line {number}: not an export line: {exc}") from None
        try:
            # Checked as a post is: an event the ledger would refuse today is refused.
            event = decode_stored(bytes(line.event))
        except (msgspec.DecodeError, ValueError) as exc:
            raise ImportRefused(
                f"line {number}: its event is not one the ledger accepts: {as_published(str(exc))}"
            ) from None
        expected = self.position + 1
        if line.position != expected:
            raise ImportRefused(f"line {number}: position {line.position}, expected {expected}")
        body = bytes(line.event)
        computed = link(self.previous, expected, body)
        if computed != hash_:
            raise ImportRefused(
                f"line {number}: position {expected} does not match its hash: "
                "the export was changed"
            )
        # The fingerprint is not hashed: an export changed there passes the chain, so
        # it is recomputed from the bytes it came with.
        if not fingerprint_matches(body, fingerprint):
            raise ImportRefused(
                f"line {number}: position {expected} carries a fingerprint its event does "
                "not give: the export was changed"
            )
        self.previous, self.position = computed, expected
        return _Line(expected, hash_, fingerprint, body, event)


async def _store(conn: asyncpg.Connection, chunk: list[_Line]) -> None:
    await _check_versions(conn, chunk)
    rows = await conn.fetch(
        """INSERT INTO events
               (event_id, stream_id, stream_version, type, fingerprint, body, recorded_at)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[],
                                $5::bytea[], $6::bytea[], $7::timestamptz[])
           RETURNING seq, event_id::text AS event_id""",
        [c.event.event_id for c in chunk],
        [c.event.stream_id for c in chunk],
        [c.event.stream_version for c in chunk],
        [c.event.type for c in chunk],
        [c.fingerprint for c in chunk],
        [c.body for c in chunk],
        [c.event.recorded_at for c in chunk],
    )
    seq_of = {r["event_id"]: r["seq"] for r in rows}
    await conn.execute(
        """INSERT INTO event_log (position, seq, hash)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])""",
        [c.position for c in chunk],
        [seq_of[c.event.event_id] for c in chunk],
        [c.hash for c in chunk],
    )
    versions = {c.event.stream_id: c.event.stream_version for c in chunk}
    await conn.executemany(
        """INSERT INTO streams (stream_id, version) VALUES ($1, $2)
           ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version""",
        list(versions.items()),
    )
    await _redecide(conn, chunk)


async def _check_versions(conn: asyncpg.Connection, chunk: list[_Line]) -> None:
    """Every stream's versions must continue without holes from what is stored."""
    rows = await conn.fetch(
        "SELECT stream_id, version FROM streams WHERE stream_id = ANY($1)",
        list({c.event.stream_id for c in chunk}),
    )
    current = {r["stream_id"]: r["version"] for r in rows}
    for c in chunk:
        expected = current.get(c.event.stream_id, 0) + 1
        if c.event.stream_version != expected:
            raise ImportRefused(
                f"position {c.position}: stream {c.event.stream_id} version "
                f"{c.event.stream_version}, expected {expected}"
            )
        current[c.event.stream_id] = expected


async def _redecide(conn: asyncpg.Connection, chunk: list[_Line]) -> None:
    """Rebuild decision state by deciding the chunk again, as one batch post would."""
    payloads = [c.event.data for c in chunk]
    refs = await decisions.guarantee_refs(conn, referenced_guarantees(payloads))
    view = (await decisions.prepare(conn, footprint(payloads, refs), lock=False)).view
    for c in chunk:
        stored = c.event
        try:
            derived = decide_stored(view, stored)
        except Refusal as refusal:
            raise ImportRefused(
                f"position {c.position}: the rules refuse this event now: {refusal.detail}"
            ) from None
        if derived != stored.derived:
            raise ImportRefused(
                f"position {c.position}: the rules now derive other facts than were stored"
            )
    await decisions.save(conn, view, issued_guarantees(payloads))
