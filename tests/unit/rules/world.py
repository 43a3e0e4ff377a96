"""A decision state built by folding events through `decide`, with each event's natural poster."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from events import payloads as p
from events.credit_code import check_character
from events.derived import Derived
from events.stored import Actor
from events.terms import ProgramTerms
from ledger import seeds
from ledger.rules.decide import decide
from ledger.rules.refusal import Refusal
from ledger.rules.state import GuaranteeState, View

ADMIN = Actor(role="admin")
NATIONAL, LIANGJIANG = seeds.load_seed_programs()
FUND, BANK, GUAR, REGUAR, POOL, REVIEWER = (
    seeds.NATIONAL_FUND_ID,
    seeds.BANK_ID,
    seeds.GUARANTOR_ID,
    seeds.REGUARANTOR_ID,
    seeds.POOL_ID,
    seeds.REVIEWER_ID,
)
KINDS = {i.institution_id: i.kind for i in seeds.SEED_INSTITUTIONS}
START = dt.date(2025, 3, 1)
MATURITY = dt.date(2027, 3, 1)

_ADMIN_TYPES = frozenset(
    {
        "institution.registered",
        "program.registered",
        "program.amended",
        "institution.net_assets_recorded",
        "institution.limits_set",
        "limit.reinstated",
    }
)
_BANK_TYPES = frozenset({"loan.repaid", "loan.defaulted", "claim.filed"})


def sme_code(n: int) -> str:
    """A valid unified social credit code, distinct for each n."""
    first17 = f"91500000{n:09d}"
    return first17 + check_character(first17)


SME = seeds.SME_ID
"""The little-giant SME of most tests."""


def key(institution_id: str) -> Actor:
    """The actor of an institution's key (its role is its kind)."""
    return Actor(role=KINDS.get(institution_id, "bank"), institution_id=institution_id)


def terms(base: ProgramTerms = NATIONAL.terms, **changes: Any) -> ProgramTerms:
    """Program terms with some fields replaced, validated like posted terms."""
    raw = msgspec.to_builtins(base)
    raw.update(changes)
    return msgspec.convert(raw, ProgramTerms)


def issued(guarantee_id: str = "G-1", **changes: Any) -> p.GuaranteeIssued:
    """A guarantee.issued under the national program for the little-giant SME."""
    data: dict[str, Any] = {
        "guarantee_id": guarantee_id,
        "program_id": NATIONAL.program_id,
        "sme_id": SME,
        "bank_id": BANK,
        "guarantor_id": GUAR,
        "reguarantor_id": REGUAR,
        "loan_amount": 1_000_000_000,
        "fee_rate_bp": 80,
        "start_date": START,
        "maturity_date": MATURITY,
    }
    data.update(changes)
    return p.GuaranteeIssued(**data)


def eligibility(sme_id: str, category: str, **changes: Any) -> p.SmeEligibilityRecorded:
    """An eligibility valid from 2024-07-01 to 2027-06-30 unless changed."""
    data: dict[str, Any] = {
        "sme_id": sme_id,
        "category": category,
        "reference": f"REF-{category}",
        "valid_from": dt.date(2024, 7, 1),
        "valid_until": dt.date(2027, 6, 30),
    }
    data.update(changes)
    return p.SmeEligibilityRecorded(**data)


def snapshot(view: View) -> tuple[object, ...]:
    """Everything in a View, in a form compared cheaply (deepcopy dominates property runs)."""
    encode = msgspec.msgpack.encode
    return (
        encode(view.institutions),
        encode(view.programs),
        encode(view.smes),
        encode(view.guarantees),
        sorted(view.claim_owner.items()),
        sorted(view.sme_balance.items()),
        sorted(view.program_volume.items()),
        encode(view.guarantor_limits),
        sorted(view.guarantor_in_force.items()),
        sorted(view.guarantor_sme.items()),
        sorted((k, encode(b)) for k, b in view.breakers.items()),
        sorted(view.dirty),
    )


class World:
    """A View and the accepted events that built it; each event posted by its natural poster."""

    def __init__(self) -> None:
        self.view = View()
        self.accepted: list[tuple[p.Payload, Actor, Derived]] = []
        self.at: dt.datetime | None = None
        """Business time of the events decided next (None: the breakers are left out)."""

    def poster(self, payload: p.Payload) -> Actor:
        """The key the rules (docs/rules.md) name for this event."""
        if payload.TYPE in _ADMIN_TYPES:
            return ADMIN
        if isinstance(payload, p.SmeRegistered | p.SmeEligibilityRecorded):
            return key(REVIEWER)
        if isinstance(payload, p.GuaranteeIssued):
            return key(payload.guarantor_id)
        g = self.view.guarantees.get(payload.guarantee_id)  # type: ignore[union-attr]
        if g is None:
            return key(GUAR)
        return key(g.bank_id if payload.TYPE in _BANK_TYPES else g.guarantor_id)

    def post(self, payload: p.Payload, actor: Actor | None = None) -> Derived:
        """Decide an event that must be accepted; return its derived facts."""
        who = actor or self.poster(payload)
        derived = decide(self.view, payload.TYPE, payload, who, self.at)
        self.accepted.append((payload, who, derived))
        return derived

    def refuse(self, payload: p.Payload, actor: Actor | None = None) -> Refusal:
        """Decide an event that must be refused, and check the state did not change."""
        before = snapshot(self.view)
        with pytest.raises(Refusal) as refused:
            decide(self.view, payload.TYPE, payload, actor or self.poster(payload), self.at)
        assert snapshot(self.view) == before, "a refused event changed the decision state"
        return refused.value

    def g(self, guarantee_id: str = "G-1") -> GuaranteeState:
        """A guarantee's decision state."""
        return self.view.guarantees[guarantee_id]

    def balance(self, sme_id: str = SME, program_id: str = NATIONAL.program_id) -> int:
        """The SME's in-force balance in a program, as the cap check sees it."""
        return self.view.sme_balance.get((sme_id, program_id), 0)


def seeded(*categories: str) -> World:
    """Seed institutions and both seed programs; SME registered with these eligibilities."""
    w = World()
    for institution in seeds.SEED_INSTITUTIONS:
        w.post(institution)
    w.post(NATIONAL)
    w.post(LIANGJIANG)
    w.post(p.SmeRegistered(sme_id=SME, name="Chongqing Photonics Co., Ltd."))
    for category in categories or ("little_giant",):
        w.post(eligibility(SME, category))
    return w


def claim_events(guarantee_id: str, claim_id: str, amount: int, approved: int) -> list[p.Payload]:
    """Default, file, approve: the events leading a guarantee to an approved claim."""
    return [
        p.LoanDefaulted(
            guarantee_id=guarantee_id,
            overdue_principal=amount,
            default_date=dt.date(2026, 1, 10),
        ),
        p.ClaimFiled(guarantee_id=guarantee_id, claim_id=claim_id, amount=amount),
        p.ClaimApproved(guarantee_id=guarantee_id, claim_id=claim_id, approved_amount=approved),
    ]


def compensate(w: World, guarantee_id: str, claim_id: str, loss: int) -> Derived:
    """Default, claim and approve `loss`, then pay: return the compensation's derived facts."""
    for event in claim_events(guarantee_id, claim_id, loss, loss):
        w.post(event)
    return w.post(p.CompensationPaid(guarantee_id=guarantee_id, claim_id=claim_id))
