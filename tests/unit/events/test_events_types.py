"""Shared value types: role order, categories, RoleAmounts."""

from __future__ import annotations

from typing import get_args

import msgspec
import pytest

from events.types import (
    CATEGORIES,
    INSTITUTION_KINDS,
    ROLES,
    Category,
    InstitutionKind,
    Role,
    RoleAmounts,
)


def test_roles_are_in_loss_sharing_order() -> None:
    assert ROLES == ("bank", "guarantor", "reguarantor", "national_fund", "compensation_pool")
    assert get_args(Role) == ROLES


def test_category_and_kind_tuples_match_their_literals() -> None:
    assert get_args(Category) == CATEGORIES
    assert get_args(InstitutionKind) == INSTITUTION_KINDS


def test_role_amounts_default_to_zero_and_total() -> None:
    amounts = RoleAmounts(bank=2000, national_fund=4000)
    assert amounts.get("bank") == 2000
    assert amounts.get("guarantor") == 0
    assert amounts.total() == 6000


def test_role_amounts_from_mapping_round_trips_as_dict() -> None:
    values: dict[Role, int] = {"guarantor": 5, "compensation_pool": 7}
    amounts = RoleAmounts.from_mapping(values)
    assert amounts.as_dict() == {
        "bank": 0,
        "guarantor": 5,
        "reguarantor": 0,
        "national_fund": 0,
        "compensation_pool": 7,
    }
    assert list(amounts.as_dict()) == list(ROLES)


def test_role_amounts_from_mapping_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        RoleAmounts.from_mapping({"auditor": 1})  # type: ignore[dict-item]


def test_role_amounts_replace_changes_one_role() -> None:
    assert RoleAmounts(bank=1).replace("guarantor", 2) == RoleAmounts(bank=1, guarantor=2)


def test_role_amounts_are_immutable() -> None:
    with pytest.raises(AttributeError):
        RoleAmounts().bank = 1  # type: ignore[misc]


def test_role_amounts_encode_with_every_role() -> None:
    assert msgspec.json.encode(RoleAmounts(bank=1)) == (
        b'{"bank":1,"guarantor":0,"reguarantor":0,"national_fund":0,"compensation_pool":0}'
    )
