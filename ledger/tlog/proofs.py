"""Inclusion and consistency proofs (RFC 9162 2.1.3, 2.1.4): which nodes, build, check.

Building reads stored nodes through a `NodeReader` (the only IO, supplied by the
caller); checking is pure and is the same code a third party runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ledger.tlog.errors import ProofError
from ledger.tlog.hashing import (
    HASH_SIZE,
    fold,
    largest_power_of_two_below,
    node_hash,
    subtrees,
)

Node = tuple[int, int]
"""A perfect subtree: (level, index); level 0 holds leaf hashes."""


class NodeReader(Protocol):
    """Reads stored hashes of perfect subtrees, in the order asked."""

    def read_nodes(self, nodes: Sequence[Node]) -> Sequence[bytes]:
        """The hash of each (level, index), in order."""
        ...


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the inclusion proof of `index` in `size`, leaf first."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    path: list[tuple[int, int]] = []
    while hi - lo > 1:
        k = largest_power_of_two_below(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    ranges = list(reversed(path))
    return ranges


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the consistency proof from `old` to `new`, in RFC order."""
    if not 1 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, new
    while True:
        if old == hi:
            if lo != 0:
                path.append((lo, hi))
            break
        k = largest_power_of_two_below(hi - lo)
        if old <= lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    return list(reversed(path))


def nodes_for(ranges: Sequence[tuple[int, int]]) -> list[Node]:
    """Every stored node the given ranges need, in order, for one read."""
    return [node for lo, hi in ranges for node in subtrees(lo, hi)]


def hashes_of(ranges: Sequence[tuple[int, int]], reader: NodeReader) -> list[bytes]:
    """The hash of each range, from one read of the nodes they need."""
    per_range = [subtrees(lo, hi) for lo, hi in ranges]
    read = list(reader.read_nodes([n for nodes in per_range for n in nodes]))
    out: list[bytes] = []
    at = 0
    for nodes in per_range:
        out.append(fold(read[at : at + len(nodes)]))
        at += len(nodes)
    return out


def tree_root(size: int, reader: NodeReader) -> bytes:
    """The root hash of the tree of `size` leaves (size >= 1)."""
    if size < 1:
        raise ProofError("the empty tree has no stored root")
    return hashes_of([(0, size)], reader)[0]


def prove_inclusion(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves."""
    return hashes_of(inclusion_ranges(index, size), reader)


def prove_consistency(old: int, new: int, reader: NodeReader) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of `old` leaves to that of `new`."""
    return hashes_of(consistency_ranges(old, new), reader)


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 2.1.3.2), or ProofError."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    _check_hash("the leaf hash", leaf)
    fn, sn, r = index, size - 1, leaf
    for i, p in enumerate(proof):
        _check_hash(f"proof hash {i}", p)
        if sn == 0:
            raise ProofError(f"the inclusion proof is too long ({len(proof)} hashes)")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"the inclusion proof is too short ({len(proof)} hashes)")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf` is entry `index` of the tree of `size` with `root`; ProofError if not."""
    _check_hash("the root", root)
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"the inclusion proof of index {index} does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that tree (`old`, `old_root`) is a prefix of (`new`, `new_root`) (RFC 9162 2.1.4.2)."""
    if old < 1:
        raise ProofError("no consistency proof from an empty tree")
    if old > new:
        raise ProofError(f"size {old} is larger than size {new}")
    if old == new:
        # As RFC 9162 and the shared vectors: equal sizes compare the roots as given.
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if old_root != new_root:
            raise ProofError(f"two different roots for size {old}")
        return
    _check_hash("the old root", old_root)
    _check_hash("the new root", new_root)
    for i, p in enumerate(proof):
        _check_hash(f"proof hash {i}", p)
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"the consistency proof is too long ({len(proof)} hashes)")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"the consistency proof is too short ({len(proof)} hashes)")
    if fr != old_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {old}")
    if sr != new_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {new}")
