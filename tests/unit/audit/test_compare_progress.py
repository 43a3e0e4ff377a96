"""`ledger audit replay --compare` times each of its two passes from its own start."""

from __future__ import annotations

import asyncio
import contextlib
import types
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ledger.audit import actions


async def test_the_second_pass_is_timed_from_its_own_start(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    async def first_pass(_conn: object, progress: Any) -> Any:
        await asyncio.sleep(0.5)
        progress(1000, 1000)
        return types.SimpleNamespace(differences=[], positions={"guarantees": 1000})

    async def second_pass(_conn: object, _dsn: str, progress: Any) -> Any:
        progress(1000, 1000)
        return {"movements": 1000}, []

    async def filings(_conn: object) -> Any:
        return types.SimpleNamespace(mismatches=[], not_yet=0, checked=0)

    @contextlib.asynccontextmanager
    async def connection(_dsn: str, **_: Any) -> AsyncIterator[object]:
        yield object()

    monkeypatch.setattr(actions, "compare_live", first_pass)
    monkeypatch.setattr(actions, "compare_row_tables", second_pass)
    monkeypatch.setattr(actions, "check_filings", filings)
    monkeypatch.setattr(actions, "_connection", connection)
    assert await actions.compare("postgresql://unused") == 0
    closing = {
        line.split(" (")[0]: float(line.split(" (")[1].split(" s,")[0])
        for line in capsys.readouterr().err.splitlines()
        if "events/s)" in line
    }
    assert closing["read models replayed"] >= 0.5
    assert closing["statement and as-of rows replayed"] < 0.3
