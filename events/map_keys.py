"""The key behind a `[...]` in a decoding error's path, so the poster is told which entry
of a map (`parties`, `compensation_caps_bp`, ...) to fix.

msgspec names a map's entry `[...]`, whichever key it was: with three caps given, a
422 at `$.data.terms.compensation_caps_bp[...]` does not say which is wrong. Only on
the refusal's path, the data is decoded again with that map cut to one entry at a
time; the first entry that alone gives the same error is the one named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec

from events.errors import FieldError, member_path, shorten

_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]|\[("(?:[^"\\]|\\.)*")\]')
_ANY_KEY = "[...]"


def name_map_keys(
    error: FieldError,
    data: bytes,
    prefix: str,
    errors_of: Callable[[bytes], FieldError | None],
) -> FieldError:
    """`error` with each `[...]` after `prefix` replaced by the key it stands for, where
    one entry alone reproduces it; `errors_of` decodes data as the poster's was."""
    while _ANY_KEY in error.path and error.path.startswith(prefix):
        named = _one_key(error, data, prefix, errors_of)
        if named is None:
            return error
        error, data = named
    return error


def _one_key(
    error: FieldError,
    data: bytes,
    prefix: str,
    errors_of: Callable[[bytes], FieldError | None],
) -> tuple[FieldError, bytes] | None:
    before, _, after = error.path[len(prefix) :].partition(_ANY_KEY)
    steps = list(_STEP.finditer(before))
    if "".join(step.group(0) for step in steps) != before:
        return None  # a path this reading does not follow: left as it was
    try:
        root: list[Any] = [msgspec.json.decode(data)]
        parent: Any = root
        key: Any = 0
        for step in steps:
            name, index, quoted = step.groups()
            parent = parent[key]
            key = name or (int(index) if index else msgspec.json.decode(quoted or '""'))
        mapping = parent[key]
    except (msgspec.DecodeError, LookupError, TypeError):
        return None
    if not isinstance(mapping, dict):
        return None
    for entry, value in mapping.items():
        parent[key] = {entry: value}
        trial = msgspec.json.encode(root[0])
        if errors_of(trial) == error:
            path = member_path(prefix + before, shorten(entry, 80)) + after
            return FieldError(path=path, message=error.message), trial
    return None
