"""`ledger serve`: migrate, print a first admin key on a new store, serve HTTP until stopped."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import asyncpg
import structlog
from aiohttp import web

from ledger import projection_process
from ledger.auth.keys import count_keys, create_key
from ledger.collector import set_aside_start_up
from ledger.commands import CommandError
from ledger.config import Settings
from ledger.http import unreadable
from ledger.http.app import create_app
from ledger.logs import configure_logging
from ledger.store.identity import IdentityError, check_new_origin, establish
from ledger.store.migrate import migrate
from ledger.store.signed_memory import memory_path
from ledger.tlog.keys import Signer

log = structlog.get_logger("ledger.service")


async def prepare_store(dsn: str) -> str | None:
    """Apply migrations (as the DSN's user, the schema owner); on a store with no keys at all,
    create the first admin key and return it."""
    conn = await asyncpg.connect(dsn, timeout=30)
    try:
        applied = await migrate(conn)
        if applied:
            log.info("migrations applied", versions=applied)
        # The advisory lock makes "no keys yet" and the insert one step across instances.
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('api_keys', 0))")
            if await count_keys(conn) > 0:
                return None
            return (await create_key(conn, role="admin")).key
    finally:
        await conn.close()


async def log_signer(dsn: str, settings: Settings) -> Signer:
    """The log's signing key for this store (created on a brand-new one), or CommandError."""
    conn = await asyncpg.connect(dsn, timeout=30)
    try:
        return await establish(conn, settings.key_file, settings.log_origin)
    except IdentityError as exc:
        raise CommandError(str(exc)) from None
    finally:
        await conn.close()


def _stop_on_signals(stop: asyncio.Event) -> dict[signal.Signals, Any]:
    """Set `stop` on SIGINT/SIGTERM; return the handlers they replaced."""
    loop = asyncio.get_running_loop()
    replaced = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        replaced[sig] = previous
    return replaced


def _restore_signals(replaced: dict[signal.Signals, Any]) -> None:
    # The caller's handlers (`ledger serve` turns SIGTERM into KeyboardInterrupt) apply
    # again while it stops the embedded database.
    loop = asyncio.get_running_loop()
    for sig, previous in replaced.items():
        loop.remove_signal_handler(sig)
        signal.signal(sig, previous)


async def run_service(settings: Settings, dsn: str) -> None:
    """Migrate, announce a first admin key on a brand-new store, serve until SIGINT/SIGTERM."""
    configure_logging(settings.log_format)
    if settings.log_origin is not None and not settings.key_file.exists():
        # Before anything is written: a new store's first admin key is shown only once.
        try:
            check_new_origin(settings.log_origin)
        except IdentityError as exc:
            raise CommandError(str(exc), 2) from None
    first_key = await prepare_store(dsn)
    if first_key is not None:
        # Printed once, to stdout (logs go to stderr): only its hash is stored. Printed
        # at once, as it is stored: should the start fail after this (a key file it
        # cannot read, a port in use), the next start makes none.
        print("New ledger: an admin API key was created. It is shown only now, keep it safe:")
        print(f"LEDGER ADMIN KEY: {first_key}", flush=True)
    signer = await log_signer(dsn, settings)
    # "verifier", not "verifier_key": a field named like a key is redacted, and this one
    # is public, for witnesses and verifiers to take from the log.
    log.info("log identity", origin=signer.name, verifier=signer.verifier().encode())
    stop = asyncio.Event()
    installed = _stop_on_signals(stop)
    # The read models' runner works in its own process (see ledger/projection_process.py).
    app = create_app(
        dsn,
        projections=False,
        signer=signer,
        signed_memory=memory_path(settings.key_file),
        read_dsns=settings.read_database_urls,
        read_max_lag=settings.read_max_lag_s,
    )
    projector = projection_process.Runner(dsn)
    await projector.start()
    runner = unreadable.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        # What start-up built (modules, the app, the pool) lives as long as the
        # process: set it aside from the collector, so that a full collection
        # walks only what serving made since. Left in, each one walked it all
        # and stalled every post in flight for up to 45 ms.
        set_aside_start_up()
        log.info("serving", url=f"http://{settings.host}:{settings.port}")
        await stop.wait()
        log.info("stopping")
    finally:
        await runner.cleanup()
        await projector.stop()
        _restore_signals(installed)
