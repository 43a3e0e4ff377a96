"""A key repeated in one object of a posted body is refused at its path, at any depth."""

from __future__ import annotations

import json

import pytest
from events_examples import envelope

from events.duplicate_keys import duplicate_key_errors
from events.envelope import InvalidEvents, decode_payload, decode_posted


def _compact(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _with_repeat(raw: bytes, member: bytes, again: bytes) -> bytes:
    """`raw` with `again` inserted just after `member` (a member followed by a comma)."""
    at = raw.index(member) + len(member)
    return raw[:at] + again + raw[at:]


def _paths(raw: bytes) -> list[str]:
    with pytest.raises(InvalidEvents) as info:
        decode_posted(raw)
    return [e.path for e in info.value.errors]


def test_a_repeated_envelope_key_is_refused_at_its_path() -> None:
    raw = _compact(envelope("loan.repaid"))
    twice = _with_repeat(raw, b'"type":"loan.repaid",', b'"type":"loan.repaid",')
    assert _paths(twice) == ["$.type"]


def test_a_repeated_data_key_is_refused_even_when_both_values_are_valid() -> None:
    raw = _compact(envelope("sme.registered"))
    data = json.loads(raw)["data"]
    first = next(iter(data))
    member = json.dumps({first: data[first]}, separators=(",", ":"))[1:-1].encode() + b","
    twice = _with_repeat(raw, member, member)
    assert _paths(twice) == [f"$.data.{first}"]


def test_a_repeated_key_deep_in_an_array_is_named_with_its_index() -> None:
    raw = b'[{"a":1},{"b":{"c":[{"d":1,"d":2}]}}]'
    assert [e.path for e in duplicate_key_errors(raw)] == ["$[1].b.c[0].d"]


def test_each_repeated_key_is_reported_once_per_object() -> None:
    raw = b'{"a":1,"a":2,"a":3,"b":{"a":1},"b":{"a":2}}'
    assert [e.path for e in duplicate_key_errors(raw)] == ["$.a", "$.b"]


def test_a_key_repeated_through_an_escape_is_still_a_repeat() -> None:
    assert [e.path for e in duplicate_key_errors(b'{"a":1,"\\u0061":2}')] == ["$.a"]


def test_an_escaped_colon_does_not_hide_a_repeat() -> None:
    raw = b'{"a":"x","a":"y","b":"\\u003a"}'
    assert [e.path for e in duplicate_key_errors(raw)] == ["$.a"]


def test_a_key_that_is_not_a_plain_name_is_quoted_in_the_path() -> None:
    raw = '{"a b":1,"a b":2,"名":1,"名":2}'.encode()
    assert [e.path for e in duplicate_key_errors(raw)] == ['$["a b"]', '$["名"]']


def test_colons_inside_strings_are_not_mistaken_for_members() -> None:
    raw = b'{"a":"1:2:3","b":{"c":"::"},"d":["e:f"]}'
    assert duplicate_key_errors(raw) == []


def test_the_message_names_the_key_and_says_what_to_do() -> None:
    [error] = duplicate_key_errors(b'{"loan_amount":1,"loan_amount":2}')
    assert "'loan_amount' appears more than once" in error.message
    assert "send it once" in error.message


def test_a_repeat_is_reported_beside_the_events_other_errors() -> None:
    raw = b'{"event_id":"not-a-uuid","type":"loan.repaid","type":"loan.repaid","data":{}}'
    paths = _paths(raw)
    assert paths[0] == "$.type"
    assert "$.event_id" in paths


def test_a_payload_read_from_a_file_refuses_a_repeated_key_too() -> None:
    data = envelope("sme.registered")["data"]
    raw = _compact(data)
    twice = raw[:-1] + b',"name":' + json.dumps(data["name"]).encode() + b"}"
    with pytest.raises(InvalidEvents) as info:
        decode_payload("sme.registered", twice)
    assert [e.path for e in info.value.errors] == ["$.data.name"]
