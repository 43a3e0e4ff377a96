"""The right edge of a growing tree: enough to append leaves and compute roots, in O(log n).

An auditor who verified a log up to some size keeps only this (a few dozen
hashes) to carry on from there next time.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.tlog.errors import FormatError
from ledger.tlog.hashing import EMPTY_ROOT, HASH_SIZE, fold, node_hash


class Frontier:
    """The perfect subtrees (level, hash) covering the leaves so far, largest first."""

    def __init__(self, size: int = 0, edge: Sequence[tuple[int, bytes]] = ()) -> None:
        """A frontier of `size` leaves; `edge` must be the one that size gives."""
        levels = [level for level, _ in edge]
        if sum(1 << level for level in levels) != size or levels != sorted(levels, reverse=True):
            raise FormatError(f"the edge does not describe a tree of {size} leaves")
        if any(len(h) != HASH_SIZE for _, h in edge):
            raise FormatError("an edge hash is not 32 bytes")
        self.size = size
        self.edge = list(edge)

    def add(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        level, node = 0, leaf
        edge = self.edge
        while edge and edge[-1][0] == level:
            node = node_hash(edge.pop()[1], node)
            level += 1
        edge.append((level, node))
        self.size += 1

    def root(self) -> bytes:
        """The RFC 9162 root of the leaves added so far."""
        return fold([h for _, h in self.edge]) if self.edge else EMPTY_ROOT
