"""Replay with no database (SPEC 8.3): over HTTP with an API key, or from an export file.

Each event is folded only once its link recomputes from the one before
(ChainFold, as with a DSN) and its leaf is in the tree. Where the replay stops
(the position asked for, the last event recorded by --as-of), the root of the
events read so far must be the log's: equal to the root of a checkpoint the
pinned log key signed, or proved a prefix of it by a consistency proof. The
state is written only after that check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import msgspec

from ledger.audit.export import decode_line
from ledger.audit.remote_verify import prefetched_pages, signed_checkpoint
from ledger.audit.replay import ChainFold, ReplayError
from ledger.remote import Ledger
from ledger.tlog.checkpoint import Checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.frontier import Frontier
from ledger.tlog.hashing import leaf_hash
from ledger.tlog.keys import Verifier
from ledger.tlog.proofs import verify_consistency
from projections.fold import Fold

BATCH = 10_000
"""Export lines read from a file at a time."""


@dataclass
class _Replay:
    """A ChainFold that also hashes each folded event into the tree's right edge."""

    folder: ChainFold
    end: int | None
    frontier: Frontier = field(default_factory=Frontier)
    roots: dict[int, bytes] = field(default_factory=dict)
    """Roots at the sizes asked for in `keep_root_at`, as they were passed."""
    keep_root_at: int = -1
    stopped: bool = False

    def take_lines(self, lines: list[bytes]) -> None:
        """Check and fold each export line, until `end` or the --as-of moment."""
        for raw in lines:
            if self.stopped:
                return
            position = self.folder.fold.position + 1
            if self.end is not None and position > self.end:
                self.stopped = True
                return
            try:
                line = decode_line(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise ReplayError(f"export line {position} is malformed: {exc}") from None
            body = bytes(line.event)
            try:
                stored = bytes.fromhex(line.hash)
            except ValueError:
                raise ReplayError(f"export line {position} has a malformed hash") from None
            if not self.folder.take(line.position, stored, None if body == b"null" else body):
                self.stopped = True
                return
            self.frontier.add(leaf_hash(body))
            if self.frontier.size == self.keep_root_at:
                self.roots[self.keep_root_at] = self.frontier.root()


def _end(to_position: int | None, size: int) -> int:
    if to_position is not None and to_position > size:
        raise ReplayError(
            f"position {to_position} is beyond the log's latest signed checkpoint ({size})"
        )
    return size if to_position is None else to_position


async def _prove_prefix(ledger: Ledger, size: int, root: bytes, checkpoint: Checkpoint) -> None:
    """Check that the tree of the first `size` events is a prefix of the signed one."""
    if size == 0:
        return
    if size == checkpoint.size:
        if root != checkpoint.root:
            raise ReplayError(
                f"the events through {size} do not give the root the log signed at that size"
            )
        return
    hashes, _ = await ledger.consistency(size, checkpoint.size)
    try:
        verify_consistency(size, checkpoint.size, root, checkpoint.root, hashes)
    except TlogError as exc:
        raise ReplayError(
            f"the events through {size} are not a prefix of the signed checkpoint "
            f"{checkpoint.size}: {exc}"
        ) from None


async def replay_remote(
    ledger: Ledger,
    log_key: Verifier,
    *,
    to_position: int | None = None,
    as_of: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Fold:
    """Fold the log over HTTP to `to_position` (default its latest checkpoint) or `as_of`."""
    _, checkpoint = await signed_checkpoint(ledger, log_key)
    end = _end(to_position, checkpoint.size)
    replay = _Replay(ChainFold(Fold(), as_of), end)
    async for page in prefetched_pages(ledger, 0, end):
        replay.take_lines(page.splitlines())
        if progress is not None:
            progress(replay.folder.fold.position, end)
        if replay.stopped:
            break
    fold = replay.folder.fold
    if as_of is None and fold.position < end:
        raise ReplayError(f"the export ends at position {fold.position}, before {end}")
    await _prove_prefix(ledger, fold.position, replay.frontier.root(), checkpoint)
    return fold


def _file_batches(source: BinaryIO) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for raw in source:
        if raw.strip():
            batch.append(raw.rstrip(b"\n"))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def replay_export(
    source: BinaryIO,
    *,
    ledger: Ledger | None = None,
    log_key: Verifier | None = None,
    to_position: int | None = None,
    as_of: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Fold:
    """Fold an export file; with a ledger and its key, check it against a signed checkpoint.

    The export's events must then be a prefix of the log the key signed: the root
    of the events folded is proved consistent with the latest checkpoint (or, for
    an export longer than it, the root at the checkpoint's size must be its root).
    """
    checkpoint = None
    if ledger is not None and log_key is not None:
        _, checkpoint = await signed_checkpoint(ledger, log_key)
    replay = _Replay(ChainFold(Fold(), as_of), to_position)
    if checkpoint is not None:
        replay.keep_root_at = checkpoint.size
    for batch in _file_batches(source):
        replay.take_lines(batch)
        if progress is not None:
            progress(replay.folder.fold.position, 0)
        if replay.stopped:
            break
    fold = replay.folder.fold
    if to_position is not None and fold.position < to_position and as_of is None:
        raise ReplayError(f"position {to_position} is beyond the export's end ({fold.position})")
    if ledger is not None and checkpoint is not None:
        if fold.position <= checkpoint.size:
            await _prove_prefix(ledger, fold.position, replay.frontier.root(), checkpoint)
        elif replay.roots.get(checkpoint.size) != checkpoint.root:
            raise ReplayError(
                f"the export's events through {checkpoint.size} do not give the root the "
                "log signed at that size"
            )
    return fold
