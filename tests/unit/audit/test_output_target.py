"""Where `ledger audit ... --out` writes: whole files by rename, devices in place."""

from __future__ import annotations

import os
from pathlib import Path

from ledger.audit.actions import output_to


def test_a_file_target_appears_whole(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    with output_to(str(target)) as out:
        out.write(b"{}")
        assert not target.exists()
    assert target.read_bytes() == b"{}"


def test_a_device_target_is_written_in_place_and_stays_a_device() -> None:
    with output_to(os.devnull) as out:
        out.write(b"discarded")
    assert Path(os.devnull).is_char_device()
