"""Witnesses: registered by an admin, their cosignatures checked, kept once, served with it."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from ledger.store import witnesses
from ledger.tlog.cosignature import cosign
from ledger.tlog.keys import Signer
from ledger.tlog.note import MAX_SIGNATURES, Signature, parse
from tests.e2e.conftest import Keys
from tests.e2e.witnesses import alias, checkpoint_of, cosigned, registration, renamed, witness_key
from tests.factory import institution
from tests.integration.audit.tamper import superuser
from tests.integration.audit.verifying import verified

Client = TestClient[Any, Any]
TEXT = {"Content-Type": "text/plain"}


async def _registered(client: Client, keys: Keys, witness: Signer, wid: str = "W-1") -> None:
    r = await client.post(
        "/v1/events",
        json=registration(wid, witness.verifier().encode()),
        headers=await keys.role("admin"),
    )
    assert r.status == 201, await r.text()


async def _post(client: Client, keys: Keys, note: str) -> Any:
    headers = {**await keys.role("reader"), **TEXT}
    return await client.post("/v1/log/cosignatures", data=note.encode(), headers=headers)


async def _stored(db_dsn: str) -> int:
    conn = await asyncpg.connect(db_dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM log_cosignatures"))
    finally:
        await conn.close()


async def _refusal(r: Any) -> str:
    assert r.status == 422, await r.text()
    assert r.content_type == "application/problem+json"
    body = await r.json()
    return " ".join(e["path"] + " " + e["message"] for e in body["errors"])


async def test_only_an_admin_registers_a_witness(client: Client, keys: Keys) -> None:
    body = registration("W-1", witness_key().verifier().encode())
    r = await client.post("/v1/events", json=body, headers=await keys.role("auditor"))
    assert r.status == 403


async def test_a_witness_id_is_registered_once(client: Client, keys: Keys) -> None:
    await _registered(client, keys, witness_key())
    body = registration("W-1", witness_key().verifier().encode())
    r = await client.post("/v1/events", json=body, headers=await keys.role("admin"))
    assert r.status == 409
    assert (await r.json())["type"] == "/problems/invalid-state"


async def test_concurrent_registrations_of_one_id_store_one(client: Client, keys: Keys) -> None:
    headers = await keys.role("admin")
    bodies = [registration("W-1", witness_key().verifier().encode()) for _ in range(8)]
    answers = await asyncio.gather(
        *(client.post("/v1/events", json=b, headers=headers) for b in bodies)
    )
    assert sorted(r.status for r in answers) == [201] + [409] * 7


async def test_a_malformed_witness_key_is_422_at_data_key(client: Client, keys: Keys) -> None:
    body = registration("W-1", "fund-witness+00000000+AAAA")
    r = await client.post("/v1/events", json=body, headers=await keys.role("admin"))
    assert "$.data.key" in await _refusal(r)


async def test_a_cosignature_is_stored_and_served_with_its_checkpoint(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    witness = witness_key()
    await _registered(client, keys, witness)
    reader = await keys.role("reader")
    note = await checkpoint_of(client, reader, 1)
    r = await _post(client, keys, cosigned(note, witness))
    assert r.status == 201, await r.text()
    [result] = (await r.json())["cosignatures"]
    assert (result["witness_id"], result["time"], result["new"]) == ("W-1", 1_700_000_000, True)
    size = parse(note).text.split("\n")[1]
    for path in ("/v1/log/checkpoint", f"/v1/log/checkpoints/{size}"):
        served = await (await client.get(path, headers=reader)).text()
        assert served == cosigned(note, witness)


async def test_a_checkpoint_is_served_with_no_more_signatures_than_verifiers_accept(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """120 cosignatures kept: the first 99 served, beside the log's own signature."""
    witnesses = [witness_key(f"w{i}") for i in range(120)]
    await _registered(client, keys, witnesses[0])
    reader = await keys.role("reader")
    note = await checkpoint_of(client, reader, 1)
    size = int(parse(note).text.split("\n")[1])
    text = parse(note).text
    conn = await asyncpg.connect(db_dsn)
    try:
        for i, witness in enumerate(witnesses):
            await conn.execute(
                "INSERT INTO log_cosignatures (size, witness_id, line, received_at)"
                " VALUES ($1, $2, $3, now() + $4 * interval '1 second')",
                size,
                f"W-{i:03d}",
                cosign(text, witness, 5).line(),
                i,
            )
    finally:
        await conn.close()
    served = parse(await (await client.get("/v1/log/checkpoint", headers=reader)).text())
    assert len(served.signatures) == MAX_SIGNATURES
    assert [s.name for s in served.signatures[1:]] == [f"w{i}" for i in range(99)]


async def test_a_repeated_cosignature_keeps_the_first(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """Same witness, same checkpoint, a later time: 200, one row, the first line served."""
    witness = witness_key()
    await _registered(client, keys, witness)
    reader = await keys.role("reader")
    note = await checkpoint_of(client, reader, 1)
    assert (await _post(client, keys, cosigned(note, witness, at=100))).status == 201
    again = await _post(client, keys, cosigned(note, witness, at=200))
    assert again.status == 200
    [kept] = (await again.json())["cosignatures"]
    assert (kept["new"], kept["time"]) == (False, 100)  # what was kept, not what was sent
    assert await _stored(db_dsn) == 1
    served = await (await client.get("/v1/log/checkpoint", headers=reader)).text()
    assert served == cosigned(note, witness, at=100)


async def test_a_malformed_note_is_refused(client: Client, keys: Keys, db_dsn: str) -> None:
    r = await _post(client, keys, "not a note at all")
    assert "malformed note" in await _refusal(r)
    assert await _stored(db_dsn) == 0


async def test_an_unregistered_witness_is_refused(client: Client, keys: Keys, db_dsn: str) -> None:
    await _registered(client, keys, witness_key())
    stranger = witness_key("stranger")
    note = await checkpoint_of(client, await keys.role("reader"), 1)
    said = await _refusal(await _post(client, keys, cosigned(note, stranger)))
    assert "unknown witness" in said
    assert "stranger+" in said
    assert await _stored(db_dsn) == 0


async def test_a_copy_under_another_name_of_the_same_key_is_refused_and_stores_nothing(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """A cosignature signs no name: the same public key registered again under another
    name would let anyone turn one witness's cosignature into two witnesses'."""
    witness = witness_key("fund-witness")
    other = alias(witness, "fund-witness-alias")
    await _registered(client, keys, witness, "W-1")
    await _registered(client, keys, other, "W-2")
    note = await checkpoint_of(client, await keys.role("reader"), 1)
    text = parse(note).text
    mine = cosign(text, witness, 1_700_000_000)
    copied = note + mine.line() + renamed(mine, other).line()
    said = await _refusal(await _post(client, keys, copied))
    assert "body.signatures[2]" in said
    assert "cosigns as fund-witness for witness W-1" in said
    assert await _stored(db_dsn) == 0
    assert (await _post(client, keys, note + mine.line())).status == 201


async def test_the_logs_own_key_cannot_witness_it(
    client: Client, keys: Keys, db_dsn: str, log_signer: Signer
) -> None:
    own = alias(log_signer, "self-witness")
    await _registered(client, keys, own)
    note = await checkpoint_of(client, await keys.role("reader"), 1)
    said = await _refusal(await _post(client, keys, cosigned(note, own)))
    assert "the log's own public key cannot witness the log" in said
    assert await _stored(db_dsn) == 0


async def test_a_checkpoint_never_signed_is_refused(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    witness = witness_key()
    await _registered(client, keys, witness)
    note = await checkpoint_of(client, await keys.role("reader"), 1)
    origin, size, _root = parse(note).text.split("\n")[:3]
    forged_root = base64.b64encode(bytes(32)).decode()
    forged = f"{origin}\n{size}\n{forged_root}\n"
    log_line = note[len(parse(note).text) + 1 :]
    body = forged + "\n" + log_line + cosign(forged, witness, 5).line()
    assert "checkpoint never signed" in await _refusal(await _post(client, keys, body))
    assert await _stored(db_dsn) == 0


async def test_a_checkpoint_of_a_size_past_any_position_is_never_signed(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """2^63 cannot be looked up (no position is so large): refused as never signed."""
    witness = witness_key()
    await _registered(client, keys, witness)
    note = await checkpoint_of(client, await keys.role("reader"), 1)
    origin, _size, root = parse(note).text.split("\n")[:3]
    huge = f"{origin}\n{2**63}\n{root}\n"
    log_line = note[len(parse(note).text) + 1 :]
    body = huge + "\n" + log_line + cosign(huge, witness, 5).line()
    assert "checkpoint never signed" in await _refusal(await _post(client, keys, body))
    assert await _stored(db_dsn) == 0


async def test_a_bad_signature_is_refused_and_nothing_of_the_note_is_stored(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """One good and one bad cosignature: 422 naming the bad line, neither stored."""
    good, bad = witness_key("good"), witness_key("bad")
    await _registered(client, keys, good, "W-GOOD")
    await _registered(client, keys, bad, "W-BAD")
    note = await checkpoint_of(client, await keys.role("reader"), 2)
    text = parse(note).text
    line = cosign(text, bad, 7)
    flipped = Signature(
        line.name, line.key_id, line.signature[:-1] + bytes([line.signature[-1] ^ 1])
    )
    body = cosigned(note, good) + flipped.line()
    said = await _refusal(await _post(client, keys, body))
    assert "bad signature" in said
    assert "signatures[2]" in said
    assert await _stored(db_dsn) == 0


async def test_a_note_without_cosignatures_is_refused(client: Client, keys: Keys) -> None:
    await client.post("/v1/events", json=institution("B-1"), headers=await keys.role("admin"))
    note = await checkpoint_of(client, await keys.role("reader"), 1)
    assert "no witness's cosignature" in await _refusal(await _post(client, keys, note))


async def test_a_witnesss_stream_is_read_by_auditors_and_no_institution(
    client: Client, keys: Keys
) -> None:
    await _registered(client, keys, witness_key())
    r = await client.post("/v1/events", json=institution("B-1"), headers=await keys.role("admin"))
    assert r.status == 201
    r = await client.get("/v1/streams/witness-W-1", headers=await keys.role("auditor"))
    assert r.status == 200, await r.text()
    events = (await r.json())["events"]
    assert [(e["type"], e["stream_version"]) for e in events] == [("witness.registered", 1)]
    r = await client.get("/v1/streams/witness-W-1", headers=await keys.of("B-1"))
    assert r.status == 403


@pytest.mark.parametrize(
    ("ahead", "refused"),
    [(None, "states no time"), (3_600, "after this ledger's clock"), (60, None)],
    ids=["time 0", "an hour ahead", "a minute ahead"],
)
async def test_a_cosignature_must_state_a_time_not_far_ahead_of_the_ledgers(
    client: Client, keys: Keys, db_dsn: str, ahead: int | None, refused: str | None
) -> None:
    """C2SP tlog-witness: the timestamp MUST NOT be zero; one far in the future would be
    kept as the witness's first cosignature for good."""
    witness = witness_key()
    await _registered(client, keys, witness)
    note = await checkpoint_of(client, await keys.role("reader"), 1)
    at = 0 if ahead is None else int(time.time()) + ahead
    r = await _post(client, keys, cosigned(note, witness, at=at))
    if refused is None:
        assert r.status == 201, await r.text()
        assert await _stored(db_dsn) == 1
    else:
        assert refused in await _refusal(r)
        assert await _stored(db_dsn) == 0


def _flipped(line: str) -> str:
    """The same signature line, well formed, with the last byte of its signature changed."""
    dash, name, blob = line.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    return f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("UPDATE log_cosignatures SET line = $1", "does not verify"),
        ("UPDATE log_cosignatures SET witness_id = 'W-9' WHERE line <> $1", "no registration"),
    ],
    ids=["signature changed", "witness renamed"],
)
async def test_verify_checks_every_kept_cosignature_against_its_registration(
    client: Client, keys: Keys, db_dsn: str, change: str, said: str
) -> None:
    witness = witness_key()
    await _registered(client, keys, witness)
    note = await checkpoint_of(client, await keys.role("reader"), 1)
    assert (await _post(client, keys, cosigned(note, witness))).status == 201
    assert (await verified(db_dsn)).ok
    async with superuser(db_dsn) as su:
        await su.execute("SET session_replication_role = replica")
        line = await su.fetchval("SELECT line FROM log_cosignatures")
        await su.execute(change, _flipped(line))
    report = await verified(db_dsn)
    size = int(parse(note).text.split("\n")[1])
    assert (report.ok, report.first_bad_position, report.problem) == (
        False,
        size,
        "checkpoint-mismatch",
    )
    assert said in (report.reason or "")


async def test_a_registration_accepted_under_an_older_check_still_registers(
    client: Client, keys: Keys, db_dsn: str
) -> None:
    """Stored data is read back by its shape (events.readback): a registration whose name
    today's pattern would refuse (held here by rewriting it) still names its witness, so
    verify and the intake still know its key."""
    await _registered(client, keys, witness_key())
    async with superuser(db_dsn) as su:
        body = bytes(
            await su.fetchval("SELECT body FROM events WHERE type = 'witness.registered'")
        )
        held = body.replace(b'"Witness W-1"', b'"Witness W-1' + b"\\" + b'n"')
        assert held != body
        await su.execute("UPDATE events SET body = $1 WHERE type = 'witness.registered'", held)
        found = await witnesses.registered(su)
    assert [w.witness_id for w in found] == ["W-1"]
