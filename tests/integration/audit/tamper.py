"""Rewriting history as a database superuser would, past the append-only triggers."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import msgspec

from events.stored import CANONICAL
from ledger.store.chain import GENESIS, link


@asynccontextmanager
async def superuser(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the test DSN's superuser with the append-only triggers off."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("ALTER TABLE events DISABLE TRIGGER USER")
        await conn.execute("ALTER TABLE event_log DISABLE TRIGGER USER")
        yield conn
    finally:
        await conn.execute("ALTER TABLE events ENABLE TRIGGER USER")
        await conn.execute("ALTER TABLE event_log ENABLE TRIGGER USER")
        await conn.close()


async def seq_at(conn: asyncpg.Connection, position: int) -> int:
    """The events row sealed at `position`."""
    return int(await conn.fetchval("SELECT seq FROM event_log WHERE position = $1", position))


async def body_at(conn: asyncpg.Connection, position: int) -> bytes:
    """The stored bytes of the event at `position`."""
    return bytes(
        await conn.fetchval(
            "SELECT e.body FROM events e JOIN event_log l USING (seq) WHERE l.position = $1",
            position,
        )
    )


async def change_body(conn: asyncpg.Connection, position: int, old: bytes, new: bytes) -> None:
    """Replace bytes inside the stored body of one event."""
    body = await body_at(conn, position)
    assert old in body
    await conn.execute(
        "UPDATE events SET body = $2 WHERE seq = $1",
        await seq_at(conn, position),
        body.replace(old, new),
    )


async def remove(conn: asyncpg.Connection, position: int) -> None:
    """Delete the event at `position`: its log row and its event row."""
    seq = await seq_at(conn, position)
    await conn.execute("DELETE FROM event_log WHERE position = $1", position)
    await conn.execute("DELETE FROM events WHERE seq = $1", seq)


async def swap_bodies(conn: asyncpg.Connection, first: int, second: int) -> None:
    """Exchange the stored bodies of two events."""
    a, b = await seq_at(conn, first), await seq_at(conn, second)
    await conn.execute(
        """UPDATE events SET body = CASE seq WHEN $1 THEN (SELECT body FROM events WHERE seq = $2)
                                            ELSE (SELECT body FROM events WHERE seq = $1) END
            WHERE seq IN ($1, $2)""",
        a,
        b,
    )


async def swap_positions(conn: asyncpg.Connection, first: int, second: int) -> None:
    """Exchange which events two log positions point at."""
    spare = 2**40
    await conn.execute("UPDATE event_log SET position = $2 WHERE position = $1", first, spare)
    await conn.execute("UPDATE event_log SET position = $2 WHERE position = $1", second, first)
    await conn.execute("UPDATE event_log SET position = $2 WHERE position = $1", spare, second)


async def reseal(
    conn: asyncpg.Connection, *, fingerprints: bool = True, tree: bool = True
) -> None:
    """Recompute every stored link from the (rewritten) bodies, as a thorough forger would,
    and (unless told not to) every fingerprint and the Merkle tree too."""
    previous = GENESIS
    rows = await conn.fetch(
        """SELECT l.position, l.seq, e.body
             FROM event_log l JOIN events e USING (seq) ORDER BY position"""
    )
    for row in rows:
        body = bytes(row["body"])
        previous = link(previous, row["position"], body)
        await conn.execute(
            "UPDATE event_log SET hash = $2 WHERE position = $1", row["position"], previous
        )
        if fingerprints:
            await conn.execute(
                "UPDATE events SET fingerprint = $2 WHERE seq = $1", row["seq"], fingerprint(body)
            )
    if tree:
        await rebuild_tree(conn)


class _Sent(msgspec.Struct):
    event_id: str
    type: str
    expected_version: int | None
    data: msgspec.Raw


def fingerprint(body: bytes) -> bytes:
    """The fingerprint of a post that left occurred_at out and stored `body`."""
    sent = msgspec.json.decode(body, type=_Sent)
    encoded = CANONICAL.encode([sent.event_id, sent.type, None, sent.expected_version, sent.data])
    return hashlib.sha256(encoded).digest()


async def rebuild_tree(conn: asyncpg.Connection) -> None:
    """Rebuild the Merkle tree's tiles from the (rewritten) bodies, past its triggers."""
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute("DELETE FROM log_tiles")
        await conn.execute("DELETE FROM log_tile_leaves")
        await conn.execute("UPDATE log_tree SET size = 0")
        while await conn.fetchval("SELECT ledger_tree_catch_up(65536)"):
            pass


async def past_triggers(dsn: str, statement: str, *args: object) -> None:
    """Run one statement with every trigger off (`session_replication_role = replica`), as
    someone who controls the database could."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(statement, *args)
    finally:
        await conn.close()
