"""Claims: filing, approval, rejection, compensation, recovery and closing."""

from __future__ import annotations

import datetime as dt

import pytest

from events import payloads as p
from events.derived import CompensationDerived, RecoveryDerived
from events.types import RoleAmounts
from tests.unit.rules.world import (
    BANK,
    GUAR,
    NATIONAL,
    World,
    claim_events,
    issued,
    key,
    seeded,
    terms,
)

G = "G-1"
DEFAULT = p.LoanDefaulted(guarantee_id=G, overdue_principal=1, default_date=dt.date(2026, 1, 1))


def defaulted(loan: int = 1_000_000_000) -> World:
    """A seeded world with one defaulted national guarantee G-1."""
    w = seeded()
    w.post(issued(G, loan_amount=loan))
    w.post(DEFAULT)
    return w


def filed(claim_id: str = "C-1", amount: int = 500_000_000, g: str = G) -> p.ClaimFiled:
    return p.ClaimFiled(guarantee_id=g, claim_id=claim_id, amount=amount)


def approved(amount: int, claim_id: str = "C-1") -> p.ClaimApproved:
    return p.ClaimApproved(guarantee_id=G, claim_id=claim_id, approved_amount=amount)


def paid(claim_id: str = "C-1") -> p.CompensationPaid:
    return p.CompensationPaid(guarantee_id=G, claim_id=claim_id)


def recovered(amount: int, claim_id: str = "C-1") -> p.RecoveryRecorded:
    return p.RecoveryRecorded(guarantee_id=G, claim_id=claim_id, amount=amount)


def closed(claim_id: str = "C-1") -> p.ClaimClosed:
    return p.ClaimClosed(guarantee_id=G, claim_id=claim_id)


def test_a_claim_on_a_defaulted_guarantee_makes_it_claimed() -> None:
    w = defaulted()
    w.post(filed())
    g = w.g(G)
    assert (g.status, g.open_claim, g.claims["C-1"].status) == ("claimed", "C-1", "filed")


def test_a_claim_on_an_active_guarantee_is_invalid_state() -> None:
    w = seeded()
    w.post(issued(G))
    assert w.refuse(filed()).slug == "invalid-state"


def test_a_claim_may_be_for_the_whole_balance_but_not_more() -> None:
    w = defaulted()
    w.post(p.LoanRepaid(guarantee_id=G, amount=200_000_000))
    refusal = w.refuse(filed(amount=800_000_001))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")
    w.post(filed(amount=800_000_000))


def test_only_one_claim_is_open_at_a_time() -> None:
    w = defaulted()
    w.post(filed("C-1"))
    assert w.refuse(filed("C-2")).slug == "invalid-state"


def test_a_claim_id_is_unique_across_guarantees() -> None:
    w = defaulted()
    w.post(filed("C-1"))
    w.post(issued("G-2", loan_amount=100))
    w.post(
        p.LoanDefaulted(guarantee_id="G-2", overdue_principal=1, default_date=dt.date(2026, 1, 1))
    )
    assert w.refuse(filed("C-1", amount=1, g="G-2")).slug == "invalid-state"


def test_only_the_bank_files_a_claim() -> None:
    w = defaulted()
    assert w.refuse(filed(), key(GUAR)).status == 403


def test_approval_of_at_most_the_filed_amount_makes_the_guarantee_approved() -> None:
    w = defaulted()
    w.post(filed(amount=500_000_000))
    assert w.refuse(approved(500_000_001)).slug == "invalid-state"
    w.post(approved(500_000_000))
    assert (w.g(G).status, w.g(G).claims["C-1"].approved_amount) == ("approved", 500_000_000)


def test_approving_a_claim_that_is_not_the_open_one_is_invalid_state() -> None:
    w = defaulted()
    w.post(filed("C-1"))
    assert w.refuse(approved(1, "C-9")).slug == "invalid-state"


def test_only_the_guarantor_approves() -> None:
    w = defaulted()
    w.post(filed())
    assert w.refuse(approved(1), key(BANK)).status == 403


@pytest.mark.parametrize(
    "event", [approved(1), p.ClaimRejected(guarantee_id=G, claim_id="C-1", reason="x"), paid()]
)
def test_claim_decisions_before_a_claim_is_filed_are_invalid_state(event: p.Payload) -> None:
    w = defaulted()
    assert w.refuse(event).slug == "invalid-state"


def test_a_rejection_returns_the_guarantee_to_defaulted_and_allows_a_new_claim() -> None:
    w = defaulted()
    w.post(filed("C-1"))
    w.post(p.ClaimRejected(guarantee_id=G, claim_id="C-1", reason="documents missing"))
    g = w.g(G)
    assert (g.status, g.open_claim, g.claims["C-1"].status) == ("defaulted", None, "rejected")
    assert w.refuse(filed("C-1")).slug == "invalid-state"
    w.post(filed("C-2"))
    assert w.g(G).open_claim == "C-2"


def test_an_approved_claim_cannot_be_rejected() -> None:
    w = defaulted()
    w.post(filed())
    w.post(approved(1))
    refusal = w.refuse(p.ClaimRejected(guarantee_id=G, claim_id="C-1", reason="late"))
    assert refusal.slug == "invalid-state"


def test_compensation_lowers_the_balance_by_the_approved_amount_and_fixes_the_shares() -> None:
    w = defaulted()
    w.post(filed(amount=500_000_000))
    w.post(approved(400_000_000))
    derived = w.post(paid())
    assert isinstance(derived, CompensationDerived)
    assert derived.approved_amount == 400_000_000
    # Fund share 4000 bp of 400 000 000 = 160 000 000, capped at 5% of 1 000 000 000.
    assert derived.shares == RoleAmounts(
        bank=80_000_000, guarantor=190_000_000, reguarantor=80_000_000, national_fund=50_000_000
    )
    g = w.g(G)
    assert (g.status, g.balance, w.balance()) == ("compensated", 600_000_000, 600_000_000)
    assert g.claims["C-1"].status == "compensated"


def test_an_amendment_of_the_caps_leaves_the_split_of_an_earlier_guarantee_as_issued() -> None:
    # docs/rules.md: an amendment applies to guarantees issued after it. The worked
    # example of section 5, with the fund's cap dropped after G-1 was issued.
    w = defaulted()
    w.post(p.ProgramAmended(program_id=NATIONAL.program_id, terms=terms(compensation_caps_bp={})))
    w.post(filed(amount=600_000_000))
    w.post(approved(600_000_000))
    derived = w.post(paid())
    assert isinstance(derived, CompensationDerived)
    assert derived.shares == RoleAmounts(
        bank=120_000_000, guarantor=310_000_000, reguarantor=120_000_000, national_fund=50_000_000
    )


def test_a_guarantee_issued_after_an_amendment_of_the_caps_is_split_by_the_new_ones() -> None:
    w = seeded()
    w.post(p.ProgramAmended(program_id=NATIONAL.program_id, terms=terms(compensation_caps_bp={})))
    w.post(issued(G, loan_amount=1_000_000_000))
    w.post(DEFAULT)
    w.post(filed(amount=600_000_000))
    w.post(approved(600_000_000))
    derived = w.post(paid())
    assert isinstance(derived, CompensationDerived)
    assert derived.shares.national_fund == 240_000_000


def test_compensation_before_approval_is_invalid_state() -> None:
    w = defaulted()
    w.post(filed())
    assert w.refuse(paid()).slug == "invalid-state"


def test_compensation_is_paid_once() -> None:
    w = defaulted()
    compensate_existing(w)
    assert w.refuse(paid()).slug == "invalid-state"


def compensate_existing(w: World, loss: int = 100_000_000) -> None:
    for event in claim_events(G, "C-1", loss, loss)[1:]:
        w.post(event)
    w.post(paid())


def test_recoveries_split_by_what_each_role_still_has_unrecovered() -> None:
    w = defaulted()
    compensate_existing(w, 100_000_000)
    # Borne 20/20/20/40 million: the odd fen goes to the fund, whose remainder (0.4) is largest.
    first = w.post(recovered(30_000_001))
    assert first == RecoveryDerived(
        split=RoleAmounts(
            bank=6_000_000, guarantor=6_000_000, reguarantor=6_000_000, national_fund=12_000_001
        )
    )
    assert w.g(G).claims["C-1"].recovered.total() == 30_000_001


def test_recoveries_may_reach_but_never_exceed_the_approved_loss() -> None:
    w = defaulted()
    compensate_existing(w, 100_000_000)
    w.post(recovered(60_000_000))
    refusal = w.refuse(recovered(40_000_001))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")
    w.post(recovered(40_000_000))
    claim = w.g(G).claims["C-1"]
    assert claim.borne is not None
    assert claim.recovered == claim.borne


def test_a_recovery_before_compensation_is_invalid_state() -> None:
    w = defaulted()
    w.post(filed())
    w.post(approved(1))
    assert w.refuse(recovered(1)).slug == "invalid-state"


def test_recoveries_do_not_change_the_balance_or_restore_cap_headroom() -> None:
    w = defaulted()
    compensate_existing(w, 100_000_000)
    borne = dict(w.view.programs["national-sme-tech-2024"].borne)
    w.post(recovered(50_000_000))
    assert w.g(G).balance == 900_000_000
    assert w.view.programs["national-sme-tech-2024"].borne == borne


def test_closing_a_compensated_claim_closes_the_guarantee_and_frees_its_balance() -> None:
    w = defaulted()
    compensate_existing(w)
    w.post(closed())
    g = w.g(G)
    assert (g.status, g.open_claim, g.claims["C-1"].status, w.balance()) == (
        "closed",
        None,
        "closed",
        0,
    )
    assert w.refuse(recovered(1)).slug == "invalid-state"
    assert w.refuse(closed()).slug == "invalid-state"


def test_closing_before_compensation_is_invalid_state() -> None:
    w = defaulted()
    w.post(filed())
    assert w.refuse(closed()).slug == "invalid-state"


@pytest.mark.parametrize("event", [paid(), recovered(1), closed()])
def test_only_the_guarantor_pays_records_recoveries_and_closes(event: p.Payload) -> None:
    w = defaulted()
    compensate_existing(w)
    assert w.refuse(event, key(BANK)).status == 403
