"""The demo scenario: a year of business dated across 2025, and a recovery in 2026.

The seed programs and institutions are registered on 2 January 2025, guarantees
issued in the first and second quarters, a loan repaid and renewed, one defaulted
in the third quarter and compensated in the fourth, a recovery comes in 2026-Q1.
The guarantor files its statement for 2025-Q2 in July, and a repayment made in
June is only reported after that: statements, the books as of any date and the
comparison with the filed statement all show real movement.

Event ids are derived from the step names, so loading the demo twice reposts the
same events and the ledger answers each with its original receipt (200).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from ledger.seeds import (
    BANK_ID,
    GUARANTOR_ID,
    POOL_ID,
    REGUARANTOR_ID,
    REVIEWER_ID,
    SEED_INSTITUTIONS,
    SME_ID,
    load_seed_programs,
)

_NAMESPACE = uuid.UUID("6c656467-6572-2d64-656d-6f2d73636e72")
NATIONAL = "national-sme-tech-2024"
LIANGJIANG = "liangjiang-sci-tech-growth"
SME_HIGH_TECH = "91500000MA60XJ2K25"
SME_LIANGJIANG = "91500112MA5YQ7LT0Y"
ADMIN = "admin"
FILING_STEP = "file 2025-Q2 statement of " + GUARANTOR_ID


@dataclass(frozen=True)
class Step:
    """One event of the scenario, who posts it (an institution id or "admin"), and why."""

    name: str
    poster: str
    type: str
    data: dict[str, Any]
    day: str = "2025-01-02"
    """The business date it happened (at 10:00 in Asia/Shanghai)."""

    def envelope(self) -> dict[str, Any]:
        """The envelope as posted, its event id fixed by the step name."""
        event_id = uuid.uuid5(_NAMESPACE, self.name)
        return {
            "event_id": str(event_id),
            "type": self.type,
            "occurred_at": f"{self.day}T10:00:00+08:00",
            "data": self.data,
        }


def _g(guarantee_id: str, **data: Any) -> dict[str, Any]:
    return {"guarantee_id": guarantee_id, **data}


def _limits() -> list[Step]:
    """The guarantor's net assets (2 000 000 000 yuan) and its regulatory limits:
    15 times net assets in force, 10% of them to any one SME."""
    return [
        Step(
            f"net assets {GUARANTOR_ID}",
            ADMIN,
            "institution.net_assets_recorded",
            {"institution_id": GUARANTOR_ID, "net_assets": 200_000_000_000, "as_of": "2024-12-31"},
        ),
        Step(
            f"limits {GUARANTOR_ID}",
            ADMIN,
            "institution.limits_set",
            {"institution_id": GUARANTOR_ID, "max_leverage_x100": 1500, "max_single_sme_bp": 1000},
        ),
    ]


def scenario() -> list[Step]:
    """Every step of the demo, in order."""
    steps = [
        Step(
            f"register {i.institution_id}", ADMIN, "institution.registered", msgspec.to_builtins(i)
        )
        for i in SEED_INSTITUTIONS
    ]
    steps += [
        Step(f"register {p.program_id}", ADMIN, "program.registered", msgspec.to_builtins(p))
        for p in load_seed_programs()
    ]
    smes = [
        (SME_ID, "Chongqing Quantum Sensing Co.", "little_giant"),
        (SME_HIGH_TECH, "Chongqing Battery Materials Co.", "high_tech"),
        (SME_LIANGJIANG, "Liangjiang Robotics Co.", "recommended"),
    ]
    for sme_id, name, category in smes:
        steps.append(
            Step(
                f"register {sme_id}",
                REVIEWER_ID,
                "sme.registered",
                {"sme_id": sme_id, "name": name},
                "2025-01-06",
            )
        )
        steps.append(
            Step(
                f"eligibility {sme_id}",
                REVIEWER_ID,
                "sme.eligibility_recorded",
                {
                    "sme_id": sme_id,
                    "category": category,
                    "reference": f"REVIEW-2025-{sme_id[-4:]}",
                    "valid_from": "2025-01-01",
                    "valid_until": "2027-12-31",
                },
                "2025-01-06",
            )
        )
    steps += _limits()
    national = {
        "program_id": NATIONAL,
        "bank_id": BANK_ID,
        "guarantor_id": GUARANTOR_ID,
        "reguarantor_id": REGUARANTOR_ID,
        "fee_rate_bp": 80,
    }
    steps += [
        Step(
            "issue G-NAT-001",
            GUARANTOR_ID,
            "guarantee.issued",
            _g(
                "G-NAT-001",
                sme_id=SME_ID,
                loan_amount=1_000_000_000,
                start_date="2025-03-01",
                maturity_date="2026-03-01",
                **national,
            ),
            "2025-03-01",
        ),
        Step(
            "issue G-NAT-002",
            GUARANTOR_ID,
            "guarantee.issued",
            _g(
                "G-NAT-002",
                sme_id=SME_HIGH_TECH,
                loan_amount=500_000_000,
                start_date="2025-04-01",
                maturity_date="2026-04-01",
                **national,
            ),
            "2025-04-01",
        ),
        Step(
            "issue G-LJ-001",
            POOL_ID,
            "guarantee.issued",
            _g(
                "G-LJ-001",
                program_id=LIANGJIANG,
                sme_id=SME_LIANGJIANG,
                bank_id=BANK_ID,
                guarantor_id=POOL_ID,
                loan_amount=800_000_000,
                fee_rate_bp=50,
                start_date="2025-05-01",
                maturity_date="2026-05-01",
            ),
            "2025-05-01",
        ),
        Step(
            "repay G-NAT-002",
            BANK_ID,
            "loan.repaid",
            _g("G-NAT-002", amount=100_000_000),
            "2025-06-15",
        ),
        Step(
            "renew G-NAT-002",
            GUARANTOR_ID,
            "guarantee.renewed",
            _g("G-NAT-002", maturity_date="2027-04-01"),
            "2025-06-20",
        ),
        Step(
            FILING_STEP,
            GUARANTOR_ID,
            "statement.filed",
            {"institution_id": GUARANTOR_ID, "from": "2025-04-01", "to": "2025-06-30"},
            "2025-07-05",
        ),
        Step(
            "repay G-LJ-001",
            BANK_ID,
            "loan.repaid",
            _g("G-LJ-001", amount=800_000_000),
            "2025-07-10",
        ),
        Step("release G-LJ-001", POOL_ID, "guarantee.released", _g("G-LJ-001"), "2025-07-15"),
        Step(
            "default G-NAT-001",
            BANK_ID,
            "loan.defaulted",
            _g("G-NAT-001", overdue_principal=600_000_000, default_date="2025-08-20"),
            "2025-08-20",
        ),
        Step(
            "file C-NAT-001",
            BANK_ID,
            "claim.filed",
            _g("G-NAT-001", claim_id="C-NAT-001", amount=600_000_000),
            "2025-09-05",
        ),
        Step(
            "approve C-NAT-001",
            GUARANTOR_ID,
            "claim.approved",
            _g("G-NAT-001", claim_id="C-NAT-001", approved_amount=600_000_000),
            "2025-09-25",
        ),
        Step(
            "compensate C-NAT-001",
            GUARANTOR_ID,
            "compensation.paid",
            _g("G-NAT-001", claim_id="C-NAT-001"),
            "2025-10-15",
        ),
        Step(
            "recover C-NAT-001",
            GUARANTOR_ID,
            "recovery.recorded",
            _g("G-NAT-001", claim_id="C-NAT-001", amount=100_000_000),
            "2026-02-10",
        ),
        # Made in June, reported to the ledger only after the quarter was filed.
        Step(
            "late repay G-NAT-002",
            BANK_ID,
            "loan.repaid",
            _g("G-NAT-002", amount=50_000_000),
            "2025-06-28",
        ),
    ]
    return steps


def posters() -> list[str]:
    """The institutions whose keys the demo needs (admin aside)."""
    return sorted({s.poster for s in scenario()} - {ADMIN})
