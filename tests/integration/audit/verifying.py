"""Verifying a test's database as an auditor's `ledger audit verify` would."""

from __future__ import annotations

from ledger.audit.verify import Progress, VerifyReport, verify_chain
from ledger.runtime import connect


async def verified(
    dsn: str,
    *,
    through: int | None = None,
    digest: tuple[int, bytes] | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify as the service role does: it may read, never write."""
    conn = await connect(dsn)
    try:
        return await verify_chain(conn, through=through, digest=digest, progress=progress)
    finally:
        await conn.close()
