"""Reading and writing what the rules decide on, in the append transaction, in one call each.

`prepare` takes the post's locks and reads its decision state, stream
versions and business times, and posters' keys (ledger_prepare); `append`
stores the events and the state the rules changed (ledger_append). Both are
defined in ledger/store/functions/.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from events.stored import Actor
from events.types import ROLES
from ledger.auth.keys import Presented, StoredKey
from ledger.rules.footprint import Footprint, GuaranteeRef
from ledger.rules.state import (
    GuaranteeState,
    InstitutionState,
    ProgramState,
    SmeState,
    View,
)
from ledger.store import limit_rows
from ledger.store.packed_texts import call, pack
from ledger.store.watermark import APPEND_LOCK

_encode = msgspec.json.Encoder().encode
_institution = msgspec.json.Decoder(InstitutionState)
_program = msgspec.json.Decoder(ProgramState)
_sme = msgspec.json.Decoder(SmeState)
_guarantee = msgspec.json.Decoder(GuaranteeState)

# Columns of texts go packed (ledger/store/packed_texts.py), by parameter number.
_PREPARE = call("ledger_prepare", 15, {2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
_APPEND = call(
    "ledger_append",
    39,
    {3, 5, 9, 12, 13, 15, 17, 19, 20, 21, 24, 26, 27, 28, 29, 30, 34, 36, 37},
)


@dataclass(frozen=True)
class Earlier:
    """An event already stored under one of the posted event ids."""

    event_id: str
    stream_id: str
    stream_version: int
    seq: int
    position: int | None
    fingerprint: bytes
    recorded_at: dt.datetime


@dataclass
class Prepared:
    """What a post decides against: state, stream versions, events stored earlier, and the
    posters' keys (by key id, those not revoked)."""

    view: View
    versions: dict[str, int] = field(default_factory=dict)
    occurred: dict[str, dt.datetime] = field(default_factory=dict)
    """Each stream's latest occurred_at (its business time), where it has one."""
    earlier: dict[str, Earlier] = field(default_factory=dict)
    keys: dict[str, StoredKey] = field(default_factory=dict)
    limited: set[str] = field(default_factory=set)
    """Institutions with recorded limits among those read."""
    rate_limited: bool = False
    """Whether a program read has a compensation-rate limit."""


async def guarantee_refs(conn: asyncpg.Connection, ids: set[str]) -> dict[str, GuaranteeRef]:
    """Program and SME of existing guarantees (immutable, so safe to read before locking)."""
    if not ids:
        return {}
    rows = await conn.fetch(
        "SELECT guarantee_id, program_id, sme_id FROM w_guarantees WHERE guarantee_id = ANY($1)",
        list(ids),
    )
    return {r["guarantee_id"]: GuaranteeRef(r["program_id"], r["sme_id"]) for r in rows}


async def prepare(
    conn: asyncpg.Connection,
    fp: Footprint,
    event_ids: Sequence[uuid.UUID] = (),
    streams: Sequence[str] = (),
    *,
    presented: Collection[Presented] = (),
    lock: bool = True,
) -> Prepared:
    """Lock the footprint (unless `lock` is false), then read everything a post decides on,
    and the stored keys under the ids of the `presented` keys.

    The locks are taken in one global order before anything is read, so posts
    never deadlock and each reads state no concurrent post can change.
    """
    keys = sorted(fp.exclusive | fp.shared) if lock else []
    balances = sorted(fp.balances)
    rows = await conn.fetch(
        _PREPARE,
        APPEND_LOCK,
        pack(keys),
        [k in fp.exclusive for k in keys],
        list(event_ids),
        pack(streams),
        pack(fp.institutions),
        pack(fp.programs),
        pack(fp.smes),
        pack(fp.guarantees),
        pack(fp.claims),
        pack([sme for sme, _ in balances]),
        pack([program for _, program in balances]),
        pack(fp.volumes),
        pack(sorted({k.key_id for k in presented})),
        fp.barrier,
    )
    prepared = Prepared(View())
    view = prepared.view
    view.sme_balance.update(dict.fromkeys(fp.balances, 0))
    view.program_volume.update({(pid, role): 0 for pid in fp.volumes for role in ROLES})
    for r in rows:
        _READERS[r["r_kind"]](prepared, r)
    # Only a post that some risk limit applies to makes a third call; one that reads no
    # limited institution, no program with a rate limit, records no limit and discharges
    # no balance (counted by breakers, limit or not) does not even look further.
    discharges = bool(fp.discharges) or any(fp.breakers.values())
    if not (prepared.limited or prepared.rate_limited or fp.limit_institutions or discharges):
        return prepared
    wanted = limit_rows.wanted(view, fp, prepared.limited)
    if wanted is not None:
        await limit_rows.load(conn, prepared, wanted, lock=lock, barrier=fp.barrier)
    return prepared


def _earlier(prepared: Prepared, r: asyncpg.Record) -> None:
    prepared.earlier[r["r_key"]] = Earlier(
        r["r_key"], r["r_key2"], r["r_n1"], r["r_n2"], r["r_n3"], bytes(r["r_doc"]), r["r_at"]
    )


def _key(prepared: Prepared, r: asyncpg.Record) -> None:
    actor = Actor(role=r["r_key2"], institution_id=r["r_key3"])
    prepared.keys[r["r_key"]] = StoredKey(bytes(r["r_doc"]), actor)


def _version(prepared: Prepared, r: asyncpg.Record) -> None:
    prepared.versions[r["r_key"]] = r["r_n1"]
    if r["r_at"] is not None:
        prepared.occurred[r["r_key"]] = r["r_at"]


def _institution_row(prepared: Prepared, r: asyncpg.Record) -> None:
    prepared.view.institutions[r["r_key"]] = _institution.decode(r["r_doc"])
    if r["r_key2"] is not None:
        prepared.limited.add(r["r_key"])


def _program_row(prepared: Prepared, r: asyncpg.Record) -> None:
    program = prepared.view.programs[r["r_key"]] = _program.decode(r["r_doc"])
    if program.terms.compensation_rate_limit is not None:
        prepared.rate_limited = True


def _sme_row(prepared: Prepared, r: asyncpg.Record) -> None:
    prepared.view.smes[r["r_key"]] = _sme.decode(r["r_doc"])


def _guarantee_state(prepared: Prepared, r: asyncpg.Record) -> None:
    prepared.view.guarantees[r["r_key"]] = _guarantee.decode(r["r_doc"])
    if r["r_key2"] is not None:  # the guarantee of a guarantor with limits
        prepared.limited.add(r["r_key2"])


def _claim(prepared: Prepared, r: asyncpg.Record) -> None:
    prepared.view.claim_owner[r["r_key"]] = r["r_key2"]


def _balance(prepared: Prepared, r: asyncpg.Record) -> None:
    prepared.view.sme_balance[(r["r_key"], r["r_key2"])] = r["r_n1"]


def _volume(prepared: Prepared, r: asyncpg.Record) -> None:
    prepared.view.program_volume[(r["r_key"], r["r_key2"])] = int(r["r_key3"])


_READERS: dict[str, Callable[[Prepared, asyncpg.Record], None]] = {
    "key": _key,
    "earlier": _earlier,
    "version": _version,
    "institution": _institution_row,
    "program": _program_row,
    "sme": _sme_row,
    "guarantee": _guarantee_state,
    "claim": _claim,
    "balance": _balance,
    "volume": _volume,
}


@dataclass(frozen=True)
class NewEvent:
    """One event row to store."""

    event_id: uuid.UUID
    stream_id: str
    stream_version: int
    type: str
    fingerprint: bytes
    body: bytes


async def append(
    conn: asyncpg.Connection,
    events: Sequence[NewEvent],
    recorded_at: dt.datetime,
    versions: dict[str, int],
    view: View,
    *,
    occurred: Mapping[str, dt.datetime],
    issued: Sequence[str],
    notify: str | None,
) -> dict[str, int]:
    """Store `events`, the streams' new versions and the state rows `view` changed.

    `occurred` holds each stream's business time at its new version (the latest
    occurred_at among its events, as the rules decided it). `issued` names the
    guarantees these events issue, whose loans add to their program's volume
    totals. Returns each new event's seq by event id; `notify` names the channel
    told that events were appended (None: tell nobody).
    """
    by_kind = _by_kind(view)
    rows = await conn.fetch(
        _APPEND,
        notify,
        [e.event_id for e in events],
        pack([e.stream_id for e in events]),
        [e.stream_version for e in events],
        pack([e.type for e in events]),
        [e.fingerprint for e in events],
        [e.body for e in events],
        recorded_at,
        pack(versions),
        list(versions.values()),
        [occurred[stream] for stream in versions],
        *_state_columns(view, by_kind),
        *_volume_columns(view, issued),
        *limit_rows.columns(view, by_kind),
    )
    return {str(r["r_event_id"]): r["r_seq"] for r in rows}


async def save(conn: asyncpg.Connection, view: View, issued: Sequence[str]) -> None:
    """Write every state row the decisions changed (no events), and the volume of `issued`."""
    await append(
        conn, [], dt.datetime.now(dt.UTC), {}, view, occurred={}, issued=issued, notify=None
    )


def _volume_columns(view: View, issued: Sequence[str]) -> list[Any]:
    """What the issued guarantees add to their programs' volumes, from $28 on: one row
    per guarantee and role with a share (the roles a compensation cap counts it for)."""
    rows = [
        (g.program_id, role, g.sme_id, g.loan_amount)
        for g in (view.guarantees[gid] for gid in issued)
        for role in g.share_roles()
    ]
    if not rows:
        return ["", "", "", []]
    programs, roles, smes, amounts = zip(*rows, strict=True)
    return [pack(programs), pack(roles), pack(smes), list(amounts)]


def _by_kind(view: View) -> dict[str, list[str]]:
    """The keys of the changed state rows by kind, each kind's in sorted order."""
    by_kind: dict[str, list[str]] = {}
    for kind, key in sorted(view.dirty):
        by_kind.setdefault(kind, []).append(key)
    return by_kind


def _state_columns(view: View, by_kind: dict[str, list[str]]) -> list[Any]:
    """The changed state rows as the column arrays ledger_append takes, from $12 on."""
    institutions = [view.institutions[i] for i in by_kind.get("institution", [])]
    programs = by_kind.get("program", [])
    smes = by_kind.get("sme", [])
    guarantees = [view.guarantees[g] for g in by_kind.get("guarantee", [])]
    claims = by_kind.get("claim", [])
    return [
        pack([i.institution_id for i in institutions]),
        pack([i.kind for i in institutions]),
        [_encode(i) for i in institutions],
        pack(programs),
        [_encode(view.programs[p]) for p in programs],
        pack(smes),
        [_encode(view.smes[s]) for s in smes],
        pack([g.guarantee_id for g in guarantees]),
        pack([g.program_id for g in guarantees]),
        pack([g.sme_id for g in guarantees]),
        [g.loan_amount for g in guarantees],
        [g.in_force_balance for g in guarantees],
        pack([",".join(g.share_roles()) for g in guarantees]),
        [_encode(g) for g in guarantees],
        pack(claims),
        pack([view.claim_owner[c] for c in claims]),
    ]
