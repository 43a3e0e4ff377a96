"""A posted event's patterned texts are matched whole: a final line break is refused."""

from __future__ import annotations

import copy
import datetime

import pytest
from events_examples import NATIONAL_TERMS, body, envelope, example

from events.envelope import InvalidEvents, decode_posted, store_posted
from events.stored import Actor, encode_stored, read_log_entry
from events.types import IDENT_PATTERN
from events.whole_patterns import whole_pattern_errors


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


def test_every_such_text_of_an_event_is_named() -> None:
    paths = _refused("institution.registered", institution_id="I-1\n", name="Fund\n")
    assert paths == ["$.data.institution_id", "$.data.name"]


def test_the_refusal_says_the_pattern_is_matched_whole() -> None:
    with pytest.raises(InvalidEvents) as info:
        decode_posted(body(envelope("loan.repaid", example("loan.repaid", guarantee_id="G-1\n"))))
    [error] = info.value.errors
    assert IDENT_PATTERN in error.message
    assert "no line break at its end" in error.message


def test_a_reason_may_still_end_its_lines_with_a_break() -> None:
    reason = "The borrower repaid in full.\nClaim withdrawn.\n"
    [posted] = decode_posted(
        body(envelope("claim.rejected", example("claim.rejected", reason=reason)))
    ).events
    assert posted.payload.reason == reason  # type: ignore[union-attr]


def test_texts_without_a_final_line_break_are_untouched() -> None:
    [posted] = decode_posted(body(envelope("program.registered"))).events
    assert whole_pattern_errors(posted.payload, "$.data") == []


def test_a_stored_event_holding_such_an_id_stays_readable() -> None:
    # Posted before this check: history is read as it was accepted.
    [posted] = decode_posted(body(envelope("loan.repaid"))).events
    stored = store_posted(
        posted,
        derived=None,
        stream_version=1,
        recorded_at=datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC),
        actor=Actor(role="bank", institution_id="CQ-TECH-BANK"),
    )
    raw = encode_stored(stored).replace(b'"G-1"', b'"G-1\\n"')
    entry = read_log_entry(raw, 1, "00" * 32)
    assert entry.data.guarantee_id == "G-1\n"  # type: ignore[union-attr]
