"""Patterned texts are matched as the API publishes their patterns: a final line break
is refused, on posting and on import alike, and stored history stays readable."""

from __future__ import annotations

import copy
import datetime
import re

import msgspec
import pytest
from events_examples import NATIONAL_TERMS, body, envelope, example

from events.envelope import InvalidEvents, decode_posted, store_posted
from events.errors import as_published
from events.stored import Actor, decode_stored, encode_stored, read_log_entry
from events.types import IDENT, IDENT_PATTERN, exact, published_pattern
from ledger.http.openapi_schemas import components


def _refused(type_: str, **changes: object) -> list[str]:
    with pytest.raises(InvalidEvents) as info:
        decode_posted(body(envelope(type_, example(type_, **changes))))
    return [e.path for e in info.value.errors]


@pytest.mark.parametrize(
    ("type_", "field", "value"),
    [
        ("institution.registered", "institution_id", "CN-NFGF\n"),
        ("guarantee.issued", "guarantor_id", "CQ-SCI-GUAR\n"),
        ("claim.filed", "claim_id", "C-1\n"),
        ("institution.registered", "name", "National Financing Guarantee Fund\n"),
        ("sme.eligibility_recorded", "reference", "MIIT-2024-0173\n"),
    ],
)
def test_an_id_name_or_reference_ending_in_a_line_break_is_refused(
    type_: str, field: str, value: str
) -> None:
    assert _refused(type_, **{field: value}) == [f"$.data.{field}"]


def test_an_id_inside_program_terms_ending_in_a_line_break_is_refused() -> None:
    terms = copy.deepcopy(NATIONAL_TERMS)
    terms["parties"] = {"national_fund": "CN-NFGF\n"}
    assert _refused("program.registered", terms=terms) == ["$.data.terms.parties.national_fund"]


def test_the_refusal_names_the_pattern_as_published() -> None:
    with pytest.raises(InvalidEvents) as info:
        decode_posted(body(envelope("loan.repaid", example("loan.repaid", guarantee_id="G-1\n"))))
    [error] = info.value.errors
    assert error.message == f"Expected `str` matching regex {IDENT_PATTERN!r}"


def test_a_reason_may_still_end_its_lines_with_a_break() -> None:
    reason = "The borrower repaid in full.\nClaim withdrawn.\n"
    [posted] = decode_posted(
        body(envelope("claim.rejected", example("claim.rejected", reason=reason)))
    ).events
    assert posted.payload.reason == reason  # type: ignore[union-attr]


def _stored_with(old: bytes, new: bytes) -> bytes:
    [posted] = decode_posted(body(envelope("loan.repaid"))).events
    stored = store_posted(
        posted,
        derived=None,
        stream_version=1,
        recorded_at=datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC),
        actor=Actor(role="bank", institution_id="CQ-TECH-BANK"),
    )
    raw = encode_stored(stored)
    assert old in raw
    return raw.replace(old, new)


def test_a_stored_event_holding_such_an_id_stays_readable() -> None:
    # Posted before the patterns were exact: history is read as it was accepted.
    raw = _stored_with(b'"G-1"', b'"G-1\\n"')
    entry = read_log_entry(raw, 1, "00" * 32)
    assert entry.data.guarantee_id == "G-1\n"  # type: ignore[union-attr]


def test_an_imported_event_holding_such_an_id_is_refused() -> None:
    # Events from outside (an export being imported) are checked as posts are.
    raw = _stored_with(b'"G-1"', b'"G-1\\n"')
    with pytest.raises(msgspec.ValidationError, match=re.escape("at `$.guarantee_id`")):
        decode_stored(raw)


def test_an_exact_pattern_ends_at_the_end_of_the_text() -> None:
    assert exact(IDENT_PATTERN) == IDENT_PATTERN[:-1] + "\\Z"
    assert IDENT.search("G-1") is not None
    assert IDENT.search("G-1\n") is None


def test_a_pattern_not_ending_in_an_anchor_is_refused() -> None:
    with pytest.raises(ValueError, match="does not end with an anchor"):
        exact("^[a-z]+")


def test_published_pattern_undoes_exact_and_leaves_others() -> None:
    assert published_pattern(exact(IDENT_PATTERN)) == IDENT_PATTERN
    assert published_pattern("^[0-9]+$") == "^[0-9]+$"


def _patterns(schema: object) -> list[str]:
    if isinstance(schema, dict):
        own = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
        return own + [p for value in schema.values() for p in _patterns(value)]
    if isinstance(schema, list):
        return [p for item in schema for p in _patterns(item)]
    return []


def test_the_api_document_publishes_the_identifier_pattern_the_api_states() -> None:
    schemas = components()
    institution_id = schemas["InstitutionRegistered"]["properties"]["institution_id"]
    assert institution_id["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
    assert not [p for p in _patterns(schemas) if p.endswith("\\Z")]


def test_a_message_names_the_published_pattern_wherever_it_stands() -> None:
    message = f"Expected `str` matching regex {exact(IDENT_PATTERN)!r} - at `$.claim_id`"
    assert as_published(message) == (
        f"Expected `str` matching regex {IDENT_PATTERN!r} - at `$.claim_id`"
    )
