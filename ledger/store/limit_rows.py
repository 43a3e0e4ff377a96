"""The risk limits' decision state: which apply to a post, read by ledger_prepare_limits, written
by ledger_append."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from events.breaker import Breaker
from ledger.rules.footprint import Footprint
from ledger.rules.state import GuarantorLimits, ProgramState, View
from ledger.store.packed_texts import pack

if TYPE_CHECKING:
    from ledger.store.decisions import Prepared

_encode = msgspec.json.Encoder().encode
_limits = msgspec.json.Decoder(GuarantorLimits)
_breaker = msgspec.json.Decoder(Breaker)


@dataclass
class Wanted:
    """The limits a post's decisions need: guarantors (with the SMEs it names to each)
    and breakers, (program, institution) -> whether the post may change it."""

    guarantors: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)
    breakers: dict[tuple[str, str], bool] = field(default_factory=dict)
    recorded: set[str] = field(default_factory=set)
    """Institutions whose limits the post records (a barrier: they may be new)."""


def wanted(view: View, fp: Footprint, limited: set[str]) -> Wanted | None:
    """The limits that apply to a post, from the state ledger_prepare read; None when none
    does (then the post makes no further call for them)."""
    found = Wanted()
    for guarantor, sme in fp.limit_pairs:
        if guarantor in limited or guarantor in fp.limit_institutions:
            found.guarantors.add(guarantor)
            found.pairs.add((guarantor, sme))
    found.guarantors |= fp.limit_institutions
    found.recorded = set(fp.limit_institutions)
    for gid in fp.renewals:
        g = view.guarantees.get(gid)
        if g is not None and g.guarantor_id in limited:
            found.guarantors.add(g.guarantor_id)
            found.pairs.add((g.guarantor_id, g.sme_id))
    for (program_id, institution_id), exclusive in fp.breakers.items():
        # A breaker the post may change is counted into limit or not; one it only reads
        # (an issuance's check) matters only under a limit.
        if exclusive or _rate_limited(view, program_id):
            key = (program_id, institution_id)
            found.breakers[key] = found.breakers.get(key, False) or exclusive
    for gid in fp.discharges:
        # Every discharge counts towards the guarantor's and the bank's breakers.
        g = view.guarantees.get(gid)
        if g is not None:
            found.breakers[(g.program_id, g.guarantor_id)] = True
            found.breakers[(g.program_id, g.bank_id)] = True
    if not found.guarantors and not found.breakers:
        return None
    return found


def _rate_limit_role(view: View, program_id: str) -> str | None:
    program = view.programs.get(program_id)
    limit = None if program is None else program.terms.compensation_rate_limit
    return None if limit is None else limit.role


def _rate_limited(view: View, program_id: str) -> bool:
    return _rate_limit_role(view, program_id) is not None


async def load(
    conn: asyncpg.Connection, prepared: Prepared, wanted: Wanted, *, lock: bool, barrier: bool
) -> None:
    """Take the limits' locks (after the post's own, unless `lock` is false) and read them
    into the post's View (ledger_prepare_limits)."""
    pairs = sorted(wanted.pairs)
    breakers = sorted(wanted.breakers.items())
    rows = await conn.fetch(
        "SELECT * FROM ledger_prepare_limits($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        lock,
        barrier,
        sorted(wanted.guarantors),
        [guarantor for guarantor, _ in pairs],
        [sme for _, sme in pairs],
        sorted(wanted.recorded),
        [program for (program, _), _ in breakers],
        [institution for (_, institution), _ in breakers],
        [exclusive for _, exclusive in breakers],
    )
    for r in rows:
        _READERS[r["r_kind"]](prepared, r)


def read_limits(prepared: Prepared, r: asyncpg.Record) -> None:
    """A guarantor's limits (and, until its sums arrive, none in force)."""
    view = prepared.view
    view.guarantor_limits[r["r_key"]] = _limits.decode(r["r_doc"])
    # Sent only for guarantors whose exposure is sent too: none found is none in force.
    view.guarantor_in_force.setdefault(r["r_key"], 0)


def read_exposure(prepared: Prepared, r: asyncpg.Record) -> None:
    """A limited guarantor's in-force sum, in total (no SME) or to one SME."""
    if r["r_key2"] is None:
        prepared.view.guarantor_in_force[r["r_key"]] = int(r["r_n1"])
    else:
        prepared.view.guarantor_sme[(r["r_key"], r["r_key2"])] = int(r["r_n1"])


def read_breaker(prepared: Prepared, r: asyncpg.Record) -> None:
    """A compensation-rate breaker of (program, institution, year)."""
    key = (r["r_key"], r["r_key2"], int(r["r_n1"]))
    prepared.view.breakers[key] = _breaker.decode(r["r_doc"])


_READERS: dict[str, Callable[[Prepared, asyncpg.Record], None]] = {
    "limits": read_limits,
    "exposure": read_exposure,
    "breaker": read_breaker,
}


def columns(view: View, by_kind: dict[str, list[str]]) -> list[Any]:
    """The limits' state rows as the column arrays ledger_append takes, from $32 on."""
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
        pack(limits),
        [_encode(view.guarantor_limits[i]) for i in limits],
        pack([b[0] for b in breakers]),
        pack([b[1] for b in breakers]),
        [b[2] for b in breakers],
        [_encode(view.breakers[b]) for b in breakers],
    ]


def _limit_role(program: ProgramState) -> str | None:
    limit = program.terms.compensation_rate_limit
    return None if limit is None else limit.role
