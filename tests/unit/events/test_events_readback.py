"""Stored event data read back: the same values as posted, without the input checks."""

from __future__ import annotations

import msgspec
import pytest
from events_examples import TYPES
from test_events_stored import stored

from events.envelope import decode_stored, encode_stored, read_log_entry
from events.payloads import PAYLOADS, GuaranteeIssued, SmeRegistered
from events.readback import READ_BACK, plain, trusting
from events.types import Fen, Ident, SmeId

BAD_CHECK_CHARACTER = "915000000004998559"  # 915000000004998558 is the valid one


@pytest.mark.parametrize("type_", TYPES)
def test_read_back_data_equals_the_posted_data(type_: str) -> None:
    event = stored(type_)
    data = read_log_entry(encode_stored(event), 1, "00" * 32).data
    assert (data == event.data, event.data == data, data != event.data) == (True, True, False)


@pytest.mark.parametrize("type_", [t for t in TYPES if not t.startswith("program.")])
def test_read_back_data_hashes_as_the_posted_data(type_: str) -> None:
    event = stored(type_)
    assert hash(read_log_entry(encode_stored(event), 1, "00" * 32).data) == hash(event.data)


@pytest.mark.parametrize("type_", TYPES)
def test_read_back_data_is_an_instance_of_the_posted_class(type_: str) -> None:
    data = read_log_entry(encode_stored(stored(type_)), 1, "00" * 32).data
    assert isinstance(data, PAYLOADS[type_])


@pytest.mark.parametrize("type_", TYPES)
def test_read_back_data_encodes_to_the_stored_bytes(type_: str) -> None:
    raw = encode_stored(stored(type_))
    assert encode_stored(decode_stored(raw)) == raw
    entry = read_log_entry(raw, 1, "00" * 32)
    assert msgspec.json.encode(entry.data) == msgspec.json.encode(decode_stored(raw).data)


def test_read_back_data_differs_from_other_values() -> None:
    data = READ_BACK["sme.registered"].decode(b'{"sme_id":"915000000004998558","name":"A"}')
    other = SmeRegistered(sme_id="915000000004998558", name="B")
    assert (data == other, data != other, other != data) == (False, True, True)


def test_a_stored_event_failing_a_later_check_still_reads_back() -> None:
    event = stored("sme.registered")
    good = event.data.sme_id.encode()  # type: ignore[union-attr]
    raw = encode_stored(event).replace(good, BAD_CHECK_CHARACTER.encode())
    entry = read_log_entry(raw, 1, "00" * 32)
    assert entry.data.sme_id == BAD_CHECK_CHARACTER  # type: ignore[union-attr]
    with pytest.raises(msgspec.ValidationError, match="check character"):
        decode_stored(raw)


def test_read_back_still_checks_the_shape() -> None:
    decoder = READ_BACK["loan.repaid"]
    with pytest.raises(msgspec.ValidationError, match="Expected `int`"):
        decoder.decode(b'{"guarantee_id":"G-1","amount":"100"}')
    with pytest.raises(msgspec.ValidationError, match="Object missing required field"):
        decoder.decode(b'{"guarantee_id":"G-1"}')


def test_plain_drops_constraints_at_any_depth() -> None:
    assert plain(Fen) is int
    assert plain(Ident | None) == (str | None)
    assert plain(list[SmeId]) == list[str]


def test_the_read_back_class_keeps_fields_order_and_defaults() -> None:
    twin = trusting(GuaranteeIssued)
    assert twin.__struct_fields__ == GuaranteeIssued.__struct_fields__
    defaults = {f.name: f.default for f in msgspec.structs.fields(GuaranteeIssued)}
    assert {f.name: f.default for f in msgspec.structs.fields(twin)} == defaults
