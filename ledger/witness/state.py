"""A witness's state directory: the last checkpoint it cosigned, and evidence of a fork."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.tlog.checkpoint import Checkpoint, parse_checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import Verifier
from ledger.tlog.note import open_note

LAST = "cosigned-checkpoint"
"""The log-signed note of the last checkpoint this witness cosigned."""


class StateError(Exception):
    """The state directory cannot be used (unreadable, or its checkpoint is not the log's)."""


@dataclass(frozen=True)
class Last:
    """The last checkpoint cosigned: its note (as the log signed it) and what it states."""

    note: str
    checkpoint: Checkpoint


def _write_atomically(path: Path, text: str) -> None:
    # Written beside, synced, then renamed: a crash leaves the old state or the new,
    # never half of one (a witness must never forget what it cosigned).
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def load(directory: Path, log_key: Verifier) -> Last | None:
    """The last checkpoint cosigned, checked against the log key again; None before the first."""
    path = directory / LAST
    try:
        note = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from None
    try:
        opened, _ = open_note(note, [log_key])
        return Last(note, parse_checkpoint(opened.text))
    except TlogError as exc:
        raise StateError(f"{path} is not a checkpoint signed by the log key: {exc}") from None


def save(directory: Path, note: str) -> None:
    """Remember `note` as the last checkpoint cosigned (before the cosignature leaves)."""
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(directory / LAST, note)


def write_evidence(
    directory: Path, reason: str, previous: str | None, offered: str, proof: Any
) -> Path:
    """Keep both checkpoints and the failed proof in a new folder of `directory`; its path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    folder = directory / f"evidence-{stamp}"
    folder.mkdir(parents=True)
    (folder / "reason.txt").write_text(reason + "\n", encoding="utf-8")
    if previous is not None:
        (folder / "previous-checkpoint").write_text(previous, encoding="utf-8")
    (folder / "offered-checkpoint").write_text(offered, encoding="utf-8")
    (folder / "proof.json").write_text(json.dumps(proof, indent=2) + "\n", encoding="utf-8")
    return folder
