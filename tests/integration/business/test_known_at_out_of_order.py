""" "As known at T" counts every event recorded by T, wherever the log placed it.

A post is recorded when it starts deciding and placed in the log when it commits, so two
posts that overlap can be placed out of recording order. Here G-2's post is recorded
before G-1's but placed after it; at a moment between the two, the books know G-2 and
not G-1, the same from GET /v1/audit/state's read model and from a replay of the log.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg

from events.business import SHANGHAI
from ledger.audit.as_of import state_as_of
from ledger.audit.replay import replay
from ledger.http.as_of import as_of_cut
from ledger.runtime import running
from ledger.store.reads import head_position
from projections.runner import ProjectionRunner
from tests.factory import posted
from tests.integration.audit.scenario import steps


class Scripted:
    """The clock posts read their recorded_at from: now, or once a moment given."""

    def __init__(self) -> None:
        self.next: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        now, self.next = self.next or dt.datetime.now(SHANGHAI), None
        return now


async def _posted_out_of_order(dsn: str) -> None:
    clock = Scripted()
    scripted = steps()
    async with running(dsn, clock=clock) as rt:
        for envelopes, who in scripted[:5]:  # institutions, programs, SMEs, eligibility
            await rt.ledger.post(posted(*envelopes), who, batch=len(envelopes) > 1)
        await asyncio.sleep(0.2)
        envelopes, who = scripted[5]  # G-1 issued
        await rt.ledger.post(posted(*envelopes), who)
        g1_time = await rt.pool.fetchval(
            "SELECT recorded_at FROM events WHERE stream_id = 'guarantee-G-1'"
        )
        # G-2 issued, as by a post that started just before G-1's and committed after it
        # (it depends on nothing G-1 changed, only on the set-up before both).
        clock.next = g1_time - dt.timedelta(milliseconds=50)
        envelopes, who = scripted[6]
        await rt.ledger.post(posted(*envelopes), who)
    runner = ProjectionRunner(dsn)
    try:
        await runner.catch_up()
    finally:
        await runner.close()


async def test_known_at_between_two_posts_placed_out_of_recording_order(db_dsn: str) -> None:
    await _posted_out_of_order(db_dsn)
    conn = await asyncpg.connect(db_dsn)
    try:
        rows = await conn.fetch(
            """SELECT l.position, e.recorded_at, e.stream_id FROM events e
                 JOIN event_log l USING (seq)
                WHERE e.stream_id IN ('guarantee-G-1', 'guarantee-G-2') ORDER BY l.position"""
        )
        (g1_at, g1_time, _), (g2_at, g2_time, _) = (tuple(r.values()) for r in rows)
        assert g1_at < g2_at  # placed first...
        assert g2_time < g1_time  # ...recorded second
        between = g2_time + (g1_time - g2_time) / 2
        day = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)
        deadline = asyncio.get_running_loop().time() + 5
        answers = {}
        for known_at in (between, g1_time):
            cut = await as_of_cut(conn, None, day, known_at, deadline, await head_position(conn))
            fold = await replay(conn, as_of=known_at, business_date=day)
            answers[known_at] = {
                g: (await state_as_of(conn, cut, "guarantee_id", g), fold.guarantee_summary(g))
                for g in ("G-1", "G-2")
            }
    finally:
        await conn.close()
    read_model, replayed = answers[between]["G-1"]
    assert (read_model, replayed) == (None, None)  # recorded after the moment
    read_model, replayed = answers[between]["G-2"]
    assert read_model is not None
    assert read_model == replayed
    assert read_model["balance"] == 500_000_000
    # Later, both are known: nothing known before is forgotten.
    assert all(a == b and a is not None for a, b in answers[g1_time].values())
