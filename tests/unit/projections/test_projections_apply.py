"""Each projection's pure apply, driven by events the pure rules accepted."""

from __future__ import annotations

import pytest

from events.types import ROLES
from ledger.seeds import BANK_ID, GUARANTOR_ID, NATIONAL_FUND_ID, POOL_ID, REGUARANTOR_ID
from projections.fold import Fold
from tests.factory import ADMIN, envelope
from tests.unit.projections.scenario import (
    LIANGJIANG,
    NATIONAL,
    SMALL,
    SMES,
    PureLedger,
    issue,
    lifecycle,
    on_guarantee,
    setup_steps,
    small_terms,
)

LITTLE_GIANT = SMES[0]


def _ledger(*steps: object) -> PureLedger:
    ledger = PureLedger().post_all(setup_steps())
    for step in steps:
        assert ledger.post(step) is not None, step  # type: ignore[arg-type]
    return ledger


def _fold(ledger: PureLedger) -> Fold:
    return Fold().apply_all(ledger.entries)


def _worked_example() -> PureLedger:
    """docs/rules.md's worked example: loan 1e9 fen, approved loss 6e8, then a recovery of 1e8."""
    ledger = _ledger(issue("G-1", NATIONAL, LITTLE_GIANT, 1_000_000_000))
    for step in lifecycle(ledger, "G-1", loss=600_000_000, recover=100_000_000)[:5]:
        assert ledger.post(step) is not None
    return ledger


def test_issuing_adds_the_loan_to_the_smes_exposure_in_its_program() -> None:
    fold = _fold(_ledger(issue("G-1", NATIONAL, LITTLE_GIANT, 1_000_000_000)))
    body = fold.sme_exposure(LITTLE_GIANT)
    assert body is not None
    assert body["programs"] == [
        {
            "program_id": NATIONAL,
            "balance": 1_000_000_000,
            "cap": 3_000_000_000,
            "headroom": 2_000_000_000,
            "active_guarantees": 1,
        }
    ]
    assert body["position"] == fold.position


def test_a_repayment_beyond_the_balance_leaves_the_exposure_at_zero_not_below() -> None:
    ledger = _ledger(issue("G-1", SMALL, LITTLE_GIANT, 500_000))
    ledger.post(on_guarantee(ledger, "G-1", "loan.repaid", amount=800_000))
    body = _fold(ledger).sme_exposure(LITTLE_GIANT)
    assert body is not None
    assert body["programs"][0]["balance"] == 0
    assert body["programs"][0]["active_guarantees"] == 1


def test_a_renewal_with_a_balance_sets_the_exposure_to_it() -> None:
    ledger = _ledger(issue("G-1", SMALL, LITTLE_GIANT, 500_000))
    ledger.post(on_guarantee(ledger, "G-1", "loan.repaid", amount=300_000))
    step = on_guarantee(
        ledger, "G-1", "guarantee.renewed", maturity_date="2027-01-01", balance=400_000
    )
    assert ledger.post(step) is not None
    body = _fold(ledger).sme_exposure(LITTLE_GIANT)
    assert body is not None
    assert body["programs"][0]["balance"] == 400_000


def test_a_released_guarantee_no_longer_counts_in_the_exposure() -> None:
    ledger = _ledger(issue("G-1", SMALL, LITTLE_GIANT, 500_000))
    ledger.post(on_guarantee(ledger, "G-1", "guarantee.released"))
    body = _fold(ledger).sme_exposure(LITTLE_GIANT)
    assert body is not None
    assert body["programs"][0]["balance"] == 0
    assert body["programs"][0]["active_guarantees"] == 0
    assert body["programs"][0]["headroom"] == 3_000_000


def test_exposure_shows_the_cap_of_the_programs_current_terms() -> None:
    amended = envelope(
        "program.amended", {"program_id": SMALL, "terms": small_terms(per_sme_cap=2_000_000)}
    )
    ledger = _ledger(issue("G-1", SMALL, LITTLE_GIANT, 500_000), (amended, ADMIN))
    body = _fold(ledger).sme_exposure(LITTLE_GIANT)
    assert body is not None
    assert body["programs"][0]["cap"] == 2_000_000
    assert body["programs"][0]["headroom"] == 1_500_000


def test_compensation_lowers_the_exposure_and_closing_the_claim_ends_it() -> None:
    ledger = _worked_example()
    before = _fold(ledger).sme_exposure(LITTLE_GIANT)
    assert before is not None
    assert before["programs"][0]["balance"] == 400_000_000
    ledger.post(on_guarantee(ledger, "G-1", "claim.closed", claim_id="C-G-1"))
    after = _fold(ledger).sme_exposure(LITTLE_GIANT)
    assert after is not None
    assert after["programs"][0]["balance"] == 0
    assert after["programs"][0]["active_guarantees"] == 0


def test_an_unknown_sme_has_no_exposure() -> None:
    assert _fold(_ledger()).sme_exposure("91500000MA5U7K3Q8Z") is None


def test_guarantee_summary_follows_status_balance_claims_and_stream_version() -> None:
    ledger = _worked_example()
    body = _fold(ledger).guarantee_summary("G-1")
    assert body is not None
    assert body["status"] == "compensated"
    assert body["balance"] == 400_000_000
    assert body["claims"] == ["C-G-1"]
    assert body["version"] == 6
    assert body["shares_bp"] == {
        "bank": 2000,
        "guarantor": 2000,
        "reguarantor": 2000,
        "national_fund": 4000,
        "compensation_pool": 0,
    }
    assert body["parties"] == {
        "bank": BANK_ID,
        "guarantor": GUARANTOR_ID,
        "reguarantor": REGUARANTOR_ID,
        "national_fund": NATIONAL_FUND_ID,
    }


def test_a_rejected_claim_returns_the_guarantee_to_defaulted() -> None:
    ledger = _ledger(issue("G-1", SMALL, LITTLE_GIANT, 500_000))
    for step in lifecycle(ledger, "G-1", loss=100_000, recover=1)[:2]:
        ledger.post(step)
    ledger.post(on_guarantee(ledger, "G-1", "claim.rejected", claim_id="C-G-1", reason="late"))
    fold = _fold(ledger)
    guarantee = fold.guarantee_summary("G-1")
    claim = fold.claim_shares("C-G-1")
    assert guarantee is not None
    assert claim is not None
    assert guarantee["status"] == "defaulted"
    assert claim["status"] == "rejected"
    assert claim["reason"] == "late"


def test_claim_shares_are_the_worked_example_of_the_spec() -> None:
    body = _fold(_worked_example()).claim_shares("C-G-1")
    assert body is not None
    borne = {role: body["shares"][role]["borne"] for role in ROLES}
    recovered = {role: body["shares"][role]["recovered"] for role in ROLES}
    assert borne == {
        "bank": 120_000_000,
        "guarantor": 310_000_000,
        "reguarantor": 120_000_000,
        "national_fund": 50_000_000,
        "compensation_pool": 0,
    }
    assert recovered == {
        "bank": 20_000_000,
        "guarantor": 51_666_667,
        "reguarantor": 20_000_000,
        "national_fund": 8_333_333,
        "compensation_pool": 0,
    }
    assert body["shares"]["national_fund"]["net"] == 41_666_667
    assert body["totals"] == {"borne": 600_000_000, "recovered": 100_000_000, "net": 500_000_000}
    assert body["recovered"] == 100_000_000
    assert body["status"] == "compensated"


def test_every_role_appears_in_claim_shares_even_without_a_share() -> None:
    body = _fold(_worked_example()).claim_shares("C-G-1")
    assert body is not None
    assert body["shares"]["compensation_pool"] == {
        "institution_id": None,
        "borne": 0,
        "recovered": 0,
        "net": 0,
    }


def test_a_filed_claim_names_the_guarantees_parties_with_nothing_borne_yet() -> None:
    ledger = _ledger(issue("G-1", SMALL, LITTLE_GIANT, 500_000))
    for step in lifecycle(ledger, "G-1", loss=100_000, recover=1)[:2]:
        ledger.post(step)
    body = _fold(ledger).claim_shares("C-G-1")
    assert body is not None
    assert body["status"] == "filed"
    assert body["shares"]["bank"] == {
        "institution_id": BANK_ID,
        "borne": 0,
        "recovered": 0,
        "net": 0,
    }


def test_the_fund_position_shows_its_cap_on_the_guaranteed_volume_and_the_cap_used() -> None:
    body = _fold(_worked_example()).institution_position(NATIONAL_FUND_ID)
    assert body is not None
    assert body["kind"] == "national_fund"
    rows = {row["program_id"]: row for row in body["programs"]}
    assert rows[NATIONAL] == {
        "program_id": NATIONAL,
        "roles": ["national_fund"],
        "guaranteed_volume": 1_000_000_000,
        "in_force_balance": 400_000_000,
        "borne": 50_000_000,
        "recovered": 8_333_333,
        "net_loss": 41_666_667,
        "cap": 50_000_000,
        "cap_used": 50_000_000,
    }


def test_an_uncapped_role_has_no_cap_in_its_position() -> None:
    body = _fold(_worked_example()).institution_position(BANK_ID)
    assert body is not None
    row = body["programs"][0]
    assert (row["cap"], row["cap_used"], row["borne"]) == (None, 0, 120_000_000)


def test_a_program_party_has_a_position_row_before_any_guarantee() -> None:
    body = _fold(_ledger()).institution_position(POOL_ID)
    assert body is not None
    assert [row["program_id"] for row in body["programs"]] == [LIANGJIANG]
    assert body["programs"][0]["guaranteed_volume"] == 0


def test_program_totals_count_guarantees_volume_losses_and_recoveries() -> None:
    body = _fold(_worked_example()).program_summary(NATIONAL)
    assert body is not None
    totals = body["totals"]
    assert totals["guarantees_issued"] == 1
    assert totals["guaranteed_volume"] == 1_000_000_000
    assert totals["in_force_balance"] == 400_000_000
    assert totals["compensated_amount"] == 600_000_000
    assert totals["borne"]["national_fund"] == 50_000_000
    assert totals["recovered"]["guarantor"] == 51_666_667
    assert totals["caps"]["national_fund"] == {
        "rate_bp": 500,
        "volume": 1_000_000_000,
        "cap": 50_000_000,
        "used": 50_000_000,
    }


def test_an_amendment_replaces_the_terms_and_raises_the_program_version() -> None:
    amended = envelope(
        "program.amended", {"program_id": SMALL, "terms": small_terms(per_sme_cap=2_000_000)}
    )
    body = _fold(_ledger((amended, ADMIN))).program_summary(SMALL)
    assert body is not None
    assert body["version"] == 2
    assert body["terms"]["per_sme_cap"] == 2_000_000


def test_the_fold_refuses_an_entry_that_is_not_after_its_position() -> None:
    ledger = _ledger()
    fold = _fold(ledger)
    with pytest.raises(ValueError, match="not after"):
        fold.apply(ledger.entries[0])
