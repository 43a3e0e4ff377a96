"""Tile arithmetic and paths exactly as C2SP tlog-tiles."""

from __future__ import annotations

import pytest

from ledger.tlog.builder import TreeBuilder
from ledger.tlog.errors import FormatError
from ledger.tlog.hashing import root_of_leaves
from ledger.tlog.tiles import Tile, encode_index, parse_tile_path, partial_tiles, tile_path
from tests.unit.tlog.memory import leaves


@pytest.mark.parametrize(
    ("index", "text"),
    [(0, "000"), (5, "005"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_index_encoding(index: int, text: str) -> None:
    """Zero-padded 3-digit elements, all but the last with an x."""
    assert encode_index(index) == text


def test_paths_round_trip() -> None:
    """Full and partial tiles have their canonical paths, and parse back."""
    assert tile_path(Tile(0, 1234067, 256)) == "0/x001/x234/067"
    assert tile_path(Tile(1, 3, 17)) == "1/003.p/17"
    assert Tile(2, 0, 1).path() == "tile/2/000.p/1"
    for tile in [Tile(0, 1234067, 256), Tile(1, 3, 17), Tile(63, 0, 255)]:
        assert parse_tile_path(tile_path(tile)) == tile


@pytest.mark.parametrize(
    "bad",
    [
        "00/000",
        "64/000",
        "0/5",
        "0/x000/005",
        "0/001/002",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/05",
        "0/x1/000",
        "a/000",
        "0/000.p/",
        "0/",
        "0/000\n",
        "0\n/000",
        "0/000.p/5\n",
    ],
)
def test_non_canonical_paths_are_refused(bad: str) -> None:
    """Leading zeros, missing x, out-of-range widths and levels are refused."""
    with pytest.raises(FormatError):
        parse_tile_path(bad)


def test_partial_tiles_of_70000() -> None:
    """The spec's example: 70,000 leaves have partial tiles of widths 112, 17 and 1."""
    assert partial_tiles(70000) == [Tile(0, 273, 112), Tile(1, 1, 17), Tile(2, 0, 1)]
    assert partial_tiles(256) == [Tile(1, 0, 1)]


def test_builder_tiles_and_root() -> None:
    """The builder completes a tile every 256 leaves and keeps the right root."""
    hashes = leaves(600)
    builder = TreeBuilder()
    completed = []
    for h in hashes:
        completed += [t for t, _ in builder.add(h)]
    assert completed == [Tile(0, 0, 256), Tile(0, 1, 256)]
    assert [t for t, _ in builder.partial()] == [Tile(0, 2, 88), Tile(1, 0, 2)]
    assert builder.root() == root_of_leaves(hashes)
