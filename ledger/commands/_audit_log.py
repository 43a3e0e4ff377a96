"""`ledger audit checkpoint` and `ledger audit check-proof`: the signed log, from the CLI."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ledger.commands import CommandError
from ledger.config import Settings


def register_log_actions(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `checkpoint` and `check-proof` to `ledger audit`."""
    checkpoint = actions.add_parser(
        "checkpoint",
        help="print the latest signed checkpoint of the log",
        description="Print the latest signed checkpoint (C2SP tlog-checkpoint note) with "
        "every cosignature received for it.",
    )
    checkpoint.set_defaults(handler=run_checkpoint)

    check = actions.add_parser(
        "check-proof",
        help="check an event's proof offline (no database, no network)",
        description="Check a C2SP tlog-proof@v1 from GET /v1/events/{event_id}/proof: the "
        "checkpoint's signature by the log key, the witnesses' cosignatures, and the "
        "inclusion of the event's exact stored bytes. Prints the event id, type, stream, "
        "position and occurred_at and exits 0, or exits 1 saying what failed.",
    )
    check.add_argument("file", metavar="FILE", help="the proof file (- for stdin)")
    check.add_argument("--log-key", metavar="VKEY", required=True, help="the log's verifier key")
    check.add_argument(
        "--witness-key",
        metavar="VKEY",
        action="append",
        default=[],
        help="a witness's verifier key (repeat for several)",
    )
    check.add_argument(
        "--min-witnesses",
        metavar="K",
        type=int,
        default=0,
        help="how many of the given witnesses must have cosigned (default 0)",
    )
    check.set_defaults(handler=run_check_proof)


def run_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    """Print the latest checkpoint from the ledger's database."""
    from ledger.auth.dsn import resolve_dsn

    with resolve_dsn(settings, create=False) as dsn:
        note = asyncio.run(_latest_note(dsn))
    if note is None:
        raise CommandError("no checkpoint is signed yet")
    sys.stdout.write(note)
    return 0


async def _latest_note(dsn: str) -> str | None:
    import asyncpg

    from ledger.store import checkpoints

    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise CommandError(f"cannot reach the ledger's database: {exc}") from None
    try:
        signed = await checkpoints.latest(conn)
        return None if signed is None else await checkpoints.with_cosignatures(conn, signed)
    finally:
        await conn.close()


def run_check_proof(args: argparse.Namespace, settings: Settings) -> int:
    """Check a proof file with the given keys; print what it proves."""
    from ledger.audit.event_proof import check_event_proof
    from ledger.tlog.errors import TlogError
    from ledger.tlog.keys import parse_verifier

    try:
        log_key = parse_verifier(args.log_key)
        witnesses = [parse_verifier(k) for k in args.witness_key]
    except TlogError as exc:
        raise CommandError(f"bad key: {exc}", exit_code=2) from None
    if args.min_witnesses < 0 or args.min_witnesses > len(witnesses):
        raise CommandError("--min-witnesses must be from 0 to the number of --witness-key", 2)
    try:
        text = _proof_bytes(args.file)
    except OSError as exc:
        # The check could not be made: a failure to say (exit 1), as the contract has
        # check-proof exit 0 or 1; only options it cannot use are usage errors (2).
        raise CommandError(f"proof check failed: cannot read {args.file}: {exc.strerror}") from None
    if len(text) > PROOF_MOST:
        raise CommandError(
            f"proof check failed: {args.file} is larger than any proof ({PROOF_MOST} bytes)"
        )
    try:
        proved = check_event_proof(text, log_key, witnesses, args.min_witnesses)
    except TlogError as exc:
        raise CommandError(f"proof check failed: {exc}") from None
    head = proved.head
    print(f"event_id: {head.event_id}")
    print(f"type: {head.type}")
    print(f"stream: {head.stream_id}")
    print(f"position: {proved.position}")
    print(f"occurred_at: {head.occurred_at}")
    print(f"checkpoint: {proved.checked.checkpoint.origin} size {proved.checked.checkpoint.size}")
    if proved.checked.witnesses:
        print("cosigned by: " + ", ".join(proved.checked.witnesses))
    print("OK: the event is in the log's signed tree")
    return 0


PROOF_MOST = 4 * 1024 * 1024
"""Bytes past any proof the ledger serves: the event's stored bytes (at most a 1 MiB
post) in base64, the inclusion hashes and the checkpoint with its cosignatures."""


def _proof_bytes(file: str) -> bytes:
    """The proof file's bytes, reading one past PROOF_MOST at the most (`-`: stdin)."""
    if file == "-":
        return sys.stdin.buffer.read(PROOF_MOST + 1)
    with Path(file).open("rb") as f:
        return f.read(PROOF_MOST + 1)
