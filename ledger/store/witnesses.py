"""Registered witnesses, read from their witness.registered events, and their cosignatures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import msgspec

from events.payloads import WitnessRegistered
from events.stored import read_data


@dataclass(frozen=True)
class RegisteredWitness:
    """A witness as registered: its id, display name and cosignature verifier key text."""

    witness_id: str
    name: str
    key: str


async def registered(conn: asyncpg.Connection | asyncpg.Pool) -> list[RegisteredWitness]:
    """Every registered witness, earliest first, from the stored bytes of its registration."""
    # The key is read from the hashed bytes, not from any other column: what verify
    # checks is what decides whose cosignatures are accepted.
    rows = await conn.fetch(
        "SELECT body FROM events WHERE type = 'witness.registered' ORDER BY seq"
    )
    found: list[RegisteredWitness] = []
    for row in rows:
        try:
            data = read_data(bytes(row["body"]))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue  # bytes that do not decode are named by verify; they register no one
        if isinstance(data, WitnessRegistered):
            found.append(RegisteredWitness(data.witness_id, data.name, data.key))
    return found


async def store_cosignatures(
    conn: asyncpg.Connection, size: int, lines: Sequence[tuple[str, str]]
) -> list[tuple[bool, str]]:
    """Store each (witness_id, signature line) for the checkpoint of `size`; for each,
    whether it was new and the line kept.

    A witness keeps its first cosignature of a checkpoint: a later one (another
    time stamp over the same checkpoint) proves nothing more, and the table is
    append-only.
    """
    stored: list[tuple[bool, str]] = []
    for witness_id, line in lines:
        row = await conn.fetchrow(
            """INSERT INTO log_cosignatures (size, witness_id, line) VALUES ($1, $2, $3)
               ON CONFLICT (size, witness_id) DO NOTHING RETURNING size""",
            size,
            witness_id,
            line,
        )
        if row is not None:
            stored.append((True, line))
            continue
        kept = await conn.fetchval(
            "SELECT line FROM log_cosignatures WHERE size = $1 AND witness_id = $2",
            size,
            witness_id,
        )
        stored.append((False, str(kept)))
    return stored
