"""SME exposure: per program, the SME's in-force balance against the program's per-SME cap."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from events import payloads as p
from events.stored import LogEntry
from projections import balance
from projections.base import Doc, Docs, Projection

NAME = "sme_exposure"
"""Name of this projection (its checkpoint row)."""


def sme_key(sme_id: str) -> str:
    """Key of an SME's exposure document."""
    return f"sme:{sme_id}"


def program_key(program_id: str) -> str:
    """Key of a program's cap document."""
    return f"program:{program_id}"


def needs(docs: Docs, entry: LogEntry) -> Iterable[str]:
    """The SME, program or guarantee documents `entry` touches."""
    data = entry.data
    match data:
        case p.ProgramRegistered() | p.ProgramAmended():
            return [program_key(data.program_id)]
        case p.SmeRegistered():
            return [sme_key(data.sme_id)]
        case p.GuaranteeIssued():
            return [balance.guarantee_key(data.guarantee_id), sme_key(data.sme_id)]
    gid = balance.guarantee_id_of(entry)
    if gid is None:
        return []
    keys = [balance.guarantee_key(gid)]
    if (doc := docs.peek(keys[0])) is not None:
        keys.append(sme_key(doc["sme_id"]))
    return keys


def apply(docs: Docs, entry: LogEntry) -> None:
    """Keep caps from program terms and balances from guarantee events."""
    data = entry.data
    match data:
        case p.ProgramRegistered() | p.ProgramAmended():
            # The cap in force is always the program's current one, as the rules check it.
            docs.put(
                program_key(data.program_id),
                {"program_id": data.program_id, "per_sme_cap": data.terms.per_sme_cap},
            )
            return
        case p.SmeRegistered():
            docs.put(sme_key(data.sme_id), {"sme_id": data.sme_id, "programs": {}})
            return
    change = balance.track(docs, entry)
    gid = balance.guarantee_id_of(entry)
    if change is None or gid is None:
        return
    gdoc = docs.need(balance.guarantee_key(gid))
    key = sme_key(gdoc["sme_id"])
    sme = docs.need(key)
    row = sme["programs"].setdefault(gdoc["program_id"], {"balance": 0, "active_guarantees": 0})
    row["balance"] += change.delta
    row["active_guarantees"] += int(change.in_force) - int(change.was_in_force)
    docs.put(key, sme)


def program_keys(sme: Doc) -> list[str]:
    """Keys of the program documents an SME's exposure body needs."""
    return [program_key(pid) for pid in sorted(sme["programs"])]


def render(sme: Doc, programs: Mapping[str, Doc], position: int) -> dict[str, Any]:
    """The exposure body from the SME's and its programs' documents."""
    rows = []
    for program_id in sorted(sme["programs"]):
        row = sme["programs"][program_id]
        cap = int(programs[program_key(program_id)]["per_sme_cap"])
        rows.append(
            {
                "program_id": program_id,
                "balance": row["balance"],
                "cap": cap,
                "headroom": max(0, cap - row["balance"]),
                "active_guarantees": row["active_guarantees"],
            }
        )
    return {"sme_id": sme["sme_id"], "position": position, "programs": rows}


PROJECTION = Projection(
    name=NAME,
    table="proj_sme_exposure",
    needs=needs,
    apply=apply,
    handles=balance.PROGRAM_EVENTS | {"sme.registered"} | balance.GUARANTEE_EVENTS,
)
"""The SME exposure read model."""
