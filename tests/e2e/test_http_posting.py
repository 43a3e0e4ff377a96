"""POST /v1/events: receipts, reposts, and every refusal as its documented problem."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest

from events.envelope import MAX_BATCH
from ledger.demo_scenario import scenario
from tests.e2e.conftest import Keys
from tests.e2e.posting import Client
from tests.e2e.posting import post as _post
from tests.e2e.posting import problem as _problem
from tests.e2e.posting import refused as _refused
from tests.factory import envelope, institution


async def test_one_envelope_gets_201_with_its_receipt(client: Client, keys: Keys) -> None:
    event = institution("B-1")
    status, body = await _post(client, event, await keys.role("admin"))
    assert status == 201
    assert body["event_id"] == event["event_id"]
    assert (body["stream_id"], body["stream_version"], body["position"]) == (
        "institution-B-1",
        1,
        1,
    )
    assert body["recorded_at"].endswith("+08:00")


async def test_an_array_gets_an_array_of_receipts_in_order(client: Client, keys: Keys) -> None:
    status, body = await _post(
        client, [institution("B-1"), institution("B-2")], await keys.role("admin")
    )
    assert status == 201
    assert [r["position"] for r in body] == [1, 2]


async def test_identical_repost_gets_200_with_the_original_receipt(
    client: Client, keys: Keys
) -> None:
    admin, event = await keys.role("admin"), institution("B-1")
    created, first = await _post(client, event, admin)
    assert created == 201
    status, again = await _post(client, event, admin)
    assert (status, again) == (200, first)


async def test_an_identical_repost_by_a_key_that_may_not_post_it_is_403(
    client: Client, keys: Keys
) -> None:
    event = institution("B-1")
    created, _ = await _post(client, event, await keys.role("admin"))
    assert created == 201
    body = await _refused(client, event, await keys.role("reader"))
    _problem(body, "forbidden", 403)
    assert "position" not in body


@pytest.mark.parametrize("role", ["reader", "auditor"])
async def test_a_key_that_may_post_nothing_gets_403_whatever_its_body(
    client: Client, keys: Keys, role: str
) -> None:
    headers = {**await keys.role(role), "Content-Type": "application/json"}
    repay = envelope("loan.repaid", {"guarantee_id": "G-NONE", "amount": 1})
    for body in (b"{not json", b'{"type": "program.amended", "data": {}}', json.dumps(repay)):
        r = await client.post("/v1/events", data=body, headers=headers)
        problem = await r.json(content_type=None)
        _problem(problem, "forbidden", 403)
        assert f"a key of role {role} may not post events" in problem["detail"]


async def test_a_key_that_may_post_is_told_what_is_wrong_with_its_body(
    client: Client, keys: Keys
) -> None:
    headers = {**await keys.role("admin"), "Content-Type": "application/json"}
    r = await client.post("/v1/events", data=b"{not json", headers=headers)
    assert r.status == 400
    _problem(await r.json(content_type=None), "malformed-json", 400)


async def test_event_id_reused_for_other_content_is_idempotency_conflict(
    client: Client, keys: Keys
) -> None:
    admin, event_id = await keys.role("admin"), uuid.uuid4()
    created, _ = await _post(client, institution("B-1", event_id=event_id), admin)
    assert created == 201
    body = await _refused(client, institution("B-2", event_id=event_id), admin)
    _problem(body, "idempotency-conflict", 409)


async def test_version_conflict_says_the_current_version(client: Client, keys: Keys) -> None:
    admin = await keys.role("admin")
    await _post(client, institution("B-1"), admin)
    body = await _refused(client, institution("B-1", expected_version=0), admin)
    _problem(body, "version-conflict", 409)
    assert body["current_version"] == 1


async def test_duplicate_institution_is_invalid_state(client: Client, keys: Keys) -> None:
    admin = await keys.role("admin")
    await _post(client, institution("B-1"), admin)
    body = await _refused(client, institution("B-1"), admin)
    _problem(body, "invalid-state", 409)


async def _load_until(client: Client, keys: Keys, last_step: str) -> dict[str, dict[str, str]]:
    """Post the demo scenario up to and including `last_step`; return headers per poster."""
    headers: dict[str, dict[str, str]] = {}
    for step in scenario():
        if step.poster not in headers:
            headers[step.poster] = (
                await keys.role("admin") if step.poster == "admin" else await keys.of(step.poster)
            )
        status, body = await _post(client, step.envelope(), headers[step.poster])
        assert status == 201, body
        if step.name == last_step:
            break
    return headers


def _issue(
    guarantee_id: str, loan_amount: int, sme_id: str = "91500000MA5U7K3Q8Y"
) -> dict[str, Any]:
    return envelope(
        "guarantee.issued",
        {
            "guarantee_id": guarantee_id,
            "program_id": "national-sme-tech-2024",
            "sme_id": sme_id,
            "bank_id": "CQ-TECH-BANK",
            "guarantor_id": "CQ-SCI-GUAR",
            "reguarantor_id": "CQ-REGUAR",
            "loan_amount": loan_amount,
            "fee_rate_bp": 80,
            "start_date": "2025-06-01",
            "maturity_date": "2026-06-01",
        },
    )


async def test_cap_exceeded_says_balance_cap_and_requested(client: Client, keys: Keys) -> None:
    headers = await _load_until(client, keys, "issue G-NAT-001")
    body = await _refused(client, _issue("G-BIG", 2_500_000_000), headers["CQ-SCI-GUAR"])
    _problem(body, "cap-exceeded", 409)
    assert (body["balance"], body["cap"], body["requested"]) == (
        1_000_000_000,
        3_000_000_000,
        2_500_000_000,
    )


async def test_an_event_out_of_turn_names_the_guarantees_status_beside_the_http_status(
    client: Client, keys: Keys
) -> None:
    await _load_until(client, keys, "issue G-NAT-001")
    bank = await keys.of("CQ-TECH-BANK")
    await _post(client, envelope("guarantee.released", {"guarantee_id": "G-NAT-001"}), bank)
    repay = envelope("loan.repaid", {"guarantee_id": "G-NAT-001", "amount": 1})
    body = await _refused(client, repay, bank)
    _problem(body, "invalid-state", 409)
    assert body["guarantee_status"] == "released"


async def test_sme_without_eligibility_is_not_eligible(client: Client, keys: Keys) -> None:
    await _load_until(client, keys, "register 91500000MA60XJ2K25")
    # SME registered, but its eligibility is not recorded yet.
    body = await _refused(
        client, _issue("G-X", 100_000, "91500000MA60XJ2K25"), await keys.of("CQ-SCI-GUAR")
    )
    _problem(body, "not-eligible", 409)


async def test_a_rule_on_a_value_names_its_field(client: Client, keys: Keys) -> None:
    await _load_until(client, keys, "eligibility 91500000MA5U7K3Q8Y")
    event = _issue("G-FEE", 100_000)
    event["data"]["fee_rate_bp"] = 9000
    body = await _refused(client, event, await keys.of("CQ-SCI-GUAR"))
    _problem(body, "validation-error", 422)
    assert body["errors"][0]["path"].endswith("fee_rate_bp")


async def test_invalid_fields_are_422_with_their_paths(client: Client, keys: Keys) -> None:
    event = institution("B-1")
    event["data"]["kind"] = "casino"
    del event["data"]["name"]
    body = await _refused(client, [institution("B-0"), event], await keys.role("admin"))
    _problem(body, "validation-error", 422)
    paths = {e["path"] for e in body["errors"]}
    assert paths & {"$[1].data.kind", "$[1].data.name"}


async def test_wrong_credit_code_check_character_is_422(client: Client, keys: Keys) -> None:
    await _post(client, institution("GU-1", "guarantor"), await keys.role("admin"))
    event = envelope("sme.registered", {"sme_id": "91500000MA5U7K3Q8X", "name": "X"})
    body = await _refused(client, event, await keys.of("GU-1"))
    _problem(body, "validation-error", 422)
    assert body["errors"][0]["path"] == "$.data.sme_id"


async def test_an_id_ending_in_a_line_break_is_422_and_stores_nothing(
    client: Client, keys: Keys
) -> None:
    # As a poster reading ids line by line from a file, unstripped, would send it.
    event = institution("B-1\n")
    event["data"]["name"] = "Bank One"
    body = await _refused(client, event, await keys.role("admin"))
    _problem(body, "validation-error", 422)
    assert [e["path"] for e in body["errors"]] == ["$.data.institution_id"]
    r = await client.get("/v1/events", headers=await keys.role("auditor"))
    assert (await r.json())["events"] == []


async def test_more_than_the_batch_limit_is_413_payload_too_large(
    client: Client, keys: Keys
) -> None:
    """A body is at most 1 MiB and 1000 events; over the limit is a 413."""
    events = [institution(f"B-{i}") for i in range(MAX_BATCH + 1)]
    body = await _refused(client, events, await keys.role("admin"))
    _problem(body, "payload-too-large", 413)
    assert "at most 1000 events per post, got 1001" in body["detail"]


async def test_a_refused_batch_stores_nothing(client: Client, keys: Keys) -> None:
    admin = await keys.role("admin")
    status, _ = await _post(client, [institution("B-1"), institution("B-1")], admin)
    assert status == 409
    r = await client.get("/v1/events", headers=await keys.role("auditor"))
    assert (await r.json())["events"] == []


async def test_body_that_is_not_json_is_400_malformed_json(client: Client, keys: Keys) -> None:
    r = await client.post(
        "/v1/events",
        data=b'{"event_id": ',
        headers={**await keys.role("admin"), "Content-Type": "application/json"},
    )
    assert r.status == 400
    assert r.content_type == "application/problem+json"
    _problem(await r.json(content_type=None), "malformed-json", 400)


async def test_non_json_content_type_is_415(client: Client, keys: Keys) -> None:
    r = await client.post(
        "/v1/events", data=b"{}", headers={**await keys.role("admin"), "Content-Type": "text/plain"}
    )
    assert r.status == 415
    _problem(await r.json(content_type=None), "unsupported-media-type", 415)


async def test_body_over_one_mebibyte_is_413(client: Client, keys: Keys) -> None:
    body = io.BytesIO(b"[" + b" " * (1024 * 1024) + b"]")
    r = await client.post(
        "/v1/events",
        data=body,
        headers={**await keys.role("admin"), "Content-Type": "application/json"},
    )
    assert r.status == 413
    _problem(await r.json(content_type=None), "payload-too-large", 413)


@pytest.mark.parametrize("path", ["/v1/events", "/v1/log/cosignatures"])
async def test_a_body_not_in_its_content_encoding_is_400_malformed_request(
    client: Client, keys: Keys, path: str
) -> None:
    headers = {
        **await keys.role("admin"),
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    r = await client.post(path, data=b'{"event_id": "not gzip"}', headers=headers)
    body = await r.json(content_type=None)
    _problem(body, "malformed-request", 400)
    assert "gzip" in body["detail"]


async def test_chunked_body_over_one_mebibyte_is_413(client: Client, keys: Keys) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 65536

    r = await client.post(
        "/v1/events",
        data=chunks(),
        headers={**await keys.role("admin"), "Content-Type": "application/json"},
    )
    _problem(await r.json(content_type=None), "payload-too-large", 413)


async def test_every_stored_event_records_the_actor_of_its_key(client: Client, keys: Keys) -> None:
    await _load_until(client, keys, "issue G-NAT-001")
    r = await client.get("/v1/streams/guarantee-G-NAT-001", headers=await keys.role("auditor"))
    (entry,) = (await r.json())["events"]
    assert entry["actor"] == {"role": "guarantor", "institution_id": "CQ-SCI-GUAR"}


@pytest.mark.parametrize(
    ("occurred_at", "said"),
    [
        ("2999-01-01T00:00:00+08:00", "more than 5 minutes after"),
        # In the year 0 in UTC, where dates end.
        ("0001-01-01T07:59:59+08:00", "outside"),
        # Rounded, 23:59:59.9999999 on 31 March would count in April, in another quarter.
        ("2025-03-31T23:59:59.9999999+08:00", "at most 6"),
    ],
    ids=["far ahead", "before the year 1 in UTC", "finer than a microsecond"],
)
async def test_an_occurred_at_the_ledger_cannot_keep_is_422_at_it_and_stores_nothing(
    client: Client, keys: Keys, occurred_at: str, said: str
) -> None:
    event = institution("B-1", occurred_at=occurred_at)
    body = await _refused(client, event, await keys.role("admin"))
    _problem(body, "validation-error", 422)
    assert body["errors"][0]["path"] == "$.occurred_at"
    assert said in body["errors"][0]["message"]
    r = await client.get("/v1/events", headers=await keys.role("auditor"))
    assert (await r.json())["events"] == []


async def test_an_event_going_back_in_business_time_is_409_naming_both_times(
    client: Client, keys: Keys
) -> None:
    admin = await keys.role("admin")
    await _post(client, institution("B-1", occurred_at="2025-06-01T10:00:00+08:00"), admin)
    earlier = envelope(
        "institution.net_assets_recorded",
        {"institution_id": "B-1", "net_assets": 1_000_000, "as_of": "2025-03-31"},
        occurred_at="2025-05-01T10:00:00+08:00",
    )
    body = await _refused(client, earlier, admin)
    _problem(body, "invalid-state", 409)
    assert "2025-05-01T10:00:00+08:00" in body["detail"]
    assert "2025-06-01T10:00:00+08:00" in body["detail"]
