"""Risk-limit vocabulary: net assets, limits, reinstatement and the rate limit in terms."""

from __future__ import annotations

from typing import Any

import pytest
from events_examples import body, envelope, example

from events.envelope import InvalidEvents, decode_posted
from events.errors import FieldError
from events.payloads import InstitutionLimitsSet, ProgramRegistered
from events.terms import CompensationRateLimit


def _errors(type_: str, data: dict[str, Any]) -> list[FieldError]:
    with pytest.raises(InvalidEvents) as info:
        decode_posted(body(envelope(type_, data)))
    return info.value.errors


def _terms(**limit: Any) -> dict[str, Any]:
    terms: dict[str, Any] = example("program.registered")["terms"]
    terms["compensation_rate_limit"] = limit
    return example("program.registered", terms=terms)


@pytest.mark.parametrize("net_assets", [0, -1, 10**15 + 1])
def test_net_assets_must_be_positive_and_sane(net_assets: int) -> None:
    data = example("institution.net_assets_recorded", net_assets=net_assets)
    assert [e.path for e in _errors("institution.net_assets_recorded", data)] == [
        "$.data.net_assets"
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_leverage_x100", -1000),
        ("max_leverage_x100", 0),
        ("max_leverage_x100", 99),
        ("max_leverage_x100", 10001),
        ("max_single_sme_bp", 0),
        ("max_single_sme_bp", -5),
        ("max_single_sme_bp", 10001),
    ],
)
def test_limits_out_of_sane_bounds_are_refused_naming_the_field(field: str, value: int) -> None:
    data = example("institution.limits_set", **{field: value})
    assert [e.path for e in _errors("institution.limits_set", data)] == [f"$.data.{field}"]


def test_limits_at_their_bounds_decode() -> None:
    data = example("institution.limits_set", max_leverage_x100=10000, max_single_sme_bp=10000)
    payload = decode_posted(body(envelope("institution.limits_set", data))).events[0].payload
    assert isinstance(payload, InstitutionLimitsSet)
    assert payload.max_leverage_x100 == 10000


def test_limits_refuse_unknown_fields() -> None:
    data = example("institution.limits_set", max_total=5)
    assert [e.path for e in _errors("institution.limits_set", data)] == ["$.data.max_total"]


@pytest.mark.parametrize("year", [1999, 2201])
def test_reinstatement_year_must_be_sane(year: int) -> None:
    data = example("limit.reinstated", year=year)
    assert [e.path for e in _errors("limit.reinstated", data)] == ["$.data.year"]


def test_a_rate_limit_with_warning_above_suspend_is_refused() -> None:
    data = _terms(role="guarantor", warning_bp=600, suspend_bp=500, min_discharged=0)
    assert [e.path for e in _errors("program.registered", data)] == [
        "$.data.terms.compensation_rate_limit.warning_bp"
    ]


@pytest.mark.parametrize(
    ("limit", "path"),
    [
        ({"role": "reguarantor", "warning_bp": 400, "suspend_bp": 500}, "role"),
        ({"role": "guarantor", "warning_bp": 0, "suspend_bp": 500}, "warning_bp"),
        ({"role": "guarantor", "warning_bp": 400, "suspend_bp": 10001}, "suspend_bp"),
        (
            {"role": "guarantor", "warning_bp": 400, "suspend_bp": 500, "min_discharged": -1},
            "min_discharged",
        ),
        ({"role": "guarantor", "warning_bp": 400, "suspend_bp": 500, "extra": 1}, "extra"),
    ],
)
def test_a_rate_limit_with_a_bad_field_is_refused_naming_it(
    limit: dict[str, Any], path: str
) -> None:
    errors = _errors("program.registered", _terms(**limit))
    assert [e.path for e in errors] == [f"$.data.terms.compensation_rate_limit.{path}"]


@pytest.mark.parametrize("warning_bp", [400, 500])
def test_a_sound_rate_limit_decodes(warning_bp: int) -> None:
    """Warning below or at the suspension threshold."""
    data = _terms(role="bank", warning_bp=warning_bp, suspend_bp=500, min_discharged=100000000)
    payload = decode_posted(body(envelope("program.registered", data))).events[0].payload
    assert isinstance(payload, ProgramRegistered)
    assert payload.terms.compensation_rate_limit == CompensationRateLimit(
        role="bank", warning_bp=warning_bp, suspend_bp=500, min_discharged=100000000
    )
