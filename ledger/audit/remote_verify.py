"""An auditor's verify over HTTP: the chain and the Merkle root from the export,
checked against the log's signed checkpoint, with no database.

The export gives each event's exact stored bytes and stored link. Every link is
recomputed from the one before (from the genesis, or from the chain head a
previous run remembered), every leaf hashed into the tree's right edge, and the
root at the checkpoint's size must be the one the log signed. With a state from
a previous run, the new checkpoint must first be proved consistent with the
one verified then, and only the events after it are read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass

import msgspec

from ledger.audit.export import decode_line
from ledger.audit.remote_state import Verified
from ledger.audit.verify import VerifyReport
from ledger.remote import Ledger
from ledger.store.chain import GENESIS, link
from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.frontier import Frontier
from ledger.tlog.hashing import HASH_SIZE, leaf_hash
from ledger.tlog.keys import Verifier
from ledger.tlog.note import open_note
from ledger.tlog.proofs import verify_consistency
from ledger.tlog.tiles import TILE_WIDTH, Tile, tile_path, tile_width

PAGE = 10_000
"""Events asked for per request: the export's largest page."""


class UnsignedCheckpoint(Exception):
    """The ledger's checkpoint is not signed by the pinned log key."""


@dataclass(frozen=True)
class RemoteReport:
    """The outcome: the report (as the DSN verify's), what was read, the state to keep."""

    report: VerifyReport
    checkpoint: Checkpoint
    read_from: int
    """The first position read this time (size + 1 when nothing was new)."""
    verified: Verified | None
    """The state to remember: None when the log did not verify."""


class _Fault(Exception):
    def __init__(self, position: int, problem: str, reason: str) -> None:
        super().__init__(reason)
        self.position, self.problem, self.reason = position, problem, reason


async def signed_checkpoint(ledger: Ledger, log_key: Verifier) -> tuple[str, Checkpoint]:
    """The latest checkpoint note and what it states, checked with the pinned key."""
    note = await ledger.checkpoint()
    try:
        opened, _ = open_note(note, [log_key])
        checkpoint = parse_checkpoint(opened.text)
    except TlogError as exc:
        raise UnsignedCheckpoint(f"the ledger's checkpoint is not the log's: {exc}") from None
    if checkpoint.origin != log_key.name:
        raise UnsignedCheckpoint(
            f"the checkpoint's origin {checkpoint.origin} is not the log key's"
        )
    return note, checkpoint


async def prefetched_pages(ledger: Ledger, after: int, through: int) -> AsyncGenerator[bytes, None]:
    """Export pages after `after` through `through`, the next asked for while one is used."""
    # The next page is asked for while this one is checked: the ledger reads while we hash.
    pages = ledger.export_pages(after, through, PAGE)
    pending = asyncio.ensure_future(anext(pages, b""))
    try:
        while True:
            page = await pending
            if not page:
                return
            pending = asyncio.ensure_future(anext(pages, b""))
            yield page
    finally:
        # Left early (a fault found, or the caller stopped): the page asked for ahead is
        # cancelled and its outcome taken, so no failure of it is left unretrieved.
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pending
        await pages.aclose()


async def _prove_extends(ledger: Ledger, state: Verified, new: Checkpoint) -> None:
    if new.size < state.size:
        raise _Fault(
            new.size + 1,
            "removed",
            f"the log's checkpoint is at size {new.size}, but size {state.size} was verified",
        )
    if new.size == state.size:
        if new.root != state.root:
            raise _Fault(new.size, "checkpoint-mismatch", f"two roots for size {new.size}")
        return
    hashes, _ = await ledger.consistency(state.size, new.size)
    try:
        verify_consistency(state.size, new.size, state.root, new.root, hashes)
    except TlogError as exc:
        raise _Fault(
            state.size,
            "checkpoint-mismatch",
            f"checkpoint {new.size} is not consistent with verified size {state.size}: {exc}",
        ) from None


async def _rewritten(ledger: Ledger, start: int, leaves: bytes, size: int) -> _Fault:
    """The fault when the events do not give the signed root: at the first event whose
    leaf the log's stored tree does not hold, if the forger left the tree alone."""
    first = start // TILE_WIDTH
    for index in range(first, (size - 1) // TILE_WIDTH + 1):
        width = tile_width(0, index, size)
        stored = await ledger.tile(tile_path(Tile(0, index, width)))
        for j in range(width):
            leaf = index * TILE_WIDTH + j
            at = (leaf - start) * HASH_SIZE
            if (
                leaf >= start
                and stored[j * HASH_SIZE : (j + 1) * HASH_SIZE] != leaves[at : at + HASH_SIZE]
            ):
                return _Fault(
                    leaf + 1,
                    "changed",
                    f"the event at position {leaf + 1} is not the one the log's tree holds: "
                    "it was rewritten along with the links after it",
                )
    return _Fault(
        size,
        "checkpoint-mismatch",
        f"the events through {size} do not give the root the log signed at that size: "
        "history was rewritten",
    )


async def verify_remote(
    ledger: Ledger,
    log_key: Verifier,
    state: Verified | None,
    progress: Callable[[int, int], None] | None = None,
) -> RemoteReport:
    """Verify the log through its latest signed checkpoint, from `state` if given."""
    _, checkpoint = await signed_checkpoint(ledger, log_key)
    start = 0 if state is None else state.size
    frontier = Frontier() if state is None else state.frontier()
    previous = state_head = GENESIS if state is None else state.chain_head
    done = start
    leaves = bytearray()  # this run's leaf hashes, to find a rewrite the chain hides
    links = bytearray()  # and its links, to name the last good one when it does
    try:
        if state is not None:
            await _prove_extends(ledger, state, checkpoint)
        async with contextlib.aclosing(prefetched_pages(ledger, start, checkpoint.size)) as pages:
            async for page in pages:
                for raw in page.splitlines():
                    position = done + 1
                    try:
                        line = decode_line(raw)
                    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                        raise _Fault(
                            position, "changed", f"export line {position} is malformed: {exc}"
                        ) from None
                    body = bytes(line.event)
                    if line.position != position or body == b"null":
                        raise _Fault(
                            position,
                            "removed",
                            f"position {position} is missing: an event was removed",
                        )
                    computed = link(previous, position, body)
                    if computed.hex() != line.hash:
                        raise _Fault(
                            position,
                            "changed",
                            f"the event at position {position} no longer matches its hash: "
                            "it was changed after it was sealed",
                        )
                    leaf = leaf_hash(body)
                    frontier.add(leaf)
                    leaves += leaf
                    links += computed
                    previous, done = computed, position
                if progress is not None:
                    progress(done - start, checkpoint.size - start)
        if done < checkpoint.size:
            raise _Fault(
                done + 1, "removed", f"the export ends at {done}, before {checkpoint.size}"
            )
        if frontier.root() != checkpoint.root:
            raise await _rewritten(ledger, start, bytes(leaves), checkpoint.size)
    except _Fault as fault:
        # Before the first bad position; for a rewrite not placed, no further than the
        # checkpoint verified before (this run's start).
        good = start if fault.problem == "checkpoint-mismatch" else min(done, fault.position - 1)
        if good < start or good >= fault.position:
            # The log is now shorter than the state verified (rolled back), or not an
            # extension of it (a fork): no link of what it holds now was read, and what
            # the state vouched for is not what it serves.
            good = 0
        if good == done:
            good_link = previous
        elif good == start:
            good_link = state_head
        elif good == 0:
            good_link = GENESIS
        else:
            good_link = bytes(links[(good - start - 1) * HASH_SIZE : (good - start) * HASH_SIZE])
        report = VerifyReport(
            ok=False,
            verified_through=good,
            head_hash=good_link.hex(),
            first_bad_position=fault.position,
            reason=fault.reason,
            problem=fault.problem,  # type: ignore[arg-type]
        )
        return RemoteReport(report, checkpoint, start + 1, None)
    verified = Verified(checkpoint.origin, done, checkpoint.root, previous, list(frontier.edge))
    report = VerifyReport(ok=True, verified_through=done, head_hash=previous.hex())
    return RemoteReport(report, checkpoint, start + 1, verified)
