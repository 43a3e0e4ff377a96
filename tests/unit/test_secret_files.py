"""Secret key files: created once with mode 0600, synced, never half-written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ledger.secret_files import write_new_secret


def test_a_new_secret_file_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    write_new_secret(path, "PRIVATE+KEY+x\n")
    assert path.read_text() == "PRIVATE+KEY+x\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_file_is_never_written_over(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    path.write_text("kept\n")
    with pytest.raises(FileExistsError):
        write_new_secret(path, "new\n")
    assert path.read_text() == "kept\n"


def test_the_file_and_its_folder_are_synced_before_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "log.key"
    write_new_secret(path, "PRIVATE+KEY+x\n")
    assert synced == [str(path), str(tmp_path)]


def test_a_write_that_fails_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    path = tmp_path / "log.key"
    with pytest.raises(OSError, match="No space"):
        write_new_secret(path, "PRIVATE+KEY+x\n")
    assert not path.exists()


def test_a_folder_that_cannot_be_synced_keeps_the_synced_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.fsync

    def fsync(fd: int) -> None:
        if os.path.isdir(os.readlink(f"/proc/self/fd/{fd}")):
            raise OSError(22, "Invalid argument")  # a filesystem that cannot sync folders
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "log.key"
    write_new_secret(path, "PRIVATE+KEY+x\n")
    assert path.read_text() == "PRIVATE+KEY+x\n"
