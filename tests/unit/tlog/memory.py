"""In-memory stores for the tlog tests: nodes straight from leaves, tiles from the builder."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.tlog.builder import TreeBuilder
from ledger.tlog.hashing import leaf_hash, root_of_leaves
from ledger.tlog.proofs import Node
from ledger.tlog.tiles import Tile


def leaves(n: int) -> list[bytes]:
    """Leaf hashes of n distinct entries."""
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


class Nodes:
    """Every node computed from the leaves on demand."""

    def __init__(self, hashes: list[bytes]) -> None:
        self.hashes = hashes

    def read_nodes(self, nodes: Sequence[Node]) -> list[bytes]:
        """Each node's hash, from its leaves."""
        out = []
        for level, index in nodes:
            lo, hi = index << level, (index + 1) << level
            assert hi <= len(self.hashes), (level, index)
            out.append(root_of_leaves(self.hashes[lo:hi]))
        return out


class Tiles:
    """The tiles a TreeBuilder made, served at any width up to what is stored."""

    def __init__(self, hashes: list[bytes]) -> None:
        builder = TreeBuilder()
        self.stored: dict[tuple[int, int], bytes] = {}
        for h in hashes:
            for tile, data in builder.add(h):
                self.stored[(tile.level, tile.index)] = data
        for tile, data in builder.partial():
            self.stored[(tile.level, tile.index)] = data
        self.reads = 0

    def read_tiles(self, tiles: Sequence[Tile]) -> list[bytes]:
        """Each tile's bytes at the asked width."""
        self.reads += 1
        out = []
        for t in tiles:
            data = self.stored[(t.level, t.index)]
            assert len(data) >= t.width * 32, t
            out.append(data[: t.width * 32])
        return out
