"""`ledger witness` against a real `ledger serve`: cosigns as the log grows, served after."""

from __future__ import annotations

import asyncio
import stat
import time
from pathlib import Path

import aiohttp
import pytest

from bench.service import create_key
from ledger.tlog.keys import parse_signer
from ledger.tlog.note import parse
from tests.e2e.ledger_cli import run_ledger
from tests.e2e.witnesses import registration
from tests.factory import institution
from tests.reliability.harness import Service


async def _post(url: str, key: str, body: object) -> None:
    async with aiohttp.ClientSession() as s:
        r = await s.post(f"{url}/v1/events", json=body, headers={"Authorization": f"Bearer {key}"})
        assert r.status == 201, await r.text()


async def _checkpoint(url: str, key: str, size: int) -> str:
    deadline = time.monotonic() + 5
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as s:
        while True:
            r = await s.get(f"{url}/v1/log/checkpoint")
            if r.status == 200:
                note = await r.text()
                if int(parse(note).text.split("\n")[1]) >= size:
                    return note
            assert time.monotonic() < deadline, "no checkpoint in time"
            await asyncio.sleep(0.1)


async def test_keygen_writes_a_0600_key_and_prints_its_verifier_key(tmp_path: Path) -> None:
    out = tmp_path / "witness.key"
    ran = await run_ledger("witness", "keygen", "--name", "fund-witness", "--out", str(out))
    assert ran.code == 0, ran.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert ran.out.strip() == parse_signer(out.read_text()).verifier().encode()
    again = await run_ledger("witness", "keygen", "--name", "fund-witness", "--out", str(out))
    assert again.code == 2


async def test_a_witness_cosigns_twice_as_the_log_grows(
    service: Service, db_dsn: str, tmp_path: Path
) -> None:
    """Round one trusts the first checkpoint; round two proves the grown one consistent."""
    key_file, state = tmp_path / "witness.key", tmp_path / "state"
    vkey = (await run_ledger("witness", "keygen", "--name", "fw", "--out", str(key_file))).out
    admin = create_key(db_dsn, "--role", "admin")
    reader = create_key(db_dsn, "--role", "reader")
    await _post(service.url, admin, registration("W-FUND", vkey.strip()))
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {reader}"}) as s:
        log_key = (await (await s.get(f"{service.url}/v1/log/key")).text()).strip()
    args = ["witness", "--url", service.url, "--api-key", reader, "--log-key", log_key]
    args += ["--witness-key", str(key_file), "--state", str(state), "--once"]
    for size in (1, 4):
        await _post(service.url, admin, [institution(f"B-{size}-{i}") for i in range(3)])
        await _checkpoint(service.url, reader, size + 3)
        ran = await run_ledger(*args)
        assert ran.code == 0, ran.err
        assert "cosigned checkpoint" in ran.out
        assert "PRIVATE" not in ran.err
    note = await _checkpoint(service.url, reader, 7)
    lines = [s.name for s in parse(note).signatures]
    assert lines[1:] == ["fw"], note
    cosigned_size = int((state / "cosigned-checkpoint").read_text().split("\n")[1])
    assert cosigned_size == int(parse(note).text.split("\n")[1])


async def test_a_witness_without_its_options_exits_2_naming_them() -> None:
    ran = await run_ledger("witness", "--url", "http://127.0.0.1:9", "--once")
    assert ran.code == 2
    assert "--api-key, --log-key, --witness-key, --state" in ran.err


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "inf"])
async def test_an_interval_that_is_no_number_of_seconds_exits_2(
    tmp_path: Path, interval: str
) -> None:
    """nan slipped past `<= 0` and ran a round about every 16 s; inf ran once, then slept."""
    args = ["witness", "--url", "http://127.0.0.1:9", "--api-key", "k", "--log-key", "x"]
    args += ["--witness-key", str(tmp_path / "w.key"), "--state", str(tmp_path)]
    ran = await run_ledger(*args, "--interval", interval)
    assert ran.code == 2
    assert "--interval must be a number of seconds more than 0" in ran.err


async def test_a_log_key_of_a_witness_type_is_refused(tmp_path: Path) -> None:
    """--log-key must be the log's Ed25519 key (0x01), not a cosigner's (0x04)."""
    key_file = tmp_path / "w.key"
    vkey = (await run_ledger("witness", "keygen", "--name", "w", "--out", str(key_file))).out
    args = ["witness", "--url", "http://127.0.0.1:9", "--api-key", "k"]
    args += ["--log-key", vkey.strip(), "--witness-key", str(key_file), "--state", str(tmp_path)]
    ran = await run_ledger(*args, "--once")
    assert ran.code == 2
    assert "type 0x01" in ran.err


async def test_an_unreachable_ledger_exits_1_and_cosigns_nothing(tmp_path: Path) -> None:
    key_file, state = tmp_path / "w.key", tmp_path / "state"
    await run_ledger("witness", "keygen", "--name", "w", "--out", str(key_file))
    from ledger.tlog.keys import generate_signer

    log_key = generate_signer("some-log").verifier().encode()
    args = ["witness", "--url", "http://127.0.0.1:9", "--api-key", "k", "--log-key", log_key]
    ran = await run_ledger(*args, "--witness-key", str(key_file), "--state", str(state), "--once")
    assert ran.code == 1
    assert "cannot reach the ledger" in ran.err
    assert not (state / "cosigned-checkpoint").exists()
