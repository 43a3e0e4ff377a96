"""An auditor's verify over HTTP: the export's exact bytes, checked against signed checkpoints."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from ledger.audit import remote_state
from ledger.audit.export import decode_line
from ledger.audit.remote_verify import verify_remote
from ledger.remote import Ledger
from ledger.store.chain import GENESIS, link
from ledger.tlog.keys import Signer
from tests.e2e.conftest import Keys
from tests.e2e.ledger_cli import run_ledger
from tests.e2e.witnesses import checkpoint_of
from tests.factory import institution
from tests.integration.audit.tamper import body_at, change_body, remove, reseal, superuser

Client = TestClient[Any, Any]


class CountingLedger(Ledger):
    """A Ledger that records from which position each export page was asked for."""

    def __init__(self, url: str, api_key: str) -> None:
        super().__init__(url, api_key)
        self.read_after: list[int] = []

    async def export_pages(
        self, after: int, through: int, limit: int
    ) -> AsyncGenerator[bytes, None]:
        self.read_after.append(after)
        async for page in super().export_pages(after, through, limit):
            yield page


async def _grow(client: Client, keys: Keys, count: int, start: int) -> None:
    events = [institution(f"B-{start + i}") for i in range(count)]
    r = await client.post("/v1/events", json=events, headers=await keys.role("admin"))
    assert r.status == 201
    await checkpoint_of(client, await keys.role("reader"), start + count)


def _url(client: Client) -> str:
    return str(client.make_url("")).rstrip("/")


async def _auditor(keys: Keys) -> str:
    return (await keys.role("auditor"))["Authorization"].removeprefix("Bearer ")


async def test_export_pages_are_the_exact_stored_bytes(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    await _grow(client, keys, 5, 0)
    headers = await keys.role("auditor")
    r = await client.get("/v1/audit/export?after=1&limit=3", headers=headers)
    assert r.content_type == "application/x-ndjson"
    lines = [decode_line(raw) for raw in (await r.read()).splitlines()]
    assert [line.position for line in lines] == [2, 3, 4]
    async with superuser(db_dsn) as conn:
        assert bytes(lines[0].event) == await body_at(conn, 2)


async def test_export_is_for_auditors_and_admins(client: Client, keys: Keys) -> None:
    r = await client.get("/v1/audit/export", headers=await keys.role("reader"))
    assert r.status == 403


async def test_export_limit_out_of_range_is_422(client: Client, keys: Keys) -> None:
    r = await client.get("/v1/audit/export?limit=10001", headers=await keys.role("auditor"))
    assert r.status == 422
    assert (await r.json())["errors"][0]["path"] == "query.limit"


async def test_a_sound_log_verifies_against_its_checkpoint(
    client: Client, keys: Keys, log_signer: Signer
) -> None:
    await _grow(client, keys, 7, 0)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        done = await verify_remote(ledger, log_signer.verifier(), None)
    assert done.report.ok
    assert done.report.verified_through == done.checkpoint.size == 7


async def test_a_changed_event_is_named_at_its_position(
    client: Client, keys: Keys, log_signer: Signer, db_dsn: str
) -> None:
    await _grow(client, keys, 6, 0)
    async with superuser(db_dsn) as conn:
        await change_body(conn, 4, b"B-3", b"B-X")
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        done = await verify_remote(ledger, log_signer.verifier(), None)
    report = done.report
    assert (report.ok, report.first_bad_position, report.problem) == (False, 4, "changed")
    assert report.verified_through == 3
    assert done.verified is None


async def test_a_changed_link_under_an_untouched_event_is_named_at_its_position(
    client: Client, keys: Keys, log_signer: Signer, db_dsn: str
) -> None:
    """The chain is recomputed, not taken from the export: a stored link changed alone (the
    event's bytes and the tree as signed) is found at its position, by its hash."""
    await _grow(client, keys, 6, 0)
    async with superuser(db_dsn) as conn:
        await conn.execute(
            "UPDATE event_log SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1)"
            " WHERE position = 4"
        )
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        done = await verify_remote(ledger, log_signer.verifier(), None)
    report = done.report
    assert (report.ok, report.first_bad_position, report.problem) == (False, 4, "changed")
    assert report.reason is not None
    assert "no longer matches its hash" in report.reason
    assert report.verified_through == 3


async def _link(db_dsn: str, position: int) -> bytes:
    async with superuser(db_dsn) as conn:
        value = await conn.fetchval("SELECT hash FROM event_log WHERE position = $1", position)
    return bytes(value)


async def _rewrite_and_relink(db_dsn: str, position: int) -> None:
    """Change one event and recompute every link from it on, leaving the tree alone."""
    async with superuser(db_dsn) as conn:
        await change_body(conn, position, b"B-", b"F-")
        previous = GENESIS
        rows = await conn.fetch(
            "SELECT l.position, e.body FROM event_log l JOIN events e USING (seq) ORDER BY 1"
        )
        for row in rows:
            previous = link(previous, row["position"], bytes(row["body"]))
            await conn.execute(
                "UPDATE event_log SET hash = $2 WHERE position = $1", row["position"], previous
            )


async def test_a_rewrite_hidden_by_relinking_is_named_from_the_logs_tree(
    client: Client, keys: Keys, log_signer: Signer, db_dsn: str
) -> None:
    """The chain holds; the signed root does not; the stored leaves name the position."""
    await _grow(client, keys, 300, 0)
    before = await _link(db_dsn, 259)
    await _rewrite_and_relink(db_dsn, 260)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        done = await verify_remote(ledger, log_signer.verifier(), None)
    report = done.report
    assert (report.ok, report.first_bad_position, report.problem) == (False, 260, "changed")
    assert "rewritten along with the links" in (report.reason or "")
    assert (report.verified_through, report.head_hash) == (259, before.hex())


async def test_a_rewrite_with_its_links_and_tree_fails_the_signed_root(
    client: Client, keys: Keys, log_signer: Signer, db_dsn: str
) -> None:
    """A thorough forger rebuilds the tree too: the checkpoint the log signed still fails."""
    await _grow(client, keys, 6, 0)
    async with superuser(db_dsn) as conn:
        await change_body(conn, 2, b"B-1", b"F-1")
        await reseal(conn)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        done = await verify_remote(ledger, log_signer.verifier(), None)
    report = done.report
    assert (report.ok, report.first_bad_position, report.problem) == (
        False,
        6,
        "checkpoint-mismatch",
    )
    assert (report.verified_through, report.head_hash) == (0, GENESIS.hex())


async def test_with_state_the_second_run_reads_only_new_events(
    client: Client, keys: Keys, log_signer: Signer
) -> None:
    await _grow(client, keys, 5, 0)
    async with CountingLedger(_url(client), await _auditor(keys)) as ledger:
        first = await verify_remote(ledger, log_signer.verifier(), None)
        assert first.verified is not None
        await _grow(client, keys, 4, 5)
        second = await verify_remote(ledger, log_signer.verifier(), first.verified)
    assert ledger.read_after == [0, 5]
    assert (second.read_from, second.report.verified_through) == (6, 9)
    assert second.report.ok


async def test_a_state_of_another_history_is_not_consistent(
    client: Client, keys: Keys, log_signer: Signer
) -> None:
    """A remembered root the log never had: the new checkpoint is not proved consistent."""
    await _grow(client, keys, 5, 0)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        first = await verify_remote(ledger, log_signer.verifier(), None)
        assert first.verified is not None
        await _grow(client, keys, 3, 5)
        forged = remote_state.Verified(
            first.verified.origin, 5, bytes(32), first.verified.chain_head, first.verified.edge
        )
        done = await verify_remote(ledger, log_signer.verifier(), forged)
    assert (done.report.ok, done.report.problem) == (False, "checkpoint-mismatch")
    assert (done.report.first_bad_position, done.report.verified_through) == (5, 0)


async def test_a_log_of_the_state_s_size_with_another_root_vouches_for_no_position(
    client: Client, keys: Keys, log_signer: Signer
) -> None:
    """A fork as long as what was verified: none of the positions it serves was read, so
    none is vouched for (they were reported verified through the state's size)."""
    await _grow(client, keys, 5, 0)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        first = await verify_remote(ledger, log_signer.verifier(), None)
        assert first.verified is not None
        forked = remote_state.Verified(
            first.verified.origin, 5, bytes(32), first.verified.chain_head, first.verified.edge
        )
        done = await verify_remote(ledger, log_signer.verifier(), forked)
    report = done.report
    assert (report.ok, report.problem, report.reason) == (
        False,
        "checkpoint-mismatch",
        "two roots for size 5",
    )
    assert (report.first_bad_position, report.verified_through) == (5, 0)
    assert report.head_hash == GENESIS.hex()


async def test_a_log_behind_the_state_vouches_for_no_position(
    client: Client, keys: Keys, log_signer: Signer
) -> None:
    """Rolled back below what was verified: nothing this run read, nothing the state held,
    is vouched for; the digest is the empty log's, never a blank link."""
    await _grow(client, keys, 5, 0)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        first = await verify_remote(ledger, log_signer.verifier(), None)
        assert first.verified is not None
        edge = [(3, bytes(32)), (0, bytes(32))]  # 9 leaves: a subtree of 8 and one of 1
        ahead = remote_state.Verified(first.verified.origin, 9, bytes(32), bytes(32), edge)
        done = await verify_remote(ledger, log_signer.verifier(), ahead)
    report = done.report
    assert (report.ok, report.first_bad_position, report.problem) == (False, 6, "removed")
    assert (report.verified_through, report.head_hash) == (0, GENESIS.hex())


async def test_the_command_prints_the_position_and_exits_1(
    client: Client, keys: Keys, log_signer: Signer, db_dsn: str, tmp_path: Path
) -> None:
    await _grow(client, keys, 4, 0)
    state = tmp_path / "verified.json"
    args = ["audit", "verify", "--url", _url(client), "--api-key", await _auditor(keys)]
    args += ["--log-key", log_signer.verifier().encode(), "--state", str(state)]
    ok = await run_ledger(*args)
    assert ok.code == 0, ok.err
    assert "ok: verified positions 1 to 4" in ok.out
    assert json.loads(state.read_text())["size"] == 4
    await _grow(client, keys, 3, 4)
    again = await run_ledger(*args)
    assert "read 3 events (positions 5 to 7)" in again.out
    async with superuser(db_dsn) as conn:
        await change_body(conn, 6, b"B-5", b"B-Y")
    bad = await run_ledger(*args[:-2])
    assert bad.code == 1
    assert "NOT OK: first bad position 6 (changed)" in bad.out


async def test_a_state_file_in_no_directory_is_refused_before_reading(
    client: Client, keys: Keys, log_signer: Signer, tmp_path: Path
) -> None:
    await _grow(client, keys, 2, 0)
    state = tmp_path / "missing" / "verified.json"
    args = ["audit", "verify", "--url", _url(client), "--api-key", await _auditor(keys)]
    ran = await run_ledger(
        *args, "--log-key", log_signer.verifier().encode(), "--state", str(state)
    )
    assert ran.code == 2
    assert ran.out == ""
    assert f"cannot keep the state in {state}: no such directory" in ran.err
    assert "Traceback" not in ran.err


async def test_events_removed_from_the_end_are_a_not_ok_report_naming_the_first(
    client: Client, keys: Keys, log_signer: Signer, db_dsn: str
) -> None:
    """The export ends before the signed checkpoint: a finding, not an error."""
    await _grow(client, keys, 6, 0)
    async with superuser(db_dsn) as conn:
        await remove(conn, 6)
        await remove(conn, 5)
    async with Ledger(_url(client), await _auditor(keys)) as ledger:
        done = await verify_remote(ledger, log_signer.verifier(), None)
    report = done.report
    assert (report.ok, report.first_bad_position, report.problem) == (False, 5, "removed")
    assert report.verified_through == 4


async def test_a_fault_found_mid_export_leaves_no_request_behind(
    client: Client, keys: Keys, log_signer: Signer, db_dsn: str, monkeypatch: Any
) -> None:
    """The page asked for ahead is cancelled and its outcome taken before the session
    closes (it used to end as 'Task exception was never retrieved')."""
    import asyncio
    import gc

    from ledger.audit import remote_verify

    monkeypatch.setattr(remote_verify, "PAGE", 2)  # pages of two events: four pages
    await _grow(client, keys, 8, 0)
    async with superuser(db_dsn) as conn:
        await remove(conn, 3)
    loop = asyncio.get_running_loop()
    unretrieved: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    try:
        async with Ledger(_url(client), await _auditor(keys)) as ledger:
            done = await verify_remote(ledger, log_signer.verifier(), None)
        gc.collect()
        await asyncio.sleep(0.1)
    finally:
        loop.set_exception_handler(None)
    assert (done.report.ok, done.report.first_bad_position) == (False, 3)
    assert unretrieved == []


def test_a_ledger_that_does_not_answer_is_named_in_words(capsys: Any) -> None:
    import socket

    from ledger.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    from ledger.tlog.keys import generate_signer

    log_key = generate_signer("log.example").verifier().encode()
    url = f"http://127.0.0.1:{port}"
    assert main(["audit", "verify", "--url", url, "--api-key", "k", "--log-key", log_key]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the ledger at {url}: Connect call failed" in err
    assert "ClientConnectorError(" not in err
