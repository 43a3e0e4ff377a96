"""`ledger demo [--url URL] [--key KEY]`: load the sample scenario through the HTTP API."""

from __future__ import annotations

import argparse
import asyncio
import os

from ledger.commands import CommandError, Subparsers
from ledger.config import Settings

ADMIN_KEY_VAR = "LEDGER_ADMIN_KEY"


def register(subparsers: Subparsers) -> None:
    """Add `ledger demo`."""
    parser = subparsers.add_parser(
        "demo",
        help="load a sample scenario through the HTTP API",
        description=(
            "Post a year of business dated across 2025 to a running ledger: the seed "
            "institutions and programs, SMEs with eligibilities, guarantees issued in Q1 and "
            "Q2, a repayment, a renewal, a release, a default in Q3, its compensation in Q4, "
            "a recovery in 2026-Q1, the guarantor's statement filed for 2025-Q2 and then a "
            "June repayment reported late into it. Keys cannot be created over HTTP, so the "
            "demo creates "
            "the institutions' keys in the ledger's database (LEDGER_DATABASE_URL or the "
            "embedded PostgreSQL), and an admin key too unless --key or "
            f"${ADMIN_KEY_VAR} gives one. Running it again posts the same events: "
            "nothing is stored twice."
        ),
    )
    parser.add_argument("--url", help="the service (default http://$LEDGER_HOST:$LEDGER_PORT)")
    parser.add_argument("--key", help=f"an admin key (default ${ADMIN_KEY_VAR})")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Create the keys it needs, then post the scenario step by step."""
    from ledger.auth.dsn import resolve_dsn

    url = (args.url or f"http://{settings.host}:{settings.port}").rstrip("/")
    admin_key = args.key or os.environ.get(ADMIN_KEY_VAR) or None
    with resolve_dsn(settings, create=False) as dsn:
        return asyncio.run(_run(url, admin_key, dsn))


async def _run(url: str, admin_key: str | None, dsn: str) -> int:
    import aiohttp
    import asyncpg

    from ledger.auth.keys import create_key
    from ledger.demo import DemoFailed, database_keys, run_demo

    made: list[str] = []  # the keys made for the demo alone, revoked once it is done
    make_keys = database_keys(dsn)

    async def institution_keys(institutions: list[str]) -> dict[str, str]:
        try:
            keys = await make_keys(institutions)
        except (OSError, TimeoutError) as exc:
            raise _DatabaseAway(exc) from exc
        made.extend(keys.values())
        return keys

    try:
        try:
            if admin_key is None:
                try:
                    conn = await asyncpg.connect(dsn, timeout=10)
                except (OSError, TimeoutError) as exc:
                    raise _DatabaseAway(exc) from exc
                try:
                    admin_key = (await create_key(conn, role="admin")).key
                finally:
                    await conn.close()
                made.append(admin_key)
            stored = await run_demo(url, admin_key, institution_keys)
        finally:
            await _revoke(dsn, made)
    except DemoFailed as exc:
        raise CommandError(f"the ledger refused the demo: {exc}") from None
    except _DatabaseAway as exc:
        raise CommandError(f"cannot reach the ledger's database: {exc.__cause__}") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise CommandError(f"cannot reach the ledger at {url}: {exc}") from None
    except asyncpg.UndefinedTableError:
        raise CommandError(
            "this database holds no ledger yet (the demo posts to a running `ledger serve`; "
            "give it the service's LEDGER_DATA_DIR or LEDGER_DATABASE_URL)"
        ) from None
    except asyncpg.PostgresError as exc:
        raise CommandError(f"cannot create the demo's keys: {exc}") from None
    print(f"demo loaded into {url}: {stored} new events")
    return 0


class _DatabaseAway(Exception):
    """The database, where the demo makes its keys, could not be reached (not the HTTP
    service, whose connection errors are OSErrors too)."""


async def _revoke(dsn: str, keys: list[str]) -> None:
    """Revoke the keys the demo made for itself: nobody was shown them, so none should
    stay usable (or pile up active, run after run)."""
    if not keys:
        return
    import asyncpg

    from ledger.auth.keys import revoke_key, split_key

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for key in keys:
            parts = split_key(key)
            if parts is not None:
                await revoke_key(conn, parts[0])
    finally:
        await conn.close()
