"""The SQL that keeps projection tables: load documents, upsert them, move checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from events.stored import LogEntry
from ledger.store.packed_texts import pack, unpacked
from projections.base import Doc, Docs, NotLoaded, Projection

_ENCODE = msgspec.json.Encoder()
_DECODE = msgspec.json.Decoder(dict)

# The needs of an event grow at most twice as documents are found (guarantee -> SME or
# program or parties); a fourth round is a safety margin.
_PREFETCH_ROUNDS = 4


@dataclass(frozen=True)
class Checkpoint:
    """Where a projection stands: the generation readers see and the last applied position."""

    name: str
    generation: int
    position: int


def encode_doc(doc: Doc) -> str:
    """A document as JSON text for a jsonb column."""
    return _ENCODE.encode(doc).decode()


def decode_doc(text: str) -> Doc:
    """A document read back from a jsonb column (as text)."""
    doc: Doc = _DECODE.decode(text)
    return doc


async def checkpoints(
    conn: asyncpg.Connection | asyncpg.Pool, names: Sequence[str], *, lock: bool = False
) -> dict[str, Checkpoint]:
    """The checkpoints of `names`; with `lock`, row-locked until the transaction ends."""
    sql = "SELECT name, generation, position FROM projection_checkpoints WHERE name = ANY($1)"
    # Locking in name order: two transactions locking overlapping sets never deadlock.
    sql += " ORDER BY name FOR UPDATE" if lock else ""
    rows = await conn.fetch(sql, list(names))
    return {r["name"]: Checkpoint(r["name"], r["generation"], r["position"]) for r in rows}


async def ensure_checkpoints(conn: asyncpg.Connection, names: Sequence[str]) -> None:
    """Create missing checkpoint rows (a projection added after the migration)."""
    await conn.execute(
        """INSERT INTO projection_checkpoints (name)
           SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING""",
        list(names),
    )


async def set_checkpoints(conn: asyncpg.Connection, moved: Sequence[Checkpoint]) -> None:
    """Point each projection at its generation as of its position, in one statement
    (inside the caller's transaction)."""
    if not moved:
        return
    await conn.execute(
        """UPDATE projection_checkpoints AS c
              SET generation = u.generation, position = u.position, updated_at = now()
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(name, generation, position)
            WHERE c.name = u.name""",
        [cp.name for cp in moved],
        [cp.generation for cp in moved],
        [cp.position for cp in moved],
    )


# Key by key through a scalar subquery: each lookup is a unique-index probe on
# (generation, key) whatever the table's statistics say. As `key = ANY($2)`, the
# planner kept choosing to read the whole generation and test every row against
# the keys (its statistics still described the young, small table), and one
# batch's load grew with the read model to a tenth of a second and more.
LOAD_DOCS = f"""SELECT k.key,
                      (SELECT d.doc::text FROM {{table}} d
                        WHERE d.generation = $1 AND d.key = k.key) AS doc
                 FROM unnest({unpacked("$2")}) AS k(key)"""  # noqa: S608 - fixed text
"""Documents by key (doc NULL where there is none), from one generation of a projection;
the keys packed (ledger/store/packed_texts.py)."""


async def load_docs(
    conn: asyncpg.Connection, proj: Projection, generation: int, keys: set[str]
) -> dict[str, Doc]:
    """The documents stored under `keys` (missing ones are simply absent)."""
    rows = await conn.fetch(LOAD_DOCS.format(table=proj.table), generation, pack(keys))
    return {r["key"]: decode_doc(r["doc"]) for r in rows if r["doc"] is not None}


_UNPACKED_KEYS = unpacked("$2")
_UNPACKED_DOCS = unpacked("$3")


async def upsert_docs(
    conn: asyncpg.Connection, proj: Projection, generation: int, docs: dict[str, Doc]
) -> None:
    """Write changed documents in one statement (keys and documents packed)."""
    if not docs:
        return
    await conn.execute(
        f"INSERT INTO {proj.table} (generation, key, doc) "  # noqa: S608 - table names are fixed in the registry
        f"SELECT $1, k, d::jsonb FROM unnest({_UNPACKED_KEYS}, {_UNPACKED_DOCS}) AS u(k, d) "
        "ON CONFLICT (generation, key) DO UPDATE SET doc = EXCLUDED.doc",
        generation,
        pack(docs),
        pack([encode_doc(doc) for doc in docs.values()]),
    )


async def insert_rows(
    conn: asyncpg.Connection, proj: Projection, generation: int, rows: list[tuple[Any, ...]]
) -> None:
    """Add emitted rows to the projection's row table, in one statement."""
    if proj.rows is None or not rows:
        return
    table = proj.rows
    await conn.copy_records_to_table(
        table.table,
        records=[(generation, *row) for row in rows],
        columns=["generation", *table.columns],
    )


async def _prefetch(
    conn: asyncpg.Connection, proj: Projection, generation: int, entries: list[LogEntry]
) -> Docs:
    # Loads what the batch names, in rounds: an entry is asked again only when a document
    # it named was found, since only that can make it name more (guarantee -> SME).
    docs = Docs(strict=True)
    pending = entries
    for _ in range(_PREFETCH_ROUNDS):
        named = [(entry, set(proj.needs(docs, entry))) for entry in pending]
        wanted = set().union(*(keys for _, keys in named)) - docs.known
        if not wanted:
            break
        found = await load_docs(conn, proj, generation, wanted)
        docs.load(found, wanted)
        pending = [entry for entry, keys in named if not keys.isdisjoint(found)]
    return docs


async def apply_batch(
    conn: asyncpg.Connection, proj: Projection, generation: int, entries: list[LogEntry]
) -> None:
    """Apply entries (in position order) to one projection's stored documents.

    Skips events of types the projection does not handle. Loads every document the
    batch names in a few statements, applies the pure `apply` in memory, and writes what
    changed with one upsert. Should an event need a document only an earlier event of
    the batch could name, the batch is applied again from scratch, loading before each
    event. The caller owns the transaction, and moves the checkpoint inside it.
    """
    entries = [entry for entry in entries if entry.type in proj.handles]
    if not entries:
        return
    try:
        docs = await _prefetch(conn, proj, generation, entries)
        for entry in entries:
            proj.apply(docs, entry)
    except NotLoaded:
        docs = Docs(strict=True)
        for entry in entries:
            # Until it names nothing new: a document found may name more (guarantee ->
            # its program, or the day of an event the issuance did not name).
            while missing := set(proj.needs(docs, entry)) - docs.known:
                docs.load(await load_docs(conn, proj, generation, missing), missing)
            proj.apply(docs, entry)
    await upsert_docs(conn, proj, generation, docs.take_changed())
    await insert_rows(conn, proj, generation, docs.take_rows())
