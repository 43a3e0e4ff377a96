"""The signed log in an export: its identity and every checkpoint, after the event lines.

Two more kinds of NDJSON line follow the events (whose lines are unchanged):

    {"log":{"origin":"<origin>","verifier_key":"<vkey>","checkpoints":N,"cosignatures":M}}
    {"checkpoint":{"size":N,"note":"<signed note>",
                   "cosignatures":[{"witness_id":"..","line":".."}]}}   (on one line)

An import checks every checkpoint against the imported events and the log's key
before storing it, so the imported ledger continues the same log. The log line counts
the checkpoint lines and cosignatures after it, so that a file cut short after it
(at a line break, which leaves every line whole) is refused rather than imported
without them. (Exports of 0.1.0 carry no counts; theirs are taken as they come.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import asyncpg
import msgspec

from ledger.store import identity, tree, witnesses
from ledger.tlog.checkpoint import parse_checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import Verifier, parse_verifier
from ledger.tlog.note import open_note, parse
from ledger.witness.accept import Refused, Witness, accept, witnesses_of


class LogLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which log the export's checkpoints belong to."""

    origin: str
    verifier_key: str
    checkpoints: int | None = None
    """How many checkpoint lines follow (None in exports written before it was counted)."""
    cosignatures: int | None = None
    """How many cosignatures those lines carry in all."""


class CosignatureLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One witness's cosignature line over a checkpoint."""

    witness_id: str
    line: str


class CheckpointLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One signed checkpoint and the cosignatures received for it."""

    size: int
    note: str
    cosignatures: list[CosignatureLine] = []


class _Log(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    log: LogLine


class _Checkpoint(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    checkpoint: CheckpointLine


_encode = msgspec.json.Encoder().encode
_log_decoder = msgspec.json.Decoder(_Log)
_checkpoint_decoder = msgspec.json.Decoder(_Checkpoint)


def is_event_line(raw: bytes) -> bool:
    """Whether an export line holds an event (and not the log or a checkpoint)."""
    return not (raw.startswith(b'{"log":') or raw.startswith(b'{"checkpoint":'))


def decode_log_line(raw: bytes) -> LogLine | CheckpointLine:
    """A log or checkpoint line; msgspec.DecodeError / ValidationError when malformed."""
    if raw.startswith(b'{"log":'):
        return _log_decoder.decode(raw).log
    return _checkpoint_decoder.decode(raw).checkpoint


async def write_log(conn: asyncpg.Connection, out: BinaryIO, through: int) -> int:
    """Write the log line and every checkpoint up to `through`; return how many checkpoints."""
    known = await identity.recorded(conn)
    if known is None:
        return 0
    rows = await conn.fetch(
        """SELECT c.size, c.note,
                  coalesce((SELECT array_agg(s.witness_id || ' ' || s.line
                                             ORDER BY s.received_at, s.witness_id)
                              FROM log_cosignatures s WHERE s.size = c.size), '{}') AS cos
             FROM log_checkpoints c WHERE c.size <= $1 ORDER BY c.size""",
        through,
    )
    cosigned = sum(len(row["cos"]) for row in rows)
    log = LogLine(known.origin, known.verifier_key, len(rows), cosigned)
    out.write(_encode(_Log(log)) + b"\n")
    for row in rows:
        cosignatures = [CosignatureLine(*c.split(" ", 1)) for c in row["cos"]]
        line = CheckpointLine(row["size"], row["note"], cosignatures)
        out.write(_encode(_Checkpoint(line)) + b"\n")
    return len(rows)


class LogImportRefused(Exception):
    """The export's log identity or checkpoints do not fit: nothing may be imported."""


@dataclass
class LogLines:
    """The log and checkpoint lines of an export, collected while its events are read."""

    log: LogLine | None = None
    checkpoints: list[CheckpointLine] | None = None

    def add(self, line: LogLine | CheckpointLine) -> None:
        """Keep one line."""
        if isinstance(line, LogLine):
            if self.log is not None and self.log != line:
                raise LogImportRefused("the export names two different logs")
            self.log = line
        else:
            if self.checkpoints is None:
                self.checkpoints = []
            self.checkpoints.append(line)  # in place: an export may carry 10^5 of them


async def store_log(
    conn: asyncpg.Connection, lines: LogLines, head: int, key_file: Path | None
) -> int:
    """Adopt the export's log identity and store its checked checkpoints; return how many."""
    if lines.log is None:
        if lines.checkpoints:
            raise LogImportRefused("the export has checkpoints but no log line")
        return 0
    cut_short(lines.log, lines.checkpoints or [])
    try:
        key = parse_verifier(lines.log.verifier_key)
    except TlogError as exc:
        raise LogImportRefused(f"the export's log key is not a verifier key: {exc}") from None
    _check_key_file(key_file, key)
    await _adopt(conn, lines.log)
    # Cosignatures are checked against the witnesses the imported events register.
    known = witnesses_of([(w.witness_id, w.key) for w in await witnesses.registered(conn)])
    for line in lines.checkpoints or []:
        await _store_checkpoint(conn, line, lines.log, key, head, known)
    return len(lines.checkpoints or [])


def cut_short(log: LogLine, checkpoints: list[CheckpointLine]) -> None:
    """LogImportRefused when fewer checkpoint lines or cosignatures follow the log line
    than it counts: the file was cut short after it."""
    if log.checkpoints is not None and len(checkpoints) != log.checkpoints:
        raise LogImportRefused(
            f"the export's log line counts {log.checkpoints} checkpoints and "
            f"{len(checkpoints)} follow it: the file was cut short, or lines were added; "
            "export it again"
        )
    cosigned = sum(len(c.cosignatures) for c in checkpoints)
    if log.cosignatures is not None and cosigned != log.cosignatures:
        raise LogImportRefused(
            f"the export's log line counts {log.cosignatures} cosignatures and its "
            f"checkpoints carry {cosigned}: the file was changed; export it again"
        )


def _check_key_file(key_file: Path | None, key: Verifier) -> None:
    """Refuse a signing key file that exists and is not the exported log's key."""
    if key_file is None or not key_file.exists():
        return
    try:
        signer = identity.read_key_file(key_file)
    except identity.IdentityError as exc:
        raise LogImportRefused(str(exc)) from None
    if signer.verifier() != key:
        raise LogImportRefused(
            f"the signing key in {key_file} is not the exported log's key "
            f"{key.encode()}: give the log's own key file (LEDGER_SIGNING_KEY_FILE)"
        )


async def _adopt(conn: asyncpg.Connection, log: LogLine) -> None:
    known = await identity.recorded(conn)
    if known == identity.LogIdentity(log.origin, log.verifier_key):
        return
    if known is not None:
        # The ledger is empty (import refuses anything else), so nothing was signed
        # with the identity it got when first started: the imported log's replaces it.
        await conn.execute("ALTER TABLE log_identity DISABLE TRIGGER log_identity_append_only")
        await conn.execute("DELETE FROM log_identity")
        await conn.execute("ALTER TABLE log_identity ENABLE TRIGGER log_identity_append_only")
    await conn.execute(
        "INSERT INTO log_identity (origin, verifier_key) VALUES ($1, $2)",
        log.origin,
        log.verifier_key,
    )


async def _store_checkpoint(
    conn: asyncpg.Connection,
    line: CheckpointLine,
    log: LogLine,
    key: Verifier,
    head: int,
    known: list[Witness],
) -> None:
    try:
        note, _ = open_note(line.note, [key])
        body = parse_checkpoint(note.text)
    except TlogError as exc:
        raise LogImportRefused(f"checkpoint {line.size} does not verify: {exc}") from None
    if (body.origin, body.size) != (log.origin, line.size) or not 1 <= body.size <= head:
        raise LogImportRefused(f"checkpoint {line.size} is not of this log and its events")
    if await tree.root_at(conn, body.size) != body.root:
        raise LogImportRefused(
            f"checkpoint {line.size} does not state the root of the imported events"
        )
    await conn.execute(
        "INSERT INTO log_checkpoints (size, root, note) VALUES ($1, $2, $3)",
        body.size,
        body.root,
        line.note,
    )
    _check_cosignatures(line, note.text, key, known)
    for cosig in line.cosignatures:
        await conn.execute(
            "INSERT INTO log_cosignatures (size, witness_id, line) VALUES ($1, $2, $3)",
            body.size,
            cosig.witness_id,
            cosig.line,
        )


def _check_cosignatures(
    line: CheckpointLine, text: str, key: Verifier, known: list[Witness]
) -> None:
    """Refuse cosignatures the service would not have accepted: each a registered witness's
    line that verifies over the checkpoint, under that witness's id, once."""
    seen: set[str] = set()
    for i, cosig in enumerate(line.cosignatures):
        where = f"checkpoint {line.size}'s cosignature {i + 1} ({cosig.witness_id})"
        try:
            cosigned = parse(text + "\n" + cosig.line)
        except TlogError as exc:
            raise LogImportRefused(f"{where} is not one signature line: {exc}") from None
        if len(cosigned.signatures) != 1:
            raise LogImportRefused(f"{where} is not one signature line")
        try:
            (accepted,) = accept(cosigned, text, key, known)
        except Refused as exc:
            raise LogImportRefused(f"{where} is refused: {exc}") from None
        if (accepted.witness_id, accepted.line) != (cosig.witness_id, cosig.line):
            raise LogImportRefused(f"{where} was made by witness {accepted.witness_id}'s key")
        if cosig.witness_id in seen:
            raise LogImportRefused(f"{where} repeats that witness's cosignature")
        seen.add(cosig.witness_id)
