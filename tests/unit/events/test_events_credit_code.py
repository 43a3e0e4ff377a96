"""Unified social credit codes (GB 32100-2015)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.credit_code import CHARS, check_character, credit_code_problem, is_valid_credit_code

DIGITS = "0123456789"


@st.composite
def first17(draw: st.DrawFn) -> str:
    head = draw(st.text(alphabet=CHARS, min_size=2, max_size=2))
    region = draw(st.text(alphabet=DIGITS, min_size=6, max_size=6))
    rest = draw(st.text(alphabet=CHARS, min_size=9, max_size=9))
    return head + region + rest


@pytest.mark.parametrize("code", ["91500000MA5U7K3Q8Y", "91440300708461136T"])
def test_spec_examples_are_valid(code: str) -> None:
    assert is_valid_credit_code(code)


def test_check_character_of_spec_example() -> None:
    assert check_character("91500000MA5U7K3Q8") == "Y"


def test_wrong_check_character_is_invalid() -> None:
    assert not is_valid_credit_code("91500000MA5U7K3Q8X")
    assert "check character" in (credit_code_problem("91500000MA5U7K3Q8X") or "")


def test_lowercase_is_invalid() -> None:
    assert not is_valid_credit_code("91500000ma5u7k3q8y")


@pytest.mark.parametrize("code", ["", "91500000MA5U7K3Q8", "91500000MA5U7K3Q8YY"])
def test_wrong_length_is_invalid(code: str) -> None:
    assert not is_valid_credit_code(code)


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_outside_the_alphabet_are_invalid(letter: str) -> None:
    assert not is_valid_credit_code("91500000MA5U7K3Q8Y".replace("M", letter))


def test_letters_in_the_division_code_are_invalid() -> None:
    first = "9150000AMA5U7K3Q8"
    assert not is_valid_credit_code(first + check_character(first))


def test_check_character_refuses_wrong_input() -> None:
    with pytest.raises(ValueError, match="17"):
        check_character("915")
    with pytest.raises(ValueError, match="alphabet"):
        check_character("91500000MA5U7K3Qz")


@given(first17())
def test_codes_built_with_check_character_are_valid(prefix: str) -> None:
    assert is_valid_credit_code(prefix + check_character(prefix))


@given(first17(), st.integers(0, 17), st.sampled_from(CHARS))
def test_any_single_character_change_is_invalid(prefix: str, pos: int, new: str) -> None:
    code = prefix + check_character(prefix)
    changed = code[:pos] + new + code[pos + 1 :]
    assert is_valid_credit_code(changed) == (changed == code)
