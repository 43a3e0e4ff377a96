"""Risk limits in the rules: leverage, concentration, and the compensation-rate breaker."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import payloads as p
from events.breaker import Breaker, business_year, record
from events.terms import CompensationRateLimit
from tests.unit.rules.world import (
    ADMIN,
    GUAR,
    LIANGJIANG,
    NATIONAL,
    POOL,
    SME,
    World,
    compensate,
    eligibility,
    issued,
    key,
    seeded,
    sme_code,
    terms,
)

LIMIT = CompensationRateLimit(
    role="guarantor", warning_bp=400, suspend_bp=500, min_discharged=1_000_000_000
)
AT = dt.datetime(2025, 6, 1, 10, 0, tzinfo=dt.UTC)


def _net_assets(net: int, institution_id: str = GUAR) -> p.InstitutionNetAssetsRecorded:
    return p.InstitutionNetAssetsRecorded(
        institution_id=institution_id, net_assets=net, as_of=dt.date(2024, 12, 31)
    )


def _limits(leverage: int = 1000, single: int = 1000) -> p.InstitutionLimitsSet:
    return p.InstitutionLimitsSet(
        institution_id=GUAR, max_leverage_x100=leverage, max_single_sme_bp=single
    )


# --- the rate and its thresholds -----------------------------------------------------------


def test_the_rate_is_none_until_something_is_discharged() -> None:
    assert Breaker().rate_bp is None


def test_the_rate_is_floored_basis_points_of_discharged() -> None:
    b = Breaker(repaid=2, compensated=1)
    assert b.discharged == 3
    assert b.rate_bp == 3333


def test_a_compensation_leaving_the_rate_exactly_at_suspend_bp_suspends() -> None:
    b = Breaker(repaid=1_900_000_000)
    assert record(b, LIMIT, "compensated", 100_000_000) is True  # 100/2000 = 500 bp
    assert b.status(LIMIT) == "suspended"


def test_a_rate_one_basis_point_under_suspend_bp_only_warns() -> None:
    b = Breaker(repaid=1_900_190_000)  # 100 000 000 * 10000 / 2 000 190 000 = 499.95 bp
    assert record(b, LIMIT, "compensated", 100_000_000) is False
    assert b.rate_bp == 499
    assert b.status(LIMIT) == "warning"


def test_below_min_discharged_a_high_rate_does_not_suspend() -> None:
    b = Breaker()
    assert record(b, LIMIT, "compensated", 999_999_999) is False
    assert b.rate_bp == 10000
    assert b.status(LIMIT) == "warning"


def test_a_repayment_reaching_min_discharged_with_a_high_rate_suspends() -> None:
    b = Breaker(compensated=100_000_000)
    assert record(b, LIMIT, "repaid", 900_000_000) is True  # 100/1000 = 1000 bp, 1000 reached


def test_after_reinstatement_only_a_compensation_suspends_again() -> None:
    b = Breaker(repaid=1_900_000_000)
    record(b, LIMIT, "compensated", 100_000_000)
    b.suspended, b.reinstated = False, True
    assert record(b, LIMIT, "released", 1) is False
    assert b.status(LIMIT) == "reinstated"
    assert record(b, LIMIT, "compensated", 100_000_000) is True


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["repaid", "released", "compensated", "closed"]),
            st.integers(min_value=1, max_value=10**12),
        ),
        max_size=30,
    )
)
def test_suspended_exactly_when_some_prefix_crossed_the_threshold(
    moves: list[tuple[str, int]],
) -> None:
    """Without reinstatement, suspended iff after some event rate >= suspend and enough out."""
    b = Breaker()
    crossed = False
    for kind, amount in moves:
        record(b, LIMIT, kind, amount)  # type: ignore[arg-type]
        rate = b.rate_bp
        crossed = crossed or (
            rate is not None and rate >= LIMIT.suspend_bp and b.discharged >= LIMIT.min_discharged
        )
        assert b.rate_bp == (None if b.discharged == 0 else b.compensated * 10000 // b.discharged)
    assert b.suspended == crossed


def test_the_business_year_is_taken_in_shanghai() -> None:
    assert business_year(dt.datetime(2025, 12, 31, 16, 0, tzinfo=dt.UTC)) == 2026
    assert business_year(dt.datetime(2025, 12, 31, 15, 59, tzinfo=dt.UTC)) == 2025


# --- leverage and concentration ------------------------------------------------------------


def _limited(net: int, leverage: int = 1000, single: int = 1000) -> World:
    w = seeded("little_giant")
    w.post(_net_assets(net))
    w.post(_limits(leverage, single))
    return w


@pytest.mark.parametrize("first", ["net_assets", "limits"])
def test_without_both_records_no_limit_applies(first: str) -> None:
    """Net assets of 1 fen refuse any issuance once the limits are recorded too."""
    net_assets, limits = _net_assets(1), _limits()
    alone, missing = (net_assets, limits) if first == "net_assets" else (limits, net_assets)
    w = seeded("little_giant")
    w.post(alone)
    w.post(issued("G-1"))
    assert w.g("G-1").in_force_balance == 1_000_000_000
    w.post(missing)
    assert w.refuse(issued("G-2")).slug == "leverage-exceeded"


def test_leverage_refuses_what_would_exceed_net_assets_times_the_multiple() -> None:
    # 1.5 x 1 000 000 000 fen; each SME has room for 100% of net assets.
    w = _limited(1_000_000_000, leverage=150, single=10000)
    w.post(issued("G-1", loan_amount=1_000_000_000))
    w.post(p.SmeRegistered(sme_id=sme_code(2), name="Second SME"))
    w.post(eligibility(sme_code(2), "little_giant"))
    refusal = w.refuse(issued("G-2", sme_id=sme_code(2), loan_amount=500_000_001))
    assert refusal.slug == "leverage-exceeded"
    assert refusal.extra == {
        "in_force": 1_000_000_000,
        "limit": 1_500_000_000,
        "requested": 500_000_001,
    }
    w.post(issued("G-3", sme_id=sme_code(2), loan_amount=500_000_000))


def test_concentration_refuses_over_a_share_of_net_assets_to_one_sme() -> None:
    w = _limited(10_000_000_000, leverage=1500, single=1000)  # 10% = 1 000 000 000 fen
    w.post(issued("G-1", loan_amount=600_000_000))
    refusal = w.refuse(issued("G-2", loan_amount=400_000_001))
    assert refusal.slug == "concentration-exceeded"
    assert refusal.extra == {
        "in_force": 600_000_000,
        "limit": 1_000_000_000,
        "requested": 400_000_001,
    }


def test_a_balance_raising_renewal_is_checked_too() -> None:
    w = _limited(10_000_000_000, leverage=1500, single=1000)
    w.post(issued("G-1", loan_amount=1_000_000_000))
    w.post(p.LoanRepaid(guarantee_id="G-1", amount=500_000_000))
    w.post(issued("G-2", loan_amount=500_000_000))
    renewal = p.GuaranteeRenewed(
        guarantee_id="G-1", maturity_date=dt.date(2028, 3, 1), balance=500_000_001
    )
    assert w.refuse(renewal).slug == "concentration-exceeded"


def test_released_guarantees_free_room_under_the_limits() -> None:
    w = _limited(10_000_000_000, leverage=1500, single=1000)  # 1 000 000 000 fen to one SME
    w.post(issued("G-1", loan_amount=1_000_000_000))
    assert w.refuse(issued("G-2", loan_amount=1_000_000_000)).slug == "concentration-exceeded"
    w.post(p.GuaranteeReleased(guarantee_id="G-1"))
    w.post(issued("G-2", loan_amount=1_000_000_000))
    assert (w.g("G-1").in_force_balance, w.g("G-2").in_force_balance) == (0, 1_000_000_000)
    assert w.view.guarantor_sme[(GUAR, SME)] == 1_000_000_000
    assert w.view.guarantor_in_force[GUAR] == 1_000_000_000


def test_the_latest_net_assets_count() -> None:
    w = _limited(10_000_000_000, leverage=1500, single=1000)
    w.post(_net_assets(5_000_000_000))
    assert w.refuse(issued("G-1", loan_amount=500_000_001)).slug == "concentration-exceeded"


def test_limits_for_a_bank_are_refused() -> None:
    w = seeded("little_giant")
    bank_limits = p.InstitutionLimitsSet(
        institution_id="CQ-TECH-BANK", max_leverage_x100=1000, max_single_sme_bp=1000
    )
    assert w.refuse(bank_limits, ADMIN).slug == "invalid-state"


def test_net_assets_of_an_unknown_institution_are_refused() -> None:
    w = seeded("little_giant")
    assert w.refuse(_net_assets(1, "NOBODY"), ADMIN).slug == "invalid-state"


def test_an_institution_may_record_its_own_net_assets_but_not_anothers() -> None:
    w = seeded("little_giant")
    w.post(_net_assets(1), key(GUAR))
    assert w.refuse(_net_assets(1, POOL), key(GUAR)).slug == "forbidden"
    assert w.refuse(_limits(), key(GUAR)).slug == "forbidden"


# --- the breaker in the rules --------------------------------------------------------------


def _breaker_world() -> World:
    """The national program with a rate limit on the guarantor; one guarantee repaid in part."""
    w = seeded("little_giant")
    limited = terms(compensation_rate_limit=LIMIT)
    w.post(p.ProgramAmended(program_id=NATIONAL.program_id, terms=limited))
    w.at = AT
    w.post(issued("G-1", loan_amount=1_000_000_000))
    w.post(issued("G-2", loan_amount=1_000_000_000))
    return w


def _breaker(w: World, year: int = 2025) -> Breaker:
    return w.view.breakers[(NATIONAL.program_id, GUAR, year)]


def test_a_compensation_at_the_threshold_suspends_new_issuance_in_the_year() -> None:
    w = _breaker_world()
    w.post(p.LoanRepaid(guarantee_id="G-1", amount=950_000_000))
    compensate(w, "G-2", "C-1", 50_000_000)  # 50 / 1000 = 500 bp
    assert _breaker(w).status(LIMIT) == "suspended"
    refusal = w.refuse(issued("G-3", loan_amount=100_000_000))
    assert refusal.slug == "program-suspended"
    assert refusal.extra == {
        "institution_id": GUAR,
        "program_id": NATIONAL.program_id,
        "year": 2025,
        "rate_bp": 500,
        "suspend_bp": 500,
    }


def test_one_basis_point_under_the_threshold_issuance_goes_on() -> None:
    w = _breaker_world()
    w.post(p.LoanRepaid(guarantee_id="G-1", amount=950_020_000))
    compensate(w, "G-2", "C-1", 50_000_000)  # 499.99 bp
    assert _breaker(w).rate_bp == 499
    w.post(issued("G-3", loan_amount=100_000_000))


def test_a_new_year_starts_clear() -> None:
    w = _breaker_world()
    w.post(p.LoanRepaid(guarantee_id="G-1", amount=950_000_000))
    compensate(w, "G-2", "C-1", 50_000_000)
    assert w.refuse(issued("G-3", loan_amount=100_000_000)).slug == "program-suspended"
    w.at = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    w.post(issued("G-3", loan_amount=100_000_000))
    assert w.g("G-3").in_force_balance == 100_000_000
    assert _breaker(w, 2025).status(LIMIT) == "suspended"


def test_reinstatement_lifts_the_suspension_until_a_later_compensation() -> None:
    w = _breaker_world()
    w.post(p.LoanRepaid(guarantee_id="G-1", amount=950_000_000))
    compensate(w, "G-2", "C-1", 50_000_000)
    reinstated = p.LimitReinstated(
        program_id=NATIONAL.program_id, institution_id=GUAR, year=2025, reason="Reviewed."
    )
    w.post(reinstated)
    assert _breaker(w).status(LIMIT) == "reinstated"
    w.post(issued("G-3", loan_amount=100_000_000))
    w.post(p.LoanRepaid(guarantee_id="G-3", amount=1))
    assert _breaker(w).status(LIMIT) == "reinstated"
    compensate(w, "G-3", "C-2", 50_000_000)
    assert w.refuse(issued("G-4", loan_amount=100_000_000)).slug == "program-suspended"


def test_reinstating_an_institution_that_is_not_suspended_is_refused() -> None:
    w = _breaker_world()
    reinstated = p.LimitReinstated(
        program_id=NATIONAL.program_id, institution_id=GUAR, year=2025, reason="Reviewed."
    )
    assert w.refuse(reinstated).slug == "invalid-state"


def test_reinstating_in_a_program_without_a_limit_is_refused() -> None:
    w = seeded("little_giant")
    reinstated = p.LimitReinstated(
        program_id=NATIONAL.program_id, institution_id=GUAR, year=2025, reason="Reviewed."
    )
    refusal = w.refuse(reinstated)
    assert refusal.slug == "invalid-state"
    assert "no compensation_rate_limit" in refusal.detail


def test_the_seed_pool_program_limits_its_banks() -> None:
    limit = LIANGJIANG.terms.compensation_rate_limit
    assert limit is not None
    assert (limit.role, limit.warning_bp, limit.suspend_bp) == ("bank", 300, 500)


def test_a_program_without_a_rate_limit_counts_every_discharge_for_guarantor_and_bank() -> None:
    w = seeded("little_giant")
    w.at = AT
    w.post(issued("G-1"))
    compensate(w, "G-1", "C-1", 1_000_000_000)
    counted = Breaker(compensated=1_000_000_000)
    assert w.view.breakers == {
        (NATIONAL.program_id, GUAR, 2025): counted,
        (NATIONAL.program_id, "CQ-TECH-BANK", 2025): counted,
    }
    w.post(issued("G-2", loan_amount=100_000_000))


def _unlimited_then_limited(min_discharged: int = 100_000_000) -> World:
    """90 000 000 repaid and 10 000 000 compensated in 2025 (1000 bp), then the program
    amended to carry a limit of 500 bp."""
    w = seeded("little_giant")
    w.at = AT
    w.post(issued("G-1", loan_amount=100_000_000))
    w.post(issued("G-2", loan_amount=100_000_000))
    w.post(issued("G-9", loan_amount=1_000_000_000))  # in force, for later repayments
    w.post(p.LoanRepaid(guarantee_id="G-1", amount=90_000_000))
    compensate(w, "G-2", "C-1", 10_000_000)
    limit = CompensationRateLimit(
        role="guarantor", warning_bp=400, suspend_bp=500, min_discharged=min_discharged
    )
    amended = terms(compensation_rate_limit=limit)
    w.post(p.ProgramAmended(program_id=NATIONAL.program_id, terms=amended))
    return w


def test_a_limit_added_by_amendment_rates_the_discharges_of_the_year_before_it() -> None:
    w = _unlimited_then_limited()
    refusal = w.refuse(issued("G-3", loan_amount=1_000_000))
    assert refusal.slug == "program-suspended"
    assert (refusal.extra["rate_bp"], refusal.extra["suspend_bp"]) == (1000, 500)


def test_a_limit_added_by_amendment_below_its_minimum_discharged_lets_issuance_go_on() -> None:
    w = _unlimited_then_limited(min_discharged=100_000_001)
    w.post(issued("G-3", loan_amount=1_000_000))


def test_a_suspension_by_a_limit_added_later_outlasts_a_repayment_that_dilutes_the_rate() -> None:
    w = _unlimited_then_limited()
    assert w.refuse(issued("G-3", loan_amount=1_000_000)).slug == "program-suspended"
    w.post(p.LoanRepaid(guarantee_id="G-9", amount=900_000_000))  # 10 of 1000: 100 bp
    breaker = w.view.breakers[(NATIONAL.program_id, GUAR, 2025)]
    assert breaker.rate_bp == 100
    assert breaker.suspended
    assert w.refuse(issued("G-3", loan_amount=1_000_000)).slug == "program-suspended"


def test_the_bank_outside_a_guarantor_limit_is_neither_suspended_nor_reinstated() -> None:
    w = _unlimited_then_limited()
    bank_breaker = w.view.breakers[(NATIONAL.program_id, "CQ-TECH-BANK", 2025)]
    assert bank_breaker.discharged == 100_000_000  # counted, for a bank limit to come
    reinstated = p.LimitReinstated(
        program_id=NATIONAL.program_id, institution_id="CQ-TECH-BANK", year=2025, reason="No."
    )
    assert w.refuse(reinstated).slug == "invalid-state"


def test_a_breaker_tripped_before_its_limit_is_lifted_by_reinstatement() -> None:
    w = _unlimited_then_limited()
    assert w.refuse(issued("G-3", loan_amount=1_000_000)).slug == "program-suspended"
    w.post(
        p.LimitReinstated(
            program_id=NATIONAL.program_id, institution_id=GUAR, year=2025, reason="Reviewed."
        )
    )
    assert (_breaker(w).suspended, _breaker(w).reinstated) == (False, True)
    w.post(issued("G-3", loan_amount=1_000_000))
    assert w.g("G-3").in_force_balance == 1_000_000


def _reinstated_then_amended(suspend_bp: int, min_discharged: int = 100_000_000) -> World:
    """Suspended at 1000 bp under a limit of 500 bp, reinstated, then the program amended
    to a limit of `suspend_bp` and `min_discharged`."""
    w = _unlimited_then_limited()
    w.post(
        p.LimitReinstated(
            program_id=NATIONAL.program_id, institution_id=GUAR, year=2025, reason="Reviewed."
        )
    )
    w.post(issued("G-3", loan_amount=1_000_000))
    limit = CompensationRateLimit(
        role="guarantor", warning_bp=100, suspend_bp=suspend_bp, min_discharged=min_discharged
    )
    w.post(
        p.ProgramAmended(program_id=NATIONAL.program_id, terms=terms(compensation_rate_limit=limit))
    )
    return w


def test_a_limit_tightened_after_a_reinstatement_suspends_again() -> None:
    w = _reinstated_then_amended(suspend_bp=300)
    refusal = w.refuse(issued("G-4", loan_amount=1_000_000))
    assert refusal.slug == "program-suspended"
    assert (refusal.extra["rate_bp"], refusal.extra["suspend_bp"]) == (1000, 300)


def test_a_minimum_lowered_after_a_reinstatement_suspends_again() -> None:
    w = _reinstated_then_amended(suspend_bp=500, min_discharged=1)
    assert w.refuse(issued("G-4", loan_amount=1_000_000)).slug == "program-suspended"


def test_a_suspension_by_a_tightened_limit_is_lifted_by_a_new_reinstatement() -> None:
    w = _reinstated_then_amended(suspend_bp=300)
    w.post(
        p.LimitReinstated(
            program_id=NATIONAL.program_id, institution_id=GUAR, year=2025, reason="Again."
        )
    )
    w.post(issued("G-4", loan_amount=1_000_000))
    assert w.g("G-4").in_force_balance == 1_000_000


@pytest.mark.parametrize("suspend_bp", [500, 800])
def test_a_limit_set_again_or_loosened_after_a_reinstatement_keeps_it(suspend_bp: int) -> None:
    """The institution was reinstated under 500 bp: a limit no tighter changes nothing."""
    w = _reinstated_then_amended(suspend_bp=suspend_bp)
    w.post(issued("G-4", loan_amount=1_000_000))
    assert w.g("G-4").in_force_balance == 1_000_000


def test_a_bank_role_limit_counts_for_the_bank() -> None:
    w = seeded("little_giant")
    bank_limit = CompensationRateLimit(role="bank", warning_bp=1, suspend_bp=1, min_discharged=0)
    w.post(
        p.ProgramAmended(
            program_id=NATIONAL.program_id, terms=terms(compensation_rate_limit=bank_limit)
        )
    )
    w.at = AT
    w.post(issued("G-1"))
    compensate(w, "G-1", "C-1", 1_000)
    assert w.view.breakers[(NATIONAL.program_id, "CQ-TECH-BANK", 2025)].suspended
    assert w.refuse(issued("G-2")).slug == "program-suspended"
