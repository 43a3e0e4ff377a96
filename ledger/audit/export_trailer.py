"""The checkpoints an export carries after its events, checked with the log's key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import msgspec

from ledger.audit.export_log import (
    CheckpointLine,
    LogImportRefused,
    LogLine,
    cut_short,
    decode_log_line,
    is_event_line,
)
from ledger.audit.replay import ReplayError
from ledger.tlog.checkpoint import parse_checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import Verifier, parse_verifier
from ledger.tlog.note import open_note


@dataclass(frozen=True)
class Trailer:
    """An export's log and checkpoint lines (they follow its events), and its event count."""

    log: LogLine | None
    checkpoints: list[CheckpointLine]
    events: int


def read_trailer(source: BinaryIO) -> Trailer:
    """Read the whole export for its trailing lines, then rewind it."""
    log: LogLine | None = None
    checkpoints: list[CheckpointLine] = []
    events = 0
    for raw in source:
        if not raw.strip():
            continue
        if is_event_line(raw):
            events += 1
            continue
        try:
            line = decode_log_line(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ReplayError(f"the export's log or checkpoint line is malformed: {exc}") from None
        if isinstance(line, LogLine):
            log = line
        else:
            checkpoints.append(line)
    source.seek(0)
    return Trailer(log, checkpoints, events)


def carried_roots(
    trailer: Trailer, pinned: Verifier | None, warn: Callable[[str], None]
) -> dict[int, bytes]:
    """The root of each checkpoint the export carries, by size, each checked with the log's key.

    The key is `pinned` (--log-key) when given; else the one the export names, which
    `warn` is told (an export that names its own key proves only its own consistency).
    """
    if trailer.log is not None:
        try:
            cut_short(trailer.log, trailer.checkpoints)
        except LogImportRefused as exc:
            raise ReplayError(str(exc)) from None
    if not trailer.checkpoints:
        return {}
    if trailer.log is None:
        raise ReplayError("the export has checkpoints but no log line")
    key = pinned
    if key is None:
        warn(
            "note: the export's checkpoints are checked with the key the export itself "
            "names; pin the log's key with --log-key"
        )
        try:
            key = parse_verifier(trailer.log.verifier_key)
        except TlogError as exc:
            raise ReplayError(f"the export's log key is not a verifier key: {exc}") from None
    elif trailer.log.verifier_key != key.encode():
        raise ReplayError(
            f"the export is of the log {trailer.log.verifier_key}, not {key.encode()}"
        )
    roots: dict[int, bytes] = {}
    for line in trailer.checkpoints:
        try:
            note, _ = open_note(line.note, [key])
            checkpoint = parse_checkpoint(note.text)
        except TlogError as exc:
            raise ReplayError(
                f"the export's checkpoint {line.size} does not verify: {exc}"
            ) from None
        if checkpoint.origin != key.name or checkpoint.size > trailer.events:
            raise ReplayError(
                f"the export's checkpoint {line.size} is not of this log and its events"
            )
        roots[checkpoint.size] = checkpoint.root
    return roots
