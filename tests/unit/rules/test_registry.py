"""Registers: institutions, programs (and amendments), SMEs, eligibilities, and who posts them."""

from __future__ import annotations

import datetime as dt

from events import payloads as p
from tests.unit.rules.world import (
    ADMIN,
    FUND,
    NATIONAL,
    REVIEWER,
    SME,
    World,
    eligibility,
    key,
    seeded,
    sme_code,
    terms,
)

NATIONAL_DAY = dt.date(2025, 10, 1)


def test_an_institution_is_registered_by_an_admin() -> None:
    w = World()
    w.post(p.InstitutionRegistered(institution_id="B-1", name="Bank", kind="bank"))
    assert w.view.institutions["B-1"].kind == "bank"


def test_an_institution_id_cannot_be_registered_twice() -> None:
    w = World()
    w.post(p.InstitutionRegistered(institution_id="B-1", name="Bank", kind="bank"))
    refusal = w.refuse(
        p.InstitutionRegistered(institution_id="B-1", name="Other", kind="guarantor")
    )
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


def test_only_an_admin_registers_institutions_and_programs() -> None:
    w = seeded()
    for event in (
        p.InstitutionRegistered(institution_id="B-9", name="Bank", kind="bank"),
        p.ProgramRegistered(program_id="P-9", name="P", terms=NATIONAL.terms),
        p.ProgramAmended(program_id=NATIONAL.program_id, terms=NATIONAL.terms),
    ):
        refusal = w.refuse(event, key(FUND))
        assert (refusal.status, refusal.slug) == (403, "forbidden")


def test_a_program_starts_at_version_one_with_its_terms() -> None:
    w = seeded()
    program = w.view.programs[NATIONAL.program_id]
    assert (program.version, program.terms) == (1, NATIONAL.terms)


def test_a_program_id_cannot_be_registered_twice() -> None:
    w = seeded()
    refusal = w.refuse(NATIONAL)
    assert (refusal.status, refusal.slug) == (409, "invalid-state")


def test_a_program_naming_an_unknown_party_is_invalid_state() -> None:
    w = World()
    refusal = w.refuse(NATIONAL)
    assert (refusal.slug, "CN-NFGF" in refusal.detail) == ("invalid-state", True)


def test_a_program_party_of_the_wrong_kind_is_invalid_state() -> None:
    w = World()
    w.post(p.InstitutionRegistered(institution_id=FUND, name="Not a fund", kind="bank"))
    refusal = w.refuse(NATIONAL)
    assert refusal.slug == "invalid-state"


def test_an_amendment_replaces_the_terms_and_raises_the_version() -> None:
    w = seeded()
    new = terms(per_sme_cap=1_000_000_000)
    w.post(p.ProgramAmended(program_id=NATIONAL.program_id, terms=new))
    program = w.view.programs[NATIONAL.program_id]
    assert (program.version, program.terms) == (2, new)


def test_amending_an_unknown_program_is_invalid_state() -> None:
    w = seeded()
    refusal = w.refuse(p.ProgramAmended(program_id="P-none", terms=NATIONAL.terms))
    assert refusal.slug == "invalid-state"


def test_an_sme_is_registered_by_a_reviewer_or_a_guarantor_but_not_a_bank() -> None:
    w = seeded()
    w.post(p.SmeRegistered(sme_id=sme_code(1), name="A"), key(REVIEWER))
    w.post(p.SmeRegistered(sme_id=sme_code(2), name="B"), key("CQ-SCI-GUAR"))
    refusal = w.refuse(p.SmeRegistered(sme_id=sme_code(3), name="C"), key("CQ-TECH-BANK"))
    assert (refusal.status, refusal.slug) == (403, "forbidden")
    assert {sme_code(1), sme_code(2)} <= set(w.view.smes)


def test_an_sme_cannot_be_registered_twice() -> None:
    w = seeded()
    refusal = w.refuse(p.SmeRegistered(sme_id=SME, name="Again"))
    assert refusal.slug == "invalid-state"


def test_only_a_reviewer_records_an_eligibility() -> None:
    w = seeded()
    refusal = w.refuse(eligibility(SME, "high_tech"), key("CQ-SCI-GUAR"))
    assert refusal.status == 403
    refusal = w.refuse(eligibility(SME, "high_tech"), ADMIN)
    assert refusal.status == 403


def test_an_eligibility_for_an_unregistered_sme_is_invalid_state() -> None:
    w = seeded()
    refusal = w.refuse(eligibility(sme_code(7), "high_tech"))
    assert refusal.slug == "invalid-state"


def test_eligibilities_accumulate_and_count_on_the_days_they_are_valid() -> None:
    w = seeded("little_giant")
    w.post(eligibility(SME, "high_tech", valid_from=NATIONAL_DAY, valid_until=NATIONAL_DAY))
    sme = w.view.smes[SME]
    assert sme.categories_on(NATIONAL_DAY) == ["little_giant", "high_tech"]
    assert sme.categories_on(NATIONAL_DAY.replace(day=2)) == ["little_giant"]
