"""Applying a batch to stored documents when a later event needs what an earlier one named."""

from __future__ import annotations

from collections.abc import Iterable

from events import payloads as p
from events.stored import LogEntry
from ledger.runtime import Runtime, connect
from projections import store
from projections.base import Docs, Projection
from projections.fold import Fold
from tests.integration.projections.support import log_entries, post_steps
from tests.unit.projections.scenario import (
    SMALL,
    SMES,
    PureLedger,
    issue,
    on_guarantee,
    setup_steps,
)


def _needs(docs: Docs, entry: LogEntry) -> Iterable[str]:
    # The SME is named only once the guarantee's document is known: never by the issue.
    data = entry.data
    if isinstance(data, p.GuaranteeIssued | p.LoanRepaid):
        key = f"guarantee:{data.guarantee_id}"
        found = docs.peek(key)
        return [key] if found is None else [key, f"sme:{found['sme_id']}"]
    return []


def _apply(docs: Docs, entry: LogEntry) -> None:
    data = entry.data
    if isinstance(data, p.GuaranteeIssued):
        docs.put(f"guarantee:{data.guarantee_id}", {"sme_id": data.sme_id})
    elif isinstance(data, p.LoanRepaid):
        sme_id = docs.need(f"guarantee:{data.guarantee_id}")["sme_id"]
        sme = docs.get(f"sme:{sme_id}") or {"repaid": 0}
        docs.put(f"sme:{sme_id}", {"repaid": sme["repaid"] + data.amount})


REPAID = Projection(name="repaid_probe", table="proj_programs", needs=_needs, apply=_apply)


async def test_a_batch_needing_a_document_named_only_within_it_is_applied_the_slow_way(
    runtime: Runtime,
) -> None:
    ledger = PureLedger().post_all(setup_steps())
    ledger.post(issue("G-1", SMALL, SMES[0], 500_000))
    ledger.post(on_guarantee(ledger, "G-1", "loan.repaid", amount=1_000))
    await post_steps(runtime, ledger.accepted)
    entries = await log_entries(runtime.pool)
    conn = await connect(runtime.dsn)
    try:
        async with conn.transaction():
            # Generation 99 is never read: the probe shares a table without touching it.
            await store.apply_batch(conn, REPAID, 99, entries)
            stored = await store.load_docs(conn, REPAID, 99, {f"sme:{SMES[0]}"})
            await conn.execute("DELETE FROM proj_programs WHERE generation = 99")
    finally:
        await conn.close()
    fold = Fold([REPAID]).apply_all(entries)
    assert stored[f"sme:{SMES[0]}"] == fold.documents("repaid_probe")[f"sme:{SMES[0]}"]
    assert stored[f"sme:{SMES[0]}"] == {"repaid": 1_000}
