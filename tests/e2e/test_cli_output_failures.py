"""A `ledger` command whose output cannot be written, or whose database setting cannot be
used, says so in one line, with no traceback."""

from __future__ import annotations

import asyncio
import os
import socket

import asyncpg
import pytest

from bench.service import LEDGER
from ledger.auth.keys import create_key
from tests import pg
from tests.e2e.ledger_cli import run_ledger


@pytest.fixture
async def keyed_dsn(db_dsn: str) -> str:
    """A ledger with one key, so that `ledger keys list` has a line to write."""
    conn = await asyncpg.connect(db_dsn)
    try:
        await create_key(conn, role="auditor")
    finally:
        await conn.close()
    return db_dsn


async def _run_into(stdout: int, dsn: str, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *LEDGER,
        *args,
        env={**os.environ, "LEDGER_DATABASE_URL": dsn},
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_an_output_closed_before_the_command_writes_is_one_line(keyed_dsn: str) -> None:
    read, write = os.pipe()
    os.close(read)  # like `| head` that has already had its fill
    try:
        code, err = await _run_into(write, keyed_dsn, "keys", "list")
    finally:
        os.close(write)
    assert code == 1
    assert err == "ledger: error: standard output was closed before everything was written\n"


async def test_a_full_output_is_one_line(keyed_dsn: str) -> None:
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        code, err = await _run_into(full, keyed_dsn, "keys", "list")
    finally:
        os.close(full)
    assert code == 1
    assert err == "ledger: error: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("args", [["audit", "verify"], ["keys", "list"], ["log-key"]])
async def test_a_dsn_option_asyncpg_refuses_is_one_line_for_every_command(
    db_dsn: str, args: list[str]
) -> None:
    ran = await run_ledger(*args, LEDGER_DATABASE_URL=db_dsn + "?sslmode=bogus")
    assert ran.code == 1
    assert "ledger: error: LEDGER_DATABASE_URL is not usable: `sslmode`" in ran.err
    assert "Traceback" not in ran.err


async def test_a_standby_that_refuses_is_named_with_why_in_one_line(db_dsn: str) -> None:
    refusing = pg.with_database(db_dsn, "no_such_standby_db")
    ran = await run_ledger(
        "audit",
        "verify",
        "--standby",
        LEDGER_DATABASE_URL=db_dsn,
        LEDGER_READ_DATABASE_URL=refusing,
    )
    assert ran.code == 1
    assert "no standby of LEDGER_READ_DATABASE_URL can be read" in ran.err
    assert 'database "no_such_standby_db" does not exist' in ran.err
    assert "Traceback" not in ran.err


async def test_the_demo_names_the_database_when_it_is_the_database_that_is_away() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    ran = await run_ledger(
        "demo",
        "--url",
        "http://127.0.0.1:9",
        LEDGER_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/ledger",
    )
    assert ran.code == 1
    assert "ledger: error: cannot reach the ledger's database" in ran.err
    assert "127.0.0.1:9" not in ran.err
