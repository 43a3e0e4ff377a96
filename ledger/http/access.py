"""Who is a party to what: the institutions that may read a guarantee, claim or stream."""

from __future__ import annotations

import re

import asyncpg
import msgspec

from events.stored import Actor
from events.types import IDENT, IDENT_PATTERN
from ledger.http.auth import READ_ROLES, STAFF_ROLES
from ledger.http.problems import Problem

STREAM_PATTERN = f"^(institution|program|sme|guarantee|witness)-{IDENT_PATTERN[1:-1]}$"
"""Pattern of the stream ids events are written to: a kind, a dash, an identifier."""

_STREAM = re.compile(STREAM_PATTERN)


def known_shape(ident: str, *, stream: bool = False) -> None:
    """404 for an id no event could have made (wrong characters, too long, NUL ...).

    Checked before the database sees it: such text can never name anything, and
    some of it (NUL, lone surrogates) the database cannot even compare.
    """
    if not (_STREAM if stream else IDENT).fullmatch(ident):
        what = "stream" if stream else "such resource"
        raise Problem("not-found", f"no {what}: the id has a shape no event can give")


class _GuaranteeParties(msgspec.Struct):
    # The part of the decision state's guarantee document that names its parties.
    bank_id: str
    guarantor_id: str
    reguarantor_id: str | None = None
    parties: dict[str, str] = {}


_parties_doc = msgspec.json.Decoder(_GuaranteeParties)


def guarantee_parties_of(doc: bytes) -> set[str]:
    """Institutions party to a guarantee, from its decision-state document."""
    g = _parties_doc.decode(doc)
    found = {g.bank_id, g.guarantor_id, *g.parties.values()}
    if g.reguarantor_id is not None:
        found.add(g.reguarantor_id)
    return found


async def guarantee_parties(conn: asyncpg.Connection, guarantee_id: str) -> set[str] | None:
    """Institutions party to a guarantee (bank, guarantor, reguarantor, fund, pool), or None."""
    doc = await conn.fetchval("SELECT doc FROM w_guarantees WHERE guarantee_id = $1", guarantee_id)
    if doc is None:
        return None
    return guarantee_parties_of(doc)


async def claim_guarantee(conn: asyncpg.Connection, claim_id: str) -> str | None:
    """The guarantee a claim was filed on, or None for an unknown claim."""
    value = await conn.fetchval("SELECT guarantee_id FROM w_claims WHERE claim_id = $1", claim_id)
    return None if value is None else str(value)


def forbidden(what: str) -> Problem:
    """403: the key is not a party to `what`."""
    return Problem("forbidden", f"this key is not a party to {what}")


def not_found(what: str) -> Problem:
    """404 naming what was not found."""
    return Problem("not-found", f"no {what}")


async def check_stream_access(conn: asyncpg.Connection, actor: Actor, stream_id: str) -> None:
    """Allow auditors and admins every stream, and institutions the streams they are party to.

    institution-X: X itself. guarantee-G: G's bank, guarantor, reguarantor and the
    program-wide parties with a share. program-P and sme-S: any institution, since every
    institution works under the programs' terms and needs the SMEs' eligibilities.
    witness-W: auditors and admins only, as the proof of a witness's registration.
    Readers see read models only, never raw streams.
    """
    if actor.role in STAFF_ROLES:
        return
    who = actor.institution_id
    if who is None:
        raise Problem("forbidden", "a reader key reads read models, not event streams")
    kind, _, ident = stream_id.partition("-")
    if kind in ("program", "sme"):
        return
    if kind == "institution" and ident == who:
        return
    if kind == "guarantee":
        parties = await guarantee_parties(conn, ident)
        if parties is None:
            raise not_found(f"stream {stream_id}")
        if who in parties:
            return
    raise forbidden(f"stream {stream_id}")


async def check_guarantee_access(conn: asyncpg.Connection, actor: Actor, guarantee_id: str) -> None:
    """Auditors, admins, readers, and the guarantee's parties; 404 for an unknown guarantee."""
    if actor.role in READ_ROLES:
        return
    parties = await guarantee_parties(conn, guarantee_id)
    if parties is None:
        raise not_found(f"guarantee {guarantee_id}")
    if actor.institution_id not in parties:
        raise forbidden(f"guarantee {guarantee_id}")


async def check_claim_access(conn: asyncpg.Connection, actor: Actor, claim_id: str) -> None:
    """Auditors, admins, readers, and the parties of the claim's guarantee."""
    if actor.role in READ_ROLES:
        return
    guarantee_id = await claim_guarantee(conn, claim_id)
    if guarantee_id is None:
        raise not_found(f"claim {claim_id}")
    await check_guarantee_access(conn, actor, guarantee_id)
