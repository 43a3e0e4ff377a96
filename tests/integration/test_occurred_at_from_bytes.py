"""ledger_occurred_at reads an event's business time from its stored bytes exactly as the
ledger decodes it, for every offset and precision a timestamp can be stored with."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import asyncpg

from events import payloads as p
from events.stored import Actor, StoredEvent, decode_stored, encode_stored


def _stored(occurred_at: dt.datetime, name: str) -> bytes:
    """The canonical bytes of an SME registration that occurred at `occurred_at`."""
    return encode_stored(
        StoredEvent(
            event_id=str(uuid.uuid4()),
            type="sme.registered",
            occurred_at=occurred_at,
            expected_version=None,
            data=p.SmeRegistered(sme_id="91110000000000001H", name=name),
            derived=None,
            stream_id="sme-91110000000000001H",
            stream_version=1,
            recorded_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            actor=Actor(role="admin"),
        )
    )


def _moments() -> list[dt.datetime]:
    """UTC and whole, half and quarter hour offsets either side, with and without
    microseconds, and a few hundred drawn at random (seeded: the same every run)."""
    rng = random.Random(20261204)
    offsets = [0, 8 * 60, -5 * 60, 5 * 60 + 45, -9 * 60 - 30, 14 * 60, -12 * 60]
    found = [
        dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(minutes=m))) for m in offsets
    ]
    found.append(dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC))
    for _ in range(300):
        zone = dt.timezone(dt.timedelta(minutes=rng.choice(offsets)))
        base = dt.datetime(2020, 1, 1, tzinfo=zone)
        moment = base + dt.timedelta(seconds=rng.randrange(10**9))
        found.append(moment.replace(microsecond=rng.choice([0, rng.randrange(10**6)])))
    return found


async def test_every_stored_occurred_at_is_read_back_as_the_ledger_decodes_it(
    owner_conn: asyncpg.Connection,
) -> None:
    # Names carrying the field's own name and quotes come after it in the bytes and
    # must not be taken for it.
    bodies = [_stored(moment, f'"occurred_at":"{n}" Ltd') for n, moment in enumerate(_moments())]
    rows = await owner_conn.fetch(
        "SELECT ledger_occurred_at(b) AS at FROM unnest($1::bytea[]) WITH ORDINALITY AS u(b, n) "
        "ORDER BY n",
        bodies,
    )
    assert [r["at"] for r in rows] == [decode_stored(b).occurred_at for b in bodies]


async def test_bytes_without_an_occurred_at_have_none(owner_conn: asyncpg.Connection) -> None:
    assert await owner_conn.fetchval("SELECT ledger_occurred_at($1)", b'{"event_id":"x"}') is None


async def test_it_is_inlined_into_the_statement_that_calls_it(
    owner_conn: asyncpg.Connection,
) -> None:
    # Run as a function of its own, its body is read and planned again at every call
    # from the streams' trigger: the plan must show the expression, not the call.
    lines = await owner_conn.fetch(
        "EXPLAIN (VERBOSE) SELECT ledger_occurred_at(e.body) FROM events e"
    )
    plan = "\n".join(r[0] for r in lines)
    assert "ledger_occurred_at" not in plan
    assert "convert_from" in plan
