"""Replay with no database: over HTTP with an API key, or from an export file.

Each event is folded only once its link recomputes from the one before
(ChainFold, as with a DSN) and its leaf is in the tree. Where the replay stops
(the position asked for, the last event recorded by --as-of), the root of the
events read so far must be the log's: equal to the root of a checkpoint the
pinned log key signed, or proved a prefix of it by a consistency proof. The
state is written only after that check. As of a business date, the events dated
later are read, checked and hashed like the others, only not folded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import msgspec

from ledger.audit.export import decode_line
from ledger.audit.export_log import is_event_line
from ledger.audit.export_trailer import carried_roots, read_trailer
from ledger.audit.remote_verify import prefetched_pages, signed_checkpoint
from ledger.audit.replay import ChainFold, ReplayError
from ledger.remote import Ledger
from ledger.store.chain import GENESIS, link
from ledger.tlog.checkpoint import Checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.frontier import Frontier
from ledger.tlog.hashing import leaf_hash
from ledger.tlog.keys import Verifier
from ledger.tlog.proofs import verify_consistency
from projections.fold import Fold

BATCH = 10_000
"""Export lines read from a file at a time."""

READ_ADVICE = (
    "the events read are not the ones the log hashed: an export changed since it was "
    "written, or a ledger whose history was (its operator can run `ledger audit verify`)"
)
"""What a broken chain in an export or over HTTP tells its reader, who has no database."""


@dataclass
class _Replay:
    """Folds export lines through ChainFold, hashing each event into the tree's right edge.

    Once the fold stops (at `end`, or at the --as-of moment), a `tail` replay goes
    on checking the links and hashing the leaves of the lines after it, without
    folding them, so that checkpoints beyond the fold can be checked too.
    """

    folder: ChainFold
    end: int | None
    tail: bool = False
    frontier: Frontier = field(default_factory=Frontier)
    keep_roots_at: set[int] = field(default_factory=set)
    roots: dict[int, bytes] = field(default_factory=dict)
    """The root at each size of `keep_roots_at` the lines reached."""
    folding: bool = True
    fold_root: bytes | None = None
    """The root of the events read until the fold stopped, once it has."""
    fold_size: int = 0
    """How many events that root covers: the fold's position, unless events dated after
    the business date asked for came last (checked, not folded)."""
    previous: bytes = GENESIS

    @property
    def done(self) -> bool:
        """Whether no more lines are wanted."""
        return not self.folding and not self.tail

    def _stop(self) -> None:
        self.folding = False
        self.fold_root = self.frontier.root()
        self.fold_size = self.frontier.size

    def take_lines(self, lines: list[bytes]) -> None:
        """Check (and, until the fold stops, fold) each event line in order."""
        for raw in lines:
            if self.done:
                return
            if not is_event_line(raw):
                continue
            position = self.frontier.size + 1
            if self.folding and self.end is not None and position > self.end:
                self._stop()
                if self.done:
                    return
            at, stored, body = _decoded(raw, position)
            if self.folding and self.folder.take(at, stored, body):
                self.previous = self.folder.previous
            else:
                if self.folding:
                    self._stop()  # the --as-of moment: this event is checked, not folded
                    if self.done:
                        return
                if at != position or body is None:
                    raise ReplayError(f"position {position} is missing from the export")
                computed = link(self.previous, position, body)
                if computed != stored:
                    raise ReplayError(f"the export's chain is broken at position {position}")
                self.previous = computed
            assert body is not None  # ChainFold refuses a missing body
            self.frontier.add(leaf_hash(body))
            if self.frontier.size in self.keep_roots_at:
                self.roots[self.frontier.size] = self.frontier.root()

    def finish(self) -> tuple[int, bytes]:
        """How many events were read until the fold stopped, and their root."""
        if self.folding:
            self._stop()
        assert self.fold_root is not None
        return self.fold_size, self.fold_root


def _decoded(raw: bytes, position: int) -> tuple[int, bytes, bytes | None]:
    """An event line's position, stored link and body (None for a removed event)."""
    try:
        line = decode_line(raw)
        stored = bytes.fromhex(line.hash)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise ReplayError(f"export line {position} is malformed: {exc}") from None
    body = bytes(line.event)
    return line.position, stored, None if body == b"null" else body


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
    business_date: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Fold:
    """Fold the log over HTTP to `to_position` (default its latest checkpoint) or `as_of`;
    with `business_date`, only the events dated up to it."""
    _, checkpoint = await signed_checkpoint(ledger, log_key)
    end = _end(to_position, checkpoint.size)
    replay = _Replay(ChainFold(Fold(), as_of, None, business_date, READ_ADVICE), end)
    async with contextlib.aclosing(prefetched_pages(ledger, 0, end)) as pages:
        async for page in pages:
            replay.take_lines(page.splitlines())
            if progress is not None:
                progress(replay.folder.reached, end)
            if replay.done:
                break
    size, root = replay.finish()
    if as_of is None and size < end:
        raise ReplayError(f"the export ends at position {size}, before {end}")
    await _prove_prefix(ledger, size, root, checkpoint)
    return replay.folder.fold


def _refuse_uncovered(covered: int, read: int, *, asked_ledger: bool) -> None:
    """Refuse a fold that read events past every signed checkpoint they were checked against."""
    if covered >= read:
        return
    if asked_ledger:
        raise ReplayError(
            f"events {covered + 1} to {read} are past the ledger's latest signed checkpoint "
            f"and every one the export carries: replay to --to-position {covered} at most, "
            "or once the ledger has signed a checkpoint that covers them"
        )
    ledger = "give --url, --api-key and --log-key to check them against the ledger's checkpoint"
    if covered == 0:
        raise ReplayError(
            "the export carries no signed checkpoint to check its events against "
            f"(`ledger audit export` writes them, GET /v1/audit/export does not); {ledger}"
        )
    raise ReplayError(
        f"events {covered + 1} to {read} are past the export's last signed checkpoint "
        f"({covered}): replay to --to-position {covered} at most, or {ledger}"
    )


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
    business_date: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    warn: Callable[[str], None] = lambda _: None,
) -> Fold:
    """Fold an export file, checked against its chain and the checkpoints it carries
    (with `business_date`, only the events dated up to it).

    Every checkpoint the export carries must verify with the log key (`log_key`,
    else the one the export names) and state the root of the export's events at
    its size. The events read must be covered by a signed checkpoint: with
    `ledger`, they must be a prefix of the log its latest signed checkpoint
    states; without, one the export carries must reach as far as they do. `warn`
    is told which key checked the carried checkpoints when none was pinned.
    """
    trailer = read_trailer(source)
    carried = carried_roots(trailer, log_key, warn)
    latest = None
    if ledger is not None and log_key is not None:
        _, latest = await signed_checkpoint(ledger, log_key)
    wanted = set(carried) | ({latest.size} if latest is not None else set())
    folder = ChainFold(Fold(), as_of, None, business_date, READ_ADVICE)
    replay = _Replay(folder, to_position, tail=bool(wanted))
    replay.keep_roots_at = wanted
    for batch in _file_batches(source):
        replay.take_lines(batch)
        if progress is not None:
            progress(folder.reached, trailer.events)
        if replay.done:
            break
    fold = folder.fold
    read, fold_root = replay.finish()
    if to_position is not None and read < to_position and as_of is None:
        raise ReplayError(f"position {to_position} is beyond the export's end ({read})")
    for size, root in carried.items():
        if replay.roots.get(size) != root:
            raise ReplayError(
                f"the export's events through {size} do not give the root of the checkpoint "
                "the log signed at that size"
            )
    covered = max(carried, default=0)
    if latest is not None and ledger is not None:
        if read <= latest.size:
            await _prove_prefix(ledger, read, fold_root, latest)
            covered = read
        elif replay.roots.get(latest.size) != latest.root:
            raise ReplayError(
                f"the export's events through {latest.size} do not give the root the "
                "log signed at that size"
            )
        covered = max(covered, latest.size)
    _refuse_uncovered(covered, read, asked_ledger=latest is not None)
    return fold
