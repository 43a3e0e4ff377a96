"""Exporting the log as NDJSON: one line per event, its stored bytes kept verbatim.

Each line is ``{"position":N,"hash":"<hex>","fingerprint":"<hex>","event":<body>}``
where ``<body>`` is the event's stored bytes written unchanged. They are
canonical JSON (no whitespace, no newline), so the line is valid JSON and the
exact bytes are recovered as the raw text of the ``event`` value. ``hash`` is
the chain link at that position; ``fingerprint`` is the SHA-256 of what the
poster sent (it is not part of the body, and an identical repost after an
import must still be recognised).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import asyncpg
import msgspec

from ledger.audit.columns import disagreement
from ledger.audit.export_log import write_log
from ledger.audit.scan import head, scan_log, snapshot
from ledger.store.chain import GENESIS, link


class ExportError(Exception):
    """The log cannot be exported as it stands (its chain is broken)."""


class ExportLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One line of an export, as read back: the body stays raw bytes."""

    position: int
    hash: str
    fingerprint: str
    event: msgspec.Raw


@dataclass(frozen=True)
class Exported:
    """What an export wrote: how many events, through which position, ending in which link."""

    count: int
    head_position: int
    head_hash: str


_line_decoder = msgspec.json.Decoder(ExportLine)


def encode_line(position: int, hash_: bytes, fingerprint: bytes, body: bytes) -> bytes:
    """One NDJSON line for an event, with its body embedded byte for byte."""
    head_ = f'{{"position":{position},"hash":"{hash_.hex()}","fingerprint":"{fingerprint.hex()}"'
    return head_.encode() + b',"event":' + body + b"}\n"


def decode_line(line: bytes) -> ExportLine:
    """Parse one export line; raise msgspec.DecodeError / ValidationError when malformed."""
    return _line_decoder.decode(line)


async def export_log(
    conn: asyncpg.Connection,
    out: BinaryIO,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Exported:
    """Write the whole sealed log to `out`, checking every link on the way.

    Reads one snapshot in batches, so memory stays bounded and a live ledger
    exports a consistent prefix. Refuses to carry on past a broken link: an
    export is always a verified history that `import_log` accepts.
    """
    previous, count = GENESIS, 0
    async with snapshot(conn):
        end, _ = await head(conn)
        async for batch in scan_log(conn, through=end):
            for event in batch:
                expected = count + 1
                if event.position != expected or event.body is None or event.fingerprint is None:
                    raise ExportError(f"position {expected} is missing; run `ledger audit verify`")
                computed = link(previous, event.position, event.body)
                if computed != event.hash:
                    raise ExportError(
                        f"position {event.position} does not match its hash; "
                        "run `ledger audit verify`"
                    )
                # The line carries the stored fingerprint: it must be the body's own.
                differs = disagreement(event)
                if differs is not None:
                    raise ExportError(
                        f"position {event.position}: {differs}; run `ledger audit verify`"
                    )
                out.write(encode_line(event.position, event.hash, event.fingerprint, event.body))
                previous, count = computed, expected
            if progress is not None:
                progress(count, end)
        # Then the log's identity and its checkpoints through the exported head.
        await write_log(conn, out, count)
    return Exported(count=count, head_position=count, head_hash=previous.hex())
