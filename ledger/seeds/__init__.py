"""Seed programs and institutions the ledger ships as realistic examples."""

from __future__ import annotations

from importlib import resources

from events.envelope import decode_payload
from events.payloads import InstitutionRegistered, ProgramRegistered

NATIONAL_FUND_ID = "CN-NFGF"
"""The national financing guarantee fund."""

BANK_ID = "CQ-TECH-BANK"
"""A lending bank in Chongqing."""

GUARANTOR_ID = "CQ-SCI-GUAR"
"""A local science-and-technology guarantee institution (the guarantor)."""

REGUARANTOR_ID = "CQ-REGUAR"
"""The provincial re-guarantee institution."""

POOL_ID = "CQ-LJ-POOL"
"""The Liangjiang risk-compensation pool."""

REVIEWER_ID = "CQ-LJ-REVIEW"
"""The Liangjiang multi-party review (science and tax bureaus)."""

SME_ID = "91500000MA5U7K3Q8Y"
"""A technology SME in Chongqing (its unified social credit code)."""

SEED_PROGRAM_FILES: tuple[str, ...] = (
    "national-sme-tech-2024.json",
    "liangjiang-sci-tech-growth.json",
)
"""The program.registered data files shipped in this package."""

SEED_INSTITUTIONS: tuple[InstitutionRegistered, ...] = (
    InstitutionRegistered(
        institution_id=NATIONAL_FUND_ID,
        name="National Financing Guarantee Fund",
        kind="national_fund",
    ),
    InstitutionRegistered(institution_id=BANK_ID, name="Chongqing Technology Bank", kind="bank"),
    InstitutionRegistered(
        institution_id=GUARANTOR_ID,
        name="Chongqing Sci-tech Financing Guarantee Co.",
        kind="guarantor",
    ),
    InstitutionRegistered(
        institution_id=REGUARANTOR_ID,
        name="Chongqing Re-guarantee Co.",
        kind="reguarantor",
    ),
    InstitutionRegistered(
        institution_id=POOL_ID,
        name="Liangjiang Sci-tech Risk Compensation Pool",
        kind="compensation_pool",
    ),
    InstitutionRegistered(
        institution_id=REVIEWER_ID,
        name="Liangjiang Sci-tech Growth Loan Review Panel",
        kind="reviewer",
    ),
)
"""institution.registered data for every institution the seed programs need."""


def load_seed_programs() -> list[ProgramRegistered]:
    """Read the seed programs, validated by the same strict decoder as posted events."""
    programs: list[ProgramRegistered] = []
    for name in SEED_PROGRAM_FILES:
        raw = resources.files(__name__).joinpath(name).read_bytes()
        payload = decode_payload("program.registered", raw)
        assert isinstance(payload, ProgramRegistered)
        programs.append(payload)
    return programs
