"""C2SP tlog-tiles arithmetic: tiles of height 8, their paths, and which tile holds a node."""

from __future__ import annotations

import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ledger.tlog.errors import FormatError, ProofError
from ledger.tlog.hashing import HASH_SIZE, node_hash
from ledger.tlog.proofs import Node

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (256, so 8192 bytes)."""
MAX_LEVEL = 63


@dataclass(frozen=True, order=True)
class Tile:
    """Tile `index` of tile level `level` with `width` hashes (256 when full)."""

    level: int
    index: int
    width: int

    @property
    def full(self) -> bool:
        """Whether the tile has all its 256 hashes (it then never changes)."""
        return self.width == TILE_WIDTH

    def path(self) -> str:
        """The tile's C2SP path below the log prefix, e.g. `tile/0/x001/234.p/5`."""
        return "tile/" + tile_path(self)


def entries_at(level: int, size: int) -> int:
    """How many hashes tile level `level` holds in a tree of `size` leaves."""
    return size >> (TILE_HEIGHT * level)


def tile_width(level: int, index: int, size: int) -> int:
    """The width tile (`level`, `index`) has in a tree of `size` leaves (0: it does not exist)."""
    return max(0, min(TILE_WIDTH, entries_at(level, size) - index * TILE_WIDTH))


def partial_tiles(size: int) -> list[Tile]:
    """The partial (rightmost, not full) tile of each level of a tree of `size` leaves."""
    out: list[Tile] = []
    level = 0
    while entries_at(level, size) > 0:
        n = entries_at(level, size)
        if n % TILE_WIDTH:
            out.append(Tile(level, n // TILE_WIDTH, n % TILE_WIDTH))
        level += 1
    return out


def encode_index(index: int) -> str:
    """A tile index as zero-padded 3-digit path elements, all but the last prefixed `x`."""
    if index < 0:
        raise FormatError(f"tile index {index} is negative")
    parts = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        parts.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(parts))


def tile_path(tile: Tile) -> str:
    """`<L>/<N>[.p/<W>]` exactly as tlog-tiles spells it."""
    suffix = "" if tile.full else f".p/{tile.width}"
    return f"{tile.level}/{encode_index(tile.index)}{suffix}"


_LEVEL = re.compile(r"^(0|[1-9][0-9]?)$")
_WIDTH = re.compile(r"^[1-9][0-9]{0,2}$")
_ELEMENT = re.compile(r"^x[0-9]{3}$")
_LAST = re.compile(r"^[0-9]{3}$")


def parse_tile_path(path: str) -> Tile:
    """The tile named by `<L>/<N>[.p/<W>]`; FormatError naming what is not canonical."""
    level_text, _, rest = path.partition("/")
    if not _LEVEL.fullmatch(level_text) or int(level_text) > MAX_LEVEL:
        raise FormatError(f"tile level {level_text!r} is not a decimal from 0 to {MAX_LEVEL}")
    width = TILE_WIDTH
    if ".p/" in rest:
        rest, _, width_text = rest.partition(".p/")
        if not _WIDTH.fullmatch(width_text) or not 1 <= int(width_text) <= TILE_WIDTH - 1:
            raise FormatError(f"partial tile width {width_text!r} is not a decimal from 1 to 255")
        width = int(width_text)
    elements = rest.split("/")
    if not _LAST.fullmatch(elements[-1]) or not all(_ELEMENT.fullmatch(e) for e in elements[:-1]):
        raise FormatError(f"tile index {rest!r} is not 3-digit elements, all but the last x###")
    if len(elements) > 1 and elements[0] == "x000":
        raise FormatError(f"tile index {rest!r} has a leading zero element")
    index = int("".join(e.lstrip("x") for e in elements))
    return Tile(int(level_text), index, width)


def perfect_root(hashes: bytes) -> bytes:
    """The root over a power-of-two count of concatenated hashes."""
    level = [hashes[i : i + HASH_SIZE] for i in range(0, len(hashes), HASH_SIZE)]
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def tile_levels(data: bytes) -> list[bytes]:
    """Every level of the subtree a tile spans: level 0 is the tile, each next one its pairs."""
    levels = [data]
    while len(levels[-1]) >= 2 * HASH_SIZE:
        below = levels[-1]
        pairs = len(below) // (2 * HASH_SIZE)
        levels.append(
            b"".join(
                node_hash(below[i : i + HASH_SIZE], below[i + HASH_SIZE : i + 2 * HASH_SIZE])
                for i in range(0, pairs * 2 * HASH_SIZE, 2 * HASH_SIZE)
            )
        )
    return levels


def tile_for_node(node: Node, size: int) -> tuple[Tile, int, int]:
    """The tile (at its width for `size`) holding node (level, index), and the node's entry span."""
    level, index = node
    tile_level, height = divmod(level, TILE_HEIGHT)
    first = index << height
    last = (index + 1) << height
    tile_index = first // TILE_WIDTH
    width = tile_width(tile_level, tile_index, size)
    start = first - tile_index * TILE_WIDTH
    if last - tile_index * TILE_WIDTH > width:
        raise ProofError(f"node {node} is not complete in a tree of size {size}")
    return Tile(tile_level, tile_index, width), start, last - first


class TileReader(Protocol):
    """Reads tiles' bytes (exactly width * 32 each), in the order asked."""

    def read_tiles(self, tiles: Sequence[Tile]) -> Sequence[bytes]:
        """The concatenated hashes of each tile, in order."""
        ...


class TileNodeReader:
    """A NodeReader over tiles: which tiles hold the nodes, one read, hashes within each tile."""

    def __init__(
        self,
        size: int,
        tiles: TileReader,
        cache: MutableMapping[Tile, list[bytes]] | None = None,
    ) -> None:
        self._size = size
        self._tiles = tiles
        # A tile at a width never changes: its levels can be kept across readers.
        self._levels: MutableMapping[Tile, list[bytes]] = {} if cache is None else cache

    def tiles_for(self, nodes: Sequence[Node]) -> list[Tile]:
        """The distinct tiles the nodes need, in a stable order."""
        return sorted({tile_for_node(n, self._size)[0] for n in nodes})

    def read_nodes(self, nodes: Sequence[Node]) -> Sequence[bytes]:
        """The hash of each node, from one read of the tiles holding them."""
        wanted = [t for t in self.tiles_for(nodes) if t not in self._levels]
        for tile, data in zip(wanted, self._tiles.read_tiles(wanted), strict=True):
            if len(data) != tile.width * HASH_SIZE:
                raise ProofError(f"tile {tile_path(tile)} has {len(data)} bytes")
            self._levels[tile] = tile_levels(data)
        out: list[bytes] = []
        for node in nodes:
            tile, start, count = tile_for_node(node, self._size)
            height = count.bit_length() - 1
            at = (start >> height) * HASH_SIZE
            out.append(self._levels[tile][height][at : at + HASH_SIZE])
        return out
