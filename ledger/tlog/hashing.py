"""RFC 9162 section 2.1 hashing: leaves, interior nodes and ranges of perfect subtrees."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: SHA-256 of nothing."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two k with k < n (n >= 2), the split point of RFC 9162."""
    return 1 << ((n - 1).bit_length() - 1)


def subtrees(lo: int, hi: int) -> list[tuple[int, int]]:
    """The perfect subtrees (level, index) whose concatenation is leaves [lo, hi), left first.

    [lo, hi) must be a range RFC 9162 ever hashes as one node: such a range splits
    into maximal aligned power-of-two blocks, largest first.
    """
    found: list[tuple[int, int]] = []
    while lo < hi:
        # The largest aligned block starting at lo that fits before hi.
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while lo + (1 << level) > hi:
            level -= 1
        found.append((level, lo >> level))
        lo += 1 << level
    return found


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its perfect subtrees' hashes, left first (RFC 9162 shape)."""
    if not hashes:
        raise ValueError("no hashes to fold")
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def root_of_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, computed directly (for tests and small trees)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = largest_power_of_two_below(n)
    return node_hash(root_of_leaves(leaves[:k]), root_of_leaves(leaves[k:]))
