"""Export and import carry the signed log: the imported ledger continues the same log."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import asyncpg
import msgspec
import pytest

from ledger.audit.export import export_log
from ledger.audit.restore import ImportRefused, import_log
from ledger.audit.verify import verify_chain
from ledger.runtime import Runtime, running
from ledger.store import tree
from ledger.store.identity import IdentityError, establish
from ledger.tlog.checkpoint import parse_checkpoint
from ledger.tlog.cosignature import cosign
from ledger.tlog.keys import Signer, generate_signer
from ledger.tlog.note import open_note, parse
from ledger.tlog.proofs import verify_consistency
from tests.e2e.witnesses import registration, witness_key
from tests.factory import ADMIN, institution, posted
from tests.pg import fetch_rows


async def _signed_log(runtime: Runtime, count: int) -> bytes:
    """`count` events in two posts, checkpointed, exported."""
    await runtime.ledger.post(posted(*[institution(f"B-{i}") for i in range(count // 2)]), ADMIN)
    await asyncio.sleep(0.7)
    await runtime.ledger.post(
        posted(*[institution(f"B-{i}") for i in range(count // 2, count)]), ADMIN
    )
    for _ in range(100):
        if await runtime.pool.fetchval("SELECT max(size) FROM log_checkpoints") == count:
            break
        await asyncio.sleep(0.05)
    return await _export(runtime)


async def _export(runtime: Runtime) -> bytes:
    out = io.BytesIO()
    conn = await asyncpg.connect(runtime.dsn)
    try:
        await export_log(conn, out)
    finally:
        await conn.close()
    return out.getvalue()


async def _import(dsn: str, data: bytes, key_file: Path | None = None) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await import_log(conn, io.BytesIO(data), key_file=key_file)
    finally:
        await conn.close()


CHECKPOINTS = "SELECT size, root, note FROM log_checkpoints ORDER BY size"
IDENTITY = "SELECT origin, verifier_key FROM log_identity"


async def test_the_export_carries_the_log_and_its_checkpoints(
    runtime: Runtime, other_dsn: str, key_file: Path
) -> None:
    """Same origin, same key, same checkpoints (roots and notes) after an import."""
    data = await _signed_log(runtime, 10)
    assert data.count(b'{"checkpoint":') >= 2
    await _import(other_dsn, data, key_file)
    assert await fetch_rows(other_dsn, IDENTITY) == await fetch_rows(runtime.dsn, IDENTITY)
    assert await fetch_rows(other_dsn, CHECKPOINTS) == await fetch_rows(runtime.dsn, CHECKPOINTS)
    conn = await asyncpg.connect(other_dsn)
    try:
        report = await verify_chain(conn)
    finally:
        await conn.close()
    assert (report.ok, report.verified_through) == (True, 10)


async def test_the_imported_ledger_continues_the_same_log(
    runtime: Runtime, other_dsn: str, key_file: Path, log_signer: Signer
) -> None:
    """With the log's own key, the moved ledger signs new sizes consistent with the old."""
    await _import(other_dsn, await _signed_log(runtime, 6), key_file)
    old_note = await runtime.pool.fetchval("SELECT note FROM log_checkpoints WHERE size = 6")
    conn = await asyncpg.connect(other_dsn)
    try:
        signer = await establish(conn, key_file, None)
    finally:
        await conn.close()
    async with running(other_dsn, signer=signer) as moved:
        await moved.ledger.post(posted(institution("B-NEW")), ADMIN)
        for _ in range(60):
            if await moved.pool.fetchval("SELECT max(size) FROM log_checkpoints") == 7:
                break
            await asyncio.sleep(0.05)
        note = await moved.pool.fetchval("SELECT note FROM log_checkpoints WHERE size = 7")
    conn = await asyncpg.connect(other_dsn)
    try:
        proof = await tree.consistency_proof(conn, 6, 7)
    finally:
        await conn.close()
    old, _ = open_note(old_note, [log_signer.verifier()])
    new, _ = open_note(note, [log_signer.verifier()])
    before, after = parse_checkpoint(old.text), parse_checkpoint(new.text)
    assert (before.origin, before.size, after.size) == (after.origin, 6, 7)
    verify_consistency(6, 7, before.root, after.root, proof)


async def test_an_import_with_another_signing_key_is_refused(
    runtime: Runtime, other_dsn: str, tmp_path: Path
) -> None:
    """A key file that is not the exported log's key: nothing imported."""
    data = await _signed_log(runtime, 4)
    other = tmp_path / "other.key"
    other.write_text(generate_signer("guarantee-ledger/other").encode() + "\n")
    with pytest.raises(ImportRefused, match="not the exported log's key"):
        await _import(other_dsn, data, other)
    assert await fetch_rows(other_dsn, "SELECT count(*) FROM events") == [(0,)]


async def test_a_changed_checkpoint_line_is_refused(runtime: Runtime, other_dsn: str) -> None:
    """A checkpoint whose note was altered does not verify: nothing imported."""
    data = await _signed_log(runtime, 4)
    at = data.index(b'{"checkpoint":')
    changed = data[:at] + data[at:].replace(b"\\n4\\n", b"\\n3\\n", 1)
    with pytest.raises(ImportRefused, match="checkpoint"):
        await _import(other_dsn, changed)
    assert await fetch_rows(other_dsn, "SELECT count(*) FROM log_checkpoints") == [(0,)]


@pytest.mark.parametrize("keep", ["the log line", "all but the last checkpoint"])
async def test_an_export_cut_short_after_its_log_line_is_refused(
    runtime: Runtime, other_dsn: str, keep: str
) -> None:
    """Cut at a line break every line is whole: the log line's counts tell it is short."""
    data = await _signed_log(runtime, 4)
    lines = data.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(b'{"log":'))
    cut = b"".join(lines[: at + 1] if keep == "the log line" else lines[:-1])
    with pytest.raises(ImportRefused, match="the file was cut short"):
        await _import(other_dsn, cut)
    assert await fetch_rows(other_dsn, "SELECT count(*) FROM events") == [(0,)]


async def test_an_empty_ledger_started_with_its_own_key_adopts_the_imported_log(
    runtime: Runtime, other_dsn: str, key_file: Path, tmp_path: Path
) -> None:
    """The new ledger's first-start identity gives way; its own key then refuses to start."""
    conn = await asyncpg.connect(other_dsn)
    try:
        await establish(conn, tmp_path / "own.key", None)
    finally:
        await conn.close()
    await _import(other_dsn, await _signed_log(runtime, 4))
    assert await fetch_rows(other_dsn, IDENTITY) == await fetch_rows(runtime.dsn, IDENTITY)
    conn = await asyncpg.connect(other_dsn)
    try:
        with pytest.raises(IdentityError, match="not this store's log key"):
            await establish(conn, tmp_path / "own.key", None)
        await establish(conn, key_file, None)
    finally:
        await conn.close()


async def _cosigned_log(runtime: Runtime, witness: Signer) -> bytes:
    """A registered witness's cosignature of the log's checkpoint at 4, exported."""
    await runtime.ledger.post(
        posted(registration("W-1", witness.verifier().encode()), institution("B-1")), ADMIN
    )
    await runtime.ledger.post(posted(institution("B-2"), institution("B-3")), ADMIN)
    for _ in range(100):
        if await runtime.pool.fetchval("SELECT max(size) FROM log_checkpoints") == 4:
            break
        await asyncio.sleep(0.05)
    note = await runtime.pool.fetchval("SELECT note FROM log_checkpoints WHERE size = 4")
    line = cosign(parse(note).text, witness, 1_700_000_000).line()
    await runtime.pool.execute(
        "INSERT INTO log_cosignatures (size, witness_id, line) VALUES (4, 'W-1', $1)", line
    )
    return await _export(runtime)


COSIGNATURES = "SELECT size, witness_id, line FROM log_cosignatures ORDER BY size, witness_id"


async def test_an_import_keeps_the_cosignatures_of_registered_witnesses(
    runtime: Runtime, other_dsn: str
) -> None:
    await _import(other_dsn, await _cosigned_log(runtime, witness_key()))
    imported = await fetch_rows(other_dsn, COSIGNATURES)
    assert imported == await fetch_rows(runtime.dsn, COSIGNATURES) != []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        # The signature's last base64 character changed: it no longer verifies.
        (lambda line: line[:-3] + ("A" if line[-3] != "A" else "B") + line[-2:], "refused"),
        (lambda line: "not a signature line\n", "not one signature line"),
        (lambda line: line + line, "not one signature line"),
    ],
)
async def test_an_import_with_a_cosignature_the_service_would_refuse_is_refused(
    runtime: Runtime, other_dsn: str, change: Callable[[str], str], said: str
) -> None:
    data = await _cosigned_log(runtime, witness_key())
    line = await runtime.pool.fetchval("SELECT line FROM log_cosignatures")
    encoded = msgspec.json.encode(line)[1:-1]
    assert data.count(encoded) == 1
    changed = data.replace(encoded, msgspec.json.encode(change(line))[1:-1])
    with pytest.raises(ImportRefused, match=said):
        await _import(other_dsn, changed)
    assert await fetch_rows(other_dsn, "SELECT count(*) FROM log_cosignatures") == [(0,)]
    assert await fetch_rows(other_dsn, "SELECT count(*) FROM events") == [(0,)]


async def test_an_import_with_a_cosignature_under_another_witness_id_is_refused(
    runtime: Runtime, other_dsn: str
) -> None:
    data = await _cosigned_log(runtime, witness_key())
    at = data.index(b'"cosignatures":[{')
    changed = data[:at] + data[at:].replace(b'"witness_id":"W-1"', b'"witness_id":"W-2"')
    assert changed != data
    with pytest.raises(ImportRefused, match="made by witness W-1's key"):
        await _import(other_dsn, changed)
