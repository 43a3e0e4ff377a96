"""Unified social credit codes (GB 32100-2015), the identifier of every SME."""

from __future__ import annotations

CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The code alphabet; a character's value is its index (no I, O, S, V, Z)."""

LENGTH = 18
"""Number of characters in a code, check character included."""

_ALPHABET = frozenset(CHARS)
_DIGITS = bytes.maketrans(CHARS.encode(), b"0123456789ABCDEFGHIJKLMNOPQRSTU")
# The check sum is sum(value_i * 3**i) mod 31. Since 34 = 3 (mod 31), it equals the code
# read as a base-34 number (first character least significant) mod 31, once each character
# is spelled as the base-34 digit of its value: int() does the whole sum in C. Every event
# that names an SME checks its code when read back, so replay leans on this being fast.


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    if len(first17) != LENGTH - 1:
        raise ValueError(f"expected {LENGTH - 1} characters, got {len(first17)}")
    if not _ALPHABET.issuperset(first17):
        bad = next(c for c in first17 if c not in _ALPHABET)
        raise ValueError(f"character {bad!r} is not in the code alphabet")
    return _check(first17)


def _check(first17: str) -> str:
    # The first 17 characters are known to be of the alphabet.
    total = int(first17.encode().translate(_DIGITS)[::-1], 34)
    return CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Say what is wrong with a credit code, or None when it is valid."""
    if len(code) != LENGTH:
        return f"must be {LENGTH} characters, got {len(code)}"
    if not _ALPHABET.issuperset(code):
        bad = next(c for c in code if c not in _ALPHABET)
        return f"character {bad!r} is not in the code alphabet {CHARS}"
    if not code[2:8].isdigit():
        return "characters 3-8 (the administrative division code) must be digits"
    expected = _check(code[:17])
    if code[17] != expected:
        return f"invalid check character {code[17]!r}, expected {expected!r}"
    return None


def is_valid_credit_code(code: str) -> bool:
    """Tell whether a string is a well-formed credit code with a correct check character."""
    return credit_code_problem(code) is None
