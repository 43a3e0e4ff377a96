"""The last checkpoint a service signed, remembered beside its key, outside the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.store.signed_memory import SignedMemory, SignedMemoryError, memory_path
from ledger.tlog.checkpoint import Checkpoint

ORIGIN = "guarantee-ledger/0123456789abcdef"


def test_it_lives_beside_the_key_file() -> None:
    assert memory_path(Path("/data/log-signing.key")) == Path("/data/log-signing.key.last-signed")


def test_nothing_is_remembered_before_the_first_checkpoint(tmp_path: Path) -> None:
    assert SignedMemory(tmp_path / "m", ORIGIN).load() is None


def test_a_saved_checkpoint_is_read_back_as_its_note_text(tmp_path: Path) -> None:
    memory = SignedMemory(tmp_path / "m", ORIGIN)
    checkpoint = Checkpoint(ORIGIN, 42, bytes(range(32)))
    memory.save(checkpoint)
    assert memory.load() == checkpoint
    assert (tmp_path / "m").read_text(encoding="utf-8") == checkpoint.text()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_another_logs_checkpoint_is_refused(tmp_path: Path) -> None:
    SignedMemory(tmp_path / "m", "other-log/0").save(Checkpoint("other-log/0", 1, bytes(32)))
    with pytest.raises(SignedMemoryError, match="other-log/0"):
        SignedMemory(tmp_path / "m", ORIGIN).load()


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").write_text("not a checkpoint", encoding="utf-8")
    with pytest.raises(SignedMemoryError, match="not a checkpoint"):
        SignedMemory(tmp_path / "m", ORIGIN).load()


def test_a_folder_it_cannot_write_to_raises_os_error(tmp_path: Path) -> None:
    memory = SignedMemory(tmp_path / "missing" / "m", ORIGIN)
    with pytest.raises(OSError):
        memory.save(Checkpoint(ORIGIN, 1, bytes(32)))
