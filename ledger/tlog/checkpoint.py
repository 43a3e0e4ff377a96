"""C2SP tlog-checkpoint bodies: origin, tree size, base64 root hash (no extension lines)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from ledger.tlog import b64
from ledger.tlog.errors import FormatError
from ledger.tlog.hashing import HASH_SIZE

_SIZE = re.compile(r"^(0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: which log, how many leaves, which root."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The note text the log signs."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint from a note text; FormatError naming what is wrong (extension lines too)."""
    if not text.endswith("\n"):
        raise FormatError("the checkpoint does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise FormatError("the checkpoint has fewer than three lines")
    if len(lines) > 3:
        raise FormatError("the checkpoint has extension lines, which this log never signs")
    origin, size, root = lines
    if not origin:
        raise FormatError("the checkpoint's origin line is empty")
    if not _SIZE.fullmatch(size):
        raise FormatError(f"the checkpoint's size {size!r} is not a decimal")
    raw = b64.decode(root, "the checkpoint's root", FormatError)
    if len(raw) != HASH_SIZE:
        raise FormatError(f"the checkpoint's root is {len(raw)} bytes, not {HASH_SIZE}")
    return Checkpoint(origin, int(size), raw)
