"""The processes a long fold runs in keep start-up's objects out of the collector's way."""

from __future__ import annotations

import gc

import msgspec
import pytest

from ledger.audit import replay_part, state_process
from ledger.audit.replay_parts import Job

# tests/conftest.py unfreezes after every test, so each starts with nothing frozen.


def test_the_second_process_of_a_replay_sets_start_up_aside_before_it_folds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A job it refuses at once (not a snapshot id): it answers without a database.
    job = Job("postgresql://nowhere/x", "nope", 10, ["programs"], "/tmp", 1 << 20, None, None)
    monkeypatch.setattr(replay_part, "read_job", lambda *_: msgspec.json.encode(job))
    assert gc.get_freeze_count() == 0
    assert replay_part.main() == 0
    assert gc.get_freeze_count() > 0
    assert "not a snapshot id" in capsys.readouterr().out


def test_a_past_state_process_sets_start_up_aside_before_it_folds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A database on a port nobody listens on: the fold fails after the setting aside.
    job = state_process.StateJob("postgresql://127.0.0.1:1/x", 5, "guarantee_id", "G-1")
    monkeypatch.setattr(state_process, "read_job", lambda: msgspec.json.encode(job))
    assert gc.get_freeze_count() == 0
    with pytest.raises(OSError):
        state_process.main()
    assert gc.get_freeze_count() > 0
