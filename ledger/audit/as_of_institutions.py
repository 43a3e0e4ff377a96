"""An institution's position as of a business date, from the as-of read model.

Its figures in each program are sums of its 'position' rows under the cut; the roles it
holds are those of its guarantees (bits summed with bit_or) and those the program's terms
name it in. Each program's cap reads the program's own totals under the cut. The
compensation-rate breaker is not a sum: it is folded, in position order, from the
institution's discharges of that year and the program's terms in force at each (the
rate limit names the role whose holder it counts), exactly as institutions.py keeps it.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from events import payloads as p
from events.breaker import Breaker, record, reinstate
from events.stored import LogEntry
from events.terms import CompensationRateLimit, ProgramTerms
from events.types import ROLES
from ledger.audit.as_of_rows import Cut, entries_at, fold_positions, later, rows
from ledger.audit.as_of_sums import program_totals, roles_of, sums, totals_of
from projections import as_of, institutions

BREAKER_SQL = """SELECT entity, program_id, position, kind, roles, figures FROM proj_as_of_rows
 WHERE generation = $1 AND entity = ANY($2::text[]) AND entity <> '*' AND business_date <= $3
   AND position <= $4 AND program_id = ANY($5::text[]) AND figures[2] = $6
   AND ($7::timestamptz IS NULL OR recorded_at <= $7)
 ORDER BY position"""
"""An institution's discharges and reinstatements of one year in the programs given."""


def _terms(entries: list[LogEntry]) -> dict[str, list[tuple[int, ProgramTerms]]]:
    by_program: dict[str, list[tuple[int, ProgramTerms]]] = {}
    for entry in entries:
        data = entry.data
        assert isinstance(data, p.ProgramRegistered | p.ProgramAmended)
        by_program.setdefault(data.program_id, []).append((entry.position, data.terms))
    return by_program


def _limit(terms: ProgramTerms) -> CompensationRateLimit | None:
    return terms.compensation_rate_limit


async def _breakers(
    conn: asyncpg.Connection,
    cut: Cut,
    institution_id: str,
    year: int,
    history: dict[str, list[tuple[int, ProgramTerms]]],
) -> dict[str, Breaker]:
    # Only programs whose terms now carry a rate limit show a breaker.
    limited = [pid for pid, terms in history.items() if _limit(terms[-1][1]) is not None]
    if not limited:
        return {}
    entities = [f"breaker:{institution_id}", f"reinstated:{institution_id}"]
    found = await conn.fetch(
        BREAKER_SQL, cut.generation, entities, cut.day, cut.position, limited, year, cut.known_at
    )
    out: dict[str, Breaker] = {}
    for pid in limited:
        steps: list[tuple[int, Any]] = [(pos, terms) for pos, terms in history[pid]]
        steps += [(r["position"], r) for r in found if r["program_id"] == pid]
        breaker, limit = Breaker(), None
        for _, step in sorted(steps, key=lambda s: s[0]):
            if isinstance(step, ProgramTerms):
                limit = _limit(step)
            elif step["entity"].startswith("reinstated:"):
                if limit is not None:  # the rules refuse a reinstatement without one
                    reinstate(breaker, limit)
            else:
                # Counted where the institution is the guarantor or the bank, limit or
                # not, as the rules count it; rated under the limit in force then.
                for role in ("guarantor", "bank"):
                    if step["roles"] >> ROLES.index(role) & 1:
                        applies = limit if limit is not None and limit.role == role else None
                        record(breaker, applies, step["kind"], int(step["figures"][0]))
        out[pid] = breaker
    return out


async def institution_body(
    conn: asyncpg.Connection, cut: Cut, institution_id: str, at: int, year: int
) -> dict[str, Any] | None:
    """The institution position body under the cut, with its breakers of `year`."""
    registered = await rows(conn, cut, [institutions.institution_key(institution_id)])
    width = len(as_of.SUMS_I)
    summed = await sums(conn, cut, [f"position:{institution_id}"], width)
    terms_rows = await rows(conn, cut, ["terms"])
    history = _terms(await entries_at(conn, {r["position"] for r in terms_rows}))
    reinstated = await rows(conn, cut, [f"reinstated:{institution_id}"])
    if not registered:
        if summed or reinstated:
            raise later(f"institution {institution_id}", cut.day)
        return None
    fold = await fold_positions(conn, institutions.PROJECTION, {registered[0]["position"]})
    doc = fold.docs[institutions.NAME].need(institutions.institution_key(institution_id))
    held: dict[str, set[str]] = {}
    for pid, terms in history.items():
        for _, one in terms:
            named = {role for role, who in one.parties.items() if who == institution_id}
            if named:
                held.setdefault(pid, set()).update(named)
    figures = {pid: values for (_, pid), values in summed.items()}
    ids = sorted(set(held) | set(figures) | {r["program_id"] for r in reinstated})
    if any(pid not in history for pid in ids):
        raise later("a program", cut.day)
    # A program's own totals matter only where its terms cap some role's compensation.
    capped = [pid for pid in ids if history[pid][-1][1].compensation_caps_bp]
    totals = await program_totals(conn, cut, capped)
    breakers = await _breakers(conn, cut, institution_id, year, history)
    rows_by_program: dict[str, Any] = {}
    for pid in ids:
        values = figures.get(pid, [0] * (width + len(ROLES) + 1))
        roles = held.get(pid, set()) | set(roles_of(values, width))
        rows_by_program[pid] = {
            "program_id": pid,
            "roles": [role for role in ROLES if role in roles],
            **dict(zip(as_of.SUMS_I, values[:width], strict=True)),
        }
        if pid in breakers:
            rows_by_program[pid]["breakers"] = {str(year): msgspec.to_builtins(breakers[pid])}
    zero = totals_of([0] * len(as_of.SUMS_P))
    program_docs = {
        institutions.program_key(pid): {
            "caps_bp": dict(history[pid][-1][1].compensation_caps_bp),
            "rate_limit": msgspec.to_builtins(_limit(history[pid][-1][1])),
            "volume": (totals.get(pid) or zero)["volume_by_role"],
            "borne": (totals.get(pid) or zero)["borne"],
        }
        for pid in ids
    }
    return institutions.render({**doc, "programs": rows_by_program}, program_docs, at, year)
