"""The client's statement types carry every field the ledger sends, under the same names."""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
import pytest

import ledger.client.statements as client
import ledger.http.statement_schemas as served
from ledger.client import LedgerClient

SERVED = sorted(
    name
    for name, value in vars(served).items()
    if isinstance(value, type) and issubclass(value, served._Body) and value is not served._Body
)


@pytest.mark.parametrize("name", SERVED)
def test_every_served_statement_body_has_a_client_type_with_the_same_wire_names(
    name: str,
) -> None:
    ours, theirs = getattr(client, name), getattr(served, name)
    assert ours.__struct_encode_fields__ == theirs.__struct_encode_fields__


def test_a_statement_decodes_its_dates_and_the_from_field() -> None:
    body = {
        "institution_id": "G",
        "kind": "guarantor",
        "from": "2025-04-01",
        "to": "2025-06-30",
        "known_at": "2026-01-05T10:00:00+08:00",
        "position": 1234,
        "programs": [],
        "added_by_a_newer_ledger": True,
    }
    statement = msgspec.json.decode(msgspec.json.encode(body), type=client.Statement)
    assert (statement.from_, statement.to) == (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    assert statement.known_at.utcoffset() == dt.timedelta(hours=8)


def test_a_period_is_sent_as_its_name_or_as_its_first_and_last_dates() -> None:
    assert client.period_params("2025-Q2") == {"period": "2025-Q2"}
    dates = (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    assert client.period_params(dates) == {"from": "2025-04-01", "to": "2025-06-30"}


def test_a_known_at_without_an_offset_is_refused_before_anything_is_sent() -> None:
    async def ask() -> None:
        async with LedgerClient("http://127.0.0.1:1", "key") as c:
            await c.statement("G", "2025", known_at=dt.datetime(2026, 1, 5, 10))

    with pytest.raises(ValueError, match="UTC offset"):
        asyncio.run(ask())
