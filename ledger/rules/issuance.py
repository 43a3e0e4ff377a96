"""Rules for issuing a guarantee: parties, bounds, eligibility, fixed shares, the per-SME cap."""

from __future__ import annotations

import datetime as dt

from events.derived import IssuedDerived
from events.payloads import GuaranteeIssued
from events.terms import fund_category, shares_for
from events.types import Category, Role
from ledger.rules.dates import within_term
from ledger.rules.limits import check_exposure, check_not_suspended, track_balance
from ledger.rules.refusal import Refusal, invalid_state, invalid_value
from ledger.rules.state import GuaranteeState, InstitutionState, ProgramState, SmeState, View


def _institution(
    view: View, institution_id: str, kinds: tuple[str, ...], as_role: str
) -> InstitutionState:
    found: InstitutionState | None = view.institutions.get(institution_id)
    if found is None:
        raise invalid_state(f"{as_role} {institution_id} is not a registered institution")
    if found.kind not in kinds:
        raise invalid_state(
            f"{as_role} {institution_id} is a {found.kind}; it must be a {' or '.join(kinds)}"
        )
    return found


def check_cap(view: View, sme_id: str, program: ProgramState, increase: int) -> None:
    """Refuse with cap-exceeded when `increase` more in force would break the SME cap."""
    balance = view.sme_balance.get((sme_id, program.program_id), 0)
    cap = program.terms.per_sme_cap
    if balance + increase > cap:
        raise Refusal(
            409,
            "cap-exceeded",
            f"SME {sme_id} has {balance} fen in force in program {program.program_id}; "
            f"{increase} more would exceed the cap of {cap} fen",
            extra={"balance": balance, "cap": cap, "requested": increase},
        )


def _check_bounds(program: ProgramState, event: GuaranteeIssued) -> None:
    terms = program.terms
    if not terms.loan_amount_min <= event.loan_amount <= terms.loan_amount_max:
        raise invalid_value(
            "$.data.loan_amount",
            f"loan_amount must be between {terms.loan_amount_min} and {terms.loan_amount_max} "
            f"fen in program {program.program_id}",
        )
    if event.fee_rate_bp > terms.fee_rate_bp_max:
        raise invalid_value(
            "$.data.fee_rate_bp",
            f"fee_rate_bp must be at most {terms.fee_rate_bp_max} in program {program.program_id}",
        )
    if not within_term(event.start_date, event.maturity_date, terms.max_term_months):
        raise invalid_value(
            "$.data.maturity_date",
            f"the term may be at most {terms.max_term_months} months in program "
            f"{program.program_id}",
        )


def _eligible_categories(
    program: ProgramState, sme: SmeState, event: GuaranteeIssued
) -> list[Category]:
    valid = sme.categories_on(event.start_date)
    wanted = program.terms.eligible_categories
    if wanted and not any(c in wanted for c in valid):
        raise Refusal(
            409,
            "not-eligible",
            f"SME {sme.sme_id} has no eligibility valid on {event.start_date.isoformat()} in "
            f"any of: {', '.join(wanted)}",
        )
    return valid


def _parties(program: ProgramState, event: GuaranteeIssued, roles: list[Role]) -> dict[Role, str]:
    named: dict[Role, str | None] = {
        "bank": event.bank_id,
        "guarantor": event.guarantor_id,
        "reguarantor": event.reguarantor_id,
        "national_fund": program.terms.parties.get("national_fund"),
        "compensation_pool": program.terms.parties.get("compensation_pool"),
    }
    parties: dict[Role, str] = {"bank": event.bank_id, "guarantor": event.guarantor_id}
    for role in roles:
        who = named[role]
        if who is None:
            raise invalid_state(f"program {program.program_id} gives {role} a share but names none")
        parties[role] = who
    return parties


def issue(view: View, event: GuaranteeIssued, at: dt.datetime | None = None) -> IssuedDerived:
    """Accept a new guarantee, fixing its shares from the program's current terms.

    `at` is the event's business time (its year selects the breaker checked).
    """
    if event.guarantee_id in view.guarantees:
        raise invalid_state(f"guarantee {event.guarantee_id} already exists")
    program = view.programs.get(event.program_id)
    if program is None:
        raise invalid_state(f"program {event.program_id} is not registered")
    sme = view.smes.get(event.sme_id)
    if sme is None:
        raise invalid_state(f"SME {event.sme_id} is not registered")
    _institution(view, event.bank_id, ("bank",), "bank")
    guarantor = _institution(
        view, event.guarantor_id, ("guarantor", "compensation_pool"), "guarantor"
    )
    if event.reguarantor_id is not None:
        _institution(view, event.reguarantor_id, ("reguarantor",), "reguarantor")
    _check_bounds(program, event)
    categories = _eligible_categories(program, sme, event)
    shares = shares_for(program.terms, categories)
    roles = [role for role, bp in shares.as_dict().items() if bp > 0]
    if guarantor.kind == "compensation_pool" and shares.guarantor > 0:
        # docs/rules.md: a pool names itself as guarantor only where the guarantee has
        # no guarantor (a pool-and-bank program), posting on the program's behalf.
        raise invalid_state(
            f"guarantor {event.guarantor_id} is a compensation_pool, which stands as guarantor "
            f"only where the guarantor has no share; program {program.program_id} gives the "
            f"guarantor {shares.guarantor} bp: name an institution of kind guarantor"
        )
    if shares.reguarantor > 0 and event.reguarantor_id is None:
        raise invalid_value(
            "$.data.reguarantor_id",
            f"program {program.program_id} gives the reguarantor a share: name one",
        )
    parties = _parties(program, event, roles)
    check_not_suspended(view, event.program_id, event.guarantor_id, event.bank_id, at)
    check_cap(view, event.sme_id, program, event.loan_amount)
    check_exposure(view, event.guarantor_id, event.sme_id, event.loan_amount)

    g = view.guarantees[event.guarantee_id] = GuaranteeState(
        guarantee_id=event.guarantee_id,
        program_id=event.program_id,
        program_version=program.version,
        sme_id=event.sme_id,
        bank_id=event.bank_id,
        guarantor_id=event.guarantor_id,
        reguarantor_id=event.reguarantor_id,
        loan_amount=event.loan_amount,
        balance=event.loan_amount,
        status="active",
        first_start_date=event.start_date,
        maturity_date=event.maturity_date,
        shares_bp=shares,
        parties=parties,
        max_term_months=program.terms.max_term_months,
        compensation_caps_bp=dict(program.terms.compensation_caps_bp),
    )
    view.touch("guarantee", event.guarantee_id)
    key = (event.sme_id, event.program_id)
    view.sme_balance[key] = view.sme_balance.get(key, 0) + event.loan_amount
    track_balance(view, g, event.loan_amount)
    for role in roles:
        vkey = (event.program_id, role)
        view.program_volume[vkey] = view.program_volume.get(vkey, 0) + event.loan_amount
    best = _best_category(program, categories)
    return IssuedDerived(
        program_version=program.version, category=best, shares_bp=shares, parties=parties
    )


def _best_category(program: ProgramState, categories: list[Category]) -> Category | None:
    """The category that set the fund's share, else the first eligible one."""
    # fund_category breaks ties in CATEGORIES order, the same way shares_for does,
    # so the category stored is the one that actually set the share.
    deciding = fund_category(program.terms, categories)
    if deciding is not None:
        return deciding
    wanted = program.terms.eligible_categories
    for category in categories:
        if category in wanted:
            return category
    return categories[0] if categories else None
