"""`ledger projections rebuild [NAME]`: rebuild read models from position 1 and swap them in."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TYPE_CHECKING, TextIO

from ledger.commands import CommandError, Subparsers
from ledger.config import Settings
from projections.registry import PROJECTIONS

if TYPE_CHECKING:
    from projections.rebuild import Progress


def register(subparsers: Subparsers) -> None:
    """Add `ledger projections rebuild [NAME]`."""
    parser = subparsers.add_parser(
        "projections",
        help="manage the read models",
        description="Manage the read models (projections) that follow the event log.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    rebuild = actions.add_parser(
        "rebuild",
        help="rebuild read models from the first event and swap them in",
        description=(
            "Rebuild one read model (or all) from position 1 beside the live one, then swap "
            "it in at once: readers never see it empty or half built, and posting and the "
            "projection runner go on meanwhile. Progress goes to stderr."
        ),
    )
    rebuild.add_argument(
        "name",
        nargs="?",
        choices=list(PROJECTIONS),
        metavar="NAME",
        help=f"the read model to rebuild (default: all): {', '.join(PROJECTIONS)}",
    )
    rebuild.add_argument(
        "--batch-size", type=int, default=1000, help="events per transaction (default 1000)"
    )
    rebuild.set_defaults(handler=run_rebuild)


class ProgressLine:
    """One self-rewriting stderr line: position, head, percent and events per second."""

    def __init__(self, out: TextIO | None = None) -> None:
        """Write to `out` (stderr by default)."""
        # Looked up now, not at import: stderr may have been replaced since.
        self._out = sys.stderr if out is None else out
        self._last = 0.0

    def __call__(self, progress: Progress) -> None:
        """Show a rebuild's progress (at most ten times a second)."""
        now = time.monotonic()
        position, head, rate = progress.position, progress.head, progress.rate
        if now - self._last < 0.1 and position < head:
            return
        self._last = now
        percent = 100 * position // head if head else 100
        self._out.write(
            f"\rrebuild: {position}/{head} events ({percent}%), {rate:,.0f} events/s   "
        )
        self._out.flush()


async def _rebuild(dsn: str, names: list[str] | None, batch_size: int) -> int:
    import asyncpg

    from ledger.collector import set_aside_start_up
    from ledger.runtime import connect
    from ledger.store.migrate import migrate_existing
    from projections.rebuild import RebuildBusy, rebuild
    from projections.registry import select

    # A rebuild walks the whole log: keep its collections short.
    set_aside_start_up()
    owner = await asyncpg.connect(dsn)
    try:
        await migrate_existing(owner)
    finally:
        await owner.close()
    conn = await connect(dsn)
    try:
        return await rebuild(
            conn,
            select(names),
            batch_size=batch_size,
            progress=ProgressLine(),
            connect=lambda: connect(dsn),
        )
    except RebuildBusy as exc:
        raise CommandError(str(exc)) from None
    finally:
        await conn.close()


def run_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the named read model (or all) and print where it reached."""
    from ledger.auth.dsn import resolve_dsn

    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1", 2)
    names = None if args.name is None else [args.name]
    started = time.monotonic()
    with resolve_dsn(settings, create=False) as dsn:
        try:
            position = asyncio.run(_rebuild(dsn, names, args.batch_size))
        except OSError as exc:
            raise CommandError(f"cannot reach the database: {exc}") from None
    elapsed = time.monotonic() - started
    print(file=sys.stderr)
    print(
        f"rebuilt {args.name or 'all read models'} through position {position} in {elapsed:.1f} s"
    )
    return 0
