"""The Merkle tree's tiles as a tree built in Python makes them, and as the store holds them."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from ledger.tlog.builder import TreeBuilder


def built_tiles(leaves: Iterable[bytes]) -> tuple[TreeBuilder, dict[tuple[int, int], bytes]]:
    """A tree built from `leaves` (leaf hashes), and every tile it made, full or partial."""
    builder = TreeBuilder()
    tiles: dict[tuple[int, int], bytes] = {}
    for leaf in leaves:
        for tile, data in builder.add(leaf):
            tiles[(tile.level, tile.index)] = data
    for tile, data in builder.partial():
        tiles[(tile.level, tile.index)] = data
    return builder, tiles


async def stored_tiles(conn: asyncpg.Connection) -> dict[tuple[int, int], bytes]:
    """Every tile the store holds, the one still filling at level 0 included."""
    rows = await conn.fetch("SELECT level, idx, hashes FROM log_tile_hashes")
    return {(r["level"], r["idx"]): bytes(r["hashes"]) for r in rows}
