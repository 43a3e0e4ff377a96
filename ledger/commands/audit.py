"""`ledger audit`: digest, verify, replay, export and import the ledger's history."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt

from ledger.commands import CommandError, Subparsers
from ledger.commands._audit_remote import add_remote_options, is_remote
from ledger.config import Settings

_MOMENT_FORM = "RFC 3339, e.g. 2025-03-01T10:00:00+08:00; without an offset, Asia/Shanghai time"
_AS_OF_HELP = (
    "the ledger as it stood at this moment: the log up to its first event recorded after "
    f"it (with --business-date, the same as --known-at). {_MOMENT_FORM}"
)


def register(subparsers: Subparsers) -> None:
    """Add `ledger audit digest|verify|replay|decisions|export|import`."""
    parser = subparsers.add_parser(
        "audit",
        help="verify, replay, export and import the ledger's history",
        description="Audit the ledger from its events alone. Every command reads "
        "LEDGER_DATABASE_URL, or the embedded PostgreSQL in LEDGER_DATA_DIR, like `serve`. "
        "Long runs show progress (events/s) on stderr.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    digest = actions.add_parser(
        "digest",
        help="print POSITION:HASH of the head of the log, to keep",
        description="Print POSITION:HASH of the head of the log. Keep it: "
        "`ledger audit verify --digest POSITION:HASH` later proves that nothing up to "
        "that position was rewritten. Verify first to know the head is sound.",
    )
    digest.set_defaults(handler=run, action="digest")

    verify = actions.add_parser(
        "verify",
        help="recompute the hash chain; exit 1 naming the first bad position",
        description="Recompute the SHA-256 chain from the stored bytes of every event, check "
        "every value stored beside them (stream, version, type, times, fingerprint) against "
        "them, and name the first position that was changed, removed or reordered (exit "
        "code 1). See docs/audit.md.",
    )
    verify.add_argument(
        "--digest",
        metavar="POSITION:HASH",
        type=_digest,
        help="a digest taken earlier: prove nothing up to its position was rewritten",
    )
    verify.add_argument("--through", metavar="N", type=_first_position, help="stop at position N")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    add_remote_options(verify)
    verify.add_argument(
        "--state",
        metavar="FILE",
        help="with --url: remember what was verified here, and next time prove the new "
        "checkpoint consistent with it and read only the new events",
    )
    verify.set_defaults(handler=run, action="verify")

    replay = actions.add_parser(
        "replay",
        help="rebuild every read model at a position or moment, as JSON",
        description="Rebuild every read model in memory from the events alone (streamed "
        "from verified history) and write them as JSON: {position, read_models: "
        "{name: {key: document}}}. With --compare, replay to the positions the live read "
        "models reflect and list every difference, in their documents and in the rows "
        "statements and as-of reads sum (exit code 1 if any).",
    )
    point = replay.add_mutually_exclusive_group()
    point.add_argument("--to-position", metavar="N", type=_position, help="after position N")
    point.add_argument("--as-of", metavar="TIMESTAMP", type=_timestamp, help=_AS_OF_HELP)
    replay.add_argument(
        "--business-date",
        metavar="DATE",
        type=_date,
        help="the books as of the end of this business day (YYYY-MM-DD, Asia/Shanghai): "
        "only the events whose occurred_at falls on or before it",
    )
    replay.add_argument(
        "--known-at",
        metavar="TIMESTAMP",
        type=_timestamp,
        help="with --business-date: as known at this moment, counting every event "
        f"recorded at or before it (--as-of means the same). {_MOMENT_FORM}",
    )
    replay.add_argument("--out", metavar="FILE", help="write the JSON here (default stdout)")
    replay.add_argument(
        "--compare", action="store_true", help="compare the live read models with a replay"
    )
    add_remote_options(replay, export=True)
    replay.set_defaults(handler=run, action="replay")

    decisions = actions.add_parser(
        "decisions",
        help="decide every event again; compare the rules' decision state with it",
        description="Fold the whole log through the rules from an empty state, as an import "
        "does, and compare the decision state the service decides posts against (the w_* "
        "tables, the streams' versions and business times) with the result, in one "
        "snapshot. Names the first event the rules now refuse or derive other facts from, "
        "or every stored row that differs (exit code 1). See docs/audit.md.",
    )
    decisions.add_argument(
        "--rebuild",
        action="store_true",
        help="write the decision state the log gives in place of the stored one, all or "
        "nothing (stop `ledger serve` first; the log itself is not touched)",
    )
    decisions.set_defaults(handler=run, action="decisions")

    export = actions.add_parser(
        "export",
        help="write the log as NDJSON",
        description="Write the log as NDJSON, one line per event in position order: "
        '{"position":N,"hash":"<hex>","fingerprint":"<hex>","event":<stored bytes>}. '
        "The stored bytes are canonical JSON embedded verbatim, so the raw text of "
        '"event" is exactly what the chain hashes. Every link is checked on the way.',
    )
    export.add_argument("--out", metavar="FILE", help="write here (default stdout)")
    export.set_defaults(handler=run, action="export")

    for reading in (digest, verify, replay, decisions, export):
        reading.add_argument(
            "--standby",
            action="store_true",
            help="read from a hot standby (the first of LEDGER_READ_DATABASE_URL that "
            "answers) instead of the primary; the command writes nothing",
        )

    load = actions.add_parser(
        "import",
        help="load an export into an empty ledger",
        description="Load an export into an empty ledger (refused otherwise) as the "
        "database's owner: same positions, same bytes, same hash chain, checked link by "
        "link; the rules' decision state is rebuilt by deciding every event again. All "
        "or nothing. Stop `ledger serve` on that database first.",
    )
    load.add_argument("file", metavar="FILE", help="an export written by `ledger audit export`")
    load.add_argument(
        "--without-log",
        action="store_true",
        help="import a file that does not end with the log line `ledger audit export` writes "
        "(one read over GET /v1/audit/export, or from a ledger that had no log yet); "
        "without it such a file is refused, as one cut short would be",
    )
    load.set_defaults(handler=run, action="import")

    from ledger.commands._audit_log import register_log_actions

    register_log_actions(actions)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one audit action against the ledger's database (or, with --url, its HTTP API)."""
    from ledger.auth.dsn import resolve_dsn

    if args.action == "replay":
        _check_point(args)
    if is_remote(args):
        from ledger.commands import _audit_remote

        return _audit_remote.run(args)
    if getattr(args, "state", None) is not None:
        raise CommandError("--state goes with --url", exit_code=2)
    if args.action == "replay" and getattr(args, "log_key", None) is not None:
        raise CommandError("--log-key goes with --url or --from-export", exit_code=2)

    point = args.action == "replay" and (
        args.to_position is not None or args.as_of is not None or args.business_date is not None
    )
    if args.action == "replay" and args.compare and point:
        raise CommandError(
            "--compare replays to the positions the live read models reflect", exit_code=2
        )
    if args.action == "replay" and not args.compare and not point:
        raise CommandError(
            "give --to-position N, --as-of TIMESTAMP or --business-date DATE (or --compare)",
            exit_code=2,
        )
    args.key_file = settings.key_file
    if getattr(args, "rebuild", False) and args.standby:
        raise CommandError("--rebuild writes: it goes to the primary, not --standby", 2)
    if getattr(args, "standby", False):
        return _dispatch(args, _standby_dsn(settings))
    # An import is what makes a ledger from a file: the one action that may create a store.
    with resolve_dsn(settings, create=args.action == "import") as dsn:
        return _dispatch(args, dsn)


def _through(args: argparse.Namespace) -> int | None:
    """--through, unless it stops before --digest's position, which it cannot check."""
    through: int | None = args.through
    if through is not None and args.digest is not None and through < args.digest[0]:
        raise CommandError(
            f"--through {through} stops before the digest's position {args.digest[0]}: "
            "give --through at or past it, or leave it out",
            exit_code=2,
        )
    return through


def _pinned(args: argparse.Namespace) -> str | None:
    """The log key pinned with --log-key, in its canonical text (the remote audits' parse)."""
    from ledger.commands._audit_remote import pinned_log_key

    key = pinned_log_key(args, needed=False) if hasattr(args, "log_key") else None
    return None if key is None else key.encode()


def _check_point(args: argparse.Namespace) -> None:
    """Refuse a replay's point options that do not go together (with a DSN or without)."""
    if args.known_at is not None and args.business_date is None:
        raise CommandError("--known-at goes with --business-date (alone, use --as-of)", 2)
    if args.business_date is not None and args.to_position is not None:
        raise CommandError(
            "--business-date goes with --known-at (or --as-of), not --to-position", 2
        )
    if args.known_at is not None and args.as_of is not None:
        raise CommandError("--known-at and --as-of mean the same: give one", 2)


def _standby_dsn(settings: Settings) -> str:
    """The first standby of LEDGER_READ_DATABASE_URL that answers; named on stderr."""
    import sys

    from ledger.standbys import display_name, first_answering

    if not settings.read_database_urls:
        raise CommandError("--standby reads from LEDGER_READ_DATABASE_URL, which is not set", 2)
    refused: list[str] = []
    found = asyncio.run(first_answering(settings.read_database_urls, refused))
    if found is None:
        raise CommandError(
            f"no standby of LEDGER_READ_DATABASE_URL can be read ({'; '.join(refused)})"
        )
    dsn, in_recovery = found
    note = "" if in_recovery else " (it is not in recovery: a primary, not a standby)"
    print(f"reading from {display_name(dsn)}{note}", file=sys.stderr)
    return dsn


def _dispatch(args: argparse.Namespace, dsn: str) -> int:
    from ledger.audit import actions
    from ledger.collector import set_aside_start_up

    # Replay, verify and export walk the whole log: keep their collections short.
    set_aside_start_up()
    match args.action:
        case "digest":
            return asyncio.run(actions.digest(dsn))
        case "verify":
            return asyncio.run(
                actions.verify(dsn, args.digest, _through(args), args.json, _pinned(args))
            )
        case "replay" if args.compare:
            return asyncio.run(actions.compare(dsn))
        case "replay":
            return asyncio.run(
                actions.replay_state(
                    dsn,
                    args.to_position,
                    args.as_of or args.known_at,
                    args.out,
                    business_date=args.business_date,
                )
            )
        case "decisions" if args.rebuild:
            return asyncio.run(actions.rebuild_decisions(dsn))
        case "decisions":
            return asyncio.run(actions.decisions(dsn))
        case "export":
            return asyncio.run(actions.export(dsn, args.out))
        case _:
            with actions.opened(args.file) as source:
                return asyncio.run(
                    actions.import_file(dsn, source, args.key_file, without_log=args.without_log)
                )


def _digest(value: str) -> tuple[int, bytes]:
    from ledger.audit.verify import parse_digest

    try:
        return parse_digest(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _position(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"a position is a whole number, not {value!r}")
    return int(value)


def _first_position(value: str) -> int:
    """A position to verify through: the log starts at 1 (GET /v1/audit/verify agrees)."""
    position = _position(value)
    if position < 1:
        raise argparse.ArgumentTypeError("positions start at 1: nothing is verified through 0")
    return position


def _timestamp(value: str) -> dt.datetime:
    from ledger.audit.replay import parse_as_of

    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a date is YYYY-MM-DD, not {value!r}") from None
