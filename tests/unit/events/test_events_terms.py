"""Program terms: semantic checks and the shares a guarantee gets."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from events_examples import NATIONAL_TERMS
from hypothesis import given
from hypothesis import strategies as st

from events.terms import ProgramTerms, fund_category, shares_for, terms_errors
from events.types import CATEGORIES, Category, RoleAmounts

_DECODE = msgspec.json.Decoder(ProgramTerms)


def terms(**changes: Any) -> ProgramTerms:
    raw = {**NATIONAL_TERMS, **changes}
    raw = {k: v for k, v in raw.items() if v is not None}
    return _DECODE.decode(msgspec.json.encode(raw))


def paths(t: ProgramTerms) -> list[str]:
    return [e.path for e in terms_errors(t)]


NATIONAL = terms()
LIANGJIANG = terms(
    loan_amount_min=500000000,
    loan_amount_max=2500000000,
    per_sme_cap=2500000000,
    eligible_categories=["recommended"],
    shares_bp={"bank": 5000, "compensation_pool": 5000},
    national_fund_bp_by_category=None,
    compensation_caps_bp={},
    parties={"compensation_pool": "CQ-LJ-POOL"},
)


def test_spec_program_has_no_errors() -> None:
    assert terms_errors(NATIONAL) == []


def test_pool_and_bank_program_has_no_errors() -> None:
    assert terms_errors(LIANGJIANG) == []


def test_negative_guarantor_share_is_refused() -> None:
    t = terms(shares_bp={"bank": 3000, "reguarantor": 3000, "national_fund": 4001})
    errors = terms_errors(t)
    assert [e.path for e in errors] == ["$.data.terms.shares_bp"]
    assert "-1 bp" in errors[0].message


def test_guarantor_share_of_zero_is_allowed() -> None:
    t = terms(
        shares_bp={"bank": 2000, "reguarantor": 4000, "national_fund": 4000},
        national_fund_bp_by_category=None,
    )
    assert terms_errors(t) == []
    assert t.guarantor_bp() == 0


def test_min_above_max_is_refused() -> None:
    assert paths(terms(loan_amount_min=10, loan_amount_max=9)) == ["$.data.terms.loan_amount_min"]


def test_max_above_per_sme_cap_is_allowed() -> None:
    assert terms_errors(terms(loan_amount_max=5000000000)) == []


def test_bank_share_below_2000_is_allowed() -> None:
    assert terms_errors(terms(shares_bp={"bank": 1000, "reguarantor": 2000})) == []


def test_category_value_leaving_guarantor_negative_is_refused() -> None:
    t = terms(national_fund_bp_by_category={"little_giant": 6001, "tech_sme": 3000})
    assert paths(t) == ["$.data.terms.national_fund_bp_by_category.little_giant"]


def test_missing_fund_party_is_refused_when_fund_has_a_share() -> None:
    assert paths(terms(parties={})) == ["$.data.terms.parties.national_fund"]


def test_missing_fund_party_is_refused_when_only_the_table_gives_a_share() -> None:
    t = terms(
        shares_bp={"bank": 2000, "reguarantor": 2000},
        national_fund_bp_by_category={"high_tech": 1000},
        parties={},
    )
    assert paths(t) == ["$.data.terms.parties.national_fund"]


def test_missing_pool_party_is_refused_when_pool_has_a_share() -> None:
    t = terms(
        shares_bp={"bank": 5000, "compensation_pool": 5000},
        national_fund_bp_by_category=None,
        parties={},
    )
    assert paths(t) == ["$.data.terms.parties.compensation_pool"]


def test_no_party_needed_for_roles_without_share() -> None:
    t = terms(shares_bp={"bank": 2000}, national_fund_bp_by_category=None, parties={})
    assert terms_errors(t) == []


def test_duplicate_eligible_category_is_refused() -> None:
    t = terms(eligible_categories=["high_tech", "tech_sme", "high_tech"])
    assert paths(t) == ["$.data.terms.eligible_categories[2]"]


def test_all_problems_are_reported_at_once() -> None:
    t = terms(
        loan_amount_min=10,
        loan_amount_max=9,
        shares_bp={"bank": 9000, "national_fund": 2000},
        national_fund_bp_by_category=None,
        parties={},
    )
    assert sorted(paths(t)) == [
        "$.data.terms.loan_amount_min",
        "$.data.terms.parties.national_fund",
        "$.data.terms.shares_bp",
    ]


def test_errors_use_the_given_path() -> None:
    errors = terms_errors(terms(parties={}), "$[3].data.terms")
    assert [e.path for e in errors] == ["$[3].data.terms.parties.national_fund"]


@pytest.mark.parametrize(
    ("category", "fund", "guarantor"),
    [
        ("little_giant", 4000, 2000),
        ("specialised_sme", 4000, 2000),
        ("national_project", 4000, 2000),
        ("high_tech", 3500, 2500),
        ("innovation_points", 3500, 2500),
        ("tech_sme", 3000, 3000),
        ("innovative_sme", 3000, 3000),
    ],
)
def test_fund_share_follows_the_category(category: Category, fund: int, guarantor: int) -> None:
    assert shares_for(NATIONAL, [category]) == RoleAmounts(
        bank=2000, guarantor=guarantor, reguarantor=2000, national_fund=fund
    )


def test_spec_worked_example_little_giant_gets_fund_4000() -> None:
    shares = shares_for(NATIONAL, ["little_giant"])
    assert shares.as_dict() == {
        "bank": 2000,
        "guarantor": 2000,
        "reguarantor": 2000,
        "national_fund": 4000,
        "compensation_pool": 0,
    }


def test_highest_category_value_wins() -> None:
    assert shares_for(NATIONAL, ["tech_sme", "high_tech"]).national_fund == 3500
    assert fund_category(NATIONAL, ["tech_sme", "high_tech"]) == "high_tech"


def test_ties_resolve_in_category_order_whatever_the_input_order() -> None:
    assert fund_category(NATIONAL, ["national_project", "little_giant"]) == "little_giant"


def test_categories_outside_the_table_use_the_base_fund_share() -> None:
    assert shares_for(NATIONAL, ["recommended"]).national_fund == 4000
    assert shares_for(NATIONAL, []).national_fund == 4000
    assert fund_category(NATIONAL, ["recommended"]) is None


def test_without_table_the_base_shares_apply() -> None:
    shares = shares_for(LIANGJIANG, ["recommended"])
    assert shares == RoleAmounts(bank=5000, compensation_pool=5000)
    assert fund_category(LIANGJIANG, ["recommended"]) is None


def test_guarantor_bp_takes_the_fund_share() -> None:
    assert NATIONAL.guarantor_bp() == 2000
    assert NATIONAL.guarantor_bp(3000) == 3000


@given(st.sets(st.sampled_from(CATEGORIES)))
def test_shares_always_sum_to_10000(categories: set[Category]) -> None:
    assert shares_for(NATIONAL, categories).total() == 10000
