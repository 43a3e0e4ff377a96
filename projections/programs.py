"""Program totals: current terms and version, guarantees, volume, balances, losses per role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from events import payloads as p
from events.derived import CompensationDerived, RecoveryDerived
from events.stored import LogEntry
from events.terms import ProgramTerms
from events.types import ROLES
from projections import balance
from projections.base import Doc, Docs, Projection

NAME = "programs"
"""Name of this projection (its checkpoint row)."""

COUNTS = (
    "guarantees_issued",
    "active_guarantees",
    "guaranteed_volume",
    "in_force_balance",
    "claims_filed",
    "claims_approved",
    "claims_rejected",
    "compensations_paid",
    "compensated_amount",
    "recovered_amount",
)
"""The program totals that are plain counts and sums, in the order of their fields."""


def program_key(program_id: str) -> str:
    """Key of a program's totals document."""
    return f"program:{program_id}"


def terms_dict(terms: ProgramTerms) -> dict[str, Any]:
    """Every field of the terms, defaults included, as JSON values."""
    return {name: msgspec.to_builtins(getattr(terms, name)) for name in terms.__struct_fields__}


def needs(docs: Docs, entry: LogEntry) -> Iterable[str]:
    """The program document, and for guarantee events the guarantee's balance document."""
    data = entry.data
    match data:
        case p.ProgramRegistered() | p.ProgramAmended():
            return [program_key(data.program_id)]
        case p.GuaranteeIssued():
            return [balance.guarantee_key(data.guarantee_id), program_key(data.program_id)]
    gid = balance.guarantee_id_of(entry)
    if gid is None:
        return []
    keys = [balance.guarantee_key(gid)]
    if (doc := docs.peek(keys[0])) is not None:
        keys.append(program_key(doc["program_id"]))
    return keys


def _zeros() -> dict[str, int]:
    return {role: 0 for role in ROLES}


def _registered(data: p.ProgramRegistered) -> Doc:
    totals: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    totals.update(volume_by_role=_zeros(), borne=_zeros(), recovered=_zeros())
    return {
        "program_id": data.program_id,
        "name": data.name,
        "version": 1,
        "terms": terms_dict(data.terms),
        "totals": totals,
    }


def counts(entry: LogEntry, change: balance.BalanceChange | None) -> dict[str, int]:
    """What one event adds to each of COUNTS (only those it moves)."""
    data = entry.data
    counts: dict[str, int] = {}
    if change is not None:
        counts["in_force_balance"] = change.delta
        counts["active_guarantees"] = int(change.in_force) - int(change.was_in_force)
    match data:
        case p.GuaranteeIssued():
            counts.update(guarantees_issued=1, guaranteed_volume=data.loan_amount)
        case p.ClaimFiled():
            counts["claims_filed"] = 1
        case p.ClaimApproved():
            counts["claims_approved"] = 1
        case p.ClaimRejected():
            counts["claims_rejected"] = 1
        case p.CompensationPaid():
            assert isinstance(entry.derived, CompensationDerived)
            counts.update(compensations_paid=1, compensated_amount=entry.derived.approved_amount)
        case p.RecoveryRecorded():
            counts["recovered_amount"] = data.amount
    return counts


def per_role(entry: LogEntry, g: Doc) -> tuple[str, Mapping[Any, int]] | None:
    """The per-role total an event adds to (volume, borne or recovered) and by how much."""
    derived = entry.derived
    if isinstance(entry.data, p.GuaranteeIssued):
        loan = int(g["loan_amount"])
        return "volume_by_role", {r: loan if bp > 0 else 0 for r, bp in g["shares_bp"].items()}
    if isinstance(derived, CompensationDerived):
        return "borne", derived.shares.as_dict()
    if isinstance(derived, RecoveryDerived):
        return "recovered", derived.split.as_dict()
    return None


def apply(docs: Docs, entry: LogEntry) -> None:
    """Keep a program's terms, version and running totals."""
    data = entry.data
    if isinstance(data, p.ProgramRegistered):
        docs.put(program_key(data.program_id), _registered(data))
        return
    if isinstance(data, p.ProgramAmended):
        key = program_key(data.program_id)
        doc = docs.need(key)
        docs.put(key, {**doc, "version": doc["version"] + 1, "terms": terms_dict(data.terms)})
        return
    change = balance.track(docs, entry)
    gid = balance.guarantee_id_of(entry)
    if gid is None:
        return
    g = docs.need(balance.guarantee_key(gid))
    key = program_key(g["program_id"])
    doc = docs.need(key)
    totals = doc["totals"]
    for name, amount in counts(entry, change).items():
        totals[name] += amount
    if (by_role := per_role(entry, g)) is not None:
        field, amounts = by_role
        for role in ROLES:
            totals[field][role] += amounts[role]
    docs.put(key, doc)


def render(doc: Doc, position: int) -> dict[str, Any]:
    """The program body: current terms and version, totals, and each capped role's cap."""
    # Copied: the document's totals are updated in place by later events.
    totals = {k: dict(v) if isinstance(v, dict) else v for k, v in doc["totals"].items()}
    net = {role: totals["borne"][role] - totals["recovered"][role] for role in ROLES}
    caps = {}
    for role, rate in sorted(doc["terms"]["compensation_caps_bp"].items()):
        volume = totals["volume_by_role"][role]
        cap = rate * volume // 10000
        caps[role] = {"rate_bp": rate, "volume": volume, "cap": cap, "used": totals["borne"][role]}
    return {
        "program_id": doc["program_id"],
        "name": doc["name"],
        "version": doc["version"],
        "terms": doc["terms"],
        "position": position,
        "totals": {**totals, "net_loss": net, "caps": caps},
    }


PROJECTION = Projection(
    name=NAME,
    table="proj_programs",
    needs=needs,
    apply=apply,
    handles=balance.PROGRAM_EVENTS | balance.GUARANTEE_EVENTS,
)
"""The program totals read model."""
