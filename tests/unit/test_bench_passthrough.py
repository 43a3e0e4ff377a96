"""The pass-through's rows: the raw baseline's columns, from the posted bytes."""

from __future__ import annotations

import msgspec

from bench.passthrough import _row
from bench.payloads import guarantee_issued, sme_registered


def test_an_issuance_is_stored_under_its_guarantee_with_the_posted_bytes() -> None:
    body = msgspec.json.encode(guarantee_issued(7, "t"))
    event_id, stream_id, type_, stored = _row(body)
    assert (stream_id, type_, stored) == ("s-G-t-7", "guarantee.issued", body)
    assert event_id == msgspec.json.decode(body)["event_id"]


def test_a_registration_is_stored_under_its_sme() -> None:
    event = sme_registered(3)
    assert _row(msgspec.json.encode(event))[1] == f"s-{event['data']['sme_id']}"
