"""Two `ledger serve` processes on one database: the risk limits hold exactly (docs/limits.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from bench.payloads import (
    BANK_ID,
    GUARANTOR_ID,
    PROGRAM_ID,
    PROGRAM_TERMS,
    envelope,
    guarantee_issued,
    sme_registered,
)
from bench.service import Service, create_key, post
from events.stored import StoredEvent, decode_stored
from ledger.rules.decide import decide
from ledger.rules.replay import verify
from ledger.rules.state import View
from tests.reliability.harness import prepare, report, stored_event_ids, wait_sealed
from tests.reliability.test_two_instances import _post_all, two_services

__all__ = ["two_services"]

AT = "2025-06-01T10:00:00+08:00"
LIMIT = {"role": "guarantor", "warning_bp": 400, "suspend_bp": 500, "min_discharged": 0}


def _limits(net_assets: int, leverage_x100: int, single_bp: int) -> list[dict[str, Any]]:
    return [
        envelope(
            "institution.net_assets_recorded",
            {"institution_id": GUARANTOR_ID, "net_assets": net_assets, "as_of": "2024-12-31"},
        ),
        envelope(
            "institution.limits_set",
            {
                "institution_id": GUARANTOR_ID,
                "max_leverage_x100": leverage_x100,
                "max_single_sme_bp": single_bp,
            },
        ),
    ]


def _issued(n: int, tag: str, amount: int, **extra: Any) -> dict[str, Any]:
    event = guarantee_issued(n, tag)
    event["data"]["loan_amount"] = amount
    return {**event, **extra}


async def _race(
    services: tuple[Service, Service], key: str, bodies: list[Any]
) -> tuple[list[int], list[str]]:
    first, second = services
    answers = await _post_all([first.url, second.url], key, bodies)
    return [s for s, _ in answers], [b["type"] for s, b in answers if s == 409]


async def test_leverage_admits_exactly_thirty_of_forty_from_two_instances(
    two_services: tuple[Service, Service], db_dsn: str
) -> None:
    """10 x 300 000 000 fen of net assets: room for thirty 1 000 000 yuan guarantees."""
    first, _ = two_services
    guarantor = await asyncio.to_thread(prepare, db_dsn, first)
    admin = await asyncio.to_thread(create_key, db_dsn, "--role", "admin")
    registers = [sme_registered(n) for n in range(100, 140)]
    await asyncio.to_thread(post, first.url, guarantor, registers)
    await asyncio.to_thread(post, first.url, admin, _limits(300_000_000, 1000, 10000))
    bodies = [_issued(n, "lev", 100_000_000) for n in range(100, 140)]
    statuses, refusals = await _race(two_services, guarantor, bodies)
    report("two-instance leverage", accepted=statuses.count(201), refused=statuses.count(409))
    assert statuses.count(201) == 30
    assert refusals == ["/problems/leverage-exceeded"] * 10
    stored = set(await stored_event_ids(db_dsn))
    assert len(stored & {b["event_id"] for b in bodies}) == 30


async def test_concentration_admits_exactly_thirty_of_forty_from_two_instances(
    two_services: tuple[Service, Service], db_dsn: str
) -> None:
    """10% of 15 000 000 000 fen to one SME: thirty 500 000 yuan guarantees (the cap allows 60)."""
    first, _ = two_services
    guarantor = await asyncio.to_thread(prepare, db_dsn, first)
    admin = await asyncio.to_thread(create_key, db_dsn, "--role", "admin")
    await asyncio.to_thread(post, first.url, guarantor, sme_registered(7))
    await asyncio.to_thread(post, first.url, admin, _limits(15_000_000_000, 1500, 1000))
    bodies = [_issued(7, f"con{i}", 50_000_000) for i in range(40)]
    statuses, refusals = await _race(two_services, guarantor, bodies)
    report("two-instance concentration", accepted=statuses.count(201), refused=statuses.count(409))
    assert statuses.count(201) == 30
    assert refusals == ["/problems/concentration-exceeded"] * 10
    stored = set(await stored_event_ids(db_dsn))
    assert len(stored & {b["event_id"] for b in bodies}) == 30


def _on(gid: str, type_: str, **data: Any) -> dict[str, Any]:
    return {**envelope(type_, {"guarantee_id": gid, **data}), "occurred_at": AT}


async def _log(dsn: str) -> list[StoredEvent]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT e.body FROM event_log l JOIN events e USING (seq) ORDER BY l.position"
        )
    finally:
        await conn.close()
    return [decode_stored(bytes(r["body"])) for r in rows]


def _suspended_at(log: list[StoredEvent]) -> int:
    view = View()
    for i, e in enumerate(log):
        decide(view, e.type, e.data, e.actor, e.occurred_at)
        breaker = view.breakers.get((PROGRAM_ID, GUARANTOR_ID, 2025))
        if breaker is not None and breaker.suspended:
            return i
    raise AssertionError("never suspended")


async def test_no_issuance_follows_in_the_log_the_compensation_that_suspended_its_guarantor(
    two_services: tuple[Service, Service], db_dsn: str
) -> None:
    """Three compensations race thirty issuances; the third takes the rate to 500 bp."""
    first, _ = two_services
    guarantor = await asyncio.to_thread(prepare, db_dsn, first)
    admin = await asyncio.to_thread(create_key, db_dsn, "--role", "admin")
    bank = await asyncio.to_thread(create_key, db_dsn, "--institution", BANK_ID)
    terms = {**PROGRAM_TERMS, "compensation_rate_limit": LIMIT}
    amended = envelope("program.amended", {"program_id": PROGRAM_ID, "terms": terms})
    await asyncio.to_thread(post, first.url, admin, amended)
    await asyncio.to_thread(
        post, first.url, guarantor, [sme_registered(n) for n in range(200, 236)]
    )
    setup: list[tuple[str, dict[str, Any]]] = []
    for n in range(3):
        gid = f"G-c-{200 + n}"
        setup += [
            (guarantor, _issued(200 + n, "c", 100_000_000, occurred_at=AT)),
            (bank, _on(gid, "loan.defaulted", overdue_principal=1, default_date="2025-05-01")),
            (bank, _on(gid, "claim.filed", claim_id=f"K-{n}", amount=100_000_000)),
            (guarantor, _on(gid, "claim.approved", claim_id=f"K-{n}", approved_amount=100_000_000)),
            (guarantor, _issued(203 + n, "r", 1_900_000_000, occurred_at=AT)),
            (bank, _on(f"G-r-{203 + n}", "loan.repaid", amount=1_900_000_000)),
        ]
    for key, body in setup:
        await asyncio.to_thread(post, first.url, key, body)
    compensations = [
        _on(f"G-c-{200 + n}", "compensation.paid", claim_id=f"K-{n}") for n in range(3)
    ]
    issuances = [_issued(n, "new", 100_000_000, occurred_at=AT) for n in range(206, 236)]
    # Interleaved, so that the compensations land among the issuances.
    bodies: list[dict[str, Any]] = []
    for i, issuance in enumerate(issuances):
        bodies.append(issuance)
        if i % 10 == 4:
            bodies.append(compensations[i // 10])
    first_s, second_s = two_services
    answers = await _post_all([first_s.url, second_s.url], guarantor, bodies)
    kinds = [(b["type"], status) for (status, _), b in zip(answers, bodies, strict=True)]
    issued = [s for t, s in kinds if t == "guarantee.issued"]
    report(
        "two-instance breaker race",
        compensations=[s for t, s in kinds if t == "compensation.paid"].count(201),
        issued=issued.count(201),
        suspended=issued.count(409),
    )
    assert [s for t, s in kinds if t == "compensation.paid"] == [201] * 3
    assert {b["type"] for s, b in answers if s == 409} <= {"/problems/program-suspended"}
    assert await wait_sealed(db_dsn, 10) == 0
    log = await _log(db_dsn)
    verify(log)  # raises at the first stored event the rules refuse in log order
    cut = _suspended_at(log)
    assert not [e for e in log[cut + 1 :] if e.type == "guarantee.issued"]
    refused_ids = {b["event_id"] for (s, _), b in zip(answers, bodies, strict=True) if s != 201}
    assert not refused_ids & set(await stored_event_ids(db_dsn))
