"""The SQL functions' one definition each: `functions/<name>.sql`, applied after the migrations.

A numbered migration runs once, so a function it creates and later migrations
replace could only be read, as it is now, by reading every migration that
touched it. Each function now lives in one file that reads as the function is;
the migrator makes the database's functions equal the files on every start.
Released migrations still create the earlier versions on the way (they are
never edited), and the files then replace them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from importlib import resources

import asyncpg
import structlog

log = structlog.get_logger("ledger.store.functions")

_HEADER = re.compile(r"^CREATE OR REPLACE FUNCTION ([a-z_][a-z0-9_]*)\(", re.MULTILINE)
_COMMENT = re.compile(r"--[^\n]*")
# pg_get_functiondef names the function with its schema; the files do not.
_QUALIFIED = re.compile(r"^(CREATE OR REPLACE (?:FUNCTION|PROCEDURE) )[^(]+\.", re.MULTILINE)

# Every function of the schema the ledger's tables are in (not those of extensions).
_IN_SCHEMA = """
SELECT p.proname AS name,
       p.oid::regprocedure::text AS signature,
       pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result,
       pg_get_functiondef(p.oid) AS definition
  FROM pg_proc p
 WHERE p.pronamespace = current_schema()::regnamespace
   AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND d.deptype = 'e')
"""


class FunctionFileError(RuntimeError):
    """A function file is malformed, or the database cannot be made to equal it."""


@dataclass(frozen=True)
class FunctionFile:
    """One `functions/<name>.sql`: a single CREATE OR REPLACE FUNCTION <name>."""

    name: str
    sql: str

    def calls(self, names: set[str]) -> set[str]:
        """Which of `names` (other functions) this one's code mentions, comments aside."""
        code = _COMMENT.sub("", self.sql)
        return {n for n in names - {self.name} if re.search(rf"\b{n}\b", code)}


@dataclass(frozen=True)
class Definition:
    """A function as PostgreSQL holds it, its schema left out of the text."""

    signature: str
    arguments: str
    result: str
    text: str


def normalise(definition: str) -> str:
    """pg_get_functiondef's text without the schema before the function's name."""
    return _QUALIFIED.sub(r"\1", definition, count=1)


def shipped_functions() -> list[FunctionFile]:
    """The function files shipped with this release, each after the functions it calls."""
    found: dict[str, FunctionFile] = {}
    for entry in resources.files("ledger.store").joinpath("functions").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        sql = entry.read_text(encoding="utf-8")
        headers = _HEADER.findall(sql)
        stem = entry.name.removesuffix(".sql")
        if headers != [stem]:
            raise FunctionFileError(
                f"functions/{entry.name} must hold exactly one "
                f"'CREATE OR REPLACE FUNCTION {stem}(', found {headers}"
            )
        found[stem] = FunctionFile(stem, sql)
    graph = {name: f.calls(set(found)) for name, f in sorted(found.items())}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = exc.args[1]
        raise FunctionFileError(f"function files call each other in a cycle: {cycle}") from exc
    return [found[name] for name in order]


async def as_defined_by(conn: asyncpg.Connection, function: FunctionFile) -> Definition:
    """What PostgreSQL makes of the file, created as a session-temporary function and
    rolled back: how the database would hold it, without touching the schema's."""
    probe = _HEADER.sub(rf"CREATE OR REPLACE FUNCTION pg_temp.{function.name}(", function.sql)
    trial = conn.transaction()
    await trial.start()
    try:
        await conn.execute(probe)
        row = await conn.fetchrow(
            """SELECT p.oid::regprocedure::text AS signature,
                      pg_get_function_arguments(p.oid) AS arguments,
                      pg_get_function_result(p.oid) AS result,
                      pg_get_functiondef(p.oid) AS definition
                 FROM pg_proc p
                WHERE p.proname = $1 AND p.pronamespace = pg_my_temp_schema()""",
            function.name,
        )
    finally:
        await trial.rollback()
    assert row is not None
    return _definition(row)


async def in_database(conn: asyncpg.Connection) -> dict[str, list[Definition]]:
    """The functions of the ledger's schema, by name (more than one where overloaded)."""
    found: dict[str, list[Definition]] = {}
    for row in await conn.fetch(_IN_SCHEMA + " ORDER BY 1, 2"):
        found.setdefault(row["name"], []).append(_definition(row))
    return found


def _definition(row: asyncpg.Record) -> Definition:
    # regprocedure qualifies the name when its schema is not on the search path (pg_temp).
    signature = re.sub(r"^[^(]*\.", "", str(row["signature"]))
    return Definition(signature, row["arguments"], row["result"], normalise(row["definition"]))


async def apply_functions(conn: asyncpg.Connection) -> list[str]:
    """Make every shipped function in the database equal its file, in one transaction; return
    the names created or replaced. The caller holds the migration lock."""
    changed: list[str] = []
    async with conn.transaction():
        present = await in_database(conn)
        for function in shipped_functions():
            wanted = await as_defined_by(conn, function)
            same = [d for d in present.get(function.name, []) if d.text == wanted.text]
            for held in present.get(function.name, []):
                # CREATE OR REPLACE keeps a function's identity (its grants, and the plans
                # of sessions using it) but cannot change its arguments' names or its result,
                # and a function whose argument types changed would stay beside the new one
                # as an overload: such a function is dropped first.
                if held.text == wanted.text or _replaceable(held, wanted):
                    continue
                await _drop(conn, held)
            if same:
                continue
            await conn.execute(function.sql)
            changed.append(function.name)
    if changed:
        log.info("functions created or replaced", names=changed)
    return changed


def _replaceable(held: Definition, wanted: Definition) -> bool:
    return (held.signature, held.arguments, held.result) == (
        wanted.signature,
        wanted.arguments,
        wanted.result,
    )


async def _drop(conn: asyncpg.Connection, held: Definition) -> None:
    try:
        await conn.execute(f"DROP FUNCTION {held.signature}")
    except asyncpg.DependentObjectsStillExistError as exc:
        raise FunctionFileError(
            f"{held.signature} changed its arguments or result, and {exc.detail or 'an object'} "
            "depends on it: change it in a numbered migration that also re-creates what "
            "depends on it"
        ) from exc
