"""Posted bodies: envelopes, batches, malformed input, and repost fingerprints."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from events_examples import EVENT_ID, body, envelope, example

from events.envelope import (
    MAX_BATCH,
    InvalidEvents,
    MalformedJson,
    TooManyEvents,
    decode_posted,
    posted_fingerprint,
)
from events.errors import FieldError


def errors_of(raw: bytes) -> list[FieldError]:
    with pytest.raises(InvalidEvents) as info:
        decode_posted(raw)
    return info.value.errors


def paths_of(raw: bytes) -> list[str]:
    return [e.path for e in errors_of(raw)]


def batch(*envelopes: dict[str, Any]) -> bytes:
    return body([{**e, "event_id": str(uuid.UUID(int=i + 1))} for i, e in enumerate(envelopes)])


def test_single_envelope_is_not_an_array() -> None:
    posted = decode_posted(body(envelope("loan.repaid")))
    assert posted.is_array is False
    [one] = posted.events
    assert one.event_id == EVENT_ID
    assert one.type == "loan.repaid"
    assert one.stream_id == "guarantee-G-1"
    assert one.envelope.occurred_at is None
    assert one.envelope.expected_version is None


def test_envelope_keeps_occurred_at_offset_and_expected_version() -> None:
    raw = body(envelope("loan.repaid", occurred_at="2025-03-01T10:00:00+08:00", expected_version=0))
    env = decode_posted(raw).events[0].envelope
    assert env.occurred_at is not None
    assert env.occurred_at.isoformat() == "2025-03-01T10:00:00+08:00"
    assert env.expected_version == 0


def test_a_business_time_finer_than_a_microsecond_is_refused_not_rounded() -> None:
    raw = body(envelope("loan.repaid", occurred_at="2025-03-31T23:59:59.9999999+08:00"))
    [error] = errors_of(raw)
    assert error.path == "$.occurred_at"
    assert "7 fractional digits" in error.message


def test_a_business_time_finer_than_a_microsecond_is_named_at_its_index_in_a_batch() -> None:
    fine = envelope("loan.repaid", occurred_at="2025-03-31T23:59:59.999999+08:00")
    finer = envelope("loan.repaid", occurred_at="2025-03-31T23:59:59.99999999Z")
    assert paths_of(batch(fine, finer)) == ["$[1].occurred_at"]


@pytest.mark.parametrize(
    "written", [b"23:59:59.999999\\u0039+08:00", b"23:59:59\\u002e9999999+08:00"]
)
def test_a_business_time_with_escaped_characters_is_checked_as_decoded(written: bytes) -> None:
    raw = body(envelope("loan.repaid", occurred_at="2025-03-31T23:59:59+08:00"))
    raw = raw.replace(b"23:59:59+08:00", written)
    assert paths_of(raw) == ["$.occurred_at"]


def test_seven_digits_after_a_point_in_the_data_refuse_nothing() -> None:
    data = {**example("institution.registered"), "name": "Fund 23:59:59.9999999"}
    raw = body(envelope("institution.registered", data, occurred_at="2025-03-31T23:59:59Z"))
    assert decode_posted(raw).events[0].payload.name == "Fund 23:59:59.9999999"


def test_an_offset_without_its_colon_is_refused_naming_the_rfc_3339_form() -> None:
    raw = body(envelope("loan.repaid", occurred_at="2025-03-01T10:00:00+0800"))
    [error] = errors_of(raw)
    assert error.path == "$.occurred_at"
    assert "'+08:00'" in error.message


def test_an_offset_without_its_colon_is_named_at_its_index_in_a_batch() -> None:
    fine = envelope("loan.repaid", occurred_at="2025-03-01T10:00:00-05:00")
    basic = envelope("loan.repaid", occurred_at="2025-03-01T10:00:00.5-0500")
    assert paths_of(batch(fine, basic)) == ["$[1].occurred_at"]


def test_an_offset_without_a_colon_in_the_data_refuses_nothing() -> None:
    data = {**example("institution.registered"), "name": "Fund 10:00:00+0800"}
    raw = body(envelope("institution.registered", data, occurred_at="2025-03-01T10:00:00Z"))
    assert decode_posted(raw).events[0].payload.name == "Fund 10:00:00+0800"


def test_array_of_one_is_an_array() -> None:
    posted = decode_posted(batch(envelope("loan.repaid")))
    assert posted.is_array is True
    assert len(posted.events) == 1


def test_array_keeps_event_order() -> None:
    posted = decode_posted(batch(envelope("loan.defaulted"), envelope("claim.filed")))
    assert [p.type for p in posted.events] == ["loan.defaulted", "claim.filed"]


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"event_id": "not-a-uuid"}, "$.event_id"),
        ({"event_id": None}, "$.event_id"),
        ({"type": None}, "$.type"),
        ({"type": 5}, "$.type"),
        ({"occurred_at": "2025-03-01T10:00:00"}, "$.occurred_at"),
        ({"occurred_at": "2025-03-01"}, "$.occurred_at"),
        ({"expected_version": -1}, "$.expected_version"),
        ({"expected_version": 1.0}, "$.expected_version"),
        ({"expected_version": 10**400}, "$.expected_version"),
        ({"data": None}, "$.data"),
        ({"data": [1]}, "$.data"),
        ({"position": 7}, "$.position"),
    ],
)
def test_bad_envelope_fields_are_refused_at_their_path(changes: dict[str, Any], path: str) -> None:
    env = envelope("loan.repaid")
    for key, value in changes.items():
        if value is None and key != "data":
            env.pop(key)
        else:
            env[key] = value
    assert paths_of(body(env)) == [path]


def test_unknown_type_is_refused_at_type() -> None:
    errors = errors_of(body(envelope("loan.forgiven", {"guarantee_id": "G-1"})))
    assert [e.path for e in errors] == ["$.type"]
    assert "guarantee.issued" in errors[0].message


def test_messages_quoting_huge_values_are_cut_short() -> None:
    raw = body(envelope("x" * 100000, {}))
    [error] = errors_of(raw)
    assert len(error.message) < 1000
    data = example("institution.registered", kind="k" * 100000)
    [error] = errors_of(body(envelope("institution.registered", data)))
    assert error.path == "$.data.kind"
    assert len(error.message) <= 300


def test_unknown_field_with_an_odd_name_gets_a_quoted_path() -> None:
    data = {**example("loan.repaid"), "a b": 1}
    assert paths_of(body(envelope("loan.repaid", data))) == ['$.data["a b"]']


def test_type_names_are_not_module_paths() -> None:
    raw = body(envelope("events.payloads.LoanRepaid", example("loan.repaid")))
    assert paths_of(raw) == ["$.type"]


def test_batch_errors_carry_the_event_index() -> None:
    raw = batch(envelope("loan.repaid"), envelope("loan.repaid", example("loan.repaid", amount=0)))
    assert paths_of(raw) == ["$[1].data.amount"]


def test_batch_reports_an_error_for_every_bad_event() -> None:
    raw = batch(
        envelope("sme.registered", example("sme.registered", sme_id="91500000MA5U7K3Q8X")),
        envelope("loan.repaid"),
        envelope("nope", {}),
        {**envelope("loan.repaid"), "expected_version": "1"},
        envelope(
            "program.amended",
            example(
                "program.amended", terms={**example("program.amended")["terms"], "parties": {}}
            ),
        ),
    )
    assert paths_of(raw) == [
        "$[0].data.sme_id",
        "$[2].type",
        "$[3].expected_version",
        "$[4].data.terms.parties.national_fund",
    ]


def test_batch_refuses_a_repeated_event_id() -> None:
    env = envelope("loan.repaid")
    other = {**envelope("claim.filed"), "event_id": str(uuid.UUID(int=7))}
    assert paths_of(body([env, other, env])) == ["$[2].event_id"]


def test_empty_array_is_refused() -> None:
    assert paths_of(b"[]") == ["$"]


def test_more_than_1000_events_are_refused_as_too_many() -> None:
    raw = batch(*[envelope("guarantee.released")] * (MAX_BATCH + 1))
    with pytest.raises(TooManyEvents, match="at most 1000 events per post, got 1001"):
        decode_posted(raw)


def test_1000_events_are_accepted() -> None:
    assert len(decode_posted(batch(*[envelope("guarantee.released")] * MAX_BATCH)).events) == 1000


@pytest.mark.parametrize("raw", [b"5", b'"event"', b"null", b"true"])
def test_json_that_is_neither_object_nor_array_is_refused(raw: bytes) -> None:
    assert paths_of(raw) == ["$"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"not json",
        b"{'event_id': 1}",
        b'{"event_id": 5, "type": ',
        b'[{"a": 1}] trailing',
        b'{"type": "\xff\xfe"}',
        b'[{"event_id": "x", "type": "\xff"}]',
        b'{"type": "\\ud800"}',
    ],
)
def test_body_that_is_not_json_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedJson):
        decode_posted(raw)


@pytest.mark.parametrize("written", [b"a\\ud800b", b"a\\uDBFF"])
def test_a_lone_high_surrogate_is_named_with_its_byte(written: bytes) -> None:
    raw = b'{"type": "' + written + b'"}'
    at = raw.index(b"\\u")
    with pytest.raises(MalformedJson) as info:
        decode_posted(raw)
    assert f"at byte {at}" in str(info.value)
    assert "surrogate pair" in str(info.value)


def test_an_escaped_backslash_before_ud8_is_text_not_a_surrogate() -> None:
    with pytest.raises(MalformedJson) as info:
        decode_posted(b'{"type": "C:\\\\udb12')
    assert str(info.value) == "body is not JSON: Input data was truncated"


def test_a_body_cut_short_is_still_called_truncated() -> None:
    with pytest.raises(MalformedJson) as info:
        decode_posted(b'{"type": "loan')
    assert "truncated" in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100000,
        b"[" * 100000 + b"]" * 100000,
        b"{" * 100000,
        body(envelope("loan.repaid"))[:-1] + b', "x": ' + b"[" * 100000 + b"]" * 100000 + b"}",
        b'{"event_id": 5, "data": ' + b"[" * 100000 + b"]" * 100000 + b"}",
        body(envelope("loan.repaid", {"guarantee_id": "G", "amount": 1}))[:-2]
        + b', "x": '
        + b"[" * 100000
        + b"]" * 100000
        + b"}}",
    ],
    ids=["open", "balanced", "objects", "in-envelope", "after-type-error", "in-data"],
)
def test_deep_nesting_is_refused_without_crashing(raw: bytes) -> None:
    with pytest.raises((MalformedJson, InvalidEvents)):
        decode_posted(raw)


@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_integers_are_refused_as_invalid(digits: int) -> None:
    raw = body(envelope("loan.repaid"))
    raw = raw.replace(b'"amount": 100000000', b'"amount": ' + b"9" * digits)
    assert paths_of(raw) == ["$.data.amount"]


def test_huge_integer_as_whole_body_is_refused() -> None:
    with pytest.raises(InvalidEvents):
        decode_posted(b"9" * 5000)


def fingerprint(raw: bytes) -> bytes:
    return posted_fingerprint(decode_posted(raw).events[0])


BASE = envelope("claim.closed", occurred_at="2025-03-01T10:00:00+08:00", expected_version=4)


def test_identical_repost_has_the_same_fingerprint() -> None:
    """Any post of BASE, now or later, has this digest. Derived by hand: SHA-256 of the
    compact JSON of [event_id, type, occurred_at as sent, expected_version, data], i.e. of
    ["3f2b8c1e-5a0d-4c55-9b1e-0c8a7d2e4f61","claim.closed","2025-03-01T10:00:00+08:00",4,
    {"guarantee_id":"G-1","claim_id":"C-1"}] without the line break."""
    repost = envelope("claim.closed", occurred_at="2025-03-01T10:00:00+08:00", expected_version=4)
    expected = "30f0a2e35c04fb00577fd9712ee7309d2ae4b623484c8b0b46f561d446efdfc5"
    assert fingerprint(body(BASE)).hex() == expected
    assert fingerprint(body(repost)).hex() == expected


def test_key_order_and_whitespace_do_not_change_the_fingerprint() -> None:
    reordered = dict(reversed(list(BASE.items())))
    reordered["data"] = dict(reversed(list(BASE["data"].items())))
    raw = body(reordered).replace(b": ", b":\n  ")
    assert fingerprint(raw) == fingerprint(body(BASE))


def test_terms_dict_order_does_not_change_the_fingerprint() -> None:
    data = example("program.registered")
    table = data["terms"]["national_fund_bp_by_category"]
    shuffled = {
        **data,
        "terms": {
            **data["terms"],
            "national_fund_bp_by_category": dict(reversed(list(table.items()))),
        },
    }
    assert fingerprint(body(envelope("program.registered", shuffled))) == fingerprint(
        body(envelope("program.registered", data))
    )


def test_omitted_default_and_explicit_null_have_the_same_fingerprint() -> None:
    omitted = example("guarantee.issued", reguarantor_id=None)
    explicit = {**omitted, "reguarantor_id": None}
    assert fingerprint(body(envelope("guarantee.issued", omitted))) == fingerprint(
        body(envelope("guarantee.issued", explicit))
    )


def test_uuid_spelling_does_not_change_the_fingerprint() -> None:
    upper = {**BASE, "event_id": EVENT_ID.upper()}
    assert fingerprint(body(upper)) == fingerprint(body(BASE))


@pytest.mark.parametrize(
    "changes",
    [
        {"event_id": "3f2b8c1e-5a0d-4c55-9b1e-0c8a7d2e4f62"},
        {"type": "compensation.paid"},
        {"occurred_at": "2025-03-01T10:00:01+08:00"},
        {"occurred_at": "2025-03-01T02:00:00+00:00"},
        {"occurred_at": None},
        {"expected_version": 5},
        {"expected_version": None},
        {"data": {"guarantee_id": "G-1", "claim_id": "C-2"}},
        {"data": {"guarantee_id": "G-2", "claim_id": "C-1"}},
    ],
    ids=lambda c: next(iter(c)) + "=" + str(next(iter(c.values()))),
)
def test_any_difference_changes_the_fingerprint(changes: dict[str, Any]) -> None:
    other = {**BASE, **changes}
    other = {k: v for k, v in other.items() if v is not None}
    assert fingerprint(body(other)) != fingerprint(body(BASE))


def test_fingerprint_is_a_sha256_digest() -> None:
    assert len(fingerprint(body(BASE))) == 32


def _terms(**changes: Any) -> bytes:
    terms = {**example("program.registered")["terms"], **changes}
    return body(envelope("program.registered", example("program.registered", terms=terms)))


def test_a_bad_value_in_a_map_names_its_key() -> None:
    caps = {"reguarantor": 900, "national_fund": 10001, "compensation_pool": 100}
    [error] = errors_of(_terms(compensation_caps_bp=caps))
    assert error.path == "$.data.terms.compensation_caps_bp.national_fund"


def test_a_bad_value_in_a_map_is_named_by_its_key_at_its_index_in_a_batch() -> None:
    by_category = {"little_giant": 4000, "high_tech": 3500, "tech_sme": "3000"}
    raw = batch(
        envelope("loan.repaid"), json.loads(_terms(national_fund_bp_by_category=by_category))
    )
    [error] = errors_of(raw)
    assert error.path == "$[1].data.terms.national_fund_bp_by_category.tech_sme"
    assert error.message == "Expected `int`, got `str`"


def test_a_bad_key_in_a_map_is_named_in_the_message() -> None:
    parties = {"national_fund": "CN-NFGF", "the bank": "CQ-TECH-BANK"}
    [error] = errors_of(_terms(parties=parties))
    assert error.path == "$.data.terms.parties"
    assert "'the bank'" in error.message
