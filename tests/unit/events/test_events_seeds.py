"""Seed programs and institutions shipped with the ledger."""

from __future__ import annotations

from importlib import resources

import msgspec
from events_examples import NATIONAL_TERMS

from events.terms import shares_for, terms_errors
from ledger import seeds


def test_seed_programs_load_in_order() -> None:
    ids = [p.program_id for p in seeds.load_seed_programs()]
    assert ids == ["national-sme-tech-2024", "liangjiang-sci-tech-growth"]


def test_national_seed_terms_are_exactly_the_spec_example() -> None:
    national = seeds.load_seed_programs()[0]
    assert msgspec.to_builtins(national.terms) == NATIONAL_TERMS


def test_liangjiang_seed_terms() -> None:
    liangjiang = seeds.load_seed_programs()[1]
    terms = liangjiang.terms
    assert (terms.loan_amount_min, terms.loan_amount_max) == (500000000, 2500000000)
    assert terms.per_sme_cap == 2500000000
    assert terms.max_term_months == 60
    assert terms.eligible_categories == ["recommended"]
    assert terms.national_fund_bp_by_category is None
    assert terms.compensation_caps_bp == {}
    assert terms.parties == {"compensation_pool": seeds.POOL_ID}
    assert shares_for(terms, ["recommended"]).as_dict() == {
        "bank": 5000,
        "guarantor": 0,
        "reguarantor": 0,
        "national_fund": 0,
        "compensation_pool": 5000,
    }


def test_seed_programs_pass_the_terms_checks() -> None:
    for program in seeds.load_seed_programs():
        assert terms_errors(program.terms) == []


def test_seed_institutions_cover_every_named_party() -> None:
    kinds = {i.institution_id: i.kind for i in seeds.SEED_INSTITUTIONS}
    for program in seeds.load_seed_programs():
        for role, institution_id in program.terms.parties.items():
            assert kinds[institution_id] == role


def test_seed_institutions_include_every_kind_once() -> None:
    kinds = [i.kind for i in seeds.SEED_INSTITUTIONS]
    assert sorted(kinds) == sorted(set(kinds))
    assert len(kinds) == 6


def test_seed_files_live_inside_the_package() -> None:
    folder = resources.files("ledger.seeds")
    for name in seeds.SEED_PROGRAM_FILES:
        assert folder.joinpath(name).is_file()
