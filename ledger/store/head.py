"""The end of the sealed log: the last sealed event, where positions and links go on from."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from ledger.store.chain import GENESIS


@dataclass(frozen=True)
class Head:
    """The last sealed event: where the next position and link continue from."""

    position: int
    hash: bytes
    tx_id: str
    seq: int


EMPTY_HEAD = Head(0, GENESIS, "0", 0)


async def read_head(conn: asyncpg.Connection) -> Head:
    """The current end of the sealed log."""
    row = await conn.fetchrow(
        """SELECT l.position, l.hash, e.tx_id::text AS tx_id, e.seq
             FROM event_log l JOIN events e USING (seq)
            ORDER BY l.position DESC LIMIT 1"""
    )
    if row is None:
        return EMPTY_HEAD
    return Head(row["position"], bytes(row["hash"]), row["tx_id"], row["seq"])
