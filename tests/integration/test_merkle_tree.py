"""The Merkle tree the sealer keeps (migration 0013): equal to one built from the stored bytes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from ledger.runtime import Runtime, running
from ledger.store import tree
from ledger.store.head import EMPTY_HEAD
from ledger.store.migrate import migrate
from ledger.store.sealer import seal_batch
from ledger.tlog.builder import TreeBuilder
from ledger.tlog.hashing import leaf_hash
from ledger.tlog.tiles import Tile
from tests import pg
from tests.factory import ADMIN, institution, posted
from tests.integration.tree_tiles import built_tiles, stored_tiles

TREE = 13


async def _built(conn: asyncpg.Connection) -> tuple[TreeBuilder, dict[tuple[int, int], bytes]]:
    """A tree built in Python from the stored bodies, and every tile it made."""
    rows = await conn.fetch(
        "SELECT e.body FROM event_log l JOIN events e USING (seq) ORDER BY l.position"
    )
    return built_tiles(leaf_hash(bytes(row["body"])) for row in rows)


async def test_sealed_posts_grow_the_tree_from_their_exact_stored_bytes(
    runtime: Runtime, db_dsn: str
) -> None:
    """Concurrent posts: the stored tiles and root equal those built from the bodies."""
    await asyncio.gather(
        *(runtime.ledger.post(posted(institution(f"B-{i}")), ADMIN) for i in range(300))
    )
    conn = await asyncpg.connect(db_dsn)
    try:
        builder, tiles = await _built(conn)
        assert builder.size == 300 == await tree.tree_size(conn)
        assert await stored_tiles(conn) == tiles
        assert await tree.root_at(conn, 300) == builder.root()
    finally:
        await conn.close()


async def _append_sealed(conn: asyncpg.Connection, count: int) -> None:
    """Events appended and sealed as a store of the previous release did."""
    await conn.executemany(
        """INSERT INTO events (event_id, stream_id, stream_version, type, fingerprint, body,
                               recorded_at)
           VALUES ($1, $2, 1, 'institution.registered', '\\x00', $3, now())""",
        [(uuid.uuid4(), f"s-{i}", f'{{"n": {i}}}'.encode()) for i in range(count)],
    )
    head = EMPTY_HEAD
    while True:
        sealing = await seal_batch(conn, head, 1000)
        if not sealing.sealed:
            break
        head = sealing.head


async def test_upgrade_builds_the_tree_of_events_sealed_before(pg_admin_dsn: str) -> None:
    """On a store upgraded with 1000 sealed events, the sealer builds exactly their tree."""
    name = await pg.create_database(pg_admin_dsn, "template0")
    conn = await asyncpg.connect(pg.with_database(pg_admin_dsn, name))
    try:
        await migrate(conn, through=TREE - 1)
        await _append_sealed(conn, 1000)
        assert TREE in await migrate(conn)
        assert await tree.tree_size(conn) == 0
        # The first active sealer of the new release builds it.
        async with running(pg.with_database(pg_admin_dsn, name)) as rt:
            for _ in range(100):
                if await tree.tree_size(conn) == 1000:
                    break
                await asyncio.sleep(0.05)
            assert rt.sealer.active
        builder, tiles = await _built(conn)
        assert builder.size == 1000 == await tree.tree_size(conn)
        assert await stored_tiles(conn) == tiles
    finally:
        await conn.close()
        await pg.drop_database(pg_admin_dsn, name)


async def test_a_tile_can_only_grow(runtime: Runtime, db_dsn: str) -> None:
    """Changing a stored hash, shrinking or deleting a tile, full or still filling (its
    leaves), is refused by the database."""
    await runtime.ledger.post(posted(*(institution(f"B-{i}") for i in range(300))), ADMIN)
    conn = await asyncpg.connect(db_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM log_tile_leaves") == 300 - 256
        for statement in (
            "UPDATE log_tiles SET hashes = set_byte(hashes, 0, get_byte(hashes, 0) # 1)",
            "UPDATE log_tiles SET hashes = substring(hashes FROM 1 FOR 32)",
            "DELETE FROM log_tiles",
            "UPDATE log_tile_leaves SET hash = sha256(hash)",
            "DELETE FROM log_tile_leaves",
            "TRUNCATE log_tile_leaves",
            "UPDATE log_tree SET size = 1",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()


def _scans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan that reads a table."""
    if "Relation Name" in plan:
        yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


async def test_tiles_are_read_each_by_its_key(runtime: Runtime, db_dsn: str) -> None:
    """Reading a few tiles looks each up in its table's key, full or still filling, and
    never reads the others: read over every tile, a proof's cost grew with the log."""
    await runtime.ledger.post(posted(*(institution(f"B-{i}") for i in range(300))), ADMIN)
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute("SET enable_seqscan = off")  # tables this small would be scanned
        plan = await conn.fetchval(
            "EXPLAIN (FORMAT JSON) " + tree._TILES, [0, 0], [0, 1], [256, 44]
        )
        scans = list(_scans(json.loads(plan)[0]["Plan"]))
        assert {s["Relation Name"] for s in scans} == {"log_tiles", "log_tile_leaves"}
        for scan in scans:  # an index scan, or a bitmap heap scan over one
            assert "Index Cond" in scan or "Recheck Cond" in scan, scan
        found = await tree.read_tiles(conn, [Tile(0, 0, 256), Tile(0, 1, 44)])
        _, built = await _built(conn)
        assert found == {Tile(0, 0, 256): built[(0, 0)], Tile(0, 1, 44): built[(0, 1)]}
    finally:
        await conn.close()
