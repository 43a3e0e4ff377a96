"""Builds the tree's tiles and roots from leaf hashes in order, with no storage."""

from __future__ import annotations

from ledger.tlog.hashing import EMPTY_ROOT, fold, node_hash
from ledger.tlog.tiles import TILE_WIDTH, Tile, perfect_root

_HASH = 32


class TreeBuilder:
    """Takes leaf hashes one by one; gives every completed tile, the partial ones and the root."""

    def __init__(self) -> None:
        self.size = 0
        self._rows: list[bytearray] = [bytearray()]
        self._counts: list[int] = [0]
        # The right edge: perfect subtrees (level, hash), largest first.
        self._edge: list[tuple[int, bytes]] = []

    def add(self, leaf: bytes) -> list[tuple[Tile, bytes]]:
        """Append one leaf hash; return the tiles it completed (lowest level first)."""
        self.size += 1
        level, node = 0, leaf
        while self._edge and self._edge[-1][0] == level:
            left = self._edge.pop()[1]
            node = node_hash(left, node)
            level += 1
        self._edge.append((level, node))
        done: list[tuple[Tile, bytes]] = []
        tile_level, entry = 0, leaf
        while True:
            row = self._rows[tile_level]
            row += entry
            self._counts[tile_level] += 1
            if len(row) < TILE_WIDTH * _HASH:
                break
            index = self._counts[tile_level] // TILE_WIDTH - 1
            data = bytes(row)
            done.append((Tile(tile_level, index, TILE_WIDTH), data))
            row.clear()
            entry = perfect_root(data)
            tile_level += 1
            if tile_level == len(self._rows):
                self._rows.append(bytearray())
                self._counts.append(0)
        return done

    def partial(self) -> list[tuple[Tile, bytes]]:
        """The partial tile of each level, as they stand."""
        return [
            (Tile(level, self._counts[level] // TILE_WIDTH, len(row) // _HASH), bytes(row))
            for level, row in enumerate(self._rows)
            if row
        ]

    def root(self) -> bytes:
        """The root of the tree of the leaves added so far."""
        if not self._edge:
            return EMPTY_ROOT
        return fold([h for _, h in self._edge])
