"""The as-of read model: per event, what each state body needs, by business date and position.

A state as of the end of business date D, as known at log position P, is the fold of
the events dated up to D and recorded up to P: a subset of the log that is not a prefix
of it, since streams are recorded out of business order with one another. Two facts
make that subset readable without folding the log:

- Within one stream the events dated up to D and those recorded up to P are both
  prefixes of the stream (a stream keeps business order and is recorded in stream
  order). A guarantee's balance, status and parties after such a prefix are fixed by
  the stream alone, so the change each event made to a figure can be recorded once,
  when it is applied, and no later event can alter it.
- Institution positions and program totals are sums of such per-event changes, so
  their value under the cut is the sum of the rows with business_date <= D and
  position <= P.

What is not a sum is read by folding the few events that fix it, named by index rows:
a guarantee's or claim's stream, an SME's guarantees, a program's terms, an
institution's registration. The compensation-rate breaker of an institution in a
program depends on the order of its discharges and on the terms in force at each, so
its rows are folded in position order with the program's terms
(ledger/audit/as_of_institutions.py).

Rows (entity, program_id, ref, business_date, position, recorded_at, kind, roles, figures):
  '*'              every event, kind its type: the position a body reports, and known_at
  'guarantee:G'    every event of G's stream, kind its type
  'claim:C'        claim.filed, ref the guarantee
  'sme:S'          kind 'registered'; kind 'guarantee' with ref G when S's guarantee issues
  'institution:I'  kind 'registered'
  'position:I'     kind 'sum', roles a bit per role it holds in the guarantee (on issue),
                   figures SUMS_I: its row in the guarantee's program
  'breaker:I'      a discharge kind, roles as above, figures [amount, business year]
  'reinstated:I'   limit.reinstated, figures [0, year]
  'program:X'      kind 'sum' with figures SUMS_P
  'terms'          program.registered and program.amended, program_id the program
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events import payloads as p
from events.breaker import business_year
from events.business import business_date
from events.derived import CompensationDerived, RecoveryDerived
from events.stored import LogEntry
from events.types import ROLES
from projections import as_of_daily, balance, programs
from projections.balance import BalanceChange
from projections.base import Doc, Docs, Projection, RowTable

NAME = "as_of"
"""Name of this projection (its checkpoint row)."""

COLUMNS = (
    "entity",
    "program_id",
    "ref",
    "business_date",
    "position",
    "recorded_at",
    "kind",
    "roles",
    "figures",
)
"""The row table's columns after `generation`: see the module's docstring."""

SUMS_I = ("guaranteed_volume", "in_force_balance", "borne", "recovered")
"""The figures of an institution's 'sum' rows: its row in a program of its position."""

PER_ROLE = ("volume_by_role", "borne", "recovered")
SUMS_P = (*programs.COUNTS, *(f"{field}.{role}" for field in PER_ROLE for role in ROLES))
"""The figures of a program's 'sum' rows: its totals, then each per-role total by role."""


def role_bits(roles: Iterable[str]) -> int:
    """The roles as bits, in the order of ROLES."""
    return sum(1 << ROLES.index(role) for role in set(roles))


def bit_roles(bits: int) -> list[str]:
    """The roles of `bits`, in the order of ROLES."""
    return [role for n, role in enumerate(ROLES) if bits >> n & 1]


def needs(docs: Docs, entry: LogEntry) -> Iterable[str]:
    """The guarantee's balance document, for events of its stream, and the daily totals
    of its program and of each institution its event may add to."""
    gid = balance.guarantee_id_of(entry)
    if gid is None:
        return []
    key = balance.guarantee_key(gid)
    g = balance.new_guarantee(entry) if entry.type == "guarantee.issued" else docs.peek(key)
    if g is None:
        return [key]
    named = set(g["parties"].values())
    if isinstance(entry.derived, CompensationDerived):
        named |= set(entry.derived.parties.values())
    entities = [f"program:{g['program_id']}", *(f"position:{i}" for i in sorted(named))]
    return [key, *as_of_daily.keys(entities, business_date(entry.occurred_at))]


def discharged(entry: LogEntry, change: BalanceChange | None) -> tuple[str, int] | None:
    """What left force, and how, as an institution's breaker counts it (institutions.py)."""
    data = entry.data
    if isinstance(data, p.CompensationPaid):
        derived = entry.derived
        assert isinstance(derived, CompensationDerived)
        return "compensated", derived.approved_amount
    if change is None:
        return None
    if isinstance(data, p.LoanRepaid):
        return "repaid", change.before - change.after
    if isinstance(data, p.GuaranteeReleased):
        return "released", change.before
    if isinstance(data, p.ClaimClosed):
        return "closed", change.before
    return None


def _program_sums(entry: LogEntry, change: BalanceChange | None, g: Doc) -> list[int]:
    moved = programs.counts(entry, change)
    figures = [moved.get(name, 0) for name in programs.COUNTS]
    per_role = programs.per_role(entry, g)
    for field in PER_ROLE:
        amounts = per_role[1] if per_role is not None and per_role[0] == field else {}
        figures.extend(int(amounts.get(role, 0)) for role in ROLES)
    return figures


def _institution_sums(
    entry: LogEntry, change: BalanceChange | None, g: Doc
) -> dict[str, list[int]]:
    # As institutions.apply adds to each institution's row in the guarantee's program.
    sums: dict[str, list[int]] = {}

    def add(institution: str, field: int, amount: int) -> None:
        sums.setdefault(institution, [0] * len(SUMS_I))[field] += amount

    parties: dict[str, str] = g["parties"]
    if isinstance(entry.data, p.GuaranteeIssued):
        for institution in set(parties.values()):
            add(institution, 0, entry.data.loan_amount)
    if change is not None and change.delta:
        for institution in set(parties.values()):
            add(institution, 1, change.delta)
    derived = entry.derived
    if isinstance(derived, CompensationDerived):
        for role, amount in derived.shares.as_dict().items():
            if amount:
                add(derived.parties[role], 2, amount)
    elif isinstance(derived, RecoveryDerived):
        for role, amount in derived.split.as_dict().items():
            if amount:
                add(parties[role], 3, amount)
    return sums


def _guarantee_rows(docs: Docs, entry: LogEntry, gid: str, emit: Any) -> None:
    # Every 'sum' row is also added to its day's totals (projections/as_of_daily.py).
    change = balance.track(docs, entry)
    g = docs.need(balance.guarantee_key(gid))
    program_id: str = g["program_id"]
    data = entry.data
    day = business_date(entry.occurred_at)
    emit(f"guarantee:{gid}", program_id, "", entry.type, 0, [])
    if isinstance(data, p.GuaranteeIssued):
        emit(f"sme:{data.sme_id}", program_id, gid, "guarantee", 0, [])
    if isinstance(data, p.ClaimFiled):
        emit(f"claim:{data.claim_id}", program_id, gid, entry.type, 0, [])
    figures = _program_sums(entry, change, g)
    if any(figures):
        emit(f"program:{program_id}", program_id, "", "sum", 0, figures)
        as_of_daily.add(docs, f"program:{program_id}", program_id, day, figures, 0)
    roles: dict[str, list[str]] = {}
    for role, institution in g["parties"].items():
        roles.setdefault(institution, []).append(role)
    issued = isinstance(data, p.GuaranteeIssued)
    for institution, sums in sorted(_institution_sums(entry, change, g).items()):
        bits = role_bits(roles.get(institution, [])) if issued else 0
        emit(f"position:{institution}", program_id, gid, "sum", bits, sums)
        as_of_daily.add(docs, f"position:{institution}", program_id, day, sums, bits)
    out = discharged(entry, change)
    if out is not None and out[1] > 0:
        year = business_year(entry.occurred_at)
        for institution, held in sorted(roles.items()):
            bits = role_bits(held)
            emit(f"breaker:{institution}", program_id, gid, out[0], bits, [out[1], year])


def apply(docs: Docs, entry: LogEntry) -> None:
    """Emit the event's rows; keep each guarantee's balance and parties."""
    day = business_date(entry.occurred_at)

    def emit(
        entity: str, program_id: str, ref: str, kind: str, roles: int, figures: list[int]
    ) -> None:
        row = (entity, program_id, ref, day, entry.position, entry.recorded_at, kind, roles)
        docs.emit((*row, figures))

    emit("*", "", "", entry.type, 0, [])
    data = entry.data
    match data:
        case p.InstitutionRegistered():
            emit(f"institution:{data.institution_id}", "", "", "registered", 0, [])
        case p.SmeRegistered():
            emit(f"sme:{data.sme_id}", "", "", "registered", 0, [])
        case p.ProgramRegistered() | p.ProgramAmended():
            emit("terms", data.program_id, "", entry.type, 0, [])
        case p.LimitReinstated():
            entity = f"reinstated:{data.institution_id}"
            emit(entity, data.program_id, "", entry.type, 0, [0, data.year])
    gid = balance.guarantee_id_of(entry)
    if gid is not None:
        _guarantee_rows(docs, entry, gid, emit)


PROJECTION = Projection(
    name=NAME,
    table="proj_as_of",
    needs=needs,
    apply=apply,
    rows=RowTable("proj_as_of_rows", COLUMNS),
)
"""The as-of read model: per guarantee its balance, per entity and month its daily totals;
rows per event (of every type)."""
