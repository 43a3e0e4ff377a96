"""A realistic guarantee history posted through the ledger, step by step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from events.stored import Actor
from ledger.posting import Ledger
from ledger.seeds import (
    BANK_ID,
    GUARANTOR_ID,
    REGUARANTOR_ID,
    REVIEWER_ID,
    SEED_INSTITUTIONS,
    SME_ID,
    load_seed_programs,
)
from tests.factory import ADMIN, actor, envelope, posted

PROGRAM = "national-sme-tech-2024"
SECOND_SME = "91440300708461136T"
GUARANTOR = actor("guarantor", GUARANTOR_ID)
BANK = actor("bank", BANK_ID)
REVIEWER = actor("reviewer", REVIEWER_ID)


def _data(struct: msgspec.Struct) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(struct)
    return data


def _issued(guarantee_id: str, sme_id: str, amount: int) -> dict[str, Any]:
    return envelope(
        "guarantee.issued",
        {
            "guarantee_id": guarantee_id,
            "program_id": PROGRAM,
            "sme_id": sme_id,
            "bank_id": BANK_ID,
            "guarantor_id": GUARANTOR_ID,
            "reguarantor_id": REGUARANTOR_ID,
            "loan_amount": amount,
            "fee_rate_bp": 80,
            "start_date": "2025-03-01",
            "maturity_date": "2026-03-01",
        },
    )


def _eligible(sme_id: str, category: str) -> dict[str, Any]:
    return envelope(
        "sme.eligibility_recorded",
        {
            "sme_id": sme_id,
            "category": category,
            "reference": f"MIIT-{sme_id[-4:]}",
            "valid_from": "2024-07-01",
            "valid_until": "2027-06-30",
        },
    )


def _claim(type_: str, **extra: Any) -> dict[str, Any]:
    return envelope(type_, {"guarantee_id": "G-1", "claim_id": "C-1", **extra})


def steps() -> list[tuple[list[dict[str, Any]], Actor]]:
    """Each step: the envelopes of one post (a batch when several) and who posts it."""
    return [
        ([envelope("institution.registered", _data(i)) for i in SEED_INSTITUTIONS], ADMIN),
        ([envelope("program.registered", _data(p)) for p in load_seed_programs()], ADMIN),
        ([envelope("sme.registered", {"sme_id": SME_ID, "name": "Photonics"})], GUARANTOR),
        ([envelope("sme.registered", {"sme_id": SECOND_SME, "name": "Sensors"})], REVIEWER),
        ([_eligible(SME_ID, "little_giant"), _eligible(SECOND_SME, "high_tech")], REVIEWER),
        ([_issued("G-1", SME_ID, 1_000_000_000)], GUARANTOR),
        ([_issued("G-2", SECOND_SME, 500_000_000)], GUARANTOR),
        ([envelope("loan.repaid", {"guarantee_id": "G-2", "amount": 100_000_000})], BANK),
        (
            [
                envelope(
                    "loan.defaulted",
                    {
                        "guarantee_id": "G-1",
                        "overdue_principal": 600_000_000,
                        "default_date": "2025-09-01",
                    },
                ),
                _claim("claim.filed", amount=600_000_000),
            ],
            BANK,
        ),
        ([_claim("claim.approved", approved_amount=600_000_000)], GUARANTOR),
        ([_claim("compensation.paid")], GUARANTOR),
        ([_claim("recovery.recorded", amount=100_000_000)], GUARANTOR),
        ([_claim("claim.closed")], GUARANTOR),
        ([envelope("guarantee.released", {"guarantee_id": "G-2"})], GUARANTOR),
    ]


async def play(ledger: Ledger) -> AsyncIterator[int]:
    """Post every step; yield the head position after each."""
    for envelopes, who in steps():
        result = await ledger.post(posted(*envelopes), who, batch=len(envelopes) > 1)
        yield result.receipts[-1].position


async def play_all(ledger: Ledger) -> int:
    """Post the whole scenario; return the head position."""
    positions = [position async for position in play(ledger)]
    return positions[-1]
