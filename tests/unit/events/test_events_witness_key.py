"""witness.registered: its key must be an Ed25519 cosignature verifier key, checked per field."""

from __future__ import annotations

import base64

import pytest
from events_examples import WITNESS_KEY, body, envelope, example

from events.envelope import InvalidEvents, decode_posted
from events.witness_key import witness_key_problem
from ledger.tlog.keys import COSIGNATURE_V1, ED25519, generate_signer, parse_verifier


def _refused(key: str) -> tuple[str, str]:
    with pytest.raises(InvalidEvents) as info:
        decode_posted(body(envelope("witness.registered", example("witness.registered", key=key))))
    [error] = info.value.errors
    return error.path, error.message


def test_a_generated_cosignature_key_is_accepted_and_parses_as_tlog_does() -> None:
    key = generate_signer("auditor-witness", COSIGNATURE_V1).verifier().encode()
    assert witness_key_problem(key) is None
    assert parse_verifier(key).encode() == key


def test_the_example_key_is_a_cosignature_key() -> None:
    assert parse_verifier(WITNESS_KEY).alg == COSIGNATURE_V1


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("not a key", "is not a verifier key"),
        ("a b+6f89b152+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "space or a plus"),
        ("fund-witness+6F89B152+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "8 lowercase hex"),
        ("fund-witness\n+6f89b152+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "space or a plus"),
        ("fund-witness+6f89b152\n+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "8 lowercase hex"),
        ("fund-witness+6f89b152+not*base64", "not base64"),
        ("fund-witness+6f89b153+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "does not match"),
        ("fund-witness+6f89b152+" + base64.b64encode(b"\x04" + bytes(31)).decode(), "0x04"),
    ],
)
def test_a_malformed_key_is_refused_at_data_key(key: str, says: str) -> None:
    path, message = _refused(key)
    assert path == "$.data.key"
    assert says in message


def test_a_log_signing_key_type_is_refused() -> None:
    """A plain Ed25519 note key (0x01) cannot make cosignature/v1 signatures."""
    key = generate_signer("fund-witness", ED25519).verifier().encode()
    path, message = _refused(key)
    assert (path, "type 0x04" in message) == ("$.data.key", True)
