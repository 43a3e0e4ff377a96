"""Repayment, renewal, release and default: states, posters, balances and the cap."""

from __future__ import annotations

import datetime as dt

import pytest

from events import payloads as p
from events.stored import Actor
from tests.unit.rules.world import (
    BANK,
    GUAR,
    NATIONAL,
    REGUAR,
    World,
    claim_events,
    compensate,
    issued,
    key,
    seeded,
    terms,
)

G = "G-1"


def active(loan: int = 1_000_000_000) -> World:
    """A seeded world with one active national guarantee G-1."""
    w = seeded()
    w.post(issued(G, loan_amount=loan))
    return w


def repaid(amount: int) -> p.LoanRepaid:
    return p.LoanRepaid(guarantee_id=G, amount=amount)


def renewed(maturity: dt.date, balance: int | None = None) -> p.GuaranteeRenewed:
    return p.GuaranteeRenewed(guarantee_id=G, maturity_date=maturity, balance=balance)


def to_status(w: World, status: str) -> None:
    """Drive G-1 from active to `status` along the state machine."""
    steps: dict[str, list[p.Payload]] = {
        "active": [],
        "defaulted": claim_events(G, "C-1", 1, 1)[:1],
        "claimed": claim_events(G, "C-1", 100, 100)[:2],
        "approved": claim_events(G, "C-1", 100, 100),
        "released": [p.GuaranteeReleased(guarantee_id=G)],
    }
    if status in ("compensated", "closed"):
        compensate(w, G, "C-1", 100)
        if status == "closed":
            w.post(p.ClaimClosed(guarantee_id=G, claim_id="C-1"))
    else:
        for event in steps[status]:
            w.post(event)
    assert w.g(G).status == status


@pytest.mark.parametrize("status", ["active", "defaulted"])
def test_a_repayment_lowers_the_balance_in_active_and_defaulted(status: str) -> None:
    w = active()
    to_status(w, status)
    w.post(repaid(300_000_000))
    assert w.g(G).balance == 700_000_000
    assert w.balance() == 700_000_000


def test_a_repayment_never_takes_the_balance_below_zero() -> None:
    w = active(1_000)
    w.post(repaid(1_500))
    assert (w.g(G).balance, w.balance()) == (0, 0)


@pytest.mark.parametrize("status", ["claimed", "approved", "compensated", "closed", "released"])
def test_a_repayment_in_other_states_is_invalid_state(status: str) -> None:
    w = active()
    to_status(w, status)
    refusal = w.refuse(repaid(1))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")
    assert refusal.extra == {"guarantee_status": status}


@pytest.mark.parametrize(
    "event",
    [
        p.LoanRepaid(guarantee_id="G-none", amount=1),
        p.GuaranteeRenewed(guarantee_id="G-none", maturity_date=dt.date(2027, 1, 1)),
        p.GuaranteeReleased(guarantee_id="G-none"),
        p.LoanDefaulted(
            guarantee_id="G-none", overdue_principal=1, default_date=dt.date(2026, 1, 1)
        ),
        p.ClaimFiled(guarantee_id="G-none", claim_id="C-1", amount=1),
        p.ClaimApproved(guarantee_id="G-none", claim_id="C-1", approved_amount=1),
        p.ClaimRejected(guarantee_id="G-none", claim_id="C-1", reason="no"),
        p.CompensationPaid(guarantee_id="G-none", claim_id="C-1"),
        p.RecoveryRecorded(guarantee_id="G-none", claim_id="C-1", amount=1),
        p.ClaimClosed(guarantee_id="G-none", claim_id="C-1"),
    ],
)
def test_an_event_on_an_unknown_guarantee_is_invalid_state(event: p.Payload) -> None:
    w = active()
    refusal = w.refuse(event, key(BANK))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


@pytest.mark.parametrize(
    ("event", "wrong"),
    [
        (repaid(1), GUAR),
        (
            p.LoanDefaulted(guarantee_id=G, overdue_principal=1, default_date=dt.date(2026, 1, 1)),
            GUAR,
        ),
        (renewed(dt.date(2028, 1, 1)), BANK),
        (p.GuaranteeReleased(guarantee_id=G), REGUAR),
    ],
)
def test_events_posted_by_another_party_are_forbidden(event: p.Payload, wrong: str) -> None:
    w = active()
    refusal = w.refuse(event, key(wrong))
    assert (refusal.status, refusal.slug) == (403, "forbidden")


@pytest.mark.parametrize("role", ["reader", "auditor"])
def test_a_read_only_key_is_refused_before_the_guarantee_is_looked_up(role: str) -> None:
    w = active()
    refusal = w.refuse(p.LoanRepaid(guarantee_id="G-none", amount=1), Actor(role=role))
    assert (refusal.status, refusal.slug) == (403, "forbidden")
    assert "may not post events" in refusal.detail


def test_a_party_refused_is_told_who_may_post_and_a_stranger_only_which_role() -> None:
    w = active()
    to_party = w.refuse(repaid(1), key(GUAR))
    to_stranger = w.refuse(repaid(1), key("OTHER-BANK"))
    assert to_party.detail.endswith(f"may be posted only by {BANK}")
    assert to_stranger.detail.endswith("may be posted only by its bank")
    assert BANK not in to_stranger.detail


def test_a_renewal_moves_the_maturity_within_the_term_of_the_first_start_date() -> None:
    w = active()
    w.post(renewed(dt.date(2028, 3, 1)))
    w.post(renewed(dt.date(2030, 3, 1)))
    assert w.g(G).maturity_date == dt.date(2030, 3, 1)


def test_a_renewal_beyond_the_term_of_the_first_start_date_is_invalid_state() -> None:
    # docs/rules.md: refused like a post out of turn, with the state machine's refusals.
    w = active()
    w.post(renewed(dt.date(2028, 3, 1)))
    refusal = w.refuse(renewed(dt.date(2030, 3, 2)))
    assert (refusal.status, refusal.slug, refusal.extra) == (
        409,
        "invalid-state",
        {"max_term_months": 60},
    )


def test_a_renewal_keeps_the_term_limit_of_the_version_the_guarantee_was_issued_under() -> None:
    w = active()
    w.post(p.ProgramAmended(program_id=NATIONAL.program_id, terms=terms(max_term_months=12)))
    w.post(renewed(dt.date(2030, 3, 1)))
    w.post(issued("G-2", loan_amount=1, maturity_date=dt.date(2026, 3, 1)))
    refusal = w.refuse(p.GuaranteeRenewed(guarantee_id="G-2", maturity_date=dt.date(2026, 3, 2)))
    assert refusal.extra == {"max_term_months": 12}


def test_a_renewal_may_set_a_new_balance_up_to_the_loan_amount() -> None:
    w = active()
    w.post(repaid(400_000_000))
    w.post(renewed(dt.date(2028, 3, 1), balance=1_000_000_000))
    assert (w.g(G).balance, w.balance()) == (1_000_000_000, 1_000_000_000)


def test_a_renewal_balance_above_the_loan_amount_is_a_validation_error() -> None:
    w = active()
    refusal = w.refuse(renewed(dt.date(2028, 3, 1), balance=1_000_000_001))
    assert (refusal.status, refusal.slug, refusal.path) == (
        422,
        "validation-error",
        "$.data.balance",
    )


def test_a_renewal_raising_the_balance_past_the_per_sme_cap_is_cap_exceeded() -> None:
    w = active()
    w.post(issued("G-2", loan_amount=2_000_000_000))
    w.post(repaid(500_000_000))
    w.post(issued("G-3", loan_amount=400_000_000))
    refusal = w.refuse(renewed(dt.date(2028, 3, 1), balance=1_000_000_000))
    assert (refusal.status, refusal.slug) == (409, "cap-exceeded")
    assert refusal.extra == {
        "balance": 2_900_000_000,
        "cap": 3_000_000_000,
        "requested": 500_000_000,
    }
    w.post(renewed(dt.date(2028, 3, 1), balance=600_000_000))
    assert w.balance() == 3_000_000_000


@pytest.mark.parametrize("status", ["defaulted", "claimed", "released", "closed"])
def test_a_renewal_outside_active_is_invalid_state(status: str) -> None:
    w = active()
    to_status(w, status)
    refusal = w.refuse(renewed(dt.date(2028, 3, 1)))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


@pytest.mark.parametrize("poster", [BANK, GUAR])
def test_the_bank_or_the_guarantor_releases_an_active_guarantee(poster: str) -> None:
    w = active()
    w.post(p.GuaranteeReleased(guarantee_id=G), key(poster))
    assert (w.g(G).status, w.balance()) == ("released", 0)


def test_a_released_guarantee_frees_its_room_under_the_cap() -> None:
    w = active(3_000_000_000)
    assert w.refuse(issued("G-2", loan_amount=1)).slug == "cap-exceeded"
    w.post(p.GuaranteeReleased(guarantee_id=G))
    w.post(issued("G-2", loan_amount=3_000_000_000))
    assert w.balance() == 3_000_000_000


@pytest.mark.parametrize("status", ["defaulted", "approved", "compensated", "released"])
def test_a_release_outside_active_is_invalid_state(status: str) -> None:
    w = active()
    to_status(w, status)
    refusal = w.refuse(p.GuaranteeReleased(guarantee_id=G))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


def test_a_default_moves_an_active_guarantee_to_defaulted_keeping_its_balance() -> None:
    w = active()
    w.post(p.LoanDefaulted(guarantee_id=G, overdue_principal=5, default_date=dt.date(2026, 1, 1)))
    assert (w.g(G).status, w.balance()) == ("defaulted", 1_000_000_000)


@pytest.mark.parametrize("status", ["defaulted", "claimed", "released"])
def test_a_default_outside_active_is_invalid_state(status: str) -> None:
    w = active()
    to_status(w, status)
    refusal = w.refuse(
        p.LoanDefaulted(guarantee_id=G, overdue_principal=1, default_date=dt.date(2026, 1, 1))
    )
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


def test_overdue_principal_above_the_balance_is_a_validation_error() -> None:
    w = active(1_000)
    refusal = w.refuse(
        p.LoanDefaulted(guarantee_id=G, overdue_principal=1_001, default_date=dt.date(2026, 1, 1))
    )
    assert (refusal.status, refusal.path) == (422, "$.data.overdue_principal")
