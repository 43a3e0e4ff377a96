"""The as-of read model answers the books of any day, as known at any moment, as the fold does.

Histories are random and dated out of order across streams (each stream keeping business
order), so a cut by business date is not a prefix of the log; the fold of exactly the
events dated up to the day and recorded by the moment stays the oracle.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from events.business import SHANGHAI, business_date
from events.stored import LogEntry
from ledger.audit.as_of import state_as_of
from ledger.http.as_of import as_of_cut
from ledger.store.reads import head_position
from projections.fold import Fold
from tests.integration.business.posted_store import posted_store
from tests.unit.projections.scenario import OP_KINDS, random_steps, setup_steps

OPS = st.lists(
    st.tuples(st.integers(0, OP_KINDS - 1), st.integers(0, 50), st.integers(1, 100)),
    min_size=30,
    max_size=70,
)
GAPS = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 90)), min_size=30, max_size=30)
START = dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=300)
"""Histories span the end of last year, so the breakers of this year see some of them."""
LIMIT = {"role": "guarantor", "warning_bp": 500, "suspend_bp": 10000, "min_discharged": 10**15}
"""A rate limit on every program as registered (amendments may drop it): it never
suspends issuance, so every step is still accepted, but its breaker counts."""


def dated(steps: list[Any], gaps: list[tuple[int, int]]) -> list[Any]:
    """Set-up the day before START; then a running day, each guarantee's events set back by up
    to some days but never before its stream's last one (every stream in business order)."""
    setup = len(setup_steps())
    day, last = START, dict[str, dt.date]()
    out = []
    for n, (body, who) in enumerate(steps):
        when = START - dt.timedelta(days=1)
        if body["type"] == "program.registered":
            terms = {**body["data"]["terms"], "compensation_rate_limit": LIMIT}
            body = {**body, "data": {**body["data"], "terms": terms}}
        if n >= setup:
            ahead, back = gaps[(n - setup) % len(gaps)]
            day += dt.timedelta(days=ahead)
            when = day
            gid = body["data"].get("guarantee_id")
            if gid is not None:
                when = max(last.get(gid, START), day - dt.timedelta(days=back), START)
                last[gid] = when
        out.append(({**body, "occurred_at": f"{when.isoformat()}T10:00:00+08:00"}, who))
    return out


def oracle(entries: list[LogEntry], day: dt.date, known_at: dt.datetime | None) -> Fold:
    """The fold of the events dated up to `day` among those recorded by `known_at`,
    wherever the log placed them."""
    fold = Fold()
    for entry in entries:
        if known_at is not None and entry.recorded_at > known_at:
            continue
        if business_date(entry.occurred_at) <= day:
            fold.apply(entry)
    return fold


def bodies(fold: Fold, ids: dict[str, set[str]], year: int) -> dict[tuple[str, str], Any]:
    """Every body the fold gives for the ids, by (id kind, id); institutions with the
    breakers of `year`."""
    render = {
        "guarantee_id": fold.guarantee_summary,
        "claim_id": fold.claim_shares,
        "sme_id": fold.sme_exposure,
        "institution_id": lambda key: fold.institution_position(key, year),
        "program_id": fold.program_summary,
    }
    return {(name, key): render[name](key) for name, keys in ids.items() for key in keys}


def ids_of(fold: Fold) -> dict[str, set[str]]:
    """Every id the whole log names, by kind, plus one nobody has."""
    found: dict[str, set[str]] = {
        name: {"nobody"}
        for name in ("guarantee_id", "claim_id", "sme_id", "institution_id", "program_id")
    }
    prefixes = {
        "guarantees": [("guarantee:", "guarantee_id")],
        "claims": [("claim:", "claim_id")],
        "sme_exposure": [("sme:", "sme_id")],
        "institutions": [("institution:", "institution_id")],
        "programs": [("program:", "program_id")],
    }
    for projection, pairs in prefixes.items():
        for key in fold.documents(projection):
            for prefix, name in pairs:
                if key.startswith(prefix):
                    found[name].add(key.removeprefix(prefix))
    return found


async def check(conn: Any, entries: list[LogEntry]) -> int:
    """Compare at every business date with a few known_at moments; return how many bodies."""
    ids = ids_of(Fold().apply_all(entries))
    days = sorted({business_date(e.occurred_at) for e in entries})
    days = [days[0] - dt.timedelta(days=1), *days]
    moments: list[dt.datetime | None] = [None]
    moments += [entries[len(entries) * k // 4].recorded_at for k in (1, 2, 3)]
    compared = 0
    deadline = asyncio.get_running_loop().time() + 5
    for known_at in moments:
        for day in days:
            expected = bodies(oracle(entries, day, known_at), ids, day.year)
            cut = await as_of_cut(conn, None, day, known_at, deadline, await head_position(conn))
            for (name, key), body in expected.items():
                got = await state_as_of(conn, cut, name, key)
                assert got == body, (day, known_at, name, key)
                compared += 1
    return compared


@settings(max_examples=8, deadline=None)
@given(ops=OPS, gaps=GAPS)
async def test_every_business_date_and_known_at_equals_the_fold(
    pg_admin_dsn: str, pg_template: str, ops: list[tuple[int, int, int]], gaps: Any
) -> None:
    steps = dated(random_steps(ops).accepted, gaps)
    async with posted_store(pg_admin_dsn, pg_template, steps) as (conn, entries):
        assert await check(conn, entries) > 0
