"""Movements by institution, program and business date: what statements sum.

Every event of a guarantee's stream adds one row per institution that takes part in
the guarantee (its bank, guarantor, reguarantor, and the national fund or pool where
their fixed share is above 0): the business date and log position of the event, its
kind, the exact change it made to the in-force balance, its amount, and this
institution's share of it (borne or returned). Rows are never changed afterwards.

Why that answers any business date and any past moment exactly, without the log:
a stream keeps business order and its events are recorded in stream order, so the
events of one guarantee recorded by a moment, and those dated up to a day, are both
prefixes of its stream. The change each event made was fixed when it was applied
and no later event can alter it. So a balance at the end of day D as known at
position P is the sum of the changes of rows with business_date <= D and position
<= P: two range conditions on one index, and nothing to replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from events import payloads as p
from events.business import business_date
from events.derived import CompensationDerived, RecoveryDerived
from events.stored import LogEntry
from events.types import ROLES
from projections import balance
from projections.base import Doc, Docs, Projection, RowTable

NAME = "movements"
"""Name of this projection (its checkpoint row)."""

COLUMNS = (
    "institution_id",
    "program_id",
    "business_date",
    "position",
    "recorded_at",
    "guarantee_id",
    "kind",
    "amount",
    "in_force",
    "share",
)
"""The row table's columns after `generation`: see the module's docstring."""


def institution_key(institution_id: str) -> str:
    """Key of an institution's document (its kind)."""
    return f"institution:{institution_id}"


def needs(docs: Docs, entry: LogEntry) -> Iterable[str]:
    """The guarantee's document for its stream's events; none for registrations."""
    gid = balance.guarantee_id_of(entry)
    return [] if gid is None else [balance.guarantee_key(gid)]


def _members(entry: LogEntry, doc: Doc) -> dict[str, list[str]]:
    # Institution -> the roles it stands in: named parties, plus program-wide roles
    # only where their fixed share is above 0 (IssuedDerived.parties holds just those).
    data = entry.data
    assert isinstance(data, p.GuaranteeIssued)
    members: dict[str, list[str]] = {}
    named = {"bank": data.bank_id, "guarantor": data.guarantor_id}
    if data.reguarantor_id is not None:
        named["reguarantor"] = data.reguarantor_id
    named.update(doc["parties"])
    for role in ROLES:
        institution = named.get(role)
        if institution is not None:
            members.setdefault(institution, []).append(role)
    return members


def _shares(entry: LogEntry) -> Mapping[str, int]:
    """Per role, what this event gives each role (borne, or returned), else nothing."""
    derived = entry.derived
    if isinstance(derived, CompensationDerived):
        amounts = derived.shares
    elif isinstance(derived, RecoveryDerived):
        amounts = derived.split
    else:
        return {}
    return {role: amounts.get(role) for role in ROLES}


def _amount(entry: LogEntry, change: balance.BalanceChange | None) -> tuple[str, int]:
    data = entry.data
    moved = 0 if change is None else -change.delta
    match data:
        case p.GuaranteeIssued():
            return "issued", data.loan_amount
        case p.GuaranteeRenewed():
            return "renewed", -moved
        case p.LoanRepaid():
            return "repaid", moved  # what it took off: never more than the balance
        case p.GuaranteeReleased():
            return "released", moved
        case p.CompensationPaid():
            # The approved amount: a claim is at most the balance and nothing moves the
            # balance between claim and compensation, so this is the balance change too.
            return "compensated", moved
        case p.ClaimClosed():
            return "closed", moved
        case p.LoanDefaulted():
            return "defaulted", data.overdue_principal
        case p.RecoveryRecorded():
            return "recovered", data.amount
    return entry.type, 0


def apply(docs: Docs, entry: LogEntry) -> None:
    """Keep each guarantee's balance and members; emit its movement rows."""
    data = entry.data
    if isinstance(data, p.InstitutionRegistered):
        docs.put(institution_key(data.institution_id), {"kind": data.kind})
        return
    gid = balance.guarantee_id_of(entry)
    if gid is None:
        return
    change = balance.track(docs, entry)
    key = balance.guarantee_key(gid)
    doc = docs.need(key)
    if isinstance(data, p.GuaranteeIssued):
        doc["members"] = _members(entry, doc)
        docs.put(key, doc)
    kind, amount = _amount(entry, change)
    delta = 0 if change is None else change.delta
    shares = _shares(entry)
    day = business_date(entry.occurred_at)
    for institution, roles in sorted(doc["members"].items()):
        share = sum(shares.get(role, 0) for role in roles)
        docs.emit(
            (
                institution,
                doc["program_id"],
                day,
                entry.position,
                entry.recorded_at,
                gid,
                kind,
                amount,
                delta,
                share,
            )
        )


PROJECTION = Projection(
    name=NAME,
    table="proj_movements",
    needs=needs,
    apply=apply,
    handles=balance.GUARANTEE_EVENTS | {"institution.registered"},
    rows=RowTable("proj_movement_rows", COLUMNS),
)
"""The movements read model: documents per guarantee, rows per movement."""
