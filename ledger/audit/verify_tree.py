"""Verifying the Merkle tree: stored tiles and signed checkpoints recomputed from the events.

The scan hands over batches while it reads the next on the same connection, so
nothing here queries during it: the checkpoints' roots are read before, each
batch only hashes, and the stored tiles and the notes' signatures are read after.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import asyncpg

from ledger.audit.faults import Fault
from ledger.audit.scan import ScannedEvent
from ledger.audit.verify_cosignatures import check_cosignatures
from ledger.store import identity
from ledger.tlog.builder import TreeBuilder
from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.hashing import leaf_hash
from ledger.tlog.keys import parse_verifier
from ledger.tlog.note import open_note
from ledger.tlog.tiles import TILE_HEIGHT, Tile, tile_path

_PAGE = 1000


def _first_position(tile: Tile, entry: int) -> int:
    """The first log position the hash at `entry` of `tile` covers."""
    return ((tile.index << TILE_HEIGHT) + entry << (TILE_HEIGHT * tile.level)) + 1


def _changed(tile: Tile, built: bytes, stored: bytes | None) -> Fault | None:
    """The fault a stored tile shows against the one the events give, if any."""
    if stored is not None and stored[: len(built)] == built:
        return None
    entry = 0
    if stored is not None:
        while stored[entry * 32 : entry * 32 + 32] == built[entry * 32 : entry * 32 + 32]:
            entry += 1
    position = _first_position(tile, entry)
    what = "is missing" if stored is None else f"differs from the events' at entry {entry}"
    return Fault(
        position,
        "changed",
        f"the Merkle tree's tile {tile_path(tile)} {what}: the tree was changed "
        f"from position {position}",
    )


def _missing(tile: Tile) -> Fault:
    position = _first_position(tile, 0)
    return Fault(
        position,
        "changed",
        f"the Merkle tree's tile {tile_path(tile)} is missing: the tree was changed "
        f"from position {position}",
    )


class RootMismatch(Fault):
    """The events through a checkpoint's size do not give the root stored for it; whether
    the events or the checkpoint row were rewritten is told by `explain` after the scan."""

    def __init__(self, size: int, built: bytes) -> None:
        super().__init__(
            size,
            "checkpoint-mismatch",
            f"the events through position {size} no longer give the root the log signed at "
            f"size {size}: history at or before position {size} was rewritten",
        )
        self.built = built

    async def explain(self, conn: asyncpg.Connection) -> Fault:
        """The fault as the checkpoint row tells it: if its signed note states the root the
        events give, or is not the log's, the row was rewritten, not the events."""
        size = self.position
        note = await conn.fetchval("SELECT note FROM log_checkpoints WHERE size = $1", size)
        known = await identity.recorded(conn)
        if note is None or known is None:
            return self
        try:
            opened, _ = open_note(note, [parse_verifier(known.verifier_key)])
            stated = parse_checkpoint(opened.text).root
        except TlogError:
            return Fault(
                size,
                "checkpoint-mismatch",
                f"the checkpoint stored at size {size} is not signed by the log's key: the "
                "checkpoint row was rewritten (the events are checked apart, link by link)",
            )
        if stated == self.built:
            return Fault(
                size,
                "checkpoint-mismatch",
                f"the root stored beside the checkpoint of size {size} is not the one its "
                "signed note states, which the events still give: the checkpoint row was "
                "rewritten, not the events",
            )
        return self


class TreeCheck:
    """Rebuilds the tree from the verified events; compares the stored tiles and checkpoints."""

    def __init__(self) -> None:
        self._builder = TreeBuilder()
        self._roots: list[tuple[int, bytes]] = []
        # Full tiles the events gave, kept as digests: compared with the stored ones after.
        self._full: dict[tuple[int, int], bytes] = {}
        self.matched = 0
        """The largest checkpoint size whose signed root the events have given so far."""

    async def start(self, conn: asyncpg.Connection, end: int) -> None:
        """Read the roots the log signed through `end` (before the scan takes the connection)."""
        rows = await conn.fetch(
            "SELECT size, root FROM log_checkpoints WHERE size <= $1 ORDER BY size DESC", end
        )
        self._roots = [(int(r["size"]), bytes(r["root"])) for r in rows]

    def check(self, batch: Sequence[ScannedEvent]) -> None:
        """Add a batch of chain-verified events; Fault when a signed root is not theirs."""
        for event in batch:
            assert event.body is not None
            for tile, data in self._builder.add(leaf_hash(event.body)):
                self._full[(tile.level, tile.index)] = hashlib.sha256(data).digest()
            while self._roots and self._roots[-1][0] == self._builder.size:
                size, root = self._roots.pop()
                built = self._builder.root()
                if root != built:
                    raise RootMismatch(size, built)
                self.matched = size

    async def locate(self, conn: asyncpg.Connection, mismatch: RootMismatch) -> Fault:
        """After the scan: the first event whose leaf the stored tree does not hold, when a
        forger rewrote events and their links but left the tree alone; else the mismatch
        as the checkpoint row explains it."""
        try:
            await self._tiles(conn)
        except Fault as fault:
            if fault.position <= mismatch.position:
                return Fault(
                    fault.position,
                    "changed",
                    f"the event at position {fault.position} is not the one the log's tree "
                    "holds, and the events no longer give the root the log signed at size "
                    f"{mismatch.position}: it was rewritten along with the links after it",
                )
        return await mismatch.explain(conn)

    async def finish(self, conn: asyncpg.Connection, head: int) -> None:
        """After the scan: the stored tiles, the notes' signatures and their kept cosignatures,
        checkpoints beyond the log."""
        await self._tiles(conn)
        await self._notes(conn)
        known = await identity.recorded(conn)
        if known is not None:
            await check_cosignatures(conn, known.origin, self._builder.size)
        beyond = await conn.fetchval(
            "SELECT min(size) FROM log_checkpoints WHERE size > $1", self._builder.size
        )
        if beyond is not None and self._builder.size == head:
            raise Fault(
                head + 1,
                "removed",
                f"the log signed a checkpoint at size {beyond}, but ends at position {head}: "
                "events were removed",
            )
        recorded = await conn.fetchval("SELECT size FROM log_tree")
        if recorded is not None and recorded != head and self._builder.size == head:
            # The tiles cover the whole log, but the size the sealer grows the tree from
            # says otherwise: every later sealing round would fail on it.
            raise Fault(
                min(recorded, head) + 1,
                "removed" if recorded > head else "changed",
                f"the Merkle tree records its size as {recorded}, but the log holds {head} "
                "sealed events: "
                + ("events were removed" if recorded > head else "the tree's size was rewritten"),
            )

    async def _tiles(self, conn: asyncpg.Connection) -> None:
        found: list[Fault] = []
        partial = {(t.level, t.index): (t, data) for t, data in self._builder.partial()}
        seen: set[tuple[int, int]] = set()
        after = (-1, -1)
        while True:
            rows = await conn.fetch(
                """SELECT level, idx, hashes FROM log_tile_hashes WHERE (level, idx) > ($1, $2)
                    ORDER BY level, idx LIMIT $3""",
                *after,
                _PAGE,
            )
            for row in rows:
                key = (int(row["level"]), int(row["idx"]))
                stored = bytes(row["hashes"])
                seen.add(key)
                if key in self._full:
                    if hashlib.sha256(stored).digest() != self._full[key]:
                        found.append(await self._full_fault(conn, key, stored))
                elif key in partial:
                    fault = _changed(*partial[key], stored)
                    if fault is not None:
                        found.append(fault)
            if len(rows) < _PAGE:
                break
            after = (int(rows[-1]["level"]), int(rows[-1]["idx"]))
        for key in [*self._full, *partial]:
            if key not in seen:
                tile = Tile(key[0], key[1], 256 if key in self._full else partial[key][0].width)
                found.append(_missing(tile))
        if found:
            raise min(found, key=lambda f: f.position)

    async def _full_fault(
        self, conn: asyncpg.Connection, key: tuple[int, int], stored: bytes
    ) -> Fault:
        """Name where a full tile went wrong: only its digest was kept during the scan."""
        tile = Tile(key[0], key[1], 256)
        built = b""
        if tile.level == 0:
            # 256 bodies read again by position: the hash that differs names the event.
            rows = await conn.fetch(
                """SELECT e.body FROM event_log l JOIN events e USING (seq)
                    WHERE l.position BETWEEN $1 AND $2 ORDER BY l.position""",
                tile.index * 256 + 1,
                tile.index * 256 + 256,
            )
            built = b"".join(leaf_hash(bytes(r["body"])) for r in rows)
        fault = _changed(tile, built, stored) if len(built) == len(stored) else None
        return fault or Fault(
            _first_position(tile, 0),
            "changed",
            f"the Merkle tree's tile {tile_path(tile)} differs from the events': the tree was "
            f"changed at or after position {_first_position(tile, 0)}",
        )

    async def _notes(self, conn: asyncpg.Connection) -> None:
        known = await identity.recorded(conn)
        if known is None:
            # A store signs its first checkpoint only once its identity is recorded, and
            # never removes it: checkpoints without one had their key taken away, so that
            # none could be checked.
            first = await conn.fetchval("SELECT min(size) FROM log_checkpoints")
            if first is None:
                return
            raise Fault(
                int(first),
                "checkpoint-mismatch",
                "the store holds signed checkpoints but records no log key: the log's "
                "identity was removed, and no checkpoint can be checked against it",
            )
        try:
            key = parse_verifier(known.verifier_key)
        except TlogError as exc:
            first = await conn.fetchval(
                "SELECT min(size) FROM log_checkpoints WHERE size <= $1", self._builder.size
            )
            if first is None:
                return
            raise Fault(
                int(first),
                "checkpoint-mismatch",
                f"the log key the store records is no verifier key ({exc}): the log's "
                "identity was rewritten, and no checkpoint can be checked against it",
            ) from None
        after = 0
        while True:
            rows = await conn.fetch(
                """SELECT size, root, note FROM log_checkpoints WHERE size > $1 AND size <= $2
                    ORDER BY size LIMIT $3""",
                after,
                self._builder.size,
                _PAGE,
            )
            for row in rows:
                size = int(row["size"])
                try:
                    note, _ = open_note(row["note"], [key])
                except TlogError as exc:
                    raise Fault(
                        size,
                        "checkpoint-mismatch",
                        f"the checkpoint stored at size {size} is not signed by the log's key: "
                        f"{exc}",
                    ) from None
                if note.text != Checkpoint(known.origin, size, bytes(row["root"])).text():
                    raise Fault(
                        size,
                        "checkpoint-mismatch",
                        f"the checkpoint note stored at size {size} does not state its size "
                        "and root",
                    )
            if len(rows) < _PAGE:
                return
            after = int(rows[-1]["size"])
