"""Institution positions: per program, volume, in-force balance, losses and compensation cap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from events import payloads as p
from events.breaker import Breaker, business_year, record, reinstate
from events.derived import CompensationDerived, RecoveryDerived
from events.stored import LogEntry
from events.terms import CompensationRateLimit
from events.types import ROLES
from projections import balance
from projections.balance import BalanceChange
from projections.base import Doc, Docs, Projection

NAME = "institutions"
"""Name of this projection (its checkpoint row)."""


def institution_key(institution_id: str) -> str:
    """Key of an institution's position document."""
    return f"institution:{institution_id}"


def program_key(program_id: str) -> str:
    """Key of a program's caps, volume and borne-per-role document."""
    return f"program:{program_id}"


def needs(docs: Docs, entry: LogEntry) -> Iterable[str]:
    """The institution, program and guarantee documents `entry` touches."""
    data = entry.data
    match data:
        case p.InstitutionRegistered():
            return [institution_key(data.institution_id)]
        case p.ProgramRegistered() | p.ProgramAmended():
            named = [institution_key(i) for i in data.terms.parties.values()]
            return [program_key(data.program_id), *named]
        case p.LimitReinstated():
            return [institution_key(data.institution_id), program_key(data.program_id)]
        case p.GuaranteeIssued():
            issued = balance.new_guarantee(entry)
            named = [institution_key(i) for i in issued["parties"].values()]
            return [balance.guarantee_key(data.guarantee_id), program_key(data.program_id), *named]
    gid = balance.guarantee_id_of(entry)
    if gid is None:
        return []
    keys = [balance.guarantee_key(gid)]
    if (doc := docs.peek(keys[0])) is not None:
        keys.append(program_key(doc["program_id"]))
        keys.extend(institution_key(i) for i in doc["parties"].values())
    return keys


def _new_row(program_id: str) -> Doc:
    return {
        "program_id": program_id,
        "roles": [],
        "guaranteed_volume": 0,
        "in_force_balance": 0,
        "borne": 0,
        "recovered": 0,
    }


def _row(docs: Docs, institution_id: str, program_id: str) -> Doc:
    # The institution's row for a program (created when new), its document marked changed;
    # callers add to it in place (documents are owned by the Docs that loaded them).
    key = institution_key(institution_id)
    doc = docs.need(key)
    row: Doc | None = doc["programs"].get(program_id)
    if row is None:
        row = doc["programs"][program_id] = _new_row(program_id)
    docs.put(key, doc)
    return row


def _add_role(docs: Docs, institution_id: str, program_id: str, role: str) -> None:
    row = _row(docs, institution_id, program_id)
    if role not in row["roles"]:
        row["roles"] = [r for r in ROLES if r in row["roles"] or r == role]


def _program_event(docs: Docs, data: p.ProgramRegistered | p.ProgramAmended) -> None:
    key = program_key(data.program_id)
    doc = docs.get(key) or {"program_id": data.program_id, "volume": {}, "borne": {}}
    # Caps and the rate limit are those of the current terms, as the rules apply them.
    limit = data.terms.compensation_rate_limit
    docs.put(
        key,
        {
            **doc,
            "caps_bp": dict(data.terms.compensation_caps_bp),
            "rate_limit": None if limit is None else msgspec.to_builtins(limit),
        },
    )
    for role, institution_id in data.terms.parties.items():
        _add_role(docs, institution_id, data.program_id, role)


def _by_role(docs: Docs, key: str, field: str, amounts: Mapping[Any, int]) -> None:
    doc = docs.need(key)
    totals = doc[field]
    for role, amount in amounts.items():
        if amount:
            totals[role] = totals.get(role, 0) + amount
    docs.put(key, doc)


def apply(docs: Docs, entry: LogEntry) -> None:
    """Keep each institution's per-program totals and each program's per-role volume."""
    data = entry.data
    match data:
        case p.InstitutionRegistered():
            doc = {"institution_id": data.institution_id, "kind": data.kind, "name": data.name}
            docs.put(institution_key(data.institution_id), {**doc, "programs": {}})
            return
        case p.ProgramRegistered() | p.ProgramAmended():
            _program_event(docs, data)
            return
        case p.LimitReinstated():
            row = _row(docs, data.institution_id, data.program_id)
            breakers = row.setdefault("breakers", {})
            breaker = _breaker(breakers.get(str(data.year)))
            limit = _rate_limit(docs.get(program_key(data.program_id)))
            if limit is not None:  # the rules refuse a reinstatement without one
                reinstate(breaker, limit)
            breakers[str(data.year)] = msgspec.to_builtins(breaker)
            return
    change = balance.track(docs, entry)
    gid = balance.guarantee_id_of(entry)
    if gid is None:
        return
    g = docs.need(balance.guarantee_key(gid))
    program_id, parties = g["program_id"], g["parties"]
    if isinstance(data, p.GuaranteeIssued):
        # docs/rules.md: a role's cap volume counts guarantees where it has a share > 0.
        shared = {role: data.loan_amount for role, bp in g["shares_bp"].items() if bp > 0}
        _by_role(docs, program_key(program_id), "volume", shared)
        for role, institution_id in parties.items():
            _add_role(docs, institution_id, program_id, role)
        for institution_id in set(parties.values()):
            _row(docs, institution_id, program_id)["guaranteed_volume"] += data.loan_amount
    if change is not None and change.delta:
        for institution_id in set(parties.values()):
            _row(docs, institution_id, program_id)["in_force_balance"] += change.delta
    _discharge(docs, entry, g, change)
    derived = entry.derived
    if isinstance(derived, CompensationDerived):
        shares = derived.shares.as_dict()
        _by_role(docs, program_key(program_id), "borne", shares)
        for role, amount in shares.items():
            if amount:
                _row(docs, derived.parties[role], program_id)["borne"] += amount
    elif isinstance(derived, RecoveryDerived):
        for role, amount in derived.split.as_dict().items():
            if amount:
                _row(docs, parties[role], program_id)["recovered"] += amount


_LIMIT = msgspec.convert  # decoding builtins back into the shared structs


def _breaker(raw: Doc | None) -> Breaker:
    return Breaker() if raw is None else _LIMIT(raw, Breaker)


def _rate_limit(program: Doc | None) -> CompensationRateLimit | None:
    raw = None if program is None else program.get("rate_limit")
    return None if raw is None else _LIMIT(raw, CompensationRateLimit)


def _discharge(docs: Docs, entry: LogEntry, g: Doc, change: BalanceChange | None) -> None:
    """Count what left force towards the program's breaker, as the rules do (events.breaker)."""
    data = entry.data
    if isinstance(data, p.CompensationPaid):
        derived = entry.derived
        assert isinstance(derived, CompensationDerived)
        kind, amount = "compensated", derived.approved_amount
    elif change is None:
        return
    elif isinstance(data, p.LoanRepaid):
        kind, amount = "repaid", change.before - change.after
    elif isinstance(data, p.GuaranteeReleased):
        kind, amount = "released", change.before
    elif isinstance(data, p.ClaimClosed):
        kind, amount = "closed", change.before
    else:
        return
    if amount <= 0:
        return
    # Counted for the guarantor and the bank, limit or not, as the rules count it.
    limit = _rate_limit(docs.get(program_key(g["program_id"])))
    year = str(business_year(entry.occurred_at))
    for role in ("guarantor", "bank"):
        who = g["parties"].get(role)
        if who is None:
            continue
        row = _row(docs, who, g["program_id"])
        breakers = row.setdefault("breakers", {})
        breaker = _breaker(breakers.get(year))
        applies = limit if limit is not None and limit.role == role else None
        record(breaker, applies, kind, amount)  # type: ignore[arg-type]
        breakers[year] = msgspec.to_builtins(breaker)


def _limit_view(row: Doc, program: Doc, year: int) -> dict[str, Any] | None:
    limit = _rate_limit(program)
    if limit is None:
        return None
    # Only the institution in the limit's role is rated (its discharges are counted for
    # either role, for a limit that may come later): the others show it clear.
    held = row.get("breakers", {}).get(str(year)) if limit.role in row["roles"] else None
    breaker = _breaker(held)
    return {
        "year": year,
        "rate_bp": breaker.rate_bp,
        "discharged": breaker.discharged,
        "warning_bp": limit.warning_bp,
        "suspend_bp": limit.suspend_bp,
        "status": breaker.status(limit),
    }


def program_keys(doc: Doc) -> list[str]:
    """Keys of the program documents an institution's position body needs."""
    return [program_key(pid) for pid in sorted(doc["programs"])]


def _cap(row: Doc, program: Doc) -> tuple[int | None, int]:
    cap: int | None = None
    used = 0
    for role in row["roles"]:
        rate = program["caps_bp"].get(role)
        if rate is None:
            continue
        # floor(rate_bp * volume / 10000), as ledger.rules.shares.compensation_cap; the cap
        # binds the role program-wide, so `used` is all that role has borne in the program.
        cap = (cap or 0) + rate * program["volume"].get(role, 0) // 10000
        used += program["borne"].get(role, 0)
    return cap, used


def render(
    doc: Doc, programs: Mapping[str, Doc], position: int, year: int | None = None
) -> dict[str, Any]:
    """The position body from the institution's and its programs' documents;
    programs with a compensation-rate limit show its breaker for `year`."""
    rows = []
    for program_id in sorted(doc["programs"]):
        row = doc["programs"][program_id]
        program = programs[program_key(program_id)]
        cap, used = _cap(row, program)
        limit = None if year is None else _limit_view(row, program, year)
        rows.append(
            {
                "program_id": program_id,
                "roles": list(row["roles"]),
                "guaranteed_volume": row["guaranteed_volume"],
                "in_force_balance": row["in_force_balance"],
                "borne": row["borne"],
                "recovered": row["recovered"],
                "net_loss": row["borne"] - row["recovered"],
                "cap": cap,
                "cap_used": used,
                **({} if limit is None else {"limit": limit}),
            }
        )
    return {
        "institution_id": doc["institution_id"],
        "kind": doc["kind"],
        "name": doc["name"],
        "position": position,
        "programs": rows,
    }


PROJECTION = Projection(
    name=NAME,
    table="proj_institutions",
    needs=needs,
    apply=apply,
    handles=balance.PROGRAM_EVENTS
    | {"institution.registered", "limit.reinstated"}
    | balance.GUARANTEE_EVENTS,
)
"""The institution positions read model."""
