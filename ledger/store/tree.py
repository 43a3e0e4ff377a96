"""The Merkle tree as stored (migration 0013): tiles read by key, roots and proofs from them."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ledger.tlog.proofs import (
    Node,
    consistency_ranges,
    hashes_of,
    inclusion_ranges,
    nodes_for,
)
from ledger.tlog.tiles import Tile, TileNodeReader

_TILES = """SELECT t.level, t.idx, substring(t.hashes FROM 1 FOR w.width * 32) AS hashes
              FROM unnest($1::smallint[], $2::bigint[], $3::integer[]) AS w(level, idx, width)
              JOIN log_tiles t ON t.level = w.level AND t.idx = w.idx"""


class MissingTile(LookupError):
    """A tile the tree of some size needs is not stored (yet) at the width it needs."""


async def read_tiles(conn: asyncpg.Connection, tiles: Sequence[Tile]) -> dict[Tile, bytes]:
    """The stored bytes of each tile at its width, in one statement; MissingTile if any lacks."""
    rows = await conn.fetch(
        _TILES,
        [t.level for t in tiles],
        [t.index for t in tiles],
        [t.width for t in tiles],
    )
    found = {(r["level"], r["idx"]): bytes(r["hashes"]) for r in rows}
    out: dict[Tile, bytes] = {}
    for tile in tiles:
        data = found.get((tile.level, tile.index))
        if data is None or len(data) != tile.width * 32:
            raise MissingTile(f"tile {tile.level}/{tile.index} has no {tile.width} hashes")
        out[tile] = data
    return out


class _Fetched:
    """A TileReader over tiles read beforehand."""

    def __init__(self, tiles: dict[Tile, bytes]) -> None:
        self._tiles = tiles

    def read_tiles(self, tiles: Sequence[Tile]) -> list[bytes]:
        return [self._tiles[t] for t in tiles]


async def range_hashes(
    conn: asyncpg.Connection, size: int, ranges: Sequence[tuple[int, int]]
) -> list[bytes]:
    """The hash of each leaf range in the tree of `size`, from one read of its tiles."""
    nodes: list[Node] = nodes_for(ranges)
    reader = TileNodeReader(size, _Fetched({}))
    tiles = await read_tiles(conn, reader.tiles_for(nodes))
    return hashes_of(ranges, TileNodeReader(size, _Fetched(tiles)))


async def tree_size(conn: asyncpg.Connection) -> int:
    """How many leaves the stored tree has (the sealed log's size)."""
    return int(await conn.fetchval("SELECT size FROM log_tree"))


async def root_at(conn: asyncpg.Connection, size: int) -> bytes:
    """The root of the tree of `size` leaves (1 <= size <= the stored size)."""
    return (await range_hashes(conn, size, [(0, size)]))[0]


async def inclusion_proof(conn: asyncpg.Connection, index: int, size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
    return await range_hashes(conn, size, inclusion_ranges(index, size))


async def consistency_proof(conn: asyncpg.Connection, old: int, new: int) -> list[bytes]:
    """The RFC 9162 consistency proof from `old` leaves to `new` leaves."""
    return await range_hashes(conn, new, consistency_ranges(old, new))


async def leaf_at(conn: asyncpg.Connection, index: int) -> bytes:
    """The stored hash of leaf `index`."""
    tile = Tile(0, index // 256, index % 256 + 1)
    data = (await read_tiles(conn, [tile]))[tile]
    return data[-32:]
