"""The Merkle tree as stored (migration 0013): tiles read by key, roots and proofs from them."""

from __future__ import annotations

from collections import OrderedDict
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

# The tables behind the view log_tile_hashes, each looked up by its key: joined to
# the view, whose leaves are grouped, PostgreSQL read every full tile and every
# leaf row for each call (7 ms at 1.6 million events, growing with the log).
_TILES = """SELECT t.level, t.idx, substring(t.hashes FROM 1 FOR w.width * 32) AS hashes
              FROM unnest($1::smallint[], $2::bigint[], $3::integer[]) AS w(level, idx, width)
              JOIN log_tiles t ON t.level = w.level AND t.idx = w.idx
            UNION ALL
            SELECT 0::smallint, w.idx, substring(f.hashes FROM 1 FOR w.width * 32)
              FROM unnest($1::smallint[], $2::bigint[], $3::integer[]) AS w(level, idx, width)
              CROSS JOIN LATERAL (
                    SELECT string_agg(l.hash, ''::bytea ORDER BY l.n) AS hashes
                      FROM log_tile_leaves l WHERE l.idx = w.idx) AS f
             WHERE w.level = 0 AND f.hashes IS NOT NULL"""


class TileCache(OrderedDict[Tile, list[bytes]]):
    """The levels of the tiles read lately (16 KB a full tile), least recent dropped first."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit

    def __getitem__(self, key: Tile) -> list[bytes]:
        self.move_to_end(key)
        return super().__getitem__(key)

    def __setitem__(self, key: Tile, value: list[bytes]) -> None:
        super().__setitem__(key, value)
        if len(self) > self._limit:
            self.popitem(last=False)

    @classmethod
    def sized(cls, limit: int = 1024) -> TileCache:
        """A cache of at most `limit` tiles (16 MB at 1024)."""
        return cls(limit)


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
    conn: asyncpg.Connection,
    size: int,
    ranges: Sequence[tuple[int, int]],
    cache: TileCache | None = None,
) -> list[bytes]:
    """The hash of each leaf range in the tree of `size`, from one read of its tiles.

    Tiles are immutable at a given width, so with a `cache` (one per database) what
    was hashed for one proof serves the next: the upper tiles are hashed once.
    """
    levels: TileCache | dict[Tile, list[bytes]] = {} if cache is None else cache
    nodes: list[Node] = nodes_for(ranges)
    wanted = [t for t in TileNodeReader(size, _Fetched({})).tiles_for(nodes) if t not in levels]
    tiles = await read_tiles(conn, wanted) if wanted else {}
    return hashes_of(ranges, TileNodeReader(size, _Fetched(tiles), levels))


async def tree_size(conn: asyncpg.Connection) -> int:
    """How many leaves the stored tree has (the sealed log's size)."""
    return int(await conn.fetchval("SELECT size FROM log_tree"))


async def root_at(conn: asyncpg.Connection, size: int, cache: TileCache | None = None) -> bytes:
    """The root of the tree of `size` leaves (1 <= size <= the stored size)."""
    return (await range_hashes(conn, size, [(0, size)], cache))[0]


async def inclusion_proof(
    conn: asyncpg.Connection, index: int, size: int, cache: TileCache | None = None
) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
    return await range_hashes(conn, size, inclusion_ranges(index, size), cache)


async def consistency_proof(
    conn: asyncpg.Connection, old: int, new: int, cache: TileCache | None = None
) -> list[bytes]:
    """The RFC 9162 consistency proof from `old` leaves to `new` leaves."""
    return await range_hashes(conn, new, consistency_ranges(old, new), cache)


async def leaf_at(conn: asyncpg.Connection, index: int) -> bytes:
    """The stored hash of leaf `index`."""
    tile = Tile(0, index // 256, index % 256 + 1)
    data = (await read_tiles(conn, [tile]))[tile]
    return data[-32:]


async def proof_with_root(
    conn: asyncpg.Connection, index: int, size: int, cache: TileCache | None = None
) -> tuple[bytes, list[bytes], bytes]:
    """Leaf `index`'s hash, its inclusion proof in the tree of `size`, and that root: one read."""
    proof = inclusion_ranges(index, size)
    hashes = await range_hashes(conn, size, [(index, index + 1), *proof, (0, size)], cache)
    return hashes[0], hashes[1:-1], hashes[-1]
