"""The last checkpoint this service signed, remembered beside its signing key.

The log proves each new checkpoint consistent with the last one stored in the
database; someone who controls the database could delete that row and rewrite
what it covered, and the service would then sign the rewritten tree with the
log's key. The key holder therefore keeps its own record, outside the database:
a new checkpoint must also extend the one in this file (C2SP tlog-checkpoint: a
log MUST NOT sign a checkpoint inconsistent with any it signed before). The file
holds the checkpoint's note text (origin, size, root), written durably before
the checkpoint is stored or served.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.errors import TlogError


class SignedMemoryError(RuntimeError):
    """The file is unreadable or names another log: signing must not go on blindly."""


def memory_path(key_file: Path) -> Path:
    """Where the service beside `key_file` remembers what it signed."""
    return key_file.with_name(key_file.name + ".last-signed")


@dataclass(frozen=True)
class SignedMemory:
    """The file at `path`, for the log named `origin`."""

    path: Path
    origin: str

    def load(self) -> Checkpoint | None:
        """The last checkpoint remembered, or None before the first."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SignedMemoryError(f"cannot read {self.path}: {exc}") from None
        try:
            found = parse_checkpoint(text)
        except TlogError as exc:
            raise SignedMemoryError(f"{self.path} is not a checkpoint: {exc}") from None
        if found.origin != self.origin:
            raise SignedMemoryError(
                f"{self.path} remembers the log {found.origin!r}, not {self.origin!r}"
            )
        return found

    def save(self, checkpoint: Checkpoint) -> None:
        """Remember `checkpoint`, durably: a temporary file synced, then renamed over."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            out.write(checkpoint.text())
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.path)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
