"""Upgrading to migration 0023 moves the level-0 tile still filling into its leaves' rows,
and the tree then grows from them into the same tiles a tree built in Python holds."""

from __future__ import annotations

import hashlib

import asyncpg

from ledger.store.migrate import migrate
from tests import pg
from tests.integration.tree_tiles import built_tiles, stored_tiles

LEAVES = 23


def _leaves(start: int, count: int) -> list[bytes]:
    return [hashlib.sha256(b"leaf %d" % n).digest() for n in range(start, start + count)]


def _tiles(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    return built_tiles(leaves)[1]


async def test_the_tile_filling_moves_to_its_leaves_and_the_tree_grows_on(
    pg_admin_dsn: str,
) -> None:
    name = await pg.create_database(pg_admin_dsn, "template0")
    conn = await asyncpg.connect(pg.with_database(pg_admin_dsn, name))
    try:
        await migrate(conn, through=LEAVES - 1)
        before = _leaves(0, 300)
        # As a store of the release before held it: tile 0/1 half full, in log_tiles.
        await conn.executemany(
            "INSERT INTO log_tiles (level, idx, hashes) VALUES ($1, $2, $3)",
            [(level, idx, data) for (level, idx), data in _tiles(before).items()],
        )
        await conn.execute("UPDATE log_tree SET size = 300")
        assert (
            await conn.fetchval("SELECT length(hashes) FROM log_tiles WHERE level = 0 AND idx = 1")
            == 44 * 32
        )
        assert LEAVES in await migrate(conn)  # the upgrade to this release
        assert await stored_tiles(conn) == _tiles(before)
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM log_tiles WHERE level = 0 AND length(hashes) < 8192"
            )
            == 0
        )
        assert await conn.fetchval("SELECT count(*) FROM log_tile_leaves WHERE idx = 1") == 44
        # One leaf at a time, then a round that fills tile 0/1 and starts 0/2.
        after = _leaves(300, 400)
        for n, leaf in enumerate(after[:100]):
            await conn.execute(
                "SELECT ledger_tree_append($1::bigint, $2::bytea[])", 300 + n, [leaf]
            )
        await conn.execute("SELECT ledger_tree_append(400, $1::bytea[])", after[100:])
        assert await stored_tiles(conn) == _tiles(before + after)
        assert await conn.fetchval("SELECT array_agg(DISTINCT idx) FROM log_tile_leaves") == [2]
    finally:
        await conn.close()
        await pg.drop_database(pg_admin_dsn, name)


async def test_the_leaves_are_vacuumed_once_four_tiles_of_them_are_dead(db_dsn: str) -> None:
    # Every full tile deletes 256 leaves: with PostgreSQL's default (a fifth of the
    # table's estimated size), the table was never vacuumed and grew with the log.
    conn = await asyncpg.connect(db_dsn)
    try:
        options = await conn.fetchval(
            "SELECT reloptions FROM pg_class WHERE oid = 'log_tile_leaves'::regclass"
        )
    finally:
        await conn.close()
    assert sorted(options) == [
        "autovacuum_analyze_scale_factor=0",
        "autovacuum_analyze_threshold=1024",
        "autovacuum_vacuum_scale_factor=0",
        "autovacuum_vacuum_threshold=1024",
    ]
