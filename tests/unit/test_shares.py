"""Loss shares on compensation.paid and recovery.recorded (docs/rules.md)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.rules.shares import (
    CAPPED_ROLES,
    ROLES,
    Role,
    compensation_cap,
    largest_remainder,
    split_loss,
    split_recovery,
)

# The worked example of docs/rules.md (all amounts in fen): little-giant SME, loan 1 000 000 000.
LOAN = 1_000_000_000
LOSS = 600_000_000
SHARES: dict[Role, int] = {
    "bank": 2000,
    "guarantor": 2000,
    "reguarantor": 2000,
    "national_fund": 4000,
    "compensation_pool": 0,
}
UNCAPPED: dict[Role, int | None] = {}

PROPERTY = settings(max_examples=200, deadline=None)


def zeros() -> dict[Role, int]:
    return dict.fromkeys(ROLES, 0)


# --- the worked example -------------------------------------------------------


def test_worked_example_step_one_splits_loss_by_shares() -> None:
    assert split_loss(LOSS, SHARES, UNCAPPED) == {
        "bank": 120_000_000,
        "guarantor": 120_000_000,
        "reguarantor": 120_000_000,
        "national_fund": 240_000_000,
        "compensation_pool": 0,
    }


def test_worked_example_fund_cap_is_five_percent_of_volume() -> None:
    assert compensation_cap(500, LOAN) == 50_000_000


def test_worked_example_fund_overflow_moves_to_guarantor() -> None:
    headroom: dict[Role, int | None] = {"national_fund": compensation_cap(500, LOAN)}
    assert split_loss(LOSS, SHARES, headroom) == {
        "bank": 120_000_000,
        "guarantor": 310_000_000,
        "reguarantor": 120_000_000,
        "national_fund": 50_000_000,
        "compensation_pool": 0,
    }


def test_worked_example_recovery_splits_by_outstanding_with_leftover_fen() -> None:
    borne = split_loss(LOSS, SHARES, {"national_fund": 50_000_000})
    assert split_recovery(100_000_000, borne, zeros()) == {
        "bank": 20_000_000,
        "guarantor": 51_666_667,
        "reguarantor": 20_000_000,
        "national_fund": 8_333_333,
        "compensation_pool": 0,
    }


# --- largest remainder ----------------------------------------------------------


def test_compensation_cap_rounds_down() -> None:
    assert compensation_cap(500, 333) == 16  # 16.65 fen


def test_leftover_fen_go_to_largest_remainders_not_role_order() -> None:
    # 7 * 3333 / 10000 = 2.3331 and 7 * 3334 / 10000 = 2.3338: one fen left over.
    weights: dict[Role, int] = {"bank": 3333, "guarantor": 3333, "reguarantor": 3334}
    assert largest_remainder(7, weights, 10_000) == {
        "bank": 2,
        "guarantor": 2,
        "reguarantor": 3,
        "national_fund": 0,
        "compensation_pool": 0,
    }


def test_equal_remainders_are_broken_in_role_order() -> None:
    weights: dict[Role, int] = dict.fromkeys(ROLES[:4], 2500)
    assert largest_remainder(2, weights, 10_000) == {
        "bank": 1,
        "guarantor": 1,
        "reguarantor": 0,
        "national_fund": 0,
        "compensation_pool": 0,
    }


def test_zero_weight_role_never_receives_a_leftover_fen() -> None:
    # bank comes first in role order, but has no share.
    weights: dict[Role, int] = {"bank": 0, "national_fund": 5000, "compensation_pool": 5000}
    assert largest_remainder(1, weights, 10_000)["bank"] == 0


def test_weights_not_summing_to_denominator_are_refused() -> None:
    with pytest.raises(ValueError, match="sum"):
        largest_remainder(100, {"bank": 5000}, 10_000)


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        largest_remainder(100, {"bank": 5000, "lender": 5000}, 10_000)  # type: ignore[dict-item]


# --- step 2: caps ----------------------------------------------------------------


def test_pool_overflow_goes_to_bank_when_guarantee_has_no_guarantor_share() -> None:
    shares: dict[Role, int] = {"bank": 5000, "compensation_pool": 5000}
    assert split_loss(1_000_000, shares, {"compensation_pool": 300_000}) == {
        "bank": 700_000,
        "guarantor": 0,
        "reguarantor": 0,
        "national_fund": 0,
        "compensation_pool": 300_000,
    }


def test_step_two_moves_every_capped_roles_excess_to_the_bank_without_a_guarantor() -> None:
    """Fund, then reguarantor, then pool: each is held to its headroom and its excess lands
    on the bank, never on the next capped role. (No input can make that order change a
    result, since overflow only reaches the uncapped bank or guarantor.)"""
    shares: dict[Role, int] = {
        "bank": 1000,
        "reguarantor": 3000,
        "national_fund": 4000,
        "compensation_pool": 2000,
    }
    headroom: dict[Role, int | None] = {
        "compensation_pool": 0,
        "reguarantor": 700,
        "national_fund": 500,
    }
    assert split_loss(10_000, shares, headroom) == {
        "bank": 1000 + 3500 + 2300 + 2000,
        "guarantor": 0,
        "reguarantor": 700,
        "national_fund": 500,
        "compensation_pool": 0,
    }


def test_step_two_holds_every_capped_role_to_its_own_headroom() -> None:
    """Overflow lands on the uncapped guarantor, so one role's excess never reaches another."""
    shares: dict[Role, int] = {
        "bank": 2000,
        "guarantor": 1000,
        "reguarantor": 2000,
        "national_fund": 3000,
        "compensation_pool": 2000,
    }
    headroom: dict[Role, int | None] = {
        "national_fund": 100,
        "reguarantor": 200,
        "compensation_pool": 300,
    }
    assert split_loss(10_000, shares, headroom) == {
        "bank": 2000,
        "guarantor": 1000 + 2900 + 1800 + 1700,
        "reguarantor": 200,
        "national_fund": 100,
        "compensation_pool": 300,
    }


def test_negative_headroom_counts_as_none_left() -> None:
    parts = split_loss(LOSS, SHARES, {"national_fund": -5})
    assert parts["national_fund"] == 0
    assert parts["guarantor"] == 360_000_000


def test_cap_on_the_guarantor_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be capped"):
        split_loss(LOSS, SHARES, {"guarantor": 10})


# --- recoveries ------------------------------------------------------------------


def test_recovery_larger_than_outstanding_is_refused() -> None:
    borne: dict[Role, int] = {"bank": 10, "guarantor": 10}
    with pytest.raises(ValueError, match="exceeds"):
        split_recovery(12, borne, {"bank": 5, "guarantor": 4})  # 11 outstanding


@pytest.mark.parametrize("amount", [0, -1])
def test_recovery_that_is_not_positive_is_refused(amount: int) -> None:
    with pytest.raises(ValueError, match="> 0"):
        split_recovery(amount, {"bank": 10}, zeros())


def test_recovery_skips_roles_that_have_recovered_all_they_bore() -> None:
    borne: dict[Role, int] = {"bank": 10, "guarantor": 10}
    assert split_recovery(3, borne, {"bank": 10})["bank"] == 0


# --- properties ------------------------------------------------------------------


@st.composite
def shares_bp(draw: st.DrawFn) -> dict[Role, int]:
    """Five shares in bp summing to 10000, with zeros (e.g. no guarantor) drawn often."""
    cut = st.sampled_from([0, 1, 2500, 5000, 9999, 10_000]) | st.integers(0, 10_000)
    cuts = sorted(draw(st.lists(cut, min_size=4, max_size=4)))
    bounds = [0, *cuts, 10_000]
    return {role: bounds[i + 1] - bounds[i] for i, role in enumerate(ROLES)}


losses = st.integers(0, 10**12)
headroom_values = st.none() | st.integers(-1000, 10**12) | st.integers(-3, 50)


@st.composite
def headrooms(draw: st.DrawFn) -> dict[Role, int | None]:
    return {role: draw(headroom_values) for role in CAPPED_ROLES}


@PROPERTY
@given(loss=losses, shares=shares_bp(), headroom=headrooms())
def test_loss_shares_always_sum_to_the_loss(
    loss: int, shares: dict[Role, int], headroom: dict[Role, int | None]
) -> None:
    assert sum(split_loss(loss, shares, headroom).values()) == loss


@PROPERTY
@given(loss=losses, shares=shares_bp(), headroom=headrooms())
def test_no_capped_role_bears_more_than_its_headroom(
    loss: int, shares: dict[Role, int], headroom: dict[Role, int | None]
) -> None:
    parts = split_loss(loss, shares, headroom)
    for role in CAPPED_ROLES:
        room = headroom[role]
        if room is not None:
            assert parts[role] <= max(room, 0)


@PROPERTY
@given(loss=losses, shares=shares_bp(), headroom=headrooms())
def test_every_loss_share_is_non_negative(
    loss: int, shares: dict[Role, int], headroom: dict[Role, int | None]
) -> None:
    assert all(part >= 0 for part in split_loss(loss, shares, headroom).values())


@PROPERTY
@given(loss=losses, shares=shares_bp(), headroom=headrooms())
def test_loss_split_is_deterministic_and_ignores_key_order(
    loss: int, shares: dict[Role, int], headroom: dict[Role, int | None]
) -> None:
    first = split_loss(loss, shares, headroom)
    reversed_shares = dict(reversed(shares.items()))
    reversed_headroom = dict(reversed(headroom.items()))
    assert split_loss(loss, reversed_shares, reversed_headroom) == first
    assert split_loss(loss, shares, headroom) == first


@st.composite
def claims(draw: st.DrawFn) -> dict[Role, int]:
    """What each role bore on a claim, as split_loss decides it."""
    loss = draw(st.integers(1, 10**12))
    return split_loss(loss, draw(shares_bp()), draw(headrooms()))


@PROPERTY
@given(borne=claims(), data=st.data())
def test_recovery_parts_sum_to_amount_and_stay_within_outstanding(
    borne: dict[Role, int], data: st.DataObject
) -> None:
    recovered = {role: data.draw(st.integers(0, borne[role])) for role in ROLES}
    outstanding = sum(borne.values()) - sum(recovered.values())
    assume(outstanding > 0)
    amount = data.draw(st.integers(1, outstanding))
    parts = split_recovery(amount, borne, recovered)
    assert sum(parts.values()) == amount
    for role in ROLES:
        assert 0 <= parts[role] <= borne[role] - recovered[role]


@PROPERTY
@given(borne=claims(), data=st.data())
def test_recoveries_in_sequence_never_return_more_than_was_borne(
    borne: dict[Role, int], data: st.DataObject
) -> None:
    loss = sum(borne.values())
    recovered = zeros()
    for _ in range(data.draw(st.integers(1, 8))):
        outstanding = loss - sum(recovered.values())
        if outstanding == 0:
            break
        amount = data.draw(st.integers(1, outstanding) | st.just(outstanding))
        for role, part in split_recovery(amount, borne, recovered).items():
            recovered[role] += part
        assert all(recovered[role] <= borne[role] for role in ROLES)
        assert sum(recovered.values()) <= loss


@PROPERTY
@given(borne=claims(), data=st.data())
def test_recovering_everything_outstanding_returns_each_role_its_outstanding(
    borne: dict[Role, int], data: st.DataObject
) -> None:
    recovered = {role: data.draw(st.integers(0, borne[role])) for role in ROLES}
    outstanding = {role: borne[role] - recovered[role] for role in ROLES}
    assume(sum(outstanding.values()) > 0)
    assert split_recovery(sum(outstanding.values()), borne, recovered) == outstanding


@PROPERTY
@given(borne=claims(), data=st.data())
def test_recovery_split_is_deterministic(borne: dict[Role, int], data: st.DataObject) -> None:
    amount = data.draw(st.integers(1, sum(borne.values())))
    first = split_recovery(amount, borne, zeros())
    assert split_recovery(amount, dict(reversed(borne.items())), zeros()) == first
    assert split_recovery(amount, borne, zeros()) == first
