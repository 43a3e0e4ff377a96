"""Deciding the log again: the decision state the service decides on equals a fold of the log,
and a row changed under it, or an event it let in, is named."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ledger.audit.decisions import Decided, decide_again
from ledger.runtime import Runtime, connect
from ledger.seeds import BANK_ID, GUARANTOR_ID, REGUARANTOR_ID, SME_ID
from ledger.store.watermark import APPEND_LOCK
from tests.factory import ADMIN, envelope, posted
from tests.integration.audit.scenario import GUARANTOR, PROGRAM, REVIEWER, play_all
from tests.integration.audit.tamper import past_triggers

CAP = 3_000_000_000
"""The per-SME cap of the national program: 30 million yuan, in fen."""


async def _decide(runtime: Runtime) -> Decided:
    conn = await connect(runtime.dsn)
    try:
        return await decide_again(conn)
    finally:
        await conn.close()


async def _as_superuser(runtime: Runtime, statement: str, *args: Any) -> None:
    """Run a statement past every trigger, as someone who controls the database could."""
    await past_triggers(runtime.dsn, statement, *args)


def _issued(guarantee_id: str, amount: int) -> dict[str, Any]:
    return envelope(
        "guarantee.issued",
        {
            "guarantee_id": guarantee_id,
            "program_id": PROGRAM,
            "sme_id": SME_ID,
            "bank_id": BANK_ID,
            "guarantor_id": GUARANTOR_ID,
            "reguarantor_id": REGUARANTOR_ID,
            "loan_amount": amount,
            "fee_rate_bp": 80,
            "start_date": "2026-03-01",
            "maturity_date": "2027-03-01",
        },
    )


async def _limits(runtime: Runtime) -> None:
    """The guarantor's net assets and limits (their rows, and its guarantees marked)."""
    await runtime.ledger.post(
        posted(
            envelope(
                "institution.net_assets_recorded",
                {"institution_id": GUARANTOR_ID, "net_assets": 10**13, "as_of": "2025-12-31"},
            ),
            envelope(
                "institution.limits_set",
                {
                    "institution_id": GUARANTOR_ID,
                    "max_leverage_x100": 1000,
                    "max_single_sme_bp": 1000,
                },
            ),
        ),
        ADMIN,
        batch=True,
    )


async def _history(runtime: Runtime) -> int:
    """The scenario, the guarantor's limits and one guarantee still in force; the head."""
    await play_all(runtime.ledger)
    await _limits(runtime)
    result = await runtime.ledger.post(posted(_issued("G-3", 1_000_000_000)), GUARANTOR)
    return result.receipts[-1].position


async def test_an_untouched_ledger_is_decided_again_as_stored(runtime: Runtime) -> None:
    head = await _history(runtime)
    found = await _decide(runtime)
    assert (found.same, found.events, found.sealed) == (True, head, head)
    # Every kind of row was there to compare.
    for table in ("w_guarantor_limits", "w_breakers", "w_program_volume", "w_claims"):
        assert await runtime.pool.fetchval(f"SELECT count(*) FROM {table}") > 0, table


async def test_a_balance_lowered_under_the_cap_is_named(runtime: Runtime) -> None:
    await _history(runtime)
    await _as_superuser(runtime, "UPDATE w_guarantees SET balance = 1 WHERE guarantee_id = 'G-3'")
    found = await _decide(runtime)
    assert [d.describe() for d in found.differences] == [
        "w_guarantees G-3 balance: stored 1, decided 1000000000"
    ]


async def test_an_issuance_let_past_the_cap_by_a_lowered_balance_is_named(
    runtime: Runtime,
) -> None:
    """With G-3's balance hidden, the service accepts G-4 past the cap; deciding the log
    again refuses G-4 at its position."""
    await _history(runtime)
    await _as_superuser(runtime, "UPDATE w_guarantees SET balance = 0 WHERE guarantee_id = 'G-3'")
    let_in = await runtime.ledger.post(posted(_issued("G-4", CAP - 500_000_000)), GUARANTOR)
    found = await _decide(runtime)
    assert found.fault is not None
    assert found.fault.position == let_in.receipts[0].position
    assert found.fault.event == "guarantee.issued"
    assert "the rules refuse it now (409 cap-exceeded)" in found.fault.reason


async def test_a_breaker_removed_is_named(runtime: Runtime) -> None:
    await _history(runtime)
    await _as_superuser(runtime, "DELETE FROM w_breakers")
    found = await _decide(runtime)
    assert found.differences
    assert {(d.table, d.column, repr(d.stored)) for d in found.differences} == {
        ("w_breakers", "row", "absent")
    }


async def test_a_row_the_log_never_made_is_named(runtime: Runtime) -> None:
    await _history(runtime)
    await _as_superuser(runtime, "INSERT INTO w_claims VALUES ('C-9', 'G-3')")
    found = await _decide(runtime)
    assert [d.describe() for d in found.differences] == [
        "w_claims C-9 row: stored present, decided absent"
    ]


async def test_a_limit_document_changed_is_named(runtime: Runtime) -> None:
    await _history(runtime)
    await _as_superuser(
        runtime,
        """UPDATE w_guarantor_limits SET doc = convert_to(replace(convert_from(doc, 'UTF8'),
               '"max_single_sme_bp":1000', '"max_single_sme_bp":9000'), 'UTF8')""",
    )
    found = await _decide(runtime)
    assert [d.describe() for d in found.differences] == [
        f"w_guarantor_limits {GUARANTOR_ID} doc.max_single_sme_bp: stored 9000, decided 1000"
    ]


async def test_a_change_deep_in_a_document_is_named_by_its_path(runtime: Runtime) -> None:
    """One recovered amount of one claim changed: named down to it, not as two documents."""
    await _history(runtime)
    doc = json.loads(
        await runtime.pool.fetchval("SELECT doc FROM w_guarantees WHERE guarantee_id = 'G-1'")
    )
    recovered = doc["claims"]["C-1"]["recovered"]["bank"]
    doc["claims"]["C-1"]["recovered"]["bank"] = recovered + 1
    await _as_superuser(
        runtime,
        "UPDATE w_guarantees SET doc = $1 WHERE guarantee_id = 'G-1'",
        json.dumps(doc).encode(),
    )
    found = await _decide(runtime)
    assert [d.describe() for d in found.differences] == [
        f"w_guarantees G-1 doc.claims[C-1].recovered.bank: stored {recovered + 1}, "
        f"decided {recovered}"
    ]


async def test_events_not_sealed_yet_are_decided_in_the_order_the_sealer_will_give(
    runtime: Runtime,
) -> None:
    """An append held open keeps later commits unsealed; they are folded after the head,
    by transaction and seq, and the state equals the fold."""
    head = await _history(runtime)
    holder = await connect(runtime.dsn)
    posts: list[asyncio.Task[Any]] = []
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock_shared($1)", APPEND_LOCK)
            await holder.fetchval("SELECT pg_current_xact_id()")
            sme = "91110108MA01ABCD2H"
            posts.append(
                asyncio.create_task(
                    runtime.ledger.post(
                        posted(
                            envelope("sme.registered", {"sme_id": sme, "name": "Optics"}),
                            envelope(
                                "sme.eligibility_recorded",
                                {
                                    "sme_id": sme,
                                    "category": "high_tech",
                                    "reference": "MIIT-ABCD",
                                    "valid_from": "2025-01-01",
                                    "valid_until": "2027-12-31",
                                },
                            ),
                        ),
                        REVIEWER,
                        batch=True,
                    )
                )
            )
            posts.append(
                asyncio.create_task(runtime.ledger.post(posted(_issued("G-5", 10**8)), GUARANTOR))
            )
            for _ in range(200):
                if await runtime.pool.fetchval("SELECT count(*) FROM events") == head + 3:
                    break
                await asyncio.sleep(0.02)
            found = await _decide(runtime)
    finally:
        await holder.close()
        await asyncio.gather(*posts)
    assert (found.same, found.sealed, found.events) == (True, head, head + 3)
