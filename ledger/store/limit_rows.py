"""The risk limits' decision state as ledger_prepare returns it and ledger_append takes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from events.breaker import Breaker
from ledger.rules.state import GuarantorLimits, ProgramState, View

if TYPE_CHECKING:
    from ledger.store.decisions import Prepared

_encode = msgspec.json.Encoder().encode
_limits = msgspec.json.Decoder(GuarantorLimits)
_breaker = msgspec.json.Decoder(Breaker)


def read_limits(prepared: Prepared, r: asyncpg.Record) -> None:
    """A guarantor's limits (and, until its sums arrive, none in force)."""
    view = prepared.view
    view.guarantor_limits[r["r_key"]] = _limits.decode(r["r_doc"])
    # Sent only for guarantors whose exposure is sent too: none found is none in force.
    view.guarantor_in_force.setdefault(r["r_key"], 0)


def read_exposure(prepared: Prepared, r: asyncpg.Record) -> None:
    """A limited guarantor's in-force sum, in total (no SME) or to one SME."""
    if r["r_key2"] is None:
        prepared.view.guarantor_in_force[r["r_key"]] = r["r_n1"]
    else:
        prepared.view.guarantor_sme[(r["r_key"], r["r_key2"])] = r["r_n1"]


def read_breaker(prepared: Prepared, r: asyncpg.Record) -> None:
    """A compensation-rate breaker of (program, institution, year)."""
    key = (r["r_key"], r["r_key2"], int(r["r_n1"]))
    prepared.view.breakers[key] = _breaker.decode(r["r_doc"])


def columns(view: View, by_kind: dict[str, list[str]]) -> list[list[Any]]:
    """The limits' state rows as the column arrays ledger_append takes, from $31 on."""
    programs = [view.programs[p] for p in by_kind.get("program", [])]
    guarantees = [view.guarantees[g] for g in by_kind.get("guarantee", [])]
    limits = by_kind.get("limits", [])
    breakers = []
    for text in by_kind.get("breaker", []):
        program_id, institution_id, year = text.split(" ")
        breakers.append((program_id, institution_id, int(year)))
    return [
        [_limit_role(p) for p in programs],
        [g.guarantor_id if g.guarantor_id in view.guarantor_limits else None for g in guarantees],
        limits,
        [_encode(view.guarantor_limits[i]) for i in limits],
        [b[0] for b in breakers],
        [b[1] for b in breakers],
        [b[2] for b in breakers],
        [_encode(view.breakers[b]) for b in breakers],
    ]


def _limit_role(program: ProgramState) -> str | None:
    limit = program.terms.compensation_rate_limit
    return None if limit is None else limit.role
