"""Realistic event payloads for the benchmark: a program, institutions, SMEs, guarantees."""

from __future__ import annotations

import uuid
from typing import Any

from events.credit_code import check_character

PROGRAM_ID = "bench-open"
BANK_ID = "BENCH-BANK"
GUARANTOR_ID = "BENCH-GUAR"

PROGRAM_TERMS: dict[str, Any] = {
    "per_sme_cap": 3_000_000_000,
    "loan_amount_min": 1,
    "loan_amount_max": 3_000_000_000,
    "max_term_months": 60,
    "fee_rate_bp_max": 100,
    "eligible_categories": [],
    "shares_bp": {"bank": 2000, "reguarantor": 0, "national_fund": 0, "compensation_pool": 0},
}


def sme_id(n: int) -> str:
    """A valid unified social credit code, distinct for every n."""
    body = f"91500000{n:09d}"  # 2 + 6 digits, then 9 more characters of the alphabet
    return body + check_character(body)


def envelope(type_: str, data: dict[str, Any]) -> dict[str, Any]:
    """An envelope with a fresh event id."""
    return {"event_id": str(uuid.uuid4()), "type": type_, "data": data}


def setup_events() -> list[dict[str, Any]]:
    """The program and the two institutions every guarantee names."""
    return [
        envelope(
            "institution.registered",
            {"institution_id": BANK_ID, "name": "Bench Bank", "kind": "bank"},
        ),
        envelope(
            "institution.registered",
            {"institution_id": GUARANTOR_ID, "name": "Bench Guarantee Co.", "kind": "guarantor"},
        ),
        envelope(
            "program.registered",
            {"program_id": PROGRAM_ID, "name": "Benchmark program", "terms": PROGRAM_TERMS},
        ),
    ]


def sme_registered(n: int) -> dict[str, Any]:
    """Register SME number n."""
    return envelope("sme.registered", {"sme_id": sme_id(n), "name": f"Bench SME {n}"})


def guarantee_issued(n: int, tag: str) -> dict[str, Any]:
    """Guarantee `tag`-n for SME n (each SME its own, so every post runs the cap check)."""
    return envelope(
        "guarantee.issued",
        {
            "guarantee_id": f"G-{tag}-{n}",
            "program_id": PROGRAM_ID,
            "sme_id": sme_id(n),
            "bank_id": BANK_ID,
            "guarantor_id": GUARANTOR_ID,
            "loan_amount": 100_000_000,
            "fee_rate_bp": 80,
            "start_date": "2025-03-01",
            "maturity_date": "2027-03-01",
        },
    )
