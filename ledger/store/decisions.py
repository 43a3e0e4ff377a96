"""Loading and saving the decision state the rules need, inside the append transaction."""

from __future__ import annotations

from typing import TypeVar

import asyncpg
import msgspec

from events.types import ROLES
from ledger.rules.footprint import Footprint, GuaranteeRef
from ledger.rules.state import GuaranteeState, InstitutionState, ProgramState, SmeState, View

_State = TypeVar("_State")
_encode = msgspec.json.Encoder().encode
_institution = msgspec.json.Decoder(InstitutionState)
_program = msgspec.json.Decoder(ProgramState)
_sme = msgspec.json.Decoder(SmeState)
_guarantee = msgspec.json.Decoder(GuaranteeState)


async def guarantee_refs(conn: asyncpg.Connection, ids: set[str]) -> dict[str, GuaranteeRef]:
    """Program and SME of existing guarantees (immutable, so safe to read before locking)."""
    if not ids:
        return {}
    rows = await conn.fetch(
        "SELECT guarantee_id, program_id, sme_id FROM w_guarantees WHERE guarantee_id = ANY($1)",
        list(ids),
    )
    return {r["guarantee_id"]: GuaranteeRef(r["program_id"], r["sme_id"]) for r in rows}


async def lock(conn: asyncpg.Connection, fp: Footprint) -> None:
    """Take the footprint's advisory locks in one global order, so posts never deadlock."""
    keys = sorted(fp.exclusive | fp.shared)
    if not keys:
        return
    modes = [k in fp.exclusive for k in keys]
    # The subquery fixes the order locks are taken in (by hash, then exclusive
    # first); the outer query takes them one row at a time in that order.
    await conn.execute(
        """SELECT count(CASE WHEN x THEN pg_advisory_xact_lock(h)
                             ELSE pg_advisory_xact_lock_shared(h) END)
             FROM (SELECT hashtextextended(k, 0) AS h, bool_or(x) AS x
                     FROM unnest($1::text[], $2::bool[]) AS t(k, x)
                    GROUP BY 1 ORDER BY 1) AS ordered""",
        keys,
        modes,
    )


async def _docs(
    conn: asyncpg.Connection,
    table: str,
    key: str,
    ids: set[str],
    decoder: msgspec.json.Decoder[_State],
) -> dict[str, _State]:
    """The decoded documents of `table` whose `key` is one of `ids`."""
    if not ids:
        return {}
    # Table and column names come from this module only, never from a post.
    rows = await conn.fetch(
        f"SELECT {key}, doc FROM {table} WHERE {key} = ANY($1)",  # noqa: S608
        list(ids),
    )
    return {r[key]: decoder.decode(r["doc"]) for r in rows}


async def load(conn: asyncpg.Connection, fp: Footprint) -> View:
    """Everything the footprint names, as the rules see it (call after `lock`)."""
    view = View(
        institutions=await _docs(
            conn, "w_institutions", "institution_id", fp.institutions, _institution
        ),
        programs=await _docs(conn, "w_programs", "program_id", fp.programs, _program),
        smes=await _docs(conn, "w_smes", "sme_id", fp.smes, _sme),
        guarantees=await _docs(conn, "w_guarantees", "guarantee_id", fp.guarantees, _guarantee),
    )
    if fp.claims:
        for r in await conn.fetch(
            "SELECT claim_id, guarantee_id FROM w_claims WHERE claim_id = ANY($1)", list(fp.claims)
        ):
            view.claim_owner[r["claim_id"]] = r["guarantee_id"]
    if fp.balances:
        smes, programs = zip(*sorted(fp.balances), strict=True)
        for key in fp.balances:
            view.sme_balance[key] = 0
        for r in await conn.fetch(
            """SELECT g.sme_id, g.program_id, sum(g.balance)::bigint AS balance
                 FROM w_guarantees g
                 JOIN unnest($1::text[], $2::text[]) AS k(sme_id, program_id)
                   ON g.sme_id = k.sme_id AND g.program_id = k.program_id
                GROUP BY 1, 2""",
            list(smes),
            list(programs),
        ):
            view.sme_balance[(r["sme_id"], r["program_id"])] = r["balance"]
    if fp.volumes:
        for program_id in fp.volumes:
            for role in ROLES:
                view.program_volume[(program_id, role)] = 0
        for r in await conn.fetch(
            """SELECT program_id, role, sum(loan_amount)::bigint AS volume
                 FROM w_guarantees, unnest(volume_roles) AS role
                WHERE program_id = ANY($1)
                GROUP BY 1, 2""",
            list(fp.volumes),
        ):
            view.program_volume[(r["program_id"], r["role"])] = r["volume"]
    return view


async def save(conn: asyncpg.Connection, view: View) -> None:
    """Write every state row the decisions changed."""
    by_kind: dict[str, list[str]] = {}
    for kind, key in view.dirty:
        by_kind.setdefault(kind, []).append(key)
    if ids := by_kind.get("institution"):
        await conn.executemany(
            """INSERT INTO w_institutions (institution_id, kind, doc) VALUES ($1, $2, $3)
               ON CONFLICT (institution_id)
               DO UPDATE SET kind = EXCLUDED.kind, doc = EXCLUDED.doc""",
            [(i, view.institutions[i].kind, _encode(view.institutions[i])) for i in ids],
        )
    if ids := by_kind.get("program"):
        await conn.executemany(
            """INSERT INTO w_programs (program_id, doc) VALUES ($1, $2)
               ON CONFLICT (program_id) DO UPDATE SET doc = EXCLUDED.doc""",
            [(i, _encode(view.programs[i])) for i in ids],
        )
    if ids := by_kind.get("sme"):
        await conn.executemany(
            """INSERT INTO w_smes (sme_id, doc) VALUES ($1, $2)
               ON CONFLICT (sme_id) DO UPDATE SET doc = EXCLUDED.doc""",
            [(i, _encode(view.smes[i])) for i in ids],
        )
    if ids := by_kind.get("guarantee"):
        await conn.executemany(
            """INSERT INTO w_guarantees
                   (guarantee_id, program_id, sme_id, loan_amount, balance, volume_roles, doc)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (guarantee_id) DO UPDATE
                   SET balance = EXCLUDED.balance, doc = EXCLUDED.doc""",
            [_guarantee_row(view.guarantees[i]) for i in ids],
        )
    if ids := by_kind.get("claim"):
        await conn.executemany(
            "INSERT INTO w_claims (claim_id, guarantee_id) VALUES ($1, $2)",
            [(i, view.claim_owner[i]) for i in ids],
        )


def _guarantee_row(g: GuaranteeState) -> tuple[object, ...]:
    return (
        g.guarantee_id,
        g.program_id,
        g.sme_id,
        g.loan_amount,
        g.in_force_balance,
        g.share_roles(),
        _encode(g),
    )
