"""guarantee.issued: parties, bounds, eligibility, the fund share by category, fixed shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from events import payloads as p
from events.derived import IssuedDerived
from events.stored import Actor
from events.types import RoleAmounts
from tests.unit.rules.world import (
    ADMIN,
    BANK,
    FUND,
    GUAR,
    LIANGJIANG,
    NATIONAL,
    POOL,
    REGUAR,
    REVIEWER,
    SME,
    START,
    eligibility,
    issued,
    key,
    seeded,
    sme_code,
    terms,
)


def test_an_issued_guarantee_is_active_with_its_loan_as_balance() -> None:
    w = seeded()
    w.post(issued(loan_amount=700_000_000))
    g = w.g()
    assert (g.status, g.balance, g.loan_amount) == ("active", 700_000_000, 700_000_000)
    assert w.balance() == 700_000_000


def test_issuance_fixes_shares_parties_version_and_category() -> None:
    w = seeded("little_giant")
    derived = w.post(issued())
    assert derived == IssuedDerived(
        program_version=1,
        category="little_giant",
        shares_bp=RoleAmounts(bank=2000, guarantor=2000, reguarantor=2000, national_fund=4000),
        parties={"bank": BANK, "guarantor": GUAR, "reguarantor": REGUAR, "national_fund": FUND},
    )
    assert w.g().shares_bp == derived.shares_bp


@pytest.mark.parametrize(
    ("categories", "fund_bp", "deciding"),
    [
        (("little_giant",), 4000, "little_giant"),
        (("specialised_sme",), 4000, "specialised_sme"),
        (("national_project",), 4000, "national_project"),
        (("high_tech",), 3500, "high_tech"),
        (("innovation_points",), 3500, "innovation_points"),
        (("tech_sme",), 3000, "tech_sme"),
        (("innovative_sme",), 3000, "innovative_sme"),
        (("tech_sme", "high_tech"), 3500, "high_tech"),
        (("tech_sme", "little_giant", "high_tech"), 4000, "little_giant"),
        (("specialised_sme", "little_giant"), 4000, "little_giant"),
    ],
)
def test_the_fund_share_follows_the_best_category_and_the_guarantor_takes_the_rest(
    categories: tuple[str, ...], fund_bp: int, deciding: str
) -> None:
    w = seeded(*categories)
    derived = w.post(issued())
    assert isinstance(derived, IssuedDerived)
    assert derived.shares_bp.national_fund == fund_bp
    assert derived.shares_bp.guarantor == 2000 + (4000 - fund_bp)
    assert derived.shares_bp.total() == 10000
    assert derived.category == deciding


def test_a_category_valid_only_on_other_days_does_not_raise_the_fund_share() -> None:
    w = seeded("tech_sme")
    w.post(eligibility(SME, "little_giant", valid_from=START + dt.timedelta(days=1)))
    derived = w.post(issued())
    assert isinstance(derived, IssuedDerived)
    assert derived.shares_bp.national_fund == 3000


def test_eligibility_counts_on_its_first_and_last_day() -> None:
    w = seeded("recommended")
    w.post(eligibility(SME, "high_tech", valid_from=START, valid_until=START))
    w.post(issued())
    assert w.g().shares_bp.national_fund == 3500


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [(dt.date(2024, 1, 1), START - dt.timedelta(days=1)), (START + dt.timedelta(days=1), None)],
)
def test_an_sme_without_an_eligibility_valid_on_the_start_date_is_not_eligible(
    valid_from: dt.date, valid_until: dt.date | None
) -> None:
    w = seeded("recommended")
    w.post(
        eligibility(
            SME,
            "little_giant",
            valid_from=valid_from,
            valid_until=valid_until or START.replace(year=2030),
        )
    )
    refusal = w.refuse(issued())
    assert (refusal.status, refusal.slug) == (409, "not-eligible")


def test_a_category_the_program_does_not_list_is_not_eligible() -> None:
    w = seeded("little_giant")
    refusal = w.refuse(
        issued(program_id=LIANGJIANG.program_id, guarantor_id=POOL, reguarantor_id=None)
    )
    assert (refusal.status, refusal.slug) == (409, "not-eligible")


def test_a_program_without_eligible_categories_needs_no_eligibility() -> None:
    w = seeded()
    w.post(
        p.ProgramRegistered(program_id="P-open", name="Open", terms=terms(eligible_categories=[]))
    )
    w.post(p.SmeRegistered(sme_id=sme_code(1), name="New"))
    w.post(issued(program_id="P-open", sme_id=sme_code(1)))
    assert w.g().shares_bp.national_fund == 4000


def test_a_pool_and_bank_program_gives_the_guarantor_nothing_and_the_pool_half() -> None:
    w = seeded("recommended")
    derived = w.post(
        issued(program_id=LIANGJIANG.program_id, guarantor_id=POOL, reguarantor_id=None)
    )
    assert derived == IssuedDerived(
        program_version=1,
        category="recommended",
        shares_bp=RoleAmounts(bank=5000, compensation_pool=5000),
        parties={"bank": BANK, "guarantor": POOL, "compensation_pool": POOL},
    )


def test_a_pool_may_not_stand_as_guarantor_where_the_guarantor_has_a_share() -> None:
    w = seeded()
    refusal = w.refuse(issued(guarantor_id=POOL), key(POOL))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")
    assert "gives the guarantor 2000 bp" in refusal.detail
    assert w.view.guarantees == {}


@pytest.mark.parametrize("poster", [key(BANK), key(REGUAR), key(REVIEWER), ADMIN, key("G-other")])
def test_only_the_guarantor_named_in_it_may_post_an_issuance(poster: Actor) -> None:
    w = seeded()
    refusal = w.refuse(issued(), poster)
    assert (refusal.status, refusal.slug) == (403, "forbidden")


@pytest.mark.parametrize(
    "changes",
    [
        {"program_id": "P-unknown"},
        {"sme_id": sme_code(99)},
        {"bank_id": "B-unknown"},
        {"bank_id": GUAR},
        {"reguarantor_id": "R-unknown"},
        {"reguarantor_id": BANK},
    ],
)
def test_unknown_or_wrong_kind_references_are_invalid_state(changes: dict[str, str]) -> None:
    w = seeded()
    refusal = w.refuse(issued(**changes))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


def test_a_guarantor_id_naming_a_bank_is_invalid_state() -> None:
    w = seeded()
    refusal = w.refuse(issued(guarantor_id=BANK), key(BANK))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


def test_a_guarantee_id_cannot_be_issued_twice() -> None:
    w = seeded()
    w.post(issued(loan_amount=100))
    refusal = w.refuse(issued(loan_amount=100))
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


def test_the_national_program_requires_a_reguarantor() -> None:
    w = seeded()
    refusal = w.refuse(issued(reguarantor_id=None))
    assert (refusal.status, refusal.slug, refusal.path) == (
        422,
        "validation-error",
        "$.data.reguarantor_id",
    )


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"loan_amount": 499_999_999}, "$.data.loan_amount"),
        ({"loan_amount": 2_500_000_001}, "$.data.loan_amount"),
        ({"fee_rate_bp": 101}, "$.data.fee_rate_bp"),
        ({"maturity_date": dt.date(2030, 3, 2)}, "$.data.maturity_date"),
    ],
)
def test_values_outside_the_program_terms_are_validation_errors(
    changes: dict[str, Any], path: str
) -> None:
    w = seeded("recommended")
    lj: dict[str, Any] = {
        "program_id": LIANGJIANG.program_id,
        "guarantor_id": POOL,
        "reguarantor_id": None,
    }
    event = issued(**lj, **changes)
    refusal = w.refuse(event)
    assert (refusal.status, refusal.slug, refusal.path) == (422, "validation-error", path)


def test_values_on_the_program_bounds_are_accepted() -> None:
    w = seeded("recommended")
    for gid, amount in (("G-min", 500_000_000), ("G-max", 2_000_000_000)):
        w.post(
            issued(
                gid,
                program_id=LIANGJIANG.program_id,
                guarantor_id=POOL,
                reguarantor_id=None,
                loan_amount=amount,
                fee_rate_bp=100,
                maturity_date=dt.date(2030, 3, 1),
            )
        )
    assert w.balance(program_id=LIANGJIANG.program_id) == 2_500_000_000


def test_a_term_ending_on_a_short_month_end_is_within_the_limit() -> None:
    w = seeded()
    w.post(issued(start_date=dt.date(2025, 1, 31), maturity_date=dt.date(2030, 1, 31)))
    w.post(
        issued(
            "G-2",
            loan_amount=1,
            start_date=dt.date(2025, 3, 31),
            maturity_date=dt.date(2030, 3, 31),
        )
    )
    refusal = w.refuse(
        issued(
            "G-3", loan_amount=1, start_date=dt.date(2025, 1, 31), maturity_date=dt.date(2030, 2, 1)
        )
    )
    assert refusal.path == "$.data.maturity_date"


def test_the_per_sme_cap_admits_exactly_the_cap_and_refuses_one_fen_more() -> None:
    w = seeded()
    for n in range(3):
        w.post(issued(f"G-{n}", loan_amount=1_000_000_000))
    refusal = w.refuse(issued("G-4", loan_amount=1))
    assert (refusal.status, refusal.slug) == (409, "cap-exceeded")
    assert refusal.extra == {"balance": 3_000_000_000, "cap": 3_000_000_000, "requested": 1}


def test_the_per_sme_cap_counts_each_program_separately() -> None:
    w = seeded("little_giant", "recommended")
    for n in range(3):
        w.post(issued(f"G-{n}", loan_amount=1_000_000_000))
    w.post(
        issued(
            "G-lj",
            program_id=LIANGJIANG.program_id,
            guarantor_id=POOL,
            reguarantor_id=None,
            loan_amount=2_500_000_000,
        )
    )
    assert w.balance() == 3_000_000_000
    assert w.balance(program_id=LIANGJIANG.program_id) == 2_500_000_000


def test_a_later_amendment_changes_only_guarantees_issued_after_it() -> None:
    w = seeded()
    w.post(issued("G-1"))
    amended = terms(
        shares_bp={"bank": 3000, "reguarantor": 2000, "national_fund": 4000, "compensation_pool": 0}
    )
    w.post(p.ProgramAmended(program_id=NATIONAL.program_id, terms=amended))
    derived = w.post(issued("G-2", loan_amount=100))
    assert isinstance(derived, IssuedDerived)
    assert derived.program_version == 2
    assert derived.shares_bp == RoleAmounts(
        bank=3000, guarantor=1000, reguarantor=2000, national_fund=4000
    )
    assert w.g("G-1").shares_bp == RoleAmounts(
        bank=2000, guarantor=2000, reguarantor=2000, national_fund=4000
    )
    assert w.g("G-1").program_version == 1


def test_an_amendment_lowering_the_cap_applies_to_later_issuances() -> None:
    w = seeded()
    w.post(issued("G-1", loan_amount=1_000_000_000))
    w.post(p.ProgramAmended(program_id=NATIONAL.program_id, terms=terms(per_sme_cap=1_000_000_000)))
    refusal = w.refuse(issued("G-2", loan_amount=1))
    assert refusal.extra == {"balance": 1_000_000_000, "cap": 1_000_000_000, "requested": 1}
