"""Posting domain events through the real ledger, and reading back what it stored."""

from __future__ import annotations

from typing import Any

import msgspec

from events import payloads as p
from events.derived import Derived
from events.stored import Actor, decode_stored
from ledger import seeds
from ledger.posting import PostResult
from ledger.rules.state import GuaranteeState
from ledger.runtime import Runtime
from ledger.store.reads import read_stream
from tests.factory import envelope, posted
from tests.unit.rules.world import ADMIN, SME, World, eligibility

_guarantee = msgspec.json.Decoder(GuaranteeState)
_poster = World()


def as_posted(payload: p.Payload, **extra: Any) -> dict[str, Any]:
    """The envelope a client would post for this event."""
    return envelope(payload.TYPE, msgspec.to_builtins(payload), **extra)


async def post(rt: Runtime, payload: p.Payload, actor: Actor, **extra: Any) -> PostResult:
    """Post one event as `actor` through the ledger's append transaction."""
    return await rt.ledger.post(posted(as_posted(payload, **extra)), actor)


async def seed(rt: Runtime, *categories: str) -> None:
    """The seed institutions and programs, and the SME with these eligibilities."""
    # Two atomic batches (one per poster) keep the set-up fast.
    registers: list[p.Payload] = [*seeds.SEED_INSTITUTIONS, *seeds.load_seed_programs()]
    await post_batch(rt, registers, ADMIN)
    sme: list[p.Payload] = [p.SmeRegistered(sme_id=SME, name="Chongqing Photonics Co., Ltd.")]
    sme += [eligibility(SME, category) for category in categories]
    await post_batch(rt, sme, _poster.poster(sme[0]))


async def post_batch(rt: Runtime, payloads: list[p.Payload], actor: Actor) -> PostResult:
    """Post events as one atomic batch."""
    return await rt.ledger.post(posted(*(as_posted(e) for e in payloads)), actor, batch=True)


async def guarantee(rt: Runtime, guarantee_id: str) -> tuple[int, GuaranteeState]:
    """The guarantee's in-force balance column and its decision state, as stored."""
    row = await rt.pool.fetchrow(
        "SELECT balance, doc FROM w_guarantees WHERE guarantee_id = $1", guarantee_id
    )
    assert row is not None, f"guarantee {guarantee_id} is not stored"
    return int(row["balance"]), _guarantee.decode(row["doc"])


async def stored_facts(rt: Runtime, stream_id: str) -> list[tuple[str, int, Derived]]:
    """(type, stream_version, derived facts) of every stored event of a stream."""
    events = [decode_stored(row.body) for row in await read_stream(rt.pool, stream_id)]
    return [(e.type, e.stream_version, e.derived) for e in events]


async def event_count(rt: Runtime) -> int:
    """How many events the ledger holds."""
    return int(await rt.pool.fetchval("SELECT count(*) FROM events"))
