"""The authorization matrix: every role x every event type x own/other party, and every read."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.demo_scenario import scenario
from ledger.http.app import create_app
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.factory import envelope, institution

Client = TestClient[Any, Any]

BANK, GUAR, REG, FUND, POOL, REVIEW = (
    "CQ-TECH-BANK",
    "CQ-SCI-GUAR",
    "CQ-REGUAR",
    "CN-NFGF",
    "CQ-LJ-POOL",
    "CQ-LJ-REVIEW",
)
OTHERS = {
    "OTHER-BANK": "bank",
    "OTHER-GUAR": "guarantor",
    "OTHER-REG": "reguarantor",
    "OTHER-REVIEW": "reviewer",
}
ACTORS = ("admin", "auditor", "reader", BANK, GUAR, REG, FUND, POOL, REVIEW, *OTHERS)
GUARANTORS_AND_REVIEWERS = {GUAR, "OTHER-GUAR", REVIEW, "OTHER-REVIEW"}
G, C = "G-NAT-001", "C-NAT-001"
SME = "91500000MA5U7K3Q8Y"


def _data(event_type: str, n: int) -> dict[str, Any]:
    """Valid data for each event type, on the demo's guarantee G-NAT-001 where it has one."""
    terms = {
        "per_sme_cap": 100,
        "loan_amount_min": 1,
        "loan_amount_max": 100,
        "max_term_months": 12,
        "fee_rate_bp_max": 100,
        "eligible_categories": [],
        "shares_bp": {"bank": 5000},
        "compensation_caps_bp": {},
        "parties": {},
    }
    on_g = {"guarantee_id": G}
    on_c = {"guarantee_id": G, "claim_id": C}
    return {
        "institution.registered": {"institution_id": f"NEW-{n}", "name": "New", "kind": "bank"},
        "program.registered": {"program_id": f"P-{n}", "name": "P", "terms": terms},
        "program.amended": {"program_id": "national-sme-tech-2024", "terms": terms},
        "sme.registered": {"sme_id": SME, "name": "Again"},
        "sme.eligibility_recorded": {
            "sme_id": SME,
            "category": "high_tech",
            "reference": "R",
            "valid_from": "2025-01-01",
            "valid_until": "2025-12-31",
        },
        "guarantee.issued": {
            "guarantee_id": f"G-M-{n}",
            "program_id": "national-sme-tech-2024",
            "sme_id": SME,
            "bank_id": BANK,
            "guarantor_id": GUAR,
            "reguarantor_id": REG,
            "loan_amount": 1000,
            "fee_rate_bp": 10,
            "start_date": "2025-06-01",
            "maturity_date": "2026-06-01",
        },
        "loan.repaid": {**on_g, "amount": 1},
        "guarantee.renewed": {**on_g, "maturity_date": "2026-09-01"},
        "guarantee.released": on_g,
        "loan.defaulted": {**on_g, "overdue_principal": 1, "default_date": "2025-12-01"},
        "claim.filed": {**on_g, "claim_id": f"C-M-{n}", "amount": 1},
        "claim.approved": {**on_c, "approved_amount": 1},
        "claim.rejected": {**on_c, "reason": "no"},
        "compensation.paid": on_c,
        "recovery.recorded": {**on_c, "amount": 1},
        "claim.closed": on_c,
    }[event_type]


ALLOWED: dict[str, set[str]] = {
    "institution.registered": {"admin"},
    "program.registered": {"admin"},
    "program.amended": {"admin"},
    "sme.registered": GUARANTORS_AND_REVIEWERS,
    "sme.eligibility_recorded": {REVIEW, "OTHER-REVIEW"},
    "guarantee.issued": {GUAR},
    "loan.repaid": {BANK},
    "loan.defaulted": {BANK},
    "claim.filed": {BANK},
    "guarantee.renewed": {GUAR},
    "claim.approved": {GUAR},
    "claim.rejected": {GUAR},
    "compensation.paid": {GUAR},
    "recovery.recorded": {GUAR},
    "claim.closed": {GUAR},
    "guarantee.released": {BANK, GUAR},
}
"""Who may post each event type on the demo's guarantee (docs/rules.md)."""


@pytest.fixture
async def served(db_dsn: str, aiohttp_client: ClientFactory) -> Client:
    """The app with its read models, the whole demo loaded, and the other institutions."""
    return await aiohttp_client(create_app(db_dsn, pool_size=4, limits=FAST, projections=True))


async def _headers(keys: Keys, actor: str) -> dict[str, str]:
    return (
        await keys.role(actor) if actor in ("admin", "auditor", "reader") else await keys.of(actor)
    )


async def _load(client: Client, keys: Keys) -> int:
    admin = await keys.role("admin")
    posted = [institution(i, kind) for i, kind in OTHERS.items()]
    posted += [step.envelope() for step in scenario() if step.poster == "admin"]
    r = await client.post("/v1/events", json=posted, headers=admin)
    assert r.status == 201, await r.text()
    for step in scenario():
        if step.poster != "admin":
            r = await client.post(
                "/v1/events", json=step.envelope(), headers=await _headers(keys, step.poster)
            )
            assert r.status == 201, await r.text()
    return len(posted) + sum(1 for s in scenario() if s.poster != "admin")


async def test_only_the_named_party_may_post_each_event_type(served: Client, keys: Keys) -> None:
    await _load(served, keys)
    wrong = []
    for n, (event_type, allowed) in enumerate(sorted(ALLOWED.items())):
        for m, actor in enumerate(ACTORS):
            body = envelope(event_type, _data(event_type, n * 100 + m), event_id=uuid.uuid4())
            r = await served.post("/v1/events", json=body, headers=await _headers(keys, actor))
            refused = r.status == 403
            if refused == (actor in allowed) or r.status in (401, 500):
                wrong.append((event_type, actor, r.status, await r.text()))
    assert wrong == []


READS: dict[str, set[str]] = {
    "/v1/events": {"admin", "auditor"},
    "/v1/audit/verify": {"admin", "auditor"},
    f"/v1/streams/guarantee-{G}": {"admin", "auditor", BANK, GUAR, REG, FUND},
    f"/v1/streams/institution-{BANK}": {"admin", "auditor", BANK},
    "/v1/streams/program-national-sme-tech-2024": set(ACTORS) - {"reader"},
    f"/v1/streams/sme-{SME}": set(ACTORS) - {"reader"},
    f"/v1/smes/{SME}/exposure": set(ACTORS),
    "/v1/programs/national-sme-tech-2024": set(ACTORS),
    f"/v1/guarantees/{G}": {"admin", "auditor", "reader", BANK, GUAR, REG, FUND},
    f"/v1/claims/{C}": {"admin", "auditor", "reader", BANK, GUAR, REG, FUND},
    f"/v1/institutions/{GUAR}/position": {"admin", "auditor", "reader", GUAR},
}
"""Who may read each endpoint (docs/api.md; streams as documented in ledger/http/access.py)."""


def _wait_for(path: str, head: int) -> str:
    read_model = path.startswith(("/v1/smes", "/v1/programs", "/v1/guarantees", "/v1/claims"))
    return f"?min_position={head}" if read_model or path.startswith("/v1/institutions") else ""


async def test_every_read_endpoint_answers_only_its_readers(served: Client, keys: Keys) -> None:
    head = await _load(served, keys)
    wrong = []
    for path, allowed in READS.items():
        for actor in ACTORS:
            r = await served.get(path + _wait_for(path, head), headers=await _headers(keys, actor))
            expected = 200 if actor in allowed else 403
            if r.status != expected:
                wrong.append((path, actor, r.status, await r.text()))
    assert wrong == []
