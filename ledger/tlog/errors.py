"""The one exception family of the tlog package, each saying what failed."""

from __future__ import annotations


class TlogError(ValueError):
    """Something a log, a proof or a note says does not hold."""


class ProofError(TlogError):
    """An inclusion or consistency proof does not verify."""


class NoteError(TlogError):
    """A signed note, key or signature is malformed or does not verify."""


class FormatError(TlogError):
    """A checkpoint, proof file or tile path is not in its exact format."""
