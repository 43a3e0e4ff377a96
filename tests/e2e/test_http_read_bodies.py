"""Read-model answers are the msgspec types the OpenAPI document is generated from."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import msgspec
import pytest
from aiohttp.test_utils import TestClient

from ledger.demo import database_keys, run_demo
from ledger.demo_scenario import NATIONAL, scenario
from ledger.http import readmodel_schemas
from ledger.http.app import create_app
from ledger.http.openapi import document
from ledger.http.openapi_schemas import REF, published_schema
from ledger.seeds import GUARANTOR_ID, SME_ID
from projections import queries
from tests.e2e.conftest import FAST, ClientFactory, Keys

Client = TestClient[Any, Any]

# Each read route, an id the demo creates, and the read model's own query.
READS: tuple[tuple[str, str, Any], ...] = (
    ("/v1/smes/{}/exposure", SME_ID, queries.sme_exposure),
    ("/v1/guarantees/{}", "G-NAT-001", queries.guarantee_summary),
    ("/v1/claims/{}", "C-NAT-001", queries.claim_shares),
    ("/v1/institutions/{}/position", GUARANTOR_ID, queries.institution_position),
    ("/v1/programs/{}", NATIONAL, queries.program_summary),
)


def _documented(path: str) -> type[msgspec.Struct]:
    """The type the document names for a read route's 200 answer."""
    doc = json.loads(document())
    template = next(p for p in doc["paths"] if p.split("/")[:3] == path.split("/")[:3])
    ref = doc["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]
    name = ref["schema"]["$ref"].rsplit("/", 1)[-1]
    found = getattr(readmodel_schemas, name)
    assert isinstance(found, type)
    assert issubclass(found, msgspec.Struct)
    return found


@pytest.fixture
async def served(db_dsn: str, aiohttp_client: ClientFactory, keys: Keys) -> Client:
    """The app with its runner, the demo loaded and reflected by every read model."""
    client = await aiohttp_client(create_app(db_dsn, pool_size=4, limits=FAST, projections=True))
    url = str(client.make_url("")).rstrip("/")
    admin = await keys.new(role="admin")
    await run_demo(url, admin, database_keys(db_dsn), say=lambda _: None, session=client.session)
    return client


def test_the_documents_read_model_schemas_are_those_of_the_types() -> None:
    components = json.loads(document())["components"]["schemas"]
    for path, _, _ in READS:
        typ = _documented(path)
        (_, wanted) = msgspec.json.schema_components([typ], ref_template=REF)
        for name, schema in wanted.items():
            # Patterns as the API publishes them (events.types.exact).
            assert components[name] == published_schema(schema), name


async def test_every_read_route_sends_exactly_its_documented_type(
    served: Client, keys: Keys
) -> None:
    headers = await keys.role("auditor")
    for path, ident, _ in READS:
        r = await served.get(
            path.format(ident), params={"min_position": len(scenario())}, headers=headers
        )
        assert r.status == 200, await r.text()
        sent = await r.read()
        typed = msgspec.json.decode(sent, type=_documented(path))  # no unknown field
        assert msgspec.json.encode(typed) == sent, path


async def test_the_typed_answers_carry_the_read_models_bodies_unchanged(
    served: Client, keys: Keys, db_dsn: str
) -> None:
    headers = await keys.role("auditor")
    conn = await asyncpg.connect(db_dsn)
    try:
        for path, ident, query in READS:
            r = await served.get(
                path.format(ident), params={"min_position": len(scenario())}, headers=headers
            )
            body = await query(conn, ident)
            assert await r.json() == json.loads(msgspec.json.encode(body)), path
    finally:
        await conn.close()


async def test_a_past_state_is_sent_as_the_read_models_type(served: Client, keys: Keys) -> None:
    r = await served.get(
        "/v1/audit/state",
        params={"position": len(scenario()), "claim_id": "C-NAT-001"},
        headers=await keys.role("auditor"),
    )
    assert r.status == 200, await r.text()
    sent = await r.read()
    assert (
        msgspec.json.encode(msgspec.json.decode(sent, type=readmodel_schemas.ClaimShares)) == sent
    )


async def test_the_typed_answers_are_the_bytes_the_read_models_encode_to(
    served: Client, keys: Keys, db_dsn: str
) -> None:
    """Byte for byte, except a program's terms and totals: read from jsonb, they came out in
    its key order (shortest first) and now come out in the order their types declare."""
    headers = await keys.role("auditor")
    conn = await asyncpg.connect(db_dsn)
    try:
        for path, ident, query in READS[:-1]:
            r = await served.get(
                path.format(ident), params={"min_position": len(scenario())}, headers=headers
            )
            assert await r.read() == msgspec.json.encode(await query(conn, ident)), path
    finally:
        await conn.close()
