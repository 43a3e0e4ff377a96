"""`ledger project`: run only the projection runner, apart from the HTTP service."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from ledger import aio
from ledger.commands import CommandError, Subparsers
from ledger.config import Settings


def register(subparsers: Subparsers) -> None:
    """Add `ledger project`."""
    parser = subparsers.add_parser(
        "project",
        help="keep the read models up to date (without serving HTTP)",
        description=(
            "Follow the event log and keep the read models up to date, without the HTTP "
            "service, so readers and writers scale apart. Any number may run: each read "
            "model is kept by one runner at a time, and another takes over if it stops."
        ),
    )
    parser.set_defaults(handler=run)


async def _follow(dsn: str) -> None:
    import asyncpg
    import structlog

    from ledger.collector import set_aside_start_up
    from ledger.store.migrate import migrate_existing
    from projections.runner import ProjectionRunner

    owner = await asyncpg.connect(dsn)
    try:
        await migrate_existing(owner)
    finally:
        await owner.close()
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    structlog.get_logger("ledger.project").info("projections.following")
    # The runner follows the log for as long as the service runs: as there, keep
    # its full collections off what start-up built.
    set_aside_start_up()
    with contextlib.suppress(asyncio.CancelledError):
        await ProjectionRunner(dsn).run()


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Follow the log until interrupted (Ctrl-C or SIGTERM)."""
    from ledger.auth.dsn import resolve_dsn

    with resolve_dsn(settings, create=False) as dsn:
        try:
            aio.run(_follow(dsn))
        except KeyboardInterrupt:
            return 0
        except OSError as exc:
            raise CommandError(f"cannot reach the database: {exc}") from None
    return 0
