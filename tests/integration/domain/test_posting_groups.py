"""Concurrent posts stored together in one transaction: each its own receipt, all or nothing."""

from __future__ import annotations

import asyncio
import datetime as dt

from events import payloads as p
from events.stored import decode_stored
from ledger.posting import PostResult
from ledger.rules.refusal import Refusal
from ledger.rules.replay import verify
from ledger.runtime import Runtime
from ledger.store.reads import read_log
from tests.factory import ADMIN, institution, posted
from tests.integration.domain.scenario import guarantee, post, post_batch, seed
from tests.unit.rules.world import BANK, GUAR, issued, key

LOAN = 100_000_000


async def _transactions(rt: Runtime) -> int:
    return int(await rt.pool.fetchval("SELECT count(DISTINCT tx_id) FROM events"))


async def test_concurrent_posts_share_a_transaction_and_each_gets_its_own_receipt(
    runtime: Runtime,
) -> None:
    envelopes = [institution(f"B-{n}") for n in range(20)]
    results = await asyncio.gather(*(runtime.ledger.post(posted(e), ADMIN) for e in envelopes))
    assert [r.receipts[0].event_id for r in results] == [e["event_id"] for e in envelopes]
    assert sorted(r.receipts[0].position for r in results) == list(range(1, 21))
    assert await _transactions(runtime) < 20


async def test_a_refused_post_among_concurrent_ones_stores_nothing_and_the_rest_stand(
    runtime: Runtime,
) -> None:
    await runtime.ledger.post(posted(institution("B-0")), ADMIN)
    refused = posted(institution("B-NEW"), institution("B-0"))  # B-0 exists: all of it refused
    posts = [runtime.ledger.post(posted(institution(f"B-{n}")), ADMIN) for n in range(1, 6)]
    results = await asyncio.gather(
        *posts[:3],
        runtime.ledger.post(refused, ADMIN, batch=True),
        *posts[3:],
        return_exceptions=True,
    )
    outcome = results[3]
    assert isinstance(outcome, Refusal)
    assert outcome.detail.startswith("$[1]")
    assert all(isinstance(r, PostResult) for r in results[:3] + results[4:])
    stored = await runtime.pool.fetch("SELECT stream_id FROM events ORDER BY seq")
    assert sorted(r["stream_id"] for r in stored) == [f"institution-B-{n}" for n in range(6)]


async def test_concurrent_posts_on_one_stream_get_consecutive_versions(runtime: Runtime) -> None:
    await seed(runtime, "little_giant")
    await post(runtime, issued("G-1", loan_amount=LOAN * 10), key(GUAR))
    repayments = [p.LoanRepaid(guarantee_id="G-1", amount=LOAN) for _ in range(5)]
    results = await asyncio.gather(*(post(runtime, e, key(BANK)) for e in repayments))
    assert sorted(r.receipts[0].stream_version for r in results) == [2, 3, 4, 5, 6]
    balance, _ = await guarantee(runtime, "G-1")
    assert balance == LOAN * 5


async def test_a_post_on_a_guarantee_issued_at_the_same_moment_is_decided_after_it(
    runtime: Runtime,
) -> None:
    await seed(runtime, "little_giant")
    issue, repay = await asyncio.gather(
        post(runtime, issued("G-1", loan_amount=LOAN), key(GUAR)),
        post(runtime, p.LoanRepaid(guarantee_id="G-1", amount=LOAN // 4), key(BANK)),
    )
    assert repay.receipts[0].position > issue.receipts[0].position
    assert repay.receipts[0].stream_version == 2
    balance, _ = await guarantee(runtime, "G-1")
    assert balance == LOAN - LOAN // 4


async def test_the_log_of_concurrent_posts_replays_to_the_decisions_they_got(
    runtime: Runtime,
) -> None:
    await seed(runtime, "little_giant")
    day = dt.date(2026, 1, 10)
    await asyncio.gather(
        *(post(runtime, issued(f"G-{n}", loan_amount=LOAN), key(GUAR)) for n in range(12))
    )
    lifecycle: list[tuple[p.Payload, str]] = []
    for n in range(12):
        gid = f"G-{n}"
        lifecycle += [
            (p.LoanDefaulted(guarantee_id=gid, overdue_principal=LOAN, default_date=day), BANK),
            (p.LoanRepaid(guarantee_id=gid, amount=LOAN // 10), BANK),
            (issued(f"G-{n}-again", loan_amount=LOAN * 29), GUAR),  # over the cap: refused
        ]
    results = await asyncio.gather(
        *(post(runtime, e, key(who)) for e, who in lifecycle), return_exceptions=True
    )
    refusals = [r for r in results if isinstance(r, Refusal)]
    assert sum(r.slug == "cap-exceeded" for r in refusals) == 12
    assert {r.slug for r in refusals} <= {"cap-exceeded", "invalid-state"}
    await post_batch(
        runtime, [p.ClaimFiled(guarantee_id="G-0", claim_id="C-0", amount=LOAN // 2)], key(BANK)
    )
    log = [decode_stored(row.body) for row in await read_log(runtime.pool, 0, 1000)]
    view = verify(log)  # raises at the first event whose stored facts the replay contradicts
    for n in range(12):
        balance, stored = await guarantee(runtime, f"G-{n}")
        assert view.guarantees[f"G-{n}"] == stored
        assert balance == stored.balance
