"""A year of guarantee business with explicit business times, posted through the ledger."""

from __future__ import annotations

import datetime as dt

from events import payloads as p
from events.stored import Actor
from ledger import seeds
from ledger.runtime import Runtime
from tests.factory import posted
from tests.integration.domain.scenario import as_posted, post
from tests.unit.rules.world import ADMIN, BANK, GUAR, REVIEWER, SME, eligibility, issued, key

SECOND_SME = "91440300708461136T"
PROGRAM = "national-sme-tech-2024"

Dated = tuple[p.Payload, Actor, str]
"""An event, who posts it, and its occurred_at."""


def _t(day: str) -> str:
    return f"{day}T10:00:00+08:00"


def year() -> list[Dated]:
    """2025: two issuances (Q1, Q2), a repayment, a default (Q3), compensation (Q4), a
    release, and a recovery in 2026-Q1."""
    claim = {"guarantee_id": "G-1", "claim_id": "C-1"}
    return [
        (issued("G-1", loan_amount=1_000_000_000), key(GUAR), _t("2025-02-10")),
        (
            issued("G-2", sme_id=SECOND_SME, loan_amount=500_000_000),
            key(GUAR),
            _t("2025-05-05"),
        ),
        (p.LoanRepaid(guarantee_id="G-2", amount=100_000_000), key(BANK), _t("2025-06-15")),
        (
            p.LoanDefaulted(
                guarantee_id="G-1", overdue_principal=600_000_000, default_date=dt.date(2025, 8, 20)
            ),
            key(BANK),
            _t("2025-08-20"),
        ),
        (p.ClaimFiled(**claim, amount=600_000_000), key(BANK), _t("2025-09-01")),
        (p.ClaimApproved(**claim, approved_amount=600_000_000), key(GUAR), _t("2025-09-10")),
        (p.CompensationPaid(**claim), key(GUAR), _t("2025-10-15")),
        (p.GuaranteeReleased(guarantee_id="G-2"), key(GUAR), _t("2025-11-30")),
        (p.RecoveryRecorded(**claim, amount=100_000_000), key(GUAR), _t("2026-02-01")),
    ]


async def seed_dated(rt: Runtime) -> None:
    """Institutions and programs registered on 2025-01-02, SMEs eligible from 2025-01-03."""
    registers: list[p.Payload] = [*seeds.SEED_INSTITUTIONS, *seeds.load_seed_programs()]
    at = _t("2025-01-02")
    batch = posted(*(as_posted(e, occurred_at=at) for e in registers))
    await rt.ledger.post(batch, ADMIN, batch=True)
    smes: list[p.Payload] = [
        p.SmeRegistered(sme_id=SME, name="Chongqing Photonics Co., Ltd."),
        eligibility(SME, "little_giant"),
        p.SmeRegistered(sme_id=SECOND_SME, name="Shenzhen Sensors Co., Ltd."),
        eligibility(SECOND_SME, "high_tech"),
    ]
    at = _t("2025-01-03")
    batch = posted(*(as_posted(e, occurred_at=at) for e in smes))
    await rt.ledger.post(batch, key(REVIEWER), batch=True)


async def post_dated(rt: Runtime, events: list[Dated]) -> list[int]:
    """Post each event with its occurred_at; return their positions."""
    positions = []
    for payload, actor, when in events:
        result = await post(rt, payload, actor, occurred_at=when)
        positions.append(result.receipts[0].position)
    return positions
