"""Loss shares through `decide`: docs/rules.md's worked example, and compensation caps
across guarantees."""

from __future__ import annotations

from events import payloads as p
from events.derived import CompensationDerived, RecoveryDerived
from events.types import RoleAmounts
from tests.unit.rules.world import (
    FUND,
    NATIONAL,
    POOL,
    REGUAR,
    compensate,
    eligibility,
    issued,
    seeded,
    sme_code,
    terms,
)

PROGRAM = NATIONAL.program_id


def shares(derived: object) -> RoleAmounts:
    assert isinstance(derived, CompensationDerived)
    return derived.shares


def test_the_worked_example_of_spec_section_5() -> None:
    w = seeded("little_giant")
    w.post(issued("G-1", loan_amount=1_000_000_000))
    derived = compensate(w, "G-1", "C-1", 600_000_000)
    assert derived == CompensationDerived(
        approved_amount=600_000_000,
        shares=RoleAmounts(
            bank=120_000_000,
            guarantor=310_000_000,
            reguarantor=120_000_000,
            national_fund=50_000_000,
        ),
        parties={
            "bank": "CQ-TECH-BANK",
            "guarantor": "CQ-SCI-GUAR",
            "reguarantor": REGUAR,
            "national_fund": FUND,
        },
    )
    recovery = w.post(p.RecoveryRecorded(guarantee_id="G-1", claim_id="C-1", amount=100_000_000))
    assert recovery == RecoveryDerived(
        split=RoleAmounts(
            bank=20_000_000, guarantor=51_666_667, reguarantor=20_000_000, national_fund=8_333_333
        )
    )


def test_the_fund_cap_grows_with_volume_and_is_used_up_across_guarantees() -> None:
    w = seeded("little_giant")
    w.post(issued("G-1", loan_amount=1_000_000_000))
    w.post(issued("G-2", loan_amount=1_000_000_000))
    # Volume 2 000 000 000: the fund may bear 100 000 000 in the program.
    assert shares(compensate(w, "G-1", "C-1", 200_000_000)) == RoleAmounts(
        bank=40_000_000, guarantor=40_000_000, reguarantor=40_000_000, national_fund=80_000_000
    )
    # 20 000 000 of headroom left: the other 60 000 000 of the fund's share moves to the guarantor.
    assert shares(compensate(w, "G-2", "C-2", 200_000_000)) == RoleAmounts(
        bank=40_000_000, guarantor=100_000_000, reguarantor=40_000_000, national_fund=20_000_000
    )
    # A recovery gives money back but does not restore headroom.
    w.post(p.RecoveryRecorded(guarantee_id="G-1", claim_id="C-1", amount=200_000_000))
    # A guarantee issued later raises the volume to 3 000 000 000 (cap 150 000 000).
    w.post(issued("G-3", loan_amount=1_000_000_000))
    assert shares(compensate(w, "G-3", "C-3", 200_000_000)) == RoleAmounts(
        bank=40_000_000, guarantor=70_000_000, reguarantor=40_000_000, national_fund=50_000_000
    )
    assert w.view.programs[PROGRAM].borne["national_fund"] == 150_000_000


def test_the_cap_counts_only_guarantees_in_which_the_role_has_a_share() -> None:
    w = seeded("little_giant")
    table = {"little_giant": 4000, "tech_sme": 0}
    w.post(
        p.ProgramRegistered(
            program_id="P-2",
            name="Fund for little giants only",
            terms=terms(
                shares_bp={"bank": 2000, "reguarantor": 2000, "national_fund": 0},
                national_fund_bp_by_category=table,
                eligible_categories=["little_giant", "tech_sme"],
            ),
        )
    )
    other = sme_code(1)
    w.post(p.SmeRegistered(sme_id=other, name="Tech SME"))
    w.post(eligibility(other, "tech_sme"))
    w.post(issued("G-tech", program_id="P-2", sme_id=other, loan_amount=1_000_000_000))
    assert w.g("G-tech").shares_bp.national_fund == 0
    w.post(issued("G-giant", program_id="P-2", loan_amount=1_000_000_000))
    # Only G-giant counts: cap 5% of 1 000 000 000, not of 2 000 000 000.
    assert shares(compensate(w, "G-giant", "C-1", 600_000_000)).national_fund == 50_000_000


def test_caps_are_kept_per_program() -> None:
    w = seeded("little_giant")
    w.post(p.ProgramRegistered(program_id="P-2", name="Copy", terms=NATIONAL.terms))
    w.post(issued("G-1", loan_amount=1_000_000_000))
    w.post(issued("G-2", program_id="P-2", loan_amount=1_000_000_000))
    assert shares(compensate(w, "G-1", "C-1", 600_000_000)).national_fund == 50_000_000
    assert shares(compensate(w, "G-2", "C-2", 600_000_000)).national_fund == 50_000_000


def test_overflow_goes_to_the_bank_when_the_guarantee_gives_the_guarantor_nothing() -> None:
    w = seeded()
    w.post(
        p.ProgramRegistered(
            program_id="P-pool",
            name="Pool and re-guarantee",
            terms=terms(
                eligible_categories=[],
                shares_bp={"bank": 2000, "reguarantor": 4000, "compensation_pool": 4000},
                national_fund_bp_by_category=None,
                compensation_caps_bp={"reguarantor": 500, "compensation_pool": 1000},
                parties={"compensation_pool": POOL},
            ),
        )
    )
    w.post(issued("G-1", program_id="P-pool", guarantor_id=POOL, loan_amount=1_000_000_000))
    # Raw split 100/0/200/0/200 million; caps 50 (reguarantor) and 100 (pool) million.
    assert shares(compensate(w, "G-1", "C-1", 500_000_000)) == RoleAmounts(
        bank=350_000_000, reguarantor=50_000_000, compensation_pool=100_000_000
    )
