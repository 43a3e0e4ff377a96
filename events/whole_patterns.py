"""Patterned text of a posted event, matched as a whole.

msgspec matches a field's `pattern` with Python's `re.search`, where `$` also matches
just before a final newline: "G-1\\n" passed `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`, and
would have been stored as an id of its own, beside "G-1", and a name as a line with a
line break at its end. A posted event's patterned texts are therefore matched whole
as well (`re.fullmatch`), which refuses exactly those values and nothing else: `^`
already anchors the start, so only a final newline can pass the one and not the other.

Only posting checks this. Events already stored are read as they were accepted, so a
history holding such an id (posted before this check) stays readable by replay,
verify and the read models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec.inspect as mi

from events.errors import FieldError, member_path

Check = Callable[[Any, str, list[FieldError]], None]
"""Adds a FieldError for each text under the value (at the path given) that fails."""

_SEQUENCES = (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)


def whole_pattern_errors(value: Any, path: str) -> list[FieldError]:
    """Each patterned text of `value` (a decoded struct) that its pattern does not match
    whole, with its JSON path under `path`."""
    check = _check_of(type(value))
    errors: list[FieldError] = []
    if check is not None:
        check(value, path, errors)
    return errors


_CHECKS: dict[type, Check | None] = {}
"""The check of each struct type posted so far (None: it has no patterned text)."""


def _check_of(cls: type) -> Check | None:
    if cls not in _CHECKS:
        _CHECKS[cls] = _compile(mi.type_info(cls), frozenset())
    return _CHECKS[cls]


def _compile(t: mi.Type, seen: frozenset[type]) -> Check | None:
    """The check of a value of type `t`, or None when nothing under it has a pattern."""
    if isinstance(t, mi.Metadata):
        return _compile(t.type, seen)
    if isinstance(t, mi.StrType):
        return None if t.pattern is None else _text(t.pattern)
    if isinstance(t, mi.StructType):
        return None if t.cls in seen else _struct(t, seen | {t.cls})
    if isinstance(t, _SEQUENCES):
        return _items(_compile(t.item_type, seen))
    if isinstance(t, mi.DictType):
        return _mapping(_compile(t.key_type, seen), _compile(t.value_type, seen))
    if isinstance(t, mi.UnionType):
        return _any_of([c for c in (_compile(m, seen) for m in t.types) if c is not None])
    return None


def _text(pattern: str) -> Check:
    whole = re.compile(pattern)
    message = f"Expected `str` matching regex {pattern!r} (as a whole: no line break at its end)"

    def check(value: Any, path: str, errors: list[FieldError]) -> None:
        # Only a value ending in a newline can pass re.search and fail here.
        if isinstance(value, str) and value.endswith("\n") and not whole.fullmatch(value):
            errors.append(FieldError(path=path, message=message))

    return check


def _struct(t: mi.StructType, seen: frozenset[type]) -> Check | None:
    fields = [(f.name, f.encode_name, c) for f in t.fields if (c := _compile(f.type, seen))]
    if not fields:
        return None

    def check(value: Any, path: str, errors: list[FieldError]) -> None:
        if isinstance(value, t.cls):
            for name, encoded, field_check in fields:
                field_check(getattr(value, name), member_path(path, encoded), errors)

    return check


def _items(item: Check | None) -> Check | None:
    if item is None:
        return None

    def check(value: Any, path: str, errors: list[FieldError]) -> None:
        if isinstance(value, list | tuple | set | frozenset):
            for n, one in enumerate(value):
                item(one, f"{path}[{n}]", errors)

    return check


def _mapping(key: Check | None, value_check: Check | None) -> Check | None:
    if key is None and value_check is None:
        return None

    def check(value: Any, path: str, errors: list[FieldError]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if key is not None:
                    key(k, path, errors)
                if value_check is not None:
                    value_check(v, member_path(path, str(k)), errors)

    return check


def _any_of(checks: list[Check]) -> Check | None:
    if len(checks) <= 1:
        return checks[0] if checks else None

    def check(value: Any, path: str, errors: list[FieldError]) -> None:
        # Each member's check looks only at values of its own kind.
        for one in checks:
            one(value, path, errors)

    return check
