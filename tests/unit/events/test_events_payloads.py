"""Event data: every type decodes from a valid example; bad values are refused with paths."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
import pytest
from events_examples import SME, TYPES, body, envelope, example

from events.envelope import InvalidEvents, decode_posted
from events.errors import FieldError
from events.payloads import EVENT_TYPES, PAYLOADS, GuaranteeIssued, Payload, SmeRegistered
from events.types import SME_ID_PATTERN

STREAMS = {
    "institution.registered": "institution-CN-NFGF",
    "program.registered": "program-national-sme-tech-2024",
    "program.amended": "program-national-sme-tech-2024",
    "sme.registered": f"sme-{SME}",
    "sme.eligibility_recorded": f"sme-{SME}",
    "institution.net_assets_recorded": "institution-CQ-SCI-GUAR",
    "institution.limits_set": "institution-CQ-SCI-GUAR",
    "limit.reinstated": "institution-CQ-SCI-GUAR",
    "witness.registered": "witness-W-FUND",
    "statement.filed": "institution-CQ-SCI-GUAR",
}


def decode_one(type_: str, data: dict[str, Any]) -> Payload:
    return decode_posted(body(envelope(type_, data))).events[0].payload


def refusal(type_: str, data: dict[str, Any]) -> list[FieldError]:
    with pytest.raises(InvalidEvents) as info:
        decode_posted(body(envelope(type_, data)))
    return info.value.errors


def refused_at(type_: str, data: dict[str, Any]) -> str:
    errors = refusal(type_, data)
    assert len(errors) == 1, errors
    return errors[0].path


def test_every_spec_type_has_a_payload_and_an_example() -> None:
    assert set(PAYLOADS) == set(TYPES)
    assert len(EVENT_TYPES) == 21


@pytest.mark.parametrize("type_", TYPES)
def test_each_type_decodes_from_a_valid_example(type_: str) -> None:
    payload = decode_one(type_, example(type_))
    assert type(payload) is PAYLOADS[type_]
    assert type_ == payload.TYPE
    assert payload.stream_id == STREAMS.get(type_, "guarantee-G-1")


def test_dates_decode_as_dates() -> None:
    payload = decode_one("guarantee.issued", example("guarantee.issued"))
    assert isinstance(payload, GuaranteeIssued)
    assert payload.start_date == datetime.date(2025, 3, 1)


def test_reguarantor_is_optional() -> None:
    payload = decode_one("guarantee.issued", example("guarantee.issued", reguarantor_id=None))
    assert isinstance(payload, GuaranteeIssued)
    assert payload.reguarantor_id is None


def test_renewal_balance_is_optional() -> None:
    assert decode_one("guarantee.renewed", example("guarantee.renewed", balance=None))


def test_unknown_field_is_refused_at_its_path() -> None:
    errors = refusal("loan.repaid", example("loan.repaid", note="early"))
    assert errors == [FieldError(path="$.data.note", message="unknown field")]


def test_missing_field_is_refused_at_its_path() -> None:
    errors = refusal("guarantee.issued", example("guarantee.issued", loan_amount=None))
    assert errors == [FieldError(path="$.data.loan_amount", message="required field is missing")]


@pytest.mark.parametrize(
    "value",
    ["1000", 1000.0, True, [1000], {"fen": 1000}],
    ids=["string", "float", "bool", "list", "object"],
)
def test_money_of_the_wrong_json_type_is_refused(value: Any) -> None:
    errors = refusal("loan.repaid", example("loan.repaid", amount=value))
    assert [e.path for e in errors] == ["$.data.amount"]
    assert errors[0].message.startswith("Expected `int`")


def test_money_in_exponent_notation_is_refused() -> None:
    raw = body(envelope("loan.repaid")).replace(b"100000000", b"1e8")
    with pytest.raises(InvalidEvents) as info:
        decode_posted(raw)
    assert [e.path for e in info.value.errors] == ["$.data.amount"]


def test_null_for_a_required_field_is_refused() -> None:
    data = example("loan.repaid")
    data["amount"] = None
    assert refused_at("loan.repaid", data) == "$.data.amount"


@pytest.mark.parametrize("amount", [0, -1, 10**15 + 1, 10**400])
def test_amounts_outside_1_to_10_15_are_refused(amount: int) -> None:
    assert refused_at("claim.filed", example("claim.filed", amount=amount)) == "$.data.amount"


def test_amount_of_10_15_is_accepted() -> None:
    assert decode_one("claim.filed", example("claim.filed", amount=10**15))


@pytest.mark.parametrize("rate", [-1, 10001])
def test_basis_points_outside_0_to_10000_are_refused(rate: int) -> None:
    data = example("guarantee.issued", fee_rate_bp=rate)
    assert refused_at("guarantee.issued", data) == "$.data.fee_rate_bp"


@pytest.mark.parametrize("date", ["2025-02-30", "2025/03/01", "20250301", "2025-03-01T00:00:00"])
def test_bad_dates_are_refused(date: str) -> None:
    data = example("loan.defaulted", default_date=date)
    assert refused_at("loan.defaulted", data) == "$.data.default_date"


@pytest.mark.parametrize("ident", ["", "-G1", "G 1", "G/1", "G" * 65, "担保-1"])
def test_ids_outside_the_pattern_are_refused(ident: str) -> None:
    data = example("guarantee.released", guarantee_id=ident)
    assert refused_at("guarantee.released", data) == "$.data.guarantee_id"


def test_id_of_64_characters_is_accepted() -> None:
    assert decode_one("guarantee.released", example("guarantee.released", guarantee_id="G" * 64))


@pytest.mark.parametrize(
    "type_", ["sme.registered", "sme.eligibility_recorded", "guarantee.issued"]
)
def test_wrong_check_character_is_refused_at_sme_id(type_: str) -> None:
    errors = refusal(type_, example(type_, sme_id="91500000MA5U7K3Q8X"))
    assert [e.path for e in errors] == ["$.data.sme_id"]
    assert "check character" in errors[0].message


@pytest.mark.parametrize(
    "code",
    ["91500000ma5u7k3q8y", "91500000MA5U7K3Q8", "9150000AMA5U7K3Q8Y", "91500000MA5U7K3O8Y", ""],
)
@pytest.mark.parametrize(
    "type_", ["sme.registered", "sme.eligibility_recorded", "guarantee.issued"]
)
def test_malformed_credit_codes_are_refused_at_sme_id(type_: str, code: str) -> None:
    assert refused_at(type_, example(type_, sme_id=code)) == "$.data.sme_id"


def test_the_schema_publishes_the_credit_code_pattern() -> None:
    schema = msgspec.json.schema(SmeRegistered)
    props = schema["$defs"]["SmeRegistered"]["properties"]
    assert props["sme_id"]["pattern"] == SME_ID_PATTERN


@pytest.mark.parametrize("maturity", ["2025-03-01", "2025-02-28"])
def test_maturity_not_after_start_is_refused(maturity: str) -> None:
    data = example("guarantee.issued", maturity_date=maturity)
    assert refused_at("guarantee.issued", data) == "$.data.maturity_date"


def test_eligibility_ending_before_it_starts_is_refused() -> None:
    data = example("sme.eligibility_recorded", valid_until="2024-06-30")
    assert refused_at("sme.eligibility_recorded", data) == "$.data.valid_until"


def test_eligibility_of_one_day_is_accepted() -> None:
    data = example("sme.eligibility_recorded", valid_until="2024-07-01")
    assert decode_one("sme.eligibility_recorded", data)


def test_unknown_institution_kind_is_refused() -> None:
    data = example("institution.registered", kind="auditor")
    assert refused_at("institution.registered", data) == "$.data.kind"


def test_unknown_category_is_refused() -> None:
    data = example("sme.eligibility_recorded", category="unicorn")
    assert refused_at("sme.eligibility_recorded", data) == "$.data.category"


@pytest.mark.parametrize(
    "name",
    ["", "   ", "a\u0000b", "line\nbreak", "x" * 201, "next\u0085line", "a\u2028b", "c1\u009bx"],
)
def test_blank_multiline_or_long_names_are_refused(name: str) -> None:
    assert refused_at("sme.registered", example("sme.registered", name=name)) == "$.data.name"


def test_names_may_use_any_script() -> None:
    assert decode_one("sme.registered", example("sme.registered", name="重庆光电科技有限公司"))


@pytest.mark.parametrize("reason", ["", " \n ", "x" * 1001, "bad\u0000byte", "c1\u009bx"])
def test_blank_long_or_nul_reasons_are_refused(reason: str) -> None:
    data = example("claim.rejected", reason=reason)
    assert refused_at("claim.rejected", data) == "$.data.reason"


def test_reasons_may_span_lines() -> None:
    assert decode_one("claim.rejected", example("claim.rejected", reason="First.\nSecond."))


def test_terms_with_unknown_share_role_are_refused() -> None:
    data = example("program.amended")
    data["terms"]["shares_bp"]["guarantor"] = 2000
    assert refused_at("program.amended", data) == "$.data.terms.shares_bp.guarantor"


def test_terms_with_unknown_party_role_are_refused_at_the_object() -> None:
    data = example("program.amended")
    data["terms"]["parties"]["bank"] = "CQ-TECH-BANK"
    errors = refusal("program.amended", data)
    assert [e.path for e in errors] == ["$.data.terms.parties"]
    assert "object key" in errors[0].message


def test_terms_semantic_errors_are_reported_with_data_paths() -> None:
    data = example("program.registered")
    data["terms"]["shares_bp"]["bank"] = 5000
    data["terms"]["parties"] = {}
    assert sorted(e.path for e in refusal("program.registered", data)) == [
        "$.data.terms.national_fund_bp_by_category.high_tech",
        "$.data.terms.national_fund_bp_by_category.innovation_points",
        "$.data.terms.national_fund_bp_by_category.little_giant",
        "$.data.terms.national_fund_bp_by_category.national_project",
        "$.data.terms.national_fund_bp_by_category.specialised_sme",
        "$.data.terms.parties.national_fund",
        "$.data.terms.shares_bp",
    ]


def test_max_term_months_is_bounded() -> None:
    data = example("program.amended")
    data["terms"]["max_term_months"] = 0
    assert refused_at("program.amended", data) == "$.data.terms.max_term_months"
