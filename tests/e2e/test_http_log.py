"""The verifiable log over HTTP: key, checkpoints, proofs, tiles, and every bad input refused."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from ledger.audit.event_proof import check_event_proof
from ledger.http.app import create_app
from ledger.tlog.checkpoint import parse_checkpoint
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import Signer
from ledger.tlog.note import open_note
from ledger.tlog.proofs import verify_consistency, verify_inclusion
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.factory import institution

Client = TestClient[Any, Any]


async def _post(client: Client, keys: Keys, count: int, start: int = 0) -> list[str]:
    events = [institution(f"B-{start + i}") for i in range(count)]
    r = await client.post("/v1/events", json=events, headers=await keys.role("admin"))
    assert r.status == 201
    return [e["event_id"] for e in events]


async def _proof(client: Client, keys: Keys, event_id: str, within: float = 5.0) -> str:
    """The event's proof, asked for until it is checkpointed (at most `within` s: a loaded
    machine can stall the half-second signing; how soon it signs is the benchmark's
    checkpoint lag)."""
    deadline = time.monotonic() + within
    while True:
        r = await client.get(f"/v1/events/{event_id}/proof", headers=await keys.role("auditor"))
        if r.status == 200:
            assert r.content_type == "text/plain"
            return await r.text()
        assert r.status == 409, await r.text()
        assert r.headers["Retry-After"] == "1"
        assert time.monotonic() < deadline, "not checkpointed within the time allowed"
        await asyncio.sleep(0.05)


async def test_key_is_the_logs_verifier_key(client: Client, keys: Keys, log_signer: Signer) -> None:
    """GET /v1/log/key answers the verifier key as text."""
    r = await client.get("/v1/log/key", headers=await keys.role("reader"))
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert (await r.text()).strip() == log_signer.verifier().encode()


async def test_a_posted_events_proof_checks_offline_with_the_pinned_key_alone(
    client: Client, keys: Keys, log_signer: Signer
) -> None:
    """Post, then, once a checkpoint covers it, a proof that checks with the pinned key."""
    [event_id] = await _post(client, keys, 1)
    text = await _proof(client, keys, event_id)
    proved = check_event_proof(text, log_signer.verifier())
    assert (proved.head.event_id, proved.position) == (event_id, 1)
    assert proved.head.stream_id == "institution-B-0"


async def test_an_events_proof_answers_every_spelling_its_post_accepts(
    client: Client, keys: Keys
) -> None:
    """An event id without hyphens, or in capitals, as a post may spell it, asks for the
    same event's proof."""
    [event_id] = await _post(client, keys, 1)
    text = await _proof(client, keys, event_id)
    for spelling in (event_id.replace("-", ""), event_id.upper()):
        assert await _proof(client, keys, spelling) == text


async def test_changed_proof_byte_fails(client: Client, keys: Keys, log_signer: Signer) -> None:
    """Any one character of the proof changed (outside blank structure) fails the check."""
    ids = await _post(client, keys, 5)
    text = await _proof(client, keys, ids[3])
    for at in range(0, len(text), 7):
        if text[at] == "\n":
            continue
        changed = text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]
        with pytest.raises(TlogError):
            check_event_proof(changed, log_signer.verifier())


async def test_server_proofs_verify_against_signed_checkpoints(
    client: Client, keys: Keys, log_signer: Signer
) -> None:
    """Inclusion proofs of every position and consistency proofs between checkpoints verify."""
    auditor = await keys.role("auditor")
    sizes: list[int] = []
    for round_ in range(6):
        ids = await _post(client, keys, 7 + round_ * 5, start=len(sizes) * 100)
        await _proof(client, keys, ids[-1])
        r = await client.get("/v1/log/checkpoint", headers=auditor)
        note, _ = open_note(await r.text(), [log_signer.verifier()])
        sizes.append(parse_checkpoint(note.text).size)
    roots = {}
    for size in sizes:
        r = await client.get(f"/v1/log/checkpoints/{size}", headers=auditor)
        note, _ = open_note(await r.text(), [log_signer.verifier()])
        roots[size] = parse_checkpoint(note.text).root
    for size in sizes:
        for position in range(1, size + 1, 3):
            r = await client.get(
                f"/v1/log/proof/inclusion?position={position}&size={size}", headers=auditor
            )
            body = await r.json()
            assert base64.b64decode(body["root"]) == roots[size]
            verify_inclusion(
                position - 1,
                size,
                base64.b64decode(body["leaf_hash"]),
                [base64.b64decode(h) for h in body["hashes"]],
                roots[size],
            )
    for old, new in itertools.pairwise(sizes):
        r = await client.get(f"/v1/log/proof/consistency?from={old}&to={new}", headers=auditor)
        hashes = [base64.b64decode(h) for h in (await r.json())["hashes"]]
        verify_consistency(old, new, roots[old], roots[new], hashes)


async def test_tiles_are_served_byte_exact(client: Client, keys: Keys) -> None:
    """Level-0 tiles hold the leaf hashes; partial widths are prefixes; absent tiles are 404."""
    await _post(client, keys, 3)
    auditor = await keys.role("auditor")
    r = await client.get("/v1/log/tile/0/000.p/3", headers=auditor)
    assert r.content_type == "application/octet-stream"
    three = await r.read()
    assert len(three) == 96
    r = await client.get("/v1/log/tile/0/000.p/2", headers=auditor)
    assert await r.read() == three[:64]
    huge = "x999/" * 8 + "999"
    for missing in (
        "0/000",
        "0/000.p/4",
        "1/000.p/1",
        "0/001.p/1",
        "0/5",
        "0/x000/000",
        "99/000",
        f"0/{huge}",
    ):
        r = await client.get(f"/v1/log/tile/{missing}", headers=auditor)
        assert r.status == 404, missing
        assert r.content_type == "application/problem+json"


async def test_tiles_are_cached_by_their_reader_only_and_checkpoints_not_at_all(
    client: Client, keys: Keys
) -> None:
    """A tile never changes but needs a key (no shared cache); a checkpoint note moves on
    and gains cosignatures (C2SP tlog-tiles: not cached beyond a few seconds)."""
    event_id = (await _post(client, keys, 1))[0]
    await _proof(client, keys, event_id)  # a checkpoint of size 1 is signed
    auditor = await keys.role("auditor")
    r = await client.get("/v1/log/tile/0/000.p/1", headers=auditor)
    assert r.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    for path in ("/v1/log/checkpoint", "/v1/log/checkpoints/1"):
        r = await client.get(path, headers=auditor)
        assert r.status == 200
        assert r.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("/v1/log/proof/inclusion?position=0&size=1", "query.position"),
        ("/v1/log/proof/inclusion?position=3&size=2", "query.position"),
        ("/v1/log/proof/inclusion?position=1&size=99", "query.size"),
        ("/v1/log/proof/inclusion?size=1", "query.position"),
        ("/v1/log/proof/inclusion?position=x", "query.position"),
        ("/v1/log/proof/consistency?from=2&to=1", "query.from"),
        ("/v1/log/proof/consistency?from=0&to=1", "query.from"),
        ("/v1/log/proof/consistency?from=1&to=99", "query.to"),
        ("/v1/log/proof/consistency?from=1", "query.to"),
        ("/v1/log/checkpoints/abc", "path.size"),
        ("/v1/log/checkpoints/01", "path.size"),
        ("/v1/log/checkpoints/4611686018427387905", "path.size"),
    ],
)
async def test_out_of_range_proof_parameters_are_422(
    client: Client, keys: Keys, query: str, path: str
) -> None:
    """Each bad parameter is a 422 naming it, never a 500."""
    await _post(client, keys, 2)
    r = await client.get(query, headers=await keys.role("auditor"))
    assert r.status == 422
    assert (await r.json(content_type=None))["errors"][0]["path"] == path


async def test_missing_things_are_404(client: Client, keys: Keys) -> None:
    """No checkpoint at a size, no such event, a non-UUID id: 404 problems."""
    await _post(client, keys, 1)
    auditor = await keys.role("auditor")
    for path in (
        "/v1/log/checkpoints/77",
        "/v1/events/3f2b8c1e-5a0d-4c55-9b1e-0c8a7d2e4f61/proof",
        "/v1/events/not-a-uuid/proof",
    ):
        r = await client.get(path, headers=auditor)
        assert r.status == 404, path
        assert r.content_type == "application/problem+json"


async def test_proof_is_not_checkpointed_while_no_checkpoint_covers_it(
    db_dsn: str, aiohttp_client: ClientFactory, keys: Keys
) -> None:
    """Without a signing sealer no checkpoint exists: 409 not-checkpointed with Retry-After."""
    client = await aiohttp_client(create_app(db_dsn, pool_size=2, limits=FAST))
    [event_id] = await _post(client, keys, 1)
    r = await client.get(f"/v1/events/{event_id}/proof", headers=await keys.role("admin"))
    assert r.status == 409
    assert r.headers["Retry-After"] == "1"
    assert (await r.json(content_type=None))["type"] == "/problems/not-checkpointed"


async def test_an_inclusion_proof_beyond_the_sealed_log_is_422_before_any_checkpoint(
    db_dsn: str, aiohttp_client: ClientFactory, keys: Keys
) -> None:
    """No event lies there for a checkpoint to cover: the position is wrong, not too soon."""
    client = await aiohttp_client(create_app(db_dsn, pool_size=2, limits=FAST))
    r = await client.get("/v1/log/proof/inclusion?position=1", headers=await keys.role("admin"))
    assert r.status == 422
    assert (await r.json(content_type=None))["errors"][0]["path"] == "query.position"


async def test_only_parties_get_an_events_proof(client: Client, keys: Keys) -> None:
    """Another institution may not read the proof of a stream it is no party to."""
    r = await client.post(
        "/v1/events",
        json=[institution("B-1"), institution("B-2")],
        headers=await keys.role("admin"),
    )
    first = (await r.json())[0]["event_id"]
    r = await client.get(f"/v1/events/{first}/proof", headers=await keys.of("B-2"))
    assert r.status == 403
    party = await keys.of("B-1")
    deadline = time.monotonic() + 5.0
    while (r := await client.get(f"/v1/events/{first}/proof", headers=party)).status == 409:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert r.status == 200


async def test_a_proof_the_stored_tree_cannot_give_is_a_409_naming_the_tile(
    client: Client, keys: Keys, db_dsn: str, aiohttp_client: ClientFactory
) -> None:
    """A tree row removed by someone who controls the database: no 500, a problem that
    says what is missing and what to run."""
    event_id, *_, last = await _post(client, keys, 3)
    await _proof(client, keys, last)
    conn = await asyncpg.connect(db_dsn)
    try:
        for table in ("log_tiles", "log_tile_leaves"):
            await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            await conn.execute(f"DELETE FROM {table}")
            await conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    finally:
        await conn.close()
    fresh = await aiohttp_client(create_app(db_dsn, pool_size=2, limits=FAST))  # no tile cached
    r = await fresh.get(f"/v1/events/{event_id}/proof", headers=await keys.role("auditor"))
    body = await r.json(content_type=None)
    assert (r.status, body["type"]) == (409, "/problems/invalid-state")
    assert "ledger audit verify" in body["detail"]
