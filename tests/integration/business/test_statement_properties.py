"""Properties of statements over random histories posted through the real ledger."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.periods import period_dates
from ledger.periods import quarters as quarters_of
from ledger.seeds import NATIONAL_FUND_ID
from ledger.statement_csv import flatten, statement_csv
from projections.statements import Cut, statement
from tests.integration.business.plain import FLOWS, plain_statement
from tests.integration.business.posted_store import posted_store
from tests.unit.projections.scenario import (
    BANKS,
    GUARANTORS,
    OP_KINDS,
    POOL_ID,
    REGUARANTORS,
    random_steps,
    setup_steps,
)

OPS = st.lists(
    st.tuples(st.integers(0, OP_KINDS - 1), st.integers(0, 50), st.integers(1, 100)),
    min_size=5,
    max_size=30,
)
GAPS = st.lists(st.integers(0, 45), min_size=30, max_size=30)
INSTITUTIONS = (*BANKS, *GUARANTORS, *REGUARANTORS, POOL_ID, NATIONAL_FUND_ID)
SH = dt.timezone(dt.timedelta(hours=8))
KNOWN = dt.datetime(2030, 1, 1, tzinfo=SH)


def _dated(steps: list[Any], gaps: list[int]) -> list[Any]:
    """Set-up on 2024-12-31, then each step some days after the one before (business order)."""
    setup = len(setup_steps())
    day = dt.date(2025, 1, 1)
    dated = []
    for n, (body, who) in enumerate(steps):
        if n >= setup:
            day += dt.timedelta(days=gaps[(n - setup) % len(gaps)])
        when = dt.date(2024, 12, 31) if n < setup else day
        dated.append(({**body, "occurred_at": f"{when.isoformat()}T10:00:00+08:00"}, who))
    return dated


def _flat(program: dict[str, Any]) -> dict[str, Any]:
    return flatten(program)


def _identity(f: dict[str, Any]) -> int:
    return (
        f["opening_in_force"]
        + f["issued.amount"]
        + f["renewed_net"]
        - f["repaid"]
        - f["released.amount"]
        - f["compensated.amount"]
        - f["closed.amount"]
    )


async def _check(conn: Any, entries: list[Any], institution: str) -> None:
    async def stmt(first: dt.date, last: dt.date, cut: Cut | None = None) -> dict[str, Any]:
        return await statement(conn, institution, "bank", first, last, KNOWN, cut or Cut())

    periods = [period_dates(q) for q in quarters_of(2025)]
    year = await stmt(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    quarters = [await stmt(a, b) for a, b in periods]
    for body, (first, last) in [
        *zip(quarters, periods, strict=True),
        (year, (dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
    ]:
        expected = plain_statement(entries, institution, first, last)
        got = {p["program_id"]: _flat(p) for p in body["programs"]}
        assert set(got) == set(expected), (institution, first)
        for program_id, f in got.items():
            e = expected[program_id]
            assert f["opening_in_force"] == e["opening_in_force"]
            assert f["closing_in_force"] == e["closing"] == _identity(f)
            assert {k: f[k] for k in FLOWS} == {k: e[k] for k in FLOWS}, (program_id, first)
            discharged = (
                f["repaid"] + f["released.amount"] + f["compensated.amount"] + f["closed.amount"]
            )
            assert f["discharged"] == discharged
            rate = None if discharged == 0 else f["compensated.amount"] * 10000 // discharged
            assert f["compensation_rate_bp"] == rate
            assert f["net_loss"] == f["compensated.borne"] - f["recovered.returned"]
        # CSV: the same numbers as the JSON, through Python's csv module.
        rows = list(csv.DictReader(io.StringIO(statement_csv(body))))
        for row, program in zip(rows, body["programs"], strict=True):
            for path, value in _flat(program).items():
                if path != "program_id":
                    assert row[path] == ("" if value is None else str(value)), path
    # Four quarters sum to the year; each closing opens the next.
    by_q = [{p["program_id"]: _flat(p) for p in q["programs"]} for q in quarters]
    for program in year["programs"]:
        y = _flat(program)
        pid = program["program_id"]
        qs = [q.get(pid) for q in by_q]
        for flow in FLOWS:
            assert sum(q[flow] for q in qs if q) == y[flow], (pid, flow)
        present = [q for q in qs if q]
        assert present[0]["opening_in_force"] == y["opening_in_force"]
        assert present[-1]["closing_in_force"] == y["closing_in_force"]
        for a, b in itertools.pairwise(qs):
            if a is not None and b is not None:
                assert a["closing_in_force"] == b["opening_in_force"]
    # Any past position: the statement counting up to it equals the fold of the log up to it.
    if entries:
        cut = entries[len(entries) // 2].position
        body = await stmt(dt.date(2025, 1, 1), dt.date(2025, 12, 31), Cut(position=cut))
        expected = plain_statement(
            [e for e in entries if e.position <= cut],
            institution,
            dt.date(2025, 1, 1),
            dt.date(2025, 12, 31),
        )
        assert {p["program_id"]: _flat(p)["closing_in_force"] for p in body["programs"]} == {
            k: v["closing"] for k, v in expected.items()
        }


@settings(max_examples=10, deadline=None)
@given(ops=OPS, gaps=GAPS)
async def test_statements_equal_a_plain_fold_and_add_up(
    pg_admin_dsn: str, pg_template: str, ops: list[tuple[int, int, int]], gaps: list[int]
) -> None:
    """Identity, the plain fold, quarters summing to the year, closing = next opening, CSV."""
    steps = _dated(random_steps(ops).accepted, gaps)
    async with posted_store(pg_admin_dsn, pg_template, steps) as (conn, entries):
        for institution in INSTITUTIONS:
            await _check(conn, entries, institution)


def test_plain_dates_are_in_business_order() -> None:
    """The dating used above never goes back, so every stream keeps business order."""
    steps = _dated(random_steps([(0, 1, 50), (1, 0, 30)]).accepted, [3] * 30)
    days = [str(b["occurred_at"]) for b, _ in steps]
    assert days == sorted(days)
