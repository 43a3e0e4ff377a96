"""A column of texts packed into one text parameter comes back from PostgreSQL exactly as
it went, whatever its texts hold (ledger/store/packed_texts.py)."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.store.packed_texts import pack, unpacked

COLUMNS = [
    [],
    [""],
    ["", ""],
    ["G-1"],
    ["sme-91110000000000001H", "guarantee-G-2", "guarantee-G-3"],
    ['{"a": "x,y", "b": [1, 2]}', "\\", '"', "{}", "NULL", "null"],
    ["信用担保", "重庆两江", "é"],
    ["a\x1fb", "c"],  # holds the first separator tried
    ["\x1f\x1e\x1d\x1c", "x"],  # holds every separator tried first
    ["\x1f", "\x1e", "\x1d", "\x1c", "\x01"],
]


@pytest.mark.parametrize("column", COLUMNS, ids=repr)
async def test_a_packed_column_comes_back_as_it_went(
    owner_conn: asyncpg.Connection, column: list[str]
) -> None:
    back = await owner_conn.fetchval(f"SELECT {unpacked('$1')}", pack(column))
    assert back == column


def test_a_column_holding_every_separator_tried_packs_with_another() -> None:
    packed = pack(["\x1f\x1e\x1d\x1c"])
    assert packed[0] not in "\x1f\x1e\x1d\x1c"
    assert packed.count(packed[0]) == 1


def test_a_column_of_none_is_refused_not_packed() -> None:
    with pytest.raises(TypeError):
        pack(["G-1", None])  # type: ignore[list-item]
