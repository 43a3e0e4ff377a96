"""ledger.client against a real `ledger serve`: every problem as its class, safe reposts, feeds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ledger import client as lc
from ledger.demo_scenario import NATIONAL
from ledger.seeds import BANK_ID, GUARANTOR_ID, REGUARANTOR_ID, REVIEWER_ID, SME_ID
from tests.e2e.live import DroppingProxy, Live, served
from tests.e2e.test_http_demo import DEMO_CLAIM_BORNE

NEW_SME = "91440300708461136T"


@pytest.fixture(scope="module")
def live(
    pg_admin_dsn: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """One served ledger with the demo loaded, shared by this module's tests."""
    log = tmp_path_factory.mktemp("client") / "service.log"
    with served(pg_admin_dsn, pg_template, log, demo=True) as ledger:
        yield ledger


def _issue(guarantee_id: str, amount: int, sme_id: str = SME_ID) -> lc.NewEvent:
    data = {
        "guarantee_id": guarantee_id,
        "program_id": NATIONAL,
        "sme_id": sme_id,
        "bank_id": BANK_ID,
        "guarantor_id": GUARANTOR_ID,
        "reguarantor_id": REGUARANTOR_ID,
        "loan_amount": amount,
        "fee_rate_bp": 80,
        "start_date": "2025-06-01",
        "maturity_date": "2026-06-01",
    }
    return lc.NewEvent(type="guarantee.issued", data=data)


def _bank(institution_id: str, **envelope: Any) -> lc.NewEvent:
    data = {"institution_id": institution_id, "name": f"Bank {institution_id}", "kind": "bank"}
    return lc.NewEvent(type="institution.registered", data=data, **envelope)


def _unique() -> str:
    return "B-" + uuid.uuid4().hex[:10]


Cause = Callable[[Live], Awaitable[object]]


async def _as(live: Live, key: str, call: Callable[[lc.LedgerClient], Awaitable[object]]) -> None:
    async with lc.LedgerClient(live.url, key, backoff=lc.Backoff(retries=1, first=0.05)) as c:
        await call(c)


async def malformed_json(live: Live) -> None:
    await _as(live, live.admin, lambda c: c.request("POST", "/v1/events", body=b"{"))


async def unauthorized(live: Live) -> None:
    await _as(live, "not-a-key", lambda c: c.program(NATIONAL))


async def forbidden(live: Live) -> None:
    reader = await live.key(role="reader")
    await _as(live, reader, lambda c: c.post(_bank(_unique())))


async def not_found(live: Live) -> None:
    await _as(live, live.admin, lambda c: c.guarantee("G-NOWHERE"))


async def method_not_allowed(live: Live) -> None:
    await _as(live, live.admin, lambda c: c.request("DELETE", "/v1/events"))


async def version_conflict(live: Live) -> None:
    await _as(live, live.admin, lambda c: c.post(_bank(_unique(), expected_version=3)))


async def idempotency_conflict(live: Live) -> None:
    first = _bank(_unique())
    again = _bank(_unique(), event_id=first.event_id)

    async def post_both(c: lc.LedgerClient) -> None:
        await c.post(first)
        await c.post(again)

    await _as(live, live.admin, post_both)


async def cap_exceeded(live: Live) -> None:
    key = await live.key(institution=GUARANTOR_ID)
    await _as(live, key, lambda c: c.post(_issue("G-BIG-" + uuid.uuid4().hex[:6], 2_900_000_000)))


async def invalid_state(live: Live) -> None:
    bank = _bank(_unique())
    twice = lc.NewEvent(type=bank.type, data=bank.data)

    async def post_both(c: lc.LedgerClient) -> None:
        await c.post(bank)
        await c.post(twice)

    await _as(live, live.admin, post_both)


async def not_eligible(live: Live) -> None:
    reviewer = await live.key(institution=REVIEWER_ID)
    sme = lc.NewEvent(type="sme.registered", data={"sme_id": NEW_SME, "name": "Shenzhen Co."})
    await _as(live, reviewer, lambda c: c.post(sme))
    key = await live.key(institution=GUARANTOR_ID)
    await _as(live, key, lambda c: c.post(_issue("G-NE-1", 100_000, NEW_SME)))


async def payload_too_large(live: Live) -> None:
    body = b"[" + b" " * (1024 * 1024 + 10) + b"]"
    await _as(live, live.admin, lambda c: c.request("POST", "/v1/events", body=body))


async def unsupported_media_type(live: Live) -> None:
    await _as(
        live,
        live.admin,
        lambda c: c.request("POST", "/v1/events", body=b"x", content_type="text/plain"),
    )


async def validation_error(live: Live) -> None:
    event = lc.NewEvent(
        type="institution.registered",
        data={"institution_id": _unique(), "name": "Casino", "kind": "casino"},
    )
    await _as(live, live.admin, lambda c: c.post(event))


CAUSES: dict[type[lc.ProblemError], Cause] = {
    lc.MalformedJson: malformed_json,
    lc.Unauthorized: unauthorized,
    lc.Forbidden: forbidden,
    lc.NotFound: not_found,
    lc.MethodNotAllowed: method_not_allowed,
    lc.VersionConflict: version_conflict,
    lc.IdempotencyConflict: idempotency_conflict,
    lc.CapExceeded: cap_exceeded,
    lc.InvalidState: invalid_state,
    lc.NotEligible: not_eligible,
    lc.PayloadTooLarge: payload_too_large,
    lc.UnsupportedMediaType: unsupported_media_type,
    lc.ValidationError: validation_error,
}


@pytest.mark.parametrize("cls", list(CAUSES), ids=lambda c: c.slug)
def test_a_problem_the_ledger_answers_comes_back_as_its_class(
    live: Live, cls: type[lc.ProblemError]
) -> None:
    with pytest.raises(cls) as raised:
        asyncio.run(CAUSES[cls](live))
    problem = raised.value.problem
    assert problem["type"] == f"/problems/{cls.slug}"
    assert raised.value.status == problem["status"]
    assert raised.value.detail


def test_a_version_conflict_carries_the_problem_document(live: Live) -> None:
    """A bank registered once is at version 1: a post expecting 3 is told 1, not 0."""
    institution_id = _unique()

    async def post_twice(c: lc.LedgerClient) -> None:
        await c.post(_bank(institution_id))
        await c.post(_bank(institution_id, expected_version=3))

    with pytest.raises(lc.VersionConflict) as raised:
        asyncio.run(_as(live, live.admin, post_twice))
    problem = raised.value.problem
    assert problem["type"] == "/problems/version-conflict"
    assert problem["status"] == raised.value.status == 409
    assert problem["stream_id"] == f"institution-{institution_id}"
    assert problem["current_version"] == 1
    assert problem["expected_version"] == 3


def test_a_validation_error_lists_the_invalid_fields(live: Live) -> None:
    with pytest.raises(lc.ValidationError) as raised:
        asyncio.run(validation_error(live))
    assert raised.value.errors[0].path.endswith("kind")


def test_a_repost_after_a_lost_answer_is_stored_once(live: Live) -> None:
    event = _bank(_unique())

    async def run() -> tuple[lc.Receipt, int, int]:
        async with DroppingProxy(live.service.port, drops=2).running() as proxy:
            url = f"http://127.0.0.1:{proxy.port}"
            backoff = lc.Backoff(retries=5, first=0.05)
            async with lc.LedgerClient(url, live.admin, backoff=backoff) as c:
                receipt = await c.post(event)
            dropped = proxy.dropped
        conn = await asyncpg.connect(live.dsn)
        try:
            stored = await conn.fetchval(
                "SELECT count(*) FROM events WHERE event_id = $1", uuid.UUID(event.event_id)
            )
        finally:
            await conn.close()
        return receipt, dropped, int(stored)

    receipt, dropped, stored = asyncio.run(run())
    assert dropped == 2  # the first two answers were lost after the post was stored
    assert stored == 1
    assert receipt.event_id == event.event_id


def test_read_model_getters_return_typed_bodies(live: Live) -> None:
    async def run() -> None:
        async with lc.LedgerClient(live.url, live.admin) as c:
            head = (await c.events(0, limit=1000)).events[-1].position
            exposure = await c.exposure(SME_ID, min_position=head)
            guarantee = await c.guarantee("G-NAT-001", min_position=head)
            position = await c.institution_position(GUARANTOR_ID, min_position=head)
            program = await c.program(NATIONAL, min_position=head)
            claim = await c.claim("C-NAT-001", min_position=head)
        assert isinstance(exposure, lc.SmeExposure)
        assert exposure.programs
        assert isinstance(guarantee, lc.GuaranteeSummary)
        assert guarantee.sme_id == SME_ID
        assert guarantee.parties["guarantor"] == guarantee.guarantor_id
        assert guarantee.balance_history[0].type == "guarantee.issued"
        assert isinstance(position, lc.InstitutionPosition)
        assert position.kind == "guarantor"
        assert position.name
        assert all("guarantor" in line.roles for line in position.programs)
        assert isinstance(program, lc.ProgramSummary)
        assert program.program_id == NATIONAL
        assert program.totals.guarantees_issued >= 1
        assert guarantee.claims == ["C-NAT-001"]
        assert isinstance(claim, lc.ClaimShares)
        assert (claim.guarantee_id, claim.approved_amount) == ("G-NAT-001", 600_000_000)
        borne = {role: share.borne for role, share in claim.shares.items()}
        assert borne == DEMO_CLAIM_BORNE
        assert sum(borne.values()) == claim.totals.borne == claim.approved_amount
        recovered = {role: share.recovered for role, share in claim.shares.items()}
        assert sum(recovered.values()) == claim.totals.recovered == claim.recovered == 100_000_000
        assert all(s.net == s.borne - s.recovered for s in claim.shares.values())

    asyncio.run(run())


@pytest.mark.parametrize("asked", ["G-NAT-001#x", "G-NAT-001?x=1", "../guarantees/G-NAT-001"])
def test_an_id_is_sent_as_one_path_segment_never_as_another_resource(
    live: Live, asked: str
) -> None:
    """A fragment, a query or a path in an id is escaped: the ledger is asked for that id
    (none has it), not for G-NAT-001."""

    async def run() -> None:
        async with lc.LedgerClient(live.url, live.admin) as c:
            with pytest.raises(lc.NotFound):
                await c.guarantee(asked)
            with pytest.raises(lc.NotFound):
                await c.claim(asked)

    asyncio.run(run())


@pytest.mark.parametrize("asked", ["", ".", ".."])
def test_an_id_a_url_would_resolve_away_is_refused_before_asking(live: Live, asked: str) -> None:
    async def run() -> None:
        async with lc.LedgerClient(live.url, live.admin) as c:
            with pytest.raises(ValueError, match="is no id"):
                await c.institution_position(asked)

    asyncio.run(run())


def test_follow_and_stream_give_the_same_events_as_the_pages(live: Live) -> None:
    async def run() -> None:
        async with lc.LedgerClient(live.url, live.admin) as c:
            page = (await c.events(0, limit=1000)).events
            followed = [e async for e in _take(c.follow(0, page=7), len(page))]
            streamed = [e async for e in _take(c.stream(0), len(page))]
        assert followed == page
        assert streamed == page

    asyncio.run(run())


async def _take(events: Any, n: int) -> Any:
    async for event in events:
        yield event
        n -= 1
        if n == 0:
            await events.aclose()
            return


def test_the_service_unavailable_slug_comes_back_as_its_class(
    pg_admin_dsn: str, pg_template: str, tmp_path: Path
) -> None:
    with served(pg_admin_dsn, pg_template, tmp_path / "service.log") as ledger:
        name = ledger.dsn.rsplit("/", 1)[-1].split("?")[0]

        async def cut_off() -> None:
            admin = await asyncpg.connect(pg_admin_dsn)
            try:
                await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
            finally:
                await admin.close()

        async def read() -> None:
            backoff = lc.Backoff(retries=1, first=0.05)
            async with lc.LedgerClient(ledger.url, ledger.admin, backoff=backoff) as c:
                await c.program(NATIONAL)

        asyncio.run(cut_off())
        with pytest.raises(lc.ServiceUnavailable) as raised:
            asyncio.run(read())
        assert raised.value.problem["type"] == "/problems/service-unavailable"
