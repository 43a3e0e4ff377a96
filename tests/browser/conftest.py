"""Browser fixtures: the ledger served with the demo loaded, and one headless Chromium.

The browser is the system's Chromium (Debian's `chromium` package), driven by
Playwright for Python; Playwright's own browser download is not used. Without a
Chromium every browser test is skipped with the reason, and `make test` says so.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from aiohttp import web

from ledger.auth.keys import create_key
from ledger.demo import database_keys, run_demo
from ledger.http.app import create_app
from ledger.seeds import (
    BANK_ID,
    GUARANTOR_ID,
    NATIONAL_FUND_ID,
    POOL_ID,
    REGUARANTOR_ID,
    REVIEWER_ID,
)
from ledger.store.identity import establish
from ledger.store.reads import head_position
from tests import pg
from tests.required import cannot_run

CHROMIUM = os.environ.get("LEDGER_CHROMIUM", "/usr/bin/chromium")
"""The Chromium the browser tests drive (LEDGER_CHROMIUM overrides the Debian path)."""


def skip_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM}: install Debian's chromium, or set LEDGER_CHROMIUM"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


@dataclass
class LiveLedger:
    """The ledger answering on a real port, the demo loaded, and keys of several roles."""

    url: str
    keys: dict[str, str] = field(default_factory=dict)
    head: int = 0
    """The log's last position once the demo is loaded."""
    dsn: str = ""
    """Its database, for the tests that make or revoke a key."""


async def _log_signer(dsn: str, workdir: Path) -> dict[str, Any]:
    # The log's signing key, established as `ledger serve` does (docs/verifiable-log.md).
    conn = await asyncpg.connect(dsn)
    try:
        return {"signer": await establish(conn, workdir / "log-signing.key", None)}
    finally:
        await conn.close()


async def _serve(dsn: str, workdir: Path) -> tuple[web.AppRunner, str]:
    # The live feed's long polls are still open when the session ends: not waited for.
    app = create_app(dsn, pool_size=4, projections=True, **await _log_signer(dsn, workdir))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def _keys_for_demo(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return (await create_key(conn, role="admin")).key
    finally:
        await conn.close()


async def _keys(dsn: str) -> dict[str, str]:
    # Made after the demo: institution keys need their institutions registered.
    conn = await asyncpg.connect(dsn)
    try:
        made = {r: (await create_key(conn, role=r)).key for r in ("admin", "auditor", "reader")}
        for inst in (GUARANTOR_ID, BANK_ID, REGUARANTOR_ID, NATIONAL_FUND_ID, POOL_ID, REVIEWER_ID):
            made[inst] = (await create_key(conn, institution_id=inst)).key
        return made
    finally:
        await conn.close()


async def _demo(url: str, dsn: str, admin: str) -> None:
    await run_demo(url, admin, database_keys(dsn), say=lambda _: None)


async def _head(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await head_position(conn)
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def ledger(
    pg_admin_dsn: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveLedger]:
    """One ledger for the whole browser session, with the demo loaded (the pages are read,
    never written, by the tests)."""
    reason = skip_reason()
    if reason:
        cannot_run(reason)
    name = await pg.create_database(pg_admin_dsn, pg_template)
    dsn = pg.with_database(pg_admin_dsn, name)
    runner, url = await _serve(dsn, tmp_path_factory.mktemp("ledger"))
    try:
        await _demo(url, dsn, await _keys_for_demo(dsn))
        yield LiveLedger(url=url, keys=await _keys(dsn), head=await _head(dsn), dsn=dsn)
    finally:
        await runner.cleanup()
        await pg.drop_database(pg_admin_dsn, name)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the whole session; each test opens its own context."""
    reason = skip_reason()
    if reason:
        cannot_run(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()
