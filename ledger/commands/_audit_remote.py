"""`ledger audit verify --url` and `replay --url | --from-export`: audits with no database."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.commands import CommandError

if TYPE_CHECKING:
    from ledger.tlog.keys import Verifier


def add_remote_options(parser: argparse.ArgumentParser, *, export: bool = False) -> None:
    """Add --url, --api-key and --log-key (and --from-export) to an audit action."""
    group = parser.add_argument_group(
        "without a database",
        "read the log over HTTP with an auditor's (or admin's) API key instead of a DSN",
    )
    group.add_argument("--url", help="the ledger's base URL, e.g. https://ledger.example")
    group.add_argument("--api-key", metavar="KEY", help="an auditor's or admin's API key")
    group.add_argument("--log-key", metavar="VKEY", help="the log's verifier key, pinned")
    if export:
        group.add_argument(
            "--from-export",
            metavar="FILE",
            help="replay an export file (`ledger audit export`) instead of a ledger",
        )


def is_remote(args: argparse.Namespace) -> bool:
    """Whether the action reads over HTTP or from an export rather than from a database."""
    return bool(getattr(args, "url", None) or getattr(args, "from_export", None))


def pinned_log_key(args: argparse.Namespace, needed: bool = True) -> Verifier | None:
    """The log key pinned with --log-key (None when not given and not `needed`); exit 2
    for one that is not a log's Ed25519 verifier key."""
    from ledger.tlog.errors import NoteError
    from ledger.tlog.keys import ED25519, parse_verifier

    if args.log_key is None:
        if needed:
            raise CommandError("--log-key is required with --url: pin the log's key", 2)
        return None
    try:
        key = parse_verifier(args.log_key)
    except NoteError as exc:
        raise CommandError(f"bad --log-key: {exc}", exit_code=2) from None
    if key.alg != ED25519:
        raise CommandError("--log-key is not a log's Ed25519 key (type 0x01)", exit_code=2)
    return key


def _need_url(args: argparse.Namespace) -> None:
    if args.api_key is None:
        raise CommandError("--api-key is required with --url", exit_code=2)


def run(args: argparse.Namespace) -> int:
    """Run verify or replay without a database."""
    if args.action == "verify":
        return run_verify(args)
    if args.action == "replay":
        return run_replay(args)
    raise CommandError(f"`ledger audit {args.action}` needs a DSN, not --url", exit_code=2)


def run_replay(args: argparse.Namespace) -> int:
    """Replay over HTTP or from an export; write the state as the DSN replay does."""
    if args.compare:
        raise CommandError("--compare compares with the live read models: it needs a DSN", 2)
    if args.to_position is None and args.as_of is None and args.business_date is None:
        raise CommandError(
            "give --to-position N, --as-of TIMESTAMP or --business-date DATE", exit_code=2
        )
    if args.url is not None:
        _need_url(args)
    elif args.api_key is not None:
        raise CommandError("--api-key goes with --url", exit_code=2)
    log_key = pinned_log_key(args, needed=args.url is not None)
    return asyncio.run(_replay(args, log_key))


async def _replay(args: argparse.Namespace, log_key: Verifier | None) -> int:
    import contextlib

    from ledger.audit.actions import opened, out_of_business_order, output_to
    from ledger.audit.progress import Progress
    from ledger.audit.remote_replay import replay_export, replay_remote
    from ledger.audit.remote_verify import UnsignedCheckpoint
    from ledger.audit.replay import ReplayError
    from ledger.audit.state_file import write_state
    from ledger.remote import Ledger, RemoteError

    progress = Progress("replay")
    point = {
        "to_position": args.to_position,
        "as_of": args.as_of or args.known_at,
        "business_date": args.business_date,
        "progress": progress,
    }
    try:
        async with contextlib.AsyncExitStack() as stack:
            ledger = None
            if args.url is not None:
                ledger = await stack.enter_async_context(Ledger(args.url, args.api_key))
            if args.from_export is None:
                assert ledger is not None
                assert log_key is not None
                fold = await replay_remote(ledger, log_key, **point)
            else:
                source = stack.enter_context(opened(args.from_export))
                fold = await replay_export(
                    source, ledger=ledger, log_key=log_key, warn=_warn, **point
                )
    except (ReplayError, UnsignedCheckpoint, RemoteError) as exc:
        raise CommandError(str(exc)) from None
    except LookupError as exc:
        raise out_of_business_order(args.business_date, exc) from None
    with output_to(args.out) as stream:
        write_state(fold, stream)
    progress.finish(f"replayed {fold.position} events to position {fold.position}", fold.position)
    return 0


def _warn(message: str) -> None:
    import sys

    print(message, file=sys.stderr)


def run_verify(args: argparse.Namespace) -> int:
    """Verify over HTTP; print as the DSN verify does; exit 1 when not ok."""
    if args.digest is not None or args.through is not None:
        raise CommandError("--digest and --through need a DSN; --url verifies to a checkpoint", 2)
    _need_url(args)
    return asyncio.run(_verify(args, pinned_log_key(args)))


async def _verify(args: argparse.Namespace, log_key: Verifier | None) -> int:
    from ledger.audit import remote_state
    from ledger.audit.progress import Progress
    from ledger.audit.remote_verify import UnsignedCheckpoint, verify_remote
    from ledger.audit.verify import verified_line
    from ledger.remote import Ledger, RemoteError

    assert log_key is not None
    state_path = None if args.state is None else Path(args.state)
    try:
        state = None if state_path is None else remote_state.load(state_path)
    except remote_state.StateFileError as exc:
        raise CommandError(str(exc), exit_code=2) from None
    if state is not None and state.origin != log_key.name:
        raise CommandError(f"{state_path} is the state of log {state.origin}, not this one", 2)
    if state_path is not None and not state_path.resolve().parent.is_dir():
        # Said before verifying, not after an hour's reading has nowhere to be kept.
        raise CommandError(f"cannot keep the state in {state_path}: no such directory", 2)
    progress = Progress("verify")
    try:
        async with Ledger(args.url, args.api_key) as ledger:
            done = await verify_remote(ledger, log_key, state, progress)
    except UnsignedCheckpoint as exc:
        print(f"NOT OK: {exc}")
        return 1
    except RemoteError as exc:
        raise CommandError(str(exc)) from None
    report = done.report
    if args.json:
        print(json.dumps({**report.to_json(), "checkpoint_size": done.checkpoint.size}))
    elif report.ok:
        print(
            f"ok: verified positions 1 to {report.verified_through} against the checkpoint "
            f"the log signed at size {done.checkpoint.size}"
        )
        read = report.verified_through - done.read_from + 1
        print(
            f"read {read} event{'' if read == 1 else 's'}"
            + (f" (positions {done.read_from} to {report.verified_through})" if read else "")
        )
        print(f"digest: {report.verified_through}:{report.head_hash}")
    else:
        print(f"NOT OK: first bad position {report.first_bad_position} ({report.problem})")
        print(f"reason: {report.reason}")
        print(verified_line(report.verified_through))
    if done.verified is not None and state_path is not None:
        try:
            remote_state.save(state_path, done.verified)
        except OSError as exc:
            said = f"cannot write the state file {state_path}: {exc.strerror}"
            raise CommandError(said) from None
    read = max(0, report.verified_through - done.read_from + 1)
    if report.ok:
        progress.finish(f"verified {read} events", read)
    else:
        progress.finish(f"NOT OK after {read} good events", read)
    return 0 if report.ok else 1
