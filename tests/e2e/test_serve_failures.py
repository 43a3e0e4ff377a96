"""`ledger serve` that cannot start says why in one line, with no traceback."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import asyncpg

from ledger.auth.keys import split_key
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


async def test_a_listen_address_that_names_nothing_is_one_line_about_listening(
    db_dsn: str,
) -> None:
    ran = await run_ledger("serve", LEDGER_DATABASE_URL=db_dsn, LEDGER_HOST="not a host")
    assert ran.code == 1
    assert "ledger: error: cannot listen on not a host:" in ran.err
    assert "database" not in ran.err
    assert "Traceback" not in ran.err


async def test_an_address_of_another_machine_is_one_line(db_dsn: str, tmp_path: Path) -> None:
    ran = await run_ledger(
        "serve",
        LEDGER_DATABASE_URL=db_dsn,
        LEDGER_HOST="192.0.2.1",  # TEST-NET-1: no interface here has it
        LEDGER_SIGNING_KEY_FILE=str(tmp_path / "log.key"),
    )
    assert ran.code == 1
    assert "ledger: error: cannot listen on 192.0.2.1:" in ran.err
    assert "Traceback" not in ran.err


async def test_a_dsn_option_asyncpg_refuses_is_one_line(db_dsn: str) -> None:
    ran = await run_ledger("serve", LEDGER_DATABASE_URL=db_dsn + "?sslmode=bogus")
    assert ran.code == 1
    assert "ledger: error: LEDGER_DATABASE_URL is not usable: `sslmode`" in ran.err
    assert "Traceback" not in ran.err


async def test_a_dsn_setting_the_database_refuses_is_one_line(db_dsn: str) -> None:
    ran = await run_ledger("serve", LEDGER_DATABASE_URL=db_dsn + "?no_such_setting=1")
    assert ran.code == 1
    assert "refused a setting of LEDGER_DATABASE_URL" in ran.err
    assert "Traceback" not in ran.err


async def test_a_signing_key_file_of_binary_bytes_is_one_line(db_dsn: str, tmp_path: Path) -> None:
    key = tmp_path / "log.key"
    key.write_bytes(b"\xd9\x00\xff" * 30)
    ran = await run_ledger("serve", LEDGER_DATABASE_URL=db_dsn, LEDGER_SIGNING_KEY_FILE=str(key))
    assert ran.code == 1
    assert "is not a signed-note private key: it is not UTF-8 text" in ran.err
    assert "Traceback" not in ran.err


async def test_an_origin_no_new_log_can_have_is_refused_before_the_store_is_touched(
    db_dsn: str, tmp_path: Path
) -> None:
    """Exit 2 before the first admin key is made: it is shown once, on the first start."""
    ran = await run_ledger(
        "serve",
        LEDGER_DATABASE_URL=db_dsn,
        LEDGER_SIGNING_KEY_FILE=str(tmp_path / "log.key"),
        LEDGER_LOG_ORIGIN="账本<x>",
    )
    assert ran.code == 2
    assert "cannot name a new log" in ran.err
    assert "Traceback" not in ran.err
    assert not (tmp_path / "log.key").exists()
    conn = await asyncpg.connect(db_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM api_keys") == 0
    finally:
        await conn.close()


async def test_a_first_start_that_fails_after_making_the_admin_key_has_shown_it(
    db_dsn: str, tmp_path: Path
) -> None:
    """The first admin key is printed as soon as it is stored: a start that then fails
    (here on a key file it cannot read) has shown it, and the next start makes none."""
    key = tmp_path / "log.key"
    key.write_text("not a key\n")
    ran = await run_ledger("serve", LEDGER_DATABASE_URL=db_dsn, LEDGER_SIGNING_KEY_FILE=str(key))
    assert ran.code == 1
    [shown] = [line for line in ran.out.splitlines() if line.startswith("LEDGER ADMIN KEY: ")]
    conn = await asyncpg.connect(db_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM api_keys WHERE role = 'admin'") == 1
    finally:
        await conn.close()
    split = split_key(shown.removeprefix("LEDGER ADMIN KEY: "))
    assert split is not None
    listed = await run_ledger("keys", "list", LEDGER_DATABASE_URL=db_dsn)
    assert listed.out.startswith(f"{split[0]}  admin")


async def test_a_store_of_a_later_release_is_one_line_and_left_as_it_is(db_dsn: str) -> None:
    """A migration this release does not ship (a downgrade): refused in one line."""
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'later', '')"
        )
    finally:
        await conn.close()
    ran = await run_ledger("serve", LEDGER_DATABASE_URL=db_dsn)
    assert ran.code == 1
    assert (
        "ledger: error: this release cannot take over the store: database has migrations "
        "this release does not know: [99]"
    ) in ran.err
    assert "Traceback" not in ran.err


async def test_a_socket_directory_that_does_not_exist_is_one_line() -> None:
    ran = await run_ledger(
        "serve", LEDGER_DATABASE_URL="postgresql://postgres@/ledger?host=/nonexistent-dir"
    )
    assert ran.code == 1
    assert "ledger: error: cannot reach the ledger's database" in ran.err
    assert "Traceback" not in ran.err


async def test_a_server_that_refuses_tls_asked_for_is_one_line() -> None:
    """`sslmode=require` against a server answering 'N' to the TLS request."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def refuse_tls() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(8)  # the SSLRequest
                conn.sendall(b"N")

        refusing = threading.Thread(target=refuse_tls, daemon=True)
        refusing.start()
        ran = await run_ledger(
            "serve",
            LEDGER_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/ledger?sslmode=require",
        )
        refusing.join(5)
    assert ran.code == 1
    assert "ledger: error: cannot reach the ledger's database" in ran.err
    assert "Traceback" not in ran.err


async def test_a_dsn_setting_with_a_value_the_database_refuses_is_one_line(db_dsn: str) -> None:
    ran = await run_ledger(
        "serve", LEDGER_DATABASE_URL=db_dsn + "?options=-c%20statement_timeout%3Dabc"
    )
    assert ran.code == 1
    assert "refused a setting of LEDGER_DATABASE_URL" in ran.err
    assert "Traceback" not in ran.err
