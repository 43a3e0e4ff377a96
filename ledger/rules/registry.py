"""Rules for the registers: institutions, programs, SMEs and eligibilities."""

from __future__ import annotations

from events.payloads import (
    InstitutionRegistered,
    ProgramAmended,
    ProgramRegistered,
    SmeEligibilityRecorded,
    SmeRegistered,
)
from events.terms import ProgramTerms
from ledger.rules.refusal import invalid_state
from ledger.rules.state import (
    Eligibility,
    InstitutionState,
    ProgramState,
    SmeState,
    View,
)

# A program party must be an institution of the kind its role names.
_PARTY_KINDS = {"national_fund": "national_fund", "compensation_pool": "compensation_pool"}


def register_institution(view: View, event: InstitutionRegistered) -> None:
    """A new institution; its id must not be in use."""
    if event.institution_id in view.institutions:
        raise invalid_state(f"institution {event.institution_id} is already registered")
    view.institutions[event.institution_id] = InstitutionState(
        institution_id=event.institution_id, kind=event.kind, name=event.name
    )
    view.touch("institution", event.institution_id)


def _check_parties(view: View, terms: ProgramTerms) -> None:
    for role, institution_id in terms.parties.items():
        found = view.institutions.get(institution_id)
        if found is None:
            raise invalid_state(f"program party {role} names unknown institution {institution_id}")
        if found.kind != _PARTY_KINDS[role]:
            raise invalid_state(
                f"program party {role} must be a {_PARTY_KINDS[role]}, "
                f"but {institution_id} is a {found.kind}"
            )


def register_program(view: View, event: ProgramRegistered) -> None:
    """A new program at version 1; its parties must exist with the right kinds."""
    if event.program_id in view.programs:
        raise invalid_state(f"program {event.program_id} is already registered")
    _check_parties(view, event.terms)
    view.programs[event.program_id] = ProgramState(
        program_id=event.program_id, name=event.name, version=1, terms=event.terms
    )
    view.touch("program", event.program_id)


def amend_program(view: View, event: ProgramAmended) -> int:
    """Replace a program's terms for guarantees issued from now on; returns the new version."""
    program = view.programs.get(event.program_id)
    if program is None:
        raise invalid_state(f"program {event.program_id} is not registered")
    _check_parties(view, event.terms)
    program.terms = event.terms
    program.version += 1
    view.touch("program", event.program_id)
    return program.version


def register_sme(view: View, event: SmeRegistered) -> None:
    """A new SME; its credit code must not be registered yet."""
    if event.sme_id in view.smes:
        raise invalid_state(f"SME {event.sme_id} is already registered")
    view.smes[event.sme_id] = SmeState(sme_id=event.sme_id, name=event.name)
    view.touch("sme", event.sme_id)


def record_eligibility(view: View, event: SmeEligibilityRecorded) -> None:
    """An eligibility for a registered SME."""
    sme = view.smes.get(event.sme_id)
    if sme is None:
        raise invalid_state(f"SME {event.sme_id} is not registered")
    sme.eligibilities.append(
        Eligibility(
            category=event.category,
            reference=event.reference,
            valid_from=event.valid_from,
            valid_until=event.valid_until,
        )
    )
    view.touch("sme", event.sme_id)
