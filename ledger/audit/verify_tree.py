"""Verifying the Merkle tree: stored tiles and signed checkpoints recomputed from the events."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ledger.audit.scan import ScannedEvent
from ledger.store import identity
from ledger.tlog.builder import TreeBuilder
from ledger.tlog.checkpoint import Checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.hashing import leaf_hash
from ledger.tlog.keys import Verifier, parse_verifier
from ledger.tlog.note import open_note
from ledger.tlog.tiles import TILE_HEIGHT, Tile, tile_path

_PAGE = 5000


class TreeFault(Exception):
    """The first thing in the tree or its checkpoints that the events do not give."""

    def __init__(self, position: int, problem: str, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.problem = problem
        self.reason = reason


def _first_position(tile: Tile, entry: int) -> int:
    """The first log position the hash at `entry` of `tile` covers."""
    return ((tile.index << TILE_HEIGHT) + entry << (TILE_HEIGHT * tile.level)) + 1


def _compare(tile: Tile, built: bytes, stored: bytes | None) -> None:
    if stored is not None and stored[: len(built)] == built:
        return
    entry = 0
    if stored is not None:
        while stored[entry * 32 : entry * 32 + 32] == built[entry * 32 : entry * 32 + 32]:
            entry += 1
    position = _first_position(tile, entry)
    what = "is missing" if stored is None else f"differs from the events' at entry {entry}"
    raise TreeFault(
        position,
        "changed",
        f"the Merkle tree's tile {tile_path(tile)} {what}: the tree was changed "
        f"from position {position}",
    )


class TreeCheck:
    """Rebuilds the tree from the verified events; compares tiles and checkpoints as it goes."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._builder = TreeBuilder()
        self._key: Verifier | None = None
        self._origin: str | None = None
        self._checkpoints: list[asyncpg.Record] = []
        self._after = 0
        self._exhausted = False
        self.checkpoints_checked = 0

    async def start(self) -> None:
        """Read the log's recorded key and the first checkpoints."""
        known = await identity.recorded(self._conn)
        if known is not None:
            self._key, self._origin = parse_verifier(known.verifier_key), known.origin
        await self._next_page()

    async def _next_page(self) -> None:
        if self._exhausted:
            return
        self._checkpoints = list(
            await self._conn.fetch(
                """SELECT size, root, note FROM log_checkpoints WHERE size > $1
                    ORDER BY size LIMIT $2""",
                self._after,
                _PAGE,
            )
        )
        self._checkpoints.reverse()  # popped from the end, smallest first
        self._exhausted = not self._checkpoints

    async def check(self, batch: Sequence[ScannedEvent]) -> None:
        """Add a batch of chain-verified events; TreeFault at the first disagreement."""
        completed: list[tuple[Tile, bytes]] = []
        for event in batch:
            assert event.body is not None
            completed += self._builder.add(leaf_hash(event.body))
            await self._checkpoint_due()
        if completed:
            await self._compare(completed)

    async def finish(self) -> None:
        """Compare the partial tiles; checkpoints beyond the verified log are faults too."""
        await self._compare(self._builder.partial())
        if not self._checkpoints:
            await self._next_page()
        if self._checkpoints and self._builder.size == await self._head():
            size = int(self._checkpoints[-1]["size"])
            raise TreeFault(
                self._builder.size + 1,
                "removed",
                f"the log signed a checkpoint at size {size}, but ends at position "
                f"{self._builder.size}: events were removed",
            )

    async def _head(self) -> int:
        return int(await self._conn.fetchval("SELECT coalesce(max(position), 0) FROM event_log"))

    async def _compare(self, built: list[tuple[Tile, bytes]]) -> None:
        rows = await self._conn.fetch(
            """SELECT t.level, t.idx, t.hashes FROM log_tiles t
                 JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx)
                   ON t.level = w.level AND t.idx = w.idx""",
            [t.level for t, _ in built],
            [t.index for t, _ in built],
        )
        stored = {(r["level"], r["idx"]): bytes(r["hashes"]) for r in rows}
        for tile, data in sorted(built, key=lambda b: _first_position(b[0], 0)):
            _compare(tile, data, stored.get((tile.level, tile.index)))

    async def _checkpoint_due(self) -> None:
        if not self._checkpoints:
            await self._next_page()
            if not self._checkpoints:
                return
        size = self._builder.size
        while self._checkpoints and int(self._checkpoints[-1]["size"]) <= size:
            row = self._checkpoints.pop()
            self._after = int(row["size"])
            if int(row["size"]) == size:
                self._check(row)
            if not self._checkpoints:
                await self._next_page()

    def _check(self, row: asyncpg.Record) -> None:
        size, root = int(row["size"]), self._builder.root()
        if bytes(row["root"]) != root:
            raise TreeFault(
                size,
                "checkpoint-mismatch",
                f"the events through position {size} no longer give the root the log "
                f"signed at size {size}: history at or before position {size} was rewritten",
            )
        if self._key is None or self._origin is None:
            return
        try:
            note, _ = open_note(row["note"], [self._key])
        except TlogError as exc:
            raise TreeFault(
                size,
                "checkpoint-mismatch",
                f"the checkpoint stored at size {size} is not signed by the log's key: {exc}",
            ) from None
        if note.text != Checkpoint(self._origin, size, root).text():
            raise TreeFault(
                size,
                "checkpoint-mismatch",
                f"the checkpoint note stored at size {size} does not state that size and root",
            )
        self.checkpoints_checked += 1
