"""Claim shares: per role, the institution, what it bore, what it recovered and its net loss."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events import payloads as p
from events.derived import CompensationDerived, IssuedDerived, RecoveryDerived
from events.stored import LogEntry
from events.types import ROLES
from projections import balance
from projections.base import Doc, Docs, Projection

NAME = "claims"
"""Name of this projection (its checkpoint row)."""

_CLAIM_EVENTS = (
    p.ClaimFiled,
    p.ClaimApproved,
    p.ClaimRejected,
    p.CompensationPaid,
    p.RecoveryRecorded,
    p.ClaimClosed,
)


def claim_key(claim_id: str) -> str:
    """Key of a claim's document."""
    return f"claim:{claim_id}"


def _zeros() -> dict[str, int]:
    return {role: 0 for role in ROLES}


def needs(docs: Docs, entry: LogEntry) -> Iterable[str]:
    """The claim and its guarantee's parties, for claim events; the guarantee when issued."""
    data = entry.data
    if isinstance(data, p.GuaranteeIssued):
        return [balance.guarantee_key(data.guarantee_id)]
    if isinstance(data, _CLAIM_EVENTS):
        return [claim_key(data.claim_id), balance.guarantee_key(data.guarantee_id)]
    return []


def _changes(data: p.Payload, entry: LogEntry, claim: Doc) -> dict[str, Any]:
    match data:
        case p.ClaimApproved():
            return {"status": "approved", "approved_amount": data.approved_amount}
        case p.ClaimRejected():
            return {"status": "rejected", "reason": data.reason}
        case p.CompensationPaid():
            # The split fixed when the compensation was accepted: never recomputed here.
            derived = entry.derived
            assert isinstance(derived, CompensationDerived)
            return {
                "status": "compensated",
                "borne": derived.shares.as_dict(),
                "parties": {**claim["parties"], **derived.parties},
            }
        case p.RecoveryRecorded():
            split = entry.derived
            assert isinstance(split, RecoveryDerived)
            recovered = {role: claim["recovered"][role] + split.split.get(role) for role in ROLES}
            return {"recovered": recovered}
        case p.ClaimClosed():
            return {"status": "closed"}
    return {}


def apply(docs: Docs, entry: LogEntry) -> None:
    """Record a claim's life and its per-role borne and recovered amounts."""
    data = entry.data
    if isinstance(data, p.GuaranteeIssued):
        derived = entry.derived
        assert isinstance(derived, IssuedDerived)
        docs.put(balance.guarantee_key(data.guarantee_id), {"parties": dict(derived.parties)})
        return
    if isinstance(data, p.ClaimFiled):
        guarantee = docs.need(balance.guarantee_key(data.guarantee_id))
        docs.put(
            claim_key(data.claim_id),
            {
                "claim_id": data.claim_id,
                "guarantee_id": data.guarantee_id,
                "status": "filed",
                "amount": data.amount,
                "approved_amount": 0,
                "reason": None,
                "parties": dict(guarantee["parties"]),
                "borne": _zeros(),
                "recovered": _zeros(),
                "last_position": entry.position,
            },
        )
        return
    if isinstance(data, _CLAIM_EVENTS):
        key = claim_key(data.claim_id)
        claim = docs.need(key)
        docs.put(key, {**claim, **_changes(data, entry, claim), "last_position": entry.position})


def render(doc: Doc, position: int) -> dict[str, Any]:
    """The claim body: every role present, zeros where it has no share."""
    shares = {}
    for role in ROLES:
        borne, recovered = doc["borne"][role], doc["recovered"][role]
        shares[role] = {
            "institution_id": doc["parties"].get(role),
            "borne": borne,
            "recovered": recovered,
            "net": borne - recovered,
        }
    borne_total = sum(doc["borne"].values())
    recovered_total = sum(doc["recovered"].values())
    return {
        "claim_id": doc["claim_id"],
        "guarantee_id": doc["guarantee_id"],
        "status": doc["status"],
        "amount": doc["amount"],
        "approved_amount": doc["approved_amount"],
        "recovered": recovered_total,
        "reason": doc["reason"],
        "position": position,
        "shares": shares,
        "totals": {
            "borne": borne_total,
            "recovered": recovered_total,
            "net": borne_total - recovered_total,
        },
        "parties": dict(doc["parties"]),
    }


PROJECTION = Projection(
    name=NAME,
    table="proj_claims",
    needs=needs,
    apply=apply,
    handles=balance.GUARANTEE_EVENTS,
)
"""The claim shares read model."""
