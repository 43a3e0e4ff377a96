"""Property tests: every proof over small trees verifies, and any one flipped bit fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog.errors import ProofError
from ledger.tlog.hashing import root_of_leaves
from ledger.tlog.proofs import (
    prove_consistency,
    prove_inclusion,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from ledger.tlog.tiles import TileNodeReader
from tests.unit.tlog.memory import Nodes, Tiles, leaves

MAX = 300
HASHES = leaves(MAX)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_every_inclusion_proof_verifies_up_to_size_70() -> None:
    """Exhaustively for small sizes: every leaf of every tree is proved."""
    for size in range(1, 71):
        root = root_of_leaves(HASHES[:size])
        nodes = Nodes(HASHES[:size])
        for index in range(size):
            verify_inclusion(index, size, HASHES[index], prove_inclusion(index, size, nodes), root)


def test_every_consistency_proof_verifies_up_to_size_70() -> None:
    """Exhaustively for small sizes: every pair of sizes is proved consistent."""
    roots = [b""] + [root_of_leaves(HASHES[:n]) for n in range(1, 71)]
    nodes = Nodes(HASHES[:70])
    for new in range(1, 71):
        for old in range(1, new + 1):
            proof = prove_consistency(old, new, nodes)
            verify_consistency(old, new, roots[old], roots[new], proof)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_inclusion_from_tiles_verifies(data: st.DataObject) -> None:
    """Proofs built from height-8 tiles verify, for any leaf of any size up to MAX."""
    size = data.draw(st.integers(1, MAX))
    index = data.draw(st.integers(0, size - 1))
    reader = TileNodeReader(size, Tiles(HASHES[:size]))
    root = tree_root(size, reader)
    assert root == root_of_leaves(HASHES[:size])
    verify_inclusion(index, size, HASHES[index], prove_inclusion(index, size, reader), root)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_consistency_from_tiles_verifies(data: st.DataObject) -> None:
    """Consistency proofs from tiles verify, for any pair of sizes up to MAX."""
    new = data.draw(st.integers(1, MAX))
    old = data.draw(st.integers(1, new))
    tiles = Tiles(HASHES[:new])
    proof = prove_consistency(old, new, TileNodeReader(new, tiles))
    old_root = tree_root(old, TileNodeReader(old, tiles))
    verify_consistency(old, new, old_root, tree_root(new, TileNodeReader(new, tiles)), proof)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_inclusion_fails_with_any_flipped_bit(data: st.DataObject) -> None:
    """One flipped bit in the proof, the leaf or the root is always refused."""
    size = data.draw(st.integers(2, MAX))
    index = data.draw(st.integers(0, size - 1))
    root = root_of_leaves(HASHES[:size])
    proof = prove_inclusion(index, size, Nodes(HASHES[:size]))
    leaf = HASHES[index]
    which = data.draw(st.sampled_from(["proof", "leaf", "root"]))
    bit = data.draw(st.integers(0, 255))
    if which == "proof":
        at = data.draw(st.integers(0, len(proof) - 1))
        proof[at] = _flip(proof[at], bit)
    elif which == "leaf":
        leaf = _flip(leaf, bit)
    else:
        root = _flip(root, bit)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf, proof, root)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_consistency_fails_with_any_flipped_bit(data: st.DataObject) -> None:
    """One flipped bit in the proof or either root is always refused."""
    new = data.draw(st.integers(2, MAX))
    old = data.draw(st.integers(1, new - 1))
    nodes = Nodes(HASHES[:new])
    proof = prove_consistency(old, new, nodes)
    roots = [root_of_leaves(HASHES[:old]), root_of_leaves(HASHES[:new])]
    which = data.draw(st.sampled_from(["proof", "old", "new"]))
    bit = data.draw(st.integers(0, 255))
    if which == "proof":
        at = data.draw(st.integers(0, len(proof) - 1))
        proof[at] = _flip(proof[at], bit)
    else:
        i = 0 if which == "old" else 1
        roots[i] = _flip(roots[i], bit)
    with pytest.raises(ProofError):
        verify_consistency(old, new, roots[0], roots[1], proof)


def test_proof_needs_few_tile_reads() -> None:
    """A proof is one read of a handful of tiles, not a scan."""
    size = MAX
    tiles = Tiles(HASHES[:size])
    reader = TileNodeReader(size, tiles)
    prove_inclusion(5, size, reader)
    assert tiles.reads == 1
    assert len(reader.tiles_for([(0, 5), (3, 1), (8, 0), (5, 8)])) <= 3
