"""`ledger witness`: cosign the log's checkpoints as they grow, and `keygen`."""

from __future__ import annotations

import argparse
import asyncio
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.commands import CommandError, Subparsers
from ledger.config import Settings

if TYPE_CHECKING:
    from ledger.tlog.keys import Signer, Verifier
    from ledger.witness.witness import Witness

FORK = 3
"""Exit code of a witness that refused a badly signed or inconsistent checkpoint."""


def register(subparsers: Subparsers) -> None:
    """Add `ledger witness` and `ledger witness keygen`."""
    parser = subparsers.add_parser(
        "witness",
        help="witness the log: cosign its checkpoints as they grow",
        description="Fetch the log's latest checkpoint, check its signature with the pinned "
        "log key, prove it consistent with the last checkpoint this witness cosigned (kept "
        "in --state), cosign it (C2SP tlog-cosignature/v1) and post it to "
        "POST /v1/log/cosignatures. A checkpoint badly signed or inconsistent is never "
        "cosigned: both checkpoints and the failed proof are written to an evidence-* "
        "folder in --state, and the witness exits 3. Exit 1: the ledger could not be "
        "reached or refused the cosignature (with --once).",
    )
    parser.add_argument("--url", help="the ledger's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--api-key", metavar="KEY", help="an API key of the ledger (any role)")
    parser.add_argument("--log-key", metavar="VKEY", help="the log's verifier key, pinned")
    parser.add_argument("--witness-key", metavar="FILE", help="this witness's private key file")
    parser.add_argument("--state", metavar="DIR", help="where the witness keeps what it cosigned")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one round, then exit")
    mode.add_argument(
        "--interval", metavar="SECONDS", type=float, default=10.0, help="between rounds (10)"
    )
    parser.set_defaults(handler=run)
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    keygen = actions.add_parser(
        "keygen",
        help="make a witness key and print its verifier key",
        description="Write a new Ed25519 cosignature key (C2SP signed-note private key, "
        "type 0x04) to FILE with mode 0600, and print its verifier key for an admin to "
        "register with witness.registered.",
    )
    keygen.add_argument("--name", required=True, help="the key's name, e.g. national-fund-witness")
    keygen.add_argument("--out", metavar="FILE", required=True, help="the key file to create")
    keygen.set_defaults(handler=run_keygen)


def run_keygen(args: argparse.Namespace, settings: Settings) -> int:
    """Create the key file (never overwriting one) and print the verifier key."""
    from ledger.secret_files import write_new_secret
    from ledger.tlog.errors import NoteError
    from ledger.tlog.keys import COSIGNATURE_V1, generate_signer

    try:
        signer = generate_signer(args.name, COSIGNATURE_V1)
    except NoteError as exc:
        raise CommandError(f"bad --name: {exc}", exit_code=2) from None
    path = Path(args.out)
    try:
        write_new_secret(path, signer.encode() + "\n")
    except FileExistsError:
        raise CommandError(f"{path} exists: a witness key is never overwritten", 2) from None
    except OSError as exc:
        raise CommandError(f"cannot create {path}: {exc.strerror}", exit_code=2) from None
    print(signer.verifier().encode())
    return 0


def _keys(args: argparse.Namespace) -> tuple[Signer, Verifier]:
    from ledger.tlog.errors import NoteError
    from ledger.tlog.keys import COSIGNATURE_V1, ED25519, parse_signer, parse_verifier

    try:
        log_key = parse_verifier(args.log_key)
    except NoteError as exc:
        raise CommandError(f"bad --log-key: {exc}", exit_code=2) from None
    if log_key.alg != ED25519:
        raise CommandError("--log-key is not a log's Ed25519 key (type 0x01)", exit_code=2)
    try:
        text = Path(args.witness_key).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {args.witness_key}: {exc.strerror}", 2) from None
    try:
        key = parse_signer(text)
    except NoteError:
        # The message could quote the file: say which file only.
        raise CommandError(f"{args.witness_key} is not a signed-note private key", 2) from None
    if key.alg != COSIGNATURE_V1:
        raise CommandError(f"{args.witness_key} is not a cosignature key (type 0x04)", 2)
    return key, log_key


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Witness the log: one round with --once, else a round every --interval seconds."""
    missing = [
        f"--{name.replace('_', '-')}"
        for name in ("url", "api_key", "log_key", "witness_key", "state")
        if getattr(args, name) is None
    ]
    if missing:
        raise CommandError("missing " + ", ".join(missing) + " (or use `keygen`)", exit_code=2)
    if not math.isfinite(args.interval) or args.interval <= 0:
        raise CommandError("--interval must be a number of seconds more than 0", exit_code=2)
    from ledger.witness.witness import Witness

    key, log_key = _keys(args)
    witness = Witness(key, log_key, Path(args.state))
    return asyncio.run(_run(witness, args))


async def _run(witness: Witness, args: argparse.Namespace) -> int:
    import structlog

    from ledger.remote import Ledger, RemoteError
    from ledger.witness.state import StateError
    from ledger.witness.witness import Fork

    log = structlog.get_logger("ledger.witness")
    async with Ledger(args.url, args.api_key) as ledger:
        while True:
            try:
                done = await witness.round(ledger)
            except Fork as fork:
                raise CommandError(f"refused to cosign: {fork}", exit_code=FORK) from None
            except StateError as exc:
                raise CommandError(str(exc), exit_code=2) from None
            except RemoteError as exc:
                log.warning("witness.round_failed", error=str(exc))
                if args.once:
                    raise CommandError(str(exc)) from None
            else:
                if args.once:
                    print(f"cosigned checkpoint {done.size}")
                    return 0
            await asyncio.sleep(args.interval)
