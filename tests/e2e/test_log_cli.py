"""The log from the CLI: log-key, audit checkpoint, and check-proof offline end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.cli import main
from ledger.tlog.keys import COSIGNATURE_V1, Signer, generate_signer
from tests.e2e.conftest import Keys
from tests.e2e.test_http_log import _post, _proof

Client = TestClient[Any, Any]


@pytest.fixture
def store(db_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Commands read this test's database."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_dsn)
    return db_dsn


async def _proof_file(client: Client, keys: Keys, tmp_path: Path) -> tuple[Path, str]:
    [event_id] = await _post(client, keys, 1)
    path = tmp_path / "event.tlog-proof"
    path.write_text(await _proof(client, keys, event_id))
    return path, event_id


async def test_check_proof_exits_0_and_prints_what_it_proves(
    client: Client,
    keys: Keys,
    log_signer: Signer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Post, wait at most 1 s, fetch the proof: check-proof exits 0 naming the event."""
    path, event_id = await _proof_file(client, keys, tmp_path)
    vkey = log_signer.verifier().encode()
    assert main(["audit", "check-proof", str(path), "--log-key", vkey]) == 0
    out = capsys.readouterr().out
    assert f"event_id: {event_id}" in out
    assert "type: institution.registered" in out
    assert "stream: institution-B-0" in out
    assert "position: 1" in out
    assert "occurred_at: " in out


async def test_one_changed_byte_exits_1_naming_what_failed(
    client: Client,
    keys: Keys,
    log_signer: Signer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A byte of the extra line, the index or the signature changed: exit 1 with the reason."""
    path, _ = await _proof_file(client, keys, tmp_path)
    text = path.read_text()
    vkey = log_signer.verifier().encode()
    extra_at = text.index("extra ") + 10
    sig_at = text.rindex(" ") + 5
    cases = {
        "extra": (extra_at, "inclusion proof"),
        "index": (text.index("index ") + 6, "index"),
        "signature": (sig_at, "signature"),
    }
    for what, (at, reason) in cases.items():
        changed = text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]
        if what == "index":
            changed = text[:at] + "7" + text[at + 1 :]
        path.write_text(changed)
        assert main(["audit", "check-proof", str(path), "--log-key", vkey]) == 1, what
        err = capsys.readouterr().err
        assert "proof check failed" in err
        assert reason in err, (what, err)


async def test_witnesses_are_required_when_asked(
    client: Client,
    keys: Keys,
    log_signer: Signer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--min-witnesses 1 with a witness that did not cosign fails."""
    path, _ = await _proof_file(client, keys, tmp_path)
    witness = generate_signer("witness.example/w", COSIGNATURE_V1).verifier().encode()
    args = ["audit", "check-proof", str(path), "--log-key", log_signer.verifier().encode()]
    assert main([*args, "--witness-key", witness, "--min-witnesses", "1"]) == 1
    assert "0 known witnesses cosigned, 1 are required" in capsys.readouterr().err


async def test_log_key_and_checkpoint_commands_print_from_the_store(
    client: Client,
    keys: Keys,
    store: str,
    log_signer: Signer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`ledger log-key` prints the vkey; `ledger audit checkpoint` the latest note."""
    await _proof_file(client, keys, tmp_path)
    # In a thread: the commands run their own event loop.
    assert await asyncio.to_thread(main, ["log-key"]) == 0
    # The app under test logs to stdout too: look for the printed lines among its lines.
    assert log_signer.verifier().encode() in capsys.readouterr().out.splitlines()
    assert await asyncio.to_thread(main, ["audit", "checkpoint"]) == 0
    out = capsys.readouterr().out
    assert f"{log_signer.name}\n1\n" in out
    assert f"\n\n\u2014 {log_signer.name} " in out


async def test_verify_with_a_pinned_log_key_checks_the_stores_key_is_that_one(
    client: Client,
    keys: Keys,
    store: str,
    log_signer: Signer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A store whose checkpoints another key signed verifies as a chain, and proves
    nothing to an auditor who pinned the log's real key: NOT OK, exit 1."""
    await _proof_file(client, keys, tmp_path)
    capsys.readouterr()
    real = log_signer.verifier().encode()
    assert await asyncio.to_thread(main, ["audit", "verify", "--log-key", real]) == 0
    assert "ok: verified positions 1 to 1" in capsys.readouterr().out
    other = generate_signer(log_signer.name).verifier().encode()
    assert await asyncio.to_thread(main, ["audit", "verify", "--log-key", other]) == 1
    out = capsys.readouterr().out
    assert f"NOT OK: the store's checkpoints are signed by the log key {real}" in out
    assert f"not the pinned {other}" in out


def test_a_proof_file_that_cannot_be_read_is_a_failed_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-proof exits 0 or 1: a proof it cannot read proves nothing (exit 1)."""
    log_key = generate_signer("log.example").verifier().encode()
    missing = tmp_path / "nowhere.tlog-proof"
    assert main(["audit", "check-proof", str(missing), "--log-key", log_key]) == 1
    assert f"proof check failed: cannot read {missing}" in capsys.readouterr().err


def test_a_file_larger_than_any_proof_is_a_failed_check_read_no_further(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/dev/zero given as the proof was read until the process was killed."""
    log_key = generate_signer("log.example").verifier().encode()
    assert main(["audit", "check-proof", "/dev/zero", "--log-key", log_key]) == 1
    assert "proof check failed: /dev/zero is larger than any proof" in capsys.readouterr().err
