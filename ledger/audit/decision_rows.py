"""The decision state as stored, row by row, against the state a fold of the log decided.

Each table is read with a cursor and each row compared as it comes, against what the
append transaction would have written from the folded View (ledger.store.decisions
and ledger.store.limit_rows): the documents decoded (so rows written before a field
existed compare by its default) and every column the service reads. A row the fold
has and the table lacks, or the other way round, is a difference too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from events.breaker import Breaker
from ledger.rules.state import (
    GuaranteeState,
    GuarantorLimits,
    InstitutionState,
    ProgramState,
    SmeState,
    View,
    breaker_key_text,
)


class _Mark:
    """A row's presence or absence, shown as a word."""

    def __init__(self, word: str) -> None:
        self._word = word

    def __repr__(self) -> str:
        return self._word


ABSENT = _Mark("absent")
PRESENT = _Mark("present")


@dataclass(frozen=True)
class Difference:
    """One value where the stored decision state and the fold's disagree."""

    table: str
    key: str
    column: str
    stored: Any
    decided: Any

    def describe(self) -> str:
        """One line for people: where, and both values."""
        return (
            f"{self.table} {self.key} {self.column}: stored {_show(self.stored)}, "
            f"decided {_show(self.decided)}"
        )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


Columns = dict[str, Any]


@dataclass(frozen=True)
class _Table:
    """A decision-state table: how to read it, and what the fold says each row holds."""

    name: str
    query: str
    key: Callable[[asyncpg.Record], str]
    stored: Callable[[asyncpg.Record], Columns]
    keys: Callable[[_Folded], Collection[str]]
    decided: Callable[[_Folded, str], Columns]


@dataclass(frozen=True)
class _Folded:
    view: View
    versions: dict[str, int]
    occurred: dict[str, dt.datetime]
    volumes: dict[str, int]


def _doc(decoder: msgspec.json.Decoder[Any]) -> Callable[[Any], Any]:
    def decoded(raw: Any) -> Any:
        try:
            return decoder.decode(bytes(raw))
        except msgspec.MsgspecError as exc:
            return f"unreadable ({exc})"

    return decoded


_institution = _doc(msgspec.json.Decoder(InstitutionState))
_program = _doc(msgspec.json.Decoder(ProgramState))
_sme = _doc(msgspec.json.Decoder(SmeState))
_guarantee = _doc(msgspec.json.Decoder(GuaranteeState))
_limits = _doc(msgspec.json.Decoder(GuarantorLimits))
_breaker = _doc(msgspec.json.Decoder(Breaker))


def _limit_role(program: ProgramState) -> str | None:
    limit = program.terms.compensation_rate_limit
    return None if limit is None else limit.role


def _guarantee_row(f: _Folded, key: str) -> Columns:
    g = f.view.guarantees[key]
    return {
        "program_id": g.program_id,
        "sme_id": g.sme_id,
        "loan_amount": g.loan_amount,
        "balance": g.in_force_balance,
        "volume_roles": list(g.share_roles()),
        "guarantor_id": g.guarantor_id if g.guarantor_id in f.view.guarantor_limits else None,
        "doc": g,
    }


def _breaker_key(text: str) -> tuple[str, str, int]:
    program_id, institution_id, year = text.split(" ")
    return program_id, institution_id, int(year)


_TABLES = (
    _Table(
        "streams",
        "SELECT stream_id, version, occurred_at FROM streams",
        lambda r: r["stream_id"],
        lambda r: {"version": r["version"], "occurred_at": r["occurred_at"]},
        lambda f: f.versions,
        lambda f, k: {"version": f.versions[k], "occurred_at": f.occurred[k]},
    ),
    _Table(
        "w_institutions",
        "SELECT institution_id, kind, limited, doc FROM w_institutions",
        lambda r: r["institution_id"],
        lambda r: {"kind": r["kind"], "limited": r["limited"], "doc": _institution(r["doc"])},
        lambda f: f.view.institutions,
        lambda f, k: {
            "kind": f.view.institutions[k].kind,
            "limited": k in f.view.guarantor_limits,
            "doc": f.view.institutions[k],
        },
    ),
    _Table(
        "w_programs",
        "SELECT program_id, rate_limit_role, doc FROM w_programs",
        lambda r: r["program_id"],
        lambda r: {"rate_limit_role": r["rate_limit_role"], "doc": _program(r["doc"])},
        lambda f: f.view.programs,
        lambda f, k: {
            "rate_limit_role": _limit_role(f.view.programs[k]),
            "doc": f.view.programs[k],
        },
    ),
    _Table(
        "w_smes",
        "SELECT sme_id, doc FROM w_smes",
        lambda r: r["sme_id"],
        lambda r: {"doc": _sme(r["doc"])},
        lambda f: f.view.smes,
        lambda f, k: {"doc": f.view.smes[k]},
    ),
    _Table(
        "w_guarantees",
        """SELECT guarantee_id, program_id, sme_id, loan_amount, balance, volume_roles,
                  guarantor_id, doc FROM w_guarantees""",
        lambda r: r["guarantee_id"],
        lambda r: {
            "program_id": r["program_id"],
            "sme_id": r["sme_id"],
            "loan_amount": r["loan_amount"],
            "balance": r["balance"],
            "volume_roles": list(r["volume_roles"]),
            "guarantor_id": r["guarantor_id"],
            "doc": _guarantee(r["doc"]),
        },
        lambda f: f.view.guarantees,
        _guarantee_row,
    ),
    _Table(
        "w_claims",
        "SELECT claim_id, guarantee_id FROM w_claims",
        lambda r: r["claim_id"],
        lambda r: {"guarantee_id": r["guarantee_id"]},
        lambda f: f.view.claim_owner,
        lambda f, k: {"guarantee_id": f.view.claim_owner[k]},
    ),
    _Table(
        "w_program_volume",
        """SELECT program_id, role, sum(volume)::text AS volume FROM w_program_volume
            GROUP BY program_id, role""",
        lambda r: f"{r['program_id']} {r['role']}",
        lambda r: {"volume": int(r["volume"])},
        lambda f: f.volumes,
        lambda f, k: {"volume": f.volumes[k]},
    ),
    _Table(
        "w_guarantor_limits",
        "SELECT institution_id, doc FROM w_guarantor_limits",
        lambda r: r["institution_id"],
        lambda r: {"doc": _limits(r["doc"])},
        lambda f: f.view.guarantor_limits,
        lambda f, k: {"doc": f.view.guarantor_limits[k]},
    ),
    _Table(
        "w_breakers",
        "SELECT program_id, institution_id, year, doc FROM w_breakers",
        lambda r: breaker_key_text((r["program_id"], r["institution_id"], r["year"])),
        lambda r: {"doc": _breaker(r["doc"])},
        lambda f: {breaker_key_text(k) for k in f.view.breakers},
        lambda f, k: {"doc": f.view.breakers[_breaker_key(k)]},
    ),
)

STATE_TABLES = tuple(table.name for table in _TABLES)
"""Every table of the decision state that deciding the log again compares."""


def _volumes(view: View) -> dict[str, int]:
    """Each program's volume by capped role: the loans of the guarantees with a share in it
    (ledger_append adds an issued guarantee's loan for each such role)."""
    volumes: dict[str, int] = {}
    for g in view.guarantees.values():
        for role in g.share_roles():
            key = f"{g.program_id} {role}"
            volumes[key] = volumes.get(key, 0) + g.loan_amount
    return volumes


def _columns(table: str, key: str, stored: Columns, decided: Columns) -> Iterator[Difference]:
    for column, value in decided.items():
        for path, kept, told in _differing(column, stored[column], value):
            yield Difference(table, key, path, kept, told)


def _differing(path: str, kept: Any, told: Any) -> Iterator[tuple[str, Any, Any]]:
    """The innermost values that differ, by path (`doc.claims[C-1].recovered.bank`), so a
    document names what changed rather than the whole of both sides."""
    if kept == told:
        return
    if isinstance(told, msgspec.Struct) and type(kept) is type(told):
        for name in told.__struct_fields__:
            yield from _differing(f"{path}.{name}", getattr(kept, name), getattr(told, name))
    elif isinstance(told, dict) and isinstance(kept, dict):
        for item in sorted(kept.keys() | told.keys(), key=str):
            yield from _differing(f"{path}[{item}]", kept.get(item, ABSENT), told.get(item, ABSENT))
    elif isinstance(told, list) and isinstance(kept, list) and len(kept) == len(told):
        for index, (k, t) in enumerate(zip(kept, told, strict=True)):
            yield from _differing(f"{path}[{index}]", k, t)
    else:
        yield path, kept, told


async def compare_rows(
    conn: asyncpg.Connection,
    view: View,
    versions: dict[str, int],
    occurred: dict[str, dt.datetime],
) -> list[Difference]:
    """Every difference between the stored decision state and the folded `view` (with the
    streams' `versions` and business times `occurred`). Inside a transaction (a cursor)."""
    folded = _Folded(view, versions, occurred, _volumes(view))
    found: list[Difference] = []
    for table in _TABLES:
        wanted = table.keys(folded)
        seen: set[str] = set()
        async for row in conn.cursor(table.query, prefetch=2000):
            key = table.key(row)
            seen.add(key)
            if key not in wanted:
                found.append(Difference(table.name, key, "row", PRESENT, ABSENT))
                continue
            found.extend(_columns(table.name, key, table.stored(row), table.decided(folded, key)))
        found.extend(
            Difference(table.name, key, "row", ABSENT, PRESENT) for key in wanted if key not in seen
        )
    return found
