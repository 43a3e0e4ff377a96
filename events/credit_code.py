"""Unified social credit codes (GB 32100-2015), the identifier of every SME."""

from __future__ import annotations

CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The code alphabet; a character's value is its index (no I, O, S, V, Z)."""

LENGTH = 18
"""Number of characters in a code, check character included."""

_VALUES = {c: i for i, c in enumerate(CHARS)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(LENGTH - 1))


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    if len(first17) != LENGTH - 1:
        raise ValueError(f"expected {LENGTH - 1} characters, got {len(first17)}")
    try:
        total = sum(_VALUES[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the code alphabet") from None
    return CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Say what is wrong with a credit code, or None when it is valid."""
    if len(code) != LENGTH:
        return f"must be {LENGTH} characters, got {len(code)}"
    bad = [c for c in code if c not in _VALUES]
    if bad:
        return f"character {bad[0]!r} is not in the code alphabet {CHARS}"
    if not code[2:8].isdigit():
        return "characters 3-8 (the administrative division code) must be digits"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"invalid check character {code[17]!r}, expected {expected!r}"
    return None


def is_valid_credit_code(code: str) -> bool:
    """Tell whether a string is a well-formed credit code with a correct check character."""
    return credit_code_problem(code) is None
