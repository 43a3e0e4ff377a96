"""The frontier gives the same root as the whole tree at every size, and resumes from its edge."""

from __future__ import annotations

import pytest

from ledger.tlog.errors import FormatError
from ledger.tlog.frontier import Frontier
from ledger.tlog.hashing import EMPTY_ROOT, leaf_hash, root_of_leaves


def test_every_size_up_to_300_has_the_root_of_its_leaves() -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(300)]
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for n, leaf in enumerate(leaves, start=1):
        frontier.add(leaf)
        assert frontier.root() == root_of_leaves(leaves[:n])


def test_a_frontier_resumed_from_its_edge_carries_on() -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(77)]
    first = Frontier()
    for leaf in leaves[:45]:
        first.add(leaf)
    resumed = Frontier(first.size, first.edge)
    for leaf in leaves[45:]:
        resumed.add(leaf)
    assert resumed.root() == root_of_leaves(leaves)


def test_an_edge_that_does_not_fit_its_size_is_refused() -> None:
    with pytest.raises(FormatError):
        Frontier(3, [(1, bytes(32))])
