"""Stored events: canonical bytes, exact round trips, and log entries for reads."""

from __future__ import annotations

import datetime
import json
from typing import Any

import msgspec
import pytest
from events_examples import TYPES, body, envelope, example

from events.derived import CompensationDerived, Derived, IssuedDerived, RecoveryDerived
from events.envelope import (
    Actor,
    LogEntry,
    StoredEvent,
    decode_posted,
    decode_stored,
    encode_log_entries,
    encode_stored,
    read_log_entry,
    store_posted,
    to_json_dict,
)
from events.payloads import GuaranteeIssued, ProgramRegistered
from events.types import RoleAmounts

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
RECORDED = datetime.datetime(2025, 3, 1, 2, 0, 0, 123456, tzinfo=datetime.UTC)
GUARANTOR = Actor(role="guarantor", institution_id="CQ-SCI-GUAR")

DERIVED: dict[str, Derived] = {
    "guarantee.issued": IssuedDerived(
        program_version=2,
        category="little_giant",
        shares_bp=RoleAmounts(bank=2000, guarantor=2000, reguarantor=2000, national_fund=4000),
        parties={
            "national_fund": "CN-NFGF",
            "bank": "CQ-TECH-BANK",
            "guarantor": "CQ-SCI-GUAR",
            "reguarantor": "CQ-REGUAR",
        },
    ),
    "compensation.paid": CompensationDerived(
        approved_amount=600000000,
        shares=RoleAmounts(
            bank=120000000, guarantor=310000000, reguarantor=120000000, national_fund=50000000
        ),
        parties={"bank": "CQ-TECH-BANK", "guarantor": "CQ-SCI-GUAR"},
    ),
    "recovery.recorded": RecoveryDerived(
        split=RoleAmounts(
            bank=20000000, guarantor=51666667, reguarantor=20000000, national_fund=8333333
        )
    ),
}


def stored(type_: str, data: dict[str, Any] | None = None, **env: Any) -> StoredEvent:
    posted = decode_posted(body(envelope(type_, data, **env))).events[0]
    return store_posted(
        posted,
        derived=DERIVED.get(type_),
        stream_version=3,
        recorded_at=RECORDED,
        actor=GUARANTOR,
    )


@pytest.mark.parametrize("type_", TYPES)
def test_stored_bytes_round_trip_exactly(type_: str) -> None:
    raw = encode_stored(stored(type_, occurred_at="2025-03-01T10:00:00+08:00"))
    assert encode_stored(decode_stored(raw)) == raw


@pytest.mark.parametrize("type_", TYPES)
def test_decode_stored_restores_the_event(type_: str) -> None:
    event = stored(type_)
    assert decode_stored(encode_stored(event)) == event


def test_stored_data_decodes_to_the_payload_class_of_its_type() -> None:
    event = decode_stored(encode_stored(stored("guarantee.issued")))
    assert isinstance(event.data, GuaranteeIssued)
    assert isinstance(event.derived, IssuedDerived)
    assert event.derived.shares_bp.national_fund == 4000


def test_stored_fields_come_in_a_fixed_order() -> None:
    keys = list(json.loads(encode_stored(stored("loan.repaid"))))
    assert keys == [
        "event_id",
        "type",
        "occurred_at",
        "expected_version",
        "data",
        "derived",
        "stream_id",
        "stream_version",
        "recorded_at",
        "actor",
    ]


def test_stored_bytes_have_no_whitespace() -> None:
    raw = encode_stored(stored("claim.rejected", example("claim.rejected", reason="Missing")))
    assert b" " not in raw
    assert b"\n" not in raw


def test_stored_dict_keys_are_sorted_whatever_the_posted_order() -> None:
    data = example("program.registered")
    table = data["terms"]["national_fund_bp_by_category"]
    data["terms"]["national_fund_bp_by_category"] = dict(reversed(list(table.items())))
    a = encode_stored(stored("program.registered"))
    b = encode_stored(stored("program.registered", data))
    assert a == b


def test_occurred_at_defaults_to_recorded_at() -> None:
    event = stored("loan.repaid")
    assert event.occurred_at == RECORDED
    assert event.stream_id == "guarantee-G-1"


def test_occurred_at_keeps_the_posted_offset() -> None:
    raw = encode_stored(stored("loan.repaid", occurred_at="2025-03-01T10:00:00+08:00"))
    assert b'"occurred_at":"2025-03-01T10:00:00+08:00"' in raw
    assert b'"recorded_at":"2025-03-01T02:00:00.123456Z"' in raw


def test_derived_carries_its_kind_tag() -> None:
    raw = encode_stored(stored("compensation.paid"))
    assert json.loads(raw)["derived"]["kind"] == "compensation"
    assert json.loads(encode_stored(stored("loan.repaid")))["derived"] is None


def test_naive_timestamps_are_refused() -> None:
    event = msgspec.structs.replace(
        stored("loan.repaid"), recorded_at=datetime.datetime(2025, 3, 1)
    )
    with pytest.raises(ValueError, match="recorded_at"):
        encode_stored(event)


def test_type_must_match_the_data() -> None:
    event = msgspec.structs.replace(stored("loan.repaid"), type="claim.filed")
    with pytest.raises(ValueError, match="does not match"):
        encode_stored(event)


def test_unknown_stored_type_is_refused() -> None:
    raw = encode_stored(stored("guarantee.released")).replace(
        b'"guarantee.released"', b'"guarantee.misplaced"'
    )
    with pytest.raises(msgspec.ValidationError, match="unknown event type"):
        decode_stored(raw)


def test_log_entry_adds_position_and_hash() -> None:
    event = stored("loan.repaid")
    entry = read_log_entry(encode_stored(event), 42, "ab" * 32)
    assert isinstance(entry, LogEntry)
    assert (entry.position, entry.hash) == (42, "ab" * 32)
    assert entry.data == event.data
    assert entry.stream_version == 3


def test_log_entry_json_has_envelope_place_actor_and_hash() -> None:
    entry = LogEntry.of(stored("compensation.paid"), 7, "00" * 32)
    doc = to_json_dict(entry)
    assert doc["position"] == 7
    assert doc["hash"] == "00" * 32
    assert doc["actor"] == {"role": "guarantor", "institution_id": "CQ-SCI-GUAR"}
    assert doc["data"] == {"guarantee_id": "G-1", "claim_id": "C-1"}
    assert doc["derived"]["shares"]["guarantor"] == 310000000
    assert json.loads(encode_log_entries([entry])) == [doc]


def test_program_terms_survive_storage() -> None:
    event = decode_stored(encode_stored(stored("program.registered")))
    assert isinstance(event.data, ProgramRegistered)
    assert event.data.terms.national_fund_bp_by_category is not None
    assert event.data.terms.national_fund_bp_by_category["high_tech"] == 3500
