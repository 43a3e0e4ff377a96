"""The SQL functions in the database equal their files, and starting makes them so."""

from __future__ import annotations

import asyncpg
import pytest

from ledger.store.function_files import (
    FunctionFileError,
    apply_functions,
    as_defined_by,
    in_database,
    shipped_functions,
)
from ledger.store.migrate import migrate

# How ledger_prepare was defined by migration 0009, before 0012 changed its arguments.
_PREPARE_0009 = """
CREATE FUNCTION ledger_prepare(append_lock bigint, lock_keys text[], lock_exclusive boolean[],
    event_ids uuid[], stream_ids text[], institution_ids text[], program_ids text[],
    sme_ids text[], guarantee_ids text[], claim_ids text[], balance_smes text[],
    balance_programs text[], volume_programs text[])
RETURNS TABLE (r_kind text, r_key text, r_key2 text, r_n1 bigint, r_n2 bigint,
               r_n3 bigint, r_doc bytea, r_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$ BEGIN END; $$
"""
_SHARD_AS_BIGINT = """
DROP FUNCTION ledger_volume_shard(text);
CREATE FUNCTION ledger_volume_shard(sme_id text) RETURNS bigint
LANGUAGE sql IMMUTABLE RETURN hashtextextended(sme_id, 0) & 255;
"""


async def _differences(conn: asyncpg.Connection) -> list[str]:
    """What differs between the schema's functions and the files, one line each."""
    held = await in_database(conn)
    files = {f.name: f for f in shipped_functions()}
    found = [f"no file for {name}" for name in sorted(set(held) - set(files))]
    found += [f"not in the database: {name}" for name in sorted(set(files) - set(held))]
    for name in sorted(set(held) & set(files)):
        wanted = (await as_defined_by(conn, files[name])).text
        found += [f"{d.signature} differs from its file" for d in held[name] if d.text != wanted]
        if len(held[name]) > 1:
            found.append(f"{name} is defined {len(held[name])} times")
    return found


async def test_every_function_in_the_database_equals_its_file(
    owner_conn: asyncpg.Connection,
) -> None:
    assert await _differences(owner_conn) == []
    assert set(await in_database(owner_conn)) == {
        "ledger_append",
        "ledger_occurred_at",
        "ledger_prepare",
        "ledger_prepare_limits",
        "ledger_refuse_rewrite",
        "ledger_seal",
        "ledger_tile_grows",
        "ledger_tile_leaves_gone",
        "ledger_tile_root",
        "ledger_tiles_append",
        "ledger_tree_append",
        "ledger_tree_catch_up",
        "ledger_tree_grows",
        "ledger_stream_occurred_at",
        "ledger_volume_shard",
    }


async def test_a_start_with_the_functions_current_changes_none(
    owner_conn: asyncpg.Connection,
) -> None:
    assert await apply_functions(owner_conn) == []


async def test_a_function_whose_body_differs_is_replaced_on_start(
    owner_conn: asyncpg.Connection,
) -> None:
    await owner_conn.execute(
        """CREATE OR REPLACE FUNCTION ledger_volume_shard(sme_id text) RETURNS integer
           LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN 0"""
    )
    assert await _differences(owner_conn) != []
    assert await migrate(owner_conn) == []  # no migration, yet the function is put back
    assert await _differences(owner_conn) == []


async def test_a_function_whose_result_changed_is_dropped_and_created(
    owner_conn: asyncpg.Connection,
) -> None:
    await owner_conn.execute(_SHARD_AS_BIGINT)
    assert await apply_functions(owner_conn) == ["ledger_volume_shard"]
    assert await _differences(owner_conn) == []


async def test_an_earlier_signature_of_a_function_is_dropped_not_left_beside_it(
    owner_conn: asyncpg.Connection,
) -> None:
    await owner_conn.execute(_PREPARE_0009)  # an overload: other argument types
    assert "ledger_prepare is defined 2 times" in await _differences(owner_conn)
    await apply_functions(owner_conn)
    assert await _differences(owner_conn) == []


async def test_a_function_something_depends_on_is_not_dropped_silently(
    owner_conn: asyncpg.Connection,
) -> None:
    await owner_conn.execute(_SHARD_AS_BIGINT)
    await owner_conn.execute("CREATE VIEW shard_of_x AS SELECT ledger_volume_shard('x') AS s")
    with pytest.raises(FunctionFileError, match="depends on it"):
        await apply_functions(owner_conn)
    assert await owner_conn.fetchval("SELECT s FROM shard_of_x") is not None


async def test_a_function_file_comes_after_the_functions_it_calls() -> None:
    order = [f.name for f in shipped_functions()]
    assert order.index("ledger_volume_shard") < order.index("ledger_append")
