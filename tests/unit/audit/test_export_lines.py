"""Export lines keep an event's stored bytes exactly."""

from __future__ import annotations

import json

from ledger.audit.export import decode_line, encode_line

BODY = b'{"event_id":"e1","data":{"name":"\\u6c5f \\"q\\""},"n":[1,2]}'


def test_a_line_gives_back_the_body_byte_for_byte() -> None:
    line = encode_line(7, bytes(32), bytes(range(32)), BODY)
    assert bytes(decode_line(line).event) == BODY


def test_a_line_is_one_line_of_plain_json() -> None:
    line = encode_line(7, bytes(32), bytes(range(32)), BODY)
    assert line.count(b"\n") == 1
    assert json.loads(line)["position"] == 7


def test_a_line_carries_the_hash_and_fingerprint_as_hex() -> None:
    parsed = decode_line(encode_line(7, b"\x01" * 32, b"\x02" * 32, BODY))
    assert (parsed.hash, parsed.fingerprint) == ("01" * 32, "02" * 32)
