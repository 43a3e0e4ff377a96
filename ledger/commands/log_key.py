"""`ledger log-key`: print the log's verifier key, to pin before checking any proof."""

from __future__ import annotations

import argparse
import asyncio

from ledger.commands import CommandError, Subparsers
from ledger.config import Settings


def register(subparsers: Subparsers) -> None:
    """Add `ledger log-key`."""
    parser = subparsers.add_parser(
        "log-key",
        help="print the log's verifier key",
        description="Print the verifier key of the log's checkpoints "
        "(<origin>+<8 hex>+<base64>), as the store recorded it when first started.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the recorded verifier key."""
    from ledger.auth.dsn import resolve_dsn

    with resolve_dsn(settings, create=False) as dsn:
        key = asyncio.run(_recorded(dsn))
    if key is None:
        raise CommandError("this store has no log key yet: start it once with `ledger serve`")
    print(key)
    return 0


async def _recorded(dsn: str) -> str | None:
    import asyncpg

    from ledger.store.identity import recorded

    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise CommandError(f"cannot reach the ledger's database: {exc}") from None
    try:
        known = await recorded(conn)
    finally:
        await conn.close()
    return None if known is None else known.verifier_key
