"""Guarantee summary: status, balance, fixed shares, parties and claims of each guarantee."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events import payloads as p
from events.business import SHANGHAI
from events.derived import IssuedDerived
from events.stored import LogEntry
from projections import balance
from projections.base import Doc, Docs, Projection

NAME = "guarantees"
"""Name of this projection (its checkpoint row)."""


def needs(docs: Docs, entry: LogEntry) -> Iterable[str]:
    """The guarantee's own document, for events of its stream."""
    gid = balance.guarantee_id_of(entry)
    return [] if gid is None else [balance.guarantee_key(gid)]


def _issued(entry: LogEntry) -> Doc:
    data, derived = entry.data, entry.derived
    assert isinstance(data, p.GuaranteeIssued)
    assert isinstance(derived, IssuedDerived)
    return {
        "guarantee_id": data.guarantee_id,
        "bank_id": data.bank_id,
        "guarantor_id": data.guarantor_id,
        "reguarantor_id": data.reguarantor_id,
        "fee_rate_bp": data.fee_rate_bp,
        "start_date": data.start_date.isoformat(),
        "maturity_date": data.maturity_date.isoformat(),
        "program_version": derived.program_version,
        "category": derived.category,
        "status": "active",
        "claims": [],
        "open_claim": None,
        "default_date": None,
    }


def _status(data: p.Payload, doc: Doc) -> dict[str, Any]:
    # Status moves exactly as in ledger/rules (lifecycle.py, claims.py).
    match data:
        case p.GuaranteeRenewed():
            return {"maturity_date": data.maturity_date.isoformat()}
        case p.GuaranteeReleased():
            return {"status": "released"}
        case p.LoanDefaulted():
            return {"status": "defaulted", "default_date": data.default_date.isoformat()}
        case p.ClaimFiled():
            return {
                "status": "claimed",
                "claims": [*doc["claims"], data.claim_id],
                "open_claim": data.claim_id,
            }
        case p.ClaimApproved():
            return {"status": "approved"}
        case p.ClaimRejected():
            return {"status": "defaulted", "open_claim": None}
        case p.CompensationPaid():
            return {"status": "compensated"}
        case p.ClaimClosed():
            return {"status": "closed", "open_claim": None}
    return {}


def apply(docs: Docs, entry: LogEntry) -> None:
    """Follow a guarantee's stream: balance, status, claims, stream version."""
    gid = balance.guarantee_id_of(entry)
    if gid is None:
        return
    key = balance.guarantee_key(gid)
    change = balance.track(docs, entry)
    doc = docs.need(key)
    extra = _issued(entry) if entry.type == "guarantee.issued" else _status(entry.data, doc)
    if change is not None:
        extra["balance_history"] = [*doc.get("balance_history", ()), _point(entry, change)]
    docs.put(
        key,
        {**doc, **extra, "version": entry.stream_version, "last_position": entry.position},
    )


def _point(entry: LogEntry, change: balance.BalanceChange) -> Doc:
    # The in-force balance after each event that moved it, on its business date (the
    # console plots it; readers may not read the stream it is folded from).
    return {
        "position": entry.position,
        "type": entry.type,
        "occurred_at": entry.occurred_at.isoformat(),
        "business_date": entry.occurred_at.astimezone(SHANGHAI).date().isoformat(),
        "balance": change.after,
    }


def render(doc: Doc, position: int) -> dict[str, Any]:
    """The guarantee body from its document."""
    fields = (
        "guarantee_id",
        "program_id",
        "sme_id",
        "status",
        "loan_amount",
        "balance",
        "shares_bp",
        "claims",
        "version",
        "parties",
        "bank_id",
        "guarantor_id",
        "reguarantor_id",
        "fee_rate_bp",
        "start_date",
        "maturity_date",
        "default_date",
        "open_claim",
        "category",
        "program_version",
        "last_position",
    )
    body = {name: doc[name] for name in fields}
    body["position"] = position
    # Documents written before the history was kept have none until a rebuild. Each point's
    # keys in one fixed order (jsonb gives them back shortest first).
    body["balance_history"] = [
        {k: p[k] for k in ("position", "type", "occurred_at", "business_date", "balance")}
        for p in doc.get("balance_history", ())
    ]
    return body


PROJECTION = Projection(
    name=NAME,
    table="proj_guarantees",
    needs=needs,
    apply=apply,
    handles=balance.GUARANTEE_EVENTS,
)
"""The guarantee summary read model."""
