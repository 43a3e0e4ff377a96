"""ledger.client's statement calls against a real `ledger serve` with the demo loaded: the
demo's guarantor files 2025-Q2, then a June repayment is reported late into it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import msgspec
import pytest

from ledger import client as lc
from ledger.seeds import GUARANTOR_ID
from tests.e2e.live import Live
from tests.e2e.test_client_live import live

__all__ = ["live"]  # the served demo, as test_client_live serves it (one per module)


Q2 = (dt.date(2025, 4, 1), dt.date(2025, 6, 30))


def test_a_statement_is_the_typed_answer_of_the_statements_route(live: Live) -> None:
    async def run() -> tuple[lc.Statement, dict[str, object]]:
        async with lc.LedgerClient(live.url, live.admin) as c:
            typed = await c.statement(GUARANTOR_ID, "2025-Q2")
            async with c.session.get(
                f"{live.url}/v1/statements/{GUARANTOR_ID}",
                params={"period": "2025-Q2", "known_at": typed.known_at.isoformat()},
                headers={"Authorization": f"Bearer {live.admin}"},
            ) as r:
                raw = json.loads(await r.read())
        return typed, raw

    typed, raw = asyncio.run(run())
    assert (typed.institution_id, typed.kind) == (GUARANTOR_ID, "guarantor")
    assert (typed.from_, typed.to) == Q2
    assert typed.programs
    assert raw["programs"] == [msgspec.to_builtins(line) for line in typed.programs]
    assert raw["position"] == typed.position


def test_a_period_given_by_its_dates_is_the_period_given_by_name(live: Live) -> None:
    async def run() -> tuple[lc.Statement, lc.Statement]:
        async with lc.LedgerClient(live.url, live.admin) as c:
            return await c.statement(GUARANTOR_ID, "2025-Q2"), await c.statement(GUARANTOR_ID, Q2)

    named, dated = asyncio.run(run())
    assert dated.programs == named.programs


def test_the_filed_statement_is_the_statement_as_known_when_it_was_filed(live: Live) -> None:
    async def run() -> tuple[lc.FiledStatement, lc.Statement]:
        async with lc.LedgerClient(live.url, live.admin) as c:
            filed = await c.filed_statement(GUARANTOR_ID, "2025-Q2")
            then = await c.statement(GUARANTOR_ID, "2025-Q2", known_at=filed.filed_at)
        return filed, then

    filed, then = asyncio.run(run())
    assert len(filed.digest) == 64
    assert then.programs == filed.programs


def test_the_comparison_names_the_late_report_and_the_figures_it_changed(live: Live) -> None:
    async def run() -> lc.StatementComparison:
        async with lc.LedgerClient(live.url, live.admin) as c:
            return await c.compare_filed(GUARANTOR_ID, "2025-Q2")

    compared = asyncio.run(run())
    assert len(compared.late_events) == 1
    assert compared.late_events[0] > compared.filed.position
    assert {change.field for change in compared.changes} >= {"repaid", "closing_in_force"}


def test_a_period_never_filed_is_not_found(live: Live) -> None:
    async def run() -> None:
        async with lc.LedgerClient(live.url, live.admin) as c:
            await c.filed_statement(GUARANTOR_ID, "2025-Q1")

    with pytest.raises(lc.NotFound):
        asyncio.run(run())


def test_known_at_arrives_with_its_offset_intact(live: Live) -> None:
    """A `+` left raw in a query reads as a space; the client's must arrive as `+08:00`."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    moment = dt.datetime.now(shanghai).replace(microsecond=0) - dt.timedelta(seconds=1)

    async def run() -> lc.Statement:
        async with lc.LedgerClient(live.url, live.admin) as c:
            return await c.statement(GUARANTOR_ID, "2025-Q2", known_at=moment)

    assert asyncio.run(run()).known_at == moment
