"""The client's read-model types carry every field the ledger sends, under the same names."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

import ledger.client.readmodels as client
import ledger.http.readmodel_schemas as served

SERVED = sorted(
    name
    for name, value in vars(served).items()
    if isinstance(value, type)
    and issubclass(value, served.ReadBody)
    and value is not served.ReadBody
)


@pytest.mark.parametrize("name", SERVED)
def test_every_served_body_has_a_client_type_with_the_same_fields(name: str) -> None:
    ours = getattr(client, name)
    assert ours.__struct_fields__ == getattr(served, name).__struct_fields__


def test_a_position_line_decodes_with_its_limit_and_roles() -> None:
    body = {
        "institution_id": "GUAR-1",
        "kind": "guarantor",
        "name": "Guarantee Co.",
        "position": 42,
        "programs": [
            {
                "program_id": "P",
                "roles": ["guarantor"],
                "guaranteed_volume": 100,
                "in_force_balance": 80,
                "borne": 10,
                "recovered": 2,
                "net_loss": 8,
                "cap": None,
                "cap_used": 0,
                "limit": {
                    "year": 2026,
                    "rate_bp": 350,
                    "discharged": 1000,
                    "warning_bp": 300,
                    "suspend_bp": 500,
                    "status": "warning",
                },
            }
        ],
    }
    position = msgspec.json.decode(msgspec.json.encode(body), type=client.InstitutionPosition)
    assert position.name == "Guarantee Co."
    assert position.programs[0].roles == ["guarantor"]
    limit = position.programs[0].limit
    assert limit is not None
    assert (limit.status, limit.rate_bp) == ("warning", 350)


def test_a_balance_point_decodes_its_moment_and_business_date() -> None:
    raw = b'{"position":7,"type":"guarantee.issued","occurred_at":"2026-03-01T10:00:00+08:00",'
    raw += b'"business_date":"2026-03-01","balance":100}'
    point = msgspec.json.decode(raw, type=client.BalancePoint)
    assert point.occurred_at == dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    assert point.business_date == dt.date(2026, 3, 1)
