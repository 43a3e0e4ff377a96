"""Reading every read model of the audit scenario, live or from a replayed fold."""

from __future__ import annotations

from typing import Any

import asyncpg

from ledger.seeds import BANK_ID, GUARANTOR_ID, NATIONAL_FUND_ID, REGUARANTOR_ID, SME_ID
from projections import queries
from projections.fold import Fold
from tests.integration.audit.scenario import PROGRAM, SECOND_SME

GUARANTEES = ("G-1", "G-2")
CLAIMS = ("C-1",)
SMES = (SME_ID, SECOND_SME)
INSTITUTIONS = (BANK_ID, GUARANTOR_ID, REGUARANTOR_ID, NATIONAL_FUND_ID)
PROGRAMS = (PROGRAM, "liangjiang-sci-tech-growth")

Bodies = dict[str, dict[str, Any] | None]


async def live(conn: asyncpg.Connection | asyncpg.Pool) -> Bodies:
    """Every read model body the scenario has, as the live projections answer it."""
    bodies: Bodies = {}
    for g in GUARANTEES:
        bodies[f"guarantee {g}"] = await queries.guarantee_summary(conn, g)
    for c in CLAIMS:
        bodies[f"claim {c}"] = await queries.claim_shares(conn, c)
    for s in SMES:
        bodies[f"sme {s}"] = await queries.sme_exposure(conn, s)
    for i in INSTITUTIONS:
        bodies[f"institution {i}"] = await queries.institution_position(conn, i)
    for p in PROGRAMS:
        bodies[f"program {p}"] = await queries.program_summary(conn, p)
    return bodies


def replayed(fold: Fold) -> Bodies:
    """The same bodies, from a fold of the log."""
    bodies: Bodies = {}
    for g in GUARANTEES:
        bodies[f"guarantee {g}"] = fold.guarantee_summary(g)
    for c in CLAIMS:
        bodies[f"claim {c}"] = fold.claim_shares(c)
    for s in SMES:
        bodies[f"sme {s}"] = fold.sme_exposure(s)
    for i in INSTITUTIONS:
        bodies[f"institution {i}"] = fold.institution_position(i)
    for p in PROGRAMS:
        bodies[f"program {p}"] = fold.program_summary(p)
    return bodies
