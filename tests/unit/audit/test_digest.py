"""Digests as auditors keep them, and the verify report as HTTP answers it."""

from __future__ import annotations

import pytest

from ledger.audit.verify import VerifyReport, format_digest, parse_digest


def test_a_printed_digest_parses_back_to_its_position_and_hash() -> None:
    hash_ = bytes(range(32))
    assert parse_digest(format_digest(42, hash_)) == (42, hash_)


def test_a_digest_without_a_colon_is_refused() -> None:
    with pytest.raises(ValueError, match="POSITION:HASH"):
        parse_digest("42" + "ab" * 32)


def test_a_digest_with_a_short_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="POSITION:HASH"):
        parse_digest("42:abcd")


def test_a_digest_at_position_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="POSITION:HASH"):
        parse_digest("0:" + "00" * 32)


def test_the_json_report_has_the_fields_the_spec_fixes() -> None:
    report = VerifyReport(ok=True, verified_through=42, head_hash="ab" * 32)
    body = report.to_json()
    assert {k: body[k] for k in ("ok", "verified_through", "head_hash", "first_bad_position")} == {
        "ok": True,
        "verified_through": 42,
        "head_hash": "ab" * 32,
        "first_bad_position": None,
    }
