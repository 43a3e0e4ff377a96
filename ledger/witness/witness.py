"""One round of a witness: fetch, check the log's signature, prove consistency, cosign, post.

A witness cosigns a checkpoint only after checking it is signed by the pinned
log key and that the tree it states extends the last one this witness
cosigned (RFC 9162 consistency). Anything else is a log showing two
histories: the witness keeps the evidence and never cosigns (Fork).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from ledger.remote import Ledger, RemoteError
from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.cosignature import cosign
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import Signer, Verifier
from ledger.tlog.note import Note, open_note
from ledger.tlog.proofs import verify_consistency
from ledger.witness import state

log = structlog.get_logger(__name__)


class Fork(Exception):
    """The log offered a checkpoint this witness must not cosign; evidence is in `folder`."""

    def __init__(self, reason: str, folder: Path) -> None:
        super().__init__(f"{reason} (evidence in {folder})")
        self.reason = reason
        self.folder = folder


@dataclass(frozen=True)
class Round:
    """What one round did: the size cosigned and whether the ledger had it already."""

    size: int
    new: bool


@dataclass
class Witness:
    """A witness of one log: its key, the log's pinned key, its state directory."""

    key: Signer
    log_key: Verifier
    directory: Path
    clock: Callable[[], float] = time.time

    def _fork(self, reason: str, previous: str | None, offered: str, proof: Any) -> Fork:
        folder = state.write_evidence(self.directory, reason, previous, offered, proof)
        log.error("witness.refused", reason=reason, evidence=str(folder))
        return Fork(reason, folder)

    def _signed(self, offered: str) -> tuple[Note, Checkpoint]:
        """The offered note's log-signed part and checkpoint, or a Fork if badly signed."""
        try:
            note, _ = open_note(offered, [self.log_key])
            checkpoint = parse_checkpoint(note.text)
        except TlogError as exc:
            raise self._fork(
                f"the checkpoint is not signed by the log key: {exc}",
                self._previous(),
                offered,
                {"error": str(exc)},
            ) from None
        if checkpoint.origin != self.log_key.name:
            raise self._fork(
                f"the checkpoint's origin {checkpoint.origin!r} is not the log's",
                self._previous(),
                offered,
                {"error": "origin"},
            )
        return note, checkpoint

    def _previous(self) -> str | None:
        """The last checkpoint this witness cosigned, as evidence beside a refused one."""
        last = state.load(self.directory, self.log_key)
        return None if last is None else last.note

    async def _check_extends(
        self, ledger: Ledger, last: state.Last, new: Checkpoint, offered: str
    ) -> None:
        old = last.checkpoint
        if new.size < old.size:
            raise self._fork(
                f"the log went back from size {old.size} to {new.size}",
                last.note,
                offered,
                {"from": old.size, "to": new.size, "error": "the tree shrank"},
            )
        if new.size == old.size:
            if new.root != old.root:
                raise self._fork(
                    f"two different roots for size {new.size}",
                    last.note,
                    offered,
                    {"from": old.size, "to": new.size, "hashes": []},
                )
            return
        hashes, answer = await ledger.consistency(old.size, new.size)
        try:
            verify_consistency(old.size, new.size, old.root, new.root, hashes)
        except TlogError as exc:
            raise self._fork(
                f"checkpoint {new.size} is not consistent with cosigned {old.size}: {exc}",
                last.note,
                offered,
                answer,
            ) from None

    async def round(self, ledger: Ledger) -> Round:
        """Cosign the latest checkpoint if it extends what was cosigned; raise Fork if not."""
        last = state.load(self.directory, self.log_key)
        try:
            offered = await ledger.checkpoint()
        except RemoteError as exc:
            if exc.status == 404 and last is not None:
                # A log that had signed what this witness cosigned now shows no checkpoint
                # at all: every one of them was removed, or the store went back to before.
                raise self._fork(
                    f"the log went back from size {last.checkpoint.size} to no signed "
                    "checkpoint at all",
                    last.note,
                    f"{exc}\n",  # what the ledger answered in place of a checkpoint
                    {"from": last.checkpoint.size, "to": 0, "error": str(exc)},
                ) from None
            raise
        note, checkpoint = self._signed(offered)
        if last is not None:
            await self._check_extends(ledger, last, checkpoint, offered)
        own = [
            s
            for s in note.signatures
            if (s.name, s.key_id) == (self.log_key.name, self.log_key.key_id)
        ]
        signed = Note(note.text, tuple(own[:1]))
        line = cosign(note.text, self.key, int(self.clock()))
        # Remembered before the cosignature leaves: after a crash this witness still
        # holds itself to what it may already have vouched for.
        state.save(self.directory, signed.encode())
        answer = await ledger.post_cosigned(Note(note.text, (*signed.signatures, line)).encode())
        new = any(c.get("new") for c in answer.get("cosignatures", []))
        log.info("witness.cosigned", size=checkpoint.size, new=new)
        return Round(checkpoint.size, new)
