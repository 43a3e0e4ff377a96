"""Risk limits: leverage, single-SME concentration and the rate breaker."""

from __future__ import annotations

import datetime as dt

from events.breaker import Breaker, Discharge, business_year, record, reinstate
from events.payloads import InstitutionLimitsSet, InstitutionNetAssetsRecorded, LimitReinstated
from events.terms import CompensationRateLimit
from ledger.rules.refusal import Refusal, invalid_state
from ledger.rules.state import (
    BreakerKey,
    GuaranteeState,
    GuarantorLimits,
    View,
    breaker_key_text,
)

_LIMITED_KINDS = ("guarantor", "compensation_pool")


def _limits(view: View, institution_id: str) -> GuarantorLimits:
    if institution_id not in view.institutions:
        raise invalid_state(f"institution {institution_id} is not registered")
    found = view.guarantor_limits.get(institution_id)
    if found is None:
        found = view.guarantor_limits[institution_id] = GuarantorLimits(
            institution_id=institution_id
        )
    view.touch("limits", institution_id)
    return found


def record_net_assets(view: View, event: InstitutionNetAssetsRecorded) -> None:
    """The latest net assets of an institution (the base of its limits)."""
    limits = _limits(view, event.institution_id)
    limits.net_assets = event.net_assets
    limits.as_of = event.as_of


def set_limits(view: View, event: InstitutionLimitsSet) -> None:
    """A guarantor's leverage and concentration limits; they replace earlier ones."""
    found = view.institutions.get(event.institution_id)
    if found is not None and found.kind not in _LIMITED_KINDS:
        raise invalid_state(
            f"institution {event.institution_id} is a {found.kind}; limits apply to guarantors"
        )
    limits = _limits(view, event.institution_id)
    limits.max_leverage_x100 = event.max_leverage_x100
    limits.max_single_sme_bp = event.max_single_sme_bp


def check_exposure(view: View, guarantor_id: str, sme_id: str, increase: int) -> None:
    """Refuse when `increase` more in force would break the guarantor's leverage or
    single-SME concentration limit (only once both net assets and limits are recorded)."""
    limits = view.guarantor_limits.get(guarantor_id)
    fen = None if limits is None else limits.limits_fen()
    if fen is None:
        return
    leverage, single = fen
    in_force = view.guarantor_in_force.get(guarantor_id, 0)
    if in_force + increase > leverage:
        raise _exceeded("leverage", guarantor_id, in_force, leverage, increase, "in total")
    to_sme = view.guarantor_sme.get((guarantor_id, sme_id), 0)
    if to_sme + increase > single:
        raise _exceeded("concentration", guarantor_id, to_sme, single, increase, f"to SME {sme_id}")


def _exceeded(
    what: str, guarantor_id: str, in_force: int, limit: int, requested: int, where: str
) -> Refusal:
    return Refusal(
        409,
        f"{what}-exceeded",
        f"guarantor {guarantor_id} has {in_force} fen in force {where}; {requested} more "
        f"would exceed its {what} limit of {limit} fen",
        extra={"in_force": in_force, "limit": limit, "requested": requested},
    )


def track_balance(view: View, g: GuaranteeState, change: int) -> None:
    """Keep the guarantor's in-force sums in step with a change of one guarantee's."""
    if change:
        gid = g.guarantor_id
        view.guarantor_in_force[gid] = view.guarantor_in_force.get(gid, 0) + change
        key = (gid, g.sme_id)
        view.guarantor_sme[key] = view.guarantor_sme.get(key, 0) + change


def _rate_limit(view: View, program_id: str) -> CompensationRateLimit | None:
    program = view.programs.get(program_id)
    return None if program is None else program.terms.compensation_rate_limit


def _breaker(view: View, key: BreakerKey) -> Breaker:
    found = view.breakers.get(key)
    if found is None:
        found = view.breakers[key] = Breaker()
    return found


def discharge(
    view: View, g: GuaranteeState, kind: Discharge, amount: int, at: dt.datetime | None
) -> None:
    """Count a discharge on `g` towards the breakers of its guarantor and its bank in its
    program, limit or not (a limit added later rates the whole year); the one in the
    limit's role is suspended when it trips."""
    if at is None or amount <= 0:
        return
    limit = _rate_limit(view, g.program_id)
    year = business_year(at)
    for role, who in (("guarantor", g.guarantor_id), ("bank", g.bank_id)):
        key = (g.program_id, who, year)
        applies = limit if limit is not None and limit.role == role else None
        record(_breaker(view, key), applies, kind, amount)
        view.touch("breaker", breaker_key_text(key))


def check_not_suspended(
    view: View, program_id: str, guarantor_id: str, bank_id: str, at: dt.datetime | None
) -> None:
    """Refuse with program-suspended when the party in the limit's role is suspended."""
    limit = _rate_limit(view, program_id)
    if limit is None or at is None:
        return
    who = guarantor_id if limit.role == "guarantor" else bank_id
    year = business_year(at)
    breaker = view.breakers.get((program_id, who, year))
    if breaker is None or not breaker.suspended_under(limit):
        return
    rate = breaker.rate_bp
    raise Refusal(
        409,
        "program-suspended",
        f"{limit.role} {who} is suspended in program {program_id} for {year}: its compensation "
        f"rate is {rate} bp, at or above {limit.suspend_bp} bp; an admin may post limit.reinstated",
        extra={
            "institution_id": who,
            "program_id": program_id,
            "year": year,
            "rate_bp": rate,
            "suspend_bp": limit.suspend_bp,
        },
    )


def _in_role(kind: str, limit: CompensationRateLimit) -> bool:
    """Whether an institution of `kind` can stand in the limit's role (a bank as the bank; a
    guarantor, or a pool for its pool-and-bank program, as the guarantor)."""
    return kind == "bank" if limit.role == "bank" else kind in ("guarantor", "compensation_pool")


def reinstate_limit(view: View, event: LimitReinstated) -> None:
    """An admin lifts a suspension of an institution in a program for a year."""
    if event.institution_id not in view.institutions:
        raise invalid_state(f"institution {event.institution_id} is not registered")
    if event.program_id not in view.programs:
        raise invalid_state(f"program {event.program_id} is not registered")
    limit = _rate_limit(view, event.program_id)
    if limit is None:
        raise invalid_state(f"program {event.program_id} has no compensation_rate_limit")
    key = (event.program_id, event.institution_id, event.year)
    breaker = view.breakers.get(key)
    institution = view.institutions[event.institution_id]
    if (
        breaker is None
        or not _in_role(institution.kind, limit)
        or not breaker.suspended_under(limit)
    ):
        raise invalid_state(
            f"institution {event.institution_id} is not suspended in program "
            f"{event.program_id} for {event.year}"
        )
    reinstate(breaker, limit)
    view.touch("breaker", breaker_key_text(key))
