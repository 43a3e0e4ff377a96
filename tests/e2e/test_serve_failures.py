"""`ledger serve` that cannot start says why in one line, with no traceback."""

from __future__ import annotations

import socket
from pathlib import Path

from tests import pg
from tests.e2e.ledger_cli import run_ledger


async def test_a_database_that_does_not_answer_is_one_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    ran = await run_ledger(
        "serve", LEDGER_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/ledger"
    )
    assert ran.code == 1
    assert "ledger: error: cannot reach the ledger's database" in ran.err
    assert "Traceback" not in ran.err


async def test_a_database_that_does_not_exist_is_one_line(pg_admin_dsn: str) -> None:
    ran = await run_ledger(
        "serve", LEDGER_DATABASE_URL=pg.with_database(pg_admin_dsn, "no_such_ledger_db")
    )
    assert ran.code == 1
    assert 'database "no_such_ledger_db" does not exist' in ran.err
    assert "Traceback" not in ran.err


async def test_a_port_in_use_is_one_line(db_dsn: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = await run_ledger("serve", "--port", str(port), LEDGER_DATABASE_URL=db_dsn)
    assert ran.code == 1
    assert f"cannot listen on 127.0.0.1:{port}: the address is in use" in ran.err
    assert "Traceback" not in ran.err


async def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "not-a-dir"
    taken.write_text("x")
    ran = await run_ledger("serve", LEDGER_DATA_DIR=str(taken), LEDGER_DATABASE_URL="")
    assert ran.code == 1
    assert "ledger: error: cannot use" in ran.err
    assert "Traceback" not in ran.err
