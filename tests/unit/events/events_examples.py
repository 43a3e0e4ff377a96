"""Valid example data for every event type, and helpers to post them."""

from __future__ import annotations

import copy
import json
from typing import Any

SME = "91500000MA5U7K3Q8Y"
EVENT_ID = "3f2b8c1e-5a0d-4c55-9b1e-0c8a7d2e4f61"
WITNESS_KEY = "fund-witness+6f89b152+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
"""A C2SP verifier key of an Ed25519 cosignature (type 0x04) key."""

NATIONAL_TERMS: dict[str, Any] = {
    "per_sme_cap": 3000000000,
    "loan_amount_min": 1,
    "loan_amount_max": 3000000000,
    "max_term_months": 60,
    "fee_rate_bp_max": 100,
    "eligible_categories": [
        "little_giant",
        "specialised_sme",
        "national_project",
        "high_tech",
        "innovation_points",
        "tech_sme",
        "innovative_sme",
    ],
    "shares_bp": {"bank": 2000, "reguarantor": 2000, "national_fund": 4000, "compensation_pool": 0},
    "national_fund_bp_by_category": {
        "little_giant": 4000,
        "specialised_sme": 4000,
        "national_project": 4000,
        "high_tech": 3500,
        "innovation_points": 3500,
        "tech_sme": 3000,
        "innovative_sme": 3000,
    },
    "compensation_caps_bp": {"national_fund": 500},
    "parties": {"national_fund": "CN-NFGF"},
}

_EXAMPLES: dict[str, dict[str, Any]] = {
    "institution.registered": {
        "institution_id": "CN-NFGF",
        "name": "National Financing Guarantee Fund",
        "kind": "national_fund",
    },
    "program.registered": {
        "program_id": "national-sme-tech-2024",
        "name": "Support Program for SME Tech Innovation (2024)",
        "terms": NATIONAL_TERMS,
    },
    "program.amended": {"program_id": "national-sme-tech-2024", "terms": NATIONAL_TERMS},
    "sme.registered": {"sme_id": SME, "name": "Chongqing Photonics Co., Ltd."},
    "sme.eligibility_recorded": {
        "sme_id": SME,
        "category": "little_giant",
        "reference": "MIIT-2024-0173",
        "valid_from": "2024-07-01",
        "valid_until": "2027-06-30",
    },
    "guarantee.issued": {
        "guarantee_id": "G-1",
        "program_id": "national-sme-tech-2024",
        "sme_id": SME,
        "bank_id": "CQ-TECH-BANK",
        "guarantor_id": "CQ-SCI-GUAR",
        "reguarantor_id": "CQ-REGUAR",
        "loan_amount": 1000000000,
        "fee_rate_bp": 80,
        "start_date": "2025-03-01",
        "maturity_date": "2026-03-01",
    },
    "loan.repaid": {"guarantee_id": "G-1", "amount": 100000000},
    "guarantee.renewed": {
        "guarantee_id": "G-1",
        "maturity_date": "2027-03-01",
        "balance": 500000000,
    },
    "guarantee.released": {"guarantee_id": "G-1"},
    "loan.defaulted": {
        "guarantee_id": "G-1",
        "overdue_principal": 600000000,
        "default_date": "2025-09-01",
    },
    "claim.filed": {"guarantee_id": "G-1", "claim_id": "C-1", "amount": 600000000},
    "claim.approved": {"guarantee_id": "G-1", "claim_id": "C-1", "approved_amount": 600000000},
    "claim.rejected": {
        "guarantee_id": "G-1",
        "claim_id": "C-1",
        "reason": "Loan documents do not show the guaranteed purpose.",
    },
    "compensation.paid": {"guarantee_id": "G-1", "claim_id": "C-1"},
    "recovery.recorded": {"guarantee_id": "G-1", "claim_id": "C-1", "amount": 100000000},
    "claim.closed": {"guarantee_id": "G-1", "claim_id": "C-1"},
    "institution.net_assets_recorded": {
        "institution_id": "CQ-SCI-GUAR",
        "net_assets": 200000000000,
        "as_of": "2024-12-31",
    },
    "institution.limits_set": {
        "institution_id": "CQ-SCI-GUAR",
        "max_leverage_x100": 1500,
        "max_single_sme_bp": 1000,
    },
    "limit.reinstated": {
        "program_id": "liangjiang-sci-tech-growth",
        "institution_id": "CQ-SCI-GUAR",
        "year": 2025,
        "reason": "Recoveries under way; the review board lifts the suspension.",
    },
    "witness.registered": {
        "witness_id": "W-FUND",
        "name": "National fund's witness",
        "key": WITNESS_KEY,
    },
    "statement.filed": {"institution_id": "CQ-SCI-GUAR", "from": "2025-04-01", "to": "2025-06-30"},
}

TYPES: tuple[str, ...] = tuple(_EXAMPLES)


def example(type_: str, **changes: Any) -> dict[str, Any]:
    """A fresh copy of the example data of a type, with fields changed (None-valued
    changes remove the field)."""
    data = copy.deepcopy(_EXAMPLES[type_])
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def envelope(type_: str, data: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """An envelope around example (or given) data."""
    env: dict[str, Any] = {"event_id": EVENT_ID, "type": type_}
    env.update(fields)
    env["data"] = example(type_) if data is None else data
    return env


def body(obj: Any) -> bytes:
    """Encode a body as a poster would."""
    return json.dumps(obj).encode()
